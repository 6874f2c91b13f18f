"""Ingest N tiny files (one sentence each) into a fresh index and report files per second.

    python -m benchmarks.tiny_files 5000
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from rag import RAG


def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        docs = Path(tmp) / "docs"
        docs.mkdir()
        for i in range(count):
            (docs / f"note_{i:05d}.txt").write_text(f"Note {i}\n\nThe tiny note number {i} says the sky was clear over town {i}.\n")
        bot = RAG(docs_dir=docs, persist_dir=Path(tmp) / "vs")
        bot._embedder.embed(["warm up"])  # the model's load is not the ingest's
        started = time.perf_counter()
        report = bot.ingest()
        seconds = time.perf_counter() - started
        print(f"{count} tiny files: {seconds:.1f} s, {count / seconds:.1f} files/s ({report.summary()})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)
