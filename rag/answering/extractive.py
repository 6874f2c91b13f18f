"""The offline, extractive answerer: the sentences that answer the question, cited, with a direct answer first.

1. Every sentence of the retrieved passages is a candidate, with a few named signals (features.py): how close
   its MiniLM embedding (computed at ingest) is to the question's, and its neighbours'; how much of
   the question's key terms it holds (IDF-weighted, from the keyword index), alone and with its
   neighbours; whether it holds something of the kind the question asks for that the question does
   not already name (a date for "when", a figure for "how much": rag/answering/question.py, rag/answering/spans.py);
   its passage's retrieval score and rank; where it sits in its article.
2. A linear ranker combines them. Its weights are fitted on data by `benchmarks/fit_answerer.py`
   (pairwise logistic regression: a sentence holding a question's key facts against one of the same
   question that does not, each weight bounded to the sign common sense gives its signal), not set
   by hand; rag/answering/answer_model.json holds them, with the split they were never fitted on and the
   figures reached there.
3. The best sentence, and up to two more within a fitted margin of its score, are the cited quotes.
   For the kinds of question whose short answers proved right on the fitting data, the answer opens
   with the short answer: the likeliest span of the asked kind (a third small fitted model), cut
   verbatim out of a cited quote. A broad question ("summarise", "what do the articles say about",
   "compare") gets an overview: relevant, non-redundant sentences (maximal marginal relevance)
   grouped by article under its title and date.
4. One calibrated decision to abstain: a logistic model over what the scored sentences show
   (`QuestionSignals`) gives the probability that the articles answer the question; below a
   threshold chosen on the fitting split (at most 3% of its answerable questions refused) the answer
   says the articles don't say, and names what was searched. BENCHMARKS.md has the table of
   threshold against both error rates.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np

from rag.answering.answer_model import AnswerModel, default_model
# The *_FEATURES names are re-exported for benchmarks/fit_answerer.py.
from rag.answering.features import FEATURES, QUESTION_FEATURES, SPAN_FEATURES  # noqa: F401
from rag.answering.features import QuestionSignals, SentenceSignals, SpanSignals
from rag.answering.interface import Draft, Evidence
from rag.answering.question import QuestionShape, question_shape
from rag.answering.spans import Span, new_spans
from rag.index.ids import sentence_id
from rag.dates import human_date
from rag.index.keyword import KeywordIndex
from rag.schema import Citation, Passage
from rag.text import terms

# Words that shape a question but carry none of its subject (general English, not any article's wording).
QUESTION_TERMS = frozenset(terms(
    "what which who whom whose when where why how did does do is are was were has have had "
    "say said says according article articles report reported mention mentioned tell told happen happened "
    "name named kind type sort summarise summarize overview compare describe"))
# A sentence that opens by pointing back ("He said...", "The move...") needs the one before it to be understood.
_ANAPHOR = re.compile(r"^(?:he|she|they|it|this|these|that|those|his|her|their|its|such|there|the (?:move|decision|"
                      r"company|firm|group|club|team|deal|plan|report|minister|official|spokesman|spokeswoman))\b",
                      re.IGNORECASE)
_KIND_FAMILY = {"date": "date", "count": "number", "amount": "number", "duration": "number", "person": "name",
                "place": "name", "entity": "name", "reason": "cause"}

# A sentence about what is planned, expected or possible does not say what happened (English modality).
NOT_YET = re.compile(r"\b(?:will|would|plans?|planned|planning|expects?|expected|scheduled|set to|due to|supposed to|"
                     r"going to|may|might|could|possib\w*|proposed?|proposal|hopes?|hoped|intends?|intended|aims? to|"
                     r"considering|likely)\b", re.IGNORECASE)

def overview_heading(title: str, date: str | None) -> str:
    """What opens an article's group in an overview's text: 'Title (30 May 2023): '."""
    return f"{title} ({human_date(date)}): " if date else f"{title}: "


def refusal_text(scope: str) -> str:
    """What a refusal says: plainly that the articles don't say, and what was searched."""
    return f"The articles don't say. I searched {scope} and found nothing that answers this."


