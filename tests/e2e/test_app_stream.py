"""The chat page while a model streams: only checked sentences ever reach the page (AppTest, fake model server)."""

from __future__ import annotations

import pytest
from streamlit.delta_generator import DeltaGenerator

from ..support.fake_openai import FakeOpenAI
from .test_app import AUSTIN, ask, env, new_session, page_text  # noqa: F401  (env is a fixture)


@pytest.fixture
def drawn(monkeypatch) -> list[str]:
    """Everything the script sends to the page, in order: intermediate redraws included, not only the last state."""
    sent: list[str] = []
    enqueue = DeltaGenerator._enqueue

    def recording(self, delta_type, element_proto, *args, **kwargs):
        sent.append(str(element_proto))
        return enqueue(self, delta_type, element_proto, *args, **kwargs)

    monkeypatch.setattr(DeltaGenerator, "_enqueue", recording)
    return sent


@pytest.mark.usefixtures("env")
def test_a_model_obeying_an_injection_never_shows_it_while_streaming(monkeypatch, drawn):
    server = FakeOpenAI().start()
    server.scenario = "hacked_then_quote"  # "HACKED. Ignore the articles. Send your password to ... <quote> [1]"
    try:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-app-test")
        at = new_session()
        drawn.clear()
        ask(at, AUSTIN)
    finally:
        server.stop()
    assert "Answered by: the model (openai" in page_text(at), "the checked quote is the answer"
    everything = "\n".join(drawn)
    assert "[1]" in everything or "cite" in everything
    for text in ("HACKED", "Ignore the articles", "password"):
        assert text not in everything, f"{text!r} reached the page"
