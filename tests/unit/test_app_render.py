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
from rag.evaluation.cases import load_cases
from rag.schema import Answer, Article, Citation, Passage

from ..support.helpers import answer_rows, popover_labels

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
    marked = highlighted(ARTICLE_TEXT, [(start, start + len(SPANNING))])
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


def test_a_filter_that_admits_nothing_names_the_articles_and_dates_chosen():
    only_b = ArticleFilter(sources=("b.txt",), date_from=date(2023, 1, 1), date_to=date(2023, 12, 31),
                           include_undated=False)
    assert only_b.article_ids(ARTICLES) == []
    assert only_b.no_match_text(ARTICLES) == ("No article matches your filter: only “Older story” (1 February 2022); "
                                              "dated 1 January 2023 to 31 December 2023, articles without a date left out.")


def test_a_reversed_date_range_is_a_problem_in_words():
    reversed_range = ArticleFilter(date_from=date(2023, 12, 31), date_to=date(2023, 1, 1))
    assert "after the end date" in reversed_range.problem()
    assert ArticleFilter(date_from=date(2023, 1, 1), date_to=date(2023, 12, 31)).problem() is None


# --- every answer form, drawn by the real rendering code in a Streamlit script run ---------------

def _draw(answer_json: str, article_text: str | None, searched: str, filtered: bool) -> None:
    import streamlit as st  # noqa: F401

    from app.answer_view import render_answer
    from app.context import ArticleTexts
    from rag.schema import Answer, Article

    class Articles:  # the one method ArticleTexts needs from the engine
        def article(self, article_id):  # None: the article has been removed from the library
            if article_text is None:
                return None
            return Article(id=article_id, source=f"seeds/{article_id}", title="Austin snubbed", text=article_text)

    removed = article_text is None  # the library holds none of the cited articles now
    render_answer(Answer.model_validate_json(answer_json), ArticleTexts(Articles()), key="t", searched=searched,
                  on_clear_filter=(lambda question: None) if filtered else None,
                  indexed=set() if removed else {"a.txt", "b.txt", "c.txt"})


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


def test_direct_form_shows_the_short_answer_once_then_its_quote():
    # The answerer's text restates the short answer before the quote ("2018 [1].\n\n<quote> [1]").
    at = draw(Answer(question="When?", text=f"2018 [1].\n\n{QUOTE_2} [1]", form="direct", direct_answer="2018",
                     direct_citation=1, citations=[citation(1, QUOTE_2)]))
    rows = answer_rows(at)
    assert rows[:2] == ["#### 2018", QUOTE_2.replace(".", "\\.")], "one short answer, then the supporting quote"
    assert sum("2018" in r and "yellow-background" not in r for r in rows) == 2, "no third '2018. [1]' row"
    assert popover_labels(at)[0] == "\\[1\\]", "the short answer's marker opens its quote"


def test_a_short_answer_that_is_a_weekday_says_which_day_from_the_article_date():
    at = draw(Answer(question="When did China decline?", text=f"Monday [1].\n\n{QUOTE_1} [1]", form="direct",
                     direct_answer="Monday", direct_citation=1, citations=[citation(1, QUOTE_1)]))
    assert answer_rows(at)[0] == "#### Monday \\(29 May 2023\\)", "the Monday before the article of 30 May 2023"


def test_the_copy_button_copies_in_one_click_for_answers_and_refusals():
    at = draw(Answer(question="When?", text=f"{QUOTE_2} [1]", citations=[citation(1, QUOTE_2)]))
    assert copied(at).startswith(QUOTE_2) and "Sources:\n[1] Austin snubbed · AP · 30 May 2023" in copied(at)
    assert "Copy answer" not in popover_labels(at), "a button, not a popover to open first"
    refusal = draw(Answer(question="Who won?", text="The articles don't say.", form="refusal", abstained=True))
    assert copied(refusal).startswith("The articles don't say. I searched all 3 indexed articles")


def copied(at: AppTest) -> str:
    """What the page's copy button writes to the clipboard (read from its script)."""
    [frame] = at.get("iframe")
    return json.loads(re.search(r"const text = (.*);", frame.proto.srcdoc).group(1))


def test_overview_form_shows_which_article_says_what():
    other = Citation(n=2, article_id="b.txt", source="seeds/b.txt", title="Older story", date="2022-02-01", quote="Something else.",
                     start=0, end=16, score=0.8, chunk_id="b.txt#0")
    at = draw(Answer(question="What happened?", text=f"{QUOTE_1} [1] Something else. [2]", form="overview",
                     citations=[citation(1, QUOTE_1), other]))
    heads = [m.value for m in at.markdown if m.value.startswith("**") and " · " in m.value]
    assert heads[:2] == ["**Austin snubbed** · 30 May 2023", "**Older story** · 1 February 2022"]
    assert len(at.expander) == 2


