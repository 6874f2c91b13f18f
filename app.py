"""Chat with the articles: `streamlit run app.py` (or `make run`). A thin shell: the pages live in
`app/` (the Streamlit helpers), the work in the `rag` library.

Everything from an article or a model is rendered through `app.render` (escaped, inert Markdown);
`unsafe_allow_html` is never used.
"""

from __future__ import annotations

import streamlit as st

from app.chat_view import chat_view, conversation_store, saved_conversations, sidebar
from app.guard import REFUSAL, page_allowed
from app.library_view import library_view
from app.ownership import browser_scope
from app.regression_view import regression_view
from app.render import md_escape
from app.settings import AppSettings
from app.startup import begin
from app.startup_view import starting_view
from rag import RagError

VIEWS = ["Chat", "Library", "Regression"]

# The sidebar starts collapsed on narrow screens, and nothing on the page needs it: the views are
# switched at the top of the page.
st.set_page_config(page_title="Ask the articles", page_icon="📰", layout="wide", initial_sidebar_state="auto")


def main() -> None:
    if not page_allowed():  # a host name the app is not served under: a DNS-rebinding page, say
        st.error(REFUSAL)
        st.stop()
    st.title("Ask the articles")
    try:
        # One engine per process, shared by every session and rerun: `python -m app.serve` (make run)
        # began building it before this visit; under plain `streamlit run`, the first visit begins it.
        startup = begin()
        if not startup.wait(0):
            starting_view(startup)
            if not startup.failed:
                st.rerun()
        bot = startup.engine()  # a failed start-up raises here, and the next rerun tries again
    except RagError as exc:
        st.error(md_escape(str(exc)))
        st.stop()
    view = st.radio("View", VIEWS, horizontal=True, key="view", label_visibility="collapsed")
    store = conversation_store(AppSettings().conversations_path(bot.settings.persist_dir))
    scope = browser_scope()
    options = sidebar(bot)
    if view == "Library":
        library_view(bot)
    elif view == "Regression":
        regression_view(bot, options)
    else:
        chat_view(bot, options, store, scope.owner)
    saved_conversations(options, store, scope)


main()
