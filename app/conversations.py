"""Conversations that outlive the page: turns and feedback in one SQLite file (default: in the index folder).

A conversation is keyed by a random id that the app keeps in the page's URL (`?c=<id>`), so a reload
or a server restart finds it again. It belongs to the browser that made it (`owner`: the hash of that
browser's secret, see `app.ownership`): listing, opening, deleting and exporting take the owner, so a
URL with another browser's id opens nothing. Thumbs up/down are stored with the question and the answer and
export as JSONL that `rag eval` loads (`rag.evaluation.cases.EvalCase`): a liked answer becomes a case (its
standalone question) whose expected fact is its short answer (or a key phrase of its first quote), a liked refusal an unanswerable case, and a
disliked answer a commented-out line for a maintainer to correct (`rag eval` skips `#` lines).
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rag.answering.question import question_shape
from rag.answering.spans import new_spans
from rag.schema import Answer

_ID = re.compile(r"^[0-9a-f]{32}$")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, created REAL NOT NULL, updated REAL NOT NULL,
    owner TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS turns (
    conversation TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    position INTEGER NOT NULL, answer TEXT NOT NULL, searched TEXT NOT NULL DEFAULT '',
    rating INTEGER, rated REAL, PRIMARY KEY (conversation, position));
"""


@dataclass(frozen=True)
class Turn:
    answer: Answer
    searched: str  # what was searched, in the words shown with a refusal (filters included)
    rating: int | None  # 1 thumbs up, 0 thumbs down


@dataclass(frozen=True)
class Conversation:
    id: str
    title: str
    created: float


def valid_id(value: object) -> bool:
    return isinstance(value, str) and bool(_ID.match(value))


class ConversationStore:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.executescript(_SCHEMA)
            columns = {row[1] for row in db.execute("PRAGMA table_info(conversations)")}
            if "owner" not in columns:  # a file from before conversations had owners: they stay shared
                db.execute("ALTER TABLE conversations ADD COLUMN owner TEXT NOT NULL DEFAULT ''")

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # One short connection per call: sessions run in different threads; WAL lets readers in
        # while one writes.
        db = sqlite3.connect(self.path, timeout=10)
        try:
            db.execute("PRAGMA foreign_keys = ON")
            db.execute("PRAGMA journal_mode = WAL")
            with db:
                yield db
        finally:
            db.close()

    def create(self, title: str, owner: str) -> str:
        cid = uuid.uuid4().hex
        now = time.time()
        with self._connect() as db:
            db.execute("INSERT INTO conversations (id, title, created, updated, owner) VALUES (?, ?, ?, ?, ?)",
                       (cid, title.strip()[:80] or "Untitled", now, now, owner))
        return cid

    def exists(self, cid: str, owner: str) -> bool:
        with self._connect() as db:
            return db.execute("SELECT 1 FROM conversations WHERE id = ? AND owner = ?",
                              (cid, owner)).fetchone() is not None

    def list(self, owner: str, limit: int = 30) -> list[Conversation]:
        """The owner's conversations, most recently used first."""
        with self._connect() as db:
            rows = db.execute("SELECT id, title, created FROM conversations WHERE owner = ? "
                              "ORDER BY updated DESC LIMIT ?", (owner, limit)).fetchall()
        return [Conversation(*row) for row in rows]

    def turns(self, cid: str, owner: str) -> list[Turn]:
        with self._connect() as db:
            rows = db.execute("SELECT answer, searched, rating FROM turns JOIN conversations ON id = conversation "
                              "WHERE conversation = ? AND owner = ? ORDER BY position", (cid, owner)).fetchall()
        return [Turn(Answer.model_validate_json(a), s, r) for a, s, r in rows]

    def add_turn(self, cid: str, answer: Answer, searched: str = "") -> int:
        """Append a turn; returns its position."""
        with self._connect() as db:
            position = db.execute("SELECT COUNT(*) FROM turns WHERE conversation = ?", (cid,)).fetchone()[0]
            db.execute("INSERT INTO turns (conversation, position, answer, searched) VALUES (?, ?, ?, ?)",
                       (cid, position, answer.model_dump_json(), searched))
            db.execute("UPDATE conversations SET updated = ? WHERE id = ?", (time.time(), cid))
        return position

    def rate(self, cid: str, position: int, rating: int | None) -> None:
        with self._connect() as db:
            db.execute("UPDATE turns SET rating = ?, rated = ? WHERE conversation = ? AND position = ?",
                       (rating, time.time() if rating is not None else None, cid, position))

    def delete(self, cid: str, owner: str) -> None:
        with self._connect() as db:
            db.execute("DELETE FROM conversations WHERE id = ? AND owner = ?", (cid, owner))

    def rated(self, owner: str | None = None) -> list[tuple[str, int, Turn]]:
        """Every rated turn (of one owner's conversations, or of all), oldest rating first:
        (conversation id, position, turn)."""
        with self._connect() as db:
            rows = db.execute("SELECT conversation, position, answer, searched, rating FROM turns "
                              "JOIN conversations ON id = conversation WHERE rating IS NOT NULL "
                              "AND (? IS NULL OR owner = ?) ORDER BY rated", (owner, owner)).fetchall()
        return [(c, p, Turn(Answer.model_validate_json(a), s, r)) for c, p, a, s, r in rows]

    def export_feedback(self, owner: str | None = None) -> str:
        """The rated answers (of one owner, or all) as a regression set in `rag eval`'s JSONL format."""
        lines = ["# Feedback from the app. Liked answers are cases; disliked ones are commented out:",
                 "# correct their key_facts and sources, then remove the '# ' to add them."]
        for cid, position, turn in self.rated(owner):
            case = feedback_case(f"feedback-{cid[:8]}-{position}", turn.answer)
            line = json.dumps(case, ensure_ascii=False)
            lines.append(line if turn.rating == 1 else f"# disliked: {line}")
        return "\n".join(lines) + "\n"


def feedback_case(case_id: str, answer: Answer) -> dict:
    """An `EvalCase` (as a dict) from an answer: what it said becomes what is expected of the next run.

    The question is the one searched for (a follow-up's standalone rewrite: "and when did it say that?"
    means nothing alone); the expected fact is the short answer, else a key phrase of the first quote,
    so that a rewording of the same answer still passes."""
    question = answer.standalone_question or answer.question
    if answer.abstained or answer.form == "refusal":
        return {"id": case_id, "question": question, "answerable": False}
    cited = {c.n: c for c in answer.citations}
    direct = cited.get(answer.direct_citation) if answer.direct_answer else None
    if direct is not None:
        facts, sources = [[answer.direct_answer]], [direct.source]
    else:
        facts = [[key_phrase(question, c.quote)] for c in answer.citations[:1]]
        sources = list(dict.fromkeys(c.source for c in answer.citations))
    case = {"id": case_id, "question": question, "reference_answer": re.sub(r"\s*\[\d+\]", "", answer.text),
            "key_facts": facts, "sources": sources, "answerable": True}
    if not facts:  # an answer without citations cannot say what to expect
        case["reference_contexts"] = [answer.text]
    return case


def key_phrase(question: str, quote: str) -> str:
    """What in `quote` answers `question`: the first span of the asked kind (a date for "when", a figure
    for "how many") that the question does not already say, else the first such name; else the quote."""
    asked = {w.lower() for w in re.findall(r"[\w'’-]+", question)}
    kind = question_shape(question).kind
    found = (new_spans(quote, kind, asked) if kind != "reason" else []) or new_spans(quote, "entity", asked)
    return found[0].text if found else quote
