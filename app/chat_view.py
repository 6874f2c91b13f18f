"""The chat: the sidebar's settings and filters, the saved conversations, the questions and answers."""

from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import streamlit as st

from rag import Answer, RagError

from .answer_view import is_refusal, render_answer
from .context import texts_for
from .conversations import ConversationStore, valid_id
from .filters import ArticleFilter
from .labels import answerer_choices, article_title
from .render import md_escape, with_badges

if TYPE_CHECKING:
    from rag import RAG

EXAMPLES = [
    "Why did China refuse the Austin meeting?",
    "When were the sanctions on Li Shangfu imposed?",
    "What did the US Defence Department call China's decision?",
    "Whom did Blinken meet in Beijing?",
]
CHAT_PROMPT = "Ask a question about the articles"  # one chat box, in the start-up view and the chat
STREAM_REDRAW_S = 0.1  # redraw streamed text at most this often (each redraw escapes the whole text)
FILTER_KEYS = ("sources", "use_dates")

_stores: dict[Path, ConversationStore] = {}
_stores_lock = threading.Lock()


def conversation_store(path: Path) -> ConversationStore:
    with _stores_lock:
        if path not in _stores:
            _stores[path] = ConversationStore(path)
        return _stores[path]


def sidebar(bot: RAG, store: ConversationStore) -> dict[str, Any]:
    """Settings, filters and saved conversations; returns the choices."""
    with st.sidebar:
        st.button("New conversation", key="new_chat", icon=":material/add:", on_click=_open_conversation, args=(None,))
        st.subheader("Answer from")
        choices = answerer_choices(bot)
        default = bot.settings.effective_answerer()
        answerer = st.selectbox("Answerer", list(choices), format_func=choices.get, key="answerer",
                                index=list(choices).index(default) if default in choices else 0)
        if len(choices) == 1:
            st.caption("Set OPENAI_API_KEY, or OPENAI_BASE_URL for a compatible server, to answer with a model.")
        top_k = st.slider("Passages to answer from", 1, 10, bot.settings.top_k, key="top_k")
        articles = bot.articles()
        titles = {a["id"]: article_title(a.get("title")) for a in articles}
        sources = st.multiselect("Only these articles", list(titles), format_func=titles.get, key="sources")
        date_from = date_to = None
        include_undated = True
        if st.checkbox("Filter by date", key="use_dates"):
            date_from = st.date_input("From", dt.date(2023, 1, 1), key="date_from")
            date_to = st.date_input("To", dt.date(2023, 12, 31), key="date_to")
            include_undated = st.checkbox("Include articles without a date", value=True, key="include_undated")
        article_filter = ArticleFilter(tuple(s for s in sources if s in titles), date_from, date_to, include_undated)
        if problem := article_filter.problem():
            st.error(md_escape(problem))
        _conversation_list(store)
    return {"answerer": answerer, "top_k": top_k, "filter": article_filter, "articles": articles}


def _conversation_list(store: ConversationStore) -> None:
    conversations = store.list()
    if not conversations:
        return
    st.subheader("Conversations")
    current = st.query_params.get("c")
    for conversation in conversations:
        left, right = st.columns([5, 1], vertical_alignment="center")
        left.button(md_escape(conversation.title), key=f"open-{conversation.id}", type="tertiary",
                    on_click=_open_conversation, args=(conversation.id,), disabled=conversation.id == current)
        right.button("", icon=":material/delete:", key=f"delete-{conversation.id}", type="tertiary",
                     help=md_escape(f"Delete “{conversation.title}”"), on_click=_delete_conversation,
                     args=(store, conversation.id))
    st.download_button("Export feedback (JSONL for rag eval)", store.export_feedback(), file_name="feedback_qa.jsonl",
                       mime="application/jsonl", key="export_feedback", icon=":material/download:")


def _open_conversation(cid: str | None) -> None:
    if cid is None:
        st.query_params.pop("c", None)
    else:
        st.query_params["c"] = cid
    st.session_state.pop("chat", None)  # reloaded from the store on this rerun


def _delete_conversation(store: ConversationStore, cid: str) -> None:
    store.delete(cid)
    if st.query_params.get("c") == cid:
        _open_conversation(None)


def _clear_filter() -> None:
    st.session_state["sources"] = []
    st.session_state["use_dates"] = False


