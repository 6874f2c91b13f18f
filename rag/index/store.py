"""Chroma, embedded or as a server: the chunks (through llama-index's ChromaVectorStore), the sentence
embeddings the answerer scores, and one record per article (its hash, metadata and cleaned text)."""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from rag.environment import offline
from rag.errors import IndexBusyError, IndexCorruptError, RagError, StorageFullError
from rag.settings import Settings

# Anything that changes what ingest produces for the same file bumps this, so every file is redone.
INDEX_FORMAT = 1
MARKER_FILE = "rag-index.json"
KEYWORD_DIR = "keyword"
_LOCK_FILE = ".ingest.lock"
_CHROMA_SEGMENT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# Replaced (new inode) at the end of every ingest. Each process's embedded Chroma keeps its own
# in-memory vector index, so a reader compares this file's identity per question and reopens the
# index when another process has written a newer generation.
GENERATION_FILE = "rag-generation"


def rebuild_hint(settings: Settings) -> str:
    return (f"Rebuild it with `rag ingest --rebuild` (or RAG(...).ingest(rebuild=True)), "
            f"or point persist_dir somewhere else than {str(settings.persist_dir)!r}.")


_DISK_FULL = re.compile(r"no space left|disk is full|database or disk is full|SQLITE_FULL", re.IGNORECASE)


def _nearly_full(settings: Settings) -> bool:
    # Chroma reports a full disk as, e.g., "Error in compaction: Failed to apply logs to the metadata
    # segment": a storage error with almost no space left is taken for what it most likely is.
    if settings.chroma_host:
        return False
    try:
        return shutil.disk_usage(Path(settings.persist_dir)).free < 16_000_000
    except OSError:
        return False


def storage_error(exc: BaseException, settings: Settings, doing: str) -> RagError | None:
    """The RagError for a failure of the storage itself (Chroma, SQLite, the file system), or None for
    anything else: a bug stays a bug, with its traceback, instead of becoming "rebuild the index"."""
    if isinstance(exc, RagError):
        return exc
    chain, seen = [exc], exc
    while (seen := seen.__cause__ or seen.__context__) is not None and len(chain) < 10:
        chain.append(seen)
    storage = any(isinstance(e, (OSError, sqlite3.Error)) or type(e).__module__.split(".")[0].startswith("chromadb")
                  for e in chain)
    if storage and _nearly_full(settings) or any(
            (isinstance(e, OSError) and e.errno == errno.ENOSPC) or _DISK_FULL.search(str(e)) for e in chain):
        return StorageFullError(
            f"{doing} failed: the disk holding {str(settings.persist_dir)!r} is full.",
            "Free some space, then run `rag ingest` again; it finishes what this one left. Do not rebuild: "
            "the index is not damaged.")
    if not storage:
        return None
    return IndexCorruptError(f"{doing} failed: {type(exc).__name__}: {exc}", rebuild_hint(settings))


