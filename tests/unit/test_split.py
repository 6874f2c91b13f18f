"""Splitting: chunks are exact slices of the cleaned text, sentence-aligned and sized in tokens."""

import pytest

from rag.ingest.clean import clean_document
from rag.ingest.load import parse_document
from rag.ingest.split import sentence_spans, split_article
from rag.ingest.tokens import count_tokens

from ..support.helpers import SEEDS as SEED_DIR

SEEDS = sorted(SEED_DIR.glob("*.txt"))

@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.name[:3])
def test_chunks_are_exact_slices_with_sentence_spans(path):
    article = clean_document(parse_document(path, path.read_bytes()), path.name, str(path))
    chunks = split_article(article, chunk_tokens=120, overlap_tokens=30)
    assert chunks, "every seed article yields chunks"
    covered = set()
    for i, chunk in enumerate(chunks):
        assert chunk.id == f"{path.name}#{i}"
        assert article.text[chunk.start:chunk.end] == chunk.text
        assert chunk.sentences[0].start == chunk.start and chunk.sentences[-1].end == chunk.end
        if len(chunk.sentences) > 1:  # a single over-long sentence may exceed the budget
            assert count_tokens(chunk.text) <= 120 + 5 * len(chunk.sentences)  # joins add a token or so
        covered.update((s.start, s.end) for s in chunk.sentences)
    assert covered == {(s.start, s.end) for s in sentence_spans(article.text)}, "no sentence lost"

def test_abbreviations_do_not_end_sentences():
    text = "Mr. Li met U.S. officials on May 31. He will give a speech, Xinhua said."
    spans = sentence_spans(text)
    assert [text[s.start:s.end] for s in spans] == [
        "Mr. Li met U.S. officials on May 31.", "He will give a speech, Xinhua said."]

def test_overlap_repeats_the_previous_sentence():
    from rag.schema import Article

    text = " ".join(f"Sentence number {i} is here with a few more words." for i in range(40))
    chunks = split_article(Article(id="a", source="a", text=text), chunk_tokens=60, overlap_tokens=15)
    assert len(chunks) > 3
    for prev, nxt in zip(chunks, chunks[1:]):
        assert nxt.start < prev.end, "neighbouring chunks overlap"
        assert nxt.start > prev.start, "and always move forward"
