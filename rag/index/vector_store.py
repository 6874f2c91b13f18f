"""llama-index's ChromaVectorStore, minus chunks whose record is gone."""

from __future__ import annotations

from llama_index.core.vector_stores.types import VectorStoreQueryResult
from llama_index.vector_stores.chroma import ChromaVectorStore


class LiveChunks(ChromaVectorStore):
    """Another process's ingest can delete chunks that this process's in-memory vector index still
    finds until it reloads; Chroma then returns them without metadata. They are dropped here, so a
    reader sees the article as removed instead of failing on a missing `article_id`."""

    def query(self, query, **kwargs):
        result = super().query(query, **kwargs)
        keep = [i for i, n in enumerate(result.nodes or []) if n.metadata.get("article_id")]
        if len(keep) == len(result.nodes or []):
            return result

        def pick(values):
            return [values[i] for i in keep] if values is not None else None

        return VectorStoreQueryResult(nodes=pick(result.nodes), similarities=pick(result.similarities),
                                      ids=pick(result.ids))

    def get_nodes(self, node_ids=None, filters=None):
        return [n for n in super().get_nodes(node_ids, filters) if n.metadata.get("article_id")]
