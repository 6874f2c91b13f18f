"""End to end in a real browser: headless Debian Chromium, driven by Playwright, against
`streamlit run app.py` and `rag serve` (what `make run` runs) on 127.0.0.1. Saves screenshots under
tests/artifacts/."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from benchmarks.bench_app import CHROMIUM, NO_NETWORK_FLAGS

from .conftest import ROOT, free_port, wait_for_http

ARTIFACTS = ROOT / "tests" / "artifacts"

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason="Debian's chromium is not installed (`make test` installs it)")


@contextmanager
def app_server(command: list[str], docs: Path, persist: Path, log_path: Path) -> Iterator[str]:
    """Run `command` (given --server.port) over these folders; yield the app's URL; stop it."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env.update(RAG_DOCS_DIR=str(docs), RAG_PERSIST_DIR=str(persist))
    log = log_path.open("wb")  # a pipe nobody reads would fill and stall the server
    process = subprocess.Popen(
        [*command, "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
         "--browser.gatherUsageStats", "false"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{url}/_stcore/health", process, log_path)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture
def streamlit_server(seed_index, tmp_path):
    docs, vs = tmp_path / "docs", tmp_path / "vs"
    shutil.copytree(seed_index["docs"], docs)
    shutil.copytree(seed_index["persist"], vs)
    with app_server([sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py")], docs, vs,
                    tmp_path / "streamlit.log") as url:
        yield url


@pytest.fixture
def browser_page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=NO_NETWORK_FLAGS)
        yield browser.new_page(viewport={"width": 1400, "height": 1000})
        browser.close()


def test_ask_the_austin_question_in_a_browser(streamlit_server, browser_page, bot):
    from playwright.sync_api import expect

    page = browser_page
    question = "Why did China refuse the Austin meeting?"
    expected_quote = bot.ask(question).citations[0].quote
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.goto(streamlit_server, wait_until="domcontentloaded")
    box = page.get_by_test_id("stChatInputTextArea")
    expect(box).to_be_visible(timeout=90_000)
    box.fill(question)
    box.press("Enter")
    citation = page.get_by_test_id("stExpander").first
    expect(citation).to_be_visible(timeout=90_000)
    expect(page.get_by_text("Answered by: extractive", exact=False)).to_be_visible(timeout=30_000)
    citation.locator("summary").click()
    expect(citation.get_by_text(expected_quote[:60], exact=False)).to_be_visible(timeout=10_000)
    page.screenshot(path=str(ARTIFACTS / "austin_answer.png"), full_page=True)
    assert (ARTIFACTS / "austin_answer.png").stat().st_size > 10_000


def test_rag_serve_shows_its_progress_and_answers_a_question_typed_during_start_up(docs_copy, browser_page, tmp_path):
    """What `make run` runs, on a folder that was never indexed: the page comes up while the articles
    are being indexed, and a question typed then is answered once the engine is ready."""
    from playwright.sync_api import expect

    page = browser_page
    with app_server([str(Path(sys.executable).with_name("rag")), "serve", "--app", str(ROOT / "app.py")],
                    docs_copy, tmp_path / "new-index", tmp_path / "serve.log") as url:
        page.goto(url, wait_until="domcontentloaded")
        expect(page.get_by_text("Indexing", exact=False).first).to_be_visible(timeout=60_000)
        box = page.get_by_test_id("stChatInputTextArea")
        expect(box).to_be_visible(timeout=10_000)
        box.fill("Why did China refuse the Austin meeting?")
        box.press("Enter")
        expect(page.get_by_text("Answered by: extractive", exact=False)).to_be_visible(timeout=120_000)
        expect(page.get_by_text("sanctions", exact=False).first).to_be_visible()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "serve_first_answer.png"), full_page=True)
    log = (tmp_path / "serve.log").read_text()
    assert "5 added" in log and "Ready in" in log, log
