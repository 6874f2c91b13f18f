"""The engine as llama-index objects: the README's examples run as written, and the retriever, query
engine and chat engine return what llama-index code expects."""

from __future__ import annotations

import re
import shutil

import pytest
from llama_index.core.base.response.schema import Response
from llama_index.core.chat_engine.types import BaseChatEngine
from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore
from llama_index.core.vector_stores import FilterCondition, FilterOperator, MetadataFilter, MetadataFilters

from ..support.helpers import ROOT

EXAMPLE = re.compile(r"<!-- llama-index example -->\n```python\n(.*?)```", re.DOTALL)


@pytest.fixture
def index_env(seed_index, tmp_path, monkeypatch):
    """RAG() with default arguments opens a private copy of the seed index."""
    shutil.copytree(seed_index["persist"], tmp_path / "vs")
    monkeypatch.setenv("RAG_DOCS_DIR", str(seed_index["docs"]))
    monkeypatch.setenv("RAG_PERSIST_DIR", str(tmp_path / "vs"))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    return tmp_path / "vs"


def test_the_readme_llama_index_examples_run(index_env, capsys):
    examples = EXAMPLE.findall((ROOT / "README.md").read_text())
    assert len(examples) >= 2, "the README's llama-index examples are marked <!-- llama-index example -->"
    namespace: dict = {}
    for code in examples:
        exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102  (our own README)
    printed = capsys.readouterr().out
    assert "'hit_rate': 1.0" in printed and "sanctions" in printed, printed


def test_the_retriever_is_a_llama_index_retriever_honouring_filters(bot):
    source = next(a["source"] for a in bot.articles() if a["id"] == "001_bbda2254c924550c.txt")
    only = MetadataFilters(filters=[MetadataFilter(key="source", operator=FilterOperator.IN, value=[source])])
    retriever = bot.as_retriever(filters=only, top_k=4)
    assert isinstance(retriever, BaseRetriever)
    hits = retriever.retrieve("Why did China refuse the Austin meeting?")
    assert hits and all(isinstance(h, NodeWithScore) for h in hits)
    assert {h.node.metadata["article_id"] for h in hits} == {"001_bbda2254c924550c.txt"}
    article = bot.article("001_bbda2254c924550c.txt")
    assert all(article.text[h.node.start_char_idx:h.node.end_char_idx] == h.node.get_content() for h in hits)
    nothing = MetadataFilters(filters=[MetadataFilter(key="date_int", operator=FilterOperator.GT, value=29991231)])
    assert bot.as_retriever(filters=nothing).retrieve("Austin") == []


def test_filters_and_keyword_shortcuts_are_one_language(bot):
    """`sources=` and the equivalent MetadataFilters retrieve the same passages."""
    by_keyword = bot.retrieve("Blinken visit", sources=["003_ffa59c323890c43b.txt"])
    by_filter = bot.retrieve("Blinken visit", filters=MetadataFilters(filters=[
        MetadataFilter(key="article_id", operator=FilterOperator.EQ, value="003_ffa59c323890c43b.txt")]))
    assert [p.chunk_id for p in by_keyword] == [p.chunk_id for p in by_filter]
    either = MetadataFilters(filters=[
        MetadataFilter(key="article_id", operator=FilterOperator.EQ, value="003_ffa59c323890c43b.txt"),
        MetadataFilter(key="article_id", operator=FilterOperator.EQ, value="001_bbda2254c924550c.txt")],
        condition=FilterCondition.OR)
    assert {p.article_id for p in bot.retrieve("China United States", filters=either, top_k=10)} <= {
        "003_ffa59c323890c43b.txt", "001_bbda2254c924550c.txt"}


def test_query_engine_response_carries_the_cited_quotes(bot):
    response = bot.as_query_engine().query("Who is Liu Pengyu?")
    assert isinstance(response, Response)
    assert not response.metadata["abstained"] and "spokesman" in response.response
    assert len(response.source_nodes) == len(response.metadata["citations"]) >= 1
    for node, citation in zip(response.source_nodes, response.metadata["citations"]):
        assert node.node.text == citation.quote and f"[{citation.n}]" in response.response
        article = bot.article(node.node.metadata["article_id"])
        assert article.text[node.node.start_char_idx:node.node.end_char_idx] == node.node.text
    refusal = bot.as_query_engine().query("Who won the 2022 World Cup?")
    assert refusal.metadata["abstained"] and refusal.source_nodes == []


def test_chat_engine_keeps_the_conversation(bot):
    engine = bot.as_chat_engine()
    assert isinstance(engine, BaseChatEngine)
    first = engine.chat("Who is Liu Pengyu?")
    assert first.source_nodes and not first.metadata["abstained"]
    streamed = engine.stream_chat("And what did he say must happen before cooperation?")
    text = "".join(streamed.response_gen)
    assert "removed" in text and streamed.source_nodes
    assert [m.role.value for m in engine.chat_history] == ["user", "assistant", "user", "assistant"]
    engine.reset()
    assert engine.chat_history == []
