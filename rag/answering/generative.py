"""The model answerer: a model (OpenAI or a compatible server, through the openai client) writes the
answer from the passages; only sentences whose [n] points at a passage that supports them are kept
(citations.py). It raises `LLMUnavailable` when the model cannot answer; the engine then answers
offline and says why."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from rag.answering.citations import check_answer, says_dont_know
from rag.answering.interface import Draft, Evidence
from rag.schema import Passage

if TYPE_CHECKING:
    from rag.models.openai_client import OpenAIAnswerer


class GenerativeAnswerer:
    name = "openai"

    def __init__(self, model: OpenAIAnswerer) -> None:
        self.model = model

    def answer(self, evidence: Evidence) -> Draft:
        messages, used = self.model.messages(evidence.question, evidence.passages)
        return checked_draft(self.model.complete(messages), used)

    def stream(self, evidence: Evidence) -> Iterator[str | Draft]:
        """The model's raw text as it arrives, then the checked Draft (whose text may differ)."""
        messages, used = self.model.messages(evidence.question, evidence.passages)
        pieces = []
        for piece in self.model.stream(messages):
            pieces.append(piece)
            yield piece
        yield checked_draft("".join(pieces), used)


def checked_draft(raw: str, passages: list[Passage]) -> Draft:
    """The model's text after the citation check: the sentences it supports, or a refusal saying why."""
    checked = check_answer(raw, passages)
    if checked.abstained:
        reason = ("the model found no support in the passages" if says_dont_know(raw)
                  else "no sentence of the model's answer carried a valid citation")
        return Draft.refusal(reason, citation_check=checked.stats)
    return Draft(checked.text, checked.citations, False, 0.0, form="generated", citation_check=checked.stats)
