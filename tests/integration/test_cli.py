"""The `rag` command: a thin shell, clear errors, exit codes."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from rag.cli import app

runner = CliRunner()


def test_ask_prints_answer_and_numbered_sources(seed_index, monkeypatch):
    monkeypatch.setenv("RAG_PERSIST_DIR", str(seed_index["persist"]))
    result = runner.invoke(app, ["ask", "When was Li Shangfu appointed defense minister?"])
    assert result.exit_code == 0, result.output
    assert "March" in result.output and "[1]" in result.output and ".txt" in result.output


def test_ask_json_is_the_answer_object(seed_index, monkeypatch):
    monkeypatch.setenv("RAG_PERSIST_DIR", str(seed_index["persist"]))
    result = runner.invoke(app, ["ask", "Who is Liu Pengyu?", "--json"])
    data = json.loads(result.stdout)
    assert data["citations"][0]["quote"] and data["abstained"] is False


def test_a_date_range_keeps_or_drops_undated_articles(seed_index, monkeypatch):
    monkeypatch.setenv("RAG_PERSIST_DIR", str(seed_index["persist"]))
    question = ["ask", "Blinken visit", "--from", "2023-10-01", "--to", "2023-10-31", "--k", "10", "--json"]
    kept = json.loads(runner.invoke(app, question).stdout)["passages"]
    dropped = json.loads(runner.invoke(app, [*question, "--no-undated"]).stdout)["passages"]
    assert {p["date"] for p in dropped} and all(p["date"] for p in dropped)
    assert any(p["date"] is None for p in kept)


def test_empty_question_is_a_clear_error_not_a_traceback(seed_index, monkeypatch):
    monkeypatch.setenv("RAG_PERSIST_DIR", str(seed_index["persist"]))
    result = runner.invoke(app, ["ask", "   "])
    assert result.exit_code == 2
    assert "The question is empty" in result.output and "Traceback" not in result.output


def _config_value(output: str, setting: str) -> str:
    """The value cell of one setting's row in `rag config`'s table."""
    for line in output.splitlines():
        cells = [cell.strip() for cell in line.split("│")]
        if setting in cells:
            return cells[cells.index(setting) + 1]
    raise AssertionError(f"no row for {setting!r} in:\n{output}")


def test_config_never_shows_the_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert _config_value(runner.invoke(app, ["config"]).output, "openai_api_key") == "not set"
    monkeypatch.setenv("OPENAI_API_KEY", "sk-planted-secret-123")
    result = runner.invoke(app, ["config"])
    assert result.exit_code == 0
    assert "sk-planted-secret-123" not in result.output
    assert _config_value(result.output, "openai_api_key") == "set"


def test_ingest_reports_a_summary(docs_copy, tmp_path):
    result = runner.invoke(app, ["ingest", str(docs_copy), "--persist-dir", str(tmp_path / "vs")])
    assert result.exit_code == 0, result.output
    assert "5 added" in result.output and "chunks in the index" in result.output
