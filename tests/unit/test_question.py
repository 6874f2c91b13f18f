"""What a question asks for, read from its grammar. Examples from the BBC corpus, not the seed articles."""

import pytest

from rag.answering.question import question_shape


@pytest.mark.parametrize("question,kind", [
    ("Who designed the Oscar statuette?", "person"),
    ("Who is Scott Richter?", "thing"),  # asks what he is: the name is already given
    ("Whom did Walter Smith succeed as manager of Scotland?", "person"),
    ("Which Barcelona coach called Chelsea's expected complaint to Uefa 'pathetic'?", "entity"),
    ("What is the name of the Pentagon spokesman who spoke about the lost tapes?", "person"),
    ("When was Windows Genuine Advantage first introduced as a pilot?", "date"),
    ("In what year did an earlier attempt to merge the exchanges collapse?", "date"),
    ("On what date was Tarantino's episode of CSI due to be shown?", "date"),
    ("Where was the first Academy Awards ceremony held?", "place"),
    ("In which city was Keanu Reeves born?", "place"),
    ("Which two countries' governments went to the European Court of Justice?", "place"),
    ("How many CDs does the average Briton buy each year?", "count"),
    ("What number was the star given to Keanu Reeves?", "count"),
    ("How much did Qwest pay the SEC to settle the allegations?", "amount"),
    ("What share of the companies reported on their supply chains?", "amount"),
    ("How big was the record US current account deficit?", "amount"),
    ("How long was the prison sentence given to the blogger?", "duration"),
    ("Why did Stan Lee take Marvel to court in 2002?", "reason"),
    ("On what grounds did the DTI turn down the MPs' calls?", "reason"),
    ("What did the Conservative frontbencher call the White Paper?", "thing"),
    ("Did the Sci-Fi Channel agree to take on Star Trek: Enterprise?", "yesno"),
    ("What injury sent Lawrence Dallaglio home early?", "thing"),
    ("How did the makers of CSI get Tarantino to direct an episode?", "thing"),
    ("Summarise what the articles say about the Glazer takeover", "broad"),
    ("What do the articles say about broadband in Europe?", "broad"),
    ("Do the articles agree on whether music sales are falling?", "broad"),
    ("Compare the bids of Qwest and Verizon for MCI", "broad"),
    ("How has the dollar changed against the euro?", "broad"),
])
def test_the_kind_of_answer_comes_from_the_question_grammar(question, kind):
    assert question_shape(question).kind == kind


def test_factoid_kinds_ask_for_one_short_thing():
    assert question_shape("Who wrote Ring of Fire with Merle Kilgore?").factoid
    assert not question_shape("Why did Wigan's chairman say money did not matter?").factoid
    assert not question_shape("Summarise the coverage of the feta ruling").factoid
    assert question_shape("Summarise the coverage of the feta ruling").broad


@pytest.mark.xfail(strict=True, reason="the focus is the first word after `how many`, here the modifier "
                   "'full-time', not the noun counted")
def test_how_many_keeps_the_thing_counted():
    assert question_shape("How many full-time staff run the alert service?").focus == "staff"
    assert question_shape("How many CDs does the average Briton buy each year?").focus == "cds"
