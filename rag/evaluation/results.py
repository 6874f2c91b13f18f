"""What a regression run produces: one typed result per case, and the run (its metrics and results).

Records on disk (`runs/*.json`, see rag.evaluation.runs) hold these as JSON; `from_dict` reads them
back, older records included (fields they lack take their defaults).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass
class CaseResult:
    """One case asked and scored. Fields after `passed` are only filled for answerable cases."""

    id: str
    question: str
    answerable: bool
    answer: str
    abstained: bool
    passed: bool
    abstain_reason: str | None = None
    confidence: float | None = None
    form: str | None = None
    latency_ms: float = 0.0
    answerer: str | None = None
    fallback_reason: str | None = None
    citation_check: dict[str, Any] | None = None  # model answers: what the citation check kept and removed
    citations: list[dict[str, Any]] = field(default_factory=list)  # n, source, quote, start, end, score
    key_facts_found: list[bool] | None = None  # one per key-fact group
    key_facts_ok: bool | None = None  # None: the case has no key facts (imported sets)
    citations_correct: int = 0
    citations_total: int = 0
    sentences_cited: int = 0
    sentences_total: int = 0
    markers: int = 0
    first_relevant_rank: int | None = None  # 1-based rank of the first relevant passage; None: none retrieved
    retrieval: dict[str, float] = field(default_factory=dict)  # hit_rate@k and mrr@k of this question
    judge_correctness: float | None = None  # `rag eval --judge` only: 1-5 against the reference answer
    judge_faithful: bool | None = None  # `rag eval --judge` only: supported by its quotes

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "CaseResult":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class EvalRun:
    """The metrics of a run (name -> value, see rag.evaluation.metrics) and its results, in case order."""

    metrics: dict[str, float]
    results: list[CaseResult]

    @property
    def failed(self) -> list[CaseResult]:
        return [r for r in self.results if not r.passed]
