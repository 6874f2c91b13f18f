"""The offline, extractive answerer: the sentences that answer the question, cited, with a direct answer first.

1. Every sentence of the retrieved passages is a candidate, with a few signals (`FEATURES`): how close
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
   (`QUESTION_FEATURES`) gives the probability that the articles answer the question; below a
   threshold chosen on the fitting split (at most 3% of its answerable questions refused) the answer
   says the articles don't say, and names what was searched. BENCHMARKS.md has the table of
   threshold against both error rates.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import numpy as np

from rag.answering.question import QuestionShape, question_shape
from rag.answering.spans import Span, new_spans
from rag.index.keyword import KeywordIndex
from rag.index.store import sentence_id
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

FEATURES = (
    "dense",             # cosine(question, sentence)
    "dense_gap",         # dense minus the best dense among the candidates
    "dense_neighbour",   # best cosine of the question with the sentence before or after
    "coverage",          # IDF-weighted share of the question's key terms in the quote
    "coverage_gap",      # coverage minus the best coverage among the candidates
    "coverage_window",   # coverage of the sentence with its neighbours
    "novelty",           # share of the sentence's terms the question does not use
    "has_date", "has_number", "has_name", "has_quote", "has_cause",  # the asked kind, new to the question
    "kind_missing",      # the question asks for a kind this sentence does not hold
    "passage_score",     # fused retrieval score of its passage, relative to the best passage
    "passage_rank",      # 1 / rank of its passage
    "lead_sentence",     # the article's first sentence
    "position",          # log of its character offset in the article
    "length",            # log of its word count
    "anaphor",           # opens by pointing back: the quote includes the sentence before
    "subject",           # share of the question's proper names (its subject) in the sentence and its neighbours
    "bigram",            # share of the question's adjacent key-term pairs that the quote keeps together
)
# What the abstention decision looks at, per question, once the sentences are scored.
QUESTION_FEATURES = (
    "top_score", "score_gap", "max_coverage", "top_coverage", "max_dense", "top_dense", "top_has_kind",
    "kind_in_top3", "unmatched", "unmatched_rarest", "factoid", "top_missing", "top_missing_rarest",
    "top_not_yet",
)
# A sentence about what is planned, expected or possible does not say what happened (English modality).
NOT_YET = re.compile(r"\b(?:will|would|plans?|planned|planning|expects?|expected|scheduled|set to|due to|supposed to|"
                     r"going to|may|might|could|possib\w*|proposed?|proposal|hopes?|hoped|intends?|intended|aims? to|"
                     r"considering|likely)\b", re.IGNORECASE)
# What decides which span of the cited quotes is the short answer.
SPAN_FEATURES = (
    "sentence_rank",     # 1 / (1 + position of its quote among the cited ones)
    "score_gap",         # the ranker's score of its sentence below the best
    "distance",          # log of the characters between it and the nearest of the question's words
    "after_anchor",      # it follows the nearest of the question's words
    "redundancy",        # log of how many of the top sentences repeat it
    "words",             # log of its word count
)


def refusal_text(scope: str) -> str:
    """What a refusal says: plainly that the articles don't say, and what was searched."""
    return f"The articles don't say. I could not find an answer to this in {scope}."


@dataclass
class Candidate:
    passage: Passage
    index: int  # sentence index in the passage
    start: int  # quote span in article offsets (with the sentence before when it points back)
    end: int
    quote: str
    sentence: str
    embedding: np.ndarray
    features: np.ndarray = field(default_factory=lambda: np.zeros(len(FEATURES), dtype=np.float32))
    score: float = 0.0  # the ranker's score: higher holds the answer more likely
    window_terms: frozenset[str] = frozenset()  # terms of the sentence and its neighbours
    spans: list[Span] = field(default_factory=list)  # of the asked kind, new to the question, in quote offsets


@dataclass
class Draft:
    text: str
    citations: list[Citation]
    abstained: bool
    confidence: float = 0.0
    form: str = "sentences"
    direct_answer: str | None = None
    direct_citation: int | None = None
    reason: str | None = None  # why it abstained, in words


