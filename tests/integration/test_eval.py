"""`rag eval`: formats, clear errors for malformed sets, run records, baselines and exit codes."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from rag.cli import app
from rag.errors import EvalSetError
from rag.evaluation.cases import load_cases, save_labelled_rag_dataset
from rag.evaluation.harness import run_cases

from ..support.helpers import REGRESSION_SET

runner = CliRunner()


def test_a_broken_answerer_fails_the_run_and_names_the_flipped_cases(seed_index, tmp_path, monkeypatch):
    monkeypatch.setenv("RAG_PERSIST_DIR", str(seed_index["persist"]))
    runs = tmp_path / "runs"
    # The seed set is held to its own targets (rag/evaluation/sets.py), with no --threshold needed.
    good = runner.invoke(app, ["eval", str(REGRESSION_SET), "--runs-dir", str(runs)])
    assert good.exit_code == 0, good.output
    assert "PASSED" in good.output

    broken = runner.invoke(app, ["eval", str(REGRESSION_SET), "--runs-dir", str(runs), "--answerer", "lead"])
    assert broken.exit_code == 1, broken.output
    assert "flipped from pass to fail" in broken.output
    records = sorted(runs.glob("*.json"))
    assert len(records) == 2
    before, after = (json.loads(r.read_text())["cases"] for r in records)
    flipped = [b["id"] for b, a in zip(before, after) if b["passed"] and not a["passed"]]
    assert flipped and all(case_id in broken.output for case_id in flipped), "every flipped case is named"
    record = json.loads(records[-1].read_text())
    assert record["answerer"] == "lead" and record["settings"]["top_k"] == 5 and record["git_revision"]
    assert len(record["cases"]) == len(load_cases(REGRESSION_SET))
    report = records[-1].with_suffix(".md").read_text()
    assert "Flipped from pass to fail" in report and "## Failed cases" in report


def test_threshold_override_and_missing_baseline(seed_index, tmp_path, monkeypatch):
    monkeypatch.setenv("RAG_PERSIST_DIR", str(seed_index["persist"]))
    small = tmp_path / "small.jsonl"
    small.write_text("\n".join(REGRESSION_SET.read_text().splitlines()[:3]) + "\n")
    strict = runner.invoke(app, ["eval", str(small), "--runs-dir", str(tmp_path / "r"), "--no-baseline",
                                 "--threshold", "latency_ms_median=0.001"])
    assert strict.exit_code == 1 and "below threshold" in strict.output
    missing = runner.invoke(app, ["eval", str(small), "--baseline", str(tmp_path / "nope.json")])
    assert missing.exit_code == 2 and "does not exist" in missing.output


@pytest.mark.parametrize("line,message", [
    ("{not json", r"bad.jsonl:2: not valid JSON"),
    ('{"id": "x", "answerable": false}', r"bad.jsonl:2: field 'question'"),
    ('{"id": "x", "question": "q?", "key_facts": "sanctions", "sources": ["a.txt"]}', r"field 'key_facts'"),
    ('{"id": "x", "question": "q?"}', r"needs key_facts and sources"),
    ('{"id": "ok", "question": "again?", "answerable": false}', r"bad.jsonl:2: field 'id': duplicate id 'ok'"),
    ('{"id": "x", "question": "q?", "answerable": false, "colour": "red"}', r"field 'colour'"),
])
def test_malformed_lines_name_the_line_and_the_field(tmp_path, line, message):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "ok", "question": "fine?", "answerable": false}\n' + line + "\n")
    with pytest.raises(EvalSetError, match=message):
        load_cases(path)


def test_a_labelled_rag_dataset_written_by_llama_index_round_trips(tmp_path, bot):
    from llama_index.core.llama_dataset import CreatedBy, CreatedByType, LabelledRagDataExample, LabelledRagDataset

    context = ("Mr Li plans to attend the Singapore event from May 31 to June 4, "
               "the official Xinhua News Agency reported.")
    original = LabelledRagDataset(examples=[
        LabelledRagDataExample(query="When will Li attend the Singapore event?", reference_contexts=[context],
                               reference_answer="From May 31 to June 4.", query_by=CreatedBy(type=CreatedByType.HUMAN),
                               reference_answer_by=CreatedBy(type=CreatedByType.AI, model_name="gpt-4o")),
        LabelledRagDataExample(query="Who is Liu Pengyu?", reference_contexts=[
            "The stumbling block to cooperation was articulated on Wednesday by Liu Pengyu, the spokesman for "
            "China’s embassy in Washington."], reference_answer="The embassy spokesman."),
    ])
    written = tmp_path / "lrd.json"
    original.save_json(str(written))

    cases = load_cases(written)
    assert [c.question for c in cases] == [e.query for e in original.examples]
    again = tmp_path / "again.json"
    save_labelled_rag_dataset(cases, again)
    assert LabelledRagDataset.from_json(str(again)).model_dump() == original.model_dump()

    run = run_cases(bot, cases)
    assert run.metrics["hit_rate@5"] == 1.0, run.results
    assert all(r.key_facts_ok is None for r in run.results), "imported cases have no key facts to check"
    assert all(not r.abstained and r.citations_correct >= 1 for r in run.results), "each cites its context"
