"""Reading and writing the records of one collection set: an article record (hash, metadata, cleaned
text), its chunks (as llama-index writes them) and its sentence embeddings; and the repair of an
ingest killed half way (chunks and sentences whose article has no record)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from rag.index.connection import CollectionSet

ArticleWrite = tuple[dict[str, Any], str, list, list[str], np.ndarray, list[dict[str, Any]]]


# --- reading ------------------------------------------------------------------------------------

def article_records(s: CollectionSet) -> dict[str, dict[str, Any]]:
    """Article id -> metadata, for every article whose ingest completed."""
    got = s.articles.get(include=["metadatas"])
    return {i: dict(m or {}) for i, m in zip(got["ids"], got["metadatas"])}


def article_text(s: CollectionSet, article_id: str) -> str | None:
    got = s.articles.get(ids=[article_id], include=["documents"])
    return got["documents"][0] if got["ids"] else None


def sentence_embeddings(s: CollectionSet, ids: list[str]) -> dict[str, np.ndarray]:
    got = s.sentences.get(ids=ids, include=["embeddings"])
    return {i: np.asarray(e, dtype=np.float32) for i, e in zip(got["ids"], got["embeddings"])}


def sentence_embeddings_one_by_one(s: CollectionSet, ids: list[str]) -> dict[str, np.ndarray]:
    """The sentence embeddings that can be read, each on its own: while another process's ingest is
    deleting an article, Chroma can fail a read of several ids ("Error finding id") for a fresh client
    too, until that ingest has written its vector segment. The sentences caught in between are left out
    (the answerer scores the others), as they are once the deletion is done."""
    out: dict[str, np.ndarray] = {}
    for i in ids:
        try:
            out |= sentence_embeddings(s, [i])
        except Exception:  # noqa: BLE001, S112  (a storage failure of this one id: leave it out)
            continue
    return out


def all_chunks(s: CollectionSet) -> tuple[list[str], list[str], list[dict[str, Any]]]:
    ids: list[str] = []
    docs: list[str] = []
    metas: list[dict[str, Any]] = []
    for offset in range(0, s.chunks.count(), 5000):
        got = s.chunks.get(include=["documents", "metadatas"], limit=5000, offset=offset)
        ids += got["ids"]
        docs += got["documents"]
        metas += got["metadatas"]
    return ids, docs, metas


# --- writing ------------------------------------------------------------------------------------

def delete_article(s: CollectionSet, article_id: str) -> None:
    # Article record first: if we are killed half way, the article is simply "not ingested" and redone.
    s.articles.delete(ids=[article_id])
    s.chunks.delete(where={"article_id": article_id})
    s.sentences.delete(where={"article_id": article_id})


def set_source(s: CollectionSet, article_id: str, source: str) -> None:
    """Point an unchanged article at where its file now is (`rag ingest NEWDIR` with the same files)."""
    for collection, where in ((s.chunks, {"where": {"article_id": article_id}}), (s.articles, {"ids": [article_id]})):
        got = collection.get(include=["metadatas"], **where)
        metadatas = []
        for meta in got["metadatas"]:
            meta = dict(meta or {}) | {"source": source}
            if "_node_content" in meta:  # llama-index rebuilds the node's metadata from this copy
                node = json.loads(meta["_node_content"])
                node.setdefault("metadata", {})["source"] = source
                meta["_node_content"] = json.dumps(node)
            metadatas.append(meta)
        if got["ids"]:
            collection.update(ids=got["ids"], metadatas=metadatas)


def write_articles(s: CollectionSet, writes: list[ArticleWrite]) -> None:
    """Replace several articles' chunks and sentences in six Chroma calls whatever their number (see
    Store.write_articles for the order that keeps readers and killed ingests safe)."""
    from llama_index.vector_stores.chroma.base import node_to_metadata_dict

    article_ids = [record["article_id"] for record, *_ in writes]
    nodes = [n for _, _, article_nodes, *_ in writes for n in article_nodes]
    sentence_ids = [i for *_, ids, _, _ in writes for i in ids]
    sentence_metas = [m for *_, metas in writes for m in metas]
    sentence_vectors = np.concatenate([np.asarray(e, dtype=np.float32).reshape(len(ids), -1)
                                       for *_, ids, e, _ in writes if len(ids)]) if sentence_ids else []
    s.articles.delete(ids=article_ids)
    # ChromaVectorStore.add has no upsert; this writes the same records it would (and reads back alike).
    for start in range(0, len(nodes), 1000):
        batch = nodes[start:start + 1000]
        metadatas = [{k: ("" if v is None else v) for k, v in
                      node_to_metadata_dict(n, remove_text=True, flat_metadata=True).items()} for n in batch]
        s.chunks.upsert(ids=[n.node_id for n in batch], embeddings=[n.get_embedding() for n in batch],
                        documents=[n.get_content() for n in batch], metadatas=metadatas)
    for start in range(0, len(sentence_ids), 2000):
        stop = start + 2000
        s.sentences.upsert(ids=sentence_ids[start:stop], embeddings=sentence_vectors[start:stop],
                           metadatas=sentence_metas[start:stop])
    _trim(s.chunks, article_ids, {n.node_id for n in nodes})
    _trim(s.sentences, article_ids, set(sentence_ids))
    s.articles.upsert(ids=article_ids, embeddings=[[0.0]] * len(writes),
                      metadatas=[record for record, *_ in writes], documents=[text for _, text, *_ in writes])


def _trim(collection, article_ids: list[str], keep: set[str]) -> None:
    got = collection.get(where={"article_id": {"$in": article_ids}}, include=[])
    stale = [i for i in got["ids"] if i not in keep]
    if stale:
        collection.delete(ids=stale)


def remove_orphans(s: CollectionSet, records: dict[str, dict[str, Any]]) -> int:
    """Delete chunks and sentences of articles that have no record (an ingest killed half way).

    The full scan runs only when the counts disagree with the records, so a healthy index pays two
    count() calls."""
    if (s.chunks.count() == sum(int(m.get("chunks", 0)) for m in records.values())
            and s.sentences.count() == sum(int(m.get("sentences", 0)) for m in records.values())):
        return 0
    removed = 0
    for collection in (s.chunks, s.sentences):
        metas = collection.get(include=["metadatas"])["metadatas"]
        for article_id in {m.get("article_id") for m in metas if m and m.get("article_id") not in records}:
            collection.delete(where={"article_id": article_id})
            removed += 1
    return removed
