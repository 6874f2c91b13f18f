"""`rag eval --judge`: llama-index's correctness and faithfulness evaluators, asking the configured model."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from rag import RAG
from rag.cli import app
from rag.evaluation.cases import load_cases
from rag.evaluation.harness import run_cases
from rag.evaluation.judge import Judge

from ..support.fake_openai import FakeOpenAI
from ..support.helpers import REGRESSION_SET


def test_judged_metrics_come_from_the_model(seed_index):
    server = FakeOpenAI().start()
    try:
        bot = RAG(docs_dir=seed_index["docs"], persist_dir=seed_index["persist"], openai_base_url=server.base_url,
                  openai_api_key="k", answerer="extractive")
        cases = [c for c in load_cases(REGRESSION_SET) if c.id in ("why-refuse-austin", "sanctions-year", "u-world-cup")]
        run = run_cases(bot, cases, judge=Judge(bot.model))
        assert run.metrics["llm_correctness_mean"] == 4.5 and run.metrics["llm_faithfulness_rate"] == 1.0
        judged = {r.id: r for r in run.results}
        assert judged["sanctions-year"].judge_faithful is True
        assert judged["u-world-cup"].judge_correctness is None, "unanswerable cases are not judged"
        prompts = [r["body"]["messages"][0]["content"] for r in server.requests]
        assert any("expert evaluation system" in p and "2018" in p for p in prompts), "the answer was sent to the judge"
        assert any("supported by the context" in p for p in prompts)
    finally:
        server.stop()


def test_judge_without_a_model_is_a_clear_error(seed_index, tmp_path, monkeypatch):
    monkeypatch.setenv("RAG_PERSIST_DIR", str(seed_index["persist"]))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    result = CliRunner().invoke(app, ["eval", str(REGRESSION_SET), "--judge", "--runs-dir", str(tmp_path)])
    assert result.exit_code == 2 and "--judge needs a model" in result.output


def test_rag_eval_judge_records_the_judged_metrics(seed_index, tmp_path, monkeypatch):
    server = FakeOpenAI().start()
    try:
        monkeypatch.setenv("RAG_PERSIST_DIR", str(seed_index["persist"]))
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "k")
        small = tmp_path / "small.jsonl"
        small.write_text("\n".join(REGRESSION_SET.read_text().splitlines()[:2]) + "\n")
        result = CliRunner().invoke(app, ["eval", str(small), "--judge", "--answerer", "extractive",
                                          "--runs-dir", str(tmp_path / "runs"), "--no-baseline"])
        assert result.exit_code == 0, result.output
        record = json.loads(next((tmp_path / "runs").glob("*.json")).read_text())
        assert record["metrics"]["llm_correctness_mean"] == 4.5
    finally:
        server.stop()
