"""Regression runs over question/answer sets: load a set, ask every question, score the answers.

Metrics (per case, then overall):
  key_fact_accuracy     answerable cases whose answer contains every key-fact group (any alternative
                        of a group, case-insensitive, on word boundaries); an abstention scores 0
  citation_precision    citations, over all answered answerable cases, whose article is one of the
                        case's sources (an article that holds the fact)
  citation_recall       answer sentences that carry a valid citation
  abstention_accuracy   unanswerable cases the system abstained on
  false_abstention_rate answerable cases the system abstained on
  hit_rate@k, mrr@k     retrieval: a passage is relevant when it comes from a source article and holds
                        at least one key-fact group; hit = a relevant passage in the top k; MRR = mean
                        of 1/rank of the first relevant passage (0 when none in the top k)
  latency_ms            wall time of ask() per case
  llm_correctness_mean, llm_faithfulness_rate
                        only with `rag eval --judge` and a model configured: llama-index's
                        CorrectnessEvaluator (1-5 against the reference answer) and
                        FaithfulnessEvaluator (is the answer supported by its quoted sentences)

Cases imported from a LlamaIndex LabelledRagDataset carry reference contexts instead of key facts and
sources: for them a passage or a citation counts as relevant when it overlaps a reference context
(60% of the context's words, or one text inside the other), and key-fact accuracy skips them.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, ValidationError, model_validator

from rag.errors import EvalSetError
from rag.schema import Answer

if TYPE_CHECKING:
    from rag.engine import RAG

KS = (1, 3, 5)


class EvalCase(BaseModel, extra="forbid"):
    id: str = Field(min_length=1)
    question: str = Field(min_length=1)
    reference_answer: str = ""
    key_facts: list[list[str]] = Field(default_factory=list, description="Groups of alternatives; every group must appear.")
    sources: list[str] = Field(default_factory=list, description="Files (names or paths) that hold the answer.")
    answerable: bool = True
    # Carried for LabelledRagDataset round trips.
    reference_contexts: list[str] = Field(default_factory=list)
    query_by: dict[str, Any] | None = None
    reference_answer_by: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _answerable_needs_facts(self) -> "EvalCase":
        if self.answerable and not self.reference_contexts and (not self.key_facts or not self.sources):
            raise ValueError("an answerable case needs key_facts and sources (or reference_contexts)")
        if any(not group or any(not alt.strip() for alt in group) for group in self.key_facts):
            raise ValueError("key_facts groups must be non-empty lists of non-empty strings")
        return self


def load_cases(path: str | Path) -> list[EvalCase]:
    """Cases from our JSONL format, or from a LlamaIndex LabelledRagDataset `.json` file."""
    path = Path(path)
    if not path.is_file():
        raise EvalSetError(f"The regression set {str(path)!r} does not exist.")
    if path.suffix.lower() == ".json":
        return load_labelled_rag_dataset(path)
    cases: list[EvalCase] = []
    ids: set[str] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvalSetError(f"{path}:{number}: not valid JSON ({exc.msg} at column {exc.colno}).") from None
        try:
            case = EvalCase.model_validate(data)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"]) or "case"
            raise EvalSetError(f"{path}:{number}: field {field!r}: {err['msg']}.") from None
        if case.id in ids:
            raise EvalSetError(f"{path}:{number}: field 'id': duplicate id {case.id!r}.")
        ids.add(case.id)
        cases.append(case)
    if not cases:
        raise EvalSetError(f"The regression set {str(path)!r} has no cases.")
    return cases


def load_labelled_rag_dataset(path: str | Path) -> list[EvalCase]:
    from llama_index.core.llama_dataset import LabelledRagDataset

    try:
        dataset = LabelledRagDataset.from_json(str(path))
    except Exception as exc:  # llama-index raises KeyError/ValidationError/JSONDecodeError for bad files
        raise EvalSetError(f"{path}: not a LabelledRagDataset JSON file ({type(exc).__name__}: {exc}).") from None
    cases = []
    for number, example in enumerate(dataset.examples, start=1):
        try:
            cases.append(EvalCase(
                id=f"{Path(path).stem}-{number:04d}", question=example.query,
                reference_answer=example.reference_answer or "",
                reference_contexts=list(example.reference_contexts or []),
                answerable=bool(example.reference_contexts),
                query_by=example.query_by.model_dump(mode="json") if example.query_by else None,
                reference_answer_by=example.reference_answer_by.model_dump(mode="json") if example.reference_answer_by else None,
            ))
        except ValidationError as exc:
            err = exc.errors()[0]
            raise EvalSetError(f"{path}: example {number}: field {'.'.join(map(str, err['loc']))!r}: {err['msg']}.") from None
    if not cases:
        raise EvalSetError(f"The regression set {str(path)!r} has no examples.")
    return cases


def save_labelled_rag_dataset(cases: list[EvalCase], path: str | Path) -> None:
    """Write cases as a LlamaIndex LabelledRagDataset (key facts and sources have no place there)."""
    from llama_index.core.llama_dataset import CreatedBy, LabelledRagDataExample, LabelledRagDataset

    examples = [LabelledRagDataExample(
        query=c.question, reference_answer=c.reference_answer, reference_contexts=c.reference_contexts or None,
        query_by=CreatedBy(**c.query_by) if c.query_by else None,
        reference_answer_by=CreatedBy(**c.reference_answer_by) if c.reference_answer_by else None,
    ) for c in cases]
    LabelledRagDataset(examples=examples).save_json(str(path))


def _norm(text: str) -> str:
    return (text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
            .replace("‑", "-").replace("–", "-").replace("—", "-").casefold())


def contains_fact(text: str, alternative: str) -> bool:
    alt = _norm(alternative.strip())
    left = r"\b" if alt[:1].isalnum() else ""
    right = r"\b" if alt[-1:].isalnum() else ""
    # "sanction" also matches "sanctions": a word boundary on the left, a word prefix on the right.
    return re.search(left + re.escape(alt), _norm(text)) is not None if right else alt in _norm(text)


def facts_present(text: str, groups: list[list[str]]) -> list[bool]:
    return [any(contains_fact(text, alt) for alt in group) for group in groups]


def _source_match(source: str, wanted: Iterable[str]) -> bool:
    return any(source == w or source.endswith("/" + w) or Path(source).name == Path(w).name for w in wanted)


def is_relevant(source: str, text: str, case: EvalCase) -> bool:
    """A retrieved passage is relevant when it comes from a source article and holds a key fact
    (for imported cases: when it overlaps a reference context)."""
    if case.reference_contexts and not case.key_facts:
        return _overlaps_context(text, case.reference_contexts)
    return _source_match(source, case.sources) and any(facts_present(text, case.key_facts))


def _overlaps_context(text: str, contexts: list[str]) -> bool:
    mine = _norm(" ".join(text.split()))
    words_mine = set(re.findall(r"\w+", mine))
    for context in contexts:
        theirs = _norm(" ".join(context.split()))
        if theirs in mine or mine in theirs:
            return True
        words_theirs = set(re.findall(r"\w+", theirs))
        if words_theirs and len(words_theirs & words_mine) / len(words_theirs) >= 0.6:
            return True
    return False


def _citation_ok(citation_source: str, quote: str, case: EvalCase) -> bool:
    if case.reference_contexts and not case.sources:
        return _overlaps_context(quote, case.reference_contexts)
    return _source_match(citation_source, case.sources)


def retrieval_metrics(first_relevant_ranks: list[int | None]) -> dict[str, float]:
    """hit_rate@k and mrr@k from the 1-based rank of each case's first relevant passage (None: not found)."""
    metrics: dict[str, float] = {}
    for k in KS:
        metrics[f"hit_rate@{k}"] = _mean(r is not None and r <= k for r in first_relevant_ranks)
        metrics[f"mrr@{k}"] = _mean(1.0 / r if r is not None and r <= k else 0.0 for r in first_relevant_ranks)
    return metrics


