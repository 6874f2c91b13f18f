"""The answerer registry and the question check, without the model or Chroma."""

from __future__ import annotations

import numpy as np
import pytest

from rag.answering.registry import ANSWERERS, AnswererContext, Answerers, GenerativeAnswerer, stream_answer
from rag.engine import check_question
from rag.errors import InvalidQuestionError, SettingsError
from rag.index.keyword import KeywordIndex
from rag.schema import Passage, Sentence
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


def test_unknown_answerer_and_model_without_configuration_are_settings_errors():
    with pytest.raises(SettingsError, match="Unknown answerer 'oracle'"):
        _answerers().get("oracle")
    with pytest.raises(SettingsError, match="no model is configured"):
        _answerers().get("openai")


def test_an_offline_answer_streams_as_pieces_that_join_to_its_text():
    events = list(stream_answer(_answerers().get("lead"), "Who is Li Shangfu?", np.zeros(384, np.float32),
                                [PASSAGE], {}))
    *pieces, draft = events
    assert "".join(pieces) == draft.text and draft.citations[0].quote == TEXT[:35]


def test_the_model_answerer_needs_no_sentence_embeddings():
    assert GenerativeAnswerer.uses_sentence_embeddings is False


@pytest.mark.parametrize("question,match", [("", "empty"), ("   \n\t ", "empty"), ("?!?! ...", "no words"),
                                            (None, "must be text"), ("x" * 51, "51 characters"),
                                            ("x" * 100_000, "100,000 characters")])
def test_question_check(question, match):
    with pytest.raises(InvalidQuestionError, match=match):
        check_question(question, 50)
    assert check_question(" Who\x00 is he? ", 50) == "Who  is he?"
