"""Where a citation's quote sits in its article: the paragraph around it, for showing the quote in place.

Citation offsets index into the article's cleaned text, which `RAG.article(id)` returns; texts are
kept in a small cache and fetched again when a quote no longer matches (the article was re-indexed).
"""

from __future__ import annotations

import threading
import weakref
from typing import TYPE_CHECKING

from cachetools import LRUCache

if TYPE_CHECKING:
    from rag import RAG, Citation
    from rag.schema import Article

CONTEXT_CHARS = 600  # at most this much of a very long paragraph either side of the quote
_CACHE_SIZE = 64


class ArticleTexts:
    """Cleaned article texts by id, fetched from the index on first use (least recently used dropped)."""

    def __init__(self, bot: RAG) -> None:
        self.bot = bot
        # None is cached too: an article removed from the index is not asked for again and again.
        self._articles: LRUCache[str, Article | None] = LRUCache(maxsize=_CACHE_SIZE)
        self._lock = threading.Lock()  # LRUCache is not thread-safe; sessions share this cache

    def get(self, article_id: str, *, fresh: bool = False) -> Article | None:
        with self._lock:
            if not fresh and article_id in self._articles:
                return self._articles[article_id]  # reading marks it recently used
        found = self.bot.article(article_id)
        with self._lock:
            self._articles[article_id] = found
        return found

    def quote_in_paragraph(self, citation: Citation) -> tuple[str, int, int]:
        """The paragraph around the citation's quote, and the quote's offsets inside it (the quote
        alone when the article no longer holds it at those offsets)."""
        for fresh in (False, True):
            found = self.get(citation.article_id, fresh=fresh)
            if found is not None and found.text[citation.start:citation.end] == citation.quote:
                return paragraph_around(found.text, citation.start, citation.end)
        return citation.quote, 0, len(citation.quote)


def paragraph_around(text: str, start: int, end: int) -> tuple[str, int, int]:
    """The paragraph(s) holding text[start:end] (blank-line separated), trimmed to CONTEXT_CHARS either
    side; returns it with the span's offsets inside it."""
    first = text.rfind("\n\n", 0, start)
    first = 0 if first < 0 else first + 2
    last = text.find("\n\n", end)
    last = len(text) if last < 0 else last
    prefix, suffix = "", ""
    if start - first > CONTEXT_CHARS:
        first, prefix = start - CONTEXT_CHARS, "…"
    if last - end > CONTEXT_CHARS:
        last, suffix = end + CONTEXT_CHARS, "…"
    return prefix + text[first:last] + suffix, start - first + len(prefix), end - first + len(prefix)


_texts: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_texts_lock = threading.Lock()


def texts_for(bot: RAG) -> ArticleTexts:
    """The one article-text cache of this engine, shared by every session."""
    with _texts_lock:
        if bot not in _texts:
            _texts[bot] = ArticleTexts(bot)
        return _texts[bot]
