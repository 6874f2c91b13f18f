"""Incremental ingest: a file is read, cleaned, split and embedded only when its content changed.

Order of writes per group of articles (see Store.write_articles) makes a killed ingest repairable: the article
record, written last, is the commit mark; the next ingest redoes any article without one and
sweeps chunks whose article has no record.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import DocumentError
from rag.index import ids
from rag.index.folder import INDEX_FORMAT
from rag.index.store import Store
from rag.ingest.clean import CLEANING_VERSION, clean_document
from rag.ingest.load import check_name, list_article_files, parse_document, read_bytes, unicode_name
from rag.ingest.split import split_article
from rag.ingest.tokens import count_tokens
from rag.models.embedder import EMBEDDING_MODEL_NAME, Embedder
from rag.dates import date_int
from rag.schema import Article, Chunk, FileNote, FileProblem, IngestReport
from rag.settings import Settings

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]  # (files done, files total, what is happening now)


def config_fingerprint(settings: Settings) -> str:
    """What besides the file's bytes decides its chunks: a change here re-ingests every file."""
    return (f"format={INDEX_FORMAT};model={EMBEDDING_MODEL_NAME};chunk={settings.chunk_tokens}/"
            f"{settings.chunk_overlap_tokens};chunk_vectors=sentence_mean;cleaning={CLEANING_VERSION}")


def content_hash(data: bytes, settings: Settings) -> str:
    return hashlib.sha256(config_fingerprint(settings).encode() + b"\0" + data).hexdigest()


EMBED_BATCH_SENTENCES = 1024  # articles are embedded together until this many sentences wait


def ingest(settings: Settings, store: Store, embedder: Embedder, progress: Progress | None = None) -> IngestReport:
    started = time.perf_counter()
    docs_dir = Path(settings.docs_dir)
    files = list_article_files(docs_dir)
    report = IngestReport()
    indexed = store.article_records()
    store.repair(indexed)  # what a killed ingest or rebuild left
    seen: set[str] = set()
    pending: list[_Prepared] = []
    done = 0  # files finished: written, unchanged or failed (files wait in `pending` to be embedded together)
    rate = _Rate(len(files))

    def flush() -> None:
        nonlocal done
        if pending and progress:  # embedding is most of an ingest's time: say so, not "reading the last file"
            progress(done, len(files), f"Embedding {len(pending)} new or changed articles{rate.status(done)}")
        _write_batch(pending, store, embedder)
        for item in pending:
            (report.updated if item.article.id in indexed else report.added).append(item.article.id)
        done += len(pending)
        rate.written(len(pending), sum(len(item.chunks) for item in pending))
        pending.clear()

    for path in files:
        article_id = ids.article_id(path, docs_dir)
        seen.add(article_id)
        if progress:
            progress(done, len(files), f"Reading {article_id}{rate.status(done)}")
        try:
            check_name(docs_dir / article_id)
            data = read_bytes(path, settings.max_file_mb * 1_000_000, docs_dir)
            digest = content_hash(data, settings)
            previous = indexed.get(article_id)
            if previous and previous.get("hash") == digest:
                if previous.get("source") != (docs_dir / article_id).as_posix():  # same file, another folder
                    store.set_source(article_id, (docs_dir / article_id).as_posix())
                report.skipped.append(article_id)
                done += 1
                continue
            raw = parse_document(path, data)
            if raw.encoding:
                report.decoded.append(FileNote(file=article_id, note=f"not UTF-8; decoded as {raw.encoding}"))
            article = clean_document(raw, article_id, (docs_dir / article_id).as_posix())
            if not article.text.strip():
                raise DocumentError(f"{article_id} has no article text after cleaning.")
            prepared = _prepare(article, digest, settings)
        except DocumentError as exc:
            # The report carries the skip to the user (the CLI prints it, made safe for the terminal); at
            # WARNING, Python's last-resort handler also wrote it raw to stderr, escape sequences and all.
            log.info("skipped %r: %s", article_id, exc)
            report.failed.append(FileProblem(file=unicode_name(article_id), reason=str(exc)))
            done += 1
            continue
        pending.append(prepared)
        if sum(len(p.spans) for p in pending) >= EMBED_BATCH_SENTENCES:
            flush()
    flush()

    for article_id in sorted(set(indexed) - seen):
        store.delete_article(article_id)
        report.removed.append(article_id)
    if progress:
        progress(len(files), len(files), "")
    report.added.sort()
    report.updated.sort()
    report.chunks = store.chunk_count()
    report.seconds = time.perf_counter() - started
    return report


class _Rate:
    """Articles and chunks written per second, and the time left, for the progress line."""

    def __init__(self, files: int) -> None:
        self.files, self.started = files, time.perf_counter()
        self.articles = self.chunks = 0

    def written(self, articles: int, chunks: int) -> None:
        self.articles += articles
        self.chunks += chunks

    def status(self, done: int) -> str:
        seconds = time.perf_counter() - self.started
        if not self.articles or seconds <= 0:
            return ""
        per_second = self.articles / seconds
        left = (self.files - done) / per_second
        return (f" · {per_second:.1f} articles/s, {self.chunks / seconds:.0f} chunks/s"
                f" · about {int(left // 60)}:{int(left % 60):02d} left")


WRITE_BATCH_ARTICLES = 16  # articles per Chroma write: each write costs tens of ms, a crash redoes at most these


