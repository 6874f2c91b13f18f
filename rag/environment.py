"""Keep every library on this machine offline: no model downloads, no telemetry, no tokenizer fetches.

Imported first by `rag/__init__.py`, before torch, transformers, tiktoken or chromadb are loaded,
so the environment variables are in place when those libraries read them.
"""

from __future__ import annotations

import os
from importlib.util import find_spec
from pathlib import Path


def _llama_index_static_dir() -> Path:
    spec = find_spec("llama_index.core")
    assert spec is not None and spec.origin is not None, "llama-index-core is not installed"
    return Path(spec.origin).parent / "_static"


LLAMA_INDEX_STATIC = _llama_index_static_dir()
TIKTOKEN_CACHE = LLAMA_INDEX_STATIC / "tiktoken_cache"
NLTK_CACHE = LLAMA_INDEX_STATIC / "nltk_cache"


def make_offline() -> None:
    # setdefault: a user who really wants the hub or their own tiktoken cache can still say so.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(TIKTOKEN_CACHE))
    os.environ.setdefault("NLTK_DATA", str(NLTK_CACHE))
    # Chroma reads this too; the clients are also created with anonymized_telemetry=False.
    os.environ["ANONYMIZED_TELEMETRY"] = "False"


make_offline()
