"""Reading an article's header lines as metadata: bylines, datelines and date lines.

Dates are read by python-dateutil's parser, and only from text shaped like a date line ("March 14,
2024", "Published: 14 March 2024 10:32 GMT", "- October 19, 2023"), a dateline ("VALMORA, 2024-03-14 -
The council ...", "WASHINGTON - China declined ...") or a byline ("By Mara Lindqvist and Tom Berg").
A date counts only when it names a day, a month and a year: "2005" or "March 14" alone is not one.
Body sentences ("By contrast, the firm ...", "Mr Smith - who ...") are left alone: a byline's names
are capitalised words, a dateline's place is in capitals unless a full date follows it.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from datetime import datetime

from dateutil import parser as dateutil_parser

# Labels in front of a date ("Published: ...", "Updated on ...", "date 2023-05-30 ..."), longest first.
_DATE_LABELS = ("first published", "last updated", "published", "updated", "posted", "dated", "date")
_BYLINE_LABELS = ("reporting by", "written by", "words by", "by")
# Lower-case words that belong inside a name ("Ana de la Cruz", "Ludwig van Beethoven").
_NAME_PARTICLES = {"de", "da", "del", "della", "di", "du", "la", "le", "van", "von", "der", "den", "ter", "al", "bin",
                   "ibn"}
_NAME_PUNCT = set(".'’-")
# " - ", " – ", " — " or " | " separate a dateline or a byline from what follows.
_SEPARATOR = re.compile(r"\s[-–—|·]\s")
_MAX_DATE_CHARS = 60  # a date, with its weekday and time, is shorter; longer text is never handed to the parser
_MAX_DATE_TOKENS = 8
_MAX_BYLINE_CHARS = 200  # names, a role and a date; a longer line is text
# A year of four digits: dateutil also reads "1 1 1" or "5 6 7" as dates.
_YEAR = re.compile(r"(?<!\d)(?:1[89]|2[01])\d\d(?!\d)")


@dataclass
class HeaderLine:
    """What one header line says: `rest` is what is left of the line for the body ("" when nothing)."""

    date: str | None = None
    author: str | None = None
    rest: str = ""


def parse_date(text: str) -> str | None:
    """An ISO date (YYYY-MM-DD) when `text` is a date naming a day, a month and a year; else None."""
    text = text.strip(" ,.;:-–—|·•")
    if not text or len(text) > _MAX_DATE_CHARS or not _YEAR.search(text):
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # unknown time-zone names ("BST") only cost the time of day
            # Two different defaults: a part the text leaves out comes out different, so it is caught.
            first = dateutil_parser.parse(text, default=datetime(1, 1, 1), ignoretz=True)
            second = dateutil_parser.parse(text, default=datetime(2, 2, 2), ignoretz=True)
    except (ValueError, OverflowError):
        return None
    if first.date() != second.date() or not 1800 <= first.year <= 2200:
        return None
    return first.date().isoformat()


def read_header_line(line: str) -> HeaderLine | None:
    """Metadata in a header line, or None when the line carries none.

    Forms: a date line ("March 14, 2024", "Published: ..."), a byline with an optional date after it
    ("By NAME | March 14, 2024", "By NAME, Published March 14, 2024"), a labelled date in front of body
    text ("date 2023-05-30 WASHINGTON - ...": `rest` is the body text)."""
    if date := _labelled_date(line):
        return HeaderLine(date=date)
    if len(line) <= _MAX_BYLINE_CHARS and (names := _strip_label(line, _BYLINE_LABELS)) is not None:
        author, date = _byline(names)
        if author:
            return HeaderLine(date=date, author=author)
    if (after := _strip_label(line, _DATE_LABELS)) is not None:
        date, rest = _leading_date(after)
        if date:
            return HeaderLine(date=date, rest=rest)
    return None


def read_dateline(line: str) -> tuple[str | None, str] | None:
    """(date or None, the text after the dateline) for a line opening with a dateline, else None.

    "VALMORA, 2024-03-14 - The council ..." and "Valmora, March 14, 2024 - ..." give the date;
    "WASHINGTON - China declined ..." and "LONDON (Reuters) - ..." give none but are datelines still
    (so the place is not taken for the start of the title)."""
    m = _SEPARATOR.search(line, 0, _MAX_DATE_CHARS + 40)
    if not m or m.group().strip() in "|·":
        return None
    head, rest = line[: m.start()].strip(), line[m.end():].strip()
    place, _, when = head.partition(",")
    place = re.sub(r"\s*\([^()]{1,30}\)$", "", place.strip())  # "LONDON (Reuters)"
    date = parse_date(when) if when else None
    if not rest or not _is_place(place) or (when and not date):
        return None
    if date is None and not (place.isupper() and len(place) > 1):
        return None  # "Ebbers - my part in the fraud": a title, not a dateline
    return date, rest


def _labelled_date(text: str) -> str | None:
    """The date of "March 14, 2024" or "Published: March 14, 2024"."""
    return parse_date(_strip_label(text, _DATE_LABELS) or text)


def _strip_label(line: str, labels: tuple[str, ...]) -> str | None:
    """The line after a leading label ("Published:", "By"), or None when it has none."""
    lowered = line.casefold()
    for label in labels:
        if lowered.startswith(label) and line[len(label):len(label) + 1] in (" ", ":"):
            return line[len(label):].lstrip(" :").removeprefix("on ").strip()
    return None


def _leading_date(text: str) -> tuple[str | None, str]:
    """The longest run of first words that is a date, and the text after it."""
    words = text.split(maxsplit=_MAX_DATE_TOKENS)
    for k in range(min(len(words), _MAX_DATE_TOKENS), 0, -1):
        if date := parse_date(" ".join(words[:k])):
            return date, " ".join(words[k:]).lstrip(" ,-–—|")
    return None, text


def _byline(text: str) -> tuple[str | None, str | None]:
    """Authors ("A", "A and B", "A, B and C") and a date when one follows the names."""
    date = None
    if m := _SEPARATOR.search(text):  # "By NAME | March 14, 2024" / "By NAME - 14 March 2024"
        date = _labelled_date(text[m.end():])
        text = text[: m.start()]
    parts = [p.strip() for p in text.split(",")]
    # "By NAME, Thursday, March 14, 2024": a date after the names spans 3 comma parts at most.
    for i in range(max(1, len(parts) - 3), len(parts) if date is None else 0):
        if date := _labelled_date(", ".join(parts[i:])):
            parts = parts[:i]
            break
    # Commas list names only when an "and" closes the list; otherwise what follows a comma is a role
    # or a desk ("By Jane Doe, BBC News").
    last = next((i for i, p in enumerate(parts) if re.search(r"\s(?:and|&)\s", p)), 0)
    names = [n.strip() for p in parts[: last + 1] for n in re.split(r"\s+(?:and|&)\s+", p)]
    if not names or len(names) > 6 or not all(_is_name(n) for n in names):
        return None, None
    return (names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]), date


def _is_name(text: str) -> bool:
    words = text.split()
    return 1 <= len(words) <= 5 and _capitalised(words[0]) and all(
        _capitalised(w) or w in _NAME_PARTICLES for w in words)


def _is_place(text: str) -> bool:
    words = text.split()
    return 1 <= len(words) <= 4 and all(map(_capitalised, words))


def _capitalised(word: str) -> bool:
    """A word of a name or a place: "Lindqvist", "O'Neill", "J.", "WASHINGTON"."""
    return word[0].isupper() and all(ch.isalpha() or ch in _NAME_PUNCT for ch in word)
