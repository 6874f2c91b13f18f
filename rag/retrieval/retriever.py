"""Hybrid retrieval, as a llama-index retriever: vector search (Chroma, through llama-index's
ChromaVectorStore) and BM25 (bm25s), fused by llama-index's QueryFusionRetriever: relative-score
fusion by default (each list's scores min-max normalised, then summed), or reciprocal rank. With RRF's
fixed k=60, a passage found by both retrievers at middling ranks outvotes one that BM25 ranks first
by a wide margin (a unique name or code); relative scores keep that margin.

Both retrievers return the same llama-index nodes, read from the Chroma collection, so fusion sees
one node per chunk whichever list it came from. One `MetadataFilters` restricts both (filters.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
from llama_index.core.llms import MockLLM
from llama_index.core.retrievers import BaseRetriever, QueryFusionRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle
from llama_index.core.vector_stores import MetadataFilters, VectorStoreQuery

from rag.index.keyword import KeywordIndex
from rag.index.store import Store
from rag.retrieval.filters import ArticleFilterIndex
from rag.schema import Passage, Sentence

FUSION_MODES = {"relative_score": "relative_score", "reciprocal_rank": "reciprocal_rerank"}

EmbedQuery = Callable[[str], np.ndarray]


class VectorRetriever(BaseRetriever):
    """Nearest chunks in Chroma. Uses the bundle's embedding when the caller has one, else embeds the query."""

    def __init__(self, store: Store, embed_query: EmbedQuery, k: int, filters: MetadataFilters | None) -> None:
        super().__init__()
        self._store, self._embed_query, self._k, self._filters = store, embed_query, k, filters

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        embedding = query_bundle.embedding or self._embed_query(query_bundle.query_str).tolist()
        result = self._store.vector_store.query(VectorStoreQuery(
            query_embedding=embedding, similarity_top_k=self._k, filters=self._filters))
        return [NodeWithScore(node=n, score=s) for n, s in zip(result.nodes or [], result.similarities or [])]


class KeywordRetriever(BaseRetriever):
    """BM25 over the chunks; the filters become a 0/1 mask over chunks, evaluated per article."""

    def __init__(self, store: Store, keyword: KeywordIndex, filter_index: ArticleFilterIndex, k: int,
                 filters: MetadataFilters | None) -> None:
        super().__init__()
        self._store, self._keyword, self._k = store, keyword, k
        self._mask = filter_index.chunk_mask(filters)

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        hits = self._keyword.search(query_bundle.query_str, self._k, self._mask)
        if not hits:
            return []
        nodes = {n.node_id: n for n in self._store.vector_store.get_nodes(node_ids=[h[0] for h in hits])}
        return [NodeWithScore(node=nodes[i], score=s) for i, s in hits if i in nodes]


class HybridRetriever(QueryFusionRetriever):
    """Vector + BM25, fused; `retrieve(question)` -> `NodeWithScore`s, best first (a llama-index retriever).

    Pass a `QueryBundle` with `embedding` set to skip embedding the question again.
    """

    def __init__(self, store: Store, keyword: KeywordIndex, filter_index: ArticleFilterIndex, embed_query: EmbedQuery,
                 *, top_k: int, candidate_k: int, fusion: str = "relative_score",
                 filters: MetadataFilters | None = None) -> None:
        self.filters = filters
        self._nothing_matches = filters is not None and not filter_index.article_mask(filters).any()
        super().__init__(
            [VectorRetriever(store, embed_query, candidate_k, filters),
             KeywordRetriever(store, keyword, filter_index, candidate_k, filters)],
            llm=MockLLM(), mode=FUSION_MODES[fusion], num_queries=1,  # no LLM query rewriting
            similarity_top_k=top_k, use_async=False)

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        if self._nothing_matches:  # no article passes the filters: nothing to ask Chroma for
            return []
        return super()._retrieve(query_bundle)


def to_passages(hits: list[NodeWithScore]) -> list[Passage]:
    """Retrieved nodes as the answerers' passages, ranked 1.. in the order given."""
    return [to_passage(hit, rank) for rank, hit in enumerate(hits, start=1)]


def to_passage(hit: NodeWithScore, rank: int) -> Passage:
    meta = hit.node.metadata
    return Passage(
        chunk_id=hit.node.node_id, article_id=meta["article_id"], chunk_index=int(meta.get("chunk_index", 0)),
        source=meta["source"],
        title=meta.get("title") or None, publisher=meta.get("publisher") or None, date=meta.get("date") or None,
        author=meta.get("author") or None,
        text=hit.node.get_content(), start=hit.node.start_char_idx or 0, end=hit.node.end_char_idx or 0,
        sentences=[Sentence(start=s, end=e) for s, e in json.loads(meta.get("sentences", "[]"))],
        score=float(hit.score or 0.0), rank=rank,
    )
