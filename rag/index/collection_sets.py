"""The collection swap behind `--rebuild` on an embedded index.

A rebuild fills a new set of collections (`<collection>.g<8 hex>`) beside the one readers use; the
marker then names it (IndexFolder.commit_set) and every other set is dropped. A rebuild killed half
way leaves a set the marker never named: the next ingest drops it (`drop_sets_except`). Chroma
leaves a dropped collection's segment folder on disk; `live_segments` tells which folders are still
used, so the rest can be deleted.
"""

from __future__ import annotations

import sqlite3
import uuid
from contextlib import closing
from pathlib import Path


def new_set_name(base: str) -> str:
    return f"{base}.g{uuid.uuid4().hex[:8]}"


def _set_of(name: str) -> str:
    return name.removesuffix("-sentences").removesuffix("-articles")


def drop_sets_except(client, base: str, keep: str) -> list[str]:
    """Delete every collection of ours (named `base` or `base.g…`) outside the set `keep`; returns
    the names deleted. Collections of other names (another RAG_COLLECTION) are not ours to touch."""
    dropped = []
    for collection in client.list_collections():
        name = getattr(collection, "name", collection)
        owner = _set_of(name)
        if owner != keep and (owner == base or owner.startswith(base + ".g")):
            try:
                client.delete_collection(name)
                dropped.append(name)
            except Exception:  # noqa: BLE001  (another process dropped it first)
                pass
    return dropped


def live_segments(folder: Path) -> set[str] | None:
    """Ids of the segments Chroma's catalogue still lists (its `segments` table, read read-only), or
    None when the catalogue cannot be read as expected, in which case nothing must be deleted."""
    database = folder / "chroma.sqlite3"
    if not database.is_file():
        return None
    try:
        with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5)) as db:
            return {str(row[0]) for row in db.execute("SELECT id FROM segments")}
    except sqlite3.Error:
        return None
