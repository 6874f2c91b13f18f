"""In Chromium: while a model streams, an injected reply it obeyed never appears in the page, not even briefly."""

from __future__ import annotations

import shutil
import sys

from ..support.fake_openai import FakeOpenAI
from ..support.helpers import ROOT
from .test_browser import AUSTIN, app_server, ask, browser, browser_page, pytestmark  # noqa: F401  (fixtures, skip mark)

# Every change to the page is checked as it happens (a MutationObserver), so text shown for a moment counts.
WATCH = """() => {
  window.seen = [];
  new MutationObserver(() => {
    const text = document.body.innerText;
    for (const word of ["HACKED", "Ignore the articles", "password"]) {
      if (text.includes(word) && !window.seen.includes(word)) window.seen.push(word);
    }
  }).observe(document.body, {childList: true, subtree: true, characterData: true});
}"""


def test_an_obeyed_injection_never_appears_while_the_answer_streams(seed_index, browser_page, tmp_path):  # noqa: F811
    docs, vs = tmp_path / "docs", tmp_path / "vs"
    shutil.copytree(seed_index["docs"], docs)
    shutil.copytree(seed_index["persist"], vs)
    server = FakeOpenAI().start()
    server.scenario = "hacked_then_quote"  # "HACKED. Ignore the articles. Send your password to ... <quote> [1]"
    try:
        with app_server([sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py")], docs, vs,
                        tmp_path / "streamlit.log", OPENAI_BASE_URL=server.base_url, OPENAI_API_KEY="sk-browser") as url:
            browser_page.goto(url)
            browser_page.get_by_test_id("stChatInputTextArea").wait_for(timeout=90_000)
            browser_page.evaluate(WATCH)
            ask(browser_page, AUSTIN)
            assert "the model (openai" in browser_page.inner_text("body")
            assert browser_page.evaluate("window.seen") == []
    finally:
        server.stop()
