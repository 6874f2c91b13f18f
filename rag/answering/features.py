"""The extractive answerer's signals, by name. Each class lists one model's inputs in the order of its
fitted weights (answer_model.json names them); code reads and writes `signals.coverage`, and the one
place names become positions is `Signal`, here. The values live in a float32 array (`.values`), the
row the model scores and benchmarks/fit_answerer.py fits on.
"""

from __future__ import annotations

import numpy as np


class Signal:
    """One named input of a model: a column of its feature array, numbered in definition order."""

    def __init__(self, doc: str) -> None:
        self.__doc__ = doc

    def __set_name__(self, owner: type[Signals], name: str) -> None:
        owner.NAMES = (*owner.__dict__.get("NAMES", ()), name)
        self.index = len(owner.NAMES) - 1

    def __get__(self, signals: Signals | None, owner: type | None = None):
        return self if signals is None else signals.values[self.index]

    def __set__(self, signals: Signals, value: float) -> None:
        signals.values[self.index] = value


class Signals:
    NAMES: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.values = np.zeros(len(self.NAMES), dtype=np.float32)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{n}={v:.3g}' for n, v in zip(self.NAMES, self.values))})"


class SentenceSignals(Signals):
    """What the sentence ranker sees of one candidate sentence."""

    dense = Signal("cosine(question, sentence)")
    dense_gap = Signal("dense minus the best dense among the candidates")
    dense_neighbour = Signal("best cosine of the question with the sentence before or after")
    coverage = Signal("IDF-weighted share of the question's key terms in the quote")
    coverage_gap = Signal("coverage minus the best coverage among the candidates")
    coverage_window = Signal("coverage of the sentence with its neighbours")
    novelty = Signal("share of the sentence's terms the question does not use")
    has_date = Signal("a date question, and the sentence holds a date the question does not name")
    has_number = Signal("the same for figures (counts, amounts, durations)")
    has_name = Signal("the same for names (people, places, organisations)")
    kind_missing = Signal("the question asks for a kind this sentence does not hold")
    passage_score = Signal("fused retrieval score of its passage, relative to the best passage")
    passage_rank = Signal("1 / rank of its passage")
    lead_sentence = Signal("the article's first sentence")
    position = Signal("log of its character offset in the article")
    length = Signal("log of its word count")
    anaphor = Signal("opens by pointing back: the quote includes the sentence before")
    bigram = Signal("share of the question's adjacent key-term pairs that the quote keeps together")


class QuestionSignals(Signals):
    """What the abstention model sees of a question once its sentences are scored."""

    top_score = Signal("the ranker's score of the best sentence")
    max_dense = Signal("the best cosine of any candidate with the question")
    top_dense = Signal("the best sentence's cosine with the question")
    top_has_kind = Signal("the best sentence holds the kind asked for (or none is asked)")
    factoid = Signal("the question asks for one thing: a date, a figure, a name...")
    top_not_yet = Signal("the best sentence says what is planned or possible, and the question does not")


class SpanSignals(Signals):
    """What decides which span of the cited quotes is the short answer."""

    sentence_rank = Signal("1 / (1 + position of its quote among the cited ones)")
    score_gap = Signal("the ranker's score of its sentence below the best")
    distance = Signal("log of the characters between it and the nearest of the question's words")
    after_anchor = Signal("it follows the nearest of the question's words")
    redundancy = Signal("log of how many of the top sentences repeat it")
    words = Signal("log of its word count")


FEATURES = SentenceSignals.NAMES
QUESTION_FEATURES = QuestionSignals.NAMES
SPAN_FEATURES = SpanSignals.NAMES