@dataclass
class Candidate:
    passage: Passage
    index: int  # sentence index in the passage
    start: int  # quote span in article offsets (with the sentence before when it points back)
    end: int
    quote: str
    sentence: str
    embedding: np.ndarray
    signals: SentenceSignals = field(default_factory=SentenceSignals)
    score: float = 0.0  # the ranker's score: higher holds the answer more likely
    spans: list[Span] = field(default_factory=list)  # of the asked kind, new to the question, in quote offsets

    @property
    def features(self) -> np.ndarray:
        """The signals as the ranker's input row."""
        return self.signals.values


@dataclass
class Analysis:
    """One question against its retrieved passages: its shape and scored candidates."""

    shape: QuestionShape
    candidates: list[Candidate]  # best first once scored
    question: str = ""

    def question_signals(self) -> QuestionSignals:
        q = QuestionSignals()
        c = self.candidates
        if not c:
            return q
        q.top_score = c[0].score
        q.max_dense = max(cand.signals.dense for cand in c)
        q.top_dense = c[0].signals.dense
        q.top_has_kind = 1.0 if c[0].signals.kind_missing == 0 else 0.0
        q.factoid = 1.0 if self.shape.factoid else 0.0
        q.top_not_yet = 1.0 if NOT_YET.search(c[0].sentence) and not NOT_YET.search(self.question) else 0.0
        return q

    def question_features(self) -> np.ndarray:
        """The question's signals as the abstention model's input row."""
        return self.question_signals().values


