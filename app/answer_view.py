"""One answer on the page, drawn from the `Answer` object's fields.

direct     the short answer once (a relative day resolved: "Monday (13 March 2023)"), then the quote it comes from
sentences  the cited sentences, each `[n]` a marker that opens its source in place
generated  the model's text, drawn like sentences
overview   the sentences grouped by article (title and date), so it is clear which article says what
refusal    plain words: what was searched (and the filter, if one was on), what to try next, and the
           closest passages found, labelled as related passages rather than an answer; when the filter
           admits no article, that, with the articles and dates chosen

Internal figures (support, coverage, confidence, the abstain reason) are never shown. Everything that
comes from an article or a model goes through `render.md_escape` or `render.highlighted`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

import streamlit as st

from rag.answering.extractive import overview_heading, refusal_text
from rag.dates import with_day
from rag.schema import Answer, Citation

from .context import ArticleTexts
from .copy_button import copy_button
from .filters import NO_MATCH
from .labels import answered_by, article_label, article_title
from .render import badge, cited_pieces, highlighted, human_date, md_escape

RELATED_PASSAGES = 3
REMOVED = "This article has since been removed from the library; the quote is as it was when answered."


def is_refusal(answer: Answer) -> bool:
    return answer.abstained or answer.form == "refusal"


SEARCH_EVERYTHING = "Search every article: the button below asks this question again without the filter."


def refusal_words(answer: Answer, searched: str = "") -> str:
    """What a refusal says first: that no article matched the filter, or that the articles searched don't say."""
    if answer.abstain_reason == NO_MATCH:
        return answer.text
    return refusal_text(searched or answer.scope or "the indexed articles")


def next_steps(answer: Answer, filtered: bool) -> list[str]:
    if answer.abstain_reason == NO_MATCH:
        steps = ["Choose other articles or widen the dates in the sidebar."]
    else:
        steps = ["Rephrase the question with the names, places or dates an article would use."]
        if answer.passages:
            steps.append("Read the related passages below: the closest text found, which does not answer the question.")
    return [SEARCH_EVERYTHING, *steps] if filtered else steps


def citation_groups(citations: list[Citation]) -> list[list[Citation]]:
    """Citations grouped by article, in order of first citation."""
    groups: dict[str, list[Citation]] = {}
    for c in citations:
        groups.setdefault(c.article_id, []).append(c)
    return list(groups.values())


def plain_text(answer: Answer, searched: str = "") -> str:
    """The answer as plain text with its sources listed: what the copy button copies."""
    if is_refusal(answer):
        return refusal_words(answer, searched)
    lines = [answer.text, "", "Sources:"]
    lines += [f"[{c.n}] {article_label(c.model_dump())}: “{c.quote}”" for c in answer.citations]
    return "\n".join(lines)


def render_answer(answer: Answer, texts: ArticleTexts, *, key: str, searched: str = "",
                  on_clear_filter: Callable[[str], None] | None = None, indexed: Collection[str] | None = None) -> None:
    """Draw `answer`. `searched` words the scope (for refusals); `on_clear_filter` offers a button that
    asks the question again over every article (given only while a filter is on); `indexed` is the ids
    of the articles in the library now: a citation to any other says its article was removed."""
    if answer.fallback_reason:
        st.info(md_escape(f"The model was not used: {answer.fallback_reason}"), icon=":material/info:")
    if is_refusal(answer):
        render_refusal(answer, searched, key=key, on_clear_filter=on_clear_filter)
        copy_button(plain_text(answer, searched))
        return
    cited = {c.n: c for c in answer.citations}
    removed = frozenset(c.article_id for c in answer.citations if indexed is not None and c.article_id not in indexed)
    pieces = cited_pieces(answer.text)
    if answer.direct_answer:
        numbers = [answer.direct_citation] if answer.direct_citation is not None else []
        direct = cited.get(answer.direct_citation)
        _cited_row(with_day(answer.direct_answer, direct.date if direct else None), numbers, cited, texts,
                   removed, f"{key}-direct", strong=True)
        pieces = _without_short_answer(pieces, answer.direct_answer)
    if answer.form == "overview":
        _overview(pieces, cited, texts, removed, key)
    else:
        for i, (body, numbers) in enumerate(pieces):
            _cited_row(body, numbers, cited, texts, removed, f"{key}-{i}")
    _sources(answer.citations, texts, removed)
    # "Answered by:" is also what the app benchmark (bench_app) waits for.
    footer = f"Answered by: {answered_by(answer.answerer)} · {answer.timings.get('total_ms', 0):.0f} ms"
    if answer.standalone_question:
        footer += f" · searched for: {answer.standalone_question}"
    st.caption(md_escape(footer))
    copy_button(plain_text(answer))


