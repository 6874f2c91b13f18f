"""The metrics of a regression run.

Per case, then overall:
  key_fact_accuracy     answerable cases whose answer contains every key-fact group (any alternative
                        of a group, case-insensitive, on word boundaries); an abstention scores 0
  citation_precision    citations, over all answered answerable cases, whose article is one of the
                        case's sources (an article that holds the fact)
  citation_recall       answer sentences that carry a valid citation
  abstention_accuracy   unanswerable cases the system abstained on
  false_abstention_rate answerable cases the system abstained on
  hit_rate@k, mrr@k     retrieval, by llama-index's HitRate and MRR (the metrics its RetrieverEvaluator
                        runs) over the passages ask() retrieved: a passage is relevant when it comes from
                        a source article and holds at least one key-fact group
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

import re
import statistics
from collections.abc import Iterable
from pathlib import Path

from llama_index.core.evaluation.retrieval.metrics import MRR, HitRate

from rag.evaluation.cases import EvalCase
from rag.evaluation.results import CaseResult

KS = (1, 3, 5)


# --- does a text hold a fact, does a passage or citation come from the right article --------------

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


def source_matches(source: str, wanted: Iterable[str]) -> bool:
    """Whether `source` (a path) is one of the `wanted` files, named by path or by file name."""
    return any(source == w or source.endswith("/" + w) or Path(source).name == Path(w).name for w in wanted)


def is_relevant(source: str, text: str, case: EvalCase) -> bool:
    """A retrieved passage is relevant when it comes from a source article and holds a key fact
    (for imported cases: when it overlaps a reference context)."""
    if case.reference_contexts and not case.key_facts:
        return overlaps_context(text, case.reference_contexts)
    return source_matches(source, case.sources) and any(facts_present(text, case.key_facts))


def overlaps_context(text: str, contexts: list[str]) -> bool:
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


def citation_ok(citation_source: str, quote: str, case: EvalCase) -> bool:
    if case.reference_contexts and not case.sources:
        return overlaps_context(quote, case.reference_contexts)
    return source_matches(citation_source, case.sources)


# --- retrieval: llama-index's HitRate and MRR ------------------------------------------------------

def retrieval_scores(retrieved_ids: list[str], relevant_ids: set[str]) -> dict[str, float]:
    """hit_rate@k and mrr@k of one question, for k in KS: llama-index's HitRate and MRR on the top k
    retrieved ids. Those metrics refuse an empty list; a question with nothing relevant retrieved scores 0."""
    scores: dict[str, float] = {}
    for k in KS:
        top = retrieved_ids[:k]
        if not top or not relevant_ids:
            scores[f"hit_rate@{k}"] = scores[f"mrr@{k}"] = 0.0
            continue
        expected = sorted(relevant_ids)
        scores[f"hit_rate@{k}"] = HitRate().compute(expected_ids=expected, retrieved_ids=top).score
        scores[f"mrr@{k}"] = MRR().compute(expected_ids=expected, retrieved_ids=top).score
    return scores


def retrieval_metrics(first_relevant_ranks: list[int | None]) -> dict[str, float]:
    """hit_rate@k and mrr@k, averaged over questions, from the 1-based rank of each question's first
    relevant passage (None: not retrieved), for retrievers that only report that rank (benchmarks)."""
    depth = max(KS)
    per_question = [retrieval_scores([str(rank) for rank in range(1, depth + 1)], {str(r)} if r else set())
                    for r in first_relevant_ranks]
    return {name: _mean(s[name] for s in per_question) for k in KS for name in (f"hit_rate@{k}", f"mrr@{k}")}


# --- a run's figures ------------------------------------------------------------------------------

def summarize(results: list[CaseResult]) -> dict[str, float]:
    answerable = [r for r in results if r.answerable]
    unanswerable = [r for r in results if not r.answerable]
    cited_total = sum(r.citations_total for r in answerable)
    sent_total = sum(r.sentences_total for r in answerable)
    latencies = [r.latency_ms for r in results]
    metrics: dict[str, float] = {
        "cases": len(results), "answerable": len(answerable), "unanswerable": len(unanswerable),
        "key_fact_accuracy": _mean(r.key_facts_ok for r in answerable if r.key_facts_ok is not None),
        "citation_precision": sum(r.citations_correct for r in answerable) / cited_total if cited_total else 1.0,
        "citation_recall": sum(r.sentences_cited for r in answerable) / sent_total if sent_total else 1.0,
        "abstention_accuracy": _mean(r.abstained for r in unanswerable) if unanswerable else 1.0,
        "false_abstention_rate": _mean(r.abstained for r in answerable),
        "latency_ms_median": statistics.median(latencies) if latencies else 0.0,
        "latency_ms_p95": _percentile(latencies, 95),
    }
    for k in KS:
        for name in (f"hit_rate@{k}", f"mrr@{k}"):
            metrics[name] = _mean(r.retrieval.get(name, 0.0) for r in answerable)
    judged = [r for r in answerable if r.judge_correctness is not None]
    if judged:  # LLM-judged (rag eval --judge): mean correctness 1-5, share of answers judged faithful
        metrics["llm_correctness_mean"] = _mean(r.judge_correctness for r in judged)
        metrics["llm_faithfulness_rate"] = _mean(bool(r.judge_faithful) for r in judged)
    checks = [r.citation_check for r in results if r.citation_check]
    if checks:  # model answers: what the citation check kept and removed
        for key in ("sentences_kept", "sentences_dropped", "markers_removed"):
            metrics[f"check_{key}"] = sum(c[key] for c in checks)
        metrics["fallbacks"] = sum(1 for r in results if r.fallback_reason)
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in metrics.items()}


def _mean(values: Iterable[float | bool]) -> float:
    values = [float(v) for v in values]
    return sum(values) / len(values) if values else 0.0


def _percentile(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]