def _load_chat(bot: RAG, store: ConversationStore, answerer: str):
    """This session's conversation: the one named in the URL, restored from the store, or a new one."""
    cid = st.query_params.get("c")
    if cid is not None and not (valid_id(cid) and store.exists(cid)):
        st.query_params.pop("c", None)
        st.info("That conversation no longer exists; this is a new one.")
        cid = None
    state = st.session_state
    chat = state.get("chat")
    if chat is None or chat.bot is not bot or state.get("chat_cid") != cid:
        chat = bot.chat(answerer=answerer)
        turns = store.turns(cid) if cid else []
        chat.history = [t.answer for t in turns]
        state.chat, state.chat_cid, state.searched = chat, cid, [t.searched for t in turns]
        for position, turn in enumerate(turns):  # the thumbs as they were left
            state[f"feedback-{cid}-{position}"] = turn.rating
    chat.answerer = answerer
    return chat


def chat_view(bot: RAG, options: dict[str, Any], store: ConversationStore) -> None:
    chat = _load_chat(bot, store, options["answerer"])
    state = st.session_state
    article_filter: ArticleFilter = options["filter"]
    problem = article_filter.problem()
    typed = st.chat_input(CHAT_PROMPT, disabled=problem is not None)  # pinned to the bottom wherever it is called
    pending = None if typed else state.pop("queued_question", None)  # typed during start-up
    if problem:
        st.error(md_escape(problem))
    if not chat.history and not typed and not pending:
        st.caption("Questions about the indexed articles, answered with quotes you can check. Try one:")
        with st.container(horizontal=True):
            for i, example in enumerate(EXAMPLES):
                if st.button(example, key=f"example_{i}"):
                    pending = example
    cid = state.chat_cid
    last = len(chat.history) - 1
    for i, answer in enumerate(chat.history):
        with st.chat_message("user"):
            st.markdown(md_escape(answer.question))
        with st.chat_message("assistant"):
            clear = _clear_filter if (i == last and article_filter.active and is_refusal(answer)) else None
            render_answer(answer, texts_for(bot), key=f"turn-{cid}-{i}", searched=_searched(i), on_clear_filter=clear)
            _feedback(store, cid, i)

    question = (typed or pending) if not problem else None
    if not question:
        return
    with st.chat_message("user"):
        st.markdown(md_escape(question))
    with st.chat_message("assistant"):
        answer = _ask(bot, chat, question, options)
        if answer is None:
            return
        searched = article_filter.describe(options["articles"])
        if cid is None:
            cid = store.create(question)
            st.query_params["c"] = cid
            state.chat_cid = cid
        position = store.add_turn(cid, answer, searched)
        state.searched = [*state.get("searched", []), searched]
        clear = _clear_filter if article_filter.active and is_refusal(answer) else None
        render_answer(answer, texts_for(bot), key=f"turn-{cid}-{position}", searched=searched, on_clear_filter=clear)
        _feedback(store, cid, position)


def _searched(i: int) -> str:
    searched = st.session_state.get("searched", [])
    return searched[i] if i < len(searched) else ""


def _ask(bot: RAG, chat, question: str, options: dict[str, Any]) -> Answer | None:
    """Stream the answer into the page; the final Answer (None after an error, which is shown)."""
    article_filter: ArticleFilter = options["filter"]
    sources = article_filter.article_ids(options["articles"])
    if sources == []:  # the filter admits no article: nothing to search, say so instead of asking
        answer = Answer(question=question, text="No article matches the filter.", form="refusal", abstained=True,
                        scope=article_filter.describe(options["articles"]))
        chat.history.append(answer)
        return answer
    placeholder = st.empty()
    streamed, drawn = "", 0.0
    try:
        for event in chat.stream(question, top_k=options["top_k"], sources=sources):
            if isinstance(event, Answer):
                placeholder.empty()
                return event
            streamed += event
            if time.monotonic() - drawn >= STREAM_REDRAW_S:
                placeholder.markdown(with_badges(streamed) + " ▌")
                drawn = time.monotonic()
    except RagError as exc:
        placeholder.error(md_escape(str(exc)))
    return None


def _feedback(store: ConversationStore, cid: str | None, position: int) -> None:
    if cid is None:
        return
    key = f"feedback-{cid}-{position}"
    st.feedback("thumbs", key=key, on_change=lambda: store.rate(cid, position, st.session_state.get(key)))
