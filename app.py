"""Chat with the articles: a Streamlit shell over the `rag` library (no retrieval or answering here).

Everything from an article or a model is rendered through `rag.render` (escaped, inert Markdown);
`unsafe_allow_html` is never used.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

from rag import Answer, RagError
from rag.render import highlighted, md_escape
from rag.startup import Startup, begin

if TYPE_CHECKING:
    from rag import RAG

EXAMPLES = [
    "Why did China refuse the Austin meeting?",
    "When were the sanctions on Li Shangfu imposed?",
    "What did the US Defence Department call China's decision?",
    "Whom did Blinken meet in Beijing?",
]
CHAT_PROMPT = "Ask a question about the articles"  # one chat box, in the start-up view and the chat
REGRESSION_DIR = Path("tests/regression")

st.set_page_config(page_title="Ask the articles", page_icon="📰", layout="wide")


def starting_view(startup: Startup) -> None:
    """While the engine warms up, show how far it has got; returns when it is ready or has failed.
    The chat box already takes a question, which is answered as soon as the engine is ready."""
    st.title("Ask the articles")
    typed = st.chat_input(CHAT_PROMPT)
    if typed:
        st.session_state.queued_question = typed
    if queued := st.session_state.get("queued_question"):
        with st.chat_message("user"):
            st.markdown(md_escape(queued))
    shown = None
    with st.status(md_escape(f"{startup.stage}…")) as status:
        bar = st.empty()
        while not startup.wait(0.25):
            # Once a second at most: each update is a message to the browser, and it is also where
            # Streamlit notices a question typed meanwhile (it reruns the script from there).
            now = (startup.stage, startup.fraction, int(startup.elapsed))
            if now != shown:
                shown = now
                status.update(label=md_escape(f"{startup.stage}… {now[2]} s"))
                if startup.fraction is not None:
                    bar.progress(startup.fraction)
        if startup.failed:
            status.update(label="The start-up failed", state="error")


def render_answer(answer: Answer, bot: RAG) -> None:
    if answer.fallback_reason:
        st.info(md_escape(f"The model was not used: {answer.fallback_reason}"), icon="ℹ️")
    if answer.abstained:
        st.warning(md_escape(answer.text), icon="🤷")
        if answer.abstain_reason:
            st.caption(md_escape(f"Why: {answer.abstain_reason}"))
    else:
        st.markdown(md_escape(answer.text))
    if answer.standalone_question:
        st.caption(md_escape(f"Searched for: {answer.standalone_question}"))
    for c in answer.citations:
        label = " · ".join(x for x in (f"[{c.n}] {c.title or c.source}", c.publisher, c.date, c.source.split("/")[-1]) if x)
        with st.expander(md_escape(label)):
            paragraph, start, end = bot.citation_context(c)
            st.markdown(highlighted(paragraph, start, end))
            st.caption(md_escape(f"{c.source}, characters {c.start}–{c.end}"))
    if not answer.abstained:
        st.caption(md_escape(f"Answered by: {answer.answerer} · {answer.timings.get('total_ms', 0):.0f} ms"))


def sidebar(bot: RAG) -> dict:
    with st.sidebar:
        view = st.radio("View", ["Chat", "Library", "Regression"], horizontal=True, key="view")
        st.header("Settings")
        choices = bot.available_answerers()
        default = bot.settings.effective_answerer()
        answerer = st.selectbox("Answerer", list(choices), format_func=choices.get, key="answerer",
                                index=list(choices).index(default) if default in choices else 0)
        if len(choices) == 1:
            st.caption("Set OPENAI_API_KEY, or OPENAI_BASE_URL for a compatible server, to answer with a model.")
        top_k = st.slider("Passages to answer from", 1, 10, bot.settings.top_k, key="top_k")
        articles = bot.articles()
        titles = {a["id"]: a.get("title") or a["id"] for a in articles}
        sources = st.multiselect("Only these articles", list(titles), format_func=titles.get, key="sources")
        date_from = date_to = None
        if st.checkbox("Filter by date", key="use_dates"):
            date_from = st.date_input("From", dt.date(2023, 1, 1), key="date_from")
            date_to = st.date_input("To", dt.date(2023, 12, 31), key="date_to")
    return {"view": view, "answerer": answerer, "top_k": top_k, "sources": sources or None,
            "date_from": date_from, "date_to": date_to}


def chat_view(bot: RAG, options: dict) -> None:
    st.title("Ask the articles")
    if st.session_state.get("chat_answerer") != options["answerer"] or "chat" not in st.session_state:
        st.session_state.chat = bot.chat(answerer=options["answerer"])
        st.session_state.chat_answerer = options["answerer"]
    chat = st.session_state.chat
    if st.button("New conversation", key="new_chat"):
        chat.reset()

    typed = st.chat_input(CHAT_PROMPT)  # pinned to the bottom wherever it is called
    pending = None if typed else st.session_state.pop("queued_question", None)  # typed during start-up
    if not chat.history and not typed and not pending:
        st.caption("Questions about the indexed articles, answered with citations. Try one:")
        columns = st.columns(len(EXAMPLES))
        for i, (column, example) in enumerate(zip(columns, EXAMPLES)):
            if column.button(example, key=f"example_{i}"):
                pending = example
    for turn in chat.history:
        with st.chat_message("user"):
            st.markdown(md_escape(turn.question))
        with st.chat_message("assistant"):
            render_answer(turn, bot)

    question = typed or pending
    if not question:
        return
    with st.chat_message("user"):
        st.markdown(md_escape(question))
    with st.chat_message("assistant"):
        placeholder = st.empty()
        streamed = ""
        try:
            for event in chat.stream(question, top_k=options["top_k"], sources=options["sources"],
                                     date_from=options["date_from"], date_to=options["date_to"]):
                if isinstance(event, Answer):
                    placeholder.empty()
                    with placeholder.container():
                        render_answer(event, bot)
                else:
                    streamed += event
                    placeholder.markdown(md_escape(streamed) + " ▌")
        except RagError as exc:
            placeholder.error(md_escape(str(exc)))


def library_view(bot: RAG) -> None:
    st.title("Library")
    articles = bot.articles()
    st.dataframe(
        [{"title": a.get("title"), "publisher": a.get("publisher"), "date": a.get("date"),
          "chunks": a.get("chunks"), "file": a["id"]} for a in articles],
        hide_index=True, width="stretch")
    st.caption(f"{len(articles)} articles in {bot.settings.docs_dir}/, "
               f"{sum(a.get('chunks', 0) for a in articles)} chunks indexed.")

    st.subheader("Add articles")
    uploads = st.file_uploader(f"Text, Markdown, HTML or PDF, up to {bot.settings.max_file_mb} MB each",
                               type=["txt", "md", "html", "htm", "pdf"], accept_multiple_files=True, key="uploads")
    if st.button("Add and re-index", key="add", disabled=not uploads):
        saved = 0
        for upload in uploads or []:
            try:
                bot.add_document(upload.name, upload.getvalue())
                saved += 1
            except RagError as exc:
                st.error(md_escape(str(exc)))
        if saved:
            reindex(bot)

    st.subheader("Remove an article")
    if articles:
        victim = st.selectbox("Article", [a["id"] for a in articles], key="remove_choice")
        if st.button("Remove and re-index", key="remove"):
            try:
                bot.remove_document(victim)
            except RagError as exc:
                st.error(md_escape(str(exc)))
            else:
                reindex(bot)


def reindex(bot: RAG) -> None:
    bar = st.progress(0.0, text="Re-indexing…")

    def progress(done: int, total: int, current: str) -> None:
        bar.progress(done / max(total, 1), text=md_escape(f"Re-indexing: {current}") if current else "Re-indexing")

    try:
        report = bot.ingest(progress=progress)
    except RagError as exc:
        st.error(md_escape(str(exc)))
        return
    bar.empty()
    st.success(md_escape(report.summary()))
    for problem in report.failed:
        st.warning(md_escape(f"Skipped {problem.file}: {problem.reason}"))


def regression_view(bot: RAG, options: dict) -> None:
    from rag.eval import load_cases, run_cases

    st.title("Regression set")
    files = sorted(REGRESSION_DIR.glob("*.jsonl"))
    if not files:
        st.info(md_escape(f"No regression sets in {REGRESSION_DIR}/."))
        return
    chosen = st.selectbox("Set", files, format_func=lambda p: p.name, key="qa_file")
    if not st.button("Run", key="run_eval"):
        return
    try:
        cases = load_cases(chosen)
    except RagError as exc:
        st.error(md_escape(str(exc)))
        return
    bar = st.progress(0.0, text="Asking…")
    metrics, results = run_cases(bot, cases, answerer=options["answerer"],
                                 progress=lambda done, total: bar.progress(done / total, text=f"{done}/{total}"))
    bar.empty()
    st.table([{"metric": k, "value": f"{v:.3f}" if isinstance(v, float) else v} for k, v in metrics.items()])
    failed = [r for r in results if not r["passed"]]
    st.subheader(f"Failed cases ({len(failed)})")
    for r in failed:
        with st.expander(md_escape(f"{r['id']}: {r['question']}")):
            st.markdown(md_escape(f"Expected key facts: {r.get('key_facts_found')} "
                                  f"({'answerable' if r['answerable'] else 'unanswerable'})"))
            st.markdown(md_escape(f"Answer: {r['answer']}"))
            for c in r["citations"]:
                st.caption(md_escape(f"[{c['n']}] {c['source']}: {c['quote']}"))


def main() -> None:
    try:
        # One engine per process, shared by every session and rerun: `rag serve` (make run) began
        # building it before this visit; under plain `streamlit run`, the first visit begins it.
        startup = begin()
        if not startup.wait(0):
            starting_view(startup)
            if not startup.failed:
                st.rerun()
        bot = startup.engine()  # a failed start-up raises here, and the next rerun tries again
    except RagError as exc:
        st.error(md_escape(str(exc)))
        st.stop()
    options = sidebar(bot)
    if options["view"] == "Library":
        library_view(bot)
    elif options["view"] == "Regression":
        regression_view(bot, options)
    else:
        chat_view(bot, options)


main()
