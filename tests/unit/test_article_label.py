"""How a citation's article is named in the app: title, then author, publisher and date."""

from app.labels import article_label
from rag.schema import Citation


def test_a_citation_label_names_the_author_after_the_title():
    citation = Citation(n=1, source="docs/bridge.txt", title="Council backs bridge", author="Mara Lindqvist",
                        date="2024-03-14", quote="The council approved the bridge.", start=0, end=32, score=0.9,
                        chunk_id="bridge.txt#0")
    assert article_label(citation.model_dump()) == "Council backs bridge · by Mara Lindqvist · 14 March 2024"


def test_without_an_author_the_label_is_unchanged():
    assert article_label({"title": "T", "publisher": "P", "date": None}) == "T · P · no date"
