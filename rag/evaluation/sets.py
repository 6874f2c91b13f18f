"""The project's own regression sets (tests/regression/): what each one is, and the targets it is held to.

The held-out sets were never used to fit the offline answerer (benchmarks/fit_answerer.py --held-sets),
so they are known to be harder: their targets sit just under what a healthy install reaches on them,
below the default targets. A run that misses *these* targets is a broken install or a real regression,
not a known limit. Any other set (yours, an export from the app) gets the default targets.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rag.evaluation.runs import DEFAULT_THRESHOLDS


@dataclass(frozen=True)
class KnownSet:
    file_name: str
    about: str
    held_out: bool  # never fitted on: known hard
    targets: dict[str, float]  # on top of DEFAULT_THRESHOLDS


def _targets(key_facts: float, precision: float, abstention: float, false_abstention: float) -> dict[str, float]:
    return {"key_fact_accuracy": key_facts, "citation_precision": precision,
            "abstention_accuracy": abstention, "false_abstention_rate": false_abstention}


# Near misses (an unanswerable question about a topic the articles do discuss) are the known gap of the
# offline answerer, hence the low abstention targets (see BENCHMARKS.md).
KNOWN_SETS = {s.file_name: s for s in (
    # The fit's split goes by source article, and all five seed articles fall on its held side: of
    # seed_qa.jsonl only a few unanswerable questions (split by id) were fitted on. What sets it apart is
    # that the answerer's hand-made rules were written with it in view.
    KnownSet("seed_qa.jsonl", "questions about the five seed articles, written while the answerer was built "
             "(its rules were tuned with them in view)", False, _targets(0.85, 0.90, 0.40, 0.10)),
    KnownSet("holdout_qa.jsonl", "held out: questions about the seed articles kept out of all tuning and "
             "never fitted on", True, _targets(0.75, 0.90, 0.20, 0.10)),
    KnownSet("seed_extra_qa.jsonl", "held out: questions about the seed articles written independently of the "
             "answerer, never fitted on", True, _targets(0.65, 0.85, 0.0, 0.10)),
)}


def known_set(qa_file: str | Path) -> KnownSet | None:
    return KNOWN_SETS.get(Path(qa_file).name)


def thresholds_for(qa_file: str | Path) -> dict[str, float]:
    """The targets a run of this set must meet: the default ones, with a known set's own in their place."""
    known = known_set(qa_file)
    return {**DEFAULT_THRESHOLDS, **(known.targets if known else {})}
