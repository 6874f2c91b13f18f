"""The app's cache of cleaned article texts: fetched once, least recently used dropped first."""

from __future__ import annotations

from app.context import _CACHE_SIZE, ArticleTexts
from rag.schema import Article


class CountingEngine:
    """The one method ArticleTexts needs from the engine, counting the fetches."""

    def __init__(self) -> None:
        self.fetched: list[str] = []

    def article(self, article_id: str) -> Article | None:
        self.fetched.append(article_id)
        return None if article_id == "gone.txt" else Article(
            id=article_id, title="T", source=f"docs/{article_id}", text=f"Text of {article_id}.")


def test_an_article_is_fetched_once_and_again_when_asked_fresh():
    engine = CountingEngine()
    texts = ArticleTexts(engine)
    assert texts.get("a.txt").text == "Text of a.txt." and texts.get("a.txt").text == "Text of a.txt."
    assert texts.get("gone.txt") is None and texts.get("gone.txt") is None
    assert engine.fetched == ["a.txt", "gone.txt"]
    texts.get("a.txt", fresh=True)
    assert engine.fetched[-1] == "a.txt"


def test_the_least_recently_read_article_is_dropped_first():
    engine = CountingEngine()
    texts = ArticleTexts(engine)
    texts.get("first.txt")
    texts.get("kept.txt")
    for n in range(_CACHE_SIZE - 2):
        texts.get(f"{n}.txt")
    texts.get("first.txt")  # read again: now the most recent, and "kept.txt" the least
    texts.get("one-more.txt")
    engine.fetched.clear()
    texts.get("first.txt")
    texts.get("kept.txt")
    assert engine.fetched == ["kept.txt"]
