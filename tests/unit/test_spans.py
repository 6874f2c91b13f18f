"""Typed spans: the pieces a direct answer is cut from. BBC sentences, not the seed articles."""

from rag.answering.spans import find_spans, names, new_spans


def texts(sentence, kind):
    return [s.text for s in find_spans(sentence, kind)]


def test_dates_in_news_styles():
    s = "The code came into force on 15 January, after a pilot began in September 2004 and ended on Tuesday."
    assert texts(s, "date") == ["15 January", "September 2004", "Tuesday"]
    assert "May 19" in texts("The episode will be shown on May 19 in the US.", "date")


def test_amounts_keep_their_currency_and_scale():
    s = "Qwest paid $250m (£130m) to settle, and its shares fell 1.3% to 530p."
    assert texts(s, "amount")[:3] == ["$250m", "£130m", "1.3%"]


def test_counts_and_durations():
    s = "About 300 fans protested, and the film was made in 37 days with twelve actors."
    assert "300" in texts(s, "count") and "twelve" in texts(s, "count")
    assert texts(s, "duration") == ["37 days"]


def test_people_are_multi_word_names_or_named_with_a_title():
    s = "Nissan named Toshiyuki Shiga as chief operating officer, while coach Benitez left Baros out."
    people = texts(s, "person")
    assert "Toshiyuki Shiga" in people and "Benitez" in people
    assert "Nissan" not in people


def test_places_follow_a_place_preposition():
    assert texts("Keanu Reeves was born in Beirut and grew up in Toronto.", "place") == ["Beirut", "Toronto"]


def test_sentence_initial_function_words_are_not_names():
    assert [s.text for s in names("However Mr Brown said the Bank of England would act.")] == ["Brown", "Bank of England"]


def test_quotations_are_spans_of_their_inner_text():
    s = 'Mr Ancram called it a "taxpayer subsidised propaganda exercise" on Sunday.'
    assert texts(s, "quote") == ["taxpayer subsidised propaganda exercise"]


def test_new_spans_drop_what_the_question_already_names():
    s = "Walter Smith succeeded Berti Vogts as Scotland manager."
    asked = {"whom", "did", "walter", "smith", "succeed", "as", "manager", "of", "scotland"}
    assert [x.text for x in new_spans(s, "person", asked)] == ["Berti Vogts"]

