"""`rag` imports without the benchmark's and the fitting's dependencies (the [bench] and [fit] extras), and
without torch (fast: no model, no Chroma)."""

from __future__ import annotations

import subprocess
import sys

from ..support.helpers import ROOT

SCRIPT = """
import sys
class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("scipy", "sklearn", "playwright") or name.startswith("llama_index.embeddings"):
            raise ImportError("blocked: " + name)
sys.meta_path.insert(0, Blocker())
import rag, rag.engine, rag.cli, rag.evaluation.harness, rag.models.embedder
print("torch" in sys.modules)
"""


def test_rag_imports_without_the_benchmark_and_fit_extras_and_without_torch():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "False"
