"""One answer on the page, drawn from the `Answer` object's fields.

direct     the short answer first, then the sentences it comes from
sentences  the cited sentences, each `[n]` a marker that opens its source in place
generated  the model's text, drawn like sentences
overview   the sentences grouped by article (title and date), so it is clear which article says what
refusal    plain words: what was searched (and the filter, if one was on), what to try next, and the
           closest passages found, labelled as related passages rather than an answer

Internal figures (support, coverage, confidence, the abstain reason) are never shown. Everything that
comes from an article or a model goes through `render.md_escape` or `render.highlighted`.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from rag.schema import Answer, Citation

from .context import ArticleTexts
from .labels import answered_by, article_label, article_title
from .render import badge, cited_pieces, highlighted, human_date, md_escape

RELATED_PASSAGES = 3


def is_refusal(answer: Answer) -> bool:
    return answer.abstained or answer.form == "refusal"


def refusal_text(answer: Answer, searched: str) -> str:
    """The refusal's first words: that the articles don't answer, and what was searched."""
    scope = searched or answer.scope or "the indexed articles"
    return f"The articles don't answer this. I searched {scope} and found nothing that says."


def next_steps(filtered: bool) -> list[str]:
    steps = ["Rephrase the question with the names, places or dates an article would use."]
    if filtered:
        steps.insert(0, "Remove the filter and search every article.")
    steps.append("Read the related passages below: the closest text found, which does not answer the question.")
    return steps


def citation_groups(citations: list[Citation]) -> list[list[Citation]]:
    """Citations grouped by article, in order of first citation."""
    groups: dict[str, list[Citation]] = {}
    for c in citations:
        groups.setdefault(c.article_id, []).append(c)
    return list(groups.values())


def plain_text(answer: Answer) -> str:
    """The answer as plain text with its sources listed: what the copy button copies."""
    if is_refusal(answer):
        return answer.text
    lines = [answer.text, "", "Sources:"]
    lines += [f"[{c.n}] {article_label(c.model_dump())}: “{c.quote}”" for c in answer.citations]
    return "\n".join(lines)


def render_answer(answer: Answer, texts: ArticleTexts, *, key: str, searched: str = "",
                  on_clear_filter: Callable[[], None] | None = None) -> None:
    """Draw `answer`. `searched` words the scope (for refusals); `on_clear_filter` offers a button that
    removes the active filter (given only while a filter is on)."""
    if answer.fallback_reason:
        st.info(md_escape(f"The model was not used: {answer.fallback_reason}"), icon=":material/info:")
    if is_refusal(answer):
        render_refusal(answer, searched, key=key, on_clear_filter=on_clear_filter)
        return
    cited = {c.n: c for c in answer.citations}
    if answer.direct_answer:
        numbers = [answer.direct_citation] if answer.direct_citation is not None else []
        _cited_row(answer.direct_answer, numbers, cited, texts, f"{key}-direct", strong=True)
    if answer.form == "overview":
        _overview(answer, cited, texts, key)
    else:
        for i, (body, numbers) in enumerate(cited_pieces(answer.text)):
            _cited_row(body, numbers, cited, texts, f"{key}-{i}")
    _sources(answer.citations, texts)
    # "Answered by:" is also what the app benchmark (bench_app) waits for.
    footer = f"Answered by: {answered_by(answer.answerer)} · {answer.timings.get('total_ms', 0):.0f} ms"
    if answer.standalone_question:
        footer += f" · searched for: {answer.standalone_question}"
    st.caption(md_escape(footer))
    with st.popover("Copy answer", icon=":material/content_copy:", key=f"{key}-copy"):
        st.code(plain_text(answer), language=None, wrap_lines=True)


def _cited_row(body: str, numbers: list[int], cited: dict[int, Citation], texts: ArticleTexts, key: str,
               strong: bool = False) -> None:
    """One sentence with its markers; each marker opens its source in a popover."""
    # No wrapping: the markers stay on the sentence's row, at its end, on any screen width.
    with st.container(horizontal=True, vertical_alignment="top", gap="small", wrap=False):
        text = md_escape(body) if body else ""
        # The short answer as a small heading (no anchor link: it is not a place to link to).
        st.markdown(f"#### {text}" if strong and text else text, width="stretch", anchors=False)
        for n in numbers:
            citation = cited.get(n)
            if citation is None:  # a marker without a citation: shown, but there is nothing to open
                st.markdown(md_escape(f"[{n}]"), width="content")
                continue
            with st.popover(md_escape(f"[{n}]"), type="tertiary", key=f"{key}-{n}",
                            help=md_escape(article_label(citation.model_dump()))):
                source_card(citation, texts)


def source_card(citation: Citation, texts: ArticleTexts) -> None:
    """Title, publisher, date, and the quote highlighted in its paragraph."""
    st.markdown(f"**{md_escape(article_title(citation.title))}**")
    st.caption(md_escape(" · ".join(x for x in (citation.publisher, human_date(citation.date)) if x)))
    paragraph, start, end = texts.quote_in_paragraph(citation)
    st.markdown(highlighted(paragraph, start, end))


def _overview(answer: Answer, cited: dict[int, Citation], texts: ArticleTexts, key: str) -> None:
    """Sentences grouped under the article their first citation comes from."""
    groups: dict[str, list[tuple[str, list[int]]]] = {}
    for body, numbers in cited_pieces(answer.text):
        first = next((cited[n] for n in numbers if n in cited), None)
        groups.setdefault(first.article_id if first else "", []).append((body, numbers))
    for g, (aid, pieces) in enumerate(groups.items()):
        head = next((cited[n] for _, ns in pieces for n in ns if n in cited), None)
        if head is not None:
            st.markdown(f"**{md_escape(article_title(head.title))}** · {md_escape(human_date(head.date))}")
        for i, (body, numbers) in enumerate(pieces):
            _cited_row(body, numbers, cited, texts, f"{key}-g{g}-{i}")


def _sources(citations: list[Citation], texts: ArticleTexts) -> None:
    """Every source once: an expander per article with each of its quotes highlighted in place."""
    if citations:
        st.caption("Sources")
    for group in citation_groups(citations):
        markers = " ".join(f"[{c.n}]" for c in group)
        with st.expander(md_escape(f"{markers} {article_label(group[0].model_dump())}")):
            for c in group:
                paragraph, start, end = texts.quote_in_paragraph(c)
                st.markdown(f"{badge(c.n)} " + highlighted(paragraph, start, end))


def render_refusal(answer: Answer, searched: str, *, key: str,
                   on_clear_filter: Callable[[], None] | None = None) -> None:
    st.warning(md_escape(refusal_text(answer, searched)), icon=":material/search_off:")
    st.markdown("**What you can do**  \n" + "  \n".join(f"- {md_escape(s)}"
                                                        for s in next_steps(on_clear_filter is not None)))
    if on_clear_filter is not None:
        st.button("Search every article", key=f"{key}-clear", on_click=on_clear_filter)
    related = answer.passages[:RELATED_PASSAGES]
    if related:
        with st.expander("Related passages (not an answer)"):
            for p in related:
                st.markdown(f"**{md_escape(article_title(p.title))}** · {md_escape(human_date(p.date))}")
                excerpt = p.text if len(p.text) <= 500 else p.text[:500].rsplit(" ", 1)[0] + " …"
                st.markdown(md_escape(excerpt))
