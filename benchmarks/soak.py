"""`python -m benchmarks.soak N`: ask N questions in one process; report memory growth and latency drift.

Used by `make soak` (5,000 questions) and, shortened, by the test suite.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def soak(bot, questions: list[str], total: int, warmup: int = 100) -> dict[str, float]:
    latencies: list[float] = []
    rss_after_warmup = 0.0
    for i in range(total):
        t = time.perf_counter()
        bot.ask(questions[i % len(questions)])
        latencies.append((time.perf_counter() - t) * 1000)
        if i + 1 == warmup:
            rss_after_warmup = rss_mb()
    rss_end = rss_mb()
    window = max(1, min(warmup, (total - warmup) // 2))
    early, late = latencies[warmup:warmup + window], latencies[-window:]
    return {
        "questions": total, "rss_mb_after_warmup": round(rss_after_warmup, 1), "rss_mb_end": round(rss_end, 1),
        "rss_growth": round((rss_end - rss_after_warmup) / rss_after_warmup, 4) if rss_after_warmup else 0.0,
        "latency_ms_median_early": round(statistics.median(early), 2),
        "latency_ms_median_late": round(statistics.median(late), 2),
    }


def main() -> None:
    from rag.engine import RAG
    from rag.evaluation.cases import load_cases

    total = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    questions = [c.question for c in load_cases(Path(__file__).resolve().parent.parent / "tests" / "regression"
                                                / "seed_qa.jsonl")]
    result = soak(RAG(), questions, total)
    for key, value in result.items():
        print(f"{key}: {value}")
    if result["rss_growth"] >= 0.05:
        sys.exit(f"memory grew {result['rss_growth']:.1%} after warm-up (limit 5%)")


if __name__ == "__main__":
    main()
