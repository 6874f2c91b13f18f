"""File-system faults during an ingest: the file or folder goes away, no permission, a full disk.

Each is skipped or reported with what to do; none aborts the ingest with a traceback, and a full
disk never advises `--rebuild` (which would drop the index).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

import rag.ingest.pipeline
from benchmarks import synthetic
from rag import RAG
from rag.errors import StorageFullError

from ..support.helpers import ROOT

ENV = dict(os.environ, PYTHONPATH=str(ROOT))


def test_a_file_removed_between_listing_and_reading_is_skipped(tmp_path, monkeypatch):
    docs = tmp_path / "docs"
    synthetic.write_corpus(docs, 4)
    listing = rag.ingest.pipeline.list_article_files

    def list_then_lose_one(folder):
        files = listing(folder)
        (folder / "synthetic_000001.txt").unlink()  # another program deletes it right after the listing
        return files

    monkeypatch.setattr(rag.ingest.pipeline, "list_article_files", list_then_lose_one)
    report = RAG(docs_dir=docs, persist_dir=tmp_path / "vs").ingest()
    assert len(report.added) == 3
    assert [p.file for p in report.failed] == ["synthetic_000001.txt"]
    assert "removed while" in report.failed[0].reason


def test_the_docs_folder_removed_mid_ingest_ends_in_a_report(tmp_path):
    docs = tmp_path / "docs"
    synthetic.write_corpus(docs, 6)

    def progress(done: int, total: int, current: str) -> None:
        if current == "Reading synthetic_000002.txt" and docs.exists():
            shutil.rmtree(docs)

    report = RAG(docs_dir=docs, persist_dir=tmp_path / "vs").ingest(progress=progress)
    assert len(report.added) == 2 and len(report.failed) == 4
    assert all("removed while" in p.reason for p in report.failed)


def test_an_unreadable_file_is_skipped_and_the_rest_ingested(tmp_path):
    # Root reads anything (CAP_DAC_OVERRIDE), so the ingest runs as root without that capability:
    # for it, a file with mode 000 really is unreadable.
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or setpriv is None:
        pytest.skip("needs root and setpriv to drop the capability that lets root read anything")
    docs = tmp_path / "docs"
    synthetic.write_corpus(docs, 3)
    (docs / "synthetic_000001.txt").chmod(0o000)
    done = subprocess.run([setpriv, "--bounding-set=-dac_override,-dac_read_search", sys.executable, "-m", "rag.cli",
                           "ingest", str(docs), "--persist-dir", str(tmp_path / "vs")],
                          env=ENV, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "synthetic_000001.txt: synthetic_000001.txt cannot be read: permission denied" in done.stderr
    assert "2 added" in done.stdout and "1 failed" in done.stdout


@pytest.fixture
def tiny_disk():
    """A 1 MB file system (tmpfs): Chroma runs out of space on it for real."""
    mount = Path(tempfile.mkdtemp(prefix="rag-full-"))
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True).returncode:
        mount.rmdir()
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "--lazy", str(mount)], check=False)  # Chroma may still hold its files open
        shutil.rmtree(mount, ignore_errors=True)


def test_a_full_disk_says_so_and_never_advises_a_rebuild(tmp_path, tiny_disk):
    docs = tmp_path / "docs"
    synthetic.write_corpus(docs, 200, paragraphs=2)
    env = ENV | {"RAG_PERSIST_DIR": str(tiny_disk / "vs"), "RAG_DOCS_DIR": str(docs)}

    def rag(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "rag.cli", *args], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=600)

    ingest = rag("ingest")
    assert ingest.returncode == 2 and "is full" in ingest.stderr and "Traceback" not in ingest.stderr, ingest.stderr
    for said in (ingest.stderr, (asked := rag("ask", synthetic.question(0))).stdout + asked.stderr):
        assert "--rebuild" not in said and "rebuild=True" not in said, said
    if asked.returncode:
        assert "is full" in asked.stderr and "Free some space" in asked.stderr, asked.stderr

    subprocess.run(["mount", "-o", "remount,size=64m", str(tiny_disk)], check=True)
    again = rag("ingest")  # with space again, the next ingest finishes the job
    assert again.returncode == 0 and "0 failed" in again.stdout, again.stderr
    bot = RAG(docs_dir=docs, persist_dir=tiny_disk / "vs")
    assert len(bot.articles()) == 200
    assert synthetic.answer(7) in bot.ask(synthetic.question(7)).text


def test_ingest_skips_links_that_leave_the_docs_folder(tmp_path):
    docs = tmp_path / "docs"
    synthetic.write_corpus(docs, 2)
    outside = tmp_path / "secret.txt"
    outside.write_text("root:x:0:0:root:/root:/bin/bash\n")
    (docs / "passwd.txt").symlink_to(outside)
    (docs / "alias.txt").symlink_to(docs / "synthetic_000000.txt")  # a link that stays inside is fine
    bot = RAG(docs_dir=docs, persist_dir=tmp_path / "vs")
    report = bot.ingest()
    assert [p.file for p in report.failed] == ["passwd.txt"]
    assert "outside the documents folder" in report.failed[0].reason
    assert "passwd.txt" not in {a["id"] for a in bot.articles()} and "alias.txt" in {a["id"] for a in bot.articles()}


def test_an_unchanged_article_ingested_from_a_new_folder_shows_its_new_path(tmp_path):
    old, new = tmp_path / "old", tmp_path / "new"
    synthetic.write_corpus(old, 2)
    bot = RAG(docs_dir=old, persist_dir=tmp_path / "vs")
    bot.ingest()
    shutil.copytree(old, new)
    report = bot.ingest(new)
    assert len(report.skipped) == 2, "the content is unchanged: nothing is re-embedded"
    assert {a["source"] for a in bot.articles()} == {(new / f"synthetic_00000{i}.txt").as_posix() for i in (0, 1)}
    answer = RAG(docs_dir=new, persist_dir=tmp_path / "vs").ask(synthetic.question(1))
    assert answer.citations and all(c.source.startswith(new.as_posix()) for c in answer.citations)
    assert all(p.source.startswith(new.as_posix()) for p in answer.passages)


def test_a_named_pipe_among_the_articles_is_skipped_by_rag_ingest(tmp_path):
    """Issue 19 item 7: opening a FIFO with no writer blocks forever, and the ingest held its lock meanwhile."""
    docs = tmp_path / "docs"
    synthetic.write_corpus(docs, 2)
    os.mkfifo(docs / "pipe.txt")  # nothing ever writes to it
    try:
        done = subprocess.run([sys.executable, "-m", "rag.cli", "ingest", str(docs), "--persist-dir", str(tmp_path / "vs")],
                              env=ENV, cwd=ROOT, capture_output=True, text=True, timeout=240)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"rag ingest still waiting on the pipe after 240 s: {exc.stderr!r}")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "skipped pipe.txt: pipe.txt is a named pipe (FIFO), not a regular file" in done.stderr
    assert "2 added" in done.stdout and "1 failed" in done.stdout


def test_a_file_swapped_for_a_named_pipe_during_the_ingest_is_skipped(tmp_path):
    """The swap happens after the folder was listed, so only the type of the opened descriptor can tell."""
    import threading

    docs = tmp_path / "docs"
    synthetic.write_corpus(docs, 3)
    swapped = docs / "synthetic_000001.txt"

    def progress(done: int, total: int, current: str) -> None:
        if current.startswith(f"Reading {swapped.name}") and swapped.is_file():
            swapped.unlink()
            os.mkfifo(swapped)

    result: dict = {}
    worker = threading.Thread(target=lambda: result.update(
        report=RAG(docs_dir=docs, persist_dir=tmp_path / "vs").ingest(progress=progress)), daemon=True)
    worker.start()
    worker.join(timeout=180)
    if worker.is_alive():  # open the pipe for writing, so the stuck reader gets an empty file and the test ends
        os.close(os.open(swapped, os.O_WRONLY | os.O_NONBLOCK))
        worker.join(timeout=60)
        pytest.fail("the ingest waited on the named pipe")
    report = result["report"]
    assert len(report.added) == 2
    assert [p.file for p in report.failed] == [swapped.name] and "named pipe" in report.failed[0].reason
