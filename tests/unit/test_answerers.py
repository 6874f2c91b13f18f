"""The answerer registry and the question check, without the model or Chroma."""

from __future__ import annotations

import json
from importlib import resources

import numpy as np
import pytest

from rag.answering.features import FEATURES, QUESTION_FEATURES, SPAN_FEATURES
from rag.answering.features import QuestionSignals, SentenceSignals, SpanSignals
from rag.answering.interface import AnswererContext, Draft, Evidence, stream_draft
from rag.answering.registry import ANSWERERS, Answerers, check_name, register
from rag.engine import check_question
from rag.errors import InvalidQuestionError, SettingsError
from rag.index.keyword import KeywordIndex
from rag.schema import Answer, Passage, Sentence
from rag.settings import Settings

TEXT = "Li Shangfu is the defence minister. He was sanctioned in 2018."
PASSAGE = Passage(chunk_id="a.txt#0", article_id="a.txt", source="seeds/a.txt", title="T", publisher=None,
                  date=None, text=TEXT, start=0, end=len(TEXT), score=1.0, rank=1,
                  sentences=[Sentence(start=0, end=35), Sentence(start=36, end=len(TEXT))])


def _answerers(**settings) -> Answerers:
    keyword = KeywordIndex.build(["a.txt#0"], [TEXT], [{"article_id": "a.txt", "date_int": 0}], "test")
    s = Settings(_env_file=None, **settings)
    return Answerers(AnswererContext(s, keyword, None))


def test_answerers_are_chosen_by_name_from_the_registry():
    assert {"extractive", "openai", "lead"} <= set(ANSWERERS)
    answerers = _answerers()
    assert answerers.get("lead").name == "lead"
    assert answerers.get().name == "extractive"  # auto without a model
    assert answerers.get("extractive") is answerers.get("extractive"), "built once per index state"


def test_unknown_answerer_is_a_settings_error_listing_the_known_names():
    with pytest.raises(SettingsError, match="Unknown answerer 'oracle'") as raised:
        _answerers().get("oracle")
    assert "auto, extractive, lead, openai" in raised.value.hint
    with pytest.raises(SettingsError, match="extractive"):
        check_name("oracle")
    with pytest.raises(SettingsError, match="no model is configured"):
        _answerers().get("openai")


def test_an_answerer_registered_in_process_is_accepted_by_the_settings_and_selected():
    class Echo:
        name = "echo-test"

        def answer(self, evidence: Evidence) -> Draft:
            return Draft(f"{evidence.question} [1]", [], False)

    register("echo-test")(lambda ctx: Echo())
    try:
        answerers = _answerers(answerer="echo-test")
        check_name("echo-test")
        assert answerers.get().answer(_evidence()).text == "Who is Li Shangfu? [1]"
    finally:
        del ANSWERERS["echo-test"]


def _evidence(fetch=None) -> Evidence:
    return Evidence("Who is Li Shangfu?", np.zeros(384, np.float32), [PASSAGE], fetch)


def test_an_offline_answer_streams_as_pieces_that_join_to_its_text():
    *pieces, draft = list(stream_draft(_answerers().get("lead"), _evidence()))
    assert "".join(pieces) == draft.text and draft.citations[0].quote == TEXT[:35]
    assert (draft.citations[0].article_id, draft.citations[0].chunk_id) == ("a.txt", "a.txt#0")


def test_sentence_embeddings_are_fetched_only_when_an_answerer_reads_them():
    fetched = []

    def fetch(ids):
        fetched.append(ids)
        return {i: np.ones(384, np.float32) / np.sqrt(384) for i in ids}

    lead_evidence = _evidence(fetch)
    _answerers().get("lead").answer(lead_evidence)
    assert fetched == [], "the lead answerer reads no sentence embeddings"
    extractive_evidence = _evidence(fetch)
    _answerers().get("extractive").answer(extractive_evidence)
    _answerers().get("extractive").answer(extractive_evidence)
    assert fetched == [["a.txt@0", "a.txt@36"]], "fetched once, for the passages' sentences"


def test_an_abstaining_draft_becomes_a_refusal_that_says_what_was_searched():
    draft = Draft("ignored", [], True, 0.123456, reason="nothing relevant")
    answer = Answer.from_draft(draft, refusal="The articles don't say (5 articles).", question="q",
                               answerer="extractive")
    assert (answer.form, answer.text, answer.abstained) == ("refusal", "The articles don't say (5 articles).", True)
    assert (answer.abstain_reason, answer.confidence, answer.answerer) == ("nothing relevant", 0.1235, "extractive")
    kept = Answer.from_draft(Draft("It is [1].", [], False, form="direct", direct_answer="It", direct_citation=1),
                             refusal="unused", question="q")
    assert (kept.text, kept.form, kept.direct_answer, kept.direct_citation) == ("It is [1].", "direct", "It", 1)


@pytest.mark.parametrize("question,match", [("", "empty"), ("   \n\t ", "empty"), ("?!?! ...", "no words"),
                                            (None, "must be text"), ("x" * 51, "51 characters"),
                                            ("x" * 100_000, "100,000 characters")])
def test_question_check(question, match):
    with pytest.raises(InvalidQuestionError, match=match):
        check_question(question, 50)
    assert check_question(" Who\x00 is he? ", 50) == "Who  is he?"


def test_each_named_signal_is_its_own_column_in_the_order_the_shipped_model_was_fitted_in():
    shipped = json.loads(resources.files("rag.answering").joinpath("answer_model.json").read_text(encoding="utf-8"))
    assert (FEATURES, QUESTION_FEATURES, SPAN_FEATURES) == tuple(
        tuple(shipped[key]) for key in ("features", "question_features", "span_features"))
    for kind in (SentenceSignals, QuestionSignals, SpanSignals):
        for column, name in enumerate(kind.NAMES):
            signals = kind()
            setattr(signals, name, 2.5)
            assert getattr(signals, name) == 2.5
            assert signals.values.tolist() == [2.5 if j == column else 0.0 for j in range(len(kind.NAMES))]
