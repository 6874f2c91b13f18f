"""The Library page as a person sees it in Debian's Chromium: upload problems beside the uploader and in
view, the size limit, the phone layout. Screenshots under tests/artifacts/library_*.png."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from ..support.helpers import ROOT
from .test_browser import ARTIFACTS, CHROMIUM, app_server, browser  # noqa: F401  (browser is a fixture)
from .test_library import GOOD

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason="Debian's chromium is not installed (`make test` installs it)")


@pytest.fixture
def library_url(seed_index, tmp_path):
    docs, vs = tmp_path / "docs", tmp_path / "vs"
    shutil.copytree(seed_index["docs"], docs)
    shutil.copytree(seed_index["persist"], vs)
    with app_server([sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py")], docs, vs,
                    tmp_path / "library.log") as url:
        yield url


def open_library(page, url: str) -> None:
    from playwright.sync_api import expect

    page.goto(url, wait_until="domcontentloaded")
    expect(page.get_by_test_id("stChatInputTextArea")).to_be_visible(timeout=90_000)  # the engine is ready
    page.get_by_test_id("stRadio").get_by_text("Library").click()
    expect(page.get_by_test_id("stDataFrame")).to_be_visible(timeout=90_000)


def to_add_articles(page) -> None:
    """Scroll as a person does to the section: its heading at the top of the window."""
    page.get_by_role("heading", name="Add articles").evaluate("e => e.scrollIntoView({block: 'start'})")


def choose_files(page, files: list[tuple[str, bytes]]) -> None:
    page.get_by_test_id("stFileUploader").locator("input[type=file]").set_input_files(
        [{"name": name, "mimeType": "application/octet-stream", "buffer": data} for name, data in files])


def test_upload_problems_appear_beside_the_uploader_in_view_and_a_success_empties_it(browser, library_url):  # noqa: F811
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1400, "height": 900})
    open_library(page, library_url)
    uploader = page.get_by_test_id("stFileUploader")
    to_add_articles(page)
    choose_files(page, [("setup.exe", b"MZ\x90\x00"), ("empty.txt", b" \n")])
    for text in ("setup.exe is not one of them", "empty.txt is empty"):
        problem = page.get_by_test_id("stAlert").filter(has_text=text)
        expect(problem).to_be_in_viewport(timeout=30_000)
        assert problem.bounding_box()["y"] > uploader.bounding_box()["y"], "shown below the uploader"
    expect(page.get_by_role("button", name="Add 0 files and re-index")).to_be_disabled()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "library_upload_errors.png"))

    page.get_by_test_id("stFileChipDeleteBtn").first.click()  # remove both from the list
    page.get_by_test_id("stFileChipDeleteBtn").first.click()
    choose_files(page, [("bridge.txt", GOOD)])
    page.get_by_role("button", name="Add 1 file and re-index").click()
    expect(page.get_by_text("1 added: bridge.txt.")).to_be_in_viewport(timeout=60_000)
    expect(page.get_by_test_id("stFileChip")).to_have_count(0)
    page.screenshot(path=str(ARTIFACTS / "library_upload_added.png"))


def test_the_size_limit_is_said_beside_the_uploader_when_a_file_is_too_big(browser, library_url, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1400, "height": 900})
    open_library(page, library_url)
    to_add_articles(page)
    big = tmp_path / "big.txt"
    big.write_bytes(b"word " * 6_000_000)  # 30 MB: the browser refuses it before uploading
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(big, timeout=90_000)
    expect(page.get_by_test_id("stFileChipIconError")).to_have_count(1, timeout=30_000)  # the browser's red mark
    expect(page.get_by_text("Each file can be up to 25 MB", exact=False)).to_be_in_viewport()
    expect(page.get_by_role("button", name="Add and re-index")).to_be_disabled()
    page.screenshot(path=str(ARTIFACTS / "library_too_big.png"))


def test_on_a_phone_the_table_fits_the_screen_and_says_it_scrolls(browser, library_url):  # noqa: F811
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 400, "height": 800})
    open_library(page, library_url)
    table = page.get_by_test_id("stDataFrame")
    box = table.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 400, "the table fits the screen's width"
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 400, "the page itself never scrolls sideways"
    expect(page.get_by_text("swipe the table sideways", exact=False)).to_be_in_viewport()
    # That Title and Date fit side by side in this width is checked on the table's columns in test_library.py.
    page.screenshot(path=str(ARTIFACTS / "library_phone_400x800.png"))
