"""A conversation: follow-up questions are rewritten into standalone ones before retrieval."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from .schema import Answer
from .text import words

if TYPE_CHECKING:
    from .engine import RAG

# A follow-up leans on the previous turn: it opens with a connective or points back with a pronoun.
_FOLLOW_UP = re.compile(
    r"^(?:and|but|so|also|what about|how about|then)\b|\b(?:that|this|it|they|them|their|he|she|his|her|those|these|there)\b",
    re.IGNORECASE)
_LEADING_CONNECTIVE = re.compile(r"^(?:and|but|so|also|then)\s*,?\s*", re.IGNORECASE)


def condense(question: str, history: list[Answer]) -> str | None:
    """A standalone version of a follow-up, from the previous turns; None when the question stands alone."""
    if not history or not _FOLLOW_UP.search(question):
        return None
    previous = history[-1].standalone_question or history[-1].question
    asked = {w.lower() for w in words(question)}
    context = [w for w in re.findall(r"[\w'’-]+", previous) if w.lower() not in asked]
    return f"{_LEADING_CONNECTIVE.sub('', question).rstrip('?')} (about: {' '.join(context)})?"


class Chat:
    def __init__(self, bot: "RAG") -> None:
        self.bot = bot
        self.history: list[Answer] = []

    def ask(self, question: str, **kwargs: Any) -> Answer:
        question = self.bot.check_question(question)
        answer = self.bot.ask(question, standalone_question=condense(question, self.history), **kwargs)
        self.history.append(answer)
        return answer

    def reset(self) -> None:
        self.history.clear()
