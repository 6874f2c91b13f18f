"""A baseline, not an answerer to rely on: the first sentence of the best passage, cited, never
abstaining. `rag eval --answerer lead` shows what the regression harness catches."""

from __future__ import annotations

from rag.answering.interface import Draft, Evidence
from rag.schema import Citation


class LeadAnswerer:
    name = "lead"

    def answer(self, evidence: Evidence) -> Draft:
        passages = evidence.passages
        if not passages or not passages[0].sentences:
            return Draft.refusal("nothing was retrieved")
        first = passages[0].sentences[0]
        citation = Citation.quoting(1, passages[0], first.start, first.end, 0.0)
        return Draft(f"{citation.quote} [1]", [citation], False, 0.0)
