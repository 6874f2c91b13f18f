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


_PERSON_PRONOUN = re.compile(r"\b(?:he|she|him|her|his)\b", re.IGNORECASE)
_NAME = re.compile(r"(?<![.!?]\s)\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)+")  # two or more capitalised words
_QUESTION_WORDS = {"what", "which", "who", "whom", "whose", "when", "where", "why", "how", "did", "does", "do",
                   "is", "are", "was", "were", "the", "a", "an", "and", "about", "that", "this", "it", "say", "said"}


def condense(question: str, history: list[Answer]) -> str | None:
    """A standalone version of a follow-up, from the previous turns; None when the question stands alone.

    A person pronoun is replaced by the last name mentioned in the previous question; otherwise the
    previous question's content words are added as context.
    """
    if not history or not _FOLLOW_UP.search(question):
        return None
    previous = history[-1].standalone_question or history[-1].question
    rest = _LEADING_CONNECTIVE.sub("", question).strip()
    rest = rest[:1].upper() + rest[1:]
    names = _NAME.findall(previous)
    if names and _PERSON_PRONOUN.search(rest):
        name = names[-1]
        return _PERSON_PRONOUN.sub(lambda m: name + ("'s" if m.group().lower() in ("his", "her") else ""), rest, count=1)
    asked = {w.lower() for w in words(question)}
    context = [w for w in re.findall(r"[\w'’-]+", previous) if w.lower() not in asked | _QUESTION_WORDS]
    return f"{rest.rstrip('?')} ({' '.join(context)})?"


class Chat:
    def __init__(self, bot: "RAG", answerer: str | None = None) -> None:
        self.bot = bot
        self.answerer = answerer
        self.history: list[Answer] = []

    def standalone(self, question: str) -> str | None:
        """The question to retrieve for: rewritten by the model when one is configured (falling back
        to the rule-based rewrite if it fails), else by rule; None when it stands alone."""
        question = self.bot.check_question(question)
        if not self.history:
            return None
        model = getattr(self.bot.answerer(self.answerer), "model", None)  # a generative answerer's model
        if model is not None:
            from .errors import LLMUnavailable

            try:
                rewritten = model.condense(question, [(a.question, a.text) for a in self.history])
                return rewritten if rewritten.strip() and rewritten.strip() != question else None
            except LLMUnavailable:
                pass
        return condense(question, self.history)

    def ask(self, question: str, **kwargs: Any) -> Answer:
        answer = self.bot.ask(question, standalone_question=self.standalone(question), answerer=self.answerer, **kwargs)
        self.history.append(answer)
        return answer

    def stream(self, question: str, **kwargs: Any):
        """Like `RAG.stream`, keeping the conversation."""
        for event in self.bot.stream(question, standalone_question=self.standalone(question), answerer=self.answerer,
                                     **kwargs):
            if isinstance(event, Answer):
                self.history.append(event)
            yield event

    def reset(self) -> None:
        self.history.clear()
