"""Chroma as a server: the same engine against `chroma run` on 127.0.0.1 (RAG_CHROMA_HOST / PORT)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rag import RAG, RagError

from ..support.helpers import SEEDS, free_port, wait_for_http


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    data = tmp_path_factory.mktemp("chroma_server_data")
    port = free_port()
    chroma = Path(sys.executable).with_name("chroma")
    log = data.with_name("chroma_server.log").open("wb")  # a pipe nobody reads would fill and stall the server
    process = subprocess.Popen([str(chroma), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
                               stdout=log, stderr=subprocess.STDOUT)
    wait_for_http(f"http://127.0.0.1:{port}/api/v2/heartbeat", process, data.with_name("chroma_server.log"))
    yield port
    process.terminate()
    process.wait(timeout=10)
    log.close()


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
    with pytest.raises(RagError, match="Cannot reach the Chroma server"):
        bot.ingest()
