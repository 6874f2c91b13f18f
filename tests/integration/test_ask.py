"""Asking: cited, exact quotes; honest abstention; clear errors; filters; streaming; chat."""

from __future__ import annotations

import re

import pytest

from rag import RAG, Answer, InvalidQuestionError, NotIngestedError


def test_austin_question_is_answered_with_exact_cited_quotes(bot):
    answer = bot.ask("Why did China refuse the Austin meeting?")
    assert not answer.abstained
    assert "sanction" in answer.text.lower()
    assert answer.citations, "an answer always cites"
    for citation in answer.citations:
        assert f"[{citation.n}]" in answer.text
        article = bot.article(citation.article_id)
        assert article.text[citation.start:citation.end] == citation.quote, "quote is an exact span"
        assert 0.0 <= citation.score <= 1.0
        assert citation.title


def test_every_answer_sentence_carries_a_citation(bot):
    """All the answer's text sits before a [n] marker, and each piece is the quote it cites (or part of it)."""
    answer = bot.ask("Whom did Blinken meet in Beijing?")
    assert not answer.abstained
    quotes = {c.n: " ".join(c.quote.split()) for c in answer.citations}
    parts = re.split(r"((?:\s*\[\d+\])+)", answer.text)  # text, markers, text, markers, ..., tail
    texts, marker_groups, tail = parts[0:-1:2], parts[1::2], parts[-1]
    assert marker_groups, "the answer carries no citation marker"
    assert not tail.strip(), f"text after the last citation: {tail!r}"
    for text, markers in zip(texts, marker_groups):
        numbers = [int(n) for n in re.findall(r"\d+", markers)]
        assert all(n in quotes for n in numbers), f"marker without a citation: {markers!r}"
        said = " ".join(text.split())
        assert said and any(said in quotes[n] or quotes[n] in said for n in numbers), (said, numbers)
    assert {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)} == set(quotes), "a citation nothing cites"


@pytest.mark.parametrize("question", [
    "Who won the 2022 World Cup?",
    "How old is Lloyd Austin?",
    pytest.param("How many S-400 systems did China buy from Russia?",  # the purchase is there, the number is not
                 marks=pytest.mark.xfail(strict=True, reason="near misses are the abstention model's known gap "
                                                            "(BENCHMARKS.md, calibration table)")),
    pytest.param("What did Li Shangfu say in his speech at the Shangri-La Dialogue?",  # announced, not reported
                 marks=pytest.mark.xfail(strict=True, reason="near misses are the abstention model's known gap")),
])
def test_questions_the_articles_cannot_answer_abstain(bot, question):
    answer = bot.ask(question)
    assert answer.abstained
    assert answer.citations == []
    assert "don't say" in answer.text and "5 indexed articles" in answer.text, "a refusal names what was searched"
    assert answer.form == "refusal" and answer.abstain_reason
    assert not any(ch.isdigit() for ch in answer.text.replace("5 indexed", "")), "no internal numbers"


def test_control_characters_are_ignored(bot):
    answer = bot.ask("Who is Liu\x00 Pengyu?\x07")
    assert not answer.abstained and "spokesman" in answer.text


def test_filters_by_source_and_date(bot):
    only_rt = bot.ask("Why did China refuse the Austin meeting?", sources=["001_bbda2254c924550c.txt"])
    assert only_rt.citations and all(c.source.endswith("001_bbda2254c924550c.txt") for c in only_rt.citations)
    dated = bot.retrieve("Blinken visit", date_from="2023-10-01", date_to="2023-10-31", include_undated=False)
    assert dated and {p.article_id for p in dated} == {"003_ffa59c323890c43b.txt"}
    undated = {a["id"] for a in bot.articles() if not a.get("date")}
    assert undated, "the seeds have an undated article"
    october = bot.retrieve("Blinken visit", date_from="2023-10-01", date_to="2023-10-31", top_k=10)
    assert {p.article_id for p in october} <= {"003_ffa59c323890c43b.txt"} | undated, "undated kept by default"
    assert {p.article_id for p in october} & undated
    with pytest.raises(InvalidQuestionError, match="Dates must look like"):
        bot.ask("anything at all", date_from="last tuesday")


def test_stream_yields_text_then_the_final_answer(bot):
    events = list(bot.stream("When were the sanctions on Li Shangfu imposed?"))
    assert isinstance(events[-1], Answer)
    assert all(isinstance(e, str) for e in events[:-1]) and len(events) >= 2
    assert "".join(events[:-1]) == events[-1].text


@pytest.mark.parametrize("first,then,named,said", [
    ("Who is Liu Pengyu?", "And what did he say must happen before cooperation?", "Liu Pengyu", "removed"),
    ("Who is the Pentagon press secretary quoted about the decision?",
     "What did he say about military communication?", "Pentagon", "open lines of military-to-military communication"),
])
def test_chat_rewrites_a_follow_up_into_a_standalone_question(bot, first, then, named, said):
    chat = bot.chat()
    assert chat.ask(first).standalone_question is None
    follow_up = chat.ask(then)
    assert follow_up.standalone_question and named in follow_up.standalone_question
    assert not follow_up.abstained and said in follow_up.text


def test_asking_before_ingest_says_what_to_do(tmp_path):
    with pytest.raises(NotIngestedError, match="rag ingest"):
        RAG(persist_dir=tmp_path / "empty_index").ask("Why did China refuse the Austin meeting?")


@pytest.mark.parametrize("question", ["When were the sanctions on Li Shangfu imposed?",
                                      "When did Blinken visit Beijing?"])
def test_a_date_question_opens_with_the_date_cut_verbatim_from_a_cited_quote(bot, question):
    answer = bot.ask(question)
    assert answer.form == "direct" and answer.direct_answer
    assert answer.text.startswith(f"{answer.direct_answer} [{answer.direct_citation}].")
    cited = next(c for c in answer.citations if c.n == answer.direct_citation)
    assert answer.direct_answer in cited.quote, "the short answer is an exact substring of its quote"


def test_a_broad_question_gets_an_overview_grouped_by_article(bot):
    answer = bot.ask("Summarize what the articles say about export controls")
    assert answer.form == "overview" and not answer.abstained
    assert len({c.source for c in answer.citations}) >= 2, "an overview spans articles"
    for block in answer.text.split("\n\n"):
        title = block.split(":", 1)[0]
        assert any(title.startswith(c.title) for c in answer.citations if c.title), "each group opens with its title"
