"""Read article files (.txt, .md, .html, .pdf) into plain text plus whatever metadata the format carries."""

from __future__ import annotations

import math
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from rag.errors import DocsDirError, DocumentError

SUPPORTED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".pdf")
# Seconds one file may take to be read and cleaned; a file that takes longer is skipped with a reason.
# With linear-time parsing and the size cap, only a hostile file comes near it.
PARSE_SECONDS = 20.0


@dataclass
class RawDocument:
    text: str
    # Hints from the file format itself (HTML meta tags, PDF info); the cleaner may add more from the text.
    meta: dict[str, str] = field(default_factory=dict)
    encoding: str | None = None  # the charset detected when the file was not UTF-8
    name: str = ""
    deadline: float = math.inf  # time.monotonic() by which reading and cleaning must be done

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise DocumentError(f"{self.name or 'The file'} took over {PARSE_SECONDS:g} s to read, so it was skipped.",
                                "Save the article as plain text, or split it.")


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


def read_bytes(path: Path, max_bytes: int, docs_dir: Path | None = None) -> bytes:
    """The file's bytes; a file that cannot be read (gone since the folder was listed, no permission,
    an I/O error) is a DocumentError, so the ingest skips it with the reason and goes on. So is a
    symbolic link that leads out of `docs_dir` (e.g. to /etc/passwd): nothing outside it is read."""
    if docs_dir is not None and not _inside(path, docs_dir):
        raise DocumentError(f"{path.name} is a link to a file outside the documents folder, so it was skipped.",
                            "Copy the file into the folder instead of linking to it.")
    try:
        with path.open("rb") as f:  # one open: the size is checked on the file actually read
            size = os.fstat(f.fileno()).st_size
            if size > max_bytes:
                raise DocumentError(f"{path.name} is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:.0f} MB limit.",
                                    "Split it, or raise RAG_MAX_FILE_MB.")
            return f.read(max_bytes + 1)
    except FileNotFoundError:
        raise DocumentError(f"{path.name} was removed while the folder was being ingested.") from None
    except PermissionError:
        raise DocumentError(f"{path.name} cannot be read: permission denied.",
                            "Give the user running rag read access to it.") from None
    except IsADirectoryError:
        raise DocumentError(f"{path.name} is a folder, not a file.") from None
    except OSError as exc:
        raise DocumentError(f"{path.name} could not be read ({exc.strerror or exc}).") from None


def _inside(path: Path, folder: Path) -> bool:
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except OSError:  # a link loop, or a path that vanished: not provably inside
        return False


def parse_document(path: Path, data: bytes) -> RawDocument:
    """The file's text and format metadata; the result carries the file's time budget on to cleaning."""
    budget = RawDocument("", name=path.name, deadline=time.monotonic() + PARSE_SECONDS)
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        raw = _read_pdf(path, data, budget)
        encoding = None
    else:
        text, encoding = _decode_text(path, data)
        if suffix in (".html", ".htm"):
            raw = _read_html(text, budget)
        elif suffix == ".md":
            raw = RawDocument(_markdown_to_text(text))
        else:
            raw = RawDocument(text)
    raw.name, raw.deadline, raw.encoding = budget.name, budget.deadline, encoding
    raw.check_time()
    return raw


def _decode_text(path: Path, data: bytes) -> tuple[str, str | None]:
    """The text, and the charset it was decoded from when that was not UTF-8 (None for UTF-8)."""
    if b"\x00" in data:
        raise DocumentError(f"{path.name} looks like a program or another binary file, not a text article.")
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


# Linear time on any input: a bracket or parenthesis group cannot contain another bracket or
# parenthesis, so a scan from one "[" stops at the next one ("![" repeated 50,000 times is one pass).
_MD_IMAGE = re.compile(r"!\[([^\[\]]*)\]\([^()]*\)")
_MD_LINK = re.compile(r"\[([^\[\]]+)\]\([^()]*\)")
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+", re.MULTILINE)
_MD_EMPHASIS = re.compile(r"(\*\*|__)(.+?)\1")


def _markdown_to_text(text: str) -> str:
    # Images are dropped entirely: their targets are outside addresses and must never be fetched or shown.
    text = _MD_IMAGE.sub("", text)
    text = _MD_LINK.sub(r"\1", text)
    text = _MD_HEADING.sub("", text)
    return _MD_EMPHASIS.sub(r"\2", text)


_HTML_BLOCKS = frozenset(("p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "br", "tr", "section", "article",
                          "blockquote"))
# Scripts, styles and page chrome carry no article text; event handlers go with their tags' attributes.
_HTML_SKIP = frozenset(("script", "style", "noscript", "template", "iframe", "nav", "header", "footer", "aside", "form",
                        "svg", "img", "head"))
_HTML_META = {("property", "og:title"): "title", ("property", "og:site_name"): "publisher",
              ("property", "article:published_time"): "date", ("name", "author"): "author"}
# Parsing costs about 50 µs a tag (bs4 on html.parser); an article page has a few thousand. This cap
# bounds any page to about 3 s.
MAX_HTML_TAGS = 50_000


def _read_html(html: str, budget: RawDocument) -> RawDocument:
    from bs4 import BeautifulSoup, CData, NavigableString

    tags = html.count("<")
    if tags > MAX_HTML_TAGS:
        raise DocumentError(f"The page has {tags:,} tags, over the {MAX_HTML_TAGS:,} an article page needs.",
                            "Save the article's text as .txt or .md instead.")
    soup = BeautifulSoup(html, "html.parser")
    # One pass over the tree (inserting "\n" around blocks with insert_before/after, or a find() per
    # field, walks subtrees again and again: minutes for 1 MB of nested <div>).
    meta: dict[str, str] = {}
    headings: dict[str, object] = {}
    out: list[str] = []
    stack: list = [(soup, False)]
    steps = 0
    while stack:
        steps += 1
        if steps % 4096 == 0:
            budget.check_time()
        node, skipped = stack.pop()
        if node is None:  # the end of a block element
            out.append("\n")
            continue
        if type(node) in (NavigableString, CData):  # what get_text() keeps: not comments or doctypes
            if not skipped:
                out.append(str(node))
            continue
        if not hasattr(node, "contents"):
            continue
        name = node.name
        if name == "meta":
            for (attr, value), key in _HTML_META.items():
                if node.get(attr) == value and node.get("content") and key not in meta:
                    meta[key] = str(node["content"]).strip()
        elif name in ("h1", "title"):
            headings.setdefault(name, node)
        inside = skipped or name in _HTML_SKIP
        if name in _HTML_BLOCKS and not inside:
            out.append("\n")
            stack.append((None, True))
        stack.extend((child, inside) for child in reversed(node.contents))
    if "title" not in meta:
        heading = headings.get("h1") or headings.get("title")
        if heading is not None and heading.get_text(strip=True):
            meta["title"] = heading.get_text(" ", strip=True)
    return RawDocument("".join(out), meta)


def _read_pdf(path: Path, data: bytes, budget: RawDocument) -> RawDocument:
    import io

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise DocumentError(f"{path.name} is an encrypted PDF.", "Save an unencrypted copy and add that instead.")
        pages = []
        for page in reader.pages:
            budget.check_time()
            pages.append(page.extract_text() or "")
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
