"""The sidebar's article filter, applied by the app: chosen articles, a date range, and whether
articles without a date count as inside it (the library's date bounds alone would drop them).

The filter resolves to the list of article ids it admits, which the library takes as `sources`; the
same resolution words the scope shown with a refusal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from .render import human_date

NO_MATCH = "no article matches the filter"  # the abstain reason of a question the filter left nothing to search


@dataclass(frozen=True)
class ArticleFilter:
    sources: tuple[str, ...] = ()  # article ids chosen; empty: every article
    date_from: date | None = None
    date_to: date | None = None
    include_undated: bool = True

    @property
    def dated(self) -> bool:
        return self.date_from is not None or self.date_to is not None

    @property
    def active(self) -> bool:
        return bool(self.sources) or self.dated

    def problem(self) -> str | None:
        """Why the filter cannot be used, in words; None when it can."""
        if self.date_from and self.date_to and self.date_from > self.date_to:
            return (f"The start date ({human_date(self.date_from.isoformat())}) is after the end date "
                    f"({human_date(self.date_to.isoformat())}). Swap them to search that range.")
        return None

    def admits(self, article: dict[str, Any]) -> bool:
        if self.sources and article["id"] not in self.sources:
            return False
        if not self.dated:
            return True
        when = article.get("date")
        if not when:
            return self.include_undated
        return ((self.date_from is None or when >= self.date_from.isoformat())
                and (self.date_to is None or when <= self.date_to.isoformat()))

    def article_ids(self, articles: list[dict[str, Any]]) -> list[str] | None:
        """The ids to search (None: every article, no filter); an empty list when nothing matches."""
        if not self.active:
            return None
        return [a["id"] for a in articles if self.admits(a)]

    def no_match_text(self, articles: list[dict[str, Any]]) -> str:
        """What is said when the filter admits no article: the articles and the dates chosen, by name."""
        titles = {a["id"]: a for a in articles}
        chosen = [f"“{(titles[s].get('title') or s).strip()}” ({human_date(titles[s].get('date'))})"
                  for s in self.sources if s in titles]
        conditions = []
        if chosen:
            conditions.append(("only " if len(chosen) == 1 else "only the articles ") + ", ".join(chosen))
        if self.dated:
            conditions.append(self._date_span() + ("" if self.include_undated else ", articles without a date left out"))
        return f"No article matches your filter: {'; '.join(conditions)}."

    def _date_span(self) -> str:
        if self.date_from and self.date_to:
            return f"dated {human_date(self.date_from.isoformat())} to {human_date(self.date_to.isoformat())}"
        if self.date_from:
            return f"dated from {human_date(self.date_from.isoformat())} on"
        return f"dated up to {human_date(self.date_to.isoformat())}"

    def describe(self, articles: list[dict[str, Any]]) -> str:
        """What is searched, in words: 'all 5 indexed articles', or which part of them."""
        total = len(articles)
        if not self.active:
            return f"all {total} indexed article{'s' if total != 1 else ''}"
        admitted = len(self.article_ids(articles) or [])
        conditions = []
        if self.sources:
            conditions.append(f"the {len(self.sources)} you chose" if len(self.sources) != 1 else "the one you chose")
        if self.dated:
            conditions.append(self._date_span() + (", or without a date" if self.include_undated else ""))
        return f"{admitted} of the {total} indexed articles (filter on: {'; '.join(conditions)})"
