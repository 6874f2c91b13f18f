"""Hostile files are bounded: linear-time parsing, a per-file time budget, token-bounded chunks.

The quadratic cases of issue 15 run through a real `rag ingest` subprocess; before the fix it ran
for minutes (`![` x 50,000: ~100 s; a line of U+3000: ~95 s; nested <div>: over 300 s).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest

from rag import RAG
from rag.ingest import load
from rag.ingest.split import split_article
from rag.ingest.tokens import count_tokens
from rag.schema import Article

from ..support.helpers import ROOT, SEEDS

GOOD = "000_88fd1b36135ac6ea.txt"


def test_quadratic_inputs_of_the_red_team_are_read_in_bounded_time(tmp_path):
    (tmp_path / "images.md").write_text("A headline\n\n" + "![" * 50_000)
    (tmp_path / "ideographic.txt").write_text("A headline\n\nRead Full Article at x" + "\u3000" * 50_000 + "x\n")
    (tmp_path / "nested.html").write_text("<div>" * 49_000)
    (tmp_path / "tag-soup.html").write_text("<div>" * 220_000)
    script = textwrap.dedent(f"""
        from pathlib import Path
        from rag.ingest.clean import clean_document
        from rag.errors import DocumentError
        from rag.ingest.load import parse_document
        for path in sorted(Path({str(tmp_path)!r}).iterdir()):
            try:
                article = clean_document(parse_document(path, path.read_bytes()), path.name, path.name)
                print(path.name, "read", len(article.text), flush=True)
            except DocumentError as exc:
                print(path.name, "skipped", exc, flush=True)
    """)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    try:
        done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=90)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"reading four hostile files took over 90 s; got through: {exc.stdout!r}")
    assert done.returncode == 0, done.stderr[-2000:]
    lines = dict(line.split(" ", 1) for line in done.stdout.splitlines())
    assert lines["images.md"].startswith("read") and lines["ideographic.txt"].startswith("read")
    assert lines["nested.html"].startswith("read")
    assert lines["tag-soup.html"].startswith("skipped") and "220,000 tags" in lines["tag-soup.html"]


def test_a_file_over_the_time_budget_is_skipped_and_the_rest_ingested(tmp_path, monkeypatch):
    import rag.ingest.clean

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / GOOD).write_bytes((SEEDS / GOOD).read_bytes())
    (docs / "slow.txt").write_text("A headline\n\n" + "A line of text that takes long to clean.\n" * 3000)
    normalize = rag.ingest.clean._normalize

    def slow_normalize(line: str) -> str:  # stands in for a parse that is slow for this file only
        if "takes long" in line:
            time.sleep(0.001)
        return normalize(line)

    monkeypatch.setattr(rag.ingest.clean, "_normalize", slow_normalize)
    monkeypatch.setattr(load, "PARSE_SECONDS", 0.5)
    report = RAG(docs_dir=docs, persist_dir=tmp_path / "vs").ingest()
    assert report.added == [GOOD]
    assert [p.file for p in report.failed] == ["slow.txt"] and "took over 0.5 s" in report.failed[0].reason


@pytest.mark.parametrize("text", ["word " * 1_000_000, "a" * 300_000, "x\u4e2d " * 50_000, "\U0001F600" * 5_000],
                         ids=["5 MB sentence", "300 KB word", "CJK", "emoji"])
def test_no_chunk_exceeds_the_token_limit_whatever_the_text(text):
    article = Article(id="a", source="a", text=text.strip())
    chunks = split_article(article, 200, 40)
    assert len(chunks) > 1
    for chunk in chunks:
        assert chunk.text == article.text[chunk.start:chunk.end], "exact offsets"
        assert count_tokens(chunk.text) <= 200 + 8, "token-bounded (pieces re-tokenize within a few tokens)"
        for s in chunk.sentences:
            piece = article.text[s.start:s.end]
            assert piece and piece == piece.strip()
    covered = "".join(article.text[s.start:s.end] for c in chunks for s in c.sentences)
    assert set(covered) <= set(article.text)
