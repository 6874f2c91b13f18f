"""`python -m benchmarks.readers_beside_ingests --ingests 10 --questions 5000`: 8 threads ask through one
`RAG` while plain `rag ingest` commands run one after another in another process, each after 10 files
were changed, 10 removed and 10 added. Prints questions asked, ingests run and errors (target: 0).

Run, shortened, by tests/integration/test_side_by_side.py; the full run's figure is in RELIABILITY.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import traceback
from collections import Counter
from pathlib import Path

from benchmarks import synthetic

ROOT = Path(__file__).resolve().parent.parent
CHURN = 10  # files changed, removed and added before each ingest


def _cli_ingest(docs: Path, vs: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-m", "rag.cli", "ingest", str(docs), "--persist-dir", str(vs)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"rag ingest failed: {done.stderr[-2000:]}")


def _churn(docs: Path, round_: int, live: list[int], next_id: int) -> int:
    """Change the first CHURN live articles, remove the next CHURN, add CHURN new ones."""
    for i in live[:CHURN]:
        (docs / f"synthetic_{i:06d}.txt").write_text(synthetic.article(i, seed=round_ + 1), encoding="utf-8")
    for i in live[CHURN:2 * CHURN]:
        (docs / f"synthetic_{i:06d}.txt").unlink()
    del live[CHURN:2 * CHURN]
    for i in range(next_id, next_id + CHURN):
        (docs / f"synthetic_{i:06d}.txt").write_text(synthetic.article(i), encoding="utf-8")
        live.append(i)
    live[:] = live[CHURN:] + live[:CHURN]  # the changed ones go last: next round changes others
    return next_id + CHURN


def run(folder: Path, ingests: int, min_questions: int, threads: int = 8, articles: int = 40) -> dict:
    """Ask from `threads` threads until `ingests` CLI ingests ran and at least `min_questions` were asked."""
    from rag import RAG

    docs, vs = folder / "docs", folder / "vs"
    synthetic.write_corpus(docs, articles)
    bot = RAG(docs_dir=docs, persist_dir=vs)
    bot.ingest()
    errors: Counter[str] = Counter()
    asked = [0] * threads
    stop = threading.Event()

    def ask(worker: int) -> None:
        i = worker
        while not stop.is_set():
            try:
                bot.ask(synthetic.question(i % (articles + CHURN * ingests)))
                asked[worker] += 1
            except Exception as exc:  # noqa: BLE001  (every error is what is being counted)
                where = [f.name for f in traceback.extract_tb(exc.__traceback__) if "rag/index/store" in f.filename]
                errors[f"{type(exc).__name__} in {'/'.join(where[:1])}: {str(exc)[:160]}"] += 1
            i += threads

    workers = [threading.Thread(target=ask, args=(w,), daemon=True) for w in range(threads)]
    for w in workers:
        w.start()
    live, next_id, done = list(range(articles)), articles, 0
    try:
        while done < ingests or sum(asked) + sum(errors.values()) < min_questions:
            if done < ingests:
                next_id = _churn(docs, done, live, next_id)
                _cli_ingest(docs, vs)
                done += 1
            else:
                stop.wait(1)
    finally:
        stop.set()
        for w in workers:
            w.join(timeout=120)
    return {"questions": sum(asked) + sum(errors.values()), "ingests": done, "errors": sum(errors.values()),
            "error_kinds": dict(errors.most_common(5))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ingests", type=int, default=10)
    parser.add_argument("--questions", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        result = run(Path(tmp), args.ingests, args.questions)
    for key, value in result.items():
        print(f"{key}: {value}")
    if result["errors"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
