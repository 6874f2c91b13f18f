"""The store's lifecycle and error mapping, without opening Chroma: only storage failures mean
"index corrupt"; a bug stays a bug; a rebuild never empties a folder that is not an index."""

from __future__ import annotations

import sqlite3

import pytest

from rag.errors import IndexBusyError, IndexCorruptError
from rag.index.store import MARKER_FILE, Store
from rag.settings import Settings


def _store(folder) -> Store:
    return Store(Settings(_env_file=None, persist_dir=folder))


@pytest.mark.parametrize("failure", [sqlite3.DatabaseError("file is not a database"), OSError("disk gone")])
def test_storage_failures_become_index_corrupt_with_a_rebuild_hint(tmp_path, failure):
    def read():
        raise failure

    with pytest.raises(IndexCorruptError, match="rag ingest --rebuild"):
        _store(tmp_path)._guard(read)


def test_chroma_errors_become_index_corrupt(tmp_path):
    from chromadb.errors import InternalError

    def read():
        raise InternalError("segment missing")

    with pytest.raises(IndexCorruptError):
        _store(tmp_path)._guard(read)


@pytest.mark.parametrize("bug", [TypeError("unsupported operand"), KeyError("ids"), AttributeError("x")])
def test_a_bug_is_not_reported_as_a_corrupt_index(tmp_path, bug):
    def read():
        raise bug

    with pytest.raises(type(bug)):
        _store(tmp_path)._guard(read)


def test_wipe_refuses_a_folder_that_is_not_an_index(tmp_path):
    (tmp_path / "thesis.docx").write_text("years of work")
    with pytest.raises(IndexCorruptError, match="does not look like a rag index"):
        _store(tmp_path).wipe()
    assert (tmp_path / "thesis.docx").exists()


def test_wipe_of_a_damaged_index_empties_it_but_keeps_the_lock_gitkeep_and_conversations(tmp_path):
    (tmp_path / MARKER_FILE).write_text('{"format": 1}')
    (tmp_path / "chroma.sqlite3").write_text("not a database")  # damaged: it does not open
    (tmp_path / "conversations.sqlite3").write_text("the app's saved conversations")
    (tmp_path / "0b6f2a0e-3c1d-4e5f-8a9b-0c1d2e3f4a5b").mkdir()
    (tmp_path / "keyword").mkdir()
    (tmp_path / ".gitkeep").write_text("")
    (tmp_path / ".ingest.lock").write_text("")
    _store(tmp_path).wipe()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".gitkeep", ".ingest.lock", "conversations.sqlite3"]


def test_one_writer_at_a_time(tmp_path):
    first, second = _store(tmp_path), _store(tmp_path)
    with first.write_lock():
        with pytest.raises(IndexBusyError, match="busy"):
            with second.write_lock():
                pass
    with second.write_lock():
        pass
