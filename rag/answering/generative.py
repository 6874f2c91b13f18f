"""The model answerer: a model (OpenAI or a compatible server, through the openai client) writes the
answer from the passages; only sentences whose [n] points at a passage that supports them are kept
(citations.py, support.py). It raises `LLMUnavailable` when the model cannot answer; the engine then
answers offline and says why."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from rag.answering.citations import Checked, check_answer, check_stream
from rag.answering.interface import Draft, Evidence

if TYPE_CHECKING:
    from rag.models.openai_client import ModelClient


class GenerativeAnswerer:
    name = "openai"

    def __init__(self, model: ModelClient) -> None:
        self.model = model

    def answer(self, evidence: Evidence) -> Draft:
        messages, used = self.model.messages(evidence.question, evidence.passages)
        return checked_draft(check_answer(self.model.complete(messages), used))

    def stream(self, evidence: Evidence) -> Iterator[str | Draft]:
        """Each sentence of the model's answer once it has passed the citation check (never unchecked
        text), then the checked Draft; joined, the pieces are the Draft's text."""
        messages, used = self.model.messages(evidence.question, evidence.passages)
        for event in check_stream(self.model.stream(messages), used):
            yield checked_draft(event) if isinstance(event, Checked) else event


def checked_draft(checked: Checked) -> Draft:
    """The model's text after the citation check: the sentences it supports, or a refusal saying why."""
    if checked.abstained:
        reason = ("the model found no support in the passages" if checked.dont_know
                  else "no sentence of the model's answer was supported by a passage it cites"
                  if checked.stats.get("sentences_unsupported")
                  else "no sentence of the model's answer carried a valid citation")
        return Draft.refusal(reason, citation_check=checked.stats)
    return Draft(checked.text, checked.citations, False, 0.0, form="generated", citation_check=checked.stats)
