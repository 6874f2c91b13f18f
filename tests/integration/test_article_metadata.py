"""An uploaded report's dateline and byline reach the library listing, the date filter and the citations."""

from __future__ import annotations

from rag import RAG

REPORT = ("Council backs the Valmora bridge\n"
          "By Mara Lindqvist and Tom Berg\n"
          "VALMORA, 2024-03-14 - The town council approved the new river bridge by nine votes to two on Thursday.\n"
          "Construction of the bridge is due to start in May and to cost 41 million crowns.\n")


def test_dateline_and_byline_reach_listing_filter_and_citations(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "bridge.txt").write_text(REPORT)
    bot = RAG(docs_dir=docs, persist_dir=tmp_path / "vs")
    bot.ingest()

    [listed] = bot.articles()
    assert (listed["author"], listed["date"]) == ("Mara Lindqvist and Tom Berg", "2024-03-14")
    answer = bot.ask("How much will the bridge cost?", date_from="2024-03-01", date_to="2024-03-31")
    assert not answer.abstained, answer.text
    assert {(c.author, c.date) for c in answer.citations} == {("Mara Lindqvist and Tom Berg", "2024-03-14")}
    assert all(p.author == "Mara Lindqvist and Tom Berg" for p in answer.passages)
