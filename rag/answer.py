"""The offline, extractive answerer: picks the few article sentences that answer the question, cites each.

How a sentence is scored (all inputs computed at ingest except the question's own embedding):
  dense    cosine between the question and the sentence embeddings (MiniLM; catches paraphrase)
  coverage share of the question's key terms, weighted by IDF, that the sentence (plus the
           sentence before it when it opens with a pronoun) contains; a term no article uses
           weighs most, since the articles cannot be about it
  support  = DENSE_WEIGHT * dense + (1 - DENSE_WEIGHT) * coverage
The answer abstains when the best support is below `min_support`, when the chosen sentences cover
less than `min_coverage` of the key terms, when the question asks for a kind of answer (a date, a
number) that no chosen sentence holds, or when the question asks what happened and the articles
only say it was planned or possible (the near miss: a speech announced, not reported).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from .keyword import KeywordIndex
from .schema import Citation, Passage
from .store import sentence_id
from .text import terms, words

DENSE_WEIGHT = 0.5
EXTRA_SENTENCE_RATIO = 0.85  # a further sentence joins the answer when its support is this close to the best
WHY_RATIO = 0.7  # a cause-giving sentence this close to the best answers a "why" instead
ABSTAIN_TEXT = "The articles don't say. None of the indexed articles supports an answer to this question."

# Words that shape a question but carry none of its subject.
_QUESTION_TERMS = frozenset(terms(
    "what which who whom whose when where why how did does do is are was were has have had "
    "say said says saying according article articles mention mentioned mentions report reported describe described "
    "tell told happen happened occur mean explain give reason quoted quote make made put take place regarding"))
# "according to the Bloomberg report", "in the Good Authority article": which article, not what about.
_SOURCE_PHRASE = re.compile(
    r",?\s*\b(?:according to|in|from|by)\s+(?:the\s+)?(?:[\w.&'’-]+\s+){0,4}?"
    r"(?:article|report|analysis|piece|op-ed|story|column|editorial|opinion)\b", re.IGNORECASE)
# A sentence opening with a pronoun or a "the minister"-like phrase needs the sentence before it to say who.
_ANAPHOR_START = re.compile(
    r"^(?:he|she|they|it|this|these|that|those|his|her|their|its|such|"
    r"the (?:\w+ ){0,2}(?:minister|official|officials|spokesman|spokeswoman|spokesperson|president|secretary|company|firm|"
    r"move|decision|meeting|plan|strategy|step|measure|measures|policy|deal|trip|visit|outlet|agency|"
    r"administration|report|proposal|rejection|incident|minister's))\b", re.IGNORECASE)
# Anaphors inside a sentence: "..., he said", "such a move".
_INNER_ANAPHOR = re.compile(r"\b(?:he|she|they) (?:said|added|told|noted|argued|says)\b|\bsuch an? (?:move|step|decision)\b",
                            re.IGNORECASE)
# Questions about what someone said, discussed or agreed need an answer that reports that act.
_SPEECH_ACTS = {
    "say": "say state statement tell call note remark argu add quot accord claim announc",
    "discuss": "discuss talk convers negoti",
    "agre": "agre agreement deal accord sign",
    "decid": "decid decis",
    "announc": "announc unveil",
    "promis": "promis pledg vow",
    "propos": "propos suggest offer",
}
_SPEECH_ACT_TERMS = {act: frozenset(group.split()) for act, group in _SPEECH_ACTS.items()}
_MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December|Jan\.|Feb\.|Aug\.|Sept?\.|Oct\.|Nov\.|Dec\.)"
_DATE_EXPR = re.compile(
    rf"\b{_MONTH}\b|\b(?:19|20)\d\d\b|\b(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b"
    r"|\b(?:last|this|next|earlier this|later this) (?:week|month|year|summer|winter|spring|autumn|fall)\b|\byesterday\b|\btoday\b"
    r"|\b(?:mid|early|late)-?\s?(?:June|July|\d{4})\b", re.IGNORECASE)
_NUMBER_EXPR = re.compile(
    r"(?<![\w-])\$?(?!(?:19|20)\d\d\b)\d[\d,.]*(?![\w-])|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozen|hundred|thousand|million|billion|trillion|half)\b",
    re.IGNORECASE)
_NAME_EXPR = re.compile(r"(?<!^)(?<![.!?]\s)\b[A-Z][a-z]+(?:\s[A-Z][a-z]+)*")
_PAST_QUESTION = re.compile(r"\b(?:did|was|were|had)\b|\bwhat happened\b", re.IGNORECASE)
_NOT_YET = re.compile(
    r"\b(?:will|plans? to|planned to|planning to|expected to|scheduled to|set to|supposed to|going to|might|"
    r"possibility|possible|proposed|proposal|hoped-for|hopes? to)\b", re.IGNORECASE)
_CAUSAL = re.compile(
    r"\b(?:because|due to|in response to|in retaliation|as long as|for (?:his|her|its|their) role|over the role|"
    r"following concerns|response to|reason|so that|since)\b", re.IGNORECASE)


_TYPE_NOUN = re.compile(r"\b(?:what|which)\s+(?:day|date|year|month|time|kind|type|sort)\b", re.IGNORECASE)
_UNITS = r"(?:years?|months?|weeks?|days?|hours?|minutes?|decades?)"
_DURATION_EXPR = re.compile(rf"\b(?:\d[\d,.]*|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|several|a few|a|an)\s+{_UNITS}\b",
                            re.IGNORECASE)
_AMOUNT_EXPR = re.compile(r"[$€£¥]\s?\d|\b\d[\d,.]*\s?(?:%|percent|per cent|million|billion|trillion|dollars|yuan|euros)\b",
                          re.IGNORECASE)


def expected_answer_type(question: str) -> str | None:
    q = question.strip().lower()
    if re.match(r"(?:when|since when|in what year|on what (?:date|day))\b", q) or re.search(r"\b(?:what|which) (?:year|month|date|day)\b", q):
        return "date"
    if re.search(r"\bhow many\b|\b(?:what|which) number\b", q):
        return "count"
    if re.search(r"\bhow much\b|\b(?:what|which) (?:percentage|percent|amount|sum)\b", q):
        return "amount"
    if re.search(r"\bhow long\b", q):
        return "duration"
    if re.search(r"\bhow old\b", q):
        return "number"
    if re.match(r"(?:who|whom|whose)\b", q):
        return "name"
    return None


def _has_type(kind: str | None, text: str, question: str) -> bool:
    if kind is None:
        return True
    if kind == "date":
        return bool(_DATE_EXPR.search(text))
    if kind == "number":
        return bool(_NUMBER_EXPR.search(text))
    if kind == "amount":
        return bool(_AMOUNT_EXPR.search(text))
    if kind == "duration":
        return bool(_DURATION_EXPR.search(text))
    if kind == "count":
        # "how many people": a number within a few words before the thing counted.
        counted = terms(" ".join(re.split(r"\bhow many\b", question, flags=re.IGNORECASE)[-1].split()[:2]))
        tokens = words(text)
        for i, token in enumerate(tokens):
            if _NUMBER_EXPR.fullmatch(token) and set(terms(" ".join(tokens[i + 1:i + 4]))) & set(counted):
                return True
        return False
    asked = {w.lower() for w in words(question)}
    return any(any(w.lower() not in asked for w in m.group().split()) for m in _NAME_EXPR.finditer(text))


@dataclass
class _Candidate:
    passage: Passage
    start: int  # quote span in article offsets (may include the sentence before a pronoun)
    end: int
    quote: str
    sentence: str
    embedding: np.ndarray
    covered: set[str] = field(default_factory=set)
    dense: float = 0.0
    coverage: float = 0.0
    support: float = 0.0
    gives_cause: bool = False


@dataclass
class Draft:
    text: str
    citations: list[Citation]
    abstained: bool
    support: float
    coverage: float = 0.0
    reason: str | None = None  # why it abstained


class ExtractiveAnswerer:
    name = "extractive"

    def __init__(self, keyword: KeywordIndex, max_sentences: int, min_support: float, min_coverage: float) -> None:
        self.keyword = keyword
        self.max_sentences = max_sentences
        self.min_support = min_support
        self.min_coverage = min_coverage

    def key_terms(self, question: str) -> dict[str, float]:
        subject = _TYPE_NOUN.sub(" ", _SOURCE_PHRASE.sub(" ", question))  # "what day": the day is the answer
        return {t: self.keyword.idf(t) for t in dict.fromkeys(terms(subject)) if t not in _QUESTION_TERMS}

    def candidates(self, question: str, query_embedding: np.ndarray, passages: list[Passage],
                   sentence_embeddings: dict[str, np.ndarray], key: dict[str, float] | None = None) -> list[_Candidate]:
        """Candidate sentences, best support first; `key` is `key_terms(question)` when already computed."""
        key = self.key_terms(question) if key is None else key
        total = sum(key.values()) or 1.0
        seen: set[tuple[str, int]] = set()
        out: list[_Candidate] = []
        for passage in passages:
            for i, sent in enumerate(passage.sentences):
                if (passage.article_id, sent.start) in seen:
                    continue
                seen.add((passage.article_id, sent.start))
                text = passage.text[sent.start - passage.start: sent.end - passage.start]
                if len(text.split()) < 5 or not re.search(r"[.!?\"”’)\]]$", text):
                    continue  # headings and fragments are not answers
                embedding = sentence_embeddings.get(sentence_id(passage.article_id, sent.start))
                if embedding is None:
                    continue
                start = sent.start
                antecedent = None
                if i > 0 and (_ANAPHOR_START.match(text) or _INNER_ANAPHOR.search(text)):
                    antecedent = passage.sentences[i - 1]
                    start = antecedent.start  # name who "he" is
                quote = passage.text[start - passage.start: sent.end - passage.start]
                covered = set(terms(quote)) & set(key)
                c = _Candidate(passage, start, sent.end, quote, text, embedding, covered)
                c.dense = float(query_embedding @ embedding)
                if antecedent is not None:  # the quote is both sentences: judge it by the closer one
                    before = sentence_embeddings.get(sentence_id(passage.article_id, antecedent.start))
                    if before is not None:
                        c.dense = max(c.dense, float(query_embedding @ before))
                c.coverage = sum(key[t] for t in covered) / total
                c.support = DENSE_WEIGHT * c.dense + (1 - DENSE_WEIGHT) * c.coverage
                c.gives_cause = bool(_CAUSAL.search(quote))
                out.append(c)
        out.sort(key=lambda c: c.support, reverse=True)
        return out

    def answer(self, question: str, query_embedding: np.ndarray, passages: list[Passage],
               sentence_embeddings: dict[str, np.ndarray]) -> Draft:
        key = self.key_terms(question)
        ranked = self.candidates(question, query_embedding, passages, sentence_embeddings, key)
        if not ranked:
            return Draft(ABSTAIN_TEXT, [], True, 0.0, reason="no candidate sentence")
        total = sum(key.values()) or 1.0
        kind = expected_answer_type(question)
        act = _speech_act(question)
        # Only sentences of the right shape can answer: a date for "when", the act for "what did X say".
        shaped = [c for c in ranked if _has_type(kind, c.quote, question)
                  and (act is None or (_SPEECH_ACT_TERMS[act] & set(terms(c.sentence)) and c.coverage >= 0.3))]
        if not shaped:
            what = f"the {kind} asked for" if kind and not any(_has_type(kind, c.quote, question) for c in ranked) \
                else f"a report of what was asked ({act})"
            return Draft(ABSTAIN_TEXT, [], True, ranked[0].support, reason=f"no passage gives {what}")
        # A "why" is answered by a sentence that gives a cause, when a close enough one does.
        if re.match(r"\s*why\b", question, re.IGNORECASE):
            causes = [c for c in shaped if c.gives_cause and c.support >= WHY_RATIO * shaped[0].support]
            shaped = causes or shaped
        ranked = shaped
        best = ranked[0]
        chosen = [best]
        for c in ranked[1:]:
            if len(chosen) >= self.max_sentences or c.support < EXTRA_SENTENCE_RATIO * best.support:
                break
            overlapping = next((o for o in chosen if _overlaps(c, o)), None)
            if overlapping is not None:
                _merge(overlapping, c)  # one quote for neighbouring sentences of one article
                continue
            if any(float(c.embedding @ o.embedding) > 0.85 for o in chosen):
                continue  # the same fact again, maybe from another article
            chosen.append(c)

        covered = set().union(*(c.covered for c in chosen))
        coverage = sum(key[t] for t in covered) / total
        reason = None
        if best.support < self.min_support:
            reason = f"support {best.support:.2f} < {self.min_support}"
        elif coverage < self.min_coverage:
            reason = f"coverage {coverage:.2f} < {self.min_coverage}"
        elif _only_announced(question, best):
            reason = "the articles only say it was planned or possible"
        if reason:
            return Draft(ABSTAIN_TEXT, [], True, best.support, coverage, reason)

        citations = [
            Citation(n=n, source=c.passage.source, title=c.passage.title, publisher=c.passage.publisher,
                     date=c.passage.date, quote=c.quote, start=c.start, end=c.end,
                     score=round(max(0.0, min(1.0, c.support)), 4), chunk_id=c.passage.chunk_id)
            for n, c in enumerate(chosen, start=1)
        ]
        text = " ".join(f"{c.quote} [{cit.n}]" for c, cit in zip(chosen, citations))
        return Draft(text, citations, False, best.support, coverage)


def _overlaps(a: _Candidate, b: _Candidate) -> bool:
    return a.passage.article_id == b.passage.article_id and a.start < b.end and b.start < a.end


def _merge(into: _Candidate, other: _Candidate) -> None:
    p = into.passage if into.passage.start <= other.passage.start else other.passage
    start, end = min(into.start, other.start), max(into.end, other.end)
    if end > p.end:  # spans two chunks: quote only what one chunk holds
        return
    into.start, into.end = start, end
    into.quote = p.text[start - p.start: end - p.start]
    into.passage = p
    into.covered |= other.covered


def _speech_act(question: str) -> str | None:
    asked = set(terms(question))
    return next((act for act in _SPEECH_ACT_TERMS if act in asked), None)


def _only_announced(question: str, best: _Candidate) -> bool:
    """A question about what happened, answered by a sentence that says it was planned or possible
    and leaves part of the question uncovered (the near miss: a speech announced, not reported)."""
    if not _PAST_QUESTION.search(question) or _NOT_YET.search(question) or re.search(r"\bto be\b", question):
        return False
    return bool(_NOT_YET.search(best.sentence)) and best.coverage < 0.8


class LeadAnswerer:
    """A baseline, not an answerer to rely on: the first sentence of the best passage, cited, never
    abstaining. `rag eval --answerer lead` shows what the regression harness catches."""

    name = "lead"

    def answer(self, question: str, query_embedding: np.ndarray, passages: list[Passage],
               sentence_embeddings: dict[str, np.ndarray]) -> Draft:
        if not passages or not passages[0].sentences:
            return Draft(ABSTAIN_TEXT, [], True, 0.0, reason="nothing retrieved")
        p, s = passages[0], passages[0].sentences[0]
        quote = p.text[s.start - p.start: s.end - p.start]
        citation = Citation(n=1, source=p.source, title=p.title, publisher=p.publisher, date=p.date, quote=quote,
                            start=s.start, end=s.end, score=0.0, chunk_id=p.chunk_id)
        return Draft(f"{quote} [1]", [citation], False, 0.0)
