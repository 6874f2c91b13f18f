"""The ONNX embedding path gives the reference model's vectors, and a question never imports torch."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from rag.models.embedder import CHECK_FILE, MIN_COSINE, Embedder, exported_model, reference_cosines

from ..support.helpers import ROOT, SEEDS


@pytest.fixture(scope="module")
def export():
    return exported_model()  # the default cache: made once per machine, reused by every later run


def test_the_export_was_verified_against_the_reference_model(export):
    check = json.loads((export / CHECK_FILE).read_text())
    assert check["min_cosine"] >= MIN_COSINE and check["max_seq_length"] == 256


def test_onnx_vectors_match_sentence_transformers_on_real_articles(export):
    # Every sentence-like line of the seed articles, plus one text far over the 256-word-piece limit.
    lines = [line.strip() for path in sorted(SEEDS.glob("*.txt")) for line in path.read_text().splitlines()
             if len(line.strip()) > 20][:80]
    texts = tuple(lines) + (" ".join(lines),)
    cosines = reference_cosines(export, texts=texts)
    assert cosines.min() >= MIN_COSINE, cosines.min()


def test_query_and_batch_paths_agree_and_are_normalized(export):
    embedder = Embedder()
    texts = ["The harbour reopened on Monday.", "Why did China refuse the Austin meeting?", "ok"]
    batch = embedder.embed(texts)
    single = np.stack([embedder.embed_query(t) for t in texts])
    assert batch.dtype == np.float32 and batch.shape == (3, 384)
    assert np.allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)
    assert np.allclose(batch, single, atol=1e-5), "padding in a batch must not change a vector"


def test_embedding_a_question_does_not_import_torch(export):
    script = ("import sys\nfrom rag.models.embedder import Embedder\nEmbedder().embed_query('Who won?')\n"
              "print(sorted(m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True, timeout=120)
    assert out.stdout.strip() == "[]"


def test_a_second_process_reuses_the_export_and_a_lost_race_is_harmless(tmp_path, export):
    import shutil

    # A finished export already in place: a process that exported too renames into an existing folder,
    # which fails; it must then use the one in place, and leave no temporary folder behind.
    cache = tmp_path / "cache"
    shutil.copytree(export, cache / export.name)
    assert exported_model(cache) == cache / export.name
    assert [p.name for p in cache.iterdir()] == [export.name]
