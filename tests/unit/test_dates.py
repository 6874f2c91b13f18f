"""Dates as shown: one format, and a short answer's relative day resolved against its article's date.
Examples are BBC-style reports, not the seed articles."""

from datetime import date

import pytest

from rag.dates import human_date, which_day, with_day


def test_one_format_for_every_date_shown():
    assert human_date("2005-02-14") == "14 February 2005" and human_date(None) == "no date"


@pytest.mark.parametrize("phrase, article_date, day", [
    ("Monday", "2005-02-14", date(2005, 2, 14)),     # a Monday report's "Monday" is that day
    ("Monday", "2005-02-17", date(2005, 2, 14)),     # a Thursday report's "Monday" is three days before
    ("on Friday", "2004-11-23", date(2004, 11, 19)),  # "said on Friday" in a Tuesday report
    ("last Sunday", "2005-01-01", date(2004, 12, 26)),  # across a year end
    ("yesterday", "2005-03-01", date(2005, 2, 28)),
])
def test_a_relative_day_is_the_day_on_or_before_the_article_date(phrase, article_date, day):
    assert which_day(phrase, article_date) == day


def test_only_a_relative_day_of_a_dated_article_is_resolved():
    assert with_day("Monday", "2005-02-17") == "Monday (14 February 2005)"
    assert with_day("Monday", None) == "Monday"
    assert with_day("14 February", "2005-02-17") == "14 February"
    assert with_day("Monday morning talks", "2005-02-17") == "Monday morning talks"
