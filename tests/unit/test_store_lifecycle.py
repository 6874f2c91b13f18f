"""The store's lifecycle and error mapping, without opening Chroma: only damaged data means "index
corrupt, rebuild"; a full disk, a bad folder or an unreachable server each say what to do instead; a
bug stays a bug; a rebuild never empties a folder that is not an index."""

from __future__ import annotations

import errno
import os
import sqlite3

import pytest

from rag.errors import ChromaServerError, IndexBusyError, IndexCorruptError, IndexFolderError
from rag.index.folder import MARKER_FILE, IndexFolder
from rag.index.storage_errors import translated
from rag.index.store import Store
from rag.settings import Settings


def _settings(folder, **extra) -> Settings:
    return Settings(_env_file=None, persist_dir=folder, **extra)


def _raising(failure, settings, doing="Reading the index"):
    with translated(settings, doing):
        raise failure


@pytest.mark.parametrize("failure", [sqlite3.DatabaseError("file is not a database"), OSError("disk gone")])
def test_storage_failures_become_index_corrupt_with_a_rebuild_hint(tmp_path, failure):
    with pytest.raises(IndexCorruptError, match="rag ingest --rebuild"):
        _raising(failure, _settings(tmp_path))


def test_chroma_errors_become_index_corrupt(tmp_path):
    from chromadb.errors import InternalError

    with pytest.raises(IndexCorruptError):
        _raising(InternalError("segment missing"), _settings(tmp_path))


@pytest.mark.parametrize("bug", [TypeError("unsupported operand"), KeyError("ids"), AttributeError("x")])
def test_a_bug_is_not_reported_as_a_corrupt_index(tmp_path, bug):
    with pytest.raises(type(bug)):
        _raising(bug, _settings(tmp_path))


@pytest.mark.parametrize("failure", [sqlite3.OperationalError("attempt to write a readonly database"),
                                     OSError(errno.EROFS, "Read-only file system")])
def test_a_read_only_folder_is_a_folder_error_without_rebuild_advice(tmp_path, failure):
    with pytest.raises(IndexFolderError, match="read-only") as raised:
        _raising(failure, _settings(tmp_path))
    assert "rebuild" not in str(raised.value).lower()


def test_transport_errors_from_a_chroma_server_say_how_to_start_it(tmp_path):
    import httpx

    settings = _settings(tmp_path, chroma_host="127.0.0.1", chroma_port=8123)
    with pytest.raises(ChromaServerError, match="cannot reach the Chroma server at 127.0.0.1:8123") as raised:
        _raising(httpx.ConnectError("[Errno 111] Connection refused"), settings)
    assert "chroma run" in raised.value.hint and "--port 8123" in raised.value.hint
    with pytest.raises(ChromaServerError) as raised:
        _raising(httpx.RemoteProtocolError("Server disconnected"), settings, doing="Writing the index")
    assert "finishes what this one left" in raised.value.hint and "rebuild" not in str(raised.value).lower()


def test_a_file_as_persist_dir_is_a_folder_error_for_readers_and_writers(tmp_path):
    afile = tmp_path / "index"
    afile.write_text("not a folder")
    folder = IndexFolder(_settings(afile))
    with pytest.raises(IndexFolderError, match="is a file, not a folder") as raised:
        folder.check()
    assert "rebuild" not in str(raised.value).lower()
    with pytest.raises(IndexFolderError, match="is a file, not a folder"):
        with folder.write_lock():
            pass


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only folders")
def test_ingesting_into_a_read_only_folder_is_a_folder_error(tmp_path):
    locked = tmp_path / "index"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        with pytest.raises(IndexFolderError, match="Cannot write to the index folder"):
            with IndexFolder(_settings(locked)).write_lock():
                pass
        with pytest.raises(IndexFolderError, match="Cannot write"):
            IndexFolder(_settings(locked / "new")).claim()
    finally:
        locked.chmod(0o755)


def test_a_folder_of_something_else_is_not_opened_as_an_index(tmp_path):
    (tmp_path / "thesis.docx").write_text("years of work")
    with pytest.raises(IndexFolderError, match="holds no rag index"):
        IndexFolder(_settings(tmp_path)).check()


def test_emptying_refuses_a_folder_that_is_not_an_index(tmp_path):
    (tmp_path / "thesis.docx").write_text("years of work")
    with pytest.raises(IndexFolderError, match="does not look like a rag index"):
        IndexFolder(_settings(tmp_path)).empty_damaged()
    assert (tmp_path / "thesis.docx").exists()


def test_wipe_of_a_damaged_index_empties_it_but_keeps_the_lock_gitkeep_and_conversations(tmp_path):
    (tmp_path / MARKER_FILE).write_text('{"format": 1}')
    (tmp_path / "chroma.sqlite3").write_text("not a database")  # damaged: it does not open
    (tmp_path / "conversations.sqlite3").write_text("the app's saved conversations")
    (tmp_path / "0b6f2a0e-3c1d-4e5f-8a9b-0c1d2e3f4a5b").mkdir()
    (tmp_path / "keyword").mkdir()
    (tmp_path / ".gitkeep").write_text("")
    (tmp_path / ".ingest.lock").write_text("")
    Store(_settings(tmp_path)).wipe()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".gitkeep", ".ingest.lock", "conversations.sqlite3"]


def test_segment_folders_no_collection_uses_are_swept_and_others_kept(tmp_path):
    live, dropped = "0b6f2a0e-3c1d-4e5f-8a9b-0c1d2e3f4a5b", "1c7e3b1f-4d2e-4f60-9bac-1d2e3f4a5b6c"
    for name in (live, dropped, "keyword", "notes"):
        (tmp_path / name).mkdir()
    assert IndexFolder(_settings(tmp_path)).sweep_segments({live}) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live, "keyword", "notes"])


def test_one_writer_at_a_time(tmp_path):
    first, second = Store(_settings(tmp_path)), Store(_settings(tmp_path))
    with first.write_lock():
        with pytest.raises(IndexBusyError, match="busy"):
            with second.write_lock():
                pass
    with second.write_lock():
        pass
