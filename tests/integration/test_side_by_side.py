"""A CLI ingest in another process while this process answers (the app beside `rag ingest`).

Each process's embedded Chroma keeps its own in-memory vector index; the reader must notice the
newer index generation the other process wrote and reload, never raising to the user.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest

from benchmarks import synthetic
from rag import RAG

from ..support.helpers import ROOT

# Two processes, a CLI ingest of a generated corpus beside a reader: a soak, not a quick check.
pytestmark = pytest.mark.slow


def _cli_ingest(docs, vs, *extra: str) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-m", "rag.cli", "ingest", str(docs), "--persist-dir", str(vs), *extra],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]


def test_a_cli_ingest_in_another_process_never_breaks_a_running_reader(tmp_path):
    docs, vs = tmp_path / "docs", tmp_path / "vs"
    synthetic.write_corpus(docs, 12)
    reader = RAG(docs_dir=docs, persist_dir=vs)
    reader.ingest()
    assert synthetic.answer(3) in reader.ask(synthetic.question(3)).text

    errors: list[BaseException] = []
    stop = threading.Event()
    asked = [0]

    def keep_asking() -> None:
        i = 0
        while not stop.is_set():
            try:
                reader.ask(synthetic.question(i % 14))
                asked[0] += 1
            except BaseException as exc:  # noqa: BLE001  (any exception is the failure being tested)
                errors.append(exc)
            i += 1

    asker = threading.Thread(target=keep_asking)
    asker.start()
    try:
        # Another process removes article 3 and adds articles 12 and 13.
        (docs / "synthetic_000003.txt").unlink()
        synthetic.write_corpus(docs, 14)
        (docs / "synthetic_000003.txt").unlink()
        _cli_ingest(docs, vs)
        removed = reader.ask(synthetic.question(3))
        assert all("synthetic_000003" not in p.article_id for p in removed.passages)
        assert synthetic.answer(13) in reader.ask(synthetic.question(13)).text, "articles added elsewhere are answerable"

        # A rebuild elsewhere replaces every collection; the reader recovers without a restart.
        _cli_ingest(docs, vs, "--rebuild")
        assert synthetic.answer(12) in reader.ask(synthetic.question(12)).text
        assert "synthetic_000003.txt" not in {a["id"] for a in reader.articles()}
    finally:
        stop.set()
        asker.join(timeout=60)
    assert not errors, f"{len(errors)} of {asked[0] + len(errors)} questions failed: {errors[0]!r}"
    assert asked[0] > 0


def test_eight_threads_asking_beside_cli_ingests_that_change_remove_and_add_files_see_no_error(tmp_path):
    # Each `rag ingest` changes 10 articles, removes 10 and adds 10 while 8 threads ask through one RAG:
    # a read racing the other process's deletes is retried on a fresh client (Store._use), never an error.
    # The full run (>= 5,000 questions beside >= 10 ingests) is benchmarks/readers_beside_ingests.py.
    from benchmarks.readers_beside_ingests import run

    result = run(tmp_path, ingests=2, min_questions=300)
    assert result["ingests"] == 2 and result["questions"] >= 300
    assert result["errors"] == 0, result["error_kinds"]
