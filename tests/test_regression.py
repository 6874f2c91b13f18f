"""The seed regression set through the public API. The bars are the figures this engine reaches
(see README, Calibration); a change that drops below them fails here."""

from __future__ import annotations

from rag.eval import load_cases, run_cases

from .conftest import REGRESSION_SET

BARS = {
    "key_fact_accuracy": 0.89,
    "citation_precision": 0.96,
    "abstention_accuracy": 1.0,
}
MAX_FALSE_ABSTENTION = 0.03


def test_seed_set_meets_the_bars(bot):
    cases = load_cases(REGRESSION_SET)
    assert sum(c.answerable for c in cases) >= 40 and sum(not c.answerable for c in cases) >= 8
    metrics, results = run_cases(bot, cases)
    failed = [r["id"] for r in results if not r["passed"]]
    for name, bar in BARS.items():
        assert metrics[name] >= bar, f"{name} {metrics[name]} < {bar}; failing cases: {failed}"
    assert metrics["false_abstention_rate"] <= MAX_FALSE_ABSTENTION, failed
    assert metrics["citation_recall"] == 1.0