@dataclass
class _Prepared:
    article: Article
    digest: str
    chunks: list[Chunk]
    spans: list[tuple[int, int]]


def _prepare(article: Article, digest: str, settings: Settings) -> _Prepared:
    # Embedding is most of a file's cost and grows with its chunks: the cap bounds one file's time and memory
    # (a 5 MB text file was 7,188 chunks, 342 s and 1.4 GB before it). Splitting megabytes is itself slow
    # (8 s of CPU for 5 MB), so a text clearly over the cap is refused first on a token count of its head:
    # no chunk holds twice chunk_tokens, so twice cap x chunk_tokens tokens make more chunks than the cap.
    cap = settings.max_chunks_per_article
    tokens_over = 2 * cap * settings.chunk_tokens
    # 8 characters a token is more than prose has; a text of longer tokens falls through to the exact count.
    if count_tokens(article.text[:8 * tokens_over]) > tokens_over:
        raise _too_long(article, cap, f"over {tokens_over:,} tokens")
    chunks = split_article(article, settings.chunk_tokens, settings.chunk_overlap_tokens)
    if len(chunks) > cap:
        raise _too_long(article, cap, f"{len(chunks):,} chunks")
    # Each sentence is embedded once, even where chunks overlap; the answerer reads these at question time.
    spans = sorted({(s.start, s.end) for c in chunks for s in c.sentences})
    return _Prepared(article, digest, chunks, spans)


def _too_long(article: Article, cap: int, size: str) -> DocumentError:
    return DocumentError(f"{article.id} is too long for one article ({size}, more than the {cap:,} chunks allowed), "
                         "so it was skipped.", "Split it into several files, or raise RAG_MAX_CHUNKS_PER_ARTICLE.")


def _write_batch(batch: list[_Prepared], store: Store, embedder: Embedder) -> None:
    if not batch:
        return
    # Only sentences are embedded (a sentence text repeated across articles, boilerplate, once); a
    # chunk's vector is derived from its sentences' (see chunk_vectors), which halves ingest's work.
    sentence_texts = [item.article.text[s:e] for item in batch for s, e in item.spans]
    unique = list(dict.fromkeys(sentence_texts))
    unique_vectors = embedder.embed(unique)
    row = {text: i for i, text in enumerate(unique)}
    sentence_vectors = unique_vectors[[row[t] for t in sentence_texts]] if sentence_texts else unique_vectors
    s = 0
    writes = []
    for item in batch:
        vectors = sentence_vectors[s:s + len(item.spans)]
        writes.append(_article_write(item, chunk_vectors(item, vectors), vectors))
        s += len(item.spans)
    for start in range(0, len(writes), WRITE_BATCH_ARTICLES):
        store.write_articles(writes[start:start + WRITE_BATCH_ARTICLES])


def chunk_vectors(item: _Prepared, sentence_vectors: np.ndarray) -> np.ndarray:
    """Each chunk's vector: the mean of its sentences' vectors weighted by their length, normalized.

    Measured on the BBC dev set against embedding each chunk as a whole: see BENCHMARKS.md."""
    index = {span: i for i, span in enumerate(item.spans)}
    out = np.empty((len(item.chunks), sentence_vectors.shape[1]), dtype=np.float32)
    for n, chunk in enumerate(item.chunks):
        rows = [index[(x.start, x.end)] for x in chunk.sentences]
        weights = np.array([x.end - x.start for x in chunk.sentences], dtype=np.float32)
        vector = weights @ sentence_vectors[rows]
        out[n] = vector / max(float(np.linalg.norm(vector)), 1e-12)
    return out


def _article_write(item: _Prepared, chunk_vectors: np.ndarray, sentence_vectors: np.ndarray) -> tuple:
    """What Store.write_articles writes for one article."""
    from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

    article, chunks, spans = item.article, item.chunks, item.spans
    base = _article_meta(article)
    nodes = [
        TextNode(
            id_=chunk.id, text=chunk.text, embedding=vector.tolist(),
            start_char_idx=chunk.start, end_char_idx=chunk.end,
            metadata=base | {"chunk_index": chunk.index, "sentences": _spans_json(chunk)},
            relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=article.id)},
            excluded_embed_metadata_keys=list(base) + ["chunk_index", "sentences"],
            excluded_llm_metadata_keys=list(base) + ["chunk_index", "sentences"],
        )
        for chunk, vector in zip(chunks, chunk_vectors)
    ]
    sentence_ids = [ids.sentence_id(article.id, s) for s, _ in spans]
    sentence_metas = [{"article_id": article.id, "start": s, "end": e} for s, e in spans]
    record = base | {"hash": item.digest, "chunks": len(chunks), "sentences": len(spans),
                     "chars": len(article.text), "ingested_at": time.time()}
    return record, article.text, nodes, sentence_ids, sentence_vectors, sentence_metas


def _article_meta(article: Article) -> dict[str, Any]:
    # Chroma metadata values must be scalars: missing values are "" (and 0 for the filterable date).
    return {
        "article_id": article.id, "source": article.source, "title": article.title or "",
        "publisher": article.publisher or "", "date": article.date or "", "date_int": date_int(article.date),
        "author": article.author or "",
    }


def _spans_json(chunk: Chunk) -> str:
    return json.dumps([[s.start, s.end] for s in chunk.sentences])
