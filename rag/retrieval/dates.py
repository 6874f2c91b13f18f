"""Article dates as the index stores them: an ISO day `YYYY-MM-DD` becomes the integer YYYYMMDD, which
Chroma and the keyword index can compare; 0 means the article has no date."""

from __future__ import annotations

from datetime import date

UNDATED = 0


def date_int(iso: str | None) -> int:
    """`"2023-10-05"` -> 20231005; no date -> 0 (UNDATED)."""
    return int(iso.replace("-", "")) if iso else UNDATED


def day_int(value: date | str) -> int:
    """A day given as a `date` or an ISO string, as `date_int`; ValueError when it is not a day."""
    day = value if isinstance(value, date) else date.fromisoformat(str(value))
    return date_int(day.isoformat())