@dataclass(frozen=True)
class AnswerModel:
    """Two small fitted models and the decisions calibrated with them (benchmarks/fit_answerer.py).

    The sentence ranker is linear over standardised `FEATURES`, fitted on pairs (a sentence that
    holds the answer against one of the same question that does not). The abstention model is a
    logistic regression over `QUESTION_FEATURES`: the probability that the articles answer the question."""

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    extra_margin: float  # a further sentence joins when its score is within this margin of the best
    q_mean: np.ndarray
    q_scale: np.ndarray
    q_weights: np.ndarray
    q_bias: float
    abstain_below: float  # probability that the question is answered, under which the answer abstains
    span_mean: np.ndarray
    span_scale: np.ndarray
    span_weights: np.ndarray
    span_bias: float
    direct_kinds: frozenset[str]  # and only for the kinds of question whose short answers proved right
    broad_abstain_below: float  # broad questions: abstain when no sentence with its neighbours covers this share
    mmr_lambda: float  # overviews: relevance vs novelty

    @classmethod
    def from_dict(cls, data: dict) -> "AnswerModel":
        if (tuple(data["features"]) != FEATURES or tuple(data["question_features"]) != QUESTION_FEATURES
                or tuple(data["span_features"]) != SPAN_FEATURES):
            raise ValueError("the answer model was fitted on other features; refit with benchmarks/fit_answerer.py")
        v = lambda key: np.asarray(data[key], np.float32)  # noqa: E731
        return cls(v("mean"), v("scale"), v("weights"), float(data["extra_margin"]), v("q_mean"), v("q_scale"),
                   v("q_weights"), float(data["q_bias"]), float(data["abstain_below"]), v("span_mean"), v("span_scale"),
                   v("span_weights"), float(data["span_bias"]), frozenset(data["direct_kinds"]),
                   float(data["broad_abstain_below"]), float(data["mmr_lambda"]))

    def scores(self, x: np.ndarray) -> np.ndarray:
        return ((x - self.mean) / self.scale) @ self.weights

    def answered_probability(self, q: np.ndarray) -> float:
        return _sigmoid(float(((q - self.q_mean) / self.q_scale) @ self.q_weights + self.q_bias))

    def span_probability(self, x: np.ndarray) -> float:
        return _sigmoid(float(((x - self.span_mean) / self.span_scale) @ self.span_weights + self.span_bias))


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


@lru_cache(maxsize=1)
def default_model() -> AnswerModel:
    data = json.loads(resources.files("rag.answering").joinpath("answer_model.json").read_text(encoding="utf-8"))
    return AnswerModel.from_dict(data)


@dataclass
class Analysis:
    """One question against its retrieved passages: its shape, key terms and scored candidates."""

    shape: QuestionShape
    key: dict[str, float]  # key term -> IDF
    candidates: list[Candidate]  # best first once scored
    unmatched: float  # IDF-weighted share of the key terms no candidate sentence holds
    unmatched_rarest: float  # the IDF of the rarest such term, over the largest IDF possible
    largest_idf: float = 1.0
    question: str = ""

    def question_features(self) -> np.ndarray:
        c = self.candidates
        f = np.zeros(len(QUESTION_FEATURES), dtype=np.float32)
        if not c:
            return f
        col = FEATURES.index
        kinds = [cand.features[col("kind_missing")] == 0 for cand in c]
        f[0] = c[0].score
        f[1] = c[0].score - c[1].score if len(c) > 1 else 1.0
        f[2] = max(cand.features[col("coverage")] for cand in c)
        f[3] = c[0].features[col("coverage")]
        f[4] = max(cand.features[col("dense")] for cand in c)
        f[5] = c[0].features[col("dense")]
        f[6] = 1.0 if kinds[0] else 0.0
        f[7] = 1.0 if any(kinds[:3]) else 0.0
        f[8] = self.unmatched
        f[9] = self.unmatched_rarest
        f[10] = 1.0 if self.shape.factoid else 0.0
        # What the best sentences leave out: a near miss discusses the topic but not the detail asked.
        held = set().union(*(cand.window_terms for cand in c[:3]))
        missing = [t for t in self.key if t not in held]
        total = sum(self.key.values()) or 1.0
        f[11] = sum(self.key[t] for t in missing) / total
        f[12] = max((self.key[t] for t in missing), default=0.0) / self.largest_idf
        f[13] = 1.0 if NOT_YET.search(c[0].sentence) and not NOT_YET.search(self.question) else 0.0
        return f