class Store:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.persist_dir = Path(settings.persist_dir)
        self._replacing: str | None = None  # during a rebuild: the collections readers still use

    # --- opening -------------------------------------------------------------------------------

    def _check_persist_dir(self) -> None:
        if self.settings.chroma_host:
            return
        d = self.persist_dir
        if d.exists() and not d.is_dir():
            raise IndexCorruptError(f"persist_dir {str(d)!r} is a file, not a folder.", rebuild_hint(self.settings))
        if d.is_dir():
            entries = {p.name for p in d.iterdir()} - {".gitkeep", ".ingest.lock", MARKER_FILE + ".tmp", GENERATION_FILE}
            entries = {e for e in entries if not e.startswith(GENERATION_FILE + ".")}
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

    # --- generations: noticing another process's ingest ----------------------------------------

    def generation(self) -> tuple[int, int] | None:
        """The on-disk generation (one stat); None when there is none (an old index, or mid-rebuild)."""
        if self.settings.chroma_host:
            return None
        try:
            st = os.stat(self.persist_dir / GENERATION_FILE)
        except OSError:
            return None
        return st.st_ino, st.st_mtime_ns

    def bump_generation(self) -> None:
        """Tell every process reading this index that it changed (atomic: write aside, rename over)."""
        if self.settings.chroma_host or not self.persist_dir.is_dir():
            return
        replaced = self._replacing
        self._commit_collections()
        tmp = self.persist_dir / f"{GENERATION_FILE}.{os.getpid()}.tmp"
        tmp.write_text(uuid.uuid4().hex)
        tmp.replace(self.persist_dir / GENERATION_FILE)
        self.__dict__["seen_generation"] = self.generation()
        if replaced is not None:
            # Readers elsewhere reload at their next question; one still answering from the set just
            # replaced keeps it until the next rebuild, which drops it.
            self._drop_collections_except({self.collections, replaced})

    @cached_property
    def seen_generation(self) -> tuple[int, int] | None:
        return self.generation()

    def is_stale(self) -> bool:
        """True when another process finished an ingest after this store was opened. A missing
        generation (a rebuild under way elsewhere) is not stale: the old data stays readable."""
        current = self.generation()
        return current is not None and current != self.seen_generation

    def reopened(self) -> "Store":
        """A fresh Store on the same index. Chroma caches one system per path in the process; dropping
        that entry (not stopping it) makes the next client load the index anew from disk, while
        queries still running on the old one finish undisturbed."""
        if not self.settings.chroma_host:
            from chromadb.api.shared_system_client import SharedSystemClient

            with SharedSystemClient._refcount_lock:
                SharedSystemClient._identifier_to_system.pop(str(self.persist_dir), None)
                SharedSystemClient._identifier_to_refcount.pop(str(self.persist_dir), None)
        return Store(self.settings)

    @cached_property
    def client(self):
        offline()  # before chromadb is imported: it reads ANONYMIZED_TELEMETRY then
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        self._check_persist_dir()
        self._write_marker_if_new()
        self.seen_generation  # noqa: B018  (before opening: a write in between only costs one more reload)
        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        try:
            if self.settings.chroma_host:
                return chromadb.HttpClient(host=self.settings.chroma_host, port=self.settings.chroma_port,
                                           settings=chroma_settings)
            self.persist_dir.mkdir(parents=True, exist_ok=True)
            return chromadb.PersistentClient(path=str(self.persist_dir), settings=chroma_settings)
        except Exception as exc:
            if isinstance(full := storage_error(exc, self.settings, "Opening the index"), StorageFullError):
                raise full from None
            where = (f"the Chroma server at {self.settings.chroma_host}:{self.settings.chroma_port}"
                     if self.settings.chroma_host else f"the index in {str(self.persist_dir)!r}")
            if self.settings.chroma_host:
                raise RagError(f"Cannot reach {where}: {exc}", "Start it with `chroma run`, or unset RAG_CHROMA_HOST.") from None
            raise IndexCorruptError(f"Cannot open {where}: {exc}", rebuild_hint(self.settings)) from None

    # --- which collections: a rebuild fills a fresh set beside the one readers use ------------------

    @cached_property
    def collections(self) -> str:
        """Name of the chunk collection in use ("-sentences" and "-articles" are beside it): the
        marker names it once a rebuild was committed, else it is the `collection` setting."""
        if not self.settings.chroma_host:
            try:
                named = json.loads((self.persist_dir / MARKER_FILE).read_text()).get("collections")
            except (OSError, ValueError, AttributeError):
                named = None
            if isinstance(named, str) and named.startswith(self.settings.collection):
                return named
        return self.settings.collection

    def raise_if_disk_full(self, doing: str) -> None:
        """StorageFullError when the disk holding the index has almost no space left."""
        if _nearly_full(self.settings):
            raise storage_error(OSError(errno.ENOSPC, "No space left on device"), self.settings, doing)

    def opens(self) -> bool:
        """True when the index can be read (a rebuild can then leave the readers' copy in place)."""
        try:
            self.article_records()
            return True
        except RagError:
            return False

    def _collection(self, suffix: str):
        name = f"{self.collections}{suffix}"
        try:
            return self.client.get_or_create_collection(
                name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}})
        except RagError:
            raise
        except Exception as exc:
            if isinstance(full := storage_error(exc, self.settings, "Opening the index"), StorageFullError):
                raise full from None
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
        return _vector_store_class()(chroma_collection=self.chunks)

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
        with self._storage("Writing the index"):
            self.articles.delete(ids=[article_id])
            self.chunks.delete(where={"article_id": article_id})
            self.sentences.delete(where={"article_id": article_id})

    def set_source(self, article_id: str, source: str) -> None:
        """Point an unchanged article at where its file now is (`rag ingest NEWDIR` with the same files)."""
        with self._storage("Writing the index"):
            for collection, where in ((self.chunks, {"where": {"article_id": article_id}}),
                                      (self.articles, {"ids": [article_id]})):
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

    def write_article(self, record: dict[str, Any], text: str, nodes: list, sentence_ids: list[str],
                      sentence_embeddings: np.ndarray, sentence_metas: list[dict[str, Any]]) -> None:
        """Replace one article's chunks and sentences (see write_articles)."""
        self.write_articles([(record, text, nodes, sentence_ids, sentence_embeddings, sentence_metas)])

    def write_articles(self, writes: list[tuple[dict[str, Any], str, list, list[str], np.ndarray, list[dict[str, Any]]]]
                       ) -> None:
        """Replace several articles' chunks and sentences: (record, text, nodes, sentence ids, sentence
        embeddings, sentence metadata) each, in six Chroma calls whatever their number (a call costs
        ~15 ms; per article, they bounded an ingest of tiny files to ~8 files/s).

        Readers never find an article missing: new chunks overwrite old ones in place (ids are
        deterministic), then leftovers of the old versions are trimmed. The article records are removed
        first and written last, so an ingest killed in between leaves those articles marked as not
        ingested, and the next ingest redoes them.
        """
        if writes:
            with self._storage("Writing the index"):
                self._write_articles(writes)

    def _write_articles(self, writes) -> None:
        from llama_index.vector_stores.chroma.base import node_to_metadata_dict

        article_ids = [record["article_id"] for record, *_ in writes]
        nodes = [n for _, _, article_nodes, *_ in writes for n in article_nodes]
        sentence_ids = [i for *_, ids, _, _ in writes for i in ids]
        sentence_metas = [m for *_, metas in writes for m in metas]
        sentence_embeddings = np.concatenate([np.asarray(e, dtype=np.float32).reshape(len(ids), -1)
                                              for *_, ids, e, _ in writes if len(ids)]) if sentence_ids else []
        self.articles.delete(ids=article_ids)
        # ChromaVectorStore.add has no upsert; this writes the same records it would (and reads back alike).
        for start in range(0, len(nodes), 1000):
            batch = nodes[start:start + 1000]
            metadatas = [{k: ("" if v is None else v) for k, v in
                          node_to_metadata_dict(n, remove_text=True, flat_metadata=True).items()} for n in batch]
            self.chunks.upsert(ids=[n.node_id for n in batch], embeddings=[n.get_embedding() for n in batch],
                               documents=[n.get_content() for n in batch], metadatas=metadatas)
        for start in range(0, len(sentence_ids), 2000):
            stop = start + 2000
            self.sentences.upsert(ids=sentence_ids[start:stop], embeddings=sentence_embeddings[start:stop],
                                  metadatas=sentence_metas[start:stop])
        self._trim(self.chunks, article_ids, {n.node_id for n in nodes})
        self._trim(self.sentences, article_ids, set(sentence_ids))
        self.articles.upsert(ids=article_ids, embeddings=[[0.0]] * len(writes),
                             metadatas=[record for record, *_ in writes], documents=[text for _, text, *_ in writes])

    @staticmethod
    def _trim(collection, article_ids: list[str], keep: set[str]) -> None:
        got = collection.get(where={"article_id": {"$in": article_ids}}, include=[])
        stale = [i for i in got["ids"] if i not in keep]
        if stale:
            collection.delete(ids=stale)

    def remove_orphans(self, records: dict[str, dict[str, Any]]) -> int:
        """Delete chunks and sentences of articles that have no record (an ingest killed half way).

        The full scan runs only when the counts disagree with the records, so a healthy index pays
        two count() calls."""
        with self._storage("Repairing the index"):
            return self._remove_orphans(records)

    def _remove_orphans(self, records: dict[str, dict[str, Any]]) -> int:
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
        with self._storage("Reading the index"):
            return call()

    @contextmanager
    def _storage(self, doing: str):
        """Storage failures become a RagError that says what to do; other exceptions pass unchanged."""
        try:
            yield
        except Exception as exc:
            mapped = storage_error(exc, self.settings, doing)
            if mapped is None or mapped is exc:
                raise
            raise mapped from None

    def reset(self) -> None:
        """Start over (for --rebuild). Embedded: new, empty collections are filled beside the old ones,
        which other processes go on reading until `bump_generation` commits the new set. A server:
        the collections are dropped."""
        if self.settings.chroma_host:
            for suffix in ("", "-sentences", "-articles"):
                try:
                    self.client.delete_collection(f"{self.settings.collection}{suffix}")
                except Exception:
                    pass
        else:
            self._replacing = self._replacing or self.collections
            self.__dict__["collections"] = f"{self.settings.collection}.g{uuid.uuid4().hex[:8]}"
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
        """Start the index over (for --rebuild). When it opens, new collections are filled beside the
        old ones, which other processes go on reading until the ingest commits them (`reset`). When it
        does not open (a damaged folder), every file Chroma and we put there is deleted, after checking
        the folder is a rag index (never a folder of something else); other files (the app's saved
        conversations) stay."""
        if self.settings.chroma_host or self.opens():
            self.reset()
            return
        folder = self.persist_dir
        entries = [p for p in folder.iterdir() if p.name not in (".gitkeep", _LOCK_FILE)] if folder.is_dir() else []
        if not ((folder / MARKER_FILE).exists() or all(_looks_like_chroma(p) for p in entries)):
            raise IndexCorruptError(f"Refusing to empty {str(folder)!r}: it does not look like a rag index.",
                                    "Point persist_dir to an empty or new folder.")
        for p in entries:
            if _looks_like_chroma(p) or p.name.startswith((MARKER_FILE, GENERATION_FILE)):
                shutil.rmtree(p) if p.is_dir() else p.unlink()
        # chromadb keeps one client per path in the process; drop it so the next open starts fresh.
        from chromadb.api.client import SharedSystemClient

        SharedSystemClient.clear_system_cache()
        for name in ("client", "chunks", "sentences", "articles", "vector_store"):
            self.__dict__.pop(name, None)


    def _commit_collections(self) -> None:
        """After a rebuild: the marker names the new collections, so every reader opens them from now on."""
        if self._replacing is None:
            return
        self._replacing = None
        tmp = self.persist_dir / (MARKER_FILE + ".tmp")
        tmp.write_text(json.dumps({"format": INDEX_FORMAT, "collections": self.collections}))
        tmp.replace(self.persist_dir / MARKER_FILE)

    def _drop_collections_except(self, keep: set[str]) -> None:
        base = self.settings.collection
        for collection in self.client.list_collections():
            name = getattr(collection, "name", collection)
            prefix = name.removesuffix("-sentences").removesuffix("-articles")
            if prefix not in keep and (prefix == base or prefix.startswith(base + ".g")):
                try:
                    self.client.delete_collection(name)
                except Exception:  # another process dropped it first
                    pass


