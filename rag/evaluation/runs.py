"""Regression runs you can compare: a JSON record per run, a Markdown report, deltas against a baseline.

A run fails (the CLI exits 1) when a metric misses its threshold, or when, against the baseline, a
metric moves the wrong way by more than the tolerance. Cases that passed in the baseline and fail now
are listed as flipped, by id.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rag.evaluation.results import CaseResult, EvalRun

# Direction of each metric: +1 higher is better, -1 lower is better.
DIRECTION = {
    "key_fact_accuracy": +1, "citation_precision": +1, "citation_recall": +1,
    "abstention_accuracy": +1, "false_abstention_rate": -1,
    "hit_rate@1": +1, "hit_rate@3": +1, "hit_rate@5": +1, "mrr@1": +1, "mrr@3": +1, "mrr@5": +1,
    "latency_ms_median": -1, "latency_ms_p95": -1,
}
# Compared against the baseline; latency varies too much between runs on shared machines to gate on
# (give it a --threshold instead).
GATED = [name for name in DIRECTION if not name.startswith("latency")]
# Defaults a run must meet on its own; `--threshold name=value` overrides (a minimum, or a maximum
# for metrics where lower is better).
DEFAULT_THRESHOLDS = {
    "key_fact_accuracy": 0.85, "citation_precision": 0.9, "citation_recall": 0.95,
    "abstention_accuracy": 0.8, "false_abstention_rate": 0.1,
}
DEFAULT_TOLERANCE = 0.02


@dataclass
class Verdict:
    below_threshold: dict[str, tuple[float, float]] = field(default_factory=dict)  # metric -> (value, bar)
    regressions: dict[str, tuple[float, float]] = field(default_factory=dict)  # metric -> (now, before)
    deltas: dict[str, tuple[float, float | None]] = field(default_factory=dict)  # metric -> (now, before)
    flipped: list[str] = field(default_factory=list)  # passed in the baseline, fail now
    fixed: list[str] = field(default_factory=list)
    baseline: str | None = None

    @property
    def failed(self) -> bool:
        return bool(self.below_threshold or self.regressions)


@dataclass
class RunRecord:
    """One run as saved under runs/: when, from which revision, with which settings, and what came out."""

    created: str
    git_revision: str
    qa_file: str
    answerer: str
    k: int
    settings: dict[str, Any]
    metrics: dict[str, float]
    cases: list[CaseResult]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def load(cls, path: Path) -> "RunRecord":
        data = json.loads(Path(path).read_text())
        return cls(**{**data, "cases": [CaseResult.from_dict(c) for c in data["cases"]]})


def make_record(run: EvalRun, *, qa_file: Path, settings: dict[str, Any], answerer: str, k: int) -> RunRecord:
    return RunRecord(created=datetime.now(timezone.utc).isoformat(timespec="seconds"), git_revision=git_revision(),
                     qa_file=str(qa_file), answerer=answerer, k=k, settings=settings, metrics=run.metrics,
                     cases=run.results)


def save_record(record: RunRecord, runs_dir: Path) -> Path:
    runs_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.fromisoformat(record.created).strftime("%Y%m%d-%H%M%S")
    path = runs_dir / f"{stamp}-{Path(record.qa_file).stem}-{record.answerer}.json"
    n = 1
    while path.exists():  # two runs in one second keep both records
        path = path.with_name(f"{path.stem.rsplit('~', 1)[0]}~{n}.json")
        n += 1
    path.write_text(json.dumps(record.to_dict(), indent=2, ensure_ascii=False))
    return path


def latest_record(runs_dir: Path, qa_file: Path, exclude: Path | None = None) -> Path | None:
    """The newest saved run over the same regression set, if any."""
    if not runs_dir.is_dir():
        return None
    stem = Path(qa_file).stem
    candidates = sorted(p for p in runs_dir.glob(f"*-{stem}-*.json") if p != exclude)
    return candidates[-1] if candidates else None


def assess(record: RunRecord, thresholds: dict[str, float], baseline: RunRecord | None,
           tolerance: float, baseline_name: str | None = None) -> Verdict:
    verdict = Verdict(baseline=baseline_name)
    metrics = record.metrics
    for name, bar in thresholds.items():
        value = metrics.get(name)
        if value is None:
            continue
        if (DIRECTION.get(name, +1) > 0 and value < bar) or (DIRECTION.get(name, +1) < 0 and value > bar):
            verdict.below_threshold[name] = (value, bar)
    before = baseline.metrics if baseline else {}
    for name in metrics:
        if isinstance(metrics[name], (int, float)) and name not in ("cases", "answerable", "unanswerable"):
            verdict.deltas[name] = (metrics[name], before.get(name))
    for name in GATED:
        if name in metrics and name in before and DIRECTION[name] * (metrics[name] - before[name]) < -tolerance:
            verdict.regressions[name] = (metrics[name], before[name])
    if baseline:
        was = {c.id: c.passed for c in baseline.cases}
        now = {c.id: c.passed for c in record.cases}
        verdict.flipped = sorted(i for i in now if was.get(i) is True and not now[i])
        verdict.fixed = sorted(i for i in now if was.get(i) is False and now[i])
    return verdict


def markdown_report(record: RunRecord, verdict: Verdict) -> str:
    lines = [f"# Regression run: {Path(record.qa_file).name}", "",
             f"{record.created} · git `{record.git_revision}` · answerer `{record.answerer}` · k={record.k}"
             + (f" · baseline `{verdict.baseline}`" if verdict.baseline else ""), "",
             f"**{'FAILED' if verdict.failed else 'PASSED'}**", "",
             "| metric | value | baseline | delta |", "|---|---|---|---|"]
    for name, (now, before) in verdict.deltas.items():
        delta = f"{now - before:+.3f}" if before is not None else ""
        flag = " ⚠" if name in verdict.regressions or name in verdict.below_threshold else ""
        lines.append(f"| {name}{flag} | {now:.3f} | {'' if before is None else f'{before:.3f}'} | {delta} |")
    for title, items in (("Below threshold", [f"{m}: {v:.3f} (bar {b})" for m, (v, b) in verdict.below_threshold.items()]),
                         ("Regressed beyond tolerance", [f"{m}: {n:.3f} (was {b:.3f})" for m, (n, b) in verdict.regressions.items()]),
                         ("Flipped from pass to fail", verdict.flipped), ("Fixed", verdict.fixed)):
        if items:
            lines += ["", f"## {title}", ""] + [f"- {item}" for item in items]
    failed = [c for c in record.cases if not c.passed]
    if failed:
        lines += ["", "## Failed cases", ""]
        for c in failed:
            lines += [f"### {c.id}", "", f"- question: {c.question}",
                      f"- answerable: {c.answerable}; abstained: {c.abstained}"
                      + (f" ({c.abstain_reason})" if c.abstain_reason else ""),
                      f"- key facts found: {c.key_facts_found}", f"- answer: {c.answer}"]
            lines += [f"  - [{x['n']}] {x['source']}: “{x['quote']}”" for x in c.citations]
            lines.append("")
    return "\n".join(lines) + "\n"


def git_revision() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              check=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
