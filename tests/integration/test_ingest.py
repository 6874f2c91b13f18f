"""Ingest: incremental by content hash, deterministic ids, bad files skipped, clear errors."""

from __future__ import annotations

import pytest

from rag import RAG, DocsDirError, IndexCorruptError, IndexFolderError

from ..support.pdfs import text_pdf


def test_reingest_is_idempotent_and_incremental(docs_copy, tmp_path):
    bot = RAG(docs_dir=docs_copy, persist_dir=tmp_path / "vs")
    first = bot.ingest()
    assert len(first.added) == 5 and not first.failed
    chunks = first.chunks
    ids_before = sorted(bot._store.chunks.get()["ids"])

    again = bot.ingest()
    assert again.added == again.updated == again.removed == [] and len(again.skipped) == 5
    assert again.chunks == chunks
    assert sorted(bot._store.chunks.get()["ids"]) == ids_before, "node ids are stable across re-ingests"

    changed = docs_copy / "004_fff62de0ee9bf52b.txt"
    changed.write_text(changed.read_text() + "\n\nThe zebra summit was moved to Oslo on Friday.\n")
    (docs_copy / "001_bbda2254c924550c.txt").unlink()
    (docs_copy / "new.md").write_text("# Penguins vote\n\nThe penguin parliament voted on fish quotas on Tuesday.\n")
    report = bot.ingest()
    assert report.updated == ["004_fff62de0ee9bf52b.txt"]
    assert report.removed == ["001_bbda2254c924550c.txt"]
    assert report.added == ["new.md"]
    assert len(report.skipped) == 3
    records = bot._store.article_records()
    assert report.chunks == sum(m["chunks"] for m in records.values()), "no orphan or duplicate chunks"
    assert not any(i.startswith("001_") for i in bot._store.chunks.get()["ids"])
    answer = bot.ask("Where was the zebra summit moved to?")
    assert not answer.abstained and "Oslo" in answer.text
    assert answer.citations[0].source.endswith("004_fff62de0ee9bf52b.txt")


def test_binary_files_are_skipped_non_utf8_decoded_and_the_rest_ingested(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "good.txt").write_text("Good news\n\nThe harbour reopened on Monday after repairs to the pier.\n")
    (docs / "binary.txt").write_bytes(b"\x00\x01\x02binary\x00")
    (docs / "latin1.txt").write_bytes("Transfer news\n\nChelsea paid \xa315.8m for the striker on Monday, the club "
                                      "said.\n".encode("latin-1"))
    (docs / "empty.txt").write_text("")
    (docs / "story.pdf").write_bytes(text_pdf(["Pdf headline", "The lighthouse keeper retired in April after forty years."]))
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    report = RAG(docs_dir=docs, persist_dir=tmp_path / "vs").ingest()
    failed = {p.file: p.reason for p in report.failed}
    assert set(report.added) == {"good.txt", "story.pdf", "latin1.txt"}
    assert "looks like a binary file, not text" in failed["binary.txt"]
    assert [d.file for d in report.decoded] == ["latin1.txt"] and "decoded as" in report.decoded[0].note
    assert "paid \xa315.8m for the striker" in RAG(docs_dir=docs, persist_dir=tmp_path / "vs").article("latin1.txt").text
    assert "no article text" in failed["empty.txt"]
    assert "broken.pdf" in failed
    answer = RAG(docs_dir=docs, persist_dir=tmp_path / "vs").ask("When did the lighthouse keeper retire?")
    assert "April" in answer.text and answer.citations[0].source.endswith("story.pdf")


def test_missing_and_empty_folders_give_clear_errors(tmp_path):
    with pytest.raises(DocsDirError, match="does not exist"):
        RAG(docs_dir=tmp_path / "nope", persist_dir=tmp_path / "vs").ingest()
    (tmp_path / "empty").mkdir()
    with pytest.raises(DocsDirError, match="holds no .txt"):
        RAG(docs_dir=tmp_path / "empty", persist_dir=tmp_path / "vs").ingest()


def test_corrupted_index_says_how_to_rebuild_and_rebuild_works(docs_copy, tmp_path):
    vs = tmp_path / "vs"
    RAG(docs_dir=docs_copy, persist_dir=vs).ingest()
    (vs / "chroma.sqlite3").write_bytes(b"this is not a database" * 100)
    with pytest.raises(IndexCorruptError) as info:
        RAG(docs_dir=docs_copy, persist_dir=vs).ask("Why did China refuse the Austin meeting?")
    assert "rag ingest --rebuild" in str(info.value)
    report = RAG(docs_dir=docs_copy, persist_dir=vs).ingest(rebuild=True)
    assert len(report.added) == 5
    assert not RAG(docs_dir=docs_copy, persist_dir=vs).ask("Why did China refuse the Austin meeting?").abstained


def test_foreign_folder_is_refused_not_overwritten(docs_copy, tmp_path):
    vs = tmp_path / "my_documents"
    vs.mkdir()
    (vs / "thesis.docx").write_text("precious")
    with pytest.raises(IndexFolderError, match="holds no rag index"):
        RAG(docs_dir=docs_copy, persist_dir=vs).ingest()
    with pytest.raises(IndexFolderError, match="Refusing to empty"):
        RAG(docs_dir=docs_copy, persist_dir=vs).ingest(rebuild=True)
    assert (vs / "thesis.docx").read_text() == "precious"


def test_progress_says_what_is_happening_and_counts_files_done(docs_copy, tmp_path):
    seen = []
    bot = RAG(docs_dir=docs_copy, persist_dir=tmp_path / "vs")
    bot.ingest(progress=lambda d, t, what: seen.append((d, t, what)))
    assert seen[0] == (0, 5, "Reading 000_88fd1b36135ac6ea.txt")
    assert (0, 5, "Embedding 5 new or changed articles") in seen  # the long part is named while it runs
    assert seen[-1] == (5, 5, "")
    assert [d for d, _, _ in seen] == sorted(d for d, _, _ in seen)

    seen.clear()
    bot.ingest(progress=lambda d, t, what: seen.append((d, t, what)))
    assert not any(what.startswith("Embedding") for _, _, what in seen)  # nothing changed, nothing embedded
    assert seen[-1][0] == seen[-1][1]
