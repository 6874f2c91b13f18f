"""`RAG`: the one object the UI, the CLI, the regression runner and Python users share.

A facade: the index's storage and lifecycle are `store.Store`'s, retrieval is `retrieve.HybridRetriever`
(a llama-index retriever), answering is an answerer from the `answerers` registry, and the llama-index
query and chat engines are in `llama.py`. `RAG` wires them to one index state and times the stages.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llama_index.core.schema import QueryBundle
from llama_index.core.vector_stores import FilterCondition, MetadataFilters

from rag.answering.extractive import refusal_text
from rag.answering.registry import Answerer, AnswererContext, Answerers, stream_answer
from rag.environment import offline
from rag.errors import InvalidQuestionError, LLMUnavailable, NotIngestedError
from rag.index.keyword import KeywordIndex
from rag.index.store import Store, sentence_id
from rag.ingest.pipeline import Progress, ingest
from rag.models.embedder import Embedder
from rag.models.openai_client import ModelClient
from rag.retrieval.filters import ArticleFilterIndex, metadata_filters
from rag.retrieval.retriever import HybridRetriever, to_passages
from rag.schema import Answer, Article, IngestReport, Passage
from rag.settings import Settings, load_settings
from rag.text import TERMS_VERSION

if TYPE_CHECKING:
    from rag.chat.conversation import Chat
    from rag.integrations.llama_index import RAGChatEngine, RAGQueryEngine

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# Draft fields copied onto the Answer when the answerer fills them.


def check_question(question: object, max_chars: int) -> str:
    """The question with control characters removed; InvalidQuestionError when it cannot be asked."""
    if not isinstance(question, str):
        raise InvalidQuestionError(f"The question must be text, not {type(question).__name__}.")
    cleaned = _CONTROL.sub(" ", question).strip()
    if not cleaned:
        raise InvalidQuestionError("The question is empty.", "Type a question about the articles.")
    if len(cleaned) > max_chars:
        raise InvalidQuestionError(f"The question is {len(cleaned):,} characters long; the limit is {max_chars:,}.",
                                   "Ask a shorter question (or raise RAG_MAX_QUESTION_CHARS).")
    if not any(ch.isalnum() for ch in cleaned):
        raise InvalidQuestionError("The question has no words in it.", "Type a question about the articles.")
    return cleaned


@dataclass(frozen=True)
class _Corpus:
    """Everything derived from one state of the index; replaced whole after an ingest."""

    articles: dict[str, dict[str, Any]]
    keyword: KeywordIndex
    filter_index: ArticleFilterIndex
    answerers: Answerers


class RAG:
    """Question answering over a folder of articles, with citations.

    >>> bot = RAG()                      # docs_dir="seeds", persist_dir="vectorstore"
    >>> bot.ingest()                     # idempotent
    >>> bot.ask("Why did China refuse the Austin meeting?").text
    """

    def __init__(self, settings: Settings | None = None, **overrides: Any) -> None:
        offline()
        self.settings = load_settings(settings, **overrides)
        self._store = Store(self.settings)
        self._embedder = Embedder(self.settings.embed_batch_size, self.settings.model_cache_dir)
        self._corpus: _Corpus | None = None
        self._corpus_lock = threading.Lock()

    # --- ingest ---------------------------------------------------------------------------------

    def ingest(self, docs_dir: str | Path | None = None, *, rebuild: bool = False,
               progress: Progress | None = None) -> IngestReport:
        """Add, update and remove articles so the index matches the docs folder. Safe to repeat."""
        if docs_dir is not None:
            self.settings = self.settings.model_copy(update={"docs_dir": Path(docs_dir)})
            self._store.settings = self.settings
        with self._store.write_lock():
            if rebuild:
                self._corpus = None
                self._store.wipe()
            report = ingest(self.settings, self._store, self._embedder, progress)
            self._corpus = None
            self._load_corpus()
            self._store.bump_generation()  # other processes reading this index reload it (Store.is_stale)
        return report

    # --- the corpus (keyword index, filters, answerers), loaded once per index state -----------

    def _load_corpus(self) -> _Corpus:
        corpus = self._corpus
        if corpus is not None and self._store.is_stale():  # another process ingested: reload (Store.is_stale)
            with self._corpus_lock:
                if self._store.is_stale():
                    self._store, self._corpus = self._store.reopened(), None
            corpus = self._corpus
        if corpus is not None:
            return corpus
        with self._corpus_lock:
            if self._corpus is None:
                self._corpus = self._build_corpus()
            return self._corpus

    def _build_corpus(self) -> _Corpus:
        articles = self._store.article_records()
        if not articles:
            self._store.raise_if_disk_full("Opening the index")  # a first ingest that ran out of space says so
            raise NotIngestedError(f"No articles are indexed in {self._where()}.",
                                   "Run `rag ingest` (or RAG(...).ingest()) first.")
        fingerprint = hashlib.sha256(f"terms={TERMS_VERSION}\n".encode() + "\n".join(
            f"{a}\t{m.get('hash')}" for a, m in sorted(articles.items())).encode()).hexdigest()
        folder = self._store.keyword_dir
        keyword = KeywordIndex.load(folder, fingerprint)
        if keyword is None:
            ids, texts, metas = self._store.all_chunks()
            keyword = KeywordIndex.build(ids, texts, metas, fingerprint)
            keyword.save(folder)
        return _Corpus(articles=articles, keyword=keyword,
                       filter_index=ArticleFilterIndex(articles, keyword.chunk_article_ids),
                       answerers=Answerers(AnswererContext(self.settings, keyword, self.model)))

    def _where(self) -> str:
        if self.settings.chroma_host:
            return f"the Chroma server at {self.settings.chroma_host}:{self.settings.chroma_port}"
        return repr(str(self.settings.persist_dir))

    # --- the model and the answerers -------------------------------------------------------------

    @cached_property
    def model(self) -> ModelClient | None:
        """The configured model (OpenAI or a compatible server), whichever answerer is in effect; None
        when none is configured."""
        s = self.settings
        return ModelClient(s) if (s.openai_api_key or s.openai_base_url or s.answerer == "openai") else None

    def answerer(self, name: str | None = None) -> Answerer:
        """The answerer called `name` ("extractive", "openai", "lead"; see answerers.py); None: the one
        the settings choose. `.name` says which it is."""
        return self._load_corpus().answerers.get(name)

    # --- retrieving -------------------------------------------------------------------------------

    def check_question(self, question: object) -> str:
        return check_question(question, self.settings.max_question_chars)

    def as_retriever(self, filters: MetadataFilters | None = None, *, top_k: int | None = None) -> HybridRetriever:
        """The hybrid retriever as a llama-index `BaseRetriever`: `.retrieve(question)` -> `NodeWithScore`s,
        best first, restricted by `filters` (llama-index `MetadataFilters` over the article fields in
        `rag.retrieval.filters.FILTER_KEYS`)."""
        corpus = self._load_corpus()
        s = self.settings
        return HybridRetriever(self._store, corpus.keyword, corpus.filter_index, self._embedder.embed_query,
                               top_k=top_k or s.top_k, candidate_k=s.candidate_k, fusion=s.fusion, filters=filters)

    def retrieve(self, question: str, *, top_k: int | None = None, filters: MetadataFilters | None = None,
                 sources: list[str] | None = None, date_from: date | str | None = None,
                 date_to: date | str | None = None, include_undated: bool = True) -> list[Passage]:
        """The passages retrieval finds for `question`, best first (no answering)."""
        question = self.check_question(question)
        retriever = self.as_retriever(_combine(filters, sources, date_from, date_to, include_undated), top_k=top_k)
        return to_passages(retriever.retrieve(question))

    # --- asking -----------------------------------------------------------------------------------

    def ask(self, question: str, *, top_k: int | None = None, filters: MetadataFilters | None = None,
            sources: list[str] | None = None, date_from: date | str | None = None, date_to: date | str | None = None,
            include_undated: bool = True, standalone_question: str | None = None,
            answerer: str | None = None) -> Answer:
        """Answer `question` from the articles, citing each sentence; abstain when they don't say.

        Restrict the articles with `filters` (llama-index `MetadataFilters`) and/or the shortcuts
        `sources` (file names or paths) and `date_from` / `date_to` (YYYY-MM-DD; undated articles are
        kept unless `include_undated=False`). `answerer` ("extractive", "openai", "lead") overrides
        the setting for this call.
        """
        *_, answer = self._answer(question, top_k, _combine(filters, sources, date_from, date_to, include_undated),
                                  standalone_question, answerer, streaming=False)
        return answer

    def stream(self, question: str, *, top_k: int | None = None, filters: MetadataFilters | None = None,
               sources: list[str] | None = None, date_from: date | str | None = None,
               date_to: date | str | None = None, include_undated: bool = True,
               standalone_question: str | None = None, answerer: str | None = None) -> Iterator[str | Answer]:
        """Yield the answer's text as it is produced, then the final, checked `Answer`.

        With a model, a piece is a sentence of its answer once the sentence has passed the citation
        check (a cited passage supports it), so no unchecked model text is ever yielded; if the model
        fails midway, "\n\n" and the offline answer follow. A UI shows the final `answer.text` once
        the Answer arrives.
        """
        yield from self._answer(question, top_k, _combine(filters, sources, date_from, date_to, include_undated),
                                standalone_question, answerer, streaming=True)

    def _answer(self, question, top_k, filters: MetadataFilters | None, standalone_question, answerer_name,
                streaming: bool) -> Iterator[str | Answer]:
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        question = self.check_question(question)
        query = self.check_question(standalone_question) if standalone_question else question
        corpus = self._load_corpus()
        chosen = corpus.answerers.get(answerer_name)
        t = time.perf_counter()
        embedding = self._embedder.embed_query(query)
        timings["embed_ms"] = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        retriever = self.as_retriever(filters, top_k=top_k)
        passages = to_passages(retriever.retrieve(QueryBundle(query_str=query, embedding=embedding.tolist())))
        timings["retrieve_ms"] = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        answer = Answer(question=question, text="", standalone_question=standalone_question, passages=passages,
                        scope=_scope(corpus, filters))
        try:
            draft = yield from self._draft(chosen, query, embedding, passages, streaming)
        except LLMUnavailable as exc:
            answer.fallback_reason = f"{exc.message} Answered offline from the articles instead."
            if streaming:
                yield "\n\n"  # the offline answer follows whatever the model had sent
            chosen = corpus.answerers.offline
            draft = yield from self._draft(chosen, query, embedding, passages, streaming)
        timings["answer_ms"] = (time.perf_counter() - t) * 1000
        timings["total_ms"] = (time.perf_counter() - t0) * 1000
        answer.text, answer.citations, answer.abstained = draft.text, draft.citations, draft.abstained
        answer.answerer, answer.abstain_reason = chosen.name, draft.reason
        answer.citation_check = getattr(draft, "citation_check", None)
        answer.form, answer.direct_answer, answer.direct_citation = draft.form, draft.direct_answer, draft.direct_citation
        answer.confidence = round(float(draft.confidence), 4)
        if answer.abstained:
            answer.form, answer.text = "refusal", refusal_text(answer.scope)
        answer.timings = timings
        yield answer

    def _draft(self, answerer: Answerer, query: str, embedding, passages: list[Passage], streaming: bool):
        """Run the answerer (yielding text pieces when streaming); returns its Draft."""
        sentence_embeddings = {}
        if getattr(answerer, "uses_sentence_embeddings", True):
            ids = list(dict.fromkeys(sentence_id(p.article_id, s.start) for p in passages for s in p.sentences))
            sentence_embeddings = self._store.sentence_embeddings(ids)
        if not streaming:
            return answerer.answer(query, embedding, passages, sentence_embeddings)
        for event in stream_answer(answerer, query, embedding, passages, sentence_embeddings):
            if isinstance(event, str):
                yield event
            else:
                return event
        raise AssertionError(f"the {answerer.name} answerer's stream ended without a Draft")

    # --- llama-index engines ----------------------------------------------------------------------

    def as_query_engine(self, filters: MetadataFilters | None = None, *, top_k: int | None = None,
                        answerer: str | None = None) -> "RAGQueryEngine":
        """A llama-index query engine: `.query(q)` -> `Response` (text, cited quotes as `source_nodes`,
        `metadata` with abstained, citations, form, direct_answer)."""
        from rag.integrations.llama_index import RAGQueryEngine

        return RAGQueryEngine(bot=self, filters=filters, top_k=top_k, answerer=answerer)

    def as_chat_engine(self, filters: MetadataFilters | None = None, *, top_k: int | None = None,
                       answerer: str | None = None) -> "RAGChatEngine":
        """A llama-index chat engine over `chat()`: follow-ups are rewritten into standalone questions."""
        from rag.integrations.llama_index import RAGChatEngine

        return RAGChatEngine(self, filters=filters, top_k=top_k, answerer=answerer)

    def warm_up(self) -> None:
        """Load the index and the embedding model now, so the first question is answered quickly."""
        self._load_corpus()
        self._embedder.embed_query("warm up")

    def chat(self, answerer: str | None = None) -> "Chat":
        from rag.chat.conversation import Chat

        return Chat(self, answerer)

    # --- the library ------------------------------------------------------------------------------

    def articles(self) -> list[dict[str, Any]]:
        """Indexed articles with their metadata and chunk counts, by file name."""
        return [{"id": a} | m for a, m in sorted(self._store.article_records().items())]

    def add_document(self, filename: str, data: bytes, *, overwrite: bool = False) -> Path:
        """Save an uploaded file into the docs folder (type allowlist, size cap); ingest() indexes it.
        An article of the same name is replaced only with overwrite=True (else a DocumentError)."""
        from rag.ingest.library import save_document

        return save_document(Path(self.settings.docs_dir), filename, data, self.settings.max_file_mb * 1_000_000,
                             overwrite=overwrite)

    def remove_document(self, article_id: str) -> None:
        """Delete an article's file from the docs folder; ingest() then drops it from the index."""
        from rag.ingest.library import remove_document

        remove_document(Path(self.settings.docs_dir), article_id)

    def article(self, article_id: str) -> Article | None:
        """One indexed article, with its cleaned text (what citation offsets point into)."""
        meta = self._store.article_records().get(article_id)
        text = self._store.article_text(article_id)
        if meta is None or text is None:
            return None
        return Article(id=article_id, source=meta.get("source", article_id), title=meta.get("title") or None,
                       publisher=meta.get("publisher") or None, date=meta.get("date") or None,
                       author=meta.get("author") or None, text=text)


def _combine(filters: MetadataFilters | None, sources: list[str] | None, date_from: date | str | None,
             date_to: date | str | None, include_undated: bool) -> MetadataFilters | None:
    """The one place the keyword shortcuts become `MetadataFilters` (ANDed with the caller's own)."""
    shortcuts = metadata_filters(sources, date_from, date_to, include_undated=include_undated)
    if filters is None or not filters.filters:
        return shortcuts
    if shortcuts is None:
        return filters
    return MetadataFilters(filters=[filters, shortcuts], condition=FilterCondition.AND)


def _scope(corpus: _Corpus, filters: MetadataFilters | None) -> str:
    """What was searched, in words (refusals name it)."""
    total = len(corpus.articles)
    everything = f"the {total} indexed article{'s' if total != 1 else ''}"
    if filters is None or not filters.filters:
        return everything
    matching = int(corpus.filter_index.article_mask(filters).sum())
    return f"the {matching} of {everything} that match the filters"