def score_case(case: EvalCase, answer: Answer, latency_ms: float) -> dict[str, Any]:
    result: dict[str, Any] = {
        "id": case.id, "question": case.question, "answerable": case.answerable,
        "answer": answer.text, "abstained": answer.abstained, "abstain_reason": answer.abstain_reason,
        "confidence": answer.confidence, "form": answer.form, "latency_ms": round(latency_ms, 2),
        "answerer": answer.answerer, "fallback_reason": answer.fallback_reason, "citation_check": answer.citation_check,
        "citations": [c.model_dump(include={"n", "source", "quote", "start", "end", "score"}) for c in answer.citations],
    }
    if not case.answerable:
        result["passed"] = answer.abstained
        return result
    present = facts_present(answer.text, case.key_facts) if not answer.abstained else [False] * len(case.key_facts)
    cited_ok = [_citation_ok(c.source, c.quote, case) for c in answer.citations]
    markers = re.findall(r"\[(\d+)\]", answer.text)
    sentences = [s for s in re.split(r"(?<=\])\s+", answer.text) if s.strip()] if not answer.abstained else []
    valid = {c.n for c in answer.citations}
    first_relevant = next((p.rank for p in answer.passages if is_relevant(p.source, p.text, case)), None)
    result.update({
        "key_facts_found": present,
        # None when the case has no key facts (imported sets): then it is judged on abstention and citations.
        "key_facts_ok": all(present) if case.key_facts else None,
        "citations_correct": sum(cited_ok), "citations_total": len(cited_ok),
        "sentences_cited": sum(1 for s in sentences if any(int(m) in valid for m in re.findall(r"\[(\d+)\]", s))),
        "sentences_total": len(sentences), "markers": len(markers),
        "first_relevant_rank": first_relevant,
    })
    result["passed"] = result["key_facts_ok"] is not False and not answer.abstained and all(cited_ok)
    return result


