"""What a fitted answer model records about its making (benchmarks/provenance.py), without an index."""

from __future__ import annotations

import hashlib
import re
from importlib.metadata import version

from benchmarks.provenance import provenance


def test_the_fit_records_the_revision_the_libraries_and_a_hash_per_question_set(tmp_path):
    questions = tmp_path / "sport_qa.jsonl"
    questions.write_text('{"id": "s1", "question": "Who won the Six Nations in 2005?", "answerable": false}\n')
    made = provenance(["--sets", str(questions)], [questions, questions], [])
    assert re.fullmatch(r"[0-9a-f]{40}|unknown", made["git_revision"])
    assert made["libraries"]["numpy"] == version("numpy")
    assert {"scipy", "scikit-learn"} <= set(made["libraries"]), "the [fit] extra's versions (None when absent)"
    assert made["sets_sha256"] == {str(questions): hashlib.sha256(questions.read_bytes()).hexdigest()}, "once a set"
    assert made["command"].endswith(f"--sets {questions}") and made["indexes"] == {}
