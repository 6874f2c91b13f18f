"""`RAG`: the one object the UI, the CLI, the regression runner and Python users share."""

from __future__ import annotations

import hashlib
import re
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from .answer import ABSTAIN_TEXT, ExtractiveAnswerer, LeadAnswerer
from .citations import check_answer, says_dont_know
from .llm import LLMUnavailable, OpenAIAnswerer
from .embed import Embedder
from .errors import IndexBusyError, IndexCorruptError, InvalidQuestionError, NotIngestedError, SettingsError
from .ingest import Progress, ingest
from .keyword import KeywordIndex
from .retrieve import Filters, HybridRetriever
from .schema import Answer, Article, IngestReport, Passage
from .settings import Settings, load_settings
from .store import MARKER_FILE, Store, sentence_id
from .text import TERMS_VERSION

KEYWORD_DIR = "keyword"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class _Corpus:
    """Everything derived from one state of the index; replaced whole after an ingest."""

    articles: dict[str, dict[str, Any]]
    keyword: KeywordIndex
    retriever: HybridRetriever
    answerer: ExtractiveAnswerer | LeadAnswerer  # offline; also the fallback when the model fails
    llm: OpenAIAnswerer | None  # configured model, used when the answerer in effect is "openai"


class RAG:
    """Question answering over a folder of articles, with citations.

    >>> bot = RAG()                      # docs_dir="seeds", persist_dir="vectorstore"
    >>> bot.ingest()                     # idempotent
    >>> bot.ask("Why did China refuse the Austin meeting?").text
    """

    def __init__(self, settings: Settings | None = None, **overrides: Any) -> None:
        self.settings = load_settings(settings, **overrides)
        self._store = Store(self.settings)
        self._embedder = Embedder(self.settings.embed_batch_size)
        self._corpus: _Corpus | None = None
        self._corpus_lock = threading.Lock()

    # --- ingest ---------------------------------------------------------------------------------

    def ingest(self, docs_dir: str | Path | None = None, *, rebuild: bool = False,
               progress: Progress | None = None) -> IngestReport:
        """Add, update and remove articles so the index matches the docs folder. Safe to repeat."""
        if docs_dir is not None:
            self.settings = self.settings.model_copy(update={"docs_dir": Path(docs_dir)})
            self._store.settings = self.settings
        with self._write_lock():
            if rebuild:
                self._wipe_index()
            report = ingest(self.settings, self._store, self._embedder, progress)
            self._corpus = None
            self._load_corpus()
            self._store.bump_generation()  # other processes reading this index reload it (Store.is_stale)
        return report

    @contextmanager
    def _write_lock(self) -> Iterator[None]:
        """One writer per index folder: an embedded Chroma directory is not safe for concurrent writers.
        Readers take no lock."""
        from filelock import FileLock, Timeout

        folder = Path(self.settings.persist_dir)
        folder.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(folder / ".ingest.lock"))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            raise IndexBusyError(f"The index in {str(folder)!r} is busy: another process is ingesting into it.",
                                 "Wait for it to finish, then try again.") from None
        try:
            yield
        finally:
            lock.release()

    def _wipe_index(self) -> None:
        if self.settings.chroma_host or self._store.opens():  # other processes read on meanwhile (Store.reset)
            self._store.reset()
        else:
            folder = Path(self.settings.persist_dir)
            entries = [p for p in folder.iterdir() if p.name not in (".gitkeep", ".ingest.lock")]
            ours = (folder / MARKER_FILE).exists() or all(_looks_like_chroma(p) for p in entries)
            if not ours:
                raise IndexCorruptError(f"Refusing to empty {str(folder)!r}: it does not look like a rag index.",
                                        "Point persist_dir to an empty or new folder.")
            for p in entries:
                shutil.rmtree(p) if p.is_dir() else p.unlink()
            # chromadb keeps one client per path in the process; drop it so the next open starts fresh.
            from chromadb.api.client import SharedSystemClient

            SharedSystemClient.clear_system_cache()
            self._store = Store(self.settings)
        self._corpus = None

    # --- the corpus (keyword index, retriever, answerer), loaded once -------------------------

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
            raise NotIngestedError(f"No articles are indexed in {self._where()}.",
                                   "Run `rag ingest` (or RAG(...).ingest()) first.")
        fingerprint = hashlib.sha256(f"terms={TERMS_VERSION}\n".encode() + "\n".join(
            f"{a}\t{m.get('hash')}" for a, m in sorted(articles.items())).encode()).hexdigest()
        folder = Path(self.settings.persist_dir) / (KEYWORD_DIR if not self.settings.chroma_host
                                                    else f"{KEYWORD_DIR}-{self.settings.collection}")
        keyword = KeywordIndex.load(folder, fingerprint)
        if keyword is None:
            ids, texts, metas = self._store.all_chunks()
            keyword = KeywordIndex.build(ids, texts, metas, fingerprint)
            keyword.save(folder)
        s = self.settings
        return _Corpus(
            articles=articles, keyword=keyword,
            retriever=HybridRetriever(self._store, keyword, articles, s.candidate_k, s.fusion),
            answerer=(LeadAnswerer() if s.answerer == "lead"
                      else ExtractiveAnswerer(keyword, s.max_answer_sentences, s.min_support, s.min_coverage)),
            llm=OpenAIAnswerer(s) if (s.openai_api_key or s.openai_base_url or s.answerer == "openai") else None,
        )

    def _where(self) -> str:
        if self.settings.chroma_host:
            return f"the Chroma server at {self.settings.chroma_host}:{self.settings.chroma_port}"
        return repr(str(self.settings.persist_dir))

    # --- asking -----------------------------------------------------------------------------------

    def check_question(self, question: object) -> str:
        if not isinstance(question, str):
            raise InvalidQuestionError(f"The question must be text, not {type(question).__name__}.")
        cleaned = _CONTROL.sub(" ", question).strip()
        if not cleaned:
            raise InvalidQuestionError("The question is empty.", "Type a question about the articles.")
        limit = self.settings.max_question_chars
        if len(cleaned) > limit:
            raise InvalidQuestionError(f"The question is {len(cleaned):,} characters long; the limit is {limit:,}.",
                                       "Ask a shorter question (or raise RAG_MAX_QUESTION_CHARS).")
        if not any(ch.isalnum() for ch in cleaned):
            raise InvalidQuestionError("The question has no words in it.", "Type a question about the articles.")
        return cleaned

    def retrieve(self, question: str, *, top_k: int | None = None, sources: list[str] | None = None,
                 date_from: date | str | None = None, date_to: date | str | None = None) -> list[Passage]:
        """The passages retrieval finds for `question`, best first (no answering)."""
        question = self.check_question(question)
        corpus = self._load_corpus()
        return corpus.retriever.retrieve(question, self._embedder.embed_query(question), top_k or self.settings.top_k,
                                         _filters(sources, date_from, date_to))

    def ask(self, question: str, *, top_k: int | None = None, sources: list[str] | None = None,
            date_from: date | str | None = None, date_to: date | str | None = None,
            standalone_question: str | None = None, answerer: str | None = None) -> Answer:
        """Answer `question` from the articles, citing each sentence; abstain when they don't say.

        `answerer` ("extractive" or "openai") overrides the setting for this call.
        """
        *_, answer = self._answer(question, top_k, sources, date_from, date_to, standalone_question, answerer,
                                  streaming=False)
        return answer

    def stream(self, question: str, *, top_k: int | None = None, sources: list[str] | None = None,
               date_from: date | str | None = None, date_to: date | str | None = None,
               standalone_question: str | None = None, answerer: str | None = None) -> Iterator[str | Answer]:
        """Yield the answer's text as it is produced, then the final, checked `Answer`.

        With a model, the pieces are the model's raw text as it arrives; the final Answer is what
        passed the citation check (sentences without a valid citation are gone from it), so a UI
        shows the final `answer.text` once it arrives.
        """
        yield from self._answer(question, top_k, sources, date_from, date_to, standalone_question, answerer,
                                streaming=True)

    def _answer(self, question, top_k, sources, date_from, date_to, standalone_question, answerer,
                streaming: bool) -> Iterator[str | Answer]:
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        question = self.check_question(question)
        query = self.check_question(standalone_question) if standalone_question else question
        corpus = self._load_corpus()
        llm = self.model_for(answerer, corpus)
        t = time.perf_counter()
        embedding = self._embedder.embed_query(query)
        timings["embed_ms"] = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        passages = corpus.retriever.retrieve(query, embedding, top_k or self.settings.top_k,
                                             _filters(sources, date_from, date_to))
        timings["retrieve_ms"] = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        answer = Answer(question=question, text="", standalone_question=standalone_question, passages=passages)

        if llm is not None:
            try:
                messages, used = llm.messages(query, passages)
                if streaming:
                    pieces = []
                    for piece in llm.stream(messages):
                        pieces.append(piece)
                        yield piece
                    raw = "".join(pieces)
                else:
                    raw = llm.complete(messages)
                checked = check_answer(raw, used)
                answer.answerer = llm.name
                answer.citation_check = checked.stats
                answer.text = checked.text if not checked.abstained else ABSTAIN_TEXT
                answer.citations = checked.citations
                answer.abstained = checked.abstained
                if checked.abstained:
                    answer.abstain_reason = ("the model found no support in the passages" if says_dont_know(raw)
                                             else "no sentence of the model's answer carried a valid citation")
                timings["answer_ms"] = (time.perf_counter() - t) * 1000
                timings["total_ms"] = (time.perf_counter() - t0) * 1000
                answer.timings = timings
                yield answer
                return
            except LLMUnavailable as exc:
                answer.fallback_reason = f"{exc.message} Answered offline from the articles instead."
                if streaming:
                    yield "\n\n"  # the offline answer follows whatever the model had sent

        sentence_ids = list(dict.fromkeys(sentence_id(p.article_id, s.start) for p in passages for s in p.sentences))
        draft = corpus.answerer.answer(query, embedding, passages, self._store.sentence_embeddings(sentence_ids))
        timings["answer_ms"] = (time.perf_counter() - t) * 1000
        timings["total_ms"] = (time.perf_counter() - t0) * 1000
        answer.text, answer.citations, answer.abstained = draft.text, draft.citations, draft.abstained
        answer.answerer, answer.abstain_reason = corpus.answerer.name, draft.reason
        answer.support, answer.coverage = round(draft.support, 4), round(draft.coverage, 4)
        answer.timings = timings
        if streaming:
            yield from (re.findall(r".+?\[\d+\]\s*|.+$", answer.text) if not answer.abstained else [answer.text])
        yield answer

    def model_for(self, answerer: str | None = None, corpus: _Corpus | None = None) -> OpenAIAnswerer | None:
        """The model that answers for this choice of answerer (None: answer offline). `answerer` None
        means the setting; asking for "openai" with no model configured is a SettingsError."""
        corpus = corpus or self._load_corpus()
        choice = answerer or self.settings.effective_answerer()
        if choice not in ("extractive", "openai", "lead"):
            raise SettingsError(f"Unknown answerer {choice!r}.", "Use 'extractive' or 'openai'.")
        if choice != "openai":
            return None
        if corpus.llm is None:
            raise SettingsError("The openai answerer was asked for, but no model is configured.",
                                "Set OPENAI_API_KEY, or OPENAI_BASE_URL for a compatible server.")
        return corpus.llm

    @property
    def answerer_name(self) -> str:
        corpus = self._load_corpus()
        return (self.model_for(None, corpus) or corpus.answerer).name

    @property
    def llm(self) -> OpenAIAnswerer | None:
        """The model answerer in effect by the settings, or None when answering offline."""
        return self.model_for()

    @property
    def model(self) -> OpenAIAnswerer | None:
        """The configured model (OpenAI or a compatible server), default answerer or not; None if none."""
        return self._load_corpus().llm

    def available_answerers(self) -> dict[str, str]:
        """Answerer name -> what it is, for choosing in a UI."""
        choices = {"extractive": "Offline (extractive, cites article sentences)"}
        if self.model is not None:
            s = self.settings
            choices["openai"] = (f"Compatible server at {s.model_server} ({s.openai_model})" if s.openai_base_url
                                 else f"OpenAI ({s.openai_model})")
        return choices

    def warm_up(self) -> None:
        """Load the index and the embedding model now, so the first question is answered quickly."""
        self._load_corpus()
        self._embedder.embed_query("warm up")

    def chat(self, answerer: str | None = None) -> "Chat":
        from .chat import Chat

        return Chat(self, answerer)

    # --- the library ------------------------------------------------------------------------------

    def articles(self) -> list[dict[str, Any]]:
        """Indexed articles with their metadata and chunk counts, by file name."""
        return [{"id": a} | m for a, m in sorted(self._store.article_records().items())]

    def add_document(self, filename: str, data: bytes, *, overwrite: bool = False) -> Path:
        """Save an uploaded file into the docs folder (type allowlist, size cap); ingest() indexes it.
        An article of the same name is replaced only with overwrite=True (else a DocumentError)."""
        from .library import save_document

        return save_document(Path(self.settings.docs_dir), filename, data, self.settings.max_file_mb * 1_000_000,
                             overwrite=overwrite)

    def remove_document(self, article_id: str) -> None:
        """Delete an article's file from the docs folder; ingest() then drops it from the index."""
        from .library import remove_document

        remove_document(Path(self.settings.docs_dir), article_id)

    def citation_context(self, citation) -> tuple[str, int, int]:
        """The paragraph around a citation's quote, and the quote's offsets inside it."""
        text = self._store.article_text(citation.chunk_id.rsplit("#", 1)[0])  # chunk ids are "<article id>#<n>"
        if text is None or text[citation.start:citation.end] != citation.quote:
            return citation.quote, 0, len(citation.quote)
        start = text.rfind("\n\n", 0, citation.start)
        start = 0 if start < 0 else start + 2
        end = text.find("\n\n", citation.end)
        end = len(text) if end < 0 else end
        return text[start:end], citation.start - start, citation.end - start

    def article(self, article_id: str) -> Article | None:
        """One indexed article, with its cleaned text (what citation offsets point into)."""
        meta = self._store.article_records().get(article_id)
        text = self._store.article_text(article_id)
        if meta is None or text is None:
            return None
        return Article(id=article_id, source=meta.get("source", article_id), title=meta.get("title") or None,
                       publisher=meta.get("publisher") or None, date=meta.get("date") or None,
                       author=meta.get("author") or None, text=text)


def _filters(sources: list[str] | None, date_from: date | str | None, date_to: date | str | None) -> Filters:
    try:
        filters = Filters(tuple(sources) if sources else None, date_from, date_to)
        filters.bounds()
    except ValueError:
        raise InvalidQuestionError(f"Dates must look like 2023-05-30 (got {date_from!r} .. {date_to!r}).") from None
    return filters


def _looks_like_chroma(path: Path) -> bool:
    return path.name in ("chroma.sqlite3", KEYWORD_DIR, KEYWORD_DIR + ".tmp") or bool(
        re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", path.name))
