"""One Chroma client per index in this process, opened at a known generation.

Chroma shares one system per folder within a process, so every Store on a folder shares one
Connection here. When another process's ingest made it stale (generations.py), the connection is
closed through chromadb's public `close()` and a new one opened: calls already running on the old
one finish; later calls on it fail, and Store retries them on the new one. Closing (instead of
dropping) also releases the old system's files and memory, which rebuilds used to leak.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from rag.environment import offline
from rag.errors import IndexCorruptError
from rag.index.folder import IndexFolder
from rag.index.generations import Generation, current_generation
from rag.index.storage_errors import rebuild_hint, server_error, storage_error
from rag.settings import Settings

SUFFIXES = ("", "-sentences", "-articles")  # one set: chunks, sentences, articles


@dataclass
class CollectionSet:
    """The three collections of one index state; a rebuild fills a new set beside the one in use."""

    name: str
    chunks: object
    sentences: object
    articles: object

    @cached_property
    def vector_store(self):
        from rag.index.vector_store import LiveChunks

        return LiveChunks(chroma_collection=self.chunks)


class Connection:
    def __init__(self, client, generation: Generation | None, committed_set: str | None) -> None:
        self.client = client
        self.generation = generation
        self.committed_set = committed_set  # what the marker named when this client opened (embedded)
        self.closed = False
        self._sets: dict[str, CollectionSet] = {}
        self._lock = threading.Lock()

    def collections(self, name: str) -> CollectionSet:
        with self._lock:
            if name not in self._sets:
                self._sets[name] = CollectionSet(name, *(self.client.get_or_create_collection(
                    name + suffix, embedding_function=None, configuration={"hnsw": {"space": "cosine"}})
                    for suffix in SUFFIXES))
            return self._sets[name]

    def forget(self, name: str) -> None:
        with self._lock:
            self._sets.pop(name, None)

    def close(self) -> None:
        self.closed = True
        close = getattr(self.client, "close", None)
        if close is not None:
            close()


_open: dict[str, Connection] = {}
_lock = threading.Lock()


def _key(settings: Settings) -> str:
    if settings.chroma_host:
        return f"http://{settings.chroma_host}:{settings.chroma_port}"
    return str(Path(settings.persist_dir).resolve())


def connection(settings: Settings) -> Connection:
    """The current connection to this index, reopened first when another process wrote a newer generation."""
    key = _key(settings)
    with _lock:
        conn = _open.get(key)
        if conn is not None and not conn.closed and not _outdated(conn, settings):
            return conn
        if conn is not None:
            conn.close()
        _open[key] = conn = _connect(settings)
        return conn


def replace(settings: Settings, stale: Connection) -> None:
    """Close `stale` so the next `connection()` opens anew; a no-op when another thread already did."""
    with _lock:
        if _open.get(_key(settings)) is stale:
            del _open[_key(settings)]
            stale.close()


def written(settings: Settings, generation: Generation | None, committed_set: str | None) -> None:
    """This process wrote `generation` (and committed `committed_set` when it rebuilt): its open
    connection sees that state already and need not reopen."""
    with _lock:
        conn = _open.get(_key(settings))
        if conn is not None:
            conn.generation = generation
            conn.committed_set = committed_set or conn.committed_set


def close(settings: Settings) -> None:
    """Close this index's connection (before its files are deleted)."""
    with _lock:
        conn = _open.pop(_key(settings), None)
    if conn is not None:
        conn.close()


def _outdated(conn: Connection, settings: Settings) -> bool:
    if settings.chroma_host:
        return False
    on_disk = current_generation(Path(settings.persist_dir))
    return on_disk is not None and on_disk != conn.generation


def _connect(settings: Settings) -> Connection:
    offline()  # before chromadb is imported: it reads ANONYMIZED_TELEMETRY then
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_host:
        try:
            return Connection(chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port,
                                                  settings=chroma_settings), None, None)
        except Exception as exc:
            raise server_error(settings, exc, "Opening the index") from None
    folder = IndexFolder(settings)
    folder.check()
    folder.claim()
    generation = current_generation(folder.path)  # before opening: a write in between only costs one more reload
    try:
        return Connection(chromadb.PersistentClient(path=str(folder.path), settings=chroma_settings), generation,
                          folder.committed_set())
    except Exception as exc:
        mapped = storage_error(exc, settings, "Opening the index")
        if isinstance(mapped, IndexCorruptError) or mapped is None:
            raise IndexCorruptError(f"Cannot open the index in {str(folder)!r}: {exc}",
                                    rebuild_hint(settings)) from None
        raise mapped from None

