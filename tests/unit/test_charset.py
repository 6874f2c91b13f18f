"""Files that are not UTF-8 are decoded by charset detection, not dropped (fast: no model, no Chroma)."""

from __future__ import annotations

import codecs
import random
import sys
from pathlib import Path

import pytest

from rag.errors import DocumentError
from rag.ingest.load import parse_document


def test_a_latin1_file_keeps_its_pound_sign(tmp_path):
    text = "Transfer news\n\nChelsea paid \xa315.8m for the striker on Monday, the club said.\n"
    path = tmp_path / "latin1.txt"
    path.write_bytes(text.encode("latin-1"))
    raw = parse_document(path, path.read_bytes())
    assert raw.text == text and "£15.8m" in raw.text
    assert raw.encoding is not None, "the report must be able to say the file was not UTF-8"


def test_utf8_files_are_read_as_utf8_with_no_note(tmp_path):
    path = tmp_path / "utf8.txt"
    path.write_text("Chelsea paid £15.8m for the striker.\n", encoding="utf-8")
    raw = parse_document(path, path.read_bytes())
    assert "£15.8m" in raw.text and raw.encoding is None



# Item 14 of issue 19: UTF-16 and UTF-32 files with a byte-order mark were refused as binary because they
# hold NUL bytes. Text from outside the seed articles, with characters beyond Latin-1.
WORLD_TEXT = ("Markets in Zürich and 東京 rallied\n\nThe yen fell 2% against the euro (€) on Tuesday, "
              "while sterling held at £1.20, traders said.\n")


@pytest.mark.parametrize("encoding,bom", [("utf-16-le", codecs.BOM_UTF16_LE), ("utf-16-be", codecs.BOM_UTF16_BE),
                                          ("utf-32-le", codecs.BOM_UTF32_LE), ("utf-32-be", codecs.BOM_UTF32_BE)])
def test_utf16_and_utf32_with_a_byte_order_mark_are_decoded(tmp_path, encoding, bom):
    path = tmp_path / "notepad-unicode.txt"
    path.write_bytes(bom + WORLD_TEXT.encode(encoding))
    raw = parse_document(path, path.read_bytes())
    assert raw.text == WORLD_TEXT, "decoded whole, the byte-order mark dropped"
    assert raw.encoding == encoding[:6], "the report says it was not UTF-8"


def _random_utf16(size: int) -> bytes:
    """Well-formed UTF-16 (no lone surrogates) made of random code units: what a binary that happens to
    decode looks like."""
    rng = random.Random(19)
    units = [u for u in (rng.randrange(0x10000) for _ in range(size)) if not 0xD800 <= u <= 0xDFFF]
    return "".join(map(chr, units)).encode("utf-16")


@pytest.mark.parametrize("data", [codecs.BOM_UTF16_LE + Path(sys.executable).read_bytes()[:65536],
                                  codecs.BOM_UTF32_LE + bytes(range(256)) * 64,
                                  _random_utf16(4000)],
                         ids=["program with a UTF-16 BOM", "bytes with a UTF-32 BOM", "random UTF-16"])
def test_binaries_that_start_like_a_byte_order_mark_are_still_refused(tmp_path, data):
    path = tmp_path / "disguised.txt"
    with pytest.raises(DocumentError, match="looks like a binary file, not text"):
        parse_document(path, data)


def test_a_binary_is_refused_in_words_a_reader_knows(tmp_path):
    data = Path(sys.executable).read_bytes()[:65536]
    with pytest.raises(DocumentError) as caught:
        parse_document(tmp_path / "program.txt", data)
    assert "looks like a binary file, not text" in caught.value.message and "NUL" not in str(caught.value)
