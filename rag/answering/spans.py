"""Typed spans in a sentence: dates, numbers, amounts, durations, names, places, quotations, causes.

These are the "answer kinds" a question can ask for (see rag/answering/question.py). Each finder is a plain
pattern over news English, linear in the text (no nested quantifiers), and returns character spans
so a direct answer is always an exact substring of the sentence it came from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_MONTHS = ("January|February|March|April|May|June|July|August|September|October|November|December|"
           "Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec")
_WEEKDAYS = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
_NUMBER_WORDS = ("one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
                 "sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|"
                 "hundred|hundreds|thousand|thousands|dozen|dozens|million|millions|billion|half|a third|a quarter")
# Bounded repeats everywhere: "1,1,1,..." must not make a pattern backtrack over the whole text.
_DIGITS = r"\d{1,9}(?:[.,:]\d{1,6}){0,4}"
_NUM = rf"(?:{_DIGITS}(?:st|nd|rd|th)?|(?:{_NUMBER_WORDS})(?:[- ](?:{_NUMBER_WORDS}))?)"
_SCALE = r"(?:\s?(?:m|bn|tn|k|million|billion|trillion|thousand)\b)"
_CURRENCY = r"(?:[$£€¥]|US\$|\b(?:USD|EUR|GBP|Rs|HK\$))"
_UNITS = r"(?:years?|months?|weeks?|days?|hours?|minutes?|mins?|seconds?|decades?|centuries|century|nights?|seasons?)"

_DATE = re.compile(
    rf"\b(?:\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{_MONTHS})\.?(?:,?\s+\d{{4}})?|(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?"
    rf"(?:,?\s+\d{{4}})?|(?:(?:early|mid|late)[- ])?(?:{_MONTHS})(?:\s+\d{{4}})?|(?:19|20)\d\d(?:s|/\d\d)?|"
    rf"(?:{_WEEKDAYS})|(?:last|this|next) (?:week|month|year|summer|winter|spring|autumn|weekend)|"
    rf"yesterday|today|tomorrow)\b")
_AMOUNT = re.compile(
    rf"{_CURRENCY}\s?{_DIGITS}{_SCALE}?|\b{_DIGITS}\s?(?:%|per ?cent\b|percentage points?\b)|"
    rf"\b{_NUM}{_SCALE}?\s(?:dollars|pounds|euros|yen|yuan|rupees|francs|shares|points|goals|votes|seats)\b|"
    rf"\b{_DIGITS}{_SCALE}|\b{_DIGITS}p\b|\b\d{{1,3}}-\d{{1,3}}\b", re.IGNORECASE)
_DURATION = re.compile(rf"\b(?:{_NUM}|several|a few|a|an)[- ]{_UNITS}\b", re.IGNORECASE)
_COUNT = re.compile(rf"(?<![\w.,$£€])(?:{_NUM})(?![\w]|[.,:]\d)", re.IGNORECASE)
# A run of capitalised words, allowing lower-case joiners inside ("Bank of England", "Tears of the Sun").
_CAPITALISED = re.compile(r"\b[A-Z][\w'’&.-]*(?:\s(?:(?:of|the|de|van|von|der|du|la|le|and|&)\s)?[A-Z][\w'’&.-]*)*")
_PLACE_CUE = re.compile(r"\b(?:(?:in|at|from|to|near|outside|inside|across|around|into|towards?)\s+(?:the\s+)?|"
                        r"(?:city|town|village|port|county|region|province|state|island|capital) of\s+)$")
_PERSON_CUE = re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Dr|Sir|Lord|Lady|Dame|Prof|President|Prime Minister|Chancellor|"
                         r"Secretary|Minister|General|Senator|Governor|Mayor|Judge|coach|manager|boss|chief|"
                         r"spokesman|spokeswoman|striker|actor|actress|singer|chairman|director)\.?\s+$")
_QUOTED = re.compile(r"[\"“‘']([^\"”’'\n]{2,120})[\"”’']")
_CAUSE = re.compile(r"\b(?:because|due to|owing to|as a result|result of|in response to|after|since|so that|"
                    r"in order to|aimed at|reason|blamed|caused by|amid|following|thanks to|as)\b", re.IGNORECASE)
# Words capitalised only because they open a sentence or are titles of themselves.
_NOT_NAMES = frozenset("""a an the this that these those it its he she they we i you his her their our my your
mr mrs ms dr sir but and or so if in on at by for from to of with as after before when while where what which who
why how there here however meanwhile also both all some many most more other one two three four five new last
first next according yesterday today tomorrow monday tuesday wednesday thursday friday saturday sunday""".split())


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    kind: str
    text: str


def _spans(pattern: re.Pattern[str], text: str, kind: str, group: int = 0) -> list[Span]:
    return [Span(m.start(group), m.end(group), kind, m.group(group)) for m in pattern.finditer(text)]


def names(text: str) -> list[Span]:
    """Capitalised word runs that are not a sentence's first common word ("The", "However")."""
    out = []
    for m in _CAPITALISED.finditer(text):
        words = m.group().split()
        start = m.start()
        while words and (words[0].lower().strip(".") in _NOT_NAMES):  # "However Mr Brown" -> "Brown"
            start += len(words[0]) + 1
            words = words[1:]
        if not words:
            continue
        phrase = " ".join(words).rstrip(".’'")
        if phrase:
            out.append(Span(start, start + len(phrase), "name", text[start:start + len(phrase)]))
    return out


def find_spans(text: str, kind: str) -> list[Span]:
    """Spans of `text` that could answer a question of `kind` (see rag.answering.question.Kind)."""
    if kind == "date":
        return _spans(_DATE, text, "date")
    if kind == "amount":
        return _spans(_AMOUNT, text, "amount")
    if kind == "duration":
        return _spans(_DURATION, text, "duration")
    if kind == "count":
        return [s for s in _spans(_COUNT, text, "count") if not _DATE.fullmatch(s.text)] + _spans(_AMOUNT, text, "count")
    if kind == "quote":
        return _spans(_QUOTED, text, "quote", group=1)
    if kind == "reason":
        return _spans(_CAUSE, text, "reason")
    if kind == "place":
        return [s for s in names(text) if _PLACE_CUE.search(text[max(0, s.start - 12):s.start])]
    if kind == "person":
        return [s for s in names(text) if len(s.text.split()) >= 2 or person_cued(text, s)]
    if kind == "entity":
        return names(text) + _spans(_QUOTED, text, "quote", group=1)
    return []


def person_cued(text: str, span: Span) -> bool:
    """The span is named as a person: after a title or role ("Senator X"), or before "said", "told", ", who"."""
    return bool(_PERSON_CUE.search(text[max(0, span.start - 20):span.start])
                or re.match(r"\s*(?:,|said|says|told|who)\b", text[span.end:span.end + 8]))


def new_spans(text: str, kind: str, question_words: set[str]) -> list[Span]:
    """Spans of `kind` that add something to the question: not made only of words the question uses."""
    out = []
    for span in find_spans(text, kind):
        tokens = {w.lower() for w in re.findall(r"[\w'’-]+", span.text)}
        if kind == "reason" or not tokens <= question_words:
            out.append(span)
    return out
