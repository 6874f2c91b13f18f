"""Index terms: one way for BM25 and the answerer. Folds for irregular verbs, a country and its adjective
and British spellings; examples from the BBC corpus."""

from rag.text import terms, words


def test_irregular_past_tenses_meet_their_verb():
    assert set(terms("Nissan chose Shiga")) & set(terms("Nissan will choose its chief"))
    assert terms("The firm sold its stake") == terms("The firm sells its stake")


def test_a_country_and_its_adjective_are_one_term():
    assert "britain" in terms("British films shot in the UK") and "britain" in terms("films shot in Britain")


def test_british_spellings_fold_to_one_term():
    assert terms("the defence programme") == terms("the defense program")


def test_the_us_is_a_country_not_a_stopword():
    assert "usa" in words("US Treasury Secretary John Snow") and "usa" in words("the United States")
