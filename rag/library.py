"""Adding and removing article files in the docs folder (what the app's library view does)."""

from __future__ import annotations

import re
from pathlib import Path

from .errors import DocumentError
from .load import SUPPORTED_SUFFIXES


def safe_filename(name: str) -> str:
    """A plain file name: no folders, no leading dots, only letters, digits, '.', '-' and '_'."""
    base = Path(name.replace("\\", "/")).name
    cleaned = re.sub(r"[^\w.-]+", "_", base).lstrip("._")
    if not cleaned or "." not in cleaned:
        raise DocumentError(f"{name!r} is not a usable file name.", "Name it like report.txt or story.pdf.")
    return cleaned


def save_document(docs_dir: Path, filename: str, data: bytes, max_bytes: int) -> Path:
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
    elif b"\x00" in data:
        raise DocumentError(f"{name} looks binary (it contains NUL bytes), not a text article.")
    else:
        try:
            data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise DocumentError(f"{name} is not valid UTF-8 text.", "Re-save it as UTF-8.") from None
    docs_dir.mkdir(parents=True, exist_ok=True)
    target = docs_dir / name
    tmp = target.with_name(f".{name}.part")
    tmp.write_bytes(data)
    tmp.replace(target)  # never a half-written article in the folder
    return target


def remove_document(docs_dir: Path, article_id: str) -> None:
    root = docs_dir.resolve()
    target = (root / article_id).resolve()
    if root not in target.parents or not target.is_file():
        raise DocumentError(f"{article_id!r} is not an article in {str(docs_dir)!r}.")
    target.unlink()
