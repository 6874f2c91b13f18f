"""Read article files (.txt, .md, .html, .pdf) into plain text plus whatever metadata the format carries."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .errors import DocsDirError, DocumentError

SUPPORTED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".pdf")


@dataclass
class RawDocument:
    text: str
    # Hints from the file format itself (HTML meta tags, PDF info); the cleaner may add more from the text.
    meta: dict[str, str] = field(default_factory=dict)
    encoding: str | None = None  # the charset detected when the file was not UTF-8


def list_article_files(docs_dir: Path) -> list[Path]:
    """Every supported file under `docs_dir`, sorted; raises DocsDirError when there is nothing to read."""
    if not docs_dir.exists():
        raise DocsDirError(f"The documents folder {str(docs_dir)!r} does not exist.",
                           "Create it and put .txt, .md, .html or .pdf articles in it, or pass another folder.")
    if not docs_dir.is_dir():
        raise DocsDirError(f"{str(docs_dir)!r} is a file, not a folder.", "Pass the folder that holds the articles.")
    files = sorted(p for p in docs_dir.rglob("*")
                   if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES
                   and not any(part.startswith(".") for part in p.relative_to(docs_dir).parts))
    if not files:
        raise DocsDirError(f"The documents folder {str(docs_dir)!r} holds no .txt, .md, .html or .pdf file.",
                           "Add articles to it, then ingest again.")
    return files


def read_bytes(path: Path, max_bytes: int) -> bytes:
    size = path.stat().st_size
    if size > max_bytes:
        raise DocumentError(f"{path.name} is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:.0f} MB limit.",
                            "Split it, or raise RAG_MAX_FILE_MB.")
    return path.read_bytes()


def parse_document(path: Path, data: bytes) -> RawDocument:
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return _read_pdf(path, data)
    text, encoding = _decode_text(path, data)
    if suffix in (".html", ".htm"):
        raw = _read_html(text)
    elif suffix == ".md":
        raw = RawDocument(_markdown_to_text(text))
    else:
        raw = RawDocument(text)
    raw.encoding = encoding
    return raw


def _decode_text(path: Path, data: bytes) -> tuple[str, str | None]:
    """The text, and the charset it was decoded from when that was not UTF-8 (None for UTF-8)."""
    if b"\x00" in data:
        raise DocumentError(f"{path.name} looks binary (it contains NUL bytes), not a text article.")
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    from charset_normalizer import from_bytes

    matches = from_bytes(data)
    best = matches.best()
    # A few stray bytes in English text (a Latin-1 pound sign) are ambiguous: charset-normalizer's first
    # pick can be a code page in which the byte reads as a CJK character with no language evidence, or
    # Central European with the same evidence as Western. Among the nearly as clean candidates that read
    # as a language, take Windows-1252 (the usual legacy charset of Western news text) when it reads
    # about as well as the best, else the one that reads best.
    readable = [m for m in matches if m.coherence > 0 and best is not None and m.chaos <= best.chaos + 0.1]
    if readable:
        top = max(m.coherence for m in readable)
        close = [m for m in readable if m.coherence >= top - 0.05]
        best = next((m for m in close if m.encoding == "cp1252"), max(close, key=lambda m: m.coherence))
    if best is None:
        raise DocumentError(f"{path.name} is not valid UTF-8 (byte {first_bad}) and its charset could not be detected.",
                            "Re-save it as UTF-8.")
    return str(best), best.encoding


_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+", re.MULTILINE)
_MD_EMPHASIS = re.compile(r"(\*\*|__)(.+?)\1")


def _markdown_to_text(text: str) -> str:
    # Images are dropped entirely: their targets are outside addresses and must never be fetched or shown.
    text = _MD_IMAGE.sub("", text)
    text = _MD_LINK.sub(r"\1", text)
    text = _MD_HEADING.sub("", text)
    return _MD_EMPHASIS.sub(r"\2", text)


_HTML_BLOCKS = ("p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "br", "tr", "section", "article", "blockquote")


def _read_html(html: str) -> RawDocument:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    meta: dict[str, str] = {}
    for key, attrs in (
        ("title", {"property": "og:title"}), ("publisher", {"property": "og:site_name"}),
        ("date", {"property": "article:published_time"}), ("author", {"name": "author"}),
    ):
        tag = soup.find("meta", attrs=attrs)
        if tag and tag.get("content"):
            meta[key] = str(tag["content"]).strip()
    if "title" not in meta:
        heading = soup.find("h1") or soup.find("title")
        if heading and heading.get_text(strip=True):
            meta["title"] = heading.get_text(" ", strip=True)
    # Scripts, styles and page chrome carry no article text; event handlers go with their tags' attributes.
    for tag in soup(["script", "style", "noscript", "template", "iframe", "nav", "header", "footer", "aside", "form", "svg", "img", "head"]):
        tag.decompose()
    for tag in soup.find_all(_HTML_BLOCKS):
        tag.insert_before("\n")
        tag.insert_after("\n")
    return RawDocument(soup.get_text(), meta)


def _read_pdf(path: Path, data: bytes) -> RawDocument:
    import io

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise DocumentError(f"{path.name} is an encrypted PDF.", "Save an unencrypted copy and add that instead.")
        pages = [page.extract_text() or "" for page in reader.pages]
        info = reader.metadata or {}
    except DocumentError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise DocumentError(f"{path.name} is not a readable PDF ({exc}).") from None
    except Exception as exc:  # pypdf raises a wide range of errors on corrupt or encrypted files
        raise DocumentError(f"{path.name} could not be read as a PDF ({type(exc).__name__}: {exc}).") from None
    meta = {key: str(info[pdf_key]).strip() for key, pdf_key in (("title", "/Title"), ("author", "/Author"))
            if info.get(pdf_key)}
    return RawDocument("\n\n".join(pages), meta)
