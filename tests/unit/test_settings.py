"""One settings object, grouped by concern."""

from rag.settings import GROUPS, Settings


def test_every_setting_belongs_to_exactly_one_concern():
    grouped = [name for names in GROUPS.values() for name in names]
    assert len(grouped) == len(set(grouped)), "a setting in two groups"
    assert set(grouped) == set(Settings().public_dict()), "every setting (and derived value) has a concern"


def test_grouped_values_are_the_public_ones(monkeypatch):
    monkeypatch.setenv("RAG_TOP_K", "7")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://user:sk-secret@127.0.0.1:9/v1")
    grouped = Settings().grouped()
    assert grouped["retrieval"]["top_k"] == 7
    assert "sk-secret" not in str(grouped["model"]) and grouped["answer"]["answerer_in_effect"] == "openai"
