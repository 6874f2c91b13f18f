"""Chroma as a server: the same engine against `chroma run` on 127.0.0.1 (RAG_CHROMA_HOST / PORT)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks import synthetic
from rag import RAG, ChromaServerError

from ..support.helpers import ROOT, SEEDS, free_port, stop, wait_for_http


def _start_chroma(data: Path, port: int) -> subprocess.Popen:
    chroma = Path(sys.executable).with_name("chroma")
    log_path = data.with_name(data.name + ".log")
    with log_path.open("ab") as log:  # a pipe nobody reads would fill and stall the server
        process = subprocess.Popen([str(chroma), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
                                   stdout=log, stderr=subprocess.STDOUT)
    wait_for_http(f"http://127.0.0.1:{port}/api/v2/heartbeat", process, log_path)
    return process


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    port = free_port()
    process = _start_chroma(tmp_path_factory.mktemp("chroma_server_data"), port)
    yield port
    stop(process)


def test_ingest_ask_and_reingest_against_a_chroma_server(chroma_server, tmp_path):
    docs = tmp_path / "docs"
    shutil.copytree(SEEDS, docs)
    settings = dict(docs_dir=docs, persist_dir=tmp_path / "local_cache", chroma_host="127.0.0.1",
                    chroma_port=chroma_server, collection="server-test")
    first = RAG(**settings).ingest()
    assert len(first.added) == 5 and first.chunks > 20
    assert not any((tmp_path / "local_cache").glob("chroma.sqlite3")), "nothing stored locally but the keyword cache"

    bot = RAG(**settings)  # a second client, as another app instance would be
    answer = bot.ask("Why did China refuse the Austin meeting?")
    assert not answer.abstained and "sanction" in answer.text.lower()

    again = bot.ingest()
    assert len(again.skipped) == 5 and again.chunks == first.chunks
    (docs / "003_ffa59c323890c43b.txt").unlink()
    (docs / "new.txt").write_text("Harbour news\n\nThe harbour in Valletta reopened on Monday after storm repairs.\n")
    changed = bot.ingest()
    assert changed.removed == ["003_ffa59c323890c43b.txt"] and changed.added == ["new.txt"]
    assert "Valletta" in bot.ask("Which harbour reopened after storm repairs?").text
    after_removal = RAG(**settings).ask("Whom did Blinken meet in Beijing?")
    assert not any(c.source.endswith("003_ffa59c323890c43b.txt") for c in after_removal.citations)


def test_an_unreachable_server_is_a_clear_error(tmp_path):
    bot = RAG(docs_dir=SEEDS, persist_dir=tmp_path / "c", chroma_host="127.0.0.1", chroma_port=free_port())
    with pytest.raises(ChromaServerError, match="cannot reach the Chroma server"):
        bot.ingest()


def _said(done: subprocess.CompletedProcess) -> str:
    return " ".join((done.stdout + done.stderr).split())  # Rich wraps long lines


def test_a_killed_server_gives_questions_and_ingest_a_clear_error_and_the_next_ingest_finishes(tmp_path):
    data, port = tmp_path / "server_data", free_port()
    docs = tmp_path / "docs"
    synthetic.write_corpus(docs, 60)
    settings = dict(docs_dir=docs, persist_dir=tmp_path / "cache", chroma_host="127.0.0.1", chroma_port=port,
                    collection="killed")
    server = _start_chroma(data, port)
    try:
        bot = RAG(**settings)
        bot.ingest()
        assert synthetic.answer(7) in bot.ask(synthetic.question(7)).text
        stop(server)
        for i in range(3):  # every question: a RagError naming the server, never a transport traceback
            with pytest.raises(ChromaServerError, match=f"cannot reach the Chroma server at 127.0.0.1:{port}") as raised:
                bot.ask(synthetic.question(i))
            assert "chroma run" in raised.value.hint and "rebuild" not in str(raised.value).lower()

        # An ingest the server dies under: a clear error that says the next run finishes it.
        server = _start_chroma(data, port)
        synthetic.write_corpus(docs, 120, seed=0)
        env = dict(os.environ, PYTHONPATH=str(ROOT), RAG_CHROMA_HOST="127.0.0.1", RAG_CHROMA_PORT=str(port),
                   RAG_COLLECTION="killed")
        ingest = [sys.executable, "-m", "rag.cli", "ingest", str(docs), "--persist-dir", str(tmp_path / "cache")]
        writer = subprocess.Popen(ingest, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        watcher = RAG(**settings)
        deadline = time.monotonic() + 240
        while len(watcher.articles()) <= 60 and writer.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        stop(server)
        out, err = writer.communicate(timeout=120)
        said = _said(subprocess.CompletedProcess(ingest, writer.returncode, out, err))
        assert writer.returncode == 2, said[-2000:]
        assert f"cannot reach the Chroma server at 127.0.0.1:{port}" in said and "chroma run" in said, said[-2000:]
        assert "finishes what this one left" in said and "Traceback" not in said, said[-2000:]

        server = _start_chroma(data, port)
        done = subprocess.run(ingest, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, _said(done)[-2000:]
        repaired = RAG(**settings)
        assert len(repaired.articles()) == 120
        assert repaired.ingest().chunks == sum(a["chunks"] for a in repaired.articles()), "no orphan chunks left"
        assert synthetic.answer(100) in repaired.ask(synthetic.question(100)).text
    finally:
        stop(server)
