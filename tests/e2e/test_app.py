"""The Streamlit app through streamlit.testing (AppTest): a real script run against a real index."""

from __future__ import annotations

import re
import shutil

import pytest
from streamlit.testing.v1 import AppTest

from ..support.helpers import ROOT, answer_rows, popover_labels

APP = str(ROOT / "app.py")
AUSTIN = "Why did China refuse the Austin meeting?"


@pytest.fixture
def env(seed_index, docs_copy, tmp_path, monkeypatch):
    """A private copy of the seeds and their index (uploads and removals must not touch the shared
    index); conversations and regression runs in the test's own folder."""
    vs = tmp_path / "vs"
    shutil.copytree(seed_index["persist"], vs)
    monkeypatch.setenv("RAG_DOCS_DIR", str(docs_copy))
    monkeypatch.setenv("RAG_PERSIST_DIR", str(vs))
    monkeypatch.setenv("RAG_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.chdir(ROOT)
    return {"docs": docs_copy, "persist": vs, "tmp": tmp_path}


def new_session(query_params: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    for name, value in (query_params or {}).items():
        at.query_params[name] = value
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.fixture
def app(env):
    return new_session()


def ask(at: AppTest, question: str) -> AppTest:
    at.chat_input[0].set_value(question).run()
    assert not at.exception, at.exception
    return at


def view(at: AppTest, name: str) -> AppTest:
    at.radio(key="view").set_value(name).run()
    assert not at.exception, at.exception
    return at


def page_text(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [w.value for w in at.warning]
    parts += [e.value for e in at.error] + [i.value for i in at.info] + [s.value for s in at.success]
    return ("\n".join(parts) + "\n" + "\n".join(e.label for e in at.expander)).replace("\\", "")


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


def test_empty_screen_offers_example_questions(app):
    assert AUSTIN in [b.label for b in app.button]


def test_an_answer_has_a_marker_per_citation_and_its_sources_grouped_by_article(app):
    ask(app, AUSTIN)
    text = page_text(app)
    assert "sanctions" in text and ":blue-badge[1]" in text
    labels = [e.label for e in app.expander]
    assert labels and labels[0].startswith("\\[1\\]")
    assert not any("_" in label and ".txt" in label for label in labels), "labels are titles, not hashed file names"
    titles = [label.split(" ", 1)[1] for label in labels]
    assert len(titles) == len(set(titles)), "one source per article"
    quote_view = "\n".join(m.value for m in app.expander[0].markdown)
    assert ":yellow-background[**" in quote_view, "the quote is highlighted in its paragraph"
    popovers = popover_labels(app)
    assert "\\[1\\]" in popovers, "the marker opens its source in place"
    [copy] = app.get("iframe")  # one click copies: a button in a small page, not a popover to open first
    assert "Copy answer" in copy.proto.srcdoc and "Sources:" in copy.proto.srcdoc


def test_the_pentagon_follow_up_is_rewritten_cleanly_and_its_monday_is_dated(app):
    ask(app, "What did the Pentagon say?")
    ask(app, "When did it say that?")
    text = page_text(app)
    assert "searched for: When did the Pentagon say that?" in text
    short = [m.value for m in app.chat_message[3].markdown if m.value.startswith("####")]
    assert short == ["#### Monday \\(29 May 2023\\)"], "the article is dated Tuesday 30 May 2023"


def test_a_compare_overview_names_each_article_once_with_at_most_two_sentences_each(app):
    ask(app, "Compare how the articles describe US-China military relations")
    rows = [r.replace("\\", "") for r in answer_rows(app.chat_message[1])]
    heads = [r for r in rows if r.startswith("**")]
    assert len(heads) >= 2 and len(heads) == len(set(heads)), "one title per article group"
    assert all(re.fullmatch(r"\*\*.+\*\* · (\d{1,2} [A-Z][a-z]+ \d{4}|no date)", h) for h in heads), heads
    assert not any(re.search(r"\d{4}-\d\d-\d\d", r) for r in rows), "one date format"
    per_group = [0]
    for row in rows[rows.index(heads[0]):]:
        if row.startswith("**"):
            per_group.append(0)
        else:
            per_group[-1] += 1
    assert max(per_group) <= 2, "\n".join(rows)
    for head in heads:  # a sentence does not open with its article's title again
        title = head.split("**")[1]
        assert not any(r.startswith(title) for r in rows if not r.startswith("**")), title


def test_the_chat_box_stops_at_the_question_limit(env, monkeypatch):
    monkeypatch.setenv("RAG_MAX_QUESTION_CHARS", "120")
    at = new_session()
    assert at.chat_input[0].proto.max_chars == 120


def test_an_example_button_asks_it(app):
    next(b for b in app.button if b.label.startswith("When were the sanctions")).click().run()
    assert "2018" in page_text(app)


def test_a_follow_up_uses_the_conversation(app):
    ask(app, "Who is Liu Pengyu?")
    ask(app, "And what did he say must happen before cooperation?")
    text = page_text(app)
    assert "searched for: What did Liu Pengyu say" in text
    assert "removed" in text
    assert len(app.chat_message) == 4


def test_a_refusal_is_plain_words_without_internal_numbers(app):
    ask(app, "Who won the 2022 World Cup?")
    text = page_text(app)
    assert "The articles don't say. I searched all 5 indexed articles" in text
    assert "Rephrase" in text and "Related passages (not an answer)" in text
    for internal in ("support", "coverage", "Why:", "0.4", "<"):
        assert internal not in text
    assert not [e for e in app.expander if e.label.startswith("\\[")], "related passages are not sources"


def test_a_date_filter_keeps_undated_articles_by_choice_and_a_refusal_names_it(app):
    import datetime as dt

    app.sidebar.checkbox(key="use_dates").check().run()
    app.sidebar.date_input(key="date_from").set_value(dt.date(2024, 1, 1)).run()
    app.sidebar.date_input(key="date_to").set_value(dt.date(2024, 12, 31)).run()
    assert app.sidebar.checkbox(key="include_undated").value is True
    ask(app, AUSTIN)  # no article is dated 2024: only the undated ones are searched, and they answer it
    assert "sanctions" in page_text(app)
    assert app.expander and all(e.label.endswith("no date") for e in app.expander)

    app.sidebar.checkbox(key="include_undated").uncheck().run()
    ask(app, AUSTIN)
    text = page_text(app)
    assert ("No article matches your filter: dated 1 January 2024 to 31 December 2024, articles without a date "
            "left out.") in text
    assert "I searched" not in text and "related passages below" not in text
    app.button(key=next(b.key for b in app.button if b.label == "Search every article")).click().run()
    assert app.sidebar.checkbox(key="use_dates").value is False
    assert len(app.chat_message) == 6, "the same question is asked again"
    assert app.chat_message[4].markdown[0].value == AUSTIN
    again = "\n".join(m.value for m in app.chat_message[5].markdown).replace("\\", "")
    assert "sanctions" in again and not app.chat_message[5].warning, "answered, over every article"


def test_a_refusal_under_a_chosen_article_is_asked_again_over_every_article(app, env):
    rt_piece = next(p.name for p in env["docs"].iterdir() if "military cooperation deal" in p.read_text())
    app.sidebar.multiselect(key="sources").select(rt_piece).run()
    ask(app, "Whom did Blinken meet in Beijing?")
    assert app.chat_message[1].warning, "the chosen article does not say"
    app.button(key=next(b.key for b in app.button if b.label == "Search every article")).click().run()
    assert app.sidebar.multiselect(key="sources").value == []
    assert len(app.chat_message) == 4 and app.chat_message[2].markdown[0].value == "Whom did Blinken meet in Beijing?"
    assert not app.chat_message[3].warning and app.chat_message[3].expander, "answered, with its sources"


def test_a_reversed_date_range_is_an_error_and_nothing_is_asked(app):
    import datetime as dt

    app.sidebar.checkbox(key="use_dates").check().run()
    app.sidebar.date_input(key="date_from").set_value(dt.date(2024, 1, 1)).run()
    assert any("after the end date" in e.value for e in app.error)
    assert app.chat_input[0].proto.disabled


def test_new_conversation_clears_the_history(app):
    ask(app, "Who is Liu Pengyu?")
    app.button(key="new_chat").click().run()
    assert len(app.chat_message) == 0 and "c" not in app.query_params


def test_a_new_conversation_is_listed_at_once_with_its_time_and_who_sees_it(app):
    ask(app, "Who is Liu Pengyu?")  # one run: the answer, and the list that holds it
    assert [b.label for b in app.sidebar.button if b.key.startswith("open-")] == ["Who is Liu Pengyu?"]
    captions = [c.value for c in app.sidebar.caption]
    assert any(re.fullmatch(r"\d\d:\d\d", c) for c in captions), captions
    assert any("Everyone who can open this app sees these conversations" in c for c in captions), \
        "no owner cookie here (as under plain streamlit run): the sidebar says the list is shared"


def test_a_conversation_is_restored_in_a_new_session_with_the_same_id_and_can_be_deleted(app):
    ask(app, "Who is Liu Pengyu?")
    cid = app.query_params["c"]
    cid = cid[0] if isinstance(cid, list) else cid
    again = new_session({"c": cid})  # a reload, or a restarted server: only the URL is left
    assert len(again.chat_message) == 2 and "Liu Pengyu" in page_text(again)
    assert any(b.label == "Who is Liu Pengyu?" for b in again.sidebar.button)
    again.button(key=f"delete-{cid}").click().run()
    assert len(again.chat_message) == 0 and "c" not in again.query_params
    assert len(new_session({"c": cid}).chat_message) == 0


def test_feedback_is_stored_with_the_question_and_answer(app, env):
    from app.conversations import ConversationStore

    ask(app, "When were the sanctions on Li Shangfu imposed?")
    app.feedback[0].set_value(1).run()
    rated = ConversationStore(env["persist"] / "conversations.sqlite3").rated()
    assert len(rated) == 1 and rated[0][2].rating == 1
    stored = rated[0][2].answer
    assert stored.question == "When were the sanctions on Li Shangfu imposed?" and "2018" in stored.text
    assert app.sidebar.get("download_button"), "the export is offered"
    cid = app.query_params["c"]
    again = new_session({"c": cid[0] if isinstance(cid, list) else cid})
    assert again.feedback[0].value == 1, "the thumbs are shown as they were left"


def test_an_upload_is_listed_at_once_answerable_and_removed_after_confirmation(app):
    view(app, "Library")
    assert len(app.dataframe[0].value) == 5
    app.file_uploader[0].upload(
        "penguins.md", b"# Penguin parliament\n\nThe penguin parliament voted on fish quotas on Tuesday in Oslo.\n",
        "text/markdown").run()
    app.button(key="add").click().run()
    assert not app.exception, app.exception
    assert any("1 added" in s.value for s in app.success)
    table = app.dataframe[0].value
    assert len(table) == 6 and "Penguin parliament" in list(table["Title"]), "the table shows the upload at once"
    assert "6 articles" in page_text(app)

    view(app, "Chat")
    ask(app, "Where did the penguin parliament vote on fish quotas?")
    assert "Oslo" in page_text(app)

    view(app, "Library")
    app.selectbox(key="remove_choice").set_value("penguins.md").run()
    app.button(key="remove").click().run()
    warning = app.warning[0].value.replace("\\", "")
    assert "Remove Penguin parliament (penguins.md)?" in warning and "deletes the file" in warning
    app.button(key="confirm_remove_no").click().run()
    assert len(app.dataframe[0].value) == 6, "cancel removes nothing"
    app.selectbox(key="remove_choice").set_value("penguins.md").run()
    app.button(key="remove").click().run()
    app.button(key="confirm_remove_yes").click().run()
    assert any("1 removed" in s.value for s in app.success)
    assert len(app.dataframe[0].value) == 5 and "penguins.md" not in app.selectbox(key="remove_choice").options

    view(app, "Chat")  # the answer given before the removal still quotes it, and says it is gone
    notes = [c.value for e in app.expander for c in e.caption]
    assert any("since been removed from the library" in note for note in notes), notes


def test_re_indexing_shows_files_added_to_the_folder_at_once(app, env):
    view(app, "Library")
    (env["docs"] / "walrus.txt").write_text("Walrus census\n\nThe walrus census counted 412 animals in Svalbard.\n")
    app.button(key="reindex").click().run()
    assert any("1 added" in s.value for s in app.success)
    assert "Walrus census" in list(app.dataframe[0].value["Title"])


def test_an_article_can_be_opened_to_read_its_cleaned_text(app):
    from rag import RAG

    view(app, "Library")
    article_id = RAG().articles()[0]["id"]
    app.selectbox(key="read_choice").set_value(article_id).run()
    assert RAG().article(article_id).text[:80] in page_text(app).replace("  \n", "\n")


def test_the_regression_page_reads_in_one_look(env, monkeypatch):
    sets = env["tmp"] / "sets"
    sets.mkdir()
    lines = (ROOT / "tests" / "regression" / "seed_qa.jsonl").read_text().splitlines()
    cases = [line for line in lines if line.strip() and not line.startswith("#")]
    unanswerable = [c for c in cases if '"answerable": false' in c]
    made_to_fail = ('{"id": "made-to-fail", "question": "Why did China refuse the Austin meeting?", '
                    '"key_facts": [["zebra crossing"]], "sources": ["000_88fd1b36135ac6ea.txt"]}')
    (sets / "small_qa.jsonl").write_text("\n".join(cases[:3] + unanswerable[:1] + [made_to_fail]) + "\n")
    monkeypatch.setenv("RAG_EVAL_SETS_DIR", str(sets))
    at = view(new_session(), "Regression")
    at.button(key="run_eval").click().run()
    assert not at.exception, at.exception
    text = page_text(at)
    assert "No previous run" in text and "Failed: answers holding every expected fact" in text
    rows = at.table[0].value
    assert "Answers holding every expected fact" in list(rows["Measure"])
    assert not any("@" in m or "_" in m for m in rows["Measure"]), "measure names are words"
    assert any(v.endswith(" ms") for v in rows["This run"])
    at.button(key="run_eval").click().run()
    assert "Compared with the previous run" in page_text(at)
    assert set(at.table[0].value["Change since the previous run"]) - {"no change"} <= {
        v for v in at.table[0].value["Change since the previous run"] if v.endswith(" ms") or "points" in v}
    assert len(list((env["tmp"] / "runs").glob("*.json"))) == 2
    assert "made-to-fail" in "\n".join(e.label for e in at.expander).replace("\\", "")
    for case in at.expander:  # each failed case: why, what was expected, what was answered
        shown = "\n".join(m.value for m in case.markdown).replace("\\", "")
        assert "**Answer**" in shown and ("**Expected facts**" in shown or "declined" in shown), shown


def test_a_held_out_set_says_it_is_known_hard_and_passes_its_own_targets(env, monkeypatch):
    """On a fresh clone the first set listed is the held-out one: the page says what it is and the
    targets it is held to before a run, and a working install passes them (a miss is then news)."""
    sets = env["tmp"] / "sets"
    sets.mkdir()
    shutil.copy(ROOT / "tests" / "regression" / "holdout_qa.jsonl", sets)
    (sets / "mine_qa.jsonl").write_text('{"id": "u", "question": "Who won the 1966 World Cup?", "answerable": false}\n')
    monkeypatch.setenv("RAG_EVAL_SETS_DIR", str(sets))
    at = view(new_session(), "Regression")
    about = page_text(at)
    assert "holdout_qa.jsonl: held out" in about and "Known to be hard" in about
    assert "answers holding every expected fact at least 75%" in about, "the set's own target, in words"
    at.button(key="run_eval").click().run()
    assert not at.exception, at.exception
    assert "Passed: every measure meets its target" in page_text(at)
    assert "at least 75%: met" in list(at.table[0].value["Target"])
    at.selectbox(key="qa_file").set_value(sets / "mine_qa.jsonl").run()
    assert "not one of the project's sets, so the default targets apply" in page_text(at)
    assert "answers holding every expected fact at least 85%" in page_text(at)


def test_settings_switch_the_answerer(env, monkeypatch):
    from ..support.fake_openai import FakeOpenAI

    server = FakeOpenAI().start()
    try:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-app-test")
        at = new_session()
        options = at.sidebar.selectbox(key="answerer").options
        assert len(options) == 2 and options[0].startswith("Offline") and server.base_url in options[1]
        ask(at, AUSTIN)
        assert "Answered by: the model (openai" in page_text(at)
        at.sidebar.selectbox(key="answerer").set_value("extractive").run()
        ask(at, AUSTIN)
        assert "Answered by: the offline answerer" in page_text(at)
        server.scenario = "http_500"
        at.sidebar.selectbox(key="answerer").set_value("openai").run()
        ask(at, AUSTIN)
        assert at.info and "HTTP 500" in at.info[0].value.replace("\\", "")
    finally:
        server.stop()


def test_the_app_never_allows_raw_html():
    for path in [ROOT / "app.py", *(ROOT / "app").glob("*.py")]:
        code = path.read_text().replace("`unsafe_allow_html` is never used", "")
        assert "unsafe_allow_html" not in code, path


def test_the_library_never_imports_the_app():
    for path in (ROOT / "rag").glob("*.py"):
        assert not any(line.startswith(("from app", "import app")) for line in path.read_text().splitlines()), path
