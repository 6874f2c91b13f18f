"""Ask every case of a regression set and score the answers (the metrics: rag.evaluation.metrics).

`run_cases` is the loop; `rag.evaluation.regression.run_regression` wraps it with the thresholds, the
baseline and the run record, for `rag eval` and the app's Regression page alike.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rag.evaluation.cases import EvalCase
from rag.evaluation.metrics import (
    KS,
    citation_ok,
    facts_present,
    is_relevant,
    retrieval_scores,
    summarize,
)
from rag.evaluation.results import CaseResult, EvalRun
from rag.schema import Answer

if TYPE_CHECKING:
    from rag.engine import RAG

__all__ = ["run_cases", "score_case"]


def score_case(case: EvalCase, answer: Answer, latency_ms: float) -> CaseResult:
    result = CaseResult(
        id=case.id, question=case.question, answerable=case.answerable, answer=answer.text,
        abstained=answer.abstained, passed=False, abstain_reason=answer.abstain_reason,
        confidence=answer.confidence, form=answer.form, latency_ms=round(latency_ms, 2), answerer=answer.answerer,
        fallback_reason=answer.fallback_reason, citation_check=answer.citation_check,
        citations=[c.model_dump(include={"n", "source", "quote", "start", "end", "score"}) for c in answer.citations])
    if not case.answerable:
        result.passed = answer.abstained
        return result
    present = facts_present(answer.text, case.key_facts) if not answer.abstained else [False] * len(case.key_facts)
    cited_ok = [citation_ok(c.source, c.quote, case) for c in answer.citations]
    sentences = [s for s in re.split(r"(?<=\])\s+", answer.text) if s.strip()] if not answer.abstained else []
    valid = {c.n for c in answer.citations}
    passages = sorted(answer.passages, key=lambda p: p.rank)
    relevant = [p for p in passages if is_relevant(p.source, p.text, case)]
    result.key_facts_found = present
    result.key_facts_ok = all(present) if case.key_facts else None
    result.citations_correct, result.citations_total = sum(cited_ok), len(cited_ok)
    result.sentences_cited = sum(1 for s in sentences if any(int(m) in valid for m in re.findall(r"\[(\d+)\]", s)))
    result.sentences_total = len(sentences)
    result.markers = len(re.findall(r"\[(\d+)\]", answer.text))
    result.first_relevant_rank = relevant[0].rank if relevant else None
    result.retrieval = retrieval_scores([p.chunk_id for p in passages], {p.chunk_id for p in relevant})
    result.passed = result.key_facts_ok is not False and not answer.abstained and all(cited_ok)
    return result


def run_cases(bot: "RAG", cases: list[EvalCase], top_k: int = max(KS),
              progress: Callable[[int, int], None] | None = None,
              answerer: str | None = None, judge: Any = None) -> EvalRun:
    """Ask every case; with a `rag.evaluation.judge.Judge`, also score answers with the model as a judge."""
    results: list[CaseResult] = []
    for i, case in enumerate(cases):
        started = time.perf_counter()
        answer = bot.ask(case.question, top_k=top_k, answerer=answerer)
        result = score_case(case, answer, (time.perf_counter() - started) * 1000)
        if judge is not None and case.answerable:
            result.judge_correctness, result.judge_faithful = judge.judge(case.question, answer, case.reference_answer)
        results.append(result)
        if progress:
            progress(i + 1, len(cases))
    return EvalRun(summarize(results), results)
