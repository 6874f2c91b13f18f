"""Chroma, embedded or as a server: the chunks (through llama-index's ChromaVectorStore), the sentence
embeddings the answerer scores, and one record per article (its hash, metadata and cleaned text).

Store is the one object the engine and the ingest pipeline talk to; the jobs behind it live beside it:
the folder and its marker (folder.py), cross-process generations (generations.py), the client per
index (connection.py), the collection swap for rebuilds (collection_sets.py), storage-error
translation (storage_errors.py), record reads and writes (records.py), the vector store (vector_store.py).
"""

from __future__ import annotations

import errno
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from rag.errors import IndexCorruptError, RagError
from rag.index import collection_sets, connection, records
from rag.index.connection import CollectionSet, Connection
from rag.index.folder import INDEX_FORMAT, KEYWORD_DIR, MARKER_FILE, IndexFolder
from rag.index.generations import Generation, bump_generation, current_generation
from rag.index.storage_errors import nearly_full, storage_error
from rag.settings import Settings

__all__ = ["INDEX_FORMAT", "MARKER_FILE", "Store"]

T = TypeVar("T")
_ATTEMPTS = 4  # a call failing on a view another process outdated is retried on a fresh client (_use)




class Store:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._building: str | None = None  # during a rebuild: the collection set being filled
        self._seen: Generation | None = None  # the generation this store's reads started from
        self._seen_set = False

    @property
    def folder(self) -> IndexFolder:
        return IndexFolder(self.settings)

    @property
    def keyword_dir(self) -> Path:
        """Where the BM25 index is saved: inside the index folder (one per collection on a server)."""
        name = KEYWORD_DIR if not self.settings.chroma_host else f"{KEYWORD_DIR}-{self.settings.collection}"
        return Path(self.settings.persist_dir) / name

    # --- the connection and the collection set in use ------------------------------------------

    def _connection(self) -> Connection:
        conn = connection.connection(self.settings)
        if not self._seen_set:
            self._seen, self._seen_set = conn.generation, True
        return conn

    @property
    def client(self):
        return self._connection().client

    def collection_set_name(self, conn: Connection | None = None) -> str:
        """Name of the chunk collection in use ("-sentences" and "-articles" are beside it): the one a
        rebuild is filling, else the one the marker names after a rebuild, else the `collection` setting."""
        if self._building:
            return self._building
        base, named = self.settings.collection, (conn or self._connection()).committed_set
        return named if named and (named == base or named.startswith(base + ".g")) else base

    def _collections(self, conn: Connection) -> CollectionSet:
        return conn.collections(self.collection_set_name(conn))

    @property
    def chunks(self):
        return self._use("Reading the index", lambda s: s.chunks)

    def _use(self, doing: str, action: Callable[[CollectionSet], T]) -> T:
        """Run `action` on the collections in use, translating storage failures (storage_errors.py).

        Embedded, Chroma's files are shared with other processes: a read on a view another process's
        ingest outdated fails ("Error finding id": rows it deleted), and a write can fail applying a log
        another process's client touched. Both are retried on a fresh client, which reads the index as
        it is now (writes are idempotent: upserts by deterministic ids, deletes); so is any call whose
        client another thread closed meanwhile. A failure that survives fresh clients is real."""
        for attempt in range(_ATTEMPTS):
            conn = None
            try:
                conn = self._connection()
                return action(self._collections(conn))
            except Exception as exc:
                mapped = storage_error(exc, self.settings, doing)
                if conn is None or attempt == _ATTEMPTS - 1 or not (
                        conn.closed or isinstance(mapped, IndexCorruptError) and not self.settings.chroma_host):
                    if mapped is None or mapped is exc:
                        raise
                    raise mapped from None
                connection.replace(self.settings, conn)
                time.sleep(0.05 * attempt)  # let the other process's write finish
        raise AssertionError("unreachable")

    # --- reading --------------------------------------------------------------------------------

    def article_records(self) -> dict[str, dict[str, Any]]:
        """Article id -> metadata, for every article whose ingest completed."""
        return self._use("Reading the index", records.article_records)

    def article_text(self, article_id: str) -> str | None:
        return self._use("Reading the index", lambda s: records.article_text(s, article_id))

    def chunk_count(self) -> int:
        return self._use("Reading the index", lambda s: s.chunks.count())

    def sentence_embeddings(self, ids: list[str]) -> dict[str, np.ndarray]:
        if not ids:
            return {}
        try:
            return self._use("Reading the index", lambda s: records.sentence_embeddings(s, ids))
        except IndexCorruptError:
            if self.settings.chroma_host:
                raise
            # Another process's ingest is mid-way through deleting some of these (see
            # records.sentence_embeddings_one_by_one); a damaged index fails article_records anyway.
            return self._use("Reading the index", lambda s: records.sentence_embeddings_one_by_one(s, ids))

    def all_chunks(self) -> tuple[list[str], list[str], list[dict[str, Any]]]:
        return self._use("Reading the index", records.all_chunks)

    @property
    def vector_store(self) -> ChunkSearch:
        return ChunkSearch(self)

    def is_readable(self) -> bool:
        """True when the index can be read (a rebuild can then leave the readers' copy in place)."""
        try:
            self.article_records()
            return True
        except RagError:
            return False

    def raise_if_disk_full(self, doing: str) -> None:
        """StorageFullError when the disk holding the index has almost no space left."""
        if nearly_full(self.settings):
            raise storage_error(OSError(errno.ENOSPC, "No space left on device"), self.settings, doing)

    # --- writing (under write_lock) -------------------------------------------------------------

    def write_lock(self):
        return self.folder.write_lock()

    def delete_article(self, article_id: str) -> None:
        self._use("Writing the index", lambda s: records.delete_article(s, article_id))

    def set_source(self, article_id: str, source: str) -> None:
        """Point an unchanged article at where its file now is (`rag ingest NEWDIR` with the same files)."""
        self._use("Writing the index", lambda s: records.set_source(s, article_id, source))

    def write_article(self, record: dict[str, Any], text: str, nodes: list, sentence_ids: list[str],
                      sentence_embeddings: np.ndarray, sentence_metas: list[dict[str, Any]]) -> None:
        """Replace one article's chunks and sentences (see write_articles)."""
        self.write_articles([(record, text, nodes, sentence_ids, sentence_embeddings, sentence_metas)])

    def write_articles(self, writes: list[records.ArticleWrite]) -> None:
        """Replace several articles' chunks and sentences: (record, text, nodes, sentence ids, sentence
        embeddings, sentence metadata) each, in six Chroma calls whatever their number (a call costs
        ~15 ms; per article, they bounded an ingest of tiny files to ~8 files/s).

        Readers never find an article missing: new chunks overwrite old ones in place (ids are
        deterministic), then leftovers of the old versions are trimmed. The article records are removed
        first and written last, so an ingest killed in between leaves those articles marked as not
        ingested, and the next ingest redoes them.
        """
        if writes:
            self._use("Writing the index", lambda s: records.write_articles(s, writes))

    def repair(self, indexed: dict[str, dict[str, Any]]) -> int:
        """Before an ingest: delete what a killed ingest left, i.e. chunks and sentences of articles
        without a record, and (embedded) the half-filled collections of a killed rebuild with their
        segment folders. Returns the number of orphaned articles cleaned."""
        if not self.settings.chroma_host and self._building is None:
            self._drop_other_sets()
        return self._use("Repairing the index", lambda s: records.remove_orphans(s, indexed))

    # --- rebuilds and generations -------------------------------------------------------------

    def wipe(self) -> None:
        """Start the index over (for --rebuild). Embedded and readable: a new, empty collection set is
        filled beside the one other processes go on reading until `bump_generation` commits it.
        Embedded and damaged: every file Chroma and we put in the folder is deleted (IndexFolder.
        empty_damaged). A server: the collections are dropped."""
        if self.settings.chroma_host:
            conn = self._connection()
            for suffix in connection.SUFFIXES:
                with suppress(Exception):  # not there
                    conn.client.delete_collection(f"{self.settings.collection}{suffix}")
            conn.forget(self.settings.collection)
        elif self.is_readable():
            self._building = collection_sets.new_set_name(self.settings.collection)
        else:
            connection.close(self.settings)
            self.folder.empty_damaged()

    def bump_generation(self) -> None:
        """After an ingest: commit a rebuilt set, then tell every process reading this index that it
        changed (they reopen at their next question, see is_stale)."""
        folder = Path(self.settings.persist_dir)
        if self.settings.chroma_host or not folder.is_dir():
            return
        rebuilt, self._building = self._building, None
        if rebuilt:
            self.folder.commit_set(rebuilt)
        self._seen = bump_generation(folder)
        connection.written(self.settings, self._seen, rebuilt)  # this process's client is current
        if rebuilt:
            self._drop_other_sets()

    def _drop_other_sets(self) -> None:
        """Drop every collection set but the one in use, then close the client (releasing the dropped
        collections' files and memory) and delete the segment folders Chroma leaves behind."""
        conn = self._connection()
        if collection_sets.drop_sets_except(conn.client, self.settings.collection, self.collection_set_name(conn)):
            connection.replace(self.settings, conn)
        live = collection_sets.live_segments(Path(self.settings.persist_dir))
        if live is not None:
            self.folder.sweep_segments(live)

    def is_stale(self) -> bool:
        """True when another process finished an ingest after this store was opened. A missing
        generation (an index older than generations) is not stale."""
        if self.settings.chroma_host or not self._seen_set:
            return False
        current = current_generation(Path(self.settings.persist_dir))
        return current is not None and current != self._seen

    def reopened(self) -> Store:
        """A Store reading the index as it is now (its connection reopens when it is stale)."""
        return Store(self.settings)


class ChunkSearch:
    """The chunk vector store (vector_store.LiveChunks) of the set in use, through Store's retries."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def query(self, query, **kwargs):
        return self._store._use("Reading the index", lambda s: s.vector_store.query(query, **kwargs))

    def get_nodes(self, node_ids=None, filters=None):
        return self._store._use("Reading the index", lambda s: s.vector_store.get_nodes(node_ids, filters))