@lru_cache(maxsize=1)
def _vector_store_class():
    """llama-index's ChromaVectorStore, minus chunks whose record is gone.

    Another process's ingest can delete chunks that this process's in-memory vector index still
    finds until it reloads; Chroma then returns them without metadata. They are dropped here, so a
    reader sees the article as removed instead of failing on a missing `article_id`."""
    from llama_index.core.vector_stores.types import VectorStoreQueryResult
    from llama_index.vector_stores.chroma import ChromaVectorStore

    class _LiveChunks(ChromaVectorStore):
        def query(self, query, **kwargs):
            result = super().query(query, **kwargs)
            keep = [i for i, n in enumerate(result.nodes or []) if n.metadata.get("article_id")]
            if len(keep) == len(result.nodes or []):
                return result
            pick = lambda values: [values[i] for i in keep] if values is not None else None  # noqa: E731
            return VectorStoreQueryResult(nodes=pick(result.nodes), similarities=pick(result.similarities),
                                          ids=pick(result.ids))

        def get_nodes(self, node_ids=None, filters=None):
            return [n for n in super().get_nodes(node_ids, filters) if n.metadata.get("article_id")]

    return _LiveChunks


def _looks_like_chroma(path: Path) -> bool:
    """What Chroma (and we) put in an index folder: its SQLite file, a segment folder per collection
    (named by UUID), and the keyword index."""
    return path.name in ("chroma.sqlite3", KEYWORD_DIR, KEYWORD_DIR + ".tmp") or bool(
        _CHROMA_SEGMENT.fullmatch(path.name))
