"""An answerer from a third-party package, found through its `rag.answerers` entry point: installed into
a temporary folder (a hand-written dist-info, as pip would leave it), then selected by
`RAG_ANSWERER=<its name>` in a real `rag ask` subprocess. No library source is edited."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ..support.helpers import ROOT

PLUGIN = '''
from rag.answering.interface import Draft, Evidence
from rag.schema import Citation


class Shout:
    """Answers with the best passage's first sentence, in capitals."""

    name = "shout"

    def answer(self, evidence: Evidence) -> Draft:
        passage = evidence.passages[0]
        first = passage.sentences[0]
        citation = Citation.quoting(1, passage, first.start, first.end, 1.0)
        return Draft(f"{citation.quote.upper()} [1]", [citation], False, 1.0)


def make(context):
    return Shout()
'''


def _install_plugin(target: Path) -> None:
    """What `pip install --target` leaves: the package, and a dist-info naming its entry point."""
    (target / "rag_shout").mkdir(parents=True)
    (target / "rag_shout" / "__init__.py").write_text(PLUGIN, encoding="utf-8")
    info = target / "rag_shout-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: rag-shout\nVersion: 0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("[rag.answerers]\nshout = rag_shout:make\n", encoding="utf-8")
    (info / "RECORD").write_text("", encoding="utf-8")


def _rag(tmp_path: Path, seed_index, *args: str, **env: str) -> subprocess.CompletedProcess:
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(tmp_path / "site")]),
                       RAG_DOCS_DIR=str(seed_index["docs"]), RAG_PERSIST_DIR=str(seed_index["persist"]), **env)
    return subprocess.run([sys.executable, "-m", "rag.cli", *args], cwd=tmp_path, env=environment,
                          capture_output=True, text=True, timeout=300)


def test_an_answerer_installed_by_another_package_is_selected_by_name(tmp_path, seed_index):
    _install_plugin(tmp_path / "site")
    done = _rag(tmp_path, seed_index, "ask", "Who is Liu Pengyu?", "--json", RAG_ANSWERER="shout")
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["answerer"] == "shout"
    (citation,) = answer["citations"]
    assert answer["text"] == f"{citation['quote'].upper()} [1]" and citation["quote"].upper() != citation["quote"]


def test_an_unknown_answerer_is_refused_with_the_known_names_plugins_included(tmp_path, seed_index):
    _install_plugin(tmp_path / "site")
    done = _rag(tmp_path, seed_index, "ask", "Who is Liu Pengyu?", RAG_ANSWERER="shuot")
    assert done.returncode != 0
    assert "Unknown answerer 'shuot'" in done.stderr and "shout" in done.stderr and "extractive" in done.stderr