class ExtractiveAnswerer:
    name = "extractive"

    def __init__(self, keyword: KeywordIndex, max_sentences: int = 3, model: AnswerModel | None = None,
                 overview_sentences: int = 6, overview_per_article: int = 2) -> None:
        self.keyword = keyword
        self.max_sentences = max_sentences
        self.answer_model = model or default_model()
        self.overview_sentences = overview_sentences
        self.overview_per_article = overview_per_article  # so that no one article supplies most of an overview

    # --- signals ----------------------------------------------------------------------------------

    def analyse(self, question: str, query_embedding: np.ndarray, passages: list[Passage],
                sentence_embeddings: dict[str, np.ndarray]) -> Analysis:
        """Every sentence of the passages, once, with its signals, scored and sorted best first."""
        shape = question_shape(question)
        question_terms = terms(question)  # once: stemming is most of this function's per-question cost
        key = {t: self.keyword.idf(t) for t in dict.fromkeys(question_terms) if t not in QUESTION_TERMS}
        total = sum(key.values()) or 1.0
        asked_words = {w.lower() for w in re.findall(r"[\w'’-]+", question)}
        asked_terms = set(question_terms)
        ordered_key = [t for t in question_terms if t in key]
        pairs = {(a, b) for a, b in zip(ordered_key, ordered_key[1:]) if a != b}
        best_score = max((p.score for p in passages), default=0.0) or 1.0
        family = _KIND_FAMILY.get(shape.kind)
        seen: set[tuple[str, int]] = set()
        out: list[Candidate] = []
        for rank, passage in enumerate(passages, start=1):
            texts = [passage.text[s.start - passage.start:s.end - passage.start] for s in passage.sentences]
            term_lists = [terms(t) for t in texts]
            vectors = [sentence_embeddings.get(sentence_id(passage.article_id, s.start)) for s in passage.sentences]
            for i, sent in enumerate(passage.sentences):
                if (passage.article_id, sent.start) in seen or vectors[i] is None:
                    continue
                seen.add((passage.article_id, sent.start))
                text = texts[i]
                if len(text.split()) < 4:
                    continue  # headings, bylines and fragments are not answers
                anaphor = i > 0 and bool(_ANAPHOR.match(text))
                start = passage.sentences[i - 1].start if anaphor else sent.start
                quote = passage.text[start - passage.start:sent.end - passage.start]
                window_terms = set().union(*term_lists[max(0, i - 1):i + 2])
                c = Candidate(passage, i, start, sent.end, quote, text, vectors[i])
                quote_list = (term_lists[i - 1] if anaphor else []) + term_lists[i]
                quote_terms = set(quote_list)
                sentence_terms = set(term_lists[i])
                neighbours = [float(query_embedding @ v) for v in (vectors[i - 1] if i > 0 else None,
                                                                    vectors[i + 1] if i + 1 < len(vectors) else None)
                              if v is not None]
                c.spans = new_spans(quote, shape.kind, asked_words) if family else []
                sig = c.signals
                sig.dense = float(query_embedding @ vectors[i])
                sig.dense_neighbour = max(neighbours, default=sig.dense)
                sig.coverage = sum(w for t, w in key.items() if t in quote_terms) / total
                sig.coverage_window = sum(w for t, w in key.items() if t in window_terms) / total
                sig.novelty = len(sentence_terms - asked_terms) / max(1, len(sentence_terms))
                if family:
                    sig.has_date = 1.0 if family == "date" and c.spans else 0.0
                    sig.has_number = 1.0 if family == "number" and c.spans else 0.0
                    sig.has_name = 1.0 if family == "name" and c.spans else 0.0
                    sig.kind_missing = 0.0 if c.spans else 1.0
                sig.passage_score = passage.score / best_score
                sig.passage_rank = 1.0 / rank
                sig.lead_sentence = 1.0 if (passage.chunk_index == 0 and i == 0) else 0.0
                sig.position = math.log1p(sent.start / 500)
                sig.length = math.log1p(len(text.split()))
                sig.anaphor = 1.0 if anaphor else 0.0
                adjacent = set(zip(quote_list, quote_list[1:]))
                sig.bigram = len(pairs & adjacent) / len(pairs) if pairs else 0.0
                out.append(c)
        if out:
            best_dense = max(c.signals.dense for c in out)
            best_coverage = max(c.signals.coverage for c in out)
            for c in out:
                c.signals.dense_gap = c.signals.dense - best_dense
                c.signals.coverage_gap = c.signals.coverage - best_coverage
            scores = self.answer_model.scores(np.stack([c.features for c in out]))
            for c, score in zip(out, scores):
                c.score = float(score)
            out.sort(key=lambda c: c.score, reverse=True)
        return Analysis(shape, out, question)

    # --- answering --------------------------------------------------------------------------------

    def answer(self, evidence: Evidence) -> Draft:
        question = evidence.question
        analysis = self.analyse(question, evidence.embedding, evidence.passages, evidence.sentence_embeddings)
        ranked, shape = analysis.candidates, analysis.shape
        if not ranked:
            return Draft.refusal("no sentence of the retrieved passages could answer")
        if shape.broad:
            return self._overview(ranked)
        confidence = self.answer_model.answered_probability(analysis.question_features())
        if confidence < self.answer_model.abstain_below:
            return Draft.refusal("no retrieved sentence is likely enough to answer the question", confidence)
        chosen = self.choose(ranked)
        citations = [_citation(n, c) for n, c in enumerate(chosen, start=1)]
        quotes = " ".join(f"{c.quote} [{cit.n}]" for c, cit in zip(chosen, citations))
        direct = best_span(chosen, ranked, question, self.answer_model) if shape.kind in self.answer_model.direct_kinds else None
        if direct is not None:
            n, span, _ = direct
            return Draft(f"{span} [{n}].\n\n{quotes}", citations, False, confidence, "direct", span, n)
        return Draft(quotes, citations, False, confidence, "sentences")

    def choose(self, ranked: list[Candidate]) -> list[Candidate]:
        """The sentences an answer quotes: the best, then close runners-up of its article (public for
        benchmarks/fit_answerer.py, which replays this choice on cached candidates)."""
        best = ranked[0]
        chosen = [best]
        for c in ranked[1:]:
            if len(chosen) >= self.max_sentences or c.score < best.score - self.answer_model.extra_margin:
                break
            if c.passage.article_id != best.passage.article_id:
                continue  # further quotes come from the best quote's article: one source, read in context
            if any(_overlaps(c, o) for o in chosen) or any(float(c.embedding @ o.embedding) > 0.9 for o in chosen):
                continue  # the same words again
            chosen.append(c)
        return chosen

    def _overview(self, ranked: list[Candidate]) -> Draft:
        """Relevant, non-redundant sentences across articles (maximal marginal relevance), grouped by article.

        Not llama-index's `get_top_k_mmr_embeddings`: it discounts a sentence only by its similarity to
        the most recent pick, not to the nearest one, and picked other sentences for 5 of 12 broad
        questions (seeds and BBC) tried against this loop."""
        coverage = float(max(c.signals.coverage_window for c in ranked))
        if coverage < self.answer_model.broad_abstain_below:
            return Draft.refusal("the retrieved passages do not discuss the topic", coverage)
        lam = self.answer_model.mmr_lambda
        pool = ranked[:40]
        top = pool[0].score
        relevance = {id(c): 1.0 / (1.0 + math.exp(top - c.score)) * 2 for c in pool}  # 1.0 for the best sentence
        picked: list[Candidate] = []
        while pool and len(picked) < self.overview_sentences:
            def mmr(c: Candidate) -> float:
                redundancy = max((float(c.embedding @ p.embedding) for p in picked), default=0.0)
                return lam * relevance[id(c)] - (1 - lam) * redundancy
            nxt = max(pool, key=mmr)
            pool.remove(nxt)
            from_article = sum(p.passage.article_id == nxt.passage.article_id for p in picked)
            if from_article < self.overview_per_article and not any(_overlaps(nxt, p) for p in picked):
                picked.append(nxt)
        # Group by article, articles in order of their best passage, sentences in article order.
        order: dict[str, int] = {}
        for c in sorted(picked, key=lambda c: c.passage.rank):
            order.setdefault(c.passage.article_id, len(order))
        picked.sort(key=lambda c: (order[c.passage.article_id], c.start))
        citations = [_citation(n, c) for n, c in enumerate(picked, start=1)]
        lines = []
        for article_id in order:
            group = [(c, cit) for c, cit in zip(picked, citations) if c.passage.article_id == article_id]
            head = group[0][0].passage
            lines.append(overview_heading(head.title or head.source, head.date) + " ".join(
                f"{c.quote} [{cit.n}]" for c, cit in group))
        return Draft("\n\n".join(lines), citations, False, coverage, "overview")


