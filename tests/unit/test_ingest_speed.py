"""Chunk vectors derived from sentence vectors, and the ingest progress line (fast: no model, no Chroma)."""

from __future__ import annotations

import numpy as np

from rag.ingest.pipeline import _Prepared, _Rate, chunk_vectors
from rag.schema import Article, Chunk, Sentence


def _prepared() -> _Prepared:
    text = "Short one. A much longer second sentence here. Third."
    spans = [(0, 10), (11, 46), (47, 53)]
    chunks = [Chunk(id="a#0", article_id="a", index=0, start=0, end=46, text=text[:46],
                    sentences=[Sentence(start=s, end=e) for s, e in spans[:2]]),
              Chunk(id="a#1", article_id="a", index=1, start=11, end=53, text=text[11:],
                    sentences=[Sentence(start=s, end=e) for s, e in spans[1:]])]
    return _Prepared(Article(id="a", source="a", text=text), "digest", chunks, spans)


def test_a_chunk_vector_is_the_length_weighted_mean_of_its_sentences_normalized():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(3, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    got = chunk_vectors(_prepared(), vectors)
    expected = 10 * vectors[0] + 35 * vectors[1]
    assert got.shape == (2, 384) and got.dtype == np.float32
    assert np.allclose(got[0], expected / np.linalg.norm(expected), atol=1e-6)
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-6)
    # The longer sentence weighs more: chunk 1 leans toward sentence 1, not the short sentence 2.
    assert got[1] @ vectors[1] > got[1] @ vectors[2]


def test_the_progress_line_gives_rates_and_time_left_once_something_is_written():
    rate = _Rate(files=100)
    assert rate.status(0) == ""
    rate.started -= 10  # ten seconds ago
    rate.written(20, 60)
    status = rate.status(20)
    assert "2.0 articles/s" in status and "6 chunks/s" in status and "0:40 left" in status
