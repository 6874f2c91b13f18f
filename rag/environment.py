"""Offline operation: the environment variables the model, tokenizer and vector-store libraries read.

Importing `rag` changes nothing in the process. `offline()` is called right before a library that
reads these variables is loaded (`RAG()` itself, the Chroma client, the tiktoken encoding), and
only sets a variable the user has not set (setdefault: a user who wants the hub, or their own
tiktoken cache, can still say so):

  HF_HUB_OFFLINE, TRANSFORMERS_OFFLINE   never fetch a model or tokenizer file from the hub
                                         (the model is loaded from the installed package's folder)
  HF_HUB_DISABLE_TELEMETRY               no usage pings
  TIKTOKEN_CACHE_DIR                     tiktoken's BPE file from llama-index-core's bundled cache;
                                         without it tiktoken downloads it on first use
  ANONYMIZED_TELEMETRY                   Chroma's telemetry (the clients are also created with
                                         anonymized_telemetry=False)
  TOKENIZERS_PARALLELISM                 Hugging Face tokenizers warn, and can deadlock, when a
                                         process forks after using them (the test servers fork)
  HF_HUB_DISABLE_PROGRESS_BARS,          no progress bars or info lines from loading the local model
  TRANSFORMERS_VERBOSITY                 in the CLI's output and the app's log
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
NLTK_CACHE = LLAMA_INDEX_STATIC / "nltk_cache"  # split.py and text.py add it to nltk's search path

OFFLINE_ENVIRONMENT = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TIKTOKEN_CACHE_DIR": str(TIKTOKEN_CACHE),
    "ANONYMIZED_TELEMETRY": "False",
    "TOKENIZERS_PARALLELISM": "false",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
}


def offline() -> None:
    """Set what offline operation needs, unless already set. Idempotent and cheap."""
    for name, value in OFFLINE_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
