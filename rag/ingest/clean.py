"""Turn a raw article into clean body text plus metadata.

News pages arrive with furniture around the article: share prompts, image file names and captions,
section labels, "keep reading" teasers of unrelated articles, newsletter blurbs, author footers.
The rules are line-based: each line is judged by its shape and by phrases that mark furniture. They
were first written from the seed articles' pages and are kept only where they are general: each phrase
is one that many sites use ("Follow us", "Read more from", "The views expressed do not necessarily
reflect ...", "Image credit:", a wire agency's name closing the text); no rule names a particular site.
tests/unit/test_clean.py runs the furniture lines, credits, footers and wire credit on a page that is
not from the seeds; the "keep reading" teaser zone, the three lines after "Read more", "Read Full
Article at" and author bios are still tested on the seed pages they came from only. Bylines,
datelines, date lines and publisher credits are not thrown away: they become the article's metadata
(see header.py).
"""

from __future__ import annotations

import re

from rag.ingest.header import parse_date, read_dateline, read_header_line
from rag.ingest.load import RawDocument
from rag.schema import Article

# Whole lines that are page furniture wherever they appear.
_FURNITURE_LINE = re.compile(
    r"^(?:follow us(?: on \w+)?|share(?: this)?(?: article| story)?|read more|keep reading(?:show less)?|show less"
    r"|latest|newsletter|comments?|\d+ comments?|advertisement|related(?: articles| stories)?"
    r"|subscribe\b.*|sign up\b.*|home\s*>.*|\d[\d,]* views?\b.*"
    r"|(?:top )?(?:image|photo) credit:.*|[\w.-]+\.(?:jpe?g|png|gif|webp|svg)|screenshot[-_ ][\w.-]*)$",
    re.IGNORECASE,
)
# A line that announces unrelated articles: everything from the teaser zone on is cut.
_TEASER_MARKER = re.compile(r"^keep reading(?:\s*show less)?$", re.IGNORECASE)
# Every pattern here runs in linear time on any line: no two unbounded quantifiers can trade the same
# characters (a line is whitespace-collapsed first, and a parenthesis group cannot span another).
_CREDIT_LINE = re.compile(r"(?:image|photo) credit:|\((?=[^()]*\b(?:photo|shutterstock|getty|reuters|afp|ap)\b)[^()]*\)\s*$",
                          re.IGNORECASE)
