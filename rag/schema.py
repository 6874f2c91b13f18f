"""The public objects: what an article, a passage, a citation and an answer are."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field, model_validator

from rag.index.ids import legacy_article_id

if TYPE_CHECKING:
    from rag.answering.interface import Draft


class Article(BaseModel):
    """One cleaned article. `text` is the body with page furniture removed; offsets index into it."""

    id: str = Field(description="File path relative to the docs folder; stable across re-ingests.")
    source: str = Field(description="File path as shown to people, e.g. seeds/004_x.txt.")
    title: str | None = None
    publisher: str | None = None
    date: str | None = Field(None, description="ISO date (YYYY-MM-DD) when the text gives one.")
    author: str | None = None
    text: str


class Sentence(BaseModel):
    start: int
    end: int


class Chunk(BaseModel):
    """A token-sized, sentence-aligned slice of an article: `text == article.text[start:end]`."""

    id: str
    article_id: str
    index: int
    start: int
    end: int
    text: str
    sentences: list[Sentence] = Field(description="Sentence spans, in article offsets.")


class Passage(BaseModel):
    """A retrieved chunk with what the answerer and the citations need."""

    chunk_id: str
    article_id: str
    chunk_index: int = Field(0, description="Which chunk of its article it is (0: the article's opening).")
    source: str
    title: str | None
    publisher: str | None
    date: str | None
    text: str
    author: str | None = None
    start: int
    end: int
    sentences: list[Sentence]
    score: float = Field(description="Fused retrieval score (see the `fusion` setting).")
    rank: int = Field(description="1-based rank after fusion.")


class Citation(BaseModel):
    """What one `[n]` marker in an answer points at: an exact quote from an article."""

    n: int
    article_id: str = Field(description="The cited article's id (`RAG.article(article_id)` gives its text).")
    source: str
    title: str | None = None
    publisher: str | None = None
    date: str | None = None
    author: str | None = None
    quote: str = Field(description="Exact substring of the cleaned article text.")
    start: int
    end: int
    score: float = Field(description="How strongly the quote supports the answer, 0..1.")
    chunk_id: str

    @classmethod
    def quoting(cls, n: int, passage: Passage, start: int, end: int, score: float) -> "Citation":
        """Citation `n`: the passage's text from article offset `start` to `end`, with the passage's ids."""
        return cls(n=n, article_id=passage.article_id, source=passage.source, title=passage.title,
                   publisher=passage.publisher, date=passage.date, author=passage.author,
                   quote=passage.text[start - passage.start:end - passage.start], start=start, end=end,
                   score=score, chunk_id=passage.chunk_id)

    @model_validator(mode="before")
    @classmethod
    def _saved_before_article_ids(cls, data: Any) -> Any:
        """A citation saved before citations carried their article id (a stored conversation) gets it."""
        if isinstance(data, dict) and "article_id" not in data and "chunk_id" in data:
            return data | {"article_id": legacy_article_id(data["chunk_id"])}
        return data


AnswerForm = Literal["direct", "sentences", "overview", "refusal", "generated"]


class Answer(BaseModel):
    question: str
    text: str = Field(description="The answer with [n] markers; or a plain statement that the articles don't say.")
    form: AnswerForm = Field(
        "sentences", description="direct: a short answer, then its quotes; sentences: quoted sentences; "
                                 "overview: sentences grouped by article (broad questions); refusal: the "
                                 "articles don't say; generated: written by the model, every sentence cited.")
    direct_answer: str | None = Field(
        None, description="The short answer (a name, date, figure or phrase), copied verbatim from the quote of "
                          "citation `direct_citation`; None when the question does not ask for one thing.")
    direct_citation: int | None = Field(None, description="The citation number `direct_answer` is quoted from.")
    scope: str = Field("", description="What was searched, in words: 'the 5 indexed articles', or the filtered "
                                       "part of them (shown in refusals).")
    confidence: float = Field(0.0, description="The answerer's calibrated confidence that the answer holds what "
                                               "was asked (0..1); it abstains below its threshold.")
    citations: list[Citation] = Field(default_factory=list)
    abstained: bool = False
    answerer: str = "extractive"
    standalone_question: str | None = Field(None, description="The question actually retrieved for, when a chat rewrote a follow-up.")
    fallback_reason: str | None = Field(None, description="Why the LLM answerer was not used, when it failed and the offline answerer stepped in.")
    abstain_reason: str | None = Field(None, description="Why the answer abstained (which check failed).")
    citation_check: dict[str, int] | None = Field(
        None, description="For model answers: sentences kept and dropped, markers removed by the citation check.")
    passages: list[Passage] = Field(default_factory=list, description="What retrieval returned, best first.")
    timings: dict[str, float] = Field(default_factory=dict, description="Milliseconds per stage.")

    @classmethod
    def from_draft(cls, draft: Draft, *, refusal: str, **fields: Any) -> "Answer":
        """The Answer an answerer's `Draft` makes, with the engine's `fields` (question, answerer, scope,
        passages, timings, ...); an abstaining draft says `refusal` (the articles don't say, and what was
        searched) whatever the answerer wrote."""
        answer = cls(text=draft.text, citations=draft.citations, abstained=draft.abstained, form=draft.form,
                     direct_answer=draft.direct_answer, direct_citation=draft.direct_citation,
                     confidence=round(float(draft.confidence), 4), abstain_reason=draft.reason,
                     citation_check=draft.citation_check, **fields)
        if answer.abstained:
            answer.form, answer.text = "refusal", refusal
        return answer


class FileProblem(BaseModel):
    file: str
    reason: str


class FileNote(BaseModel):
    file: str
    note: str


class IngestReport(BaseModel):
    added: list[str] = Field(default_factory=list)
    updated: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    skipped: list[str] = Field(default_factory=list, description="Unchanged since the last ingest.")
    failed: list[FileProblem] = Field(default_factory=list, description="Files that could not be read; the rest were ingested.")
    decoded: list[FileNote] = Field(default_factory=list, description="Files ingested after detecting a charset "
                                                                       "other than UTF-8 (which one, per file).")
    chunks: int = Field(0, description="Chunks in the index after this ingest.")
    seconds: float = 0.0

    def summary(self) -> str:
        return (f"{len(self.added)} added, {len(self.updated)} updated, {len(self.removed)} removed, "
                f"{len(self.skipped)} unchanged, {len(self.failed)} failed"
                f"{f', {len(self.decoded)} decoded from another charset' if self.decoded else ''}; "
                f"{self.chunks} chunks in the index; {self.seconds:.1f} s")
