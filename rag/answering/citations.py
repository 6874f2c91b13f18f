"""The citation check every generated answer goes through before anyone sees it.

Rules (documented in the README and tested):
- `[n]` markers are parsed per sentence; a marker pointing at no passage is removed.
- A sentence left with no valid marker is dropped (not shown flagged): the answer keeps only what a
  passage supports. Dropped sentences are counted on the result.
- For each valid marker, the citation quotes the sentence of that passage that shares the most key
  terms with the answer sentence (an exact span of the article). A marker whose passage shares no
  content term with the sentence does not support it and is removed too.
- Citations are renumbered 1..k in order of appearance. Nothing left: the answer abstains.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rag.ingest.split import sentence_spans
from rag.schema import Citation, Passage
from rag.text import terms

_DONT_SAY = re.compile(r"^\W*(?:the )?articles? (?:don'?t|do not|does not|doesn'?t) (?:say|answer|contain|mention)",
                       re.IGNORECASE)


@dataclass
class Checked:
    text: str
    citations: list[Citation]
    abstained: bool
    sentences_kept: int = 0
    sentences_dropped: int = 0
    markers_removed: int = 0
    stats: dict[str, int] = field(default_factory=dict)


def says_dont_know(text: str) -> bool:
    return bool(_DONT_SAY.search(text.strip()))


_BLANKS = re.compile(r"[^\S\n]+")  # whitespace other than line breaks


def check_answer(raw: str, passages: list[Passage]) -> Checked:
    # Runs of spaces become one (the sentence splitter is slow on long runs; the answer's sentences
    # are rebuilt from their words anyway). Line breaks stay: they end sentences.
    raw = _BLANKS.sub(" ", raw).strip()
    if not raw or says_dont_know(raw):
        return Checked("", [], True)
    numbering: dict[tuple[str, int], int] = {}
    citations: list[Citation] = []
    out: list[str] = []
    kept = dropped = removed = 0
    for claim, markers in _claims(raw):
        numbers: list[int] = []
        for n in dict.fromkeys(markers):
            quote = _best_quote(claim, passages[n - 1]) if 1 <= n <= len(passages) else None
            if quote is None:
                removed += 1
                continue
            start, end, score = quote
            passage = passages[n - 1]
            key = (passage.article_id, start)
            if key not in numbering:
                numbering[key] = len(citations) + 1
                citations.append(Citation(
                    n=numbering[key], source=passage.source, title=passage.title, publisher=passage.publisher,
                    date=passage.date, author=passage.author,
                    quote=passage.text[start - passage.start:end - passage.start],
                    start=start, end=end, score=round(score, 4), chunk_id=passage.chunk_id))
            numbers.append(numbering[key])
        if not numbers:
            dropped += 1
            continue
        kept += 1
        out.append(claim + "".join(f" [{n}]" for n in dict.fromkeys(numbers)))
    stats = {"sentences_kept": kept, "sentences_dropped": dropped, "markers_removed": removed}
    if not out:
        return Checked("", [], True, kept, dropped, removed, stats)
    return Checked(" ".join(out), citations, False, kept, dropped, removed, stats)


# A group of markers; it can only start at "[", so finding every group is one pass over the reply
# (a pattern that lets "\s*" start anywhere rescans a long run of spaces from each of its positions).
_MARKERS = re.compile(r"\[\d+\](?:\s*\[\d+\])*")
_MAX_MARKER_DIGITS = 6  # a longer number names no passage (and int() refuses 4,300 digits and more)


def _claims(raw: str) -> list[tuple[str, list[int]]]:
    """(sentence without markers, its marker numbers), in order.

    A group of markers closes the sentence before it, wherever the full stop is ("... general. [1]"
    and "... general [1]." alike); other sentences of the same stretch carry no marker.
    """
    claims: list[tuple[str, list[int]]] = []
    stretches: list[tuple[str, str]] = []
    done = 0
    for match in _MARKERS.finditer(raw):
        stretches.append((raw[done:match.start()], match.group()))
        done = match.end()
    if done < len(raw):
        stretches.append((raw[done:], ""))
    for stretch, group in stretches:
        closing = re.match(r"\s*([.!?]+)", stretch)
        if closing and claims:  # "... came [2]." : the full stop belongs to the sentence before
            claims[-1] = (claims[-1][0] + closing.group(1), claims[-1][1])
        stretch = stretch.lstrip(" .!?,;:")
        markers = [int(m) if len(m) <= _MAX_MARKER_DIGITS else 0 for m in re.findall(r"\d+", group)]
        sentences = [stretch[s.start:s.end].strip() for s in sentence_spans(stretch)]
        sentences = [x for x in sentences if any(ch.isalnum() for ch in x)]
        if not sentences:
            if claims and markers:
                claims[-1][1].extend(markers)
            continue
        claims.extend((x, []) for x in sentences[:-1])
        claims.append((sentences[-1], markers))
    return claims


def _best_quote(claim: str, passage: Passage) -> tuple[int, int, float] | None:
    """The passage sentence sharing the most content terms with `claim`: (start, end, overlap share)."""
    wanted = set(terms(claim))
    if not wanted:
        return None
    best: tuple[int, int, float] | None = None
    for s in passage.sentences:
        have = set(terms(passage.text[s.start - passage.start:s.end - passage.start]))
        share = len(wanted & have) / len(wanted)
        if share > 0 and (best is None or share > best[2]):
            best = (s.start, s.end, share)
    return best