def _without_short_answer(pieces: list[tuple[str, list[int]]], short: str) -> list[tuple[str, list[int]]]:
    """The answer's pieces less the short answer's own ("Monday. [1]"), which is drawn once, above them."""
    if pieces and pieces[0][0].rstrip(" .") == short.strip().rstrip("."):
        return pieces[1:]
    return pieces


def _cited_row(body: str, numbers: list[int], cited: dict[int, Citation], texts: ArticleTexts,
               removed: frozenset[str], key: str, strong: bool = False) -> None:
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
                source_card(citation, texts, removed=citation.article_id in removed)


def source_card(citation: Citation, texts: ArticleTexts, *, removed: bool = False) -> None:
    """Title, publisher, date, and the quote highlighted in its paragraph."""
    st.markdown(f"**{md_escape(article_title(citation.title))}**")
    st.caption(md_escape(" · ".join(x for x in (citation.publisher, human_date(citation.date)) if x)))
    paragraph, start, end = texts.quote_in_paragraph(citation)
    if removed:
        st.caption(REMOVED)
    st.markdown(highlighted(paragraph, [(start, end)]))


def _overview(pieces: list[tuple[str, list[int]]], cited: dict[int, Citation], texts: ArticleTexts,
              removed: frozenset[str], key: str) -> None:
    """Sentences grouped under the article their first citation comes from: its title and date once."""
    groups: dict[str, list[tuple[str, list[int]]]] = {}
    for body, numbers in pieces:
        first = next((cited[n] for n in numbers if n in cited), None)
        groups.setdefault(first.article_id if first else "", []).append((body, numbers))
    for g, (aid, group) in enumerate(groups.items()):
        head = next((cited[n] for _, ns in group for n in ns if n in cited), None)
        if head is not None:
            st.markdown(f"**{md_escape(article_title(head.title))}** · {md_escape(human_date(head.date))}")
            # The text opens each group with the same title and date, for readers of plain text (the CLI).
            prefix = overview_heading(head.title or head.source, head.date)
            body, numbers = group[0]
            group[0] = (body.removeprefix(prefix), numbers)
        for i, (body, numbers) in enumerate(group):
            _cited_row(body, numbers, cited, texts, removed, f"{key}-g{g}-{i}")


def _sources(citations: list[Citation], texts: ArticleTexts, removed: frozenset[str]) -> None:
    """Every source once: an expander per article, each paragraph once with all its cited sentences marked."""
    if citations:
        st.caption("Sources")
    for group in citation_groups(citations):
        markers = " ".join(f"[{c.n}]" for c in group)
        with st.expander(md_escape(f"{markers} {article_label(group[0].model_dump())}")):
            paragraphs: dict[str, list[tuple[int, int, int]]] = {}  # paragraph -> (n, start, end) of its quotes
            for c in group:
                paragraph, start, end = texts.quote_in_paragraph(c)
                paragraphs.setdefault(paragraph, []).append((c.n, start, end))
            if group[0].article_id in removed:
                st.caption(REMOVED)
            for paragraph, quotes in paragraphs.items():
                badges = " ".join(badge(n) for n, _, _ in quotes)
                st.markdown(f"{badges} " + highlighted(paragraph, [(start, end) for _, start, end in quotes]))


def render_refusal(answer: Answer, searched: str, *, key: str,
                   on_clear_filter: Callable[[str], None] | None = None) -> None:
    # When the filter left nothing to search, say that, not that the articles don't say.
    icon = ":material/filter_alt_off:" if answer.abstain_reason == NO_MATCH else ":material/search_off:"
    st.warning(md_escape(refusal_words(answer, searched)), icon=icon)
    steps = next_steps(answer, filtered=on_clear_filter is not None)
    st.markdown("**What you can do**  \n" + "  \n".join(f"- {md_escape(s)}" for s in steps))
    if on_clear_filter is not None:
        st.button("Search every article", key=f"{key}-clear", on_click=on_clear_filter,
                  args=(answer.standalone_question or answer.question,), icon=":material/search:")
    if answer.passages:
        with st.expander("Related passages (not an answer)"):
            for p in answer.passages[:RELATED_PASSAGES]:
                st.markdown(f"**{md_escape(article_title(p.title))}** · {md_escape(human_date(p.date))}")
                excerpt = p.text if len(p.text) <= 500 else p.text[:500].rsplit(" ", 1)[0] + " …"
                st.markdown(md_escape(excerpt))
