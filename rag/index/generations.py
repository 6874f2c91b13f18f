"""Cross-process generations: noticing another process's ingest.

Each process's embedded Chroma keeps its own in-memory vector index, so a writer replaces (new inode)
the generation file at the end of every ingest, and a reader compares that file's identity with the
one it opened at, and reopens the index when they differ.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from rag.index.folder import GENERATION_FILE, write_atomically

Generation = tuple[int, int]


def current_generation(folder: Path) -> Generation | None:
    """The on-disk generation (one stat); None when there is none (an index older than generations)."""
    try:
        st = os.stat(folder / GENERATION_FILE)
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns


def bump_generation(folder: Path) -> Generation | None:
    """Tell every process reading this index that it changed; returns the new generation."""
    write_atomically(folder / GENERATION_FILE, uuid.uuid4().hex)
    return current_generation(folder)
