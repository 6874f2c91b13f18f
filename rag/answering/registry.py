"""Answerers behind one interface, chosen by name from a registry.

An answerer turns the retrieved passages into a `Draft` (the answer text with [n] markers, its
citations, abstained or not): `answer(question, query_embedding, passages, sentence_embeddings)`.
One that can produce text as it goes also has `stream(...)`, yielding text pieces and then the Draft.

    extractive  offline, the default: picks article sentences and cites them (answer.py)
    openai      a model through the openai client (OpenAI or a compatible server); its text goes
                through the citation check (citations.py). When it fails, the engine answers with
                "extractive" instead and says why (Answer.fallback_reason)
    lead        a baseline for regression runs: the first sentence of the best passage

A new answerer is one `@register("name")` factory here; `RAG(answerer="name")` then uses it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from rag.answering.citations import Checked, check_answer, check_stream
from rag.answering.extractive import Draft, ExtractiveAnswerer, LeadAnswerer
from rag.errors import SettingsError
from rag.index.keyword import KeywordIndex
from rag.models.openai_client import ModelClient
from rag.schema import Passage
from rag.settings import Settings

OFFLINE = "extractive"  # answers when the model cannot


class Answerer(Protocol):
    name: str

    def answer(self, question: str, query_embedding: np.ndarray, passages: list[Passage],
               sentence_embeddings: dict[str, np.ndarray]) -> Draft: ...


@dataclass(frozen=True)
class AnswererContext:
    """What a factory may build an answerer from: the settings, this index state's keyword index
    (term statistics), and the configured model (None when none is)."""

    settings: Settings
    keyword: KeywordIndex
    model: ModelClient | None


ANSWERERS: dict[str, Callable[[AnswererContext], Answerer]] = {}


def register(name: str) -> Callable[[Callable[[AnswererContext], Answerer]], Callable[[AnswererContext], Answerer]]:
    def add(factory: Callable[[AnswererContext], Answerer]) -> Callable[[AnswererContext], Answerer]:
        ANSWERERS[name] = factory
        return factory
    return add


@register("extractive")
def _extractive(ctx: AnswererContext) -> Answerer:
    s = ctx.settings
    return ExtractiveAnswerer(ctx.keyword, s.max_answer_sentences)


@register("lead")
def _lead(ctx: AnswererContext) -> Answerer:
    return LeadAnswerer()


@register("openai")
def _openai(ctx: AnswererContext) -> Answerer:
    if ctx.model is None:
        raise SettingsError("The openai answerer was asked for, but no model is configured.",
                            "Set OPENAI_API_KEY, or OPENAI_BASE_URL for a compatible server.")
    return GenerativeAnswerer(ctx.model)


@dataclass
class GeneratedDraft(Draft):
    """A model's answer after the citation check."""

    citation_check: dict[str, int] = field(default_factory=dict)
    form: str = "generated"


class GenerativeAnswerer:
    """The model writes the answer; only sentences whose [n] points at a passage that supports them are kept.
    Raises `LLMUnavailable` when the model cannot answer."""

    name = "openai"
    uses_sentence_embeddings = False

    def __init__(self, model: ModelClient) -> None:
        self.model = model

    def answer(self, question: str, query_embedding: np.ndarray, passages: list[Passage],
               sentence_embeddings: dict[str, np.ndarray]) -> Draft:
        messages, used = self.model.messages(question, passages)
        return _drafted(check_answer(self.model.complete(messages), used))

    def stream(self, question: str, query_embedding: np.ndarray, passages: list[Passage],
               sentence_embeddings: dict[str, np.ndarray]) -> Iterator[str | Draft]:
        """Each sentence of the model's answer once it has passed the citation check (never unchecked
        text), then the checked Draft; joined, the pieces are the Draft's text."""
        messages, used = self.model.messages(question, passages)
        for event in check_stream(self.model.stream(messages), used):
            yield _drafted(event) if isinstance(event, Checked) else event


def _drafted(checked: Checked) -> GeneratedDraft:
    if checked.abstained:
        reason = ("the model found no support in the passages" if checked.dont_know
                  else "no sentence of the model's answer was supported by a passage it cites"
                  if checked.stats.get("sentences_unsupported")
                  else "no sentence of the model's answer carried a valid citation")
        return GeneratedDraft("", [], True, 0.0, reason=reason, citation_check=checked.stats)
    return GeneratedDraft(checked.text, checked.citations, False, 0.0, citation_check=checked.stats)


class Answerers:
    """The registry's answerers for one index state, built on first use."""

    def __init__(self, context: AnswererContext) -> None:
        self.context = context
        self._built: dict[str, Answerer] = {}

    def get(self, name: str | None = None) -> Answerer:
        """The answerer called `name`; None: the one the settings choose (`auto`: the model when one
        is configured, else extractive)."""
        name = name or self.context.settings.effective_answerer()
        if name not in self._built:
            factory = ANSWERERS.get(name)
            if factory is None:
                raise SettingsError(f"Unknown answerer {name!r}.", f"Use one of: {', '.join(ANSWERERS)}.")
            self._built[name] = factory(self.context)
        return self._built[name]

    @property
    def offline(self) -> Answerer:
        return self.get(OFFLINE)


def stream_answer(answerer: Answerer, question: str, query_embedding: np.ndarray, passages: list[Passage],
                  sentence_embeddings: dict[str, np.ndarray]) -> Iterator[str | Draft]:
    """Text pieces, then the Draft: the answerer's own stream, or its answer cut after each citation."""
    stream = getattr(answerer, "stream", None)
    if stream is not None:
        yield from stream(question, query_embedding, passages, sentence_embeddings)
        return
    draft = answerer.answer(question, query_embedding, passages, sentence_embeddings)
    yield from (re.findall(r"(?s).+?\[\d+\]\s*|.+$", draft.text) if not draft.abstained else [draft.text])
    yield draft
