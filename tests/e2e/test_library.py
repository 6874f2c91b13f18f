"""The Library page through AppTest: upload problems next to the uploader, one state for table and caption,
datelines and bylines shown, plain words."""

from __future__ import annotations

import json
from datetime import date

import pytest

from .test_app import env, new_session, page_text, view  # noqa: F401  (env is a fixture)

GOOD = b"Council backs bridge\nBy Mara Lindqvist\nVALMORA, 2024-03-14 - The town council approved the bridge.\n"


@pytest.fixture
def library(env):  # noqa: F811
    return view(new_session(), "Library")


def shown(elements) -> list[str]:
    """The texts of these elements as a person reads them (without Markdown's escapes)."""
    return [e.value.replace("\\", "") for e in elements]


def elements(at) -> list:
    """The page's elements in the order they are drawn."""
    return list(at.main)


def position(at, predicate) -> int:
    return next(i for i, e in enumerate(elements(at)) if predicate(e))


def test_each_upload_problem_is_shown_under_the_uploader_naming_its_file_and_a_success_empties_it(library):
    at = library
    uploader = at.file_uploader[0]
    for name, data in (("setup.exe", b"MZ\x90\x00"), ("empty.txt", b"  \n"), ("notes.txt", b"\x00\x01binary"),
                       ("bridge.txt", GOOD)):
        uploader.upload(name, data, "application/octet-stream")
    at.run()
    errors = shown(at.error)
    assert len(errors) == 3
    assert "setup.exe is not one of them" in errors[0]
    assert errors[1].startswith("empty.txt is empty")
    assert errors[2].startswith("notes.txt looks like a binary file, not text")
    assert "NUL" not in page_text(at)
    # Between the uploader and the add button: where the person looking at the files reads them.
    at_uploader = position(at, lambda e: e.type == "file_uploader")
    at_button = position(at, lambda e: getattr(e, "key", None) == "add")
    assert all(at_uploader < position(at, lambda e, m=m: e.type == "error" and e.value.replace("\\", "") == m) < at_button
               for m in errors)
    add = at.button(key="add")
    assert add.label == "Add 1 file and re-index" and not add.disabled

    add.click().run()
    assert not at.exception, at.exception
    assert shown(at.success) == ["1 added: bridge.txt."]
    assert position(at, lambda e: e.type == "success") > position(at, lambda e: getattr(e, "key", None) == "add")
    assert not at.file_uploader[0].value and not at.error, "the uploader is emptied after adding"
    assert at.button(key="add").disabled


def test_only_unusable_files_leave_add_disabled_and_an_existing_name_can_be_replaced(library, env):  # noqa: F811
    at = library
    at.file_uploader[0].upload("setup.exe", b"MZ\x90\x00").run()
    assert at.button(key="add").disabled and len(at.error) == 1

    existing = min(p.name for p in env["docs"].iterdir())
    at.file_uploader[0].set_value((existing, b"A replacement article about penguins in Oslo.\n", "text/plain")).run()
    assert "already in the library" in shown(at.error)[0] and at.button(key="add").disabled
    at.checkbox(key="replace").check().run()
    assert not at.error
    at.button(key="add").click().run()
    assert shown(at.success) == [f"1 updated: {existing}."]
    assert (env["docs"] / existing).read_bytes().startswith(b"A replacement")


def test_a_file_over_the_size_limit_is_refused_with_a_visible_message_and_the_limit_is_shown(env, monkeypatch):  # noqa: F811
    monkeypatch.setenv("RAG_MAX_FILE_MB", "1")
    at = view(new_session(), "Library")
    limit = position(at, lambda e: e.type == "caption" and "up to 1 MB" in e.value)
    assert position(at, lambda e: e.type == "file_uploader") < limit < position(at, lambda e: e.type == "checkbox"), \
        "the limit is said right under the uploader"
    at.file_uploader[0].upload("big.txt", b"word " * 400_000).run()
    assert shown(at.error) == ["big.txt is 2.0 MB, over the 1 MB limit."]


def test_table_and_caption_show_one_current_state_with_dates_and_authors(library, env):  # noqa: F811
    at = library

    def caption_counts() -> tuple[int, int]:
        caption = next(c.value for c in at.caption if "passages" in c.value)
        words = caption.split()
        return int(words[0]), int(words[words.index("into") + 1])

    table = at.dataframe[0].value
    assert list(table.columns) == ["Title", "Date", "Author", "Publisher", "Passages", "File"]
    assert caption_counts() == (len(table), table["Passages"].sum())
    widths = {name: column.get("width") for name, column in json.loads(at.dataframe[0].proto.columns).items()}
    assert widths["Title"] + widths["Date"] <= 350, "title and date side by side on a 400-pixel phone"
    by_file = table.set_index("File")
    assert by_file.loc["002_7d4c0a3551aecea8.txt", "Author"] == "Tom Fowdy"
    assert by_file.loc["004_fff62de0ee9bf52b.txt", "Date"] == date(2023, 5, 30)
    assert by_file.loc["000_88fd1b36135ac6ea.txt", "Date"] is None
    assert not by_file.loc["004_fff62de0ee9bf52b.txt", "Title"].startswith("WASHINGTON")

    at.file_uploader[0].upload("bridge.txt", GOOD).run()
    at.button(key="add").click().run()
    table = at.dataframe[0].value
    assert len(table) == 6 and caption_counts() == (6, table["Passages"].sum())
    row = table.set_index("File").loc["bridge.txt"]
    assert (row["Title"], row["Author"], row["Date"]) == ("Council backs bridge", "Mara Lindqvist", date(2024, 3, 14))

    (env["docs"] / "bridge.txt").unlink()
    at.button(key="reindex").click().run()
    assert shown(at.success) == ["1 removed: bridge.txt."]
    table = at.dataframe[0].value
    assert len(table) == 5 and caption_counts() == (5, table["Passages"].sum())
    assert "Chunks" not in page_text(at) and "chunks" not in page_text(at)


def test_reading_an_article_shows_its_author(library):
    at = library
    at.selectbox(key="read_choice").set_value("002_7d4c0a3551aecea8.txt").run()
    assert any(c.value.startswith("By Tom Fowdy · DotDotNews") for c in at.caption)
