"""What the page shows while the engine warms up: how far it has got, and that a question typed
meanwhile is kept and will be answered once the engine is ready."""

from __future__ import annotations

import streamlit as st

from .chat_view import CHAT_PROMPT
from .render import md_escape
from .startup import Startup


def starting_view(startup: Startup) -> None:
    """Returns when the engine is ready or has failed."""
    with st.sidebar:
        st.caption("Settings, filters and saved conversations appear here once the articles are ready.")
    typed = st.chat_input(CHAT_PROMPT, max_chars=startup.settings.max_question_chars)  # the chat's own cap
    if typed:
        st.session_state.queued_question = typed
    if queued := st.session_state.get("queued_question"):
        with st.chat_message("user"):
            st.markdown(md_escape(queued))
        st.info("Your question is queued: it will be answered as soon as the articles are ready.",
                icon=":material/hourglass_top:")
    else:
        st.caption("You can type a question now: it will be answered as soon as the articles are ready.")
    shown = None
    with st.status(md_escape(f"{startup.stage}…"), expanded=True) as status:
        bar = st.progress(0.0)
        while not startup.wait(0.25):
            # Once a second at most: each update is a message to the browser, and it is also where
            # Streamlit notices a question typed meanwhile (it reruns the script from there).
            now = (startup.stage, startup.fraction, int(startup.elapsed))
            if now != shown:
                shown = now
                status.update(label=md_escape(f"{startup.stage}… {now[2]} s"))
                bar.progress(startup.fraction if startup.fraction is not None else min(0.9, now[2] / 30),
                             text=md_escape(startup.stage))
        if startup.failed:
            status.update(label="The start-up failed", state="error")