def span_candidates(chosen: list[Candidate], ranked: list[Candidate], question: str) -> list[tuple[int, str, np.ndarray]]:
    """(citation number, span text, SPAN_FEATURES) for each span of the asked kind in the cited quotes."""
    asked = set(terms(question)) - QUESTION_TERMS
    top = [c.quote.lower() for c in ranked[:10]]
    out = []
    for n, c in enumerate(chosen, start=1):
        anchors = [m.start() for m in re.finditer(r"[\w'’-]+", c.quote) if set(terms(m.group())) & asked]
        for span in c.spans:
            if span.kind == "reason":
                continue
            nearest = min(anchors, key=lambda a: abs(span.start - a), default=None)
            signals = SpanSignals()
            signals.sentence_rank = 1.0 / n
            signals.score_gap = ranked[0].score - c.score
            signals.distance = math.log1p(abs(span.start - nearest) if nearest is not None else len(c.quote))
            signals.after_anchor = 1.0 if nearest is not None and span.start > nearest else 0.0
            signals.redundancy = math.log1p(sum(span.text.lower() in t for t in top))
            signals.words = math.log1p(len(span.text.split()))
            out.append((n, span.text, signals.values))
    return out


def best_span(chosen: list[Candidate], ranked: list[Candidate], question: str,
              model: AnswerModel) -> tuple[int, str, float] | None:
    """(citation number, span, probability): the likeliest short answer, cut verbatim from a cited quote."""
    scored = [(n, text, model.span_probability(f)) for n, text, f in span_candidates(chosen, ranked, question)]
    return max(scored, key=lambda item: item[2], default=None)


def _overlaps(a: Candidate, b: Candidate) -> bool:
    return a.passage.article_id == b.passage.article_id and a.start < b.end and b.start < a.end


def _citation(n: int, c: Candidate) -> Citation:
    return Citation.quoting(n, c.passage, c.start, c.end, round(1.0 / (1.0 + math.exp(-c.score)), 4))
