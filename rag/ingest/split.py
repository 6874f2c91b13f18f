"""Split an article into sentence-aligned chunks sized in tokens, keeping exact character offsets.

llama-index's SentenceSplitter sizes chunks well but rewrites whitespace and keeps no sentence
spans; a citation must quote an exact span of the article, so chunks here are packed from sentence
spans (found with NLTK's Punkt model, bundled with llama-index-core) and sliced from the text.
"""

from __future__ import annotations

import re
from functools import lru_cache

from rag.environment import NLTK_CACHE
from rag.index import ids
from rag.ingest.tokens import count_tokens, encoding as token_encoding
from rag.schema import Article, Chunk, Sentence


@lru_cache(maxsize=1)
def _punkt():
    import nltk

    if str(NLTK_CACHE) not in nltk.data.path:
        nltk.data.path.insert(0, str(NLTK_CACHE))
    from nltk.tokenize import PunktTokenizer

    return PunktTokenizer("english")


_PARAGRAPH = re.compile(r"[^\n]+")
_SPACE = re.compile(r"\s")


def sentence_spans(text: str) -> list[Sentence]:
    """Sentences of `text` as spans; a line break always ends a sentence (headings, list items)."""
    punkt = _punkt()
    spans: list[Sentence] = []
    for para in _PARAGRAPH.finditer(text):
        for start, end in punkt.span_tokenize(para.group()):
            spans.append(Sentence(start=para.start() + start, end=para.start() + end))
    return spans


def bounded_spans(text: str, start: int, end: int, max_tokens: int) -> list[tuple[Sentence, int]]:
    """text[start:end] as consecutive pieces of at most `max_tokens` tokens each, with their sizes.

    A sentence that fits is one piece. A longer one (a 5 MB "sentence" with no full stop) is cut
    window by window, so the tokenizer never sees more than a few thousand characters at once; a
    cut falls on the last space before the limit when there is one."""
    pieces: list[tuple[Sentence, int]] = []
    window = max_tokens * 8  # characters: more than max_tokens tokens of any ordinary text
    encoding = token_encoding()
    pos = start
    while pos < end:
        stop = min(end, pos + window)
        if not _SPACE.search(text, pos, stop):  # one long "word": tiktoken's BPE is quadratic in it
            stop = min(end, pos + max_tokens * 2)
        tokens = encoding.encode(text[pos:stop], disallowed_special=())
        # The first max_tokens tokens, in characters (a character split across tokens is left out).
        cut = pos + len(encoding.decode_bytes(tokens[:max_tokens]).decode("utf-8", "ignore")) \
            if len(tokens) > max_tokens else stop
        if cut < end and (space := text.rfind(" ", pos + (cut - pos) // 2, cut)) > pos:
            cut = space + 1
        cut = max(cut, pos + 1)
        while (size := count_tokens(text[pos:cut].strip())) > max_tokens:  # re-tokenized, a piece may differ
            cut = pos + max(1, (cut - pos) * 9 // 10)
        piece = text[pos:cut]
        lead, trail = len(piece) - len(piece.lstrip()), len(piece) - len(piece.rstrip())
        if cut - trail > pos + lead:
            pieces.append((Sentence(start=pos + lead, end=cut - trail), size))
        pos = cut
    return pieces


def split_article(article: Article, chunk_tokens: int, overlap_tokens: int) -> list[Chunk]:
    """Chunks of whole sentences up to `chunk_tokens`; a longer sentence is cut into bounded pieces."""
    sentences: list[Sentence] = []
    sizes: list[int] = []
    for s in sentence_spans(article.text):
        size = count_tokens(article.text[s.start:s.end]) if s.end - s.start <= chunk_tokens * 8 else chunk_tokens + 1
        if size <= chunk_tokens:
            sentences.append(s)
            sizes.append(size)
            continue
        for piece, piece_size in bounded_spans(article.text, s.start, s.end, chunk_tokens):
            sentences.append(piece)
            sizes.append(piece_size)
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
            id=ids.chunk_id(article.id, len(chunks)), article_id=article.id, index=len(chunks),
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
