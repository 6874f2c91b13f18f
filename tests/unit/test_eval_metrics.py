"""Regression metrics and targets, without the model: retrieval scores from llama-index's HitRate and MRR,
the run's summary from typed results, and the targets each of the project's sets is held to."""

from __future__ import annotations

import pytest

from rag.evaluation.metrics import KS, retrieval_metrics, retrieval_scores, summarize
from rag.evaluation.results import CaseResult
from rag.evaluation.runs import DEFAULT_THRESHOLDS
from rag.evaluation.sets import KNOWN_SETS, thresholds_for


def by_hand(ranks: list[int | None]) -> dict[str, float]:
    """The definitions: a hit when the first relevant passage is in the top k; 1/rank, or 0 past k."""
    out = {}
    for k in KS:
        out[f"hit_rate@{k}"] = sum(r is not None and r <= k for r in ranks) / len(ranks)
        out[f"mrr@{k}"] = sum(1 / r if r is not None and r <= k else 0.0 for r in ranks) / len(ranks)
    return out


@pytest.mark.parametrize("ranks", [[1], [None], [2, None, 4], [5, 3, 1, None, 2], [6, 1]])
def test_llama_index_hit_rate_and_mrr_give_the_defined_numbers(ranks):
    assert retrieval_metrics(ranks) == pytest.approx(by_hand(ranks))


def test_one_question_scores_at_its_first_relevant_passage():
    retrieved = ["sport/1.txt#0", "tech/9.txt#3", "sport/1.txt#2", "business/4.txt#1"]
    scores = retrieval_scores(retrieved, {"tech/9.txt#3", "business/4.txt#1"})
    assert scores["hit_rate@1"] == 0.0 and scores["mrr@1"] == 0.0
    assert scores["hit_rate@3"] == 1.0 and scores["mrr@3"] == 0.5
    assert retrieval_scores(retrieved, set()) == {name: 0.0 for name in scores}, "nothing relevant retrieved"
    assert retrieval_scores([], {"a#0"})["hit_rate@5"] == 0.0


def result(case_id, answerable, abstained, passed, **more):
    return CaseResult(**{"id": case_id, "question": "q?", "answerable": answerable, "answer": "",
                         "abstained": abstained, "passed": passed, **more})


def test_the_summary_reads_typed_results():
    results = [
        result("a", True, False, True, key_facts_ok=True, citations_correct=2, citations_total=2, sentences_cited=2,
               sentences_total=2, latency_ms=10.0, retrieval={"hit_rate@1": 1.0, "mrr@1": 1.0}),
        result("b", True, False, False, key_facts_ok=False, citations_correct=0, citations_total=1,
               sentences_cited=0, sentences_total=1, latency_ms=30.0, retrieval={"hit_rate@1": 0.0, "mrr@1": 0.0}),
        result("c", False, True, True, latency_ms=20.0),
    ]
    metrics = summarize(results)
    assert metrics["key_fact_accuracy"] == 0.5 and metrics["citation_precision"] == pytest.approx(2 / 3, abs=1e-4)
    assert metrics["citation_recall"] == pytest.approx(2 / 3, abs=1e-4) and metrics["abstention_accuracy"] == 1.0
    assert metrics["hit_rate@1"] == 0.5 and metrics["latency_ms_median"] == 20.0
    assert "llm_correctness_mean" not in metrics, "judged figures only when a judge ran"


def test_an_old_run_record_reads_back_as_typed_results():
    old = {"id": "u-1", "question": "Who won?", "answerable": False, "answer": "The articles don't say.",
           "abstained": True, "passed": True, "latency_ms": 12.5, "citations": [], "a_field_since_removed": 1}
    assert CaseResult.from_dict(old) == result("u-1", False, True, True, answer="The articles don't say.",
                                               question="Who won?", latency_ms=12.5)


def test_held_out_sets_have_their_own_lower_targets_and_other_sets_the_defaults():
    held = [s for s in KNOWN_SETS.values() if s.held_out]
    assert {s.file_name for s in held} == {"holdout_qa.jsonl", "seed_extra_qa.jsonl"}
    for known in held:
        targets = thresholds_for(f"tests/regression/{known.file_name}")
        assert targets["key_fact_accuracy"] < DEFAULT_THRESHOLDS["key_fact_accuracy"]
        assert set(targets) == set(DEFAULT_THRESHOLDS), "every default measure still has a target"
    assert thresholds_for("/tmp/feedback_qa.jsonl") == DEFAULT_THRESHOLDS


def test_a_saved_run_record_loads_back_typed_and_is_the_latest_of_its_set(tmp_path):
    from rag.evaluation.runs import RunRecord, latest_record, save_record

    record = RunRecord(created="2026-01-02T03:04:05+00:00", git_revision="abc1234", qa_file="sets/sport_qa.jsonl",
                       answerer="extractive", k=5, settings={"top_k": 5}, metrics={"key_fact_accuracy": 0.5},
                       cases=[result("s1", True, False, False, key_facts_found=[False], key_facts_ok=False)])
    saved = save_record(record, tmp_path)
    assert RunRecord.load(saved) == record
    assert latest_record(tmp_path, "sets/sport_qa.jsonl") == saved and latest_record(tmp_path, "other.jsonl") is None
