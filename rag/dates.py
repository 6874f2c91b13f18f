"""Dates, in one place: as the index stores them (an ISO day `YYYY-MM-DD` becomes the integer YYYYMMDD,
which Chroma and the keyword index can compare; 0 means the article has no date), as a reader sees them
(one format everywhere: '30 May 2023'), and a relative day in a short answer ("Monday", "yesterday")
resolved against its article's date."""

from __future__ import annotations

import re
from datetime import date, timedelta

from dateutil.relativedelta import FR, MO, SA, SU, TH, TU, WE, relativedelta

_WEEKDAYS = {"monday": MO, "tuesday": TU, "wednesday": WE, "thursday": TH, "friday": FR, "saturday": SA, "sunday": SU}
_RELATIVE_DAY = re.compile(r"^(?:on |last )?(monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|today)$",
                           re.IGNORECASE)

UNDATED = 0


def date_int(iso: str | None) -> int:
    """`"2023-10-05"` -> 20231005; no date -> 0 (UNDATED)."""
    return int(iso.replace("-", "")) if iso else UNDATED


def day_int(value: date | str) -> int:
    """A day given as a `date` or an ISO string, as `date_int`; ValueError when it is not a day."""
    day = value if isinstance(value, date) else date.fromisoformat(str(value))
    return date_int(day.isoformat())


def human_date(iso: str | None) -> str:
    """'2023-05-30' -> '30 May 2023'; an article without a date says so."""
    if not iso:
        return "no date"
    try:
        return date.fromisoformat(iso).strftime("%-d %B %Y")
    except ValueError:
        return iso


def which_day(phrase: str, article_date: str | None) -> date | None:
    """The calendar day a relative day names in an article of `article_date` (ISO): "Monday" is the
    last Monday on or before the article's date (news reports say "Monday" for a day in the week
    just gone), "yesterday" the day before. None for anything else, or an undated article."""
    match = _RELATIVE_DAY.match(phrase.strip())
    if not match or not article_date:
        return None
    try:
        dated = date.fromisoformat(article_date)
    except ValueError:
        return None
    word = match.group(1).lower()
    if word == "yesterday":
        return dated - timedelta(days=1)
    if word == "today":
        return dated
    return dated + relativedelta(weekday=_WEEKDAYS[word](-1))


def with_day(phrase: str, article_date: str | None) -> str:
    """'Monday' -> 'Monday (13 March 2023)' when the article is dated; the phrase unchanged otherwise."""
    day = which_day(phrase, article_date)
    return f"{phrase} ({human_date(day.isoformat())})" if day else phrase
