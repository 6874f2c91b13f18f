"""One question as the engine takes it: what to answer, from which articles, with how many passages,
by which answerer. `RAG.ask`, `RAG.stream` and `RAG.retrieve` build one from their keyword arguments
(`QueryOptions`); the keyword shortcuts become `MetadataFilters` here, and only here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TypedDict

from llama_index.core.vector_stores import FilterCondition, MetadataFilters

from rag.retrieval.filters import metadata_filters


class FilterOptions(TypedDict, total=False):
    """Which articles, and how many passages: the keyword arguments of `RAG.retrieve`."""

    top_k: int | None  # passages handed to the answerer (default: the top_k setting)
    filters: MetadataFilters | None  # llama-index filters over the fields in rag.retrieval.filters.FILTER_KEYS
    sources: list[str] | None  # shortcut: these file names or paths only
    date_from: date | str | None  # shortcut: YYYY-MM-DD, inclusive
    date_to: date | str | None
    include_undated: bool  # with a date shortcut, keep undated articles (default True)


class QueryOptions(FilterOptions, total=False):
    """The keyword arguments of `RAG.ask` and `RAG.stream`."""

    standalone_question: str | None  # a chat's follow-up rewritten to stand alone: retrieved for and answered
    answerer: str | None  # overrides the answerer setting for this question


@dataclass(frozen=True)
class Query:
    question: str  # as asked (shown with the answer)
    filters: MetadataFilters | None = None  # the caller's filters ANDed with the shortcuts'
    top_k: int | None = None
    answerer: str | None = None
    standalone_question: str | None = None

    @classmethod
    def of(cls, question: str, *, top_k: int | None = None, filters: MetadataFilters | None = None,
           sources: list[str] | None = None, date_from: date | str | None = None, date_to: date | str | None = None,
           include_undated: bool = True, standalone_question: str | None = None,
           answerer: str | None = None) -> "Query":
        shortcuts = metadata_filters(sources, date_from, date_to, include_undated=include_undated)
        return cls(question, combine_filters(filters, shortcuts), top_k, answerer, standalone_question)


def combine_filters(filters: MetadataFilters | None, shortcuts: MetadataFilters | None) -> MetadataFilters | None:
    """The caller's filters ANDed with the shortcuts' (either may be missing)."""
    if filters is None or not filters.filters:
        return shortcuts
    if shortcuts is None:
        return filters
    return MetadataFilters(filters=[filters, shortcuts], condition=FilterCondition.AND)
