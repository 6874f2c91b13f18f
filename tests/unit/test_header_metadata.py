"""Datelines, bylines and date lines become an article's date and author; body text that merely looks
like them (BBC-style openings, titles with a dash, sentences starting "By") stays text.

The examples are written for these tests in the shapes of real pages (none is from the seed articles)."""

import pytest

from rag.ingest.clean import clean_document
from rag.ingest.header import parse_date, read_dateline, read_header_line
from rag.ingest.load import RawDocument


def clean(text: str):
    return clean_document(RawDocument(text), "x.txt", "docs/x.txt")


@pytest.mark.parametrize("text, date", [
    ("2024-03-14", "2024-03-14"),
    ("March 14, 2024", "2024-03-14"),
    ("Mar. 4, 2024", "2024-03-04"),
    ("14 March 2024 10:32 GMT", "2024-03-14"),
    ("Thursday, 14 March 2024, 10:32 BST", "2024-03-14"),
    ("2023-05-30T08:00:00Z", "2023-05-30"),
])
def test_a_date_naming_day_month_and_year_is_read(text, date):
    assert parse_date(text) == date


@pytest.mark.parametrize("text", ["2005", "March 14", "May 2005", "5 min read", "Chelsea 2-1 Arsenal", "1 1 1", "", "x" * 200])
def test_text_that_is_not_a_full_date_gives_none(text):
    assert parse_date(text) is None


@pytest.mark.parametrize("line, date, author", [
    ("Published: 14 March 2024", "2024-03-14", None),
    ("Updated on March 15, 2024", "2024-03-15", None),
    ("By Mara Lindqvist", None, "Mara Lindqvist"),
    ("By Mara Lindqvist and Tom Berg", None, "Mara Lindqvist and Tom Berg"),
    ("By Ann Lee, Bo Chan and Cy Dee", None, "Ann Lee, Bo Chan and Cy Dee"),
    ("By Ana de la Cruz, Business reporter", None, "Ana de la Cruz"),
    ("By Jane Doe | March 3, 2024", "2024-03-03", "Jane Doe"),
    ("By Jane Doe, Published March 3, 2024", "2024-03-03", "Jane Doe"),
    ("Written by J. R. O'Neill", None, "J. R. O'Neill"),
])
def test_header_lines_give_date_and_author(line, date, author):
    header = read_header_line(line)
    assert header is not None
    assert (header.date, header.author, header.rest) == (date, author, "")


@pytest.mark.parametrize("line", [
    "By contrast, the firm's rivals reported a loss for the quarter.",
    "By the end of 2004 the company had cut 2,000 jobs.",
    "By Monday the shares had fallen 5%.",
    "Date night at the cinema gets dearer",
    "Ad sales boost Time Warner profit",
])
def test_sentences_and_titles_are_not_header_metadata(line):
    assert read_header_line(line) is None


@pytest.mark.parametrize("line, date, rest", [
    ("VALMORA, 2024-03-14 - The council approved the bridge.", "2024-03-14", "The council approved the bridge."),
    ("Valmora, March 14, 2024 – The council approved the bridge.", "2024-03-14", "The council approved the bridge."),
    ("WASHINGTON - The senate passed the bill.", None, "The senate passed the bill."),
    ("LONDON (Reuters) — Shares fell on Tuesday.", None, "Shares fell on Tuesday."),
])
def test_datelines_give_the_date_and_the_text_after_them(line, date, rest):
    assert read_dateline(line) == (date, rest)


@pytest.mark.parametrize("line", [
    "Ebbers - my part in the fraud was small, he says.",  # a title-cased phrase before a dash
    "Mr Smith - who joined in 2001 - said the deal was fair.",
    "Chelsea, 2-1 winners - moved top of the league.",  # what follows the comma is not a date
    "The firm - which makes chips - grew 5%.",
])
def test_dashes_in_ordinary_sentences_are_not_datelines(line):
    assert read_dateline(line) is None


def test_an_uploaded_report_with_dateline_and_byline():
    article = clean("Council backs new bridge\nBy Mara Lindqvist\n"
                    "VALMORA, 2024-03-14 - The town council approved the bridge on Thursday.\n"
                    "Work starts in May.\n")
    assert (article.title, article.author, article.date) == ("Council backs new bridge", "Mara Lindqvist", "2024-03-14")
    assert "By Mara" not in article.text
    assert article.text.startswith("VALMORA, 2024-03-14 - The town council")  # quotes keep the dateline


def test_a_title_made_from_first_words_skips_the_dateline():
    article = clean("NAIROBI - Kenya's central bank held its main rate at 13% on Tuesday, citing easing "
                    "inflation and a steadier shilling, in a decision analysts had widely expected this month.\n")
    assert article.title.startswith("Kenya's central bank held")
    assert article.date is None


def test_date_line_after_the_title_with_a_bullet():
    article = clean("Rates held again\n- October 19, 2023\nThe bank kept rates unchanged.\n")
    assert (article.title, article.date) == ("Rates held again", "2023-10-19")
    assert "October" not in article.text


def test_labelled_date_in_front_of_the_body_is_read_and_removed():
    article = clean("Published 2 June 2024 OSLO - Ferry traffic resumed after the strike ended on Sunday morning.\n")
    assert article.date == "2024-06-02"
    assert article.text.startswith("OSLO - Ferry traffic resumed")


def test_a_bbc_style_article_gets_no_date_or_author():
    article = clean("Bank holds rates at 4.75%\n\nThe Bank of England has left interest rates on hold at 4.75% "
                    "for the fifth month in a row.\n\nBy contrast, the European Central Bank is expected to "
                    "keep its rate at 2% on 5 May 2005.\n")
    assert (article.title, article.date, article.author) == ("Bank holds rates at 4.75%", None, None)
    assert "By contrast" in article.text


def test_long_header_lines_are_read_in_linear_time():
    # Bounded work per line: a huge byline-like or label-like line is text, not metadata.
    for line in ("By " + "Ab, " * 20_000, "Published: " + "1 " * 20_000, "By " + "Ann and " * 10_000 + "| May 3, 2024"):
        article = clean(line + "\nBody sentence here.\n")
        assert (article.author, article.date) == (None, None)


def test_page_metadata_dates_in_any_form_become_iso():
    assert clean_document(RawDocument("Body sentence here.", meta={"date": "Thu, 14 Mar 2024 10:00:00 GMT"}),
                          "x.html", "docs/x.html").date == "2024-03-14"
