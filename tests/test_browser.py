"""End to end in a real browser: headless Debian Chromium, driven by Playwright, against
`streamlit run app.py` on 127.0.0.1. Saves a screenshot under tests/artifacts/."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT, free_port, wait_for_http

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "tests" / "artifacts"
# Without these, Chromium keeps trying to reach Google's services on this closed network.
NO_NETWORK_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--disable-default-apps", "--disable-extensions"]

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason="Debian's chromium is not installed (`make test` installs it)")


@pytest.fixture
def streamlit_server(seed_index, tmp_path):
    docs, vs = tmp_path / "docs", tmp_path / "vs"
    shutil.copytree(seed_index["docs"], docs)
    shutil.copytree(seed_index["persist"], vs)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env.update(RAG_DOCS_DIR=str(docs), RAG_PERSIST_DIR=str(vs))
    log_path = tmp_path / "streamlit.log"
    log = log_path.open("wb")  # a pipe nobody reads would fill and stall the server
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    wait_for_http(f"{url}/_stcore/health", process, log_path)
    yield url
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


def test_ask_the_austin_question_in_a_browser(streamlit_server, bot):
    from playwright.sync_api import expect, sync_playwright

    question = "Why did China refuse the Austin meeting?"
    expected_quote = bot.ask(question).citations[0].quote
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=NO_NETWORK_FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
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
        browser.close()
    assert (ARTIFACTS / "austin_answer.png").stat().st_size > 10_000
