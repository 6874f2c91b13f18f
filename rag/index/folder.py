"""The index folder: the marker that claims it as a rag index (format, committed collection set), the
checks that say what is wrong with a folder we cannot use, the one-writer lock, and emptying a
damaged index without touching what is not ours."""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rag.errors import IndexBusyError, IndexCorruptError, IndexFolderError
from rag.index.storage_errors import NO_WRITE, rebuild_hint
from rag.settings import Settings

# Anything that changes what ingest produces for the same file bumps this, so every file is redone.
INDEX_FORMAT = 1
MARKER_FILE = "rag-index.json"
KEYWORD_DIR = "keyword"
LOCK_FILE = ".ingest.lock"
GENERATION_FILE = "rag-generation"  # see generations.py
_CHROMA_SEGMENT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def looks_like_chroma(path: Path) -> bool:
    """What Chroma (and we) put in an index folder: its SQLite file, a segment folder per collection
    (named by UUID), and the keyword index."""
    return path.name in ("chroma.sqlite3", KEYWORD_DIR) or path.name.startswith(KEYWORD_DIR + ".") or bool(
        _CHROMA_SEGMENT.fullmatch(path.name))


def is_segment_folder(path: Path) -> bool:
    return path.is_dir() and bool(_CHROMA_SEGMENT.fullmatch(path.name))


def write_atomically(path: Path, text: str) -> None:
    """Write aside under a name no other process uses, then rename over: readers see old or new."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        tmp.write_text(text)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


class IndexFolder:
    """One embedded index's folder (persist_dir)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.path = Path(settings.persist_dir)

    # --- what is wrong with it ------------------------------------------------------------------

    def not_a_folder(self) -> IndexFolderError:
        return IndexFolderError(f"persist_dir {str(self.path)!r} is a file, not a folder.",
                                "Point persist_dir (RAG_PERSIST_DIR, --persist-dir) at a folder, or move the "
                                "file away.")

    def cannot_write(self, exc: OSError) -> IndexFolderError:
        return IndexFolderError(f"Cannot write to the index folder {str(self.path)!r}: {exc.strerror or exc}.",
                                "Make it writable (e.g. `chmod -R u+w` on it), or point persist_dir "
                                "(RAG_PERSIST_DIR, --persist-dir) at a writable folder.")

    def check(self) -> None:
        """Raise IndexFolderError for a folder that is not ours to use, IndexCorruptError for a marker
        that is damaged or from another format; a missing or empty folder is fine."""
        d = self.path
        if d.exists() and not d.is_dir():
            raise self.not_a_folder()
        if not d.is_dir():
            return
        entries = {p.name for p in d.iterdir()} - {".gitkeep", LOCK_FILE, GENERATION_FILE}
        entries = {e for e in entries if not e.endswith(".tmp")}
        if entries and MARKER_FILE not in entries:
            raise IndexFolderError(
                f"{str(d)!r} is not empty and holds no rag index (found {', '.join(sorted(entries)[:5])}).",
                "Point persist_dir to an empty or new folder, or empty this one.")
        if MARKER_FILE in entries:
            marker = self.marker()
            if marker is None:
                raise IndexCorruptError(f"The index marker {str(d / MARKER_FILE)!r} is unreadable.",
                                        rebuild_hint(self.settings))
            if marker.get("format") != INDEX_FORMAT:
                raise IndexCorruptError(
                    f"The index in {str(d)!r} was written by another version (format {marker.get('format')}, "
                    f"this version reads {INDEX_FORMAT}).", rebuild_hint(self.settings))

    # --- the marker -----------------------------------------------------------------------------

    def marker(self) -> dict[str, Any] | None:
        try:
            marker = json.loads((self.path / MARKER_FILE).read_text())
        except (OSError, ValueError):
            return None
        return marker if isinstance(marker, dict) else None

    def claim(self) -> None:
        """Mark a new or empty folder as a rag index before Chroma writes anything into it, so an
        ingest killed on its first run leaves a folder the next one recognises and repairs."""
        if (self.path / MARKER_FILE).exists():
            return
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            write_atomically(self.path / MARKER_FILE, json.dumps({"format": INDEX_FORMAT}))
        except FileExistsError:
            raise self.not_a_folder() from None
        except OSError as exc:
            if exc.errno in NO_WRITE:
                raise self.cannot_write(exc) from None
            raise

    def committed_set(self) -> str | None:
        """The collection set a committed rebuild named (see collection_sets.py); None before any."""
        named = (self.marker() or {}).get("collections")
        return named if isinstance(named, str) else None

    def commit_set(self, name: str) -> None:
        """After a rebuild: the marker names the new collections, so every reader opens them from now on."""
        write_atomically(self.path / MARKER_FILE, json.dumps({"format": INDEX_FORMAT, "collections": name}))

    # --- one writer -----------------------------------------------------------------------------

    @contextmanager
    def write_lock(self) -> Iterator[None]:
        """One writer per index folder: an embedded Chroma directory is not safe for concurrent
        writers. Readers take no lock."""
        from filelock import FileLock, Timeout

        if self.path.exists() and not self.path.is_dir():
            raise self.not_a_folder()
        lock = FileLock(str(self.path / LOCK_FILE))
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            lock.acquire(timeout=0)
        except Timeout:
            raise IndexBusyError(f"The index in {str(self.path)!r} is busy: another process is ingesting "
                                 "into it.", "Wait for it to finish, then try again.") from None
        except OSError as exc:
            if exc.errno in NO_WRITE:
                raise self.cannot_write(exc) from None
            raise
        try:
            yield
        finally:
            lock.release()

    # --- emptying -------------------------------------------------------------------------------

    def empty_damaged(self) -> None:
        """Delete every file Chroma and we put here (for a rebuild of an index that does not open),
        after checking the folder is a rag index (never a folder of something else); other files
        (the app's saved conversations) stay."""
        folder = self.path
        entries = [p for p in folder.iterdir() if p.name not in (".gitkeep", LOCK_FILE)] if folder.is_dir() else []
        if not ((folder / MARKER_FILE).exists() or all(looks_like_chroma(p) for p in entries)):
            raise IndexFolderError(f"Refusing to empty {str(folder)!r}: it does not look like a rag index.",
                                   "Point persist_dir to an empty or new folder.")
        for p in entries:
            if looks_like_chroma(p) or p.name.startswith((MARKER_FILE, GENERATION_FILE)):
                shutil.rmtree(p) if p.is_dir() and not p.is_symlink() else p.unlink()

    def sweep_segments(self, live: set[str]) -> int:
        """Delete segment folders that belong to no collection (Chroma leaves a deleted collection's
        folder behind: each rebuild would otherwise leave one per collection). Returns how many."""
        removed = 0
        for p in self.path.iterdir():
            if is_segment_folder(p) and p.name not in live:
                shutil.rmtree(p, ignore_errors=True)
                removed += 1
        return removed
