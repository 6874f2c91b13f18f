"""End to end in a real browser: headless Debian Chromium, driven by Playwright, against
`streamlit run app.py` and `python -m app.serve` (what `make run` runs) on 127.0.0.1. Saves screenshots under
tests/artifacts/."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from benchmarks.bench_app import CHROMIUM, NO_NETWORK_FLAGS

from ..support.helpers import REGRESSION_SET, ROOT, free_port, stop, wait_for_http

ARTIFACTS = ROOT / "tests" / "artifacts"
AUSTIN = "Why did China refuse the Austin meeting?"

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason="Debian's chromium is not installed (`make test` installs it)")


@contextmanager
def app_server(command: list[str], docs: Path, persist: Path, log_path: Path, **extra_env: str) -> Iterator[str]:
    """Run `command` (given --server.port) over these folders; yield the app's URL; stop it."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env.update(RAG_DOCS_DIR=str(docs), RAG_PERSIST_DIR=str(persist), **extra_env)
    log = log_path.open("wb")  # a pipe nobody reads would fill and stall the server
    process = subprocess.Popen(
        [*command, "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
         "--browser.gatherUsageStats", "false"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{url}/_stcore/health", process, log_path)
        yield url
    finally:
        stop(process)
        log.close()


HOSTILE = ("The Zorblat council published its findings at www.evil.example and at https://evil.example/report, "
           "and in [the summary](http://evil.example/summary).\n")
HOSTILE_QUESTION = "What did the Zorblat council publish?"


@pytest.fixture
def streamlit_server(seed_index, tmp_path):
    """`streamlit run app.py` over a copy of the seeds plus one article full of outside addresses."""
    from rag import RAG

    docs, vs = tmp_path / "docs", tmp_path / "vs"
    shutil.copytree(seed_index["docs"], docs)
    shutil.copytree(seed_index["persist"], vs)
    (docs / "zorblat.txt").write_text(HOSTILE)
    RAG(docs_dir=docs, persist_dir=vs).ingest()
    with app_server([sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py")], docs, vs,
                    tmp_path / "streamlit.log") as url:
        yield url


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=NO_NETWORK_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_page(browser):
    return browser.new_page(viewport={"width": 1400, "height": 1000})


def screenshot(page, name: str) -> Path:
    """The whole page: Streamlit scrolls inside its main block, so the window is made as tall as it first."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    height = page.evaluate("() => Math.max(...[...document.querySelectorAll('[data-testid=stMain], "
                           "[data-testid=stMainBlockContainer]')].map(e => e.scrollHeight), 0)")
    page.set_viewport_size({"width": size["width"], "height": min(max(size["height"], height + 120), 8000)})
    page.wait_for_timeout(300)
    path = ARTIFACTS / name
    page.screenshot(path=str(path))
    page.set_viewport_size(size)
    return path


def ask(page, question: str) -> None:
    from playwright.sync_api import expect

    box = page.get_by_test_id("stChatInputTextArea")
    expect(box).to_be_visible(timeout=90_000)
    box.fill(question)
    box.press("Enter")
    expect(page.get_by_text("Answered by:", exact=False).last).to_be_visible(timeout=90_000)


def test_ask_open_a_citation_in_place_and_find_the_conversation_after_a_reload(streamlit_server, browser_page, bot):
    from playwright.sync_api import expect

    page = browser_page
    expected_quote = bot.ask(AUSTIN).citations[0].quote
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.goto(streamlit_server, wait_until="domcontentloaded")
    ask(page, AUSTIN)
    screenshot(page, "austin_answer.png")

    marker = page.get_by_test_id("stPopover").filter(has_text="[1]").first
    marker.get_by_role("button").click()
    body = page.get_by_test_id("stPopoverBody")
    expect(body.get_by_text(expected_quote[:60], exact=False)).to_be_visible(timeout=10_000)
    highlight = body.locator("mark, span.stMarkdownColoredBackground, [class*=Background]").first
    expect(body.locator("strong").filter(has_text=expected_quote[:30]).first).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "citation_popover.png"))
    assert highlight is not None
    page.keyboard.press("Escape")

    assert "c=" in page.url, "the conversation id is in the address"
    page.reload(wait_until="domcontentloaded")
    expect(page.get_by_text("Answered by:", exact=False).first).to_be_visible(timeout=90_000)
    expect(page.get_by_test_id("stChatMessage")).to_have_count(2)
    screenshot(page, "reloaded_conversation.png")


def test_a_conversation_survives_a_server_restart(seed_index, browser_page, tmp_path):
    from playwright.sync_api import expect

    docs, vs = tmp_path / "docs", tmp_path / "vs"
    shutil.copytree(seed_index["docs"], docs)
    shutil.copytree(seed_index["persist"], vs)
    page = browser_page
    command = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py")]
    with app_server(command, docs, vs, tmp_path / "first.log") as url:
        page.goto(url, wait_until="domcontentloaded")
        ask(page, AUSTIN)
        expect(page).to_have_url(re.compile(r"[?&]c=[0-9a-f]{32}"))
        address = page.url
    query = address[address.index("?"):]
    with app_server(command, docs, vs, tmp_path / "second.log") as url:  # a new process, a new port
        page.goto(url + "/" + query, wait_until="domcontentloaded")
        expect(page.get_by_text("Answered by:", exact=False).first).to_be_visible(timeout=90_000)
        expect(page.get_by_test_id("stChatMessage")).to_have_count(2)
        expect(page.get_by_test_id("stChatMessage").first).to_contain_text(AUSTIN)


def test_outside_addresses_in_an_answer_are_inert_text(streamlit_server, browser_page):
    from playwright.sync_api import expect

    page = browser_page
    page.goto(streamlit_server, wait_until="domcontentloaded")
    ask(page, HOSTILE_QUESTION)
    answer = page.get_by_test_id("stChatMessage").last
    expect(answer.get_by_text("evil.example", exact=False).first).to_be_visible()
    assert page.locator("a[href*='evil']").count() == 0, "no outside address became a link"
    marker = page.get_by_test_id("stPopover").filter(has_text="[1]").first
    marker.get_by_role("button").click()
    expect(page.get_by_test_id("stPopoverBody").get_by_text("Zorblat", exact=False).first).to_be_visible()
    assert page.locator("a[href*='evil']").count() == 0
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "inert_addresses.png"))


def test_a_phone_sized_screen_shows_the_chat_without_the_sidebar(streamlit_server, browser):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 400, "height": 800})
    page.goto(streamlit_server, wait_until="domcontentloaded")
    ask(page, AUSTIN)
    box = page.get_by_test_id("stChatInputTextArea").bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 400 and box["y"] + box["height"] <= 800
    for test_id in ("stChatInput", "stChatMessage"):  # nothing (the sidebar above all) lies on top of the chat
        element = page.get_by_test_id(test_id).last
        element.scroll_into_view_if_needed()
        target = element.bounding_box()
        # The middle of its visible part (a long answer starts above the fold, under the page header).
        top, bottom = max(target["y"], 0), min(target["y"] + target["height"], 800)
        x, y = target["x"] + target["width"] / 2, (top + bottom) / 2
        on_top = page.evaluate("([x, y, id]) => !!document.elementFromPoint(x, y)?.closest(`[data-testid=${id}]`)",
                               [x, y, test_id])
        assert on_top, f"{test_id} is covered at ({x:.0f}, {y:.0f})"
    page.screenshot(path=str(ARTIFACTS / "phone_400x800.png"))


def test_a_refusal_the_library_and_the_regression_page_as_a_reader_sees_them(seed_index, browser_page, tmp_path):
    from playwright.sync_api import expect

    docs, vs, sets = tmp_path / "docs", tmp_path / "vs", tmp_path / "sets"
    shutil.copytree(seed_index["docs"], docs)
    shutil.copytree(seed_index["persist"], vs)
    sets.mkdir()
    cases = [line for line in REGRESSION_SET.read_text().splitlines() if line.strip() and not line.startswith("#")]
    (sets / "small_qa.jsonl").write_text("\n".join(cases[:4] + [c for c in cases if '"answerable": false' in c][:2]))
    page = browser_page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with app_server([sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py")], docs, vs, tmp_path / "tour.log",
                    RAG_EVAL_SETS_DIR=str(sets), RAG_RUNS_DIR=str(tmp_path / "runs")) as url:
        page.goto(url, wait_until="domcontentloaded")
        box = page.get_by_test_id("stChatInputTextArea")
        expect(box).to_be_visible(timeout=90_000)
        box.fill("Who won the 2022 World Cup?")
        box.press("Enter")
        expect(page.get_by_text("The articles don't say. I searched", exact=False)).to_be_visible(timeout=90_000)
        page.get_by_text("Related passages (not an answer)").click()
        screenshot(page, "refusal.png")

        page.get_by_test_id("stRadio").get_by_text("Library").click()
        expect(page.get_by_test_id("stDataFrame")).to_be_visible(timeout=30_000)
        screenshot(page, "library.png")

        page.get_by_test_id("stRadio").get_by_text("Regression").click()
        run = page.get_by_role("button", name="Run")
        for _ in range(2):  # the second run is compared with the first
            run.click()
            expect(page.get_by_text("Failed cases", exact=False)).to_be_visible(timeout=120_000)
        expect(page.get_by_text("Compared with the previous run", exact=False)).to_be_visible(timeout=120_000)
        failed_cases = page.get_by_test_id("stExpander")
        if failed_cases.count():
            failed_cases.first.locator("summary").click()
            expect(failed_cases.first.get_by_text("Answer", exact=False).first).to_be_visible()
            page.wait_for_timeout(500)  # the expander's opening animation, before the page is measured
        screenshot(page, "regression.png")
    log = (tmp_path / "tour.log").read_text()
    assert "Traceback" not in log and "ArrowInvalid" not in log, log[-2000:]


def test_every_answer_form_as_drawn_in_a_browser(browser_page, tmp_path):
    """Constructed answers of every form (tests/support/answer_forms_app.py), drawn by the app's rendering code."""
    from playwright.sync_api import expect

    page = browser_page
    with app_server([sys.executable, "-m", "streamlit", "run", str(ROOT / "tests" / "support" / "answer_forms_app.py")],
                    tmp_path, tmp_path, tmp_path / "forms.log") as url:
        page.goto(url, wait_until="domcontentloaded")
        expect(page.get_by_text("Related passages (not an answer)")).to_be_visible(timeout=60_000)
        assert page.locator("a[href*='evil']").count() == 0
        body = page.get_by_test_id("stMarkdownContainer").filter(has_text="Beijing declined the meeting on Monday.")
        expect(body.first).to_be_visible()
        assert "[**" not in page.inner_text("body") and "]**" not in page.inner_text("body"), "no literal markup"
        answers = page.get_by_test_id("stChatMessage")
        direct = answers.nth(1)  # the second message: the direct answer
        assert direct.inner_text().count("2018") == 2, "the short answer once, then the quote that holds it"
        expect(answers.nth(3).get_by_text("Monday (29 May 2023)")).to_be_visible()
        sentences = answers.nth(5)
        sentences.get_by_test_id("stExpander").locator("summary").click()
        source = sentences.get_by_test_id("stExpander").inner_text()
        assert source.count("The Chinese government said") == 1, "the paragraph once, both its quotes marked"
        expect(page.get_by_text("This article has since been removed from the library", exact=False)).to_have_count(1)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        screenshot(page, "answer_forms.png")


def test_the_short_answer_once_and_copy_answer_copies_in_one_click(streamlit_server, browser):
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1400, "height": 1000},
                                  permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.goto(streamlit_server, wait_until="domcontentloaded")
    ask(page, "When were the sanctions on Li Shangfu imposed?")
    answer = page.get_by_test_id("stChatMessage").last
    expect(answer.get_by_text(re.compile(r"^2018\.?$"))).to_have_count(1)  # the short answer once, not restated
    copy = page.frame_locator("iframe").last.locator("button[data-ready]")
    expect(copy).to_have_text(re.compile("Copy answer"), timeout=30_000)
    copy.click()  # one click, no popover
    expect(copy).to_have_text(re.compile("Copied"))
    page.screenshot(path=str(ARTIFACTS / "copied.png"))
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert copied.startswith("2018") and "Sources:\n[1] " in copied, copied
    context.close()


@pytest.mark.slow  # a start-up timing: indexes a folder while the page is up
def test_make_run_shows_its_progress_and_answers_a_question_typed_during_start_up(docs_copy, browser_page, tmp_path):
    """What `make run` runs (python -m app.serve), on a folder that was never indexed: the page comes
    up while the articles are being indexed, says a question typed then is queued, and answers it
    once the engine is ready."""
    from playwright.sync_api import expect

    page = browser_page
    with app_server([sys.executable, "-m", "app.serve"], docs_copy, tmp_path / "new-index",
                    tmp_path / "serve.log") as url:
        page.goto(url, wait_until="domcontentloaded")
        expect(page.get_by_text("Indexing", exact=False).first).to_be_visible(timeout=60_000)
        box = page.get_by_test_id("stChatInputTextArea")
        expect(box).to_be_visible(timeout=10_000)
        box.fill(AUSTIN)
        box.press("Enter")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        try:
            expect(page.get_by_text("Your question is queued", exact=False)).to_be_visible(timeout=5_000)
            screenshot(page, "startup_queued.png")
            queued_seen = True
        except AssertionError:  # the engine was ready before the question arrived
            queued_seen = False
        expect(page.get_by_text("Answered by:", exact=False)).to_be_visible(timeout=120_000)
        expect(page.get_by_text("sanctions", exact=False).first).to_be_visible()
        screenshot(page, "serve_first_answer.png")
    log = (tmp_path / "serve.log").read_text()
    assert "5 added" in log and "Ready in" in log, log
    print(f"queued message seen: {queued_seen}")
