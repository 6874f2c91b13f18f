"""Hybrid retrieval: vector search (Chroma) and BM25 (bm25s), fused by llama-index's QueryFusionRetriever:
relative-score fusion by default (each list's scores min-max normalised, then summed), or reciprocal
rank. With RRF's fixed k=60, a passage found by both retrievers at middling ranks outvotes one that
BM25 ranks first by a wide margin (a unique name or code); relative scores keep that margin.

Both retrievers return the same llama-index nodes, read from the Chroma collection, so fusion sees
one node per chunk whichever list it came from.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
from llama_index.core.llms import MockLLM
from llama_index.core.retrievers import BaseRetriever, QueryFusionRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle
from llama_index.core.vector_stores import FilterCondition, FilterOperator, MetadataFilter, MetadataFilters, VectorStoreQuery

from .ingest import date_int
from .keyword import KeywordIndex
from .schema import Passage, Sentence
from .store import Store


@dataclass(frozen=True)
class Filters:
    """Optional restrictions: articles (file name or path as shown in citations) and a date range."""

    sources: tuple[str, ...] | None = None
    date_from: date | str | None = None
    date_to: date | str | None = None

    @property
    def empty(self) -> bool:
        return not self.sources and self.date_from is None and self.date_to is None

    def bounds(self) -> tuple[int | None, int | None]:
        return _as_int(self.date_from), _as_int(self.date_to)

    def article_ids(self, known: dict[str, dict[str, Any]]) -> set[str] | None:
        if not self.sources:
            return None
        wanted = set(self.sources)
        return {a for a, meta in known.items() if a in wanted or meta.get("source") in wanted}


def _as_int(value: date | str | None) -> int | None:
    if value is None:
        return None
    return date_int(value.isoformat() if isinstance(value, date) else date.fromisoformat(str(value)).isoformat())


class _VectorRetriever(BaseRetriever):
    def __init__(self, store: Store, k: int, filters: MetadataFilters | None) -> None:
        super().__init__()
        self._store, self._k, self._filters = store, k, filters

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        result = self._store.vector_store.query(VectorStoreQuery(
            query_embedding=query_bundle.embedding, similarity_top_k=self._k, filters=self._filters))
        return [NodeWithScore(node=n, score=s) for n, s in zip(result.nodes or [], result.similarities or [])]


class _KeywordRetriever(BaseRetriever):
    def __init__(self, store: Store, keyword: KeywordIndex, k: int, mask: np.ndarray | None) -> None:
        super().__init__()
        self._store, self._keyword, self._k, self._mask = store, keyword, k, mask

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        hits = self._keyword.search(query_bundle.query_str, self._k, self._mask)
        if not hits:
            return []
        nodes = {n.node_id: n for n in self._store.vector_store.get_nodes(node_ids=[h[0] for h in hits])}
        return [NodeWithScore(node=nodes[i], score=s) for i, s in hits if i in nodes]


class HybridRetriever:
    def __init__(self, store: Store, keyword: KeywordIndex, articles: dict[str, dict[str, Any]],
                 candidate_k: int, fusion: str = "relative_score") -> None:
        self.store = store
        self.keyword = keyword
        self.articles = articles
        self.candidate_k = candidate_k
        self.fusion_mode = {"relative_score": "relative_score", "reciprocal_rank": "reciprocal_rerank"}[fusion]

    def retrieve(self, question: str, query_embedding: np.ndarray, top_k: int, filters: Filters | None = None) -> list[Passage]:
        filters = filters or Filters()
        article_ids = filters.article_ids(self.articles)
        date_from, date_to = filters.bounds()
        if article_ids is not None and not article_ids:
            return []
        retrievers = [
            _VectorRetriever(self.store, self.candidate_k, _chroma_filters(article_ids, date_from, date_to)),
            _KeywordRetriever(self.store, self.keyword, self.candidate_k,
                              self.keyword.mask(article_ids, date_from, date_to)),
        ]
        fusion = QueryFusionRetriever(
            retrievers, llm=MockLLM(), mode=self.fusion_mode, num_queries=1,  # no LLM query rewriting
            similarity_top_k=top_k, use_async=False)
        fused = fusion.retrieve(QueryBundle(query_str=question, embedding=query_embedding.tolist()))
        return [_passage(hit, rank) for rank, hit in enumerate(fused, start=1)]


def _chroma_filters(article_ids: set[str] | None, date_from: int | None, date_to: int | None) -> MetadataFilters | None:
    parts: list[MetadataFilter] = []
    if article_ids is not None:
        parts.append(MetadataFilter(key="article_id", operator=FilterOperator.IN, value=sorted(article_ids)))
    if date_from is not None:
        parts.append(MetadataFilter(key="date_int", operator=FilterOperator.GTE, value=date_from))
    if date_to is not None:
        parts.append(MetadataFilter(key="date_int", operator=FilterOperator.LTE, value=date_to))
    if date_from is not None or date_to is not None:
        parts.append(MetadataFilter(key="date_int", operator=FilterOperator.GT, value=0))  # undated articles out
    return MetadataFilters(filters=parts, condition=FilterCondition.AND) if parts else None


def _passage(hit: NodeWithScore, rank: int) -> Passage:
    meta = hit.node.metadata
    return Passage(
        chunk_id=hit.node.node_id, article_id=meta["article_id"], source=meta["source"],
        title=meta.get("title") or None, publisher=meta.get("publisher") or None, date=meta.get("date") or None,
        text=hit.node.get_content(), start=hit.node.start_char_idx or 0, end=hit.node.end_char_idx or 0,
        sentences=[Sentence(start=s, end=e) for s, e in json.loads(meta.get("sentences", "[]"))],
        score=float(hit.score or 0.0), rank=rank,
    )