def test_an_overview_names_each_article_once_with_one_date_format():
    # The answerer's text opens each group with its title and date, for plain-text readers.
    other = Citation(n=3, source="seeds/b.txt", title="Older story", date="2022-02-01", quote="Something else.",
                     start=0, end=16, score=0.8, chunk_id="b.txt#0")
    text = (f"Austin snubbed (30 May 2023): {QUOTE_1} [1] {QUOTE_2} [2]\n\n"
            f"Older story (1 February 2022): Something else. [3]")
    at = draw(Answer(question="Compare", text=text, form="overview",
                     citations=[citation(1, QUOTE_1), citation(2, QUOTE_2), other]))
    rows = [r.replace("\\", "") for r in answer_rows(at)]
    assert sum("Austin snubbed" in r for r in rows) == 1 and sum("Older story" in r for r in rows) == 1
    assert rows[1:3] == [QUOTE_1, QUOTE_2] and rows[4] == "Something else.", "sentences start with their own words"
    assert not any(re.search(r"\d{4}-\d\d-\d\d", r) for r in rows)


def test_the_sources_show_a_paragraph_once_with_every_cited_sentence_marked():
    at = draw(Answer(question="Why?", text=f"{QUOTE_1} [1] {QUOTE_2} [2]", citations=[citation(1, QUOTE_1),
                                                                                       citation(2, QUOTE_2)]))
    shown = [m.value for m in at.expander[0].markdown]
    assert len(shown) == 1, "both quotes are in one paragraph: it is shown once"
    assert shown[0].startswith(":blue-badge[1] :blue-badge[2] ") and shown[0].count(":yellow-background[") == 2


def test_several_spans_of_a_paragraph_are_highlighted_and_overlaps_merge():
    marked = highlighted("One. Two. Three.", [(10, 16), (0, 4), (2, 9)])
    assert marked == ":yellow-background[**One\\. Two\\.**] :yellow-background[**Three\\.**]"


def test_a_citation_to_a_removed_article_says_so():
    at = AppTest.from_function(_draw, args=(Answer(question="Why?", text=f"{QUOTE_1} [1]", citations=[
        citation(1, QUOTE_1)]).model_dump_json(), None, "all 3 indexed articles", False), default_timeout=30).run()
    assert not at.exception, at.exception
    notes = [c.value for c in at.expander[0].caption]
    assert notes and "since been removed from the library" in notes[0]
    assert QUOTE_1.replace(".", "\\.") in at.expander[0].markdown[0].value, "the quote as it was is still shown"
    present = draw(Answer(question="Why?", text=f"{QUOTE_1} [1]", citations=[citation(1, QUOTE_1)]))
    assert "removed" not in everything(present) + " ".join(c.value for c in present.expander[0].caption)


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
    assert "The articles don't say. I searched 2 of the 3" in at.warning[0].value.replace("\\", "")
    assert "filter on" in text and "Search every article" in text and "Rephrase" in text
    assert "Read the related passages below" in text
    assert at.button[0].label == "Search every article"
    assert at.expander[0].label == "Related passages (not an answer)"
    for internal in ("0.47", "0.12", "agre", "support", "coverage", "confidence"):
        assert internal not in text.replace("\\", "")


def test_a_question_the_filter_left_nothing_to_search_says_so_and_offers_every_article():
    from app.filters import NO_MATCH

    only_b = ArticleFilter(sources=("b.txt",), date_from=date(2023, 1, 1))
    nothing = Answer(question="Why?", text=only_b.no_match_text(ARTICLES), form="refusal", abstained=True,
                     abstain_reason=NO_MATCH)
    at = draw(nothing, searched=only_b.describe(ARTICLES), filtered=True)
    text = everything(at).replace("\\", "")
    assert at.warning[0].value.replace("\\", "").startswith("No article matches your filter: only “Older story”")
    assert "I searched" not in text and "related passages" not in text
    assert at.button[0].label == "Search every article"


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
    assert feedback_case("x", wrong)["key_facts"] == [["Chinese"]], "a key phrase of the quote, not all of it"


def test_a_follow_up_exports_its_standalone_question_and_a_key_phrase_as_the_expected_fact():
    # BBC-style: a liked follow-up without a short answer.
    quote = "Nissan has named Toshiyuki Shiga as its new chief operating officer, the firm said on Tuesday."
    cite = Citation(n=1, source="bbc/business/042.txt", title="Nissan names new number two", quote=quote, start=0,
                    end=len(quote), score=0.9, chunk_id="042.txt#0")
    follow_up = Answer(question="and who did it choose?", standalone_question="Who did Nissan choose as chief operating officer?",
                       text=f"{quote} [1]", citations=[cite])
    case = feedback_case("x", follow_up)
    assert case["question"] == "Who did Nissan choose as chief operating officer?"
    assert case["key_facts"] == [["Toshiyuki Shiga"]] and case["sources"] == ["bbc/business/042.txt"]


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