def summarize(results: list[dict[str, Any]]) -> dict[str, float]:
    answerable = [r for r in results if r["answerable"]]
    unanswerable = [r for r in results if not r["answerable"]]
    cited_total = sum(r["citations_total"] for r in answerable)
    sent_total = sum(r["sentences_total"] for r in answerable)
    latencies = [r["latency_ms"] for r in results]
    metrics: dict[str, float] = {
        "cases": len(results), "answerable": len(answerable), "unanswerable": len(unanswerable),
        "key_fact_accuracy": _mean(r["key_facts_ok"] for r in answerable if r["key_facts_ok"] is not None),
        "citation_precision": sum(r["citations_correct"] for r in answerable) / cited_total if cited_total else 1.0,
        "citation_recall": sum(r["sentences_cited"] for r in answerable) / sent_total if sent_total else 1.0,
        "abstention_accuracy": _mean(r["abstained"] for r in unanswerable) if unanswerable else 1.0,
        "false_abstention_rate": _mean(r["abstained"] for r in answerable),
        "latency_ms_median": statistics.median(latencies) if latencies else 0.0,
        "latency_ms_p95": _percentile(latencies, 95),
    }
    metrics.update(retrieval_metrics([r["first_relevant_rank"] for r in answerable]))
    judged = [r for r in answerable if r.get("judge_correctness") is not None]
    if judged:  # LLM-judged (rag eval --judge): mean correctness 1-5, share of answers judged faithful
        metrics["llm_correctness_mean"] = _mean(r["judge_correctness"] for r in judged)
        metrics["llm_faithfulness_rate"] = _mean(bool(r["judge_faithful"]) for r in judged)
    checks = [r["citation_check"] for r in results if r.get("citation_check")]
    if checks:  # model answers: what the citation check kept and removed
        for key in ("sentences_kept", "sentences_dropped", "markers_removed"):
            metrics[f"check_{key}"] = sum(c[key] for c in checks)
        metrics["fallbacks"] = sum(1 for r in results if r.get("fallback_reason"))
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in metrics.items()}


def run_cases(bot: "RAG", cases: list[EvalCase], top_k: int = max(KS),
              progress: Callable[[int, int], None] | None = None,
              answerer: str | None = None, judge: Any = None) -> tuple[dict[str, float], list[dict[str, Any]]]:
    """Ask every case; with a `rag.evaluation.judge.Judge`, also score answers with the model as a judge."""
    results = []
    for i, case in enumerate(cases):
        started = time.perf_counter()
        answer = bot.ask(case.question, top_k=top_k, answerer=answerer)
        results.append(score_case(case, answer, (time.perf_counter() - started) * 1000))
        if judge is not None and case.answerable:
            results[-1].update(judge.judge(case.question, answer, case.reference_answer))
        if progress:
            progress(i + 1, len(cases))
    return summarize(results), results


def _mean(values: Iterable[float | bool]) -> float:
    values = [float(v) for v in values]
    return sum(values) / len(values) if values else 0.0


def _percentile(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]
