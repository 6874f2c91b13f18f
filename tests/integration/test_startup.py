"""The process's engine start-up (`app.startup`), which `python -m app.serve` (make run) begins before the first visit."""

from __future__ import annotations

import shutil

import pytest

from app.startup import begin
from rag import RAG, NotIngestedError


@pytest.fixture
def index_copy(seed_index, tmp_path, monkeypatch):
    vs = tmp_path / "vs"
    shutil.copytree(seed_index["persist"], vs)
    monkeypatch.setenv("RAG_DOCS_DIR", str(seed_index["docs"]))
    monkeypatch.setenv("RAG_PERSIST_DIR", str(vs))
    return vs


def test_every_visit_joins_the_one_start_up_for_the_same_settings(index_copy):
    first = begin()
    assert begin() is first
    bot = first.engine()
    assert first.stage == "Ready" and first.wait(0)
    assert first.elapsed == first.seconds > 0
    assert begin().engine() is bot
    assert "sanctions" in bot.ask("Why did China refuse the Austin meeting?").text


def test_other_settings_begin_another_start_up(index_copy):
    first = begin()
    other = begin(top_k=3)
    assert other is not first
    assert other.engine().settings.top_k == 3


def test_a_start_up_can_index_the_folder_first_and_reports_what_it_did(docs_copy, tmp_path, monkeypatch):
    monkeypatch.setenv("RAG_DOCS_DIR", str(docs_copy))
    monkeypatch.setenv("RAG_PERSIST_DIR", str(tmp_path / "new-index"))
    startup = begin(ingest=True)
    bot = startup.engine()
    assert len(startup.report.added) == 5 and startup.report.chunks > 0
    assert not bot.ask("Whom did Blinken meet in Beijing?").abstained


def test_a_failed_start_up_says_why_and_the_next_visit_tries_again(docs_copy, tmp_path, monkeypatch):
    monkeypatch.setenv("RAG_DOCS_DIR", str(docs_copy))
    monkeypatch.setenv("RAG_PERSIST_DIR", str(tmp_path / "never-indexed"))
    failed = begin()
    with pytest.raises(NotIngestedError, match="No articles are indexed"):
        failed.engine()
    assert failed.failed and failed.stage == "Failed"

    RAG().ingest()  # what the user does after reading the hint
    retry = begin()
    assert retry is not failed
    assert not retry.engine().ask("Whom did Blinken meet in Beijing?").abstained


def test_invalid_settings_are_a_clear_error(monkeypatch):
    from rag import SettingsError

    monkeypatch.setenv("RAG_TOP_K", "0")
    with pytest.raises(SettingsError, match="top_k"):
        begin()
