"""`make bench-scale`: an index of >= 100,000 chunks built from the BBC corpus, and what it costs.

The archive is the BBC corpus copied `--copies` times, each copy's articles under their own folder
with a first line naming the copy, so every article is distinct to the index (its own hash, ids and
first chunk) while its sentences repeat. The model's cost per text is measured on the real text: every
distinct sentence is embedded once and its vector CACHED ON DISK BETWEEN RUNS (`--vector-cache`), so a
rerun pays for Chroma, BM25 and the answerer, not the model again. It measures: build time, on-disk
size, peak RSS, warm ask() and retrieval-only latency over >= 200 questions, a no-change re-ingest,
and adding, changing and deleting one article.

    python -m benchmarks.scale [--copies 15] [--work DIR] [--keep]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.corpus import BBC_DOCS, BBC_QA, peak_rss_mb
from rag.models.embedder import Embedder

MIN_QUESTIONS = 200


class CachedEmbedder(Embedder):
    """The real embedder behind a disk cache keyed by the text's hash (a benchmark device, see above)."""

    def __init__(self, cache_file: Path, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cache_file = cache_file
        self.vectors: dict[bytes, np.ndarray] = {}
        if cache_file.exists():
            data = np.load(cache_file)
            self.vectors = dict(zip((bytes(k) for k in data["keys"]), data["vectors"]))
        self.embedded = 0

    def embed(self, texts: list[str]) -> np.ndarray:
        keys = [hashlib.sha1(t.encode()).digest() for t in texts]
        missing = list(dict.fromkeys(i for i, k in enumerate(keys) if k not in self.vectors))
        if missing:
            fresh = super().embed([texts[i] for i in missing])
            self.embedded += len(missing)
            for i, vector in zip(missing, fresh):
                self.vectors[keys[i]] = vector
        return np.stack([self.vectors[k] for k in keys]) if keys else super().embed([])

    def save(self) -> None:
        keys = list(self.vectors)
        self.cache_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.cache_file.with_suffix(".tmp.npz")
        np.savez(tmp, keys=np.array(keys, dtype="S20"), vectors=np.stack([self.vectors[k] for k in keys]))
        tmp.replace(self.cache_file)


def write_archive(docs: Path, copies: int, source: Path = BBC_DOCS) -> int:
    files = sorted(source.rglob("*.txt"))
    for copy in range(copies):
        for path in files:
            target = docs / f"copy{copy:02d}" / path.relative_to(source)
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(f"Archive copy {copy}\n\n".encode() + path.read_bytes())
    return copies * len(files)


def _timed(call) -> tuple[Any, float]:
    started = time.perf_counter()
    result = call()
    return result, time.perf_counter() - started


def _percentiles(values: list[float]) -> dict[str, float]:
    values = sorted(values)
    return {"median_ms": statistics.median(values), "p95_ms": values[int(0.95 * (len(values) - 1))], "n": len(values)}


def run(copies: int, work: Path, vector_cache: Path, source: Path = BBC_DOCS) -> dict[str, Any]:
    from rag.engine import RAG
    from rag.evaluation.cases import load_cases

    docs, persist = work / "docs", work / "vectorstore"
    articles = write_archive(docs, copies, source)
    bot = RAG(docs_dir=docs, persist_dir=persist)
    embedder = CachedEmbedder(vector_cache)
    bot._embedder = embedder  # the benchmark's cache; RAG has no public hook for another embedder
    report, build_s = _timed(bot.ingest)
    embedder.save()
    out: dict[str, Any] = {"copies": copies, "articles": articles, "chunks": report.chunks, "build_s": build_s,
                           "texts_embedded_this_run": embedder.embedded, "failed": len(report.failed),
                           "disk_mb": sum(p.stat().st_size for p in persist.rglob("*") if p.is_file()) / 1e6}
    questions = [c.question for c in load_cases(BBC_QA)]
    batch = (questions * (MIN_QUESTIONS // len(questions) + 1))[:max(MIN_QUESTIONS, len(questions))]
    bot.ask(questions[0])
    asks, retrievals = [], []
    for q in batch:
        _, seconds = _timed(lambda: bot.ask(q))
        asks.append(seconds * 1000)
        _, seconds = _timed(lambda: bot.retrieve(q))
        retrievals.append(seconds * 1000)
    out["ask"], out["retrieve"] = _percentiles(asks), _percentiles(retrievals)
    _, out["reingest_no_change_s"] = _timed(bot.ingest)
    new = docs / "added" / "new.txt"
    new.parent.mkdir(exist_ok=True)
    new.write_text("Scale test\n\nThe zebra summit was moved to Oslo on Friday after a vote by delegates.\n")
    _, out["add_one_s"] = _timed(bot.ingest)
    new.write_text(new.read_text() + "\nDelegates said the new venue was cheaper.\n")
    _, out["change_one_s"] = _timed(bot.ingest)
    new.unlink()
    _, out["delete_one_s"] = _timed(bot.ingest)
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def markdown(r: dict[str, Any]) -> str:
    return (
        "## 100,000 chunks (`make bench-scale`)\n\n"
        f"The BBC corpus copied {r['copies']} times: {r['articles']:,} articles, {r['chunks']:,} chunks. Sentence "
        f"vectors are cached on disk between runs (this run embedded {r['texts_embedded_this_run']:,} texts).\n\n"
        "| figure | value | target |\n|---|---|---|\n"
        f"| build (s) | {r['build_s']:.0f} | |\n| on disk (MB) | {r['disk_mb']:.0f} | |\n"
        f"| peak RSS of the process (MB) | {r['peak_rss_mb']:.0f} | ≤ 3,000 |\n"
        f"| warm ask() median / p95 (ms), {r['ask']['n']} questions | {r['ask']['median_ms']:.0f} / "
        f"{r['ask']['p95_ms']:.0f} | median ≤ 150 |\n"
        f"| retrieval only median / p95 (ms) | {r['retrieve']['median_ms']:.0f} / {r['retrieve']['p95_ms']:.0f} | |\n"
        f"| no-change re-ingest (s) | {r['reingest_no_change_s']:.1f} | ≤ 3 |\n"
        f"| add / change / delete one article (s) | {r['add_one_s']:.1f} / {r['change_one_s']:.1f} / "
        f"{r['delete_one_s']:.1f} | |\n")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scale", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=15, help="copies of the BBC corpus (15: about 100,000 chunks)")
    parser.add_argument("--work", type=Path, default=None, help="folder for the archive and index (default: a temp folder)")
    parser.add_argument("--vector-cache", type=Path,
                        default=Path.home() / ".cache" / "rag-news" / "bench-scale-vectors.npz")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--source", type=Path, default=BBC_DOCS, help="corpus to copy (a smaller one for a smoke run)")
    args = parser.parse_args()
    if not args.source.is_dir() or not BBC_QA.exists():
        raise SystemExit(f"bench-scale needs the BBC corpus at {args.source} and its questions at {BBC_QA}")
    work = args.work or Path(tempfile.mkdtemp(prefix="rag-scale-"))
    try:
        result = run(args.copies, work, args.vector_cache, args.source)
    finally:
        if not args.keep and args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result, indent=2))
    print(markdown(result))


if __name__ == "__main__":
    main()
