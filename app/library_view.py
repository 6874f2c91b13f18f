"""The Library: what is indexed (title, publisher, date, chunks), reading an article's cleaned text,
adding and removing articles. Every change re-indexes, then the page is drawn again from the index,
so the table never shows the state before the change."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import TYPE_CHECKING, Any

import streamlit as st

from rag import RagError
from rag.ingest.library import safe_filename
from rag.ingest.load import SUPPORTED_SUFFIXES

from .labels import article_title
from .render import human_date, md_escape

if TYPE_CHECKING:
    from rag import RAG

ADDABLE = "Only .txt, .md, .html and .pdf files can be added"


def _flash(kind: str, text: str) -> None:
    """A message shown after the rerun that redraws the page."""
    st.session_state.setdefault("library_messages", []).append((kind, text))


def library_view(bot: RAG) -> None:
    state = st.session_state
    for kind, text in state.pop("library_messages", []):
        getattr(st, kind)(md_escape(text))
    articles = bot.articles()
    st.dataframe(
        [{"Title": article_title(a.get("title")), "Publisher": a.get("publisher") or "",
          "Date": human_date(a.get("date")), "Chunks": int(a.get("chunks") or 0), "File": a["id"]} for a in articles],
        hide_index=True, width="stretch", key="library_table")
    st.caption(md_escape(f"{len(articles)} articles in {bot.settings.docs_dir}/, "
                         f"{sum(int(a.get('chunks') or 0) for a in articles)} chunks indexed."))
    if st.button("Re-index the folder", key="reindex", icon=":material/refresh:",
                 help="Pick up files added, changed or removed in the folder by other means"):
        _reindex(bot)
        st.rerun()
    titles = {a["id"]: f"{article_title(a.get('title'))} ({a['id']})" for a in articles}

    chosen = st.selectbox("Read an article", list(titles), index=None, format_func=titles.get, key="read_choice",
                          placeholder="Choose an article to read its text as indexed")
    if chosen:
        article = bot.article(chosen)
        if article is not None:
            about = (article.publisher, human_date(article.date), article.source)
            st.caption(md_escape(" · ".join(x for x in about if x)))
            with st.container(height=360, border=True):
                st.markdown(md_escape(article.text))

    _add_articles(bot)
    _remove_article(bot, titles)


def _add_articles(bot: RAG) -> None:
    state = st.session_state
    st.subheader("Add articles")
    generation = state.setdefault("uploads_generation", 0)  # a new key empties the uploader after adding
    uploads = st.file_uploader(f"Text, Markdown, HTML or PDF, up to {bot.settings.max_file_mb} MB each",
                               accept_multiple_files=True, key=f"uploads-{generation}")
    replace = st.checkbox("Replace articles that have the same file name", key="replace")
    if not st.button("Add and re-index", key="add", disabled=not uploads):
        return
    saved = 0
    for upload in uploads or []:
        problem = upload_problem(bot, upload.name, replace)
        if problem:
            _flash("error", problem)
            continue
        try:
            _save(bot, upload.name, upload.getvalue(), replace)
            saved += 1
        except RagError as exc:
            _flash("error", str(exc))
    if saved:
        state.uploads_generation = generation + 1
        _reindex(bot)
    st.rerun()


def upload_problem(bot: RAG, name: str, replace: bool) -> str | None:
    """Why an upload cannot be added, in plain words; None when it can."""
    if Path(name).suffix.lower() not in SUPPORTED_SUFFIXES:
        return f"{ADDABLE}; {name} is not one of them."
    try:
        target = Path(bot.settings.docs_dir) / safe_filename(name)
    except RagError as exc:
        return str(exc)
    if target.exists() and not replace:
        return (f"{target.name} is already in the library. Tick “Replace articles that have the same file name” "
                f"to replace it.")
    return None


def _save(bot: RAG, name: str, data: bytes, replace: bool) -> None:
    # The library may ask for an explicit choice before overwriting a file; give it when it does.
    if "overwrite" in inspect.signature(bot.add_document).parameters:
        bot.add_document(name, data, overwrite=replace)
    else:
        bot.add_document(name, data)


def _remove_article(bot: RAG, titles: dict[str, str]) -> None:
    state = st.session_state
    st.subheader("Remove an article")
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
    if yes.button("Yes, remove it", key="confirm_remove_yes", type="primary"):
        state.pop("confirm_remove", None)
        state.pop("remove_choice", None)
        try:
            bot.remove_document(pending)
        except RagError as exc:
            _flash("error", str(exc))
        else:
            _reindex(bot)
        st.rerun()
    if no.button("Cancel", key="confirm_remove_no"):
        state.pop("confirm_remove", None)
        st.rerun()


def _reindex(bot: RAG) -> Any:
    bar = st.progress(0.0, text="Re-indexing…")

    def progress(done: int, total: int, current: str) -> None:
        bar.progress(done / max(total, 1), text=md_escape(f"Re-indexing: {current}") if current else "Re-indexing")

    try:
        report = bot.ingest(progress=progress)
    except RagError as exc:
        _flash("error", str(exc))
        return None
    _flash("success", report.summary())
    for problem in report.failed:
        _flash("warning", f"Skipped {problem.file}: {problem.reason}")
    return report
