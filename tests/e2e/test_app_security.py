"""The app's security in a real browser (headless Debian Chromium via Playwright) against real servers
on 127.0.0.1: `python -m app.serve` (what `make run` runs) and a plain `streamlit run app.py`.

Two browser contexts are two browsers (no shared cookies); Chromium resolves evil.example to 127.0.0.1
(`--host-resolver-rules`), which is what a DNS-rebinding page achieves from any site.
"""

from __future__ import annotations

import http.client
import re
import shutil
import sys
from pathlib import Path

import pytest

from app.guard import REFUSAL
from app.ownership import OWNER_COOKIE
from benchmarks.bench_app import CHROMIUM, NO_NETWORK_FLAGS

from ..support.helpers import ROOT
from .test_browser import ARTIFACTS, AUSTIN, app_server, ask

EVIL = "evil.example"

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason="Debian's chromium is not installed (`make test` installs it)")


def _serve(command: list[str], seed_index, tmp_path_factory, name: str):
    tmp = tmp_path_factory.mktemp(name)
    shutil.copytree(seed_index["persist"], tmp / "vs")
    return app_server(command, seed_index["docs"], tmp / "vs", tmp / f"{name}.log")


@pytest.fixture(scope="module")
def served(seed_index, tmp_path_factory):
    """`python -m app.serve` (the guard in front, owner cookies) over a private copy of the seed index."""
    with _serve([sys.executable, "-m", "app.serve", "--no-ingest"], seed_index, tmp_path_factory, "serve") as url:
        yield url


@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=[*NO_NETWORK_FLAGS, f"--host-resolver-rules=MAP {EVIL} 127.0.0.1"])
        yield browser
        browser.close()


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def test_a_second_browser_never_lists_opens_or_deletes_the_firsts_conversation(served, chromium):
    from playwright.sync_api import expect

    first = chromium.new_context(viewport={"width": 1400, "height": 1000})
    page = first.new_page()
    page.goto(served, wait_until="domcontentloaded")
    ask(page, AUSTIN)
    sidebar = page.get_by_test_id("stSidebar")
    # Listed at once, with the time it began, without another action on the page.
    expect(sidebar.get_by_role("button", name=AUSTIN)).to_be_visible(timeout=10_000)
    expect(sidebar.get_by_text(re.compile(r"^\d\d:\d\d$")).first).to_be_visible()
    expect(sidebar.get_by_text("Conversations are kept for this browser only.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"[?&]c=[0-9a-f]{32}"))
    address = page.url
    cookie = next(c for c in first.cookies() if c["name"] == OWNER_COOKIE)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"

    second = chromium.new_context(viewport={"width": 1400, "height": 1000})
    other = second.new_page()
    other.goto(served, wait_until="domcontentloaded")
    expect(other.get_by_test_id("stChatInputTextArea")).to_be_visible(timeout=60_000)
    expect(other.get_by_test_id("stSidebar").get_by_text("Conversations are kept for this browser only.")).to_be_visible()
    expect(other.get_by_test_id("stSidebar").get_by_text(AUSTIN)).to_have_count(0)
    other.goto(address, wait_until="domcontentloaded")  # the first browser's address, id and all
    expect(other.get_by_text("There is no such conversation in this browser", exact=False)).to_be_visible(timeout=60_000)
    # The examples are offered only to an empty conversation: the page was drawn to the end, with no answer.
    expect(other.get_by_text("Try one:", exact=False)).to_be_visible()
    expect(other.get_by_test_id("stChatMessage")).to_have_count(0)
    assert "Answered by" not in other.inner_text("body")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    other.screenshot(path=str(ARTIFACTS / "second_browser_with_first_browsers_address.png"))

    page.reload(wait_until="domcontentloaded")  # still the first browser's, untouched by the visit
    expect(page.get_by_test_id("stChatMessage")).to_have_count(2, timeout=60_000)
    first.close()
    second.close()


def test_a_page_under_a_rebinding_name_gets_403_on_http_and_websocket(served, chromium):
    import websocket
    from playwright.sync_api import expect

    port = _port(served)
    page = chromium.new_context().new_page()
    response = page.goto(f"http://{EVIL}:{port}/", wait_until="domcontentloaded")
    assert response is not None and response.status == 403
    expect(page.get_by_text(REFUSAL[:40], exact=False)).to_be_visible()
    assert page.get_by_test_id("stChatInput").count() == 0 and "Ask the articles" not in page.content()
    page.context.close()

    def http_status(host: str) -> int:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/_stcore/health", headers={"Host": host})
        return connection.getresponse().status

    def websocket_status(host: str, origin: str) -> int:
        try:
            ws = websocket.create_connection(f"ws://127.0.0.1:{port}/_stcore/stream", host=host, origin=origin,
                                             subprotocols=["streamlit"], timeout=10)
        except websocket.WebSocketBadStatusException as refused:
            return refused.status_code
        ws.close()
        return 101

    assert http_status(f"127.0.0.1:{port}") == 200 and http_status(f"{EVIL}:{port}") == 403
    assert websocket_status(f"127.0.0.1:{port}", f"http://127.0.0.1:{port}") == 101
    assert websocket_status(f"{EVIL}:{port}", f"http://{EVIL}:{port}") == 403
    assert websocket_status(f"127.0.0.1:{port}", f"http://{EVIL}:{port}") == 403, "the right Host, a foreign page"


def test_on_a_phone_the_delete_icon_stays_beside_its_conversation(served, chromium):
    from playwright.sync_api import expect

    context = chromium.new_context(viewport={"width": 400, "height": 800})
    page = context.new_page()
    page.goto(served, wait_until="domcontentloaded")
    ask(page, AUSTIN)
    page.get_by_test_id("stExpandSidebarButton").click()
    sidebar = page.get_by_test_id("stSidebar")
    title = sidebar.get_by_role("button", name=AUSTIN)
    expect(title).to_be_visible(timeout=10_000)
    delete = sidebar.get_by_role("button").filter(has_text="delete")
    expect(delete).to_have_count(1)
    title.scroll_into_view_if_needed()
    t, d = title.bounding_box(), delete.bounding_box()
    assert d["x"] >= t["x"] + t["width"], f"the icon is beside the title, not under it: {t} {d}"
    assert t["y"] <= d["y"] + d["height"] / 2 <= t["y"] + t["height"] + 24, f"on the title's line: {t} {d}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "phone_conversations.png"))
    context.close()


def test_plain_streamlit_run_says_conversations_are_shared_and_shows_a_rebinding_page_nothing(
        seed_index, tmp_path_factory, chromium):
    """No middleware can be installed here: the page script itself refuses the host."""
    from playwright.sync_api import expect

    command = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py")]
    with _serve(command, seed_index, tmp_path_factory, "plain") as url:
        page = chromium.new_context().new_page()
        page.goto(url, wait_until="domcontentloaded")
        ask(page, AUSTIN)
        expect(page.get_by_test_id("stSidebar").get_by_text("Everyone who can open this app sees these "
                                                            "conversations", exact=False)).to_be_visible()
        address = page.url
        rebinding = chromium.new_context().new_page()
        rebinding.goto(address.replace("127.0.0.1", EVIL), wait_until="domcontentloaded")
        expect(rebinding.get_by_text(REFUSAL[:40], exact=False)).to_be_visible(timeout=60_000)
        rebinding.wait_for_timeout(1000)  # anything else the script drew would be on the page by now
        assert rebinding.get_by_test_id("stChatMessage").count() == 0
        assert rebinding.get_by_test_id("stChatInput").count() == 0
        assert AUSTIN not in rebinding.inner_text("body")
