"""Split an article into sentence-aligned chunks sized in tokens, keeping exact character offsets.

llama-index's SentenceSplitter sizes chunks well but rewrites whitespace and keeps no sentence
spans; a citation must quote an exact span of the article, so chunks here are packed from sentence
spans (found with NLTK's Punkt model, bundled with llama-index-core) and sliced from the text.
"""

from __future__ import annotations

import re
from functools import lru_cache

from .environment import NLTK_CACHE
from .schema import Article, Chunk, Sentence
from .tokens import count_tokens


@lru_cache(maxsize=1)
def _punkt():
    import nltk

    if str(NLTK_CACHE) not in nltk.data.path:
        nltk.data.path.insert(0, str(NLTK_CACHE))
    from nltk.tokenize import PunktTokenizer

    return PunktTokenizer("english")


_PARAGRAPH = re.compile(r"[^\n]+")


def sentence_spans(text: str) -> list[Sentence]:
    """Sentences of `text` as spans; a line break always ends a sentence (headings, list items)."""
    punkt = _punkt()
    spans: list[Sentence] = []
    for para in _PARAGRAPH.finditer(text):
        for start, end in punkt.span_tokenize(para.group()):
            spans.append(Sentence(start=para.start() + start, end=para.start() + end))
    return spans


def split_article(article: Article, chunk_tokens: int, overlap_tokens: int) -> list[Chunk]:
    sentences = sentence_spans(article.text)
    sizes = [count_tokens(article.text[s.start:s.end]) for s in sentences]
    chunks: list[Chunk] = []
    first = 0
    while first < len(sentences):
        last, total = first, sizes[first]
        while last + 1 < len(sentences) and total + sizes[last + 1] <= chunk_tokens:
            last += 1
            total += sizes[last]
        members = sentences[first:last + 1]
        start, end = members[0].start, members[-1].end
        chunks.append(Chunk(
            id=f"{article.id}#{len(chunks)}", article_id=article.id, index=len(chunks),
            start=start, end=end, text=article.text[start:end], sentences=members,
        ))
        if last + 1 >= len(sentences):
            break
        # The next chunk repeats the last sentences of this one, up to the overlap budget,
        # but always moves forward by at least one sentence.
        nxt, carried = last + 1, 0
        while nxt - 1 > first and carried + sizes[nxt - 1] <= overlap_tokens:
            nxt -= 1
            carried += sizes[nxt]
        first = nxt
    return chunks
