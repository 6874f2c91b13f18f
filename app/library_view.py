"""The Library: what is indexed (title, author, date, publisher), reading an article's cleaned text,
adding and removing articles.

A change (add, re-index, remove) is asked for by a button's callback and done at the start of the next
run, before anything is drawn; the table and its caption are then drawn once, from one reading of the
index, so they never show the state before the change or disagree with each other. Each message is
drawn next to the control it is about: an upload's problem under the uploader, naming the file.
"""

from __future__ import annotations

import inspect
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import streamlit as st

from rag import RagError
from rag.ingest.library import check_document, safe_filename
from rag.ingest.load import SUPPORTED_SUFFIXES

from .labels import article_title
from .render import human_date, md_escape

if TYPE_CHECKING:
    from rag import RAG
    from rag.schema import IngestReport

ADDABLE = "Only .txt, .md, .html and .pdf files can be added"
# Where a message is drawn: next to the control whose action it reports.
AT_UPLOADER, AT_REINDEX, AT_REMOVE = "uploader", "reindex", "remove"


def library_view(bot: RAG) -> None:
    # Drawn on every run, so the table keeps its place on the page while a change is made above it
    # (a new element in front would shift it, and the browser would redraw it from blank).
    working = st.empty()
    _do_pending_action(bot, working)
    articles = bot.articles()  # the one reading of the index that everything below is drawn from
    _articles_table(bot, articles)
    st.button("Re-index the folder", key="reindex", icon=":material/refresh:", on_click=_ask, args=("reindex",),
              help="Pick up files added, changed or removed in the folder by other means")
    _messages(AT_REINDEX)
    titles = {a["id"]: f"{article_title(a.get('title'))} ({a['id']})" for a in articles}
    _read_article(bot, titles)
    _add_articles(bot)
    _remove_article(bot, titles)


def _articles_table(bot: RAG, articles: list[dict[str, Any]]) -> None:
    passages = sum(int(a.get("chunks") or 0) for a in articles)
    st.caption(md_escape(f"{len(articles)} articles in {bot.settings.docs_dir}/, split into {passages} passages "
                         f"for searching. On a narrow screen, swipe the table sideways for more columns."))
    # Title and date first, narrow enough to fit a phone's width together; the author next; the file last.
    # Dates are dates (not words), so sorting by the column sorts by time.
    st.dataframe(
        [{"Title": article_title(a.get("title")), "Date": _as_date(a.get("date")), "Author": a.get("author") or "",
          "Publisher": a.get("publisher") or "", "Passages": int(a.get("chunks") or 0), "File": a["id"]}
         for a in articles],
        hide_index=True, width="stretch", key="library_table", placeholder="no date",  # only dates can be missing
        column_config={
            "Title": st.column_config.TextColumn("Title", width=240),
            "Date": st.column_config.DateColumn("Date", width=100, format="D MMM YYYY"),
            "Passages": st.column_config.NumberColumn(
                "Passages", width="small", help="How many passages the article was split into for searching"),
        })


def _as_date(iso: str | None) -> date | None:
    try:
        return date.fromisoformat(iso) if iso else None
    except ValueError:
        return None


def _read_article(bot: RAG, titles: dict[str, str]) -> None:
    chosen = st.selectbox("Read an article", list(titles), index=None, format_func=titles.get, key="read_choice",
                          placeholder="Choose an article to read its text as indexed")
    if not chosen or (article := bot.article(chosen)) is None:
        return
    byline = f"By {article.author}" if article.author else None
    about = (byline, article.publisher, human_date(article.date), article.source)
    st.caption(md_escape(" · ".join(x for x in about if x)))
    with st.container(height=360, border=True):
        st.markdown(md_escape(article.text))


def _add_articles(bot: RAG) -> None:
    state = st.session_state
    st.subheader("Add articles")
    limit = bot.settings.max_file_mb
    generation = state.setdefault("uploads_generation", 0)  # a new key empties the uploader after adding
    uploads = st.file_uploader(f"Text, Markdown, HTML or PDF, up to {limit} MB each", accept_multiple_files=True,
                               key=f"uploads-{generation}")
    problems_slot = st.container()  # right under the files they are about
    st.caption(f"Each file can be up to {limit} MB. A larger file is marked in red in the list above and is "
               f"not added: split it, or save it as plain text.")
    replace = st.checkbox("Replace articles that have the same file name", key="replace")
    problems = {upload.name: upload_problem(bot, upload.name, replace, upload.getvalue()) for upload in uploads or []}
    for problem in filter(None, problems.values()):
        problems_slot.error(md_escape(problem), icon=":material/block:")
    addable = [name for name, problem in problems.items() if problem is None]
    st.button(f"Add {len(addable)} file{'s' * (len(addable) != 1)} and re-index" if problems else "Add and re-index",
              key="add", disabled=not addable, on_click=_ask, args=("add",))
    _messages(AT_UPLOADER)


