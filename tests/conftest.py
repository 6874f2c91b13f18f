"""Shared fixtures: one real index of the seed articles per test session (real Chroma, real model)."""

from __future__ import annotations

import shutil
import time
import urllib.request
from pathlib import Path

import pytest

from benchmarks.bench_app import free_port  # noqa: F401  (one helper for tests and the app benchmark)

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
REGRESSION_SET = ROOT / "tests" / "regression" / "seed_qa.jsonl"


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory) -> dict[str, Path]:
    """A copy of the seeds and an index of them, built once."""
    from rag import RAG

    root = tmp_path_factory.mktemp("seed_index")
    docs = root / "seeds"
    shutil.copytree(SEEDS, docs)
    RAG(docs_dir=docs, persist_dir=root / "vectorstore").ingest()
    return {"docs": docs, "persist": root / "vectorstore"}


@pytest.fixture(scope="session")
def bot(seed_index):
    from rag import RAG

    return RAG(docs_dir=seed_index["docs"], persist_dir=seed_index["persist"])


@pytest.fixture
def docs_copy(tmp_path) -> Path:
    """A private, writable copy of the seed articles."""
    docs = tmp_path / "docs"
    shutil.copytree(SEEDS, docs)
    return docs


def wait_for_http(url: str, process, log_path: Path, timeout: float = 60) -> None:
    """Return once `url` answers; fail with the server's log if it does not within `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.3)
    process.kill()
    pytest.fail(f"server at {url} did not start: {log_path.read_text()[-2000:]}")
