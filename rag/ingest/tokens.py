"""Token counting with tiktoken, offline: the BPE files come from llama-index-core's bundled cache."""

from __future__ import annotations

from functools import lru_cache

from rag.environment import offline

ENCODING = "cl100k_base"


@lru_cache(maxsize=1)
def encoding():
    offline()  # TIKTOKEN_CACHE_DIR before tiktoken looks for it
    import tiktoken

    return tiktoken.get_encoding(ENCODING)


def count_tokens(text: str) -> int:
    return len(encoding().encode(text, disallowed_special=()))
