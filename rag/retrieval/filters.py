"""Filters: llama-index `MetadataFilters`, end to end.

The same object restricts both retrievers. Chroma applies it itself (through ChromaVectorStore); for
BM25 it is evaluated here, vectorised over per-article metadata columns built once per index state,
then spread over the chunks by a chunk -> article index (so a question costs a few numpy operations,
not a Python loop over every chunk). The semantics are those of llama-index's
`build_metadata_filter_fn` (a missing value never matches); the operators are the ones Chroma
understands (==, !=, <, <=, >, >=, in, nin), with AND / OR and nested `MetadataFilters`.

Filterable fields are the article-level metadata every chunk carries (FILTER_KEYS).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import numpy as np
from llama_index.core.vector_stores import FilterCondition, FilterOperator, MetadataFilter, MetadataFilters

from rag.errors import InvalidFilterError
from rag.dates import UNDATED, day_int

# Written by ingest on every chunk and on the article record (see ingest._article_meta).
FILTER_KEYS = ("article_id", "source", "title", "publisher", "date", "date_int")


def metadata_filters(sources: Sequence[str] | None = None, date_from: date | str | None = None,
                     date_to: date | str | None = None, *, include_undated: bool = True) -> MetadataFilters | None:
    """The `MetadataFilters` for the `ask(sources=..., date_from=..., date_to=...)` keywords; None: no filter.

    `sources` match an article id or its source path. A date range keeps undated articles unless
    `include_undated` is False (a date range says nothing about an article without a date).
    """
    parts: list[MetadataFilter | MetadataFilters] = []
    if sources:
        wanted = sorted(set(sources))
        parts.append(MetadataFilters(filters=[
            MetadataFilter(key="article_id", operator=FilterOperator.IN, value=wanted),
            MetadataFilter(key="source", operator=FilterOperator.IN, value=wanted),
        ], condition=FilterCondition.OR))
    try:
        bounds = [MetadataFilter(key="date_int", operator=op, value=day_int(day))
                  for op, day in ((FilterOperator.GTE, date_from), (FilterOperator.LTE, date_to)) if day is not None]
    except ValueError:
        raise InvalidFilterError(f"Dates must look like 2023-05-30 (got {date_from!r} .. {date_to!r}).") from None
    if bounds:
        dated = MetadataFilters(filters=bounds, condition=FilterCondition.AND)
        if include_undated:
            parts.append(MetadataFilters(filters=[
                dated, MetadataFilter(key="date_int", operator=FilterOperator.EQ, value=UNDATED)],
                condition=FilterCondition.OR))
        else:
            parts.append(MetadataFilters(filters=[
                *bounds, MetadataFilter(key="date_int", operator=FilterOperator.GT, value=UNDATED)],
                condition=FilterCondition.AND))
    if not parts:
        return None
    if len(parts) == 1 and isinstance(parts[0], MetadataFilters):
        return parts[0]
    return MetadataFilters(filters=parts, condition=FilterCondition.AND)


class ArticleFilterIndex:
    """Evaluates `MetadataFilters` over the indexed articles, and spreads the result over chunks."""

    def __init__(self, articles: Mapping[str, Mapping[str, Any]], chunk_article_ids: Sequence[str]) -> None:
        self.article_ids = sorted(articles)
        self.columns = {key: _column([articles[a].get(key) for a in self.article_ids]) for key in FILTER_KEYS}
        row = {a: i for i, a in enumerate(self.article_ids)}
        missing = len(self.article_ids)  # a chunk whose article has no record: never allowed
        self.chunk_rows = np.fromiter((row.get(a, missing) for a in chunk_article_ids), dtype=np.int64,
                                      count=len(chunk_article_ids))

    def article_mask(self, filters: MetadataFilters | None) -> np.ndarray:
        """One bool per article (in `article_ids` order): does the article pass the filters?"""
        if filters is None or not filters.filters:
            return np.ones(len(self.article_ids), dtype=bool)
        return self._evaluate(filters)

    def matching_articles(self, filters: MetadataFilters | None) -> list[str]:
        mask = self.article_mask(filters)
        return [a for a, keep in zip(self.article_ids, mask) if keep]

    def chunk_mask(self, filters: MetadataFilters | None) -> np.ndarray | None:
        """A 0/1 float mask over the keyword index's chunks (bm25s's weight_mask); None: no filter."""
        if filters is None or not filters.filters:
            return None
        allowed = np.append(self.article_mask(filters), False)
        return allowed[self.chunk_rows].astype(np.float32)

    def _evaluate(self, filters: MetadataFilters) -> np.ndarray:
        results = [self._evaluate(f) if isinstance(f, MetadataFilters) else self._match(f) for f in filters.filters]
        if not results:
            return np.ones(len(self.article_ids), dtype=bool)
        condition = filters.condition or FilterCondition.AND
        if condition == FilterCondition.AND:
            return np.logical_and.reduce(results)
        if condition == FilterCondition.OR:
            return np.logical_or.reduce(results)
        if condition == FilterCondition.NOT:
            return ~np.logical_or.reduce(results)
        raise InvalidFilterError(f"Filter condition {condition!r} is not supported.", "Use and, or, not.")

    def _match(self, f: MetadataFilter) -> np.ndarray:
        column = self.columns.get(f.key)
        if column is None:
            raise InvalidFilterError(f"Articles cannot be filtered by {f.key!r}.",
                                     f"Filter by one of: {', '.join(FILTER_KEYS)}.")
        op, value = f.operator, f.value
        if op not in _COMPARE and op not in (FilterOperator.IN, FilterOperator.NIN):
            raise InvalidFilterError(f"The filter operator {op.value!r} is not supported by the index.",
                                     "Use ==, !=, <, <=, >, >=, in or nin.")
        try:
            if column.dtype == object:  # mixed types or missing values (an index from an older version)
                return np.fromiter((v is not None and bool(_scalar(op, v, value)) for v in column), dtype=bool,
                                   count=len(column))
            return np.asarray(_vector(op, column, value), dtype=bool)
        except TypeError:
            raise InvalidFilterError(f"Filter {f.key} {op.value} {value!r}: the value's type does not match "
                                     f"the field's.") from None


_COMPARE = {
    FilterOperator.EQ: lambda c, v: c == v, FilterOperator.NE: lambda c, v: c != v,
    FilterOperator.GT: lambda c, v: c > v, FilterOperator.GTE: lambda c, v: c >= v,
    FilterOperator.LT: lambda c, v: c < v, FilterOperator.LTE: lambda c, v: c <= v,
}


def _listed(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple, set)) else [value]


def _vector(op: FilterOperator, column: np.ndarray, value: Any) -> np.ndarray:
    if op in (FilterOperator.IN, FilterOperator.NIN):
        hit = np.isin(column, _listed(value))
        return hit if op == FilterOperator.IN else ~hit
    if isinstance(value, str) != (column.dtype.kind == "U"):  # "a" == 1 is False, "a" < 1 a TypeError
        if op in (FilterOperator.EQ, FilterOperator.NE):
            return np.full(len(column), op == FilterOperator.NE)
        raise TypeError
    return _COMPARE[op](column, value)


def _scalar(op: FilterOperator, item: Any, value: Any) -> bool:
    if op == FilterOperator.IN:
        return item in _listed(value)
    if op == FilterOperator.NIN:
        return item not in _listed(value)
    return _COMPARE[op](item, value)


def _column(values: list[Any]) -> np.ndarray:
    """A typed array when every value is an int, or every value a string (vectorised comparisons);
    else an object array."""
    if values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return np.asarray(values, dtype=np.int64)
    if values and all(isinstance(v, str) for v in values):
        return np.asarray(values, dtype=str)
    column = np.empty(len(values), dtype=object)
    column[:] = values
    return column
