"""Read article files (.txt, .md, .html, .pdf) into plain text plus whatever metadata the format carries."""

from __future__ import annotations

import codecs
import math
import os
import re
import stat
import time
import unicodedata
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
                   if p.suffix.lower() in SUPPORTED_SUFFIXES and _not_a_folder(p)
                   and not any(part.startswith(".") for part in p.relative_to(docs_dir).parts))
    if not files:
        raise DocsDirError(f"The documents folder {str(docs_dir)!r} holds no .txt, .md, .html or .pdf file.",
                           "Add articles to it, then ingest again.")
    return files


def unicode_name(name: str) -> str:
    """`name` as valid Unicode: bytes of a file name that are not UTF-8 (which Python keeps as lone
    surrogates, and which neither the index nor JSON can hold) written as \\udcXX."""
    return name.encode("utf-8", "backslashreplace").decode("utf-8")


def check_name(path: Path) -> None:
    """The index stores ids and paths as UTF-8: a file whose path is not (a name saved in another
    charset) cannot be stored, so it is skipped with a reason rather than crash the ingest."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        raise DocumentError(f"{unicode_name(str(path))} has a name that is not valid UTF-8, so it was skipped.",
                            "Rename the file (or its folder) in UTF-8, as current systems save names.") from None


def read_bytes(path: Path, max_bytes: int, docs_dir: Path | None = None) -> bytes:
    """The file's bytes; a file that cannot be read (gone since the folder was listed, no permission,
    an I/O error) is a DocumentError, so the ingest skips it with the reason and goes on. So is a
    symbolic link that leads out of `docs_dir` (e.g. to /etc/passwd): nothing outside it is read."""
    if docs_dir is not None and not _inside(path, docs_dir):
        raise DocumentError(f"{path.name} is a link to a file outside the documents folder, so it was skipped.",
                            "Copy the file into the folder instead of linking to it.")
    try:
        # Non-blocking: opening a named pipe with no writer would otherwise wait forever, holding the
        # ingest lock. The type is then checked on the descriptor actually opened, so a file swapped
        # for a pipe or a device after the listing is caught too.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        with os.fdopen(fd, "rb") as f:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise DocumentError(f"{path.name} is {_special_kind(info.st_mode)}, not a regular file, so it was "
                                    "skipped.", "Put the article in the folder as an ordinary file.")
            if info.st_size > max_bytes:
                raise DocumentError(f"{path.name} is {info.st_size / 1e6:.1f} MB, over the {max_bytes / 1e6:.0f} MB "
                                    "limit.", "Split it, or raise RAG_MAX_FILE_MB.")
            return f.read(max_bytes + 1)
    except FileNotFoundError:
        raise DocumentError(f"{path.name} was removed while the folder was being ingested.") from None
    except PermissionError:
        raise DocumentError(f"{path.name} cannot be read: permission denied.",
                            "Give the user running rag read access to it.") from None
    except OSError as exc:
        raise DocumentError(f"{path.name} could not be read ({exc.strerror or exc}).") from None


def _not_a_folder(path: Path) -> bool:
    """Files, and special files (pipes, sockets, devices) with an article's name: those are listed so the
    ingest report says why they were skipped. Dangling links and folders are not listed."""
    try:
        return not stat.S_ISDIR(path.stat().st_mode)
    except OSError:
        return False


def _special_kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a special file"


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
        text, encoding = decode_text(path, data)
        if suffix in (".html", ".htm"):
            raw = _read_html(text, budget)
        elif suffix == ".md":
            raw = RawDocument(_markdown_to_text(text))
        else:
            raw = RawDocument(text)
    raw.name, raw.deadline, raw.encoding = budget.name, budget.deadline, encoding
    raw.check_time()
    return raw


def decode_text(path: Path, data: bytes) -> tuple[str, str | None]:
    """The text, and the charset it was decoded from when that was not UTF-8 (None for UTF-8)."""
    text, encoding = _decode_with_bom(path, data)
    if text is not None:
        return text, encoding
    if b"\x00" in data:  # no text encoding without a BOM puts NUL bytes in prose; binaries are full of them
        raise _binary(path)
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


# UTF-32 first: its little-endian BOM begins with UTF-16's.
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def _decode_with_bom(path: Path, data: bytes) -> tuple[str | None, str | None]:
    """UTF-16 or UTF-32 text with a byte-order mark (Windows Notepad's "Unicode"), else (None, None).
    Such text is full of NUL bytes, so it is decoded before the binary check; a binary that merely starts
    with a BOM-like pair fails to decode or decodes to characters prose never holds, and is refused."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(encoding)  # the codec reads the BOM, for the byte order, and drops it
            except UnicodeDecodeError:
                raise _binary(path) from None
            if not _reads_as_text(text):
                raise _binary(path)
            return text, encoding
    return None, None


# Characters that prose never holds: controls other than line breaks and tabs, private-use and
# unassigned code points. Random UTF-16 is about 13% of these; the 2,225 BBC articles, none.
_NOT_TEXT = frozenset(("Cc", "Co", "Cn", "Cs"))


def _reads_as_text(text: str, sample: int = 200_000) -> bool:
    head = text[:sample]  # a binary shows itself in any stretch; checking all of 25 MB would take seconds
    odd = sum(1 for ch in head if ch not in "\t\n\r\f\v" and unicodedata.category(ch) in _NOT_TEXT)
    return odd <= len(head) // 100


def _binary(path: Path) -> DocumentError:
    return DocumentError(f"{path.name} looks like a binary file, not text.",
                         "Save the article as text (UTF-8) or PDF, then add it again.")


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
