"""Files that are not UTF-8 are decoded by charset detection, not dropped (fast: no model, no Chroma)."""

from __future__ import annotations

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

