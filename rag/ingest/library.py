"""Adding and removing article files in the docs folder (what the app's library view does)."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from rag.errors import DocumentError
from rag.ingest.load import SUPPORTED_SUFFIXES, decode_text


def safe_filename(name: str) -> str:
    """A plain file name: no folders, no leading dots; letters, digits, spaces, '.', '-' and '_'.

    Different names stay different: when other characters have to go, a short hash of the name as
    given is added ("a:b.txt" -> "a_b-1f3c9a2e.txt", which "a_b.txt" cannot become)."""
    base = Path(name.replace("\\", "/")).name.strip()
    cleaned = re.sub(r"[^\w .-]", "_", base).lstrip("._ ")
    if not cleaned or "." not in cleaned:
        raise DocumentError(f"{name!r} is not a usable file name.", "Name it like report.txt or story.pdf.")
    if cleaned != base:
        stem, dot, suffix = cleaned.rpartition(".")
        cleaned = f"{stem}-{hashlib.sha256(base.encode()).hexdigest()[:8]}{dot}{suffix}"
    return cleaned


def check_document(filename: str, data: bytes, max_bytes: int) -> str:
    """The name an upload is saved under, once it is a file the library can read; else a DocumentError
    that says why in plain words. (The app checks uploads with it as soon as they are chosen.)"""
    name = safe_filename(filename)
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise DocumentError(f"{name}: {suffix or 'no extension'} files are not supported.",
                            f"Upload one of: {', '.join(SUPPORTED_SUFFIXES)}.")
    if len(data) > max_bytes:
        raise DocumentError(f"{name} is {len(data) / 1e6:.1f} MB, over the {max_bytes / 1e6:.0f} MB limit.")
    if not data.strip():
        raise DocumentError(f"{name} is empty.")
    if suffix == ".pdf":
        if not data.startswith(b"%PDF"):
            raise DocumentError(f"{name} does not look like a PDF (no %PDF header).")
    else:  # the ingest's own check: UTF-8, UTF-16/32 with a BOM or a detected charset; binaries refused
        decode_text(Path(name), data)
    return name


def save_document(docs_dir: Path, filename: str, data: bytes, max_bytes: int, *, overwrite: bool = False) -> Path:
    """Save an upload into the docs folder. An existing article is replaced only with overwrite=True:
    otherwise a DocumentError names the file."""
    name = check_document(filename, data, max_bytes)
    docs_dir.mkdir(parents=True, exist_ok=True)
    target = docs_dir / name
    exists = DocumentError(f"An article named {name} is already in {str(docs_dir)!r}.",
                           "Rename the file, or choose to replace the existing article.")
    if target.exists() and not overwrite:
        raise exists
    tmp = target.with_name(f".{name}.{os.getpid()}.part")
    tmp.write_bytes(data)  # never a half-written article in the folder
    try:
        if overwrite:
            tmp.replace(target)
        else:
            try:
                os.link(tmp, target)  # fails if the name was taken meanwhile: never a silent overwrite
            except FileExistsError:
                raise exists from None
    finally:
        tmp.unlink(missing_ok=True)
    return target


def remove_document(docs_dir: Path, article_id: str) -> None:
    root = docs_dir.resolve()
    target = (root / article_id).resolve()
    if root not in target.parents or not target.is_file():
        raise DocumentError(f"{article_id!r} is not an article in {str(docs_dir)!r}.")
    target.unlink()
