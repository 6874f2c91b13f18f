"""The app's helpers without a model or an index: escaping, answer forms, filters, conversations,
feedback export and the regression page's words. Answers here are constructed `Answer` objects;
the app over the real engine is tested in test_app.py and test_browser.py."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from streamlit.testing.v1 import AppTest

from app.conversations import ConversationStore, feedback_case, valid_id
from app.filters import ArticleFilter
from app.render import cited_pieces, highlighted, human_date, inert, md_escape, with_badges
from rag.evaluation.harness import load_cases
from rag.schema import Answer, Article, Citation, Passage

from ..support.helpers import popover_labels

ARTICLE_TEXT = ("Beijing declined the meeting.\n\nThe Chinese government said Monday that it had declined a U.S. "
                "request.\nIt cited the sanctions imposed in 2018.\n\nA later paragraph.")
ARTICLES = [
    {"id": "a.txt", "title": "Austin snubbed", "date": "2023-05-30", "publisher": "AP"},
    {"id": "b.txt", "title": "Older story", "date": "2022-02-01"},
    {"id": "c.txt", "title": "No date here", "date": None},
]


def citation(n: int, quote: str, article: str = "a.txt", title: str = "Austin snubbed") -> Citation:
    start = ARTICLE_TEXT.index(quote) if article == "a.txt" else 0
    return Citation(n=n, article_id=article, source=f"seeds/{article}", title=title, publisher="AP", date="2023-05-30", quote=quote,
                    start=start, end=start + len(quote), score=0.9, chunk_id=f"{article}#0")


QUOTE_1 = "The Chinese government said Monday that it had declined a U.S. request."
QUOTE_2 = "It cited the sanctions imposed in 2018."
SPANNING = "declined the meeting.\n\nThe Chinese government"


# --- escaping: nothing from an article or a model becomes markup or a link ----------------------

@pytest.mark.parametrize("hostile", [
    "[text](http://evil.example)", "see www.evil.example now", "go to https://evil.example/x?y=1",
    "mail bob@evil.example", "![img](http://evil.example/p.png)", "<script>alert(1)</script>", ":red[big] :smile:",
])
def test_escaped_text_holds_no_link_image_html_or_directive(hostile):
    escaped = md_escape(hostile)
    for live in ("](", ":red[", "http://", "https://", "www.", "b@e"):
        assert live not in escaped
    assert not re.search(r"(?<!\\)[<>]", escaped), "every angle bracket is escaped"
    # the text a reader sees is the original, but for invisible word joiners
    assert escaped.replace("\\", "").replace("\u2060", "").replace("  \n", "\n") == hostile


def test_inert_breaks_only_addresses():
    assert inert("The U.S. said www.x.org and https://y.org") == "The U.S. said www\u2060.x.org and https\u2060://y.org"
    assert inert("no address here: 3.5 per cent") == "no address here: 3.5 per cent"


def test_a_quote_spanning_two_paragraphs_is_highlighted_line_by_line():
    start = ARTICLE_TEXT.index(SPANNING)
    marked = highlighted(ARTICLE_TEXT, start, start + len(SPANNING))
    assert marked.count(":yellow-background[**") == 2  # one mark per line: a directive cannot span a break
    for line in marked.split("\n"):
        assert line.count(":yellow-background[") == line.count("**]")


def test_markers_become_badges_and_pieces_keep_their_numbers():
    assert cited_pieces("A said so. [1] B agreed [2][3], then left.") == [
        ("A said so.", [1]), ("B agreed,", [2, 3]), ("then left.", [])]
    assert with_badges("A. [1]") == "A\\. :blue-badge[1]"
    assert human_date("2023-05-30") == "30 May 2023" and human_date(None) == "no date"


# --- filters: undated articles by choice, reversed ranges refused ----------------------------------

def test_a_date_filter_keeps_undated_articles_unless_told_not_to():
    in_2023 = ArticleFilter(date_from=date(2023, 1, 1), date_to=date(2023, 12, 31))
    assert in_2023.article_ids(ARTICLES) == ["a.txt", "c.txt"]
    assert "or without a date" in in_2023.describe(ARTICLES)
    strict = ArticleFilter(date_from=date(2023, 1, 1), date_to=date(2023, 12, 31), include_undated=False)
    assert strict.article_ids(ARTICLES) == ["a.txt"]
    assert ArticleFilter().article_ids(ARTICLES) is None
    assert ArticleFilter().describe(ARTICLES) == "all 3 indexed articles"
    assert ArticleFilter(sources=("b.txt",)).article_ids(ARTICLES) == ["b.txt"]


def test_a_reversed_date_range_is_a_problem_in_words():
    reversed_range = ArticleFilter(date_from=date(2023, 12, 31), date_to=date(2023, 1, 1))
    assert "after the end date" in reversed_range.problem()
    assert ArticleFilter(date_from=date(2023, 1, 1), date_to=date(2023, 12, 31)).problem() is None


# --- every answer form, drawn by the real rendering code in a Streamlit script run ---------------

def _draw(answer_json: str, article_text: str, searched: str, filtered: bool) -> None:
    import streamlit as st  # noqa: F401

    from app.answer_view import render_answer
    from app.context import ArticleTexts
    from rag.schema import Answer, Article

    class Articles:  # the one method ArticleTexts needs from the engine
        def article(self, article_id):
            return Article(id=article_id, source=f"seeds/{article_id}", title="Austin snubbed", text=article_text)

    render_answer(Answer.model_validate_json(answer_json), ArticleTexts(Articles()), key="t", searched=searched,
                  on_clear_filter=(lambda: None) if filtered else None)


def draw(answer: Answer, searched: str = "all 3 indexed articles", filtered: bool = False) -> AppTest:
    at = AppTest.from_function(_draw, args=(answer.model_dump_json(), ARTICLE_TEXT, searched, filtered),
                               default_timeout=30).run()
    assert not at.exception, at.exception
    return at


def everything(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [w.value for w in at.warning]
    parts += [e.label for e in at.expander] + [b.label for b in at.button]
    return "\n".join(parts)


def test_sentences_form_gives_each_marker_a_popover_and_groups_quotes_by_article():
    at = draw(Answer(question="Why?", text=f"{QUOTE_1} [1] {QUOTE_2} [2]", form="sentences",
                     citations=[citation(1, QUOTE_1), citation(2, QUOTE_2)], timings={"total_ms": 12}))
    assert popover_labels(at)[:2] == ["\\[1\\]", "\\[2\\]"]
    assert len(at.expander) == 1, "two quotes from one article are one source"
    assert at.expander[0].label == "\\[1\\] \\[2\\] Austin snubbed · AP · 30 May 2023"
    text = everything(at)
    assert ":yellow-background[**The Chinese government said Monday" in text  # highlighted in its paragraph
    assert "a\\.txt" not in text, "labels never show the file name"


def test_direct_form_puts_the_short_answer_first():
    at = draw(Answer(question="When?", text=f"{QUOTE_2} [1]", form="direct", direct_answer="2018", direct_citation=1,
                     citations=[citation(1, QUOTE_2)]))
    assert at.markdown[0].value == "#### 2018"
    assert popover_labels(at)[0] == "\\[1\\]", "the short answer's marker opens its quote"
    assert QUOTE_2.replace(".", "\\.") in everything(at)


def test_overview_form_shows_which_article_says_what():
    other = Citation(n=2, article_id="b.txt", source="seeds/b.txt", title="Older story", date="2022-02-01", quote="Something else.",
                     start=0, end=16, score=0.8, chunk_id="b.txt#0")
    at = draw(Answer(question="What happened?", text=f"{QUOTE_1} [1] Something else. [2]", form="overview",
                     citations=[citation(1, QUOTE_1), other]))
    heads = [m.value for m in at.markdown if m.value.startswith("**") and " · " in m.value]
    assert heads[:2] == ["**Austin snubbed** · 30 May 2023", "**Older story** · 1 February 2022"]
    assert len(at.expander) == 2


def test_a_quote_spanning_paragraphs_renders_without_literal_brackets():
    at = draw(Answer(question="Q?", text=f"{SPANNING} [1]", citations=[citation(1, SPANNING)]))
    marked = [m.value for m in at.markdown if "yellow-background" in m.value]
    assert marked and all(v.count(":yellow-background[") == v.count("**]") == 2 for v in marked)


def test_a_refusal_is_plain_words_with_scope_next_steps_and_related_passages():
    passage = Passage(chunk_id="a.txt#0", article_id="a.txt", source="seeds/a.txt", title="Austin snubbed",
                      publisher="AP", date="2023-05-30", text=ARTICLE_TEXT, start=0, end=len(ARTICLE_TEXT),
                      sentences=[], score=0.3, rank=1)
    refusal = Answer(question="Who won the World Cup?", text="The articles don't say.", form="refusal", abstained=True,
                     abstain_reason="support 0.47 < 0.47 (agre)", support=0.47, coverage=0.2, confidence=0.12,
                     passages=[passage])
    searched = "2 of the 3 indexed articles (filter on: dated 1 January 2023 to 31 December 2023, or without a date)"
    at = draw(refusal, searched=searched, filtered=True)
    text = everything(at)
    assert "The articles don't answer this" in at.warning[0].value.replace("\\", "")
    assert "filter on" in text and "Remove the filter" in text and "Rephrase" in text
    assert at.button[0].label == "Search every article"
    assert at.expander[0].label == "Related passages (not an answer)"
    for internal in ("0.47", "0.12", "agre", "support", "coverage", "confidence"):
        assert internal not in text.replace("\\", "")


def test_a_model_answer_with_an_outside_link_is_drawn_inert():
    at = draw(Answer(question="Q?", form="generated", answerer="openai",
                     text="Read [this](http://evil.example) or www.evil.example [1]", citations=[citation(1, QUOTE_1)]))
    text = everything(at)
    assert "](" not in text and "http://" not in text and "www." not in text


# --- conversations and feedback -------------------------------------------------------------------

def test_conversations_survive_a_new_store_object_and_can_be_deleted(tmp_path):
    path = tmp_path / "conversations.sqlite3"
    store = ConversationStore(path)
    cid = store.create("Why did China refuse?", "owner")
    assert valid_id(cid) and not valid_id("../x")
    answer = Answer(question="Why did China refuse?", text=f"{QUOTE_1} [1]", citations=[citation(1, QUOTE_1)])
    store.add_turn(cid, answer, "all 3 indexed articles")
    again = ConversationStore(path)  # what a restarted server opens
    assert [c.title for c in again.list("owner")] == ["Why did China refuse?"]
    turns = again.turns(cid, "owner")
    assert turns[0].answer == answer and turns[0].searched == "all 3 indexed articles"
    again.delete(cid, "owner")
    assert not again.exists(cid, "owner") and again.turns(cid, "owner") == []


def test_feedback_exports_as_a_set_rag_eval_loads(tmp_path):
    store = ConversationStore(tmp_path / "c.sqlite3")
    cid = store.create("q", "owner")
    liked = Answer(question="When were the sanctions imposed?", text=f"{QUOTE_2} [1]", form="direct",
                   direct_answer="2018", direct_citation=1, citations=[citation(1, QUOTE_2)])
    refused = Answer(question="Who won the World Cup?", text="The articles don't say.", abstained=True, form="refusal")
    wrong = Answer(question="Who is Li?", text=f"{QUOTE_1} [1]", citations=[citation(1, QUOTE_1)])
    for i, (answer, rating) in enumerate([(liked, 1), (refused, 1), (wrong, 0)]):
        store.add_turn(cid, answer)
        store.rate(cid, i, rating)
    exported = tmp_path / "feedback_qa.jsonl"
    exported.write_text(store.export_feedback())
    cases = load_cases(exported)  # what `rag eval feedback_qa.jsonl` does first
    assert [(c.question, c.answerable, c.key_facts) for c in cases] == [
        ("When were the sanctions imposed?", True, [["2018"]]), ("Who won the World Cup?", False, [])]
    disliked = [line for line in exported.read_text().splitlines() if line.startswith("# disliked: ")]
    assert json.loads(disliked[0].removeprefix("# disliked: "))["question"] == "Who is Li?"
    assert feedback_case("x", wrong)["key_facts"] == [[QUOTE_1]]


# --- the regression page's words ------------------------------------------------------------------

def test_regression_measures_are_words_with_units_and_a_verdict_per_target():
    from app.regression_view import failure_summary, measures_table
    from rag.evaluation.results import CaseResult
    from rag.evaluation.runs import DEFAULT_THRESHOLDS, RunRecord, assess

    def result(answerable, abstained, passed, key_facts_ok=None, case_id="a"):
        return CaseResult(id=case_id, question="q?", answerable=answerable, answer="", abstained=abstained,
                          passed=passed, key_facts_ok=key_facts_ok)

    def record(metrics):
        return RunRecord(created="2026-01-01T00:00:00+00:00", git_revision="abc", qa_file="set.jsonl",
                         answerer="extractive", k=5, settings={}, metrics=metrics, cases=[result(True, False, True)])

    now = record({"key_fact_accuracy": 0.8, "latency_ms_median": 57.52, "mrr@1": 0.75})
    before = record({"key_fact_accuracy": 0.9, "latency_ms_median": 60.0, "mrr@1": 0.75})
    rows = measures_table(assess(now, DEFAULT_THRESHOLDS, before, 0.02), DEFAULT_THRESHOLDS)
    by_name = {r["Measure"]: r for r in rows}
    accuracy = by_name["Answers holding every expected fact"]
    assert accuracy["This run"] == "80%" and accuracy["Change since the previous run"] == "-10 points"
    assert "MISSED" in accuracy["Target"] and "worse than the previous run" in accuracy["Target"]
    assert by_name["Time per answer, median"]["This run"] == "58 ms"
    assert all(isinstance(v, str) for r in rows for v in r.values()), "one type per column: no ArrowInvalid"
    results = [result(True, False, False, key_facts_ok=False), result(False, False, False),
               result(True, False, True, key_facts_ok=True)]
    assert failure_summary(results).startswith("2 of 3 cases failed: 1 × the answer misses an expected fact")
