"""The citation check every generated answer goes through before anyone sees it.

Rules (documented in the README and tested):
- `[n]` markers are parsed per sentence; a marker pointing at no passage is removed.
- A sentence left with no valid marker is dropped (not shown flagged): the answer keeps only what a
  passage supports. Dropped sentences are counted on the result.
- A sentence is kept only if its cited passages SUPPORT it (support.py: its content words, numbers,
  names and polarity are in the cited sentences); an unsupported one is dropped and counted.
- For each valid marker, the citation quotes the sentence of that passage that shares the most key
  terms with the answer sentence (an exact span of the article). A marker whose passage shares no
  content term with the sentence is removed.
- Citations are renumbered 1..k in order of appearance. Nothing left: the answer abstains.

A stream is checked the same way, sentence by sentence (`check_stream`): a sentence is shown once
it is complete and has passed, so unchecked model text never reaches a reader.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from rag.answering.support import best_sentences, support
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
    dont_know: bool = False  # the reply said the articles don't say


def says_dont_know(text: str) -> bool:
    return bool(_DONT_SAY.search(text.strip()))


_BLANKS = re.compile(r"[^\S\n]+")  # whitespace other than line breaks


def _normalised(raw: str) -> str:
    # Runs of spaces become one (the sentence splitter is slow on long runs; the answer's sentences
    # are rebuilt from their words anyway). Line breaks stay: they end sentences.
    return _BLANKS.sub(" ", raw).strip()


class _Checker:
    """Checks claims one at a time, numbering citations in order of appearance across calls."""

    def __init__(self, passages: list[Passage]) -> None:
        self.passages = passages
        self.numbering: dict[tuple[str, int], int] = {}
        self.citations: list[Citation] = []
        self.out: list[str] = []
        self.dropped = self.removed = self.unsupported = 0

    def check(self, claim: str, markers: list[int]) -> str | None:
        """The claim with its renumbered markers, or None when it is dropped."""
        quotes: list[tuple[Passage, tuple[int, int, float], list[str]]] = []
        for n in dict.fromkeys(markers):
            found = _evidence(claim, self.passages[n - 1]) if 1 <= n <= len(self.passages) else None
            if found is None:
                self.removed += 1
                continue
            quotes.append((self.passages[n - 1], *found))
        if not quotes:
            self.dropped += 1
            return None
        if not support(claim, [text for *_, texts in quotes for text in texts]).supported:
            self.dropped += 1
            self.unsupported += 1
            return None
        numbers: list[int] = []
        for passage, (start, end, score), _ in quotes:
            key = (passage.article_id, start)
            if key not in self.numbering:
                self.numbering[key] = len(self.citations) + 1
                self.citations.append(Citation.quoting(self.numbering[key], passage, start, end, round(score, 4)))
            numbers.append(self.numbering[key])
        sentence = claim + "".join(f" [{n}]" for n in dict.fromkeys(numbers))
        self.out.append(sentence)
        return sentence

    def result(self, dont_know: bool) -> Checked:
        kept = len(self.out)
        stats = {"sentences_kept": kept, "sentences_dropped": self.dropped, "markers_removed": self.removed,
                 "sentences_unsupported": self.unsupported}
        return Checked(" ".join(self.out), self.citations if self.out else [], not self.out, kept, self.dropped,
                       self.removed, stats, dont_know)


def check_answer(raw: str, passages: list[Passage]) -> Checked:
    *_, checked = check_stream([raw], passages)
    return checked


def check_stream(pieces: Iterable[str], passages: list[Passage]) -> Iterator[str | Checked]:
    """The checked text as it becomes final, sentence by sentence (joined, the pieces are the final
    text), then the `Checked` result. A sentence is final once text follows its markers."""
    checker = _Checker(passages)

    def passed(claims: list[tuple[str, list[int]]]) -> Iterator[str]:
        for claim, markers in claims:
            sentence = checker.check(claim, markers)
            if sentence is not None:
                yield sentence if len(checker.out) == 1 else " " + sentence

    raw, settled = "", ""
    for piece in pieces:
        raw += piece
        grown = _settled(_normalised(raw))
        if len(grown) > len(settled):  # only the newly final part is split: what came before cannot change
            yield from passed(_claims(grown[len(settled):]))
            settled = grown
    text = _normalised(raw)
    yield from passed(_claims(text[len(settled):]))
    yield checker.result(says_dont_know(text))


def _settled(text: str) -> str:
    """The part of a growing reply whose sentences can no longer change: up to the last group of markers
    that words follow (with the full stop after it, which belongs to its sentence). Markers after it
    are not words: "A [1]. [2]" still gives [2] to A."""
    blanked = _PARTIAL_MARKER.sub(lambda m: " " * len(m.group()), _MARKERS.sub(lambda m: " " * len(m.group()), text))
    last_word = next((i for i in range(len(blanked) - 1, -1, -1) if blanked[i].isalnum()), -1)
    end = 0
    for match in _MARKERS.finditer(text, 0, last_word + 1):
        if match.end() <= last_word:
            closing = re.match(r"\s*[.!?]+", text[match.end():])
            end = match.end() + (closing.end() if closing else 0)
    return text[:end]


# A group of markers; it can only start at "[", so finding every group is one pass over the reply
# (a pattern that lets "\s*" start anywhere rescans a long run of spaces from each of its positions).
_MARKERS = re.compile(r"\[\d+\](?:\s*\[\d+\])*")
_PARTIAL_MARKER = re.compile(r"\[\d*$")  # a marker still arriving ("[1" of "[12]") is no word yet
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


def _evidence(claim: str, passage: Passage) -> tuple[tuple[int, int, float], list[str]] | None:
    """The quote for `claim` in `passage` (start, end, share of the claim's terms it holds) and the
    passage sentences that are its evidence; None when the passage shares no content term with it."""
    wanted = set(terms(claim))
    if not wanted:
        return None
    spans = {passage.text[s.start - passage.start:s.end - passage.start]: s for s in passage.sentences}
    evidence = best_sentences(claim, list(spans))
    if not evidence:
        return None
    best = spans[evidence[0]]
    share = len(wanted & set(terms(evidence[0]))) / len(wanted)
    return (best.start, best.end, share), evidence
