"""`RAG`: the one object the UI, the CLI, the regression runner and Python users share.

A facade: the index's storage and lifecycle are `Store`'s, retrieval is `HybridRetriever` (a
llama-index retriever), answering is an answerer from the registry (rag/answering/registry.py), and
the llama-index query and chat engines are in rag/integrations/llama_index.py. `RAG` wires them to one
`IndexState` and times the stages.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Unpack

from llama_index.core.schema import QueryBundle
from llama_index.core.vector_stores import MetadataFilters

from rag.answering.extractive import refusal_text
from rag.answering.interface import Answerer, AnswererContext, Draft, Evidence, stream_draft
from rag.answering.registry import Answerers, check_name
from rag.environment import offline
from rag.errors import InvalidQuestionError, LLMUnavailable, NotIngestedError
from rag.index.keyword import KeywordIndex
from rag.index.store import Store
from rag.ingest.pipeline import Progress, ingest
from rag.models.embedder import Embedder
from rag.models.openai_client import ModelClient
from rag.query import FilterOptions, Query, QueryOptions
from rag.retrieval.filters import ArticleFilterIndex
from rag.retrieval.retriever import HybridRetriever, to_passages
from rag.schema import Answer, Article, IngestReport, Passage
from rag.settings import Settings, load_settings
from rag.text import TERMS_VERSION

if TYPE_CHECKING:

    from rag.chat.conversation import Chat
    from rag.integrations.llama_index import RAGChatEngine, RAGQueryEngine

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


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
class IndexState:
    """What is loaded from one state of the index (its articles, keyword index, filter index, and
    the answerers built on them); replaced whole after an ingest."""

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
        check_name(self.settings.answerer)
        self._store = Store(self.settings)
        self._embedder = Embedder(self.settings.embed_batch_size, self.settings.model_cache_dir)
        self._state: IndexState | None = None
        self._state_lock = threading.Lock()

    # --- ingest ---------------------------------------------------------------------------------

    def ingest(self, docs_dir: str | Path | None = None, *, rebuild: bool = False,
               progress: Progress | None = None) -> IngestReport:
        """Add, update and remove articles so the index matches the docs folder. Safe to repeat."""
        if docs_dir is not None:
            self.settings = self.settings.model_copy(update={"docs_dir": Path(docs_dir)})
            self._store.settings = self.settings
        with self._store.write_lock():
            if rebuild:
                self._state = None
                self._store.wipe()
            report = ingest(self.settings, self._store, self._embedder, progress)
            self._state = None
            try:
                self._index_state()
            except NotIngestedError:  # every file was skipped: the report says why (questions still say so)
                pass
            self._store.bump_generation()  # other processes reading this index reload it (Store.is_stale)
        return report

    # --- the index state (keyword index, filters, answerers), loaded once per state of the index ---

    def _index_state(self) -> IndexState:
        state = self._state
        if state is not None and self._store.is_stale():  # another process ingested: reload (Store.is_stale)
            with self._state_lock:
                if self._store.is_stale():
                    self._store, self._state = self._store.reopened(), None
            state = self._state
        if state is not None:
            return state
        with self._state_lock:
            if self._state is None:
                self._state = self._load_index_state()
            return self._state

    def _load_index_state(self) -> IndexState:
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
        return IndexState(articles=articles, keyword=keyword,
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
        """The answerer called `name` ("extractive", "openai", "lead", or a plugin's; see
        rag/answering/registry.py); None: the one the settings choose. `.name` says which it is."""
        return self._index_state().answerers.get(name)

    # --- retrieving -------------------------------------------------------------------------------

    def check_question(self, question: object) -> str:
        return check_question(question, self.settings.max_question_chars)

    def as_retriever(self, filters: MetadataFilters | None = None, *, top_k: int | None = None) -> HybridRetriever:
        """The hybrid retriever as a llama-index `BaseRetriever`: `.retrieve(question)` -> `NodeWithScore`s,
        best first, restricted by `filters` (llama-index `MetadataFilters` over the article fields in
        `rag.retrieval.filters.FILTER_KEYS`)."""
        state = self._index_state()
        s = self.settings
        return HybridRetriever(self._store, state.keyword, state.filter_index, self._embedder.embed_query,
                               top_k=top_k or s.top_k, candidate_k=s.candidate_k, fusion=s.fusion, filters=filters)

    def retrieve(self, question: str, **options: Unpack[FilterOptions]) -> list[Passage]:
        """The passages retrieval finds for `question`, best first (no answering). Options as `ask`'s."""
        query = Query.of(question, **options)
        retriever = self.as_retriever(query.filters, top_k=query.top_k)
        return to_passages(retriever.retrieve(self.check_question(query.question)))

    # --- asking -----------------------------------------------------------------------------------

    def ask(self, question: str | Query, **options: Unpack[QueryOptions]) -> Answer:
        """Answer `question` from the articles, citing each sentence; abstain when they don't say.

        Restrict the articles with `filters` (llama-index `MetadataFilters`) and/or the shortcuts
        `sources` (file names or paths) and `date_from` / `date_to` (YYYY-MM-DD; undated articles are
        kept unless `include_undated=False`); `top_k` passages are retrieved; `answerer` ("extractive",
        "openai", "lead", or a plugin's name) overrides the setting for this call. A `Query` may be
        passed instead of the question and options.
        """
        *_, answer = self._answer(_query(question, options), streaming=False)
        return answer

    def stream(self, question: str | Query, **options: Unpack[QueryOptions]) -> Iterator[str | Answer]:
        """Yield the answer's text as it is produced, then the final, checked `Answer` (options as `ask`'s).

        With a model, a piece is a sentence of its answer once the sentence has passed the citation
        check (a cited passage supports it), so no unchecked model text is ever yielded; if the model
        fails midway, "\n\n" and the offline answer follow. A UI shows the final `answer.text` once
        the Answer arrives.
        """
        yield from self._answer(_query(question, options), streaming=True)

    def _answer(self, query: Query, streaming: bool) -> Iterator[str | Answer]:
        timings: dict[str, float] = {}
        with _timed(timings, "total_ms"):
            question = self.check_question(query.question)
            asked = self.check_question(query.standalone_question) if query.standalone_question else question
            state = self._index_state()
            chosen = state.answerers.get(query.answerer)
            evidence = self._evidence(asked, query, timings)
            fallback_reason = None
            with _timed(timings, "answer_ms"):
                try:
                    draft = yield from _drafted(chosen, evidence, streaming)
                except LLMUnavailable as exc:
                    fallback_reason = f"{exc.message} Answered offline from the articles instead."
                    if streaming:
                        yield "\n\n"  # the offline answer follows whatever the model had sent
                    chosen = state.answerers.offline
                    draft = yield from _drafted(chosen, evidence, streaming)
        scope = _scope(state, query.filters)
        yield Answer.from_draft(draft, question=question, answerer=chosen.name, scope=scope,
                                refusal=refusal_text(scope), passages=evidence.passages,
                                standalone_question=query.standalone_question, fallback_reason=fallback_reason,
                                timings=timings)

    def evidence(self, question: str | Query, **options: Unpack[QueryOptions]) -> Evidence:
        """What an answerer is given for `question` (options as `ask`'s): the question's embedding, the
        retrieved passages, and their sentence embeddings once read. For fitting and inspecting answerers."""
        query = _query(question, options)
        asked = self.check_question(query.standalone_question or query.question)
        return self._evidence(asked, query, {})

    def _evidence(self, asked: str, query: Query, timings: dict[str, float]) -> Evidence:
        """The question's embedding and passages (timed); sentence embeddings come when an answerer reads them."""
        with _timed(timings, "embed_ms"):
            embedding = self._embedder.embed_query(asked)
        with _timed(timings, "retrieve_ms"):
            retriever = self.as_retriever(query.filters, top_k=query.top_k)
            passages = to_passages(retriever.retrieve(QueryBundle(query_str=asked, embedding=embedding.tolist())))
        return Evidence(asked, embedding, passages, self._store.sentence_embeddings)

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
        self._index_state()
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


def _query(question: str | Query, options: QueryOptions) -> Query:
    if isinstance(question, Query):
        if options:
            raise TypeError(f"ask a Query, or a question with options, not both ({', '.join(options)})")
        return question
    return Query.of(question, **options)


@contextmanager
def _timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = (time.perf_counter() - start) * 1000


def _drafted(answerer: Answerer, evidence: Evidence, streaming: bool) -> Iterator[str]:
    """Run the answerer, yielding its text pieces when streaming; returns its Draft."""
    if not streaming:
        return answerer.answer(evidence)
    for event in stream_draft(answerer, evidence):
        if not isinstance(event, Draft):
            yield event
        else:
            return event
    raise AssertionError(f"the {answerer.name} answerer's stream ended without a Draft")


def _scope(state: IndexState, filters: MetadataFilters | None) -> str:
    """What was searched, in words (refusals name it)."""
    total = len(state.articles)
    everything = f"the {total} indexed article{'s' if total != 1 else ''}"
    if filters is None or not filters.filters:
        return everything
    matching = int(state.filter_index.article_mask(filters).sum())
    return f"the {matching} of {everything} that match the filters"
