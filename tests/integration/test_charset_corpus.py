"""A real Latin-1 article of the BBC corpus is decoded by charset detection. Reads ../shared beside the
repository, so it is not in the unit tier; skipped when the corpus is absent."""

from __future__ import annotations

import pytest

from rag.ingest.load import parse_document

from ..support.helpers import ROOT

BBC = ROOT.parent / "shared" / "corpora" / "bbc"
BBC_LATIN1 = BBC / "sport" / "199.txt"


@pytest.mark.skipif(not BBC_LATIN1.exists(), reason=f"{BBC_LATIN1} is not here (the BBC corpus beside the repo)")
def test_the_bbc_latin1_article_keeps_its_pound_sign():
    raw = parse_document(BBC_LATIN1, BBC_LATIN1.read_bytes())
    assert "a £15.8m signing" in raw.text.replace("\n", " ")
    assert raw.encoding is not None, "the file is not UTF-8, and the report can say so"


@pytest.mark.parametrize("name", ["business/001.txt", "tech/001.txt", "sport/199.txt"])
def test_bbc_articles_saved_as_utf16_read_the_same_as_the_original(tmp_path, name):
    article = BBC / name
    if not article.exists():
        pytest.skip(f"{article} is not here")
    original = parse_document(article, article.read_bytes()).text
    path = tmp_path / "a.txt"
    path.write_bytes(original.encode("utf-16"))  # Python writes the BOM in the machine's byte order
    assert parse_document(path, path.read_bytes()).text == original