class ExtractiveAnswerer:
    name = "extractive"

    def __init__(self, keyword: KeywordIndex, max_sentences: int = 3, model: AnswerModel | None = None,
                 overview_sentences: int = 6) -> None:
        self.keyword = keyword
        self.max_sentences = max_sentences
        self.answer_model = model or default_model()
        self.overview_sentences = overview_sentences

    # --- signals ----------------------------------------------------------------------------------

    def analyse(self, question: str, query_embedding: np.ndarray, passages: list[Passage],
                sentence_embeddings: dict[str, np.ndarray]) -> Analysis:
        """Every sentence of the passages, once, with its features, scored and sorted best first."""
        shape = question_shape(question)
        question_terms = terms(question)  # once: stemming is most of this function's per-question cost
        key = {t: self.keyword.idf(t) for t in dict.fromkeys(question_terms) if t not in QUESTION_TERMS}
        total = sum(key.values()) or 1.0
        asked_words = {w.lower() for w in re.findall(r"[\w'’-]+", question)}
        asked_terms = set(question_terms)
        ordered_key = [t for t in question_terms if t in key]
        pairs = {(a, b) for a, b in zip(ordered_key, ordered_key[1:]) if a != b}
        subject = set(terms(" ".join(_proper_names(question))))
        best_score = max((p.score for p in passages), default=0.0) or 1.0
        family = _KIND_FAMILY.get(shape.kind)
        seen: set[tuple[str, int]] = set()
        found_terms: set[str] = set()
        out: list[Candidate] = []
        for rank, passage in enumerate(passages, start=1):
            texts = [passage.text[s.start - passage.start:s.end - passage.start] for s in passage.sentences]
            term_lists = [terms(t) for t in texts]
            vectors = [sentence_embeddings.get(sentence_id(passage.article_id, s.start)) for s in passage.sentences]
            for i, sent in enumerate(passage.sentences):
                found_terms.update(term_lists[i])
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
                c = Candidate(passage, i, start, sent.end, quote, text, vectors[i], window_terms=frozenset(window_terms))
                quote_list = (term_lists[i - 1] if anaphor else []) + term_lists[i]
                quote_terms = set(quote_list)
                sentence_terms = set(term_lists[i])
                neighbours = [float(query_embedding @ v) for v in (vectors[i - 1] if i > 0 else None,
                                                                    vectors[i + 1] if i + 1 < len(vectors) else None)
                              if v is not None]
                c.spans = new_spans(quote, shape.kind, asked_words) if family else []
                f = c.features
                f[0] = float(query_embedding @ vectors[i])
                f[2] = max(neighbours, default=f[0])
                f[3] = sum(w for t, w in key.items() if t in quote_terms) / total
                f[5] = sum(w for t, w in key.items() if t in window_terms) / total
                f[6] = len(sentence_terms - asked_terms) / max(1, len(sentence_terms))
                if family:
                    f[7 + ("date", "number", "name", "quote", "cause").index(family)] = 1.0 if c.spans else 0.0
                    f[12] = 0.0 if c.spans else 1.0
                f[13] = passage.score / best_score
                f[14] = 1.0 / rank
                f[15] = 1.0 if (passage.chunk_id.endswith("#0") and i == 0) else 0.0
                f[16] = math.log1p(sent.start / 500)
                f[17] = math.log1p(len(text.split()))
                f[18] = 1.0 if anaphor else 0.0
                f[19] = len(subject & window_terms) / len(subject) if subject else 1.0
                adjacent = set(zip(quote_list, quote_list[1:]))
                f[20] = len(pairs & adjacent) / len(pairs) if pairs else 0.0
                out.append(c)
        if out:
            best_dense = max(c.features[0] for c in out)
            best_coverage = max(c.features[3] for c in out)
            for c in out:
                c.features[1] = c.features[0] - best_dense
                c.features[4] = c.features[3] - best_coverage
            scores = self.answer_model.scores(np.stack([c.features for c in out]))
            for c, score in zip(out, scores):
                c.score = float(score)
            out.sort(key=lambda c: c.score, reverse=True)
        missing = [t for t in key if t not in found_terms]
        largest = math.log(1 + (self.keyword.n_docs + 1) / 0.5) or 1.0
        return Analysis(shape, key, out, sum(key[t] for t in missing) / total,
                        max((key[t] for t in missing), default=0.0) / largest, largest, question)

    # --- answering --------------------------------------------------------------------------------

    def answer(self, question: str, query_embedding: np.ndarray, passages: list[Passage],
               sentence_embeddings: dict[str, np.ndarray]) -> Draft:
        analysis = self.analyse(question, query_embedding, passages, sentence_embeddings)
        ranked, shape = analysis.candidates, analysis.shape
        if not ranked:
            return Draft("", [], True, 0.0, "refusal", reason="no sentence of the retrieved passages could answer")
        if shape.broad:
            return self._overview(ranked)
        confidence = self.answer_model.answered_probability(analysis.question_features())
        if confidence < self.answer_model.abstain_below:
            return Draft("", [], True, confidence, "refusal",
                         reason="no retrieved sentence is likely enough to answer the question")
        chosen = self._choose(ranked)
        citations = [_citation(n, c) for n, c in enumerate(chosen, start=1)]
        quotes = " ".join(f"{c.quote} [{cit.n}]" for c, cit in zip(chosen, citations))
        direct = best_span(chosen, ranked, question, self.answer_model) if shape.kind in self.answer_model.direct_kinds else None
        if direct is not None:
            n, span, _ = direct
            return Draft(f"{span} [{n}].\n\n{quotes}", citations, False, confidence, "direct", span, n)
        return Draft(quotes, citations, False, confidence, "sentences")

    def _choose(self, ranked: list[Candidate]) -> list[Candidate]:
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
        """Relevant, non-redundant sentences across articles (maximal marginal relevance), grouped by article."""
        coverage = float(max(c.features[FEATURES.index("coverage_window")] for c in ranked))
        if coverage < self.answer_model.broad_abstain_below:
            return Draft("", [], True, coverage, "refusal", reason="the retrieved passages do not discuss the topic")
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
            if not any(_overlaps(nxt, p) for p in picked):
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
            label = head.title or head.source
            if head.date:
                label += f" ({head.date})"
            lines.append(f"{label}: " + " ".join(f"{c.quote} [{cit.n}]" for c, cit in group))
        return Draft("\n\n".join(lines), citations, False, coverage, "overview")


