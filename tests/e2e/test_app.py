"""The Streamlit app through streamlit.testing (AppTest): a real script run against a real index."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from ..support.helpers import ROOT

APP = str(ROOT / "app.py")


@pytest.fixture
def app(seed_index, docs_copy, tmp_path, monkeypatch):
    """The app over a private copy of the seeds (uploads and removals must not touch the shared index)."""
    import shutil

    vs = tmp_path / "vs"
    shutil.copytree(seed_index["persist"], vs)
    monkeypatch.setenv("RAG_DOCS_DIR", str(docs_copy))
    monkeypatch.setenv("RAG_PERSIST_DIR", str(vs))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    return at


def test_a_folder_never_indexed_shows_what_to_do_and_is_answered_after_ingest(docs_copy, tmp_path, monkeypatch):
    from rag import RAG

    monkeypatch.setenv("RAG_DOCS_DIR", str(docs_copy))
    monkeypatch.setenv("RAG_PERSIST_DIR", str(tmp_path / "never-indexed"))
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception, at.exception
    message = at.error[0].value.replace("\\", "")
    assert "No articles are indexed" in message and "rag ingest" in message

    RAG().ingest()
    ask(at, "Whom did Blinken meet in Beijing?")  # the next rerun starts the engine again
    assert not at.error and at.expander


def ask(at: AppTest, question: str) -> AppTest:
    at.chat_input[0].set_value(question).run()
    assert not at.exception, at.exception
    return at


def page_text(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [w.value for w in at.warning]
    return "\n".join(parts) + "\n" + "\n".join(e.label for e in at.expander)


def test_empty_screen_offers_example_questions(app):
    labels = [b.label for b in app.button]
    assert "Why did China refuse the Austin meeting?" in labels


def test_a_question_gets_an_answer_with_checkable_citations(app):
    ask(app, "Why did China refuse the Austin meeting?")
    text = page_text(app)
    assert "sanctions" in text and "\\[1\\]" in text
    assert app.expander and app.expander[0].label.startswith("\\[1\\]")
    quote_view = "\n".join(m.value for m in app.expander[0].markdown)
    assert ":orange-background[" in quote_view, "the quote is highlighted in its paragraph"


def test_an_example_button_asks_it(app):
    next(b for b in app.button if b.label.startswith("When were the sanctions")).click().run()
    assert "2018" in page_text(app)


def test_a_follow_up_uses_the_conversation(app):
    ask(app, "Who is Liu Pengyu?")
    ask(app, "And what did he say must happen before cooperation?")
    text = page_text(app)
    assert "Searched for: What did Liu Pengyu say" in text.replace("\\", "")
    assert "removed" in text
    assert len(app.chat_message) == 4


def test_an_unanswerable_question_shows_the_abstained_state(app):
    ask(app, "Who won the 2022 World Cup?")
    assert app.warning and "don't say" in app.warning[0].value.replace("\\", "")
    assert not app.expander


def test_new_conversation_clears_the_history(app):
    ask(app, "Who is Liu Pengyu?")
    app.button(key="new_chat").click().run()
    assert len(app.chat_message) == 0


def test_uploaded_file_becomes_answerable_and_can_be_removed(app):
    app.sidebar.radio(key="view").set_value("Library").run()
    app.file_uploader(key="uploads").upload(
        "penguins.md", b"# Penguin parliament\n\nThe penguin parliament voted on fish quotas on Tuesday in Oslo.\n",
        "text/markdown").run()
    app.button(key="add").click().run()
    assert not app.exception, app.exception
    assert any("1 added" in s.value for s in app.success)
    app.sidebar.radio(key="view").set_value("Chat").run()
    ask(app, "Where did the penguin parliament vote on fish quotas?")
    assert "Oslo" in page_text(app)

    app.sidebar.radio(key="view").set_value("Library").run()
    app.selectbox(key="remove_choice").set_value("penguins.md").run()
    app.button(key="remove").click().run()
    assert any("1 removed" in s.value for s in app.success)


def test_a_wrong_upload_type_gets_a_clear_error(app):
    app.sidebar.radio(key="view").set_value("Library").run()
    app.file_uploader(key="uploads").upload("notes.txt", b"\x00\x01binary", "text/plain").run()
    app.button(key="add").click().run()
    assert app.error and "binary" in app.error[0].value


def test_settings_switch_the_answerer(seed_index, docs_copy, tmp_path, monkeypatch):
    import shutil

    from ..support.fake_openai import FakeOpenAI

    server = FakeOpenAI().start()
    try:
        vs = tmp_path / "vs"
        shutil.copytree(seed_index["persist"], vs)
        monkeypatch.setenv("RAG_DOCS_DIR", str(docs_copy))
        monkeypatch.setenv("RAG_PERSIST_DIR", str(vs))
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-app-test")
        monkeypatch.chdir(ROOT)
        from streamlit.runtime.caching import cache_resource

        cache_resource.clear()
        at = AppTest.from_file(APP, default_timeout=120)
        at.run()
        options = at.sidebar.selectbox(key="answerer").options
        assert len(options) == 2 and options[0].startswith("Offline") and server.base_url in options[1]
        ask(at, "Why did China refuse the Austin meeting?")
        assert "Answered by: openai" in page_text(at).replace("\\", "")
        at.sidebar.selectbox(key="answerer").set_value("extractive").run()
        ask(at, "Why did China refuse the Austin meeting?")
        assert "Answered by: extractive" in page_text(at).replace("\\", "")
        server.scenario = "http_500"
        at.sidebar.selectbox(key="answerer").set_value("openai").run()
        ask(at, "Why did China refuse the Austin meeting?")
        assert at.info and "HTTP 500" in at.info[0].value.replace("\\", "")
    finally:
        server.stop()


def test_hostile_document_text_renders_inert():
    from rag.render import highlighted, md_escape

    hostile = "<script>alert(1)</script> ![x](http://evil.example/p.png) [click](http://evil.example) :red[big]"
    escaped = md_escape(hostile)
    assert "![" not in escaped and "](" not in escaped and "<script>" not in escaped
    assert ":red[" not in escaped
    marked = highlighted(hostile, 0, 8)
    assert marked.startswith(":orange-background[") and "](" not in marked


def test_app_never_allows_raw_html():
    assert "unsafe_allow_html" not in (ROOT / "app.py").read_text().replace('`unsafe_allow_html` is never used', "")
