"""Shared fixtures: one real index of the seed articles per test session (real Chroma, real model).

The tiers: tests/unit (no model, no Chroma; `make test-unit`), tests/integration (real Chroma, the real
model, real HTTP servers), tests/e2e (the Streamlit app through AppTest and Chromium),
tests/regression (the Q&A sets through the public API). Shared helpers are in tests/support.
Across the tiers, `@pytest.mark.slow` marks the soaks, the killed and side-by-side ingest processes and
the browser timings; `make test-fast` (`pytest -m "not slow"`) runs everything else.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .support.helpers import SEEDS

TIERS = ("unit", "integration", "e2e", "regression")


def pytest_collection_modifyitems(items) -> None:
    """Mark each test with its tier (its folder), so `pytest -m unit` selects the fast tier."""
    for item in items:
        tier = next((part for part in item.path.parts if part in TIERS), None)
        if tier is not None:
            item.add_marker(getattr(pytest.mark, tier))


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
