"""Optional LLM-judged metrics for `rag eval --judge`: llama-index's CorrectnessEvaluator and
FaithfulnessEvaluator, asking the same model the answerer uses (same openai client, same settings).
The offline run never needs them."""

from __future__ import annotations

from typing import Any

from llama_index.core.base.llms.types import CompletionResponse, CompletionResponseGen, LLMMetadata
from llama_index.core.llms import CustomLLM

from rag.models.openai_client import ModelClient
from rag.schema import Answer


class _ClientLLM(CustomLLM):
    """A llama-index LLM over our ModelClient, so the judges share its client, timeouts and retries."""

    model: Any = None

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(model_name=self.model.settings.openai_model, is_chat_model=False)

    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return CompletionResponse(text=self.model.complete([{"role": "user", "content": prompt}]))

    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseGen:
        yield self.complete(prompt)


class Judge:
    def __init__(self, model: ModelClient) -> None:
        from llama_index.core.evaluation import CorrectnessEvaluator, FaithfulnessEvaluator

        llm = _ClientLLM(model=model)
        self.correctness = CorrectnessEvaluator(llm=llm)
        self.faithfulness = FaithfulnessEvaluator(llm=llm)

    def judge(self, question: str, answer: Answer, reference: str) -> tuple[float | None, bool | None]:
        """Correctness score (1-5, against the reference) and whether the answer is faithful to its
        quotes; (None, None) for an abstention."""
        if answer.abstained:
            return None, None
        correct = self.correctness.evaluate(query=question, response=answer.text, reference=reference or None)
        faithful = self.faithfulness.evaluate(query=question, response=answer.text,
                                              contexts=[c.quote for c in answer.citations] or [""])
        return correct.score, faithful.passing
