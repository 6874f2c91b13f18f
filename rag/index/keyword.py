"""The BM25 keyword index (bm25s), persisted beside the vector store and rebuilt only when the corpus changed.

It also knows each term's document frequency, which the extractive answerer uses to weigh the
question's words (a word no article uses weighs most: the articles cannot be about it).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from rag.text import terms


class KeywordIndex:
    def __init__(self, ids: list[str], metas: list[dict[str, Any]], bm25, df: dict[str, int], fingerprint: str) -> None:
        self.ids = ids
        self.metas = metas
        self.bm25 = bm25
        self.df = df
        self.fingerprint = fingerprint
        self.n_docs = len(ids)
        self._position = {chunk_id: i for i, chunk_id in enumerate(ids)}

    @classmethod
    def build(cls, ids: list[str], texts: list[str], metas: list[dict[str, Any]], fingerprint: str) -> KeywordIndex:
        import bm25s

        tokenized = [terms(t) or ["__empty__"] for t in texts]
        bm25 = bm25s.BM25()
        if tokenized:
            bm25.index(tokenized, show_progress=False)
        df: dict[str, int] = {}
        for tokens in tokenized:
            for token in set(tokens):
                df[token] = df.get(token, 0) + 1
        return cls(ids, [_slim(m) for m in metas], bm25, df, fingerprint)

    # --- persistence ----------------------------------------------------------------------------

    def save(self, folder: Path) -> None:
        """Write a new version folder beside `folder`, then point `folder` (a symlink) at it with one
        atomic rename: a reader sees the old index or the new one, never half of one, and two
        processes saving at once each write their own version (the last rename wins)."""
        folder.parent.mkdir(parents=True, exist_ok=True)
        version = folder.with_name(f"{folder.name}.{uuid.uuid4().hex[:12]}")
        version.mkdir()
        if self.ids:
            self.bm25.save(str(version / "bm25"))
        (version / "corpus.json").write_text(json.dumps(
            {"fingerprint": self.fingerprint, "ids": self.ids, "metas": self.metas, "df": self.df}))
        link = folder.with_name(f"{version.name}.link")
        os.symlink(version.name, link)
        if folder.is_dir() and not folder.is_symlink():  # saved by a version before symlinks
            shutil.rmtree(folder, ignore_errors=True)
        os.replace(link, folder)
        _remove_old_versions(folder)

    @classmethod
    def load(cls, folder: Path, fingerprint: str) -> KeywordIndex | None:
        """The saved index if it matches `fingerprint`, else None (so the caller rebuilds)."""
        import bm25s

        folder = folder.resolve()  # one version for both files, even if a save swaps the link meanwhile
        try:
            data = json.loads((folder / "corpus.json").read_text())
            if data["fingerprint"] != fingerprint:
                return None
            bm25 = bm25s.BM25.load(str(folder / "bm25")) if data["ids"] else bm25s.BM25()
        except (OSError, ValueError, KeyError):
            return None
        return cls(data["ids"], data["metas"], bm25, data["df"], fingerprint)

    # --- querying -------------------------------------------------------------------------------

    def idf(self, term: str) -> float:
        """Smoothed inverse document frequency; a term no chunk contains gets the largest weight."""
        return math.log(1 + (self.n_docs + 1) / (self.df.get(term, 0) + 0.5))

    def search(self, query: str, k: int, allowed: np.ndarray | None = None) -> list[tuple[str, float]]:
        """Top-k (chunk id, BM25 score), best first; `allowed` is a 0/1 mask over chunks (filters.py)."""
        tokens = [t for t in terms(query) if t in self.df]
        if not tokens or not self.ids:
            return []
        k = min(k, self.n_docs)
        docs, scores = self.bm25.retrieve([tokens], k=k, weight_mask=allowed, show_progress=False, n_threads=1)
        return [(self.ids[int(d)], float(s)) for d, s in zip(docs[0], scores[0]) if s > 0]

    @property
    def chunk_article_ids(self) -> list[str]:
        """The article of each chunk, in index order (filters are evaluated per article, then spread)."""
        return [m.get("article_id") or "" for m in self.metas]


_VERSION_KEPT_S = 30  # a version another process may still be reading, or just wrote and is about to link


def _remove_old_versions(folder: Path) -> None:
    current = os.readlink(folder) if folder.is_symlink() else None
    cutoff = time.time() - _VERSION_KEPT_S
    for path in folder.parent.glob(folder.name + ".*"):
        if path.name == current:
            continue
        try:
            if path.lstat().st_mtime < cutoff:
                path.unlink() if path.is_symlink() else shutil.rmtree(path)
        except OSError:  # another process removed it first
            pass


def _slim(meta: dict[str, Any]) -> dict[str, Any]:
    return {"article_id": meta.get("article_id"), "date_int": meta.get("date_int", 0)}
