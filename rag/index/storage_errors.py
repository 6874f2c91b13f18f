"""Storage failures (Chroma, SQLite, the file system, the network to a Chroma server) translated into
the RagError that says what to do: free space, fix the folder, start the server, or (only when the
data itself is damaged) rebuild. Anything else is a bug and keeps its traceback."""

from __future__ import annotations

import errno
import re
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rag.errors import (
    ChromaServerError,
    IndexCorruptError,
    IndexFolderError,
    RagError,
    StorageFullError,
)
from rag.settings import Settings

_DISK_FULL = re.compile(r"no space left|disk is full|database or disk is full|SQLITE_FULL", re.IGNORECASE)
_READ_ONLY = re.compile(r"readonly database|read-only file system|permission denied", re.IGNORECASE)
NO_WRITE = (errno.EROFS, errno.EACCES, errno.EPERM)


def rebuild_hint(settings: Settings) -> str:
    return (f"Rebuild it with `rag ingest --rebuild` (or RAG(...).ingest(rebuild=True)), "
            f"or point persist_dir somewhere else than {str(settings.persist_dir)!r}.")


def nearly_full(settings: Settings) -> bool:
    """Almost no space left where the index is. Chroma reports a full disk as, e.g., "Error in
    compaction: Failed to apply logs to the metadata segment": a storage error with almost no space
    left is taken for what it most likely is."""
    if settings.chroma_host:
        return False
    try:
        return shutil.disk_usage(Path(settings.persist_dir)).free < 16_000_000
    except OSError:
        return False


def server_error(settings: Settings, exc: BaseException, doing: str) -> ChromaServerError:
    where = f"{settings.chroma_host}:{settings.chroma_port}"
    hint = (f"Start it with `chroma run --path <its data folder> --host {settings.chroma_host} "
            f"--port {settings.chroma_port}`, or unset RAG_CHROMA_HOST to use the embedded index.")
    if doing.startswith(("Writing", "Repairing")):
        hint += " Then run `rag ingest` again: it finishes what this one left."
    return ChromaServerError(f"{doing} failed: cannot reach the Chroma server at {where} "
                             f"({type(exc).__name__}: {exc}).", hint)


def folder_error(settings: Settings, doing: str) -> IndexFolderError:
    folder = str(settings.persist_dir)
    return IndexFolderError(
        f"{doing} failed: the index folder {folder!r} is read-only (Chroma writes to it even to read).",
        f"Make it writable (e.g. `chmod -R u+w {folder}`), or copy the index to a writable folder and "
        "point persist_dir (RAG_PERSIST_DIR, --persist-dir) at the copy. The index itself is not damaged.")


def _chain(exc: BaseException) -> list[BaseException]:
    chain, seen = [exc], exc
    while (seen := seen.__cause__ or seen.__context__) is not None and len(chain) < 10:
        chain.append(seen)
    return chain


def _is_transport(e: BaseException) -> bool:
    """A network failure between us and the Chroma server: chromadb lets httpx's TransportError family
    (ConnectError, RemoteProtocolError, ReadError...) through unwrapped."""
    import httpx  # a dependency of chromadb's HTTP client; only reached in server mode

    return isinstance(e, (ConnectionError, httpx.TransportError))


def storage_error(exc: BaseException, settings: Settings, doing: str) -> RagError | None:
    """The RagError for a failure of the storage itself, or None for anything else: a bug stays a
    bug, with its traceback, instead of becoming "rebuild the index"."""
    if isinstance(exc, RagError):
        return exc
    chain = _chain(exc)
    if settings.chroma_host and any(_is_transport(e) for e in chain):
        return server_error(settings, exc, doing)
    storage = any(isinstance(e, (OSError, sqlite3.Error)) or type(e).__module__.split(".")[0].startswith("chromadb")
                  for e in chain)
    if storage and nearly_full(settings) or any(
            (isinstance(e, OSError) and e.errno == errno.ENOSPC) or _DISK_FULL.search(str(e)) for e in chain):
        return StorageFullError(
            f"{doing} failed: the disk holding {str(settings.persist_dir)!r} is full.",
            "Free some space, then run `rag ingest` again; it finishes what this one left. Do not rebuild: "
            "the index is not damaged.")
    if not storage:
        return None
    if any((isinstance(e, OSError) and e.errno in NO_WRITE) or _READ_ONLY.search(str(e)) for e in chain):
        return folder_error(settings, doing)
    return IndexCorruptError(f"{doing} failed: {type(exc).__name__}: {exc}", rebuild_hint(settings))


@contextmanager
def translated(settings: Settings, doing: str) -> Iterator[None]:
    """Storage failures inside become a RagError that says what to do; other exceptions pass unchanged."""
    try:
        yield
    except Exception as exc:
        mapped = storage_error(exc, settings, doing)
        if mapped is None or mapped is exc:
            raise
        raise mapped from None