# Footers after which nothing belongs to the article.
_FOOTER_START = re.compile(r"^(?:read more (?:articles )?(?:by|from)\b|more from\b|related:)", re.IGNORECASE)
_AUTHOR_BIO = re.compile(r"^the (?:author|writer) (?:is|was)\b", re.IGNORECASE)
_VIEWS_DISCLAIMER = re.compile(r"^the views (?:expressed )?(?:here )?do not necessarily reflect (?:those|the views) of (?P<publisher>.+?)\.?$", re.IGNORECASE)
_READ_FULL_AT = re.compile(r"\s*Read (?:the )?Full Article at (?P<publisher>\S+?)\.?\s*$", re.IGNORECASE)
_WIRE_CREDIT = re.compile(r"\s+(?P<wire>BLOOMBERG|REUTERS|AFP|AP|XINHUA|BERNAMA)\s*$")
_SECTION_PREFIX = re.compile(r"^(?:opinion|analysis|comment|editorial|news)\s*\|\s*", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*$")

# Bumped whenever cleaning reads a file differently: the ingest fingerprint includes it, so indexes
# built before re-read every article (dates and authors found by newer rules reach the index).
CLEANING_VERSION = 2

_HEADER_ZONE = 8  # lines at the top where titles, bylines and datelines live


def clean_document(raw: RawDocument, article_id: str, source: str) -> Article:
    meta = dict(raw.meta)
    lines = [_normalize(line) for line in raw.text.splitlines()]
    lines = [line for line in lines if line]

    lines = _cut_teaser_zone(lines)
    kept: list[str] = []
    untitled_start = None  # the first line's text after its dateline, for a title made from first words
    skip_teaser_lines = 0
    title = meta.get("title")
    seen: set[str] = set()
    for i, line in enumerate(lines):
        if i % 1000 == 0:
            raw.check_time()
        if _FOOTER_START.match(line):
            break
        if skip_teaser_lines and not _ends_sentence(line):
            skip_teaser_lines -= 1
            continue
        skip_teaser_lines = 0
        if re.fullmatch(r"read more", line, re.IGNORECASE):
            # "Read more" is followed by a headline and a caption of another article.
            skip_teaser_lines = 3
            continue
        if m := _READ_FULL_AT.search(line):
            meta.setdefault("publisher", m["publisher"])
            line = line[: m.start()].strip()
        if m := _VIEWS_DISCLAIMER.match(line):
            meta.setdefault("publisher", m["publisher"])
            continue
        if _AUTHOR_BIO.match(line) or _FURNITURE_LINE.match(line):
            continue
        if i < _HEADER_ZONE:
            if header := read_header_line(line.lstrip("-–—•| ")):
                meta["date"] = meta.get("date") or header.date
                meta["author"] = meta.get("author") or header.author
                if not header.rest:
                    continue
                line = header.rest
            if _is_section_label(line):
                continue
            if title is None and _looks_like_title(line):
                title = _SECTION_PREFIX.sub("", line)
                seen.add(title.casefold())
                continue
            if not kept and (dateline := read_dateline(line)):
                # "WASHINGTON - China declined ...": the date is metadata; the place stays in the text,
                # and a title made from the first words starts after it.
                meta["date"] = meta.get("date") or dateline[0]
                untitled_start = dateline[1]
        elif _is_section_label(line):
            continue
        key = _SECTION_PREFIX.sub("", line).casefold()
        if not line or key in seen:  # repeated title or summary
            continue
        seen.add(key)
        kept.append(line)

    if kept and (m := _WIRE_CREDIT.search(kept[-1])):
        meta.setdefault("publisher", m["wire"].title() if len(m["wire"]) > 3 else m["wire"])
        kept[-1] = kept[-1][: m.start()].rstrip()
    text = "\n\n".join(kept)
    if title is None and kept:
        title = _first_words(untitled_start or kept[0], 12)
    return Article(
        id=article_id, source=source, title=title, publisher=meta.get("publisher"),
        date=_iso_date(meta.get("date")), author=meta.get("author"), text=text,
    )


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b]+")


def _normalize(line: str) -> str:
    # Any run of Unicode whitespace (NBSP, U+3000, thin spaces...) becomes one space, so the
    # patterns' \s* and \s+ never meet a long run to backtrack over.
    return " ".join(_CONTROL.sub("", line).split())


def _ends_sentence(line: str) -> bool:
    return bool(_SENTENCE_END.search(line))


def _is_section_label(line: str) -> bool:
    # "Analysis | Asia-Pacific": a few words around a pipe, no sentence.
    return "|" in line and len(line.split()) <= 6 and not _ends_sentence(line)


def _looks_like_title(line: str) -> bool:
    words = line.split()
    return 2 <= len(words) <= 20 and (not _ends_sentence(line) or line.endswith("?"))


def _cut_teaser_zone(lines: list[str]) -> list[str]:
    """Drop everything from the first block of unrelated-article teasers to the end.

    The zone starts before the first teaser's own header: walk back from the first "keep reading"
    marker to the image credit that opens that teaser, then further back over lines that are not
    sentences (captions, section labels, headlines).
    """
    marker = next((i for i, line in enumerate(lines) if _TEASER_MARKER.match(line)), None)
    if marker is None:
        return lines
    start = marker
    credit = next((i for i in range(marker - 1, -1, -1) if _CREDIT_LINE.search(lines[i])), None)
    if credit is not None:
        start = credit
        while start > 0 and not _ends_sentence(lines[start - 1]):
            start -= 1
    return lines[:start]


def _first_words(text: str, n: int) -> str:
    words = text.split()
    return " ".join(words[:n]) + ("…" if len(words) > n else "")


def _iso_date(value: str | None) -> str | None:
    # Dates from a page's own metadata (HTML meta tags, PDF info) arrive in any form.
    return parse_date(value or "")