def upload_problem(bot: RAG, name: str, replace: bool, data: bytes | None = None) -> str | None:
    """Why an upload cannot be added, in plain words, naming the file; None when it can."""
    if Path(name).suffix.lower() not in SUPPORTED_SUFFIXES:
        return f"{ADDABLE}; {name} is not one of them."
    try:
        target = Path(bot.settings.docs_dir) / safe_filename(name)
        if data is not None:
            check_document(name, data, bot.settings.max_file_mb * 1_000_000)
    except RagError as exc:
        return str(exc)
    if target.exists() and not replace:
        return (f"{target.name} is already in the library. Tick “Replace articles that have the same file name” "
                f"to replace it.")
    return None


def _remove_article(bot: RAG, titles: dict[str, str]) -> None:
    state = st.session_state
    st.subheader("Remove an article")
    _messages(AT_REMOVE)
    if not titles:
        return
    victim = st.selectbox("Article to remove", list(titles), index=None, format_func=titles.get, key="remove_choice",
                          placeholder="Choose an article")
    if st.button("Remove…", key="remove", disabled=victim is None):
        state.confirm_remove = victim
    pending = state.get("confirm_remove")
    if pending is None or pending not in titles:
        return
    st.warning(md_escape(f"Remove {titles[pending]}? This deletes the file {Path(bot.settings.docs_dir) / pending} "
                         f"and takes the article out of the index."))
    yes, no = st.columns(2)
    yes.button("Yes, remove it", key="confirm_remove_yes", type="primary", on_click=_ask, args=("remove", pending))
    no.button("Cancel", key="confirm_remove_no", on_click=state.pop, args=("confirm_remove", None))


# --- changes: asked for by a button's callback, done before the page is drawn ---------------------------

def _ask(action: str, *args: str) -> None:
    st.session_state.library_action = (action, *args)


def _do_pending_action(bot: RAG, working: Any) -> None:
    state = st.session_state
    action, *args = state.pop("library_action", None) or ("",)
    if action == "add":
        _add(bot, working)
    elif action == "reindex":
        _reindex(bot, AT_REINDEX, working)
    elif action == "remove":
        state.pop("confirm_remove", None)
        state.pop("remove_choice", None)
        try:
            bot.remove_document(args[0])
        except RagError as exc:
            _say(AT_REMOVE, "error", str(exc))
        else:
            _reindex(bot, AT_REMOVE, working)


def _add(bot: RAG, working: Any) -> None:
    state = st.session_state
    generation = state.get("uploads_generation", 0)
    replace = bool(state.get("replace"))
    saved = 0
    for upload in state.get(f"uploads-{generation}") or []:
        data = upload.getvalue()
        if upload_problem(bot, upload.name, replace, data):
            continue  # already shown under the uploader, and shown again while the file stays there
        try:
            _save(bot, upload.name, data, replace)
            saved += 1
        except RagError as exc:
            _say(AT_UPLOADER, "error", str(exc))
    if saved:
        state.uploads_generation = generation + 1  # the added files leave the uploader
        _reindex(bot, AT_UPLOADER, working)


def _save(bot: RAG, name: str, data: bytes, replace: bool) -> None:
    # The library may ask for an explicit choice before overwriting a file; give it when it does.
    if "overwrite" in inspect.signature(bot.add_document).parameters:
        bot.add_document(name, data, overwrite=replace)
    else:
        bot.add_document(name, data)


def _reindex(bot: RAG, where: str, working: Any) -> None:
    bar = working.progress(0.0, text="Re-indexing…")

    def progress(done: int, total: int, current: str) -> None:
        bar.progress(done / max(total, 1), text=md_escape(f"Re-indexing: {current}") if current else "Re-indexing")

    try:
        report = bot.ingest(progress=progress)
    except RagError as exc:
        _say(where, "error", str(exc))
        return
    finally:
        working.empty()
    _say(where, "success", report_summary(report))
    for problem in report.failed:
        _say(where, "warning", f"Skipped {problem.file}: {problem.reason}")


def report_summary(report: IngestReport) -> str:
    """What a re-index changed, in plain words: '1 added: penguins.md.' (the counts are the table's)."""
    changes = [f"{len(files)} {verb}: {_some(files)}" for verb, files in
               (("added", report.added), ("updated", report.updated), ("removed", report.removed)) if files]
    return "; ".join(changes) + "." if changes else "Nothing had changed in the folder."


def _some(names: list[str], shown: int = 3) -> str:
    return ", ".join(names[:shown]) + (f" and {len(names) - shown} more" if len(names) > shown else "")


def _say(where: str, kind: str, text: str) -> None:
    st.session_state.setdefault("library_messages", []).append((where, kind, text))


def _messages(where: str) -> None:
    """The messages about the control drawn just above; each is shown once."""
    state = st.session_state
    messages = state.get("library_messages", [])
    for kind, text in [(k, t) for w, k, t in messages if w == where]:
        getattr(st, kind)(md_escape(text))
    state.library_messages = [m for m in messages if m[0] != where]
