"""Chroma, embedded or as a server: the chunks (through llama-index's ChromaVectorStore), the sentence
embeddings the answerer scores, and one record per article (its hash, metadata and cleaned text)."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from .environment import offline
from .errors import IndexBusyError, IndexCorruptError, RagError
from .settings import Settings

# Anything that changes what ingest produces for the same file bumps this, so every file is redone.
INDEX_FORMAT = 1
MARKER_FILE = "rag-index.json"
KEYWORD_DIR = "keyword"
_LOCK_FILE = ".ingest.lock"
_CHROMA_SEGMENT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def sentence_id(article_id: str, start: int) -> str:
    """Id of a sentence record: one per sentence of an article, shared by the chunks that overlap on it."""
    return f"{article_id}@{start}"


def rebuild_hint(settings: Settings) -> str:
    return (f"Rebuild it with `rag ingest --rebuild` (or RAG(...).ingest(rebuild=True)), "
            f"or point persist_dir somewhere else than {str(settings.persist_dir)!r}.")


class Store:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.persist_dir = Path(settings.persist_dir)

    # --- opening -------------------------------------------------------------------------------

    def _check_persist_dir(self) -> None:
        if self.settings.chroma_host:
            return
        d = self.persist_dir
        if d.exists() and not d.is_dir():
            raise IndexCorruptError(f"persist_dir {str(d)!r} is a file, not a folder.", rebuild_hint(self.settings))
        if d.is_dir():
            entries = {p.name for p in d.iterdir()} - {".gitkeep", ".ingest.lock", MARKER_FILE + ".tmp"}
            if entries and MARKER_FILE not in entries:
                raise IndexCorruptError(
                    f"{str(d)!r} is not empty and holds no rag index (found {', '.join(sorted(entries)[:5])}).",
                    "Point persist_dir to an empty or new folder, or empty this one.")
            if MARKER_FILE in entries:
                try:
                    marker = json.loads((d / MARKER_FILE).read_text())
                except (OSError, ValueError):
                    raise IndexCorruptError(f"The index marker {str(d / MARKER_FILE)!r} is unreadable.",
                                            rebuild_hint(self.settings)) from None
                if marker.get("format") != INDEX_FORMAT:
                    raise IndexCorruptError(
                        f"The index in {str(d)!r} was written by another version (format {marker.get('format')}, "
                        f"this version reads {INDEX_FORMAT}).", rebuild_hint(self.settings))

    def _write_marker_if_new(self) -> None:
        """Claim a new or empty folder as a rag index before Chroma writes anything into it, so an
        ingest killed on its first run leaves a folder the next one recognises and repairs."""
        if self.settings.chroma_host or (self.persist_dir / MARKER_FILE).exists():
            return
        self.persist_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.persist_dir / (MARKER_FILE + ".tmp")
        tmp.write_text(json.dumps({"format": INDEX_FORMAT}))
        tmp.replace(self.persist_dir / MARKER_FILE)

    @cached_property
    def client(self):
        offline()  # before chromadb is imported: it reads ANONYMIZED_TELEMETRY then
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        self._check_persist_dir()
        self._write_marker_if_new()
        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        try:
            if self.settings.chroma_host:
                return chromadb.HttpClient(host=self.settings.chroma_host, port=self.settings.chroma_port,
                                           settings=chroma_settings)
            self.persist_dir.mkdir(parents=True, exist_ok=True)
            return chromadb.PersistentClient(path=str(self.persist_dir), settings=chroma_settings)
        except Exception as exc:
            where = (f"the Chroma server at {self.settings.chroma_host}:{self.settings.chroma_port}"
                     if self.settings.chroma_host else f"the index in {str(self.persist_dir)!r}")
            if self.settings.chroma_host:
                raise RagError(f"Cannot reach {where}: {exc}", "Start it with `chroma run`, or unset RAG_CHROMA_HOST.") from None
            raise IndexCorruptError(f"Cannot open {where}: {exc}", rebuild_hint(self.settings)) from None

    def _collection(self, suffix: str):
        name = f"{self.settings.collection}{suffix}"
        try:
            return self.client.get_or_create_collection(
                name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}})
        except RagError:
            raise
        except Exception as exc:
            raise IndexCorruptError(f"Cannot open collection {name!r}: {exc}", rebuild_hint(self.settings)) from None

    @cached_property
    def chunks(self):
        return self._collection("")

    @cached_property
    def sentences(self):
        return self._collection("-sentences")

    @cached_property
    def articles(self):
        return self._collection("-articles")

    @cached_property
    def vector_store(self):
        from llama_index.vector_stores.chroma import ChromaVectorStore

        return ChromaVectorStore(chroma_collection=self.chunks)

    # --- articles -------------------------------------------------------------------------------

    def article_records(self) -> dict[str, dict[str, Any]]:
        """Article id -> metadata, for every article whose ingest completed."""
        got = self._guard(lambda: self.articles.get(include=["metadatas"]))
        return {i: dict(m or {}) for i, m in zip(got["ids"], got["metadatas"])}

    def article_text(self, article_id: str) -> str | None:
        got = self._guard(lambda: self.articles.get(ids=[article_id], include=["documents"]))
        return got["documents"][0] if got["ids"] else None

    def chunk_count(self) -> int:
        return self._guard(self.chunks.count)

    # --- writing --------------------------------------------------------------------------------

    def delete_article(self, article_id: str) -> None:
        # Article record first: if we are killed half way, the article is simply "not ingested" and redone.
        self.articles.delete(ids=[article_id])
        self.chunks.delete(where={"article_id": article_id})
        self.sentences.delete(where={"article_id": article_id})

    def write_article(self, record: dict[str, Any], text: str, nodes: list, sentence_ids: list[str],
                      sentence_embeddings: np.ndarray, sentence_metas: list[dict[str, Any]]) -> None:
        """Replace one article's chunks and sentences (see write_articles)."""
        self.write_articles([(record, text, nodes, sentence_ids, sentence_embeddings, sentence_metas)])

    def write_articles(self, items: list[tuple[dict[str, Any], str, list, list[str], np.ndarray,
                                               list[dict[str, Any]]]]) -> None:
        """Replace some articles' chunks and sentences, each item (record, text, chunk nodes, sentence ids,
        sentence embeddings, sentence metadata), in a few large writes (each Chroma write costs tens of ms).

        Readers never find an article missing: new chunks overwrite old ones in place (ids are
        deterministic), then leftovers of the old version are trimmed. The article records are removed
        first and written last, so an ingest killed in between leaves those articles marked as not
        ingested, and the next ingest redoes them.
        """
        from llama_index.vector_stores.chroma.base import node_to_metadata_dict

        if not items:
            return
        article_ids = [record["article_id"] for record, *_ in items]
        self.articles.delete(ids=article_ids)
        nodes = [n for _, _, item_nodes, *_ in items for n in item_nodes]
        # ChromaVectorStore.add has no upsert; this writes the same records it would (and reads back alike).
        for start in range(0, len(nodes), 1000):
            batch = nodes[start:start + 1000]
            metadatas = [{k: ("" if v is None else v) for k, v in
                          node_to_metadata_dict(n, remove_text=True, flat_metadata=True).items()} for n in batch]
            self.chunks.upsert(ids=[n.node_id for n in batch], embeddings=[n.get_embedding() for n in batch],
                               documents=[n.get_content() for n in batch], metadatas=metadatas)
        sentence_ids = [i for *_, ids, _, _ in items for i in ids]
        sentence_embeddings = np.concatenate([e for *_, e, _ in items])
        sentence_metas = [m for *_, metas in items for m in metas]
        for start in range(0, len(sentence_ids), 2000):
            stop = start + 2000
            self.sentences.upsert(ids=sentence_ids[start:stop], embeddings=sentence_embeddings[start:stop],
                                  metadatas=sentence_metas[start:stop])
        self._trim(self.chunks, article_ids, {n.node_id for n in nodes})
        self._trim(self.sentences, article_ids, set(sentence_ids))
        self.articles.upsert(ids=article_ids, embeddings=[[0.0]] * len(items), metadatas=[r for r, *_ in items],
                             documents=[text for _, text, *_ in items])

    @staticmethod
    def _trim(collection, article_ids: list[str], keep: set[str]) -> None:
        where = {"article_id": article_ids[0]} if len(article_ids) == 1 else {"article_id": {"$in": article_ids}}
        stale = [i for i in collection.get(where=where, include=[])["ids"] if i not in keep]
        if stale:
            collection.delete(ids=stale)

    def remove_orphans(self, records: dict[str, dict[str, Any]]) -> int:
        """Delete chunks and sentences of articles that have no record (an ingest killed half way).

        The full scan runs only when the counts disagree with the records, so a healthy index pays
        two count() calls."""
        if (self.chunks.count() == sum(int(m.get("chunks", 0)) for m in records.values())
                and self.sentences.count() == sum(int(m.get("sentences", 0)) for m in records.values())):
            return 0
        known = set(records)
        removed = 0
        for collection in (self.chunks, self.sentences):
            metas = collection.get(include=["metadatas"])["metadatas"]
            orphans = {m.get("article_id") for m in metas if m and m.get("article_id") not in known}
            for article_id in orphans:
                collection.delete(where={"article_id": article_id})
                removed += 1
        return removed

    # --- reading --------------------------------------------------------------------------------

    def sentence_embeddings(self, ids: list[str]) -> dict[str, np.ndarray]:
        if not ids:
            return {}
        got = self._guard(lambda: self.sentences.get(ids=ids, include=["embeddings"]))
        return {i: np.asarray(e, dtype=np.float32) for i, e in zip(got["ids"], got["embeddings"])}

    def all_chunks(self) -> tuple[list[str], list[str], list[dict[str, Any]]]:
        ids: list[str] = []
        docs: list[str] = []
        metas: list[dict[str, Any]] = []
        total = self.chunk_count()
        for offset in range(0, total, 5000):
            got = self._guard(lambda: self.chunks.get(include=["documents", "metadatas"], limit=5000, offset=offset))
            ids += got["ids"]
            docs += got["documents"]
            metas += got["metadatas"]
        return ids, docs, metas

    def _guard(self, call):
        """Run a read; a storage failure (Chroma's own errors, SQLite, the file system) means the index
        cannot be read, and says how to rebuild it. Anything else is a bug and propagates as it is."""
        from chromadb.errors import ChromaError

        try:
            return call()
        except RagError:
            raise
        except (ChromaError, sqlite3.Error, OSError) as exc:
            raise IndexCorruptError(f"Reading the index failed: {type(exc).__name__}: {exc}",
                                    rebuild_hint(self.settings)) from None

    def reset(self) -> None:
        """Drop this index's collections (for --rebuild)."""
        for suffix in ("", "-sentences", "-articles"):
            try:
                self.client.delete_collection(f"{self.settings.collection}{suffix}")
            except Exception:
                pass
        for name in ("chunks", "sentences", "articles", "vector_store"):
            self.__dict__.pop(name, None)

    # --- lifecycle: one writer, wipe for --rebuild ----------------------------------------------

    @property
    def keyword_dir(self) -> Path:
        """Where the BM25 index is saved: inside the index folder (one per collection on a server)."""
        name = KEYWORD_DIR if not self.settings.chroma_host else f"{KEYWORD_DIR}-{self.settings.collection}"
        return self.persist_dir / name

    @contextmanager
    def write_lock(self) -> Iterator[None]:
        """One writer per index folder: an embedded Chroma directory is not safe for concurrent writers.
        Readers take no lock."""
        from filelock import FileLock, Timeout

        self.persist_dir.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.persist_dir / _LOCK_FILE))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            raise IndexBusyError(f"The index in {str(self.persist_dir)!r} is busy: another process is ingesting "
                                 "into it.", "Wait for it to finish, then try again.") from None
        try:
            yield
        finally:
            lock.release()

    def wipe(self) -> None:
        """Empty the index (for --rebuild): the collections on a server; on disk, every file of the
        folder, after checking the folder is a rag index (never a folder of something else)."""
        if self.settings.chroma_host:
            self.reset()
            return
        folder = self.persist_dir
        entries = [p for p in folder.iterdir() if p.name not in (".gitkeep", _LOCK_FILE)] if folder.is_dir() else []
        if not ((folder / MARKER_FILE).exists() or all(_looks_like_chroma(p) for p in entries)):
            raise IndexCorruptError(f"Refusing to empty {str(folder)!r}: it does not look like a rag index.",
                                    "Point persist_dir to an empty or new folder.")
        for p in entries:
            shutil.rmtree(p) if p.is_dir() else p.unlink()
        # chromadb keeps one client per path in the process; drop it so the next open starts fresh.
        from chromadb.api.client import SharedSystemClient

        SharedSystemClient.clear_system_cache()
        for name in ("client", "chunks", "sentences", "articles", "vector_store"):
            self.__dict__.pop(name, None)


def _looks_like_chroma(path: Path) -> bool:
    """What Chroma (and we) put in an index folder: its SQLite file, a segment folder per collection
    (named by UUID), and the keyword index."""
    return path.name in ("chroma.sqlite3", KEYWORD_DIR, KEYWORD_DIR + ".tmp") or bool(
        _CHROMA_SEGMENT.fullmatch(path.name))
