"""The app's security rules without a server: which Host/Origin pairs pass, whose conversations a
browser sees, the guard in front of Streamlit (driven in-process through Starlette's test client),
and `python -m app.serve`'s command line."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect
from typer.testing import CliRunner

from app.conversation_list import short_title, started, when_started
from app.conversations import Conversation, ConversationStore
from app.guard import RequestGuard
from app.hosts import HostRules, host_name
from app.ownership import (
    GUARD_HEADER,
    OWNER_COOKIE,
    SHARED,
    new_token,
    owner_of,
    valid_token,
)
from app.serve import cli, streamlit_config, streamlit_options
from rag.schema import Answer

LOOPBACK = HostRules()
STREAM = "ws://127.0.0.1:8501/_stcore/stream"


# --- hosts and origins ----------------------------------------------------------------------------

@pytest.mark.parametrize("host", ["127.0.0.1:8501", "localhost:8501", "[::1]:8501", "LOCALHOST", "127.0.0.2:80"])
def test_the_hosts_of_this_machine_pass(host):
    assert LOOPBACK.allows(host, None)


@pytest.mark.parametrize("host", [
    "evil.example:8750",            # the rebinding page's own name
    "localhost.evil.example:8501",  # a name that only starts like a local one
    "127.0.0.1.nip.io:8501",        # a public name that resolves to loopback
    "192.168.1.20:8501",            # another machine's address: the app listens on 127.0.0.1
    "", None,
])
def test_other_hosts_are_refused(host):
    assert not LOOPBACK.allows(host, None)


def test_an_origin_must_be_the_pages_own():
    host = "127.0.0.1:8501"
    assert LOOPBACK.allows(host, "http://127.0.0.1:8501")
    assert not LOOPBACK.allows(host, "http://evil.example:8501"), "a page elsewhere, Host forged or not"
    assert not LOOPBACK.allows(host, "http://localhost:8501"), "another origin, even a local one"
    assert not LOOPBACK.allows(host, "http://127.0.0.1:9999"), "another port is another origin"
    assert not LOOPBACK.allows(host, "null"), "a sandboxed frame or a file:// page"
    assert not LOOPBACK.allows("evil.example:8501", "http://evil.example:8501")


def test_configured_names_and_all_interfaces():
    rules = HostRules.from_settings(" chat.intranet.example , Docs.Example:8501", "127.0.0.1")
    assert rules.allows("chat.intranet.example:8501", "http://chat.intranet.example:8501")
    assert rules.allows("docs.example", None)
    assert not rules.allows("evil.example", None)
    anywhere = HostRules.from_settings("", "0.0.0.0")  # served on every interface: any IP literal of it
    assert anywhere.allows("192.168.1.20:8501", "http://192.168.1.20:8501")
    assert not anywhere.allows("evil.example:8501", None), "names still need listing"
    assert HostRules.from_settings("*", None).allows("anything.example", "https://anything.example")


def test_host_names_are_compared_without_port_case_or_trailing_dot():
    assert [host_name(h) for h in ("Evil.Example:8750", "[::1]:8501", "[::1]", "localhost.", "::1")] == [
        "evil.example", "::1", "::1", "localhost", "::1"]


# --- whose conversations ----------------------------------------------------------------------------

def test_a_browser_sees_opens_and_deletes_only_its_own_conversations(tmp_path):
    store = ConversationStore(tmp_path / "c.sqlite3")
    alice, bob = owner_of(new_token()), owner_of(new_token())
    secret = store.create("My bank PIN is 4321", alice)
    store.add_turn(secret, Answer(question="My bank PIN is 4321", text="No article says."))
    store.rate(secret, 0, 1)
    assert [c.id for c in store.list(alice)] == [secret]
    assert store.list(bob) == [] and not store.exists(secret, bob) and store.turns(secret, bob) == []
    assert "4321" not in store.export_feedback(bob) and "4321" in store.export_feedback(alice)
    store.delete(secret, bob)
    assert store.exists(secret, alice), "another browser cannot delete it"
    assert store.list(SHARED) == []


def test_conversations_saved_before_owners_stay_shared_and_hidden_from_browsers(tmp_path):
    path = tmp_path / "c.sqlite3"
    with sqlite3.connect(path) as db:  # the schema before owners
        db.execute("CREATE TABLE conversations (id TEXT PRIMARY KEY, title TEXT NOT NULL, created REAL NOT NULL, "
                   "updated REAL NOT NULL)")
        db.execute("INSERT INTO conversations VALUES ('0123456789abcdef0123456789abcdef', 'old', 1, 1)")
    store = ConversationStore(path)
    assert [c.title for c in store.list(SHARED)] == ["old"]
    assert store.list(owner_of(new_token())) == []


def test_owner_tokens_are_unguessable_and_stored_only_hashed():
    token = new_token()
    assert valid_token(token) and token != new_token()
    assert not valid_token("") and not valid_token("x" * 20) and not valid_token(None)
    assert token not in owner_of(token) and len(owner_of(token)) == 64


# --- the list's words --------------------------------------------------------------------------------

def stamp(*args: int) -> float:
    return dt.datetime(*args, tzinfo=dt.UTC).timestamp()


def test_a_conversation_shows_when_it_began_as_briefly_as_tells_it_apart():
    utc = dt.UTC
    now = dt.datetime(2026, 12, 7, 15, 0, tzinfo=utc)
    assert started(stamp(2026, 12, 7, 14, 5), now) == "14:05"
    assert started(stamp(2026, 3, 1, 9, 30), now) == "1 Mar 09:30"
    assert started(stamp(2005, 2, 14, 23, 59), now) == "14 Feb 2005 23:59"
    berlin = dt.timezone(dt.timedelta(hours=1))
    assert started(stamp(2026, 12, 7, 23, 30), now, berlin) == "8 Dec 00:30", "in the browser's zone"
    twins = [Conversation("a", "Who is Li?", stamp(2026, 12, 7, 14, 5, 9)),
             Conversation("b", "Who is Li?", stamp(2026, 12, 7, 14, 5, 41)),
             Conversation("c", "Who is Liu?", stamp(2026, 12, 7, 14, 5, 50))]
    assert when_started(twins, now, None) == ["14:05:09", "14:05:41", "14:05"]


def test_long_titles_are_cut_with_an_ellipsis():
    # A BBC headline (tech/001), longer than a sidebar line
    title = "Ink helps drive democracy in Asia: the Kyrgyz Republic, a small, mountainous state of the former Soviet"
    assert short_title(title).endswith("…") and len(short_title(title)) <= 60
    assert short_title("Why did China refuse?") == "Why did China refuse?"


# --- the guard in front of Streamlit -------------------------------------------------------------------

def _guarded_app() -> TestClient:
    async def page(request):
        return PlainTextResponse("the app")

    async def stream(websocket):
        await websocket.accept()
        await websocket.send_text(f"hello, guarded: {websocket.headers.get(GUARD_HEADER)}")
        await websocket.close()

    app = Starlette(routes=[Route("/", page), WebSocketRoute("/_stcore/stream", stream)],
                    middleware=[Middleware(RequestGuard, rules=LOOPBACK)])
    return TestClient(app, base_url="http://127.0.0.1:8501")


def test_the_guard_refuses_a_rebinding_host_on_http_and_websocket():
    client = _guarded_app()
    refused = client.get("/", headers={"Host": "evil.example:8501", "Origin": "http://evil.example:8501"})
    assert refused.status_code == 403 and "the app" not in refused.text
    rebinding = {"Host": "evil.example:8501", "Origin": "http://evil.example:8501"}
    foreign_page = {"Origin": "http://evil.example:8501"}  # the right Host, a page elsewhere
    for headers in (rebinding, foreign_page):
        with pytest.raises(WebSocketDisconnect), client.websocket_connect(STREAM, headers=headers) as ws:
            ws.receive_text()
    with client.websocket_connect(STREAM, headers={"Origin": "http://127.0.0.1:8501"}) as ws:
        assert ws.receive_text() == "hello, guarded: 1", "the page learns the owner cookie was offered"


def test_the_guard_gives_each_browser_an_httponly_owner_cookie_once():
    client = _guarded_app()
    first = client.get("/")
    assert first.status_code == 200 and first.text == "the app"
    cookie = first.headers["set-cookie"]
    assert cookie.startswith(f"{OWNER_COOKIE}=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert valid_token(client.cookies[OWNER_COOKIE])
    assert "set-cookie" not in client.get("/").headers, "kept, not replaced"
    assert _guarded_app().get("/").cookies[OWNER_COOKIE] != client.cookies[OWNER_COOKIE], "one per browser"


# --- python -m app.serve's command line ------------------------------------------------------------------

def test_serve_passes_streamlit_options_typed_with_the_safe_defaults_under_them(tmp_path):
    page = tmp_path / "page.py"
    page.write_text("")
    config = streamlit_config(page, streamlit_options(["--server.port", "8502", "--server.address=0.0.0.0"]))
    assert config["server.port"] == 8502 and config["server.address"] == "0.0.0.0"
    assert config["server.enableXsrfProtection"] is True and config["server.maxUploadSize"] == 25


def test_serve_refuses_an_unknown_option_and_a_missing_app_before_starting_anything(tmp_path):
    runner = CliRunner()
    missing = runner.invoke(cli, ["--app", str(tmp_path / "nowhere.py")])
    assert missing.exit_code == 2 and "no app at" in missing.output
    page = tmp_path / "page.py"
    page.write_text("")
    typo = runner.invoke(cli, ["--app", str(page), "--no-ingest", "--server.prot", "8502"])
    assert typo.exit_code == 2 and "--server.prot" in typo.output
