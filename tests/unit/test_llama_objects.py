"""An Answer as llama-index objects, and the keyword shortcuts as MetadataFilters (no model, no Chroma)."""

from __future__ import annotations

from llama_index.core.base.response.schema import Response
from llama_index.core.schema import NodeRelationship
from llama_index.core.vector_stores import FilterCondition, FilterOperator, MetadataFilter, MetadataFilters

from rag.integrations.llama_index import to_response
from rag.query import Query
from rag.schema import Answer, Citation

CITATION = Citation(n=1, article_id="003_x.txt", source="seeds/003_x.txt", title="Blinken in Beijing", publisher="BBC", date="2023-06-19",
                    quote="Blinken met Xi Jinping.", start=120, end=143, score=0.8, chunk_id="003_x.txt#2")


def test_an_answer_becomes_a_response_whose_source_nodes_are_the_cited_quotes():
    answer = Answer(question="Whom did Blinken meet?", text="Blinken met Xi Jinping. [1]", citations=[CITATION],
                    form="direct", direct_answer="Xi Jinping")
    response = to_response(answer)
    assert isinstance(response, Response) and response.response == answer.text
    (node,) = response.source_nodes
    assert node.node.text == CITATION.quote and node.score == 0.8
    assert (node.node.start_char_idx, node.node.end_char_idx) == (120, 143)
    assert node.node.metadata.items() >= {"n": 1, "article_id": "003_x.txt", "source": "seeds/003_x.txt",
                                       "date": "2023-06-19", "chunk_id": "003_x.txt#2"}.items()
    assert node.node.relationships[NodeRelationship.SOURCE].node_id == "003_x.txt"
    assert response.metadata["abstained"] is False and response.metadata["citations"] == [CITATION]
    assert response.metadata["form"] == "direct" and response.metadata["direct_answer"] == "Xi Jinping"


def test_a_refusal_has_no_source_nodes():
    response = to_response(Answer(question="?", text="The articles don't say.", abstained=True, form="refusal"))
    assert response.source_nodes == [] and response.metadata["abstained"] is True


def test_keyword_shortcuts_and_caller_filters_are_anded_in_one_query_object():
    mine = MetadataFilters(filters=[MetadataFilter(key="publisher", operator=FilterOperator.EQ, value="BBC")])
    assert Query.of("q").filters is None
    assert Query.of("q", filters=mine).filters is mine
    query = Query.of("q", filters=mine, sources=["a.txt"], top_k=3, answerer="lead")
    assert query.filters.condition == FilterCondition.AND and query.filters.filters[0] is mine
    assert (query.question, query.top_k, query.answerer) == ("q", 3, "lead")


def test_a_citation_saved_before_citations_carried_article_ids_still_loads():
    saved = CITATION.model_dump(mode="json")
    del saved["article_id"]
    assert Citation.model_validate(saved) == CITATION
