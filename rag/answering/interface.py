"""What an answerer is: given the question and what retrieval found (`Evidence`), it returns a `Draft`.

    class MyAnswerer:
        name = "mine"

        def answer(self, evidence: Evidence) -> Draft: ...
        # optional: def stream(self, evidence) -> Iterator[str | Draft]  (text pieces, then the Draft)

An answerer is built per index state by a factory taking an `AnswererContext`; the registry
(registry.py) finds factories by name, built in or from a plugin package's entry point.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from rag.index.ids import sentence_id
from rag.schema import Citation, Passage
from rag.settings import Settings

if TYPE_CHECKING:
    from rag.index.keyword import KeywordIndex
    from rag.models.openai_client import ModelClient


@dataclass
class Draft:
    """An answerer's answer, before the engine adds what was searched, the passages and the timings."""

    text: str  # with [n] markers; "" when it abstains (the engine then says what was searched)
    citations: list[Citation]
    abstained: bool
    confidence: float = 0.0
    form: str = "sentences"  # an `AnswerForm`: direct, sentences, overview, refusal, generated
    direct_answer: str | None = None
    direct_citation: int | None = None
    reason: str | None = None  # why it abstained, in words
    citation_check: dict[str, int] | None = None  # model answers: sentences kept and dropped

    @classmethod
    def refusal(cls, reason: str, confidence: float = 0.0, **extra) -> "Draft":
        return cls("", [], True, confidence, "refusal", reason=reason, **extra)


class Evidence:
    """The question and the passages retrieved for it. The passages' sentence embeddings are fetched
    from the index only when an answerer reads `sentence_embeddings` (the model answerer never does)."""

    def __init__(self, question: str, embedding: np.ndarray, passages: list[Passage],
                 fetch_sentence_embeddings: Callable[[list[str]], dict[str, np.ndarray]] | None = None) -> None:
        self.question = question  # the one to answer: a chat's follow-up rewritten to stand alone
        self.embedding = embedding
        self.passages = passages
        self._fetch = fetch_sentence_embeddings

    @cached_property
    def sentence_embeddings(self) -> dict[str, np.ndarray]:
        """Sentence id (`rag.index.ids.sentence_id`) -> the sentence's embedding, for every passage sentence."""
        if self._fetch is None:
            return {}
        ids = list(dict.fromkeys(sentence_id(p.article_id, s.start) for p in self.passages for s in p.sentences))
        return self._fetch(ids)


@runtime_checkable
class Answerer(Protocol):
    name: str

    def answer(self, evidence: Evidence) -> Draft: ...


@dataclass(frozen=True)
class AnswererContext:
    """What a factory may build an answerer from: the settings, this index state's keyword index
    (term statistics), and the configured model client (None when none is)."""

    settings: Settings
    keyword: KeywordIndex
    model: ModelClient | None


AnswererFactory = Callable[[AnswererContext], Answerer]


def stream_draft(answerer: Answerer, evidence: Evidence) -> Iterator[str | Draft]:
    """Text pieces, then the Draft: the answerer's own `stream`, or its answer cut after each citation."""
    stream = getattr(answerer, "stream", None)  # optional in the interface
    if stream is not None:
        yield from stream(evidence)
        return
    draft = answerer.answer(evidence)
    yield from (re.findall(r"(?s).+?\[\d+\]\s*|.+$", draft.text) if not draft.abstained else [draft.text])
    yield draft
