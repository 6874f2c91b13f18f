"""Whose conversations a page may list, open and delete: the browser's own, told apart by a secret.

`python -m app.serve` (make run) gives each browser an unguessable token in an HttpOnly cookie
(`app.guard`); conversations are stored with the token's SHA-256, never the token, so the database
alone opens nothing. Under a plain `streamlit run` no cookie can be set: conversations are then
shared by everyone who can open the app, and the sidebar says so.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

import streamlit as st

OWNER_COOKIE = "rag_owner"
SHARED = ""  # the owner of conversations saved where browsers cannot be told apart
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")  # secrets.token_urlsafe(32): 256 random bits
# Added by app.guard to the WebSocket request it lets through: the page knows the cookie was offered.
# A client sending it itself under a plain `streamlit run` only narrows its own scope to its tab.
GUARD_HEADER = "x-rag-guard"


def new_token() -> str:
    return secrets.token_urlsafe(32)


def valid_token(value: object) -> bool:
    return isinstance(value, str) and bool(_TOKEN.match(value))


def owner_of(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


@dataclass(frozen=True)
class Scope:
    owner: str  # stored with each conversation: the hash of the browser's token, or SHARED
    note: str  # what the sidebar says about who sees the conversations


def browser_scope() -> Scope:
    """This page's scope, from the cookie its WebSocket was opened with."""
    token = st.context.cookies.get(OWNER_COOKIE)
    if valid_token(token):
        return Scope(owner_of(token), "Conversations are kept for this browser only.")
    if st.context.headers.get(GUARD_HEADER):  # the cookie was offered and refused: keep them for this tab only
        token = st.session_state.setdefault("owner_token", new_token())
        return Scope(owner_of(token), "This browser refuses cookies: conversations are kept only while this tab is open.")
    return Scope(SHARED, "Everyone who can open this app sees these conversations: it was started with "
                         "`streamlit run`. Start it with `make run` to keep each browser's to itself.")
