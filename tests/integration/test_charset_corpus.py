"""A real Latin-1 article of the BBC corpus is decoded by charset detection. Reads ../shared beside the
repository, so it is not in the unit tier; skipped when the corpus is absent."""

from __future__ import annotations


import pytest

from rag.ingest.load import parse_document

from ..support.helpers import ROOT

BBC_LATIN1 = ROOT.parent / "shared" / "corpora" / "bbc" / "sport" / "199.txt"


@pytest.mark.skipif(not BBC_LATIN1.exists(), reason=f"{BBC_LATIN1} is not here (the BBC corpus beside the repo)")
def test_the_bbc_latin1_article_keeps_its_pound_sign():
    raw = parse_document(BBC_LATIN1, BBC_LATIN1.read_bytes())
    assert "a £15.8m signing" in raw.text.replace("\n", " ")
    assert raw.encoding is not None, "the file is not UTF-8, and the report can say so"
