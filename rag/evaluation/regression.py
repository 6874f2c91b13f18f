"""One regression run, as `rag eval` and the app's Regression page both do it: load the set, ask every
case, hold the figures to the set's targets (rag.evaluation.sets) and to the previous run of the same set,
then save the run record and its Markdown report under the runs folder."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.errors import EvalSetError
from rag.evaluation.cases import EvalCase, load_cases
from rag.evaluation.harness import run_cases
from rag.evaluation.runs import (
    DEFAULT_TOLERANCE,
    RunRecord,
    Verdict,
    assess,
    latest_record,
    make_record,
    markdown_report,
    save_record,
)
from rag.evaluation.sets import KnownSet, known_set, thresholds_for

if TYPE_CHECKING:
    from rag.engine import RAG


@dataclass
class RegressionRun:
    cases: list[EvalCase]
    record: RunRecord
    verdict: Verdict
    thresholds: dict[str, float]  # the targets the run was held to
    known: KnownSet | None  # what the set is, when it is one of the project's own
    baseline: RunRecord | None
    saved: Path  # the run record (JSON)
    report: Path  # the Markdown report beside it


def run_regression(bot: "RAG", qa_file: Path, *, runs_dir: Path, answerer: str | None = None, k: int = 5,
                   thresholds: dict[str, float] | None = None, tolerance: float = DEFAULT_TOLERANCE,
                   baseline: Path | None = None, compare: bool = True, judge: Any = None,
                   progress: Callable[[int, int], None] | None = None) -> RegressionRun:
    """Run `qa_file` against `bot`. `thresholds` override the set's targets one by one; `baseline` is a
    run record to compare with (default: the latest saved run of the same set; none when not `compare`)."""
    if baseline is not None and not baseline.is_file():
        raise EvalSetError(f"The baseline {str(baseline)!r} does not exist.",
                           "Name a run record under the runs folder, or leave --baseline out.")
    baseline_path = (baseline or latest_record(runs_dir, qa_file)) if compare else None
    before = RunRecord.load(baseline_path) if baseline_path else None
    cases = load_cases(qa_file)
    name = bot.answerer(answerer).name
    run = run_cases(bot, cases, top_k=k, answerer=name, judge=judge, progress=progress)
    record = make_record(run, qa_file=qa_file, settings=bot.settings.public_dict(), answerer=name, k=k)
    targets = {**thresholds_for(qa_file), **(thresholds or {})}
    verdict = assess(record, targets, before, tolerance, str(baseline_path) if baseline_path else None)
    saved = save_record(record, runs_dir)
    report = saved.with_suffix(".md")
    report.write_text(markdown_report(record, verdict))
    return RegressionRun(cases, record, verdict, targets, known_set(qa_file), before, saved, report)
