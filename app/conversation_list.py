"""The sidebar's saved conversations: this browser's own (`app.ownership`), newest first, each with
the date and time it began, so two with the same question can be told apart.

It is drawn after the page's view has run, into a place the sidebar kept for it, so a conversation
the view has just begun is listed at once.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import streamlit as st

from .conversations import Conversation, ConversationStore
from .ownership import Scope
from .render import md_escape

TITLE_CHARS = 60  # the rest of a long question is in the button's tooltip


def started(timestamp: float, now: dt.datetime, zone: dt.tzinfo | None = None, seconds: bool = False) -> str:
    """When a conversation began, briefly: `14:05` today, `7 Dec 14:05` this year, `7 Dec 2025 14:05`
    before (with seconds, `14:05:09`, for twins begun within a minute)."""
    when = dt.datetime.fromtimestamp(timestamp, zone or now.tzinfo)
    clock = when.strftime("%H:%M:%S" if seconds else "%H:%M")
    if when.date() == now.date():
        return clock
    if when.year == now.year:
        return f"{when.day} {when:%b} {clock}"
    return f"{when.day} {when:%b %Y} {clock}"


def when_started(conversations: list[Conversation], now: dt.datetime, zone: dt.tzinfo | None) -> list[str]:
    """Each conversation's start, to the second where two with the same title began in the same minute."""
    minutes = [(c.title, started(c.created, now, zone)) for c in conversations]
    return [started(c.created, now, zone, seconds=minutes.count(key) > 1) for c, key in zip(conversations, minutes)]


def short_title(title: str) -> str:
    return title if len(title) <= TITLE_CHARS else title[:TITLE_CHARS - 1].rstrip() + "…"


def browser_zone() -> dt.tzinfo | None:
    """The browser's time zone (what its clock shows), else the server's."""
    try:
        return ZoneInfo(st.context.timezone) if st.context.timezone else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


def conversation_list(place, store: ConversationStore, scope: Scope, on_open, on_delete) -> None:
    """Draw the list into `place` (a sidebar container); the callbacks take a conversation id."""
    conversations = store.list(scope.owner)
    with place:
        st.subheader("Conversations")
        st.caption(scope.note)  # the app's own words, with `code`
        current = st.query_params.get("c")
        zone = browser_zone()
        now = dt.datetime.now(zone) if zone else dt.datetime.now().astimezone()  # aware, either way
        for conversation, when in zip(conversations, when_started(conversations, now, zone)):
            # One row that never wraps: on a phone the delete icon stays beside the title, not under it.
            with st.container(horizontal=True, wrap=False, vertical_alignment="center", gap="small"):
                with st.container(gap=None):
                    # A long question is cut (whole in the tooltip); the time under it tells twins apart.
                    st.button(md_escape(short_title(conversation.title)), key=f"open-{conversation.id}",
                              type="tertiary", help=md_escape(conversation.title), on_click=on_open,
                              args=(conversation.id,), disabled=conversation.id == current)
                    st.caption(when)
                st.button("", icon=":material/delete:", key=f"delete-{conversation.id}", type="tertiary",
                          help=md_escape(f"Delete “{conversation.title}” ({when})"), on_click=on_delete,
                          args=(conversation.id,))
        if conversations:
            st.download_button("Export feedback (JSONL for rag eval)", store.export_feedback(scope.owner),
                               file_name="feedback_qa.jsonl", mime="application/jsonl", key="export_feedback",
                               icon=":material/download:")
