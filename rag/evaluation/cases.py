"""Regression cases: the typed case, read from our JSONL format or a LlamaIndex LabelledRagDataset.

A case names its question and either key facts (groups of alternatives that must all appear in the
answer) with the source articles that hold them, or, for imported datasets, reference contexts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError, model_validator

from rag.errors import EvalSetError


class EvalCase(BaseModel, extra="forbid"):
    id: str = Field(min_length=1)
    question: str = Field(min_length=1)
    reference_answer: str = ""
    key_facts: list[list[str]] = Field(default_factory=list, description="Groups of alternatives; every group must appear.")
    sources: list[str] = Field(default_factory=list, description="Files (names or paths) that hold the answer.")
    answerable: bool = True
    # Carried for LabelledRagDataset round trips.
    reference_contexts: list[str] = Field(default_factory=list)
    query_by: dict[str, Any] | None = None
    reference_answer_by: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _answerable_needs_facts(self) -> "EvalCase":
        if self.answerable and not self.reference_contexts and (not self.key_facts or not self.sources):
            raise ValueError("an answerable case needs key_facts and sources (or reference_contexts)")
        if any(not group or any(not alt.strip() for alt in group) for group in self.key_facts):
            raise ValueError("key_facts groups must be non-empty lists of non-empty strings")
        return self


def load_cases(path: str | Path) -> list[EvalCase]:
    """Cases from our JSONL format, or from a LlamaIndex LabelledRagDataset `.json` file."""
    path = Path(path)
    if not path.is_file():
        raise EvalSetError(f"The regression set {str(path)!r} does not exist.")
    if path.suffix.lower() == ".json":
        return load_labelled_rag_dataset(path)
    cases: list[EvalCase] = []
    ids: set[str] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvalSetError(f"{path}:{number}: not valid JSON ({exc.msg} at column {exc.colno}).") from None
        try:
            case = EvalCase.model_validate(data)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"]) or "case"
            raise EvalSetError(f"{path}:{number}: field {field!r}: {err['msg']}.") from None
        if case.id in ids:
            raise EvalSetError(f"{path}:{number}: field 'id': duplicate id {case.id!r}.")
        ids.add(case.id)
        cases.append(case)
    if not cases:
        raise EvalSetError(f"The regression set {str(path)!r} has no cases.")
    return cases


def load_labelled_rag_dataset(path: str | Path) -> list[EvalCase]:
    from llama_index.core.llama_dataset import LabelledRagDataset

    try:
        dataset = LabelledRagDataset.from_json(str(path))
    except Exception as exc:  # llama-index raises KeyError/ValidationError/JSONDecodeError for bad files
        raise EvalSetError(f"{path}: not a LabelledRagDataset JSON file ({type(exc).__name__}: {exc}).") from None
    cases = []
    for number, example in enumerate(dataset.examples, start=1):
        try:
            cases.append(EvalCase(
                id=f"{Path(path).stem}-{number:04d}", question=example.query,
                reference_answer=example.reference_answer or "",
                reference_contexts=list(example.reference_contexts or []),
                answerable=bool(example.reference_contexts),
                query_by=example.query_by.model_dump(mode="json") if example.query_by else None,
                reference_answer_by=example.reference_answer_by.model_dump(mode="json") if example.reference_answer_by else None,
            ))
        except ValidationError as exc:
            err = exc.errors()[0]
            raise EvalSetError(f"{path}: example {number}: field {'.'.join(map(str, err['loc']))!r}: {err['msg']}.") from None
    if not cases:
        raise EvalSetError(f"The regression set {str(path)!r} has no examples.")
    return cases


def save_labelled_rag_dataset(cases: list[EvalCase], path: str | Path) -> None:
    """Write cases as a LlamaIndex LabelledRagDataset (key facts and sources have no place there)."""
    from llama_index.core.llama_dataset import CreatedBy, LabelledRagDataExample, LabelledRagDataset

    examples = [LabelledRagDataExample(
        query=c.question, reference_answer=c.reference_answer, reference_contexts=c.reference_contexts or None,
        query_by=CreatedBy(**c.query_by) if c.query_by else None,
        reference_answer_by=CreatedBy(**c.reference_answer_by) if c.reference_answer_by else None,
    ) for c in cases]
    LabelledRagDataset(examples=examples).save_json(str(path))
