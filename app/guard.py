"""What `python -m app.serve` puts in front of Streamlit (an ASGI middleware, through `st.App`):
requests naming a host the app is not served under get 403, on HTTP and on the WebSocket (DNS
rebinding, see `app.hosts`), and each browser gets its owner cookie (`app.ownership`).

`page_allowed` repeats the host check inside the page script, for a plain `streamlit run` where no
middleware can be installed: the page then shows nothing but the refusal.
"""

from __future__ import annotations

import streamlit as st
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import cookie_parser
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .hosts import HostRules
from .ownership import GUARD_HEADER, OWNER_COOKIE, new_token, valid_token
from .settings import AppSettings

REFUSAL = "This app is not served under that host name. Open it at http://127.0.0.1 or http://localhost, " \
          "or list the name in RAG_APP_ALLOWED_HOSTS."
COOKIE_MAX_AGE_S = 400 * 24 * 3600  # the longest Chromium keeps a cookie


def configured_rules() -> HostRules:
    return HostRules.from_settings(AppSettings().app_allowed_hosts, st.get_option("server.address"))


class RequestGuard:
    def __init__(self, app: ASGIApp, rules: HostRules | None = None) -> None:
        self.app = app
        self.rules = rules or configured_rules()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if not self.rules.allows(headers.get("host"), headers.get("origin")):
            if scope["type"] == "websocket":
                await receive()  # the connect message; closing before accepting answers the handshake 403
                await send({"type": "websocket.close", "code": 1008})
            else:
                await PlainTextResponse(REFUSAL, status_code=403)(scope, receive, send)
            return
        if scope["type"] == "websocket":
            scope = {**scope, "headers": [*scope["headers"], (GUARD_HEADER.encode(), b"1")]}
        elif not valid_token(cookie_parser(headers.get("cookie", "")).get(OWNER_COOKIE)):
            send = _setting_cookie(send, new_token())
        await self.app(scope, receive, send)


def _setting_cookie(send: Send, token: str) -> Send:
    async def send_with_cookie(message: Message) -> None:
        if message["type"] == "http.response.start":
            # Lax, not Strict: a link from another site must still carry it, or it would be replaced
            # and the browser's conversations lost. HttpOnly: no script on the page can read it.
            MutableHeaders(scope=message).append(
                "set-cookie", f"{OWNER_COOKIE}={token}; Path=/; Max-Age={COOKIE_MAX_AGE_S}; HttpOnly; SameSite=Lax")
        await send(message)
    return send_with_cookie


def page_allowed() -> bool:
    """The host check for the page script: headers are those of the page's WebSocket (none under AppTest)."""
    headers = st.context.headers
    if not headers:
        return True
    return configured_rules().allows(headers.get("host"), headers.get("origin"))