def _proper_names(question: str) -> list[str]:
    """The question's capitalised words, but its first word: usually who or what it is about."""
    tokens = re.findall(r"[\w'’-]+", question)
    return [t for t in tokens[1:] if t[:1].isupper()]


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
            f = np.zeros(len(SPAN_FEATURES), dtype=np.float32)
            f[0] = 1.0 / n
            f[1] = ranked[0].score - c.score
            f[2] = math.log1p(abs(span.start - nearest)) if nearest is not None else math.log1p(len(c.quote))
            f[3] = 1.0 if nearest is not None and span.start > nearest else 0.0
            f[4] = math.log1p(sum(span.text.lower() in t for t in top))
            f[5] = math.log1p(len(span.text.split()))
            out.append((n, span.text, f))
    return out


def best_span(chosen: list[Candidate], ranked: list[Candidate], question: str,
              model: AnswerModel) -> tuple[int, str, float] | None:
    """(citation number, span, probability): the likeliest short answer, cut verbatim from a cited quote."""
    scored = [(n, text, model.span_probability(f)) for n, text, f in span_candidates(chosen, ranked, question)]
    return max(scored, key=lambda item: item[2], default=None)


def _overlaps(a: Candidate, b: Candidate) -> bool:
    return a.passage.article_id == b.passage.article_id and a.start < b.end and b.start < a.end


def _citation(n: int, c: Candidate) -> Citation:
    p = c.passage
    return Citation(n=n, source=p.source, title=p.title, publisher=p.publisher, date=p.date, author=p.author,
                    quote=c.quote, start=c.start, end=c.end, score=round(1.0 / (1.0 + math.exp(-c.score)), 4), chunk_id=p.chunk_id)


class LeadAnswerer:
    """A baseline, not an answerer to rely on: the first sentence of the best passage, cited, never
    abstaining. `rag eval --answerer lead` shows what the regression harness catches."""

    name = "lead"

    def answer(self, question: str, query_embedding: np.ndarray, passages: list[Passage],
               sentence_embeddings: dict[str, np.ndarray]) -> Draft:
        if not passages or not passages[0].sentences:
            return Draft("", [], True, 0.0, "refusal", reason="nothing was retrieved")
        p, s = passages[0], passages[0].sentences[0]
        quote = p.text[s.start - p.start: s.end - p.start]
        citation = Citation(n=1, source=p.source, title=p.title, publisher=p.publisher, date=p.date, author=p.author,
                            quote=quote,
                            start=s.start, end=s.end, score=0.0, chunk_id=p.chunk_id)
        return Draft(f"{quote} [1]", [citation], False, 0.0)
