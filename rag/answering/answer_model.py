"""The extractive answerer's fitted models (benchmarks/fit_answerer.py writes answer_model.json; never by hand)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from rag.answering.features import FEATURES, QUESTION_FEATURES, SPAN_FEATURES


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
    def blank(cls, broad_abstain_below: float, mmr_lambda: float) -> AnswerModel:
        """All weights zero, no scaling: what fitting starts from."""
        n, q, s = len(FEATURES), len(QUESTION_FEATURES), len(SPAN_FEATURES)
        zeros, ones = (lambda k: np.zeros(k, np.float32)), (lambda k: np.ones(k, np.float32))
        return cls(mean=zeros(n), scale=ones(n), weights=zeros(n), extra_margin=0.0, q_mean=zeros(q), q_scale=ones(q),
                   q_weights=zeros(q), q_bias=0.0, abstain_below=0.0, span_mean=zeros(s), span_scale=ones(s),
                   span_weights=zeros(s), span_bias=0.0, direct_kinds=frozenset(),
                   broad_abstain_below=broad_abstain_below, mmr_lambda=mmr_lambda)

    @classmethod
    def from_dict(cls, data: dict) -> AnswerModel:
        if (tuple(data["features"]) != FEATURES or tuple(data["question_features"]) != QUESTION_FEATURES
                or tuple(data["span_features"]) != SPAN_FEATURES):
            raise ValueError("the answer model was fitted on other features; refit with benchmarks/fit_answerer.py")
        arrays = {key: np.asarray(data[key], np.float32) for key in (
            "mean", "scale", "weights", "q_mean", "q_scale", "q_weights", "span_mean", "span_scale", "span_weights")}
        numbers = {key: float(data[key]) for key in ("extra_margin", "q_bias", "abstain_below", "span_bias",
                                                     "broad_abstain_below", "mmr_lambda")}
        return cls(**arrays, **numbers, direct_kinds=frozenset(data["direct_kinds"]))

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
