"""Filters: one llama-index MetadataFilters object, evaluated for BM25 exactly as llama-index's own
filter function does, vectorised per article."""

from __future__ import annotations

import random

import numpy as np
import pytest
from llama_index.core.vector_stores import FilterCondition, FilterOperator, MetadataFilter, MetadataFilters
from llama_index.core.vector_stores.utils import build_metadata_filter_fn

from rag.errors import InvalidFilterError, InvalidQuestionError
from rag.retrieval.filters import ArticleFilterIndex, metadata_filters


def _articles(n: int = 60, seed: int = 7) -> dict[str, dict]:
    rng = random.Random(seed)
    out = {}
    for i in range(n):
        dated = rng.random() < 0.8
        day = f"2023-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}" if dated else ""
        out[f"{i:03d}.txt"] = {"article_id": f"{i:03d}.txt", "source": f"seeds/{i:03d}.txt",
                               "title": rng.choice(["China", "Trade", "Sport", ""]),
                               "publisher": rng.choice(["BBC", "RT", ""]), "date": day,
                               "date_int": int(day.replace("-", "")) if day else 0}
    return out


ARTICLES = _articles()
INDEX = ArticleFilterIndex(ARTICLES, [a for a in ARTICLES for _ in range(3)])  # three chunks per article

FLAT = [
    MetadataFilter(key="publisher", operator=FilterOperator.EQ, value="BBC"),
    MetadataFilter(key="publisher", operator=FilterOperator.NE, value="BBC"),
    MetadataFilter(key="date_int", operator=FilterOperator.GTE, value=20230601),
    MetadataFilter(key="date_int", operator=FilterOperator.LT, value=20230301),
    MetadataFilter(key="date", operator=FilterOperator.GT, value="2023-10-01"),
    MetadataFilter(key="title", operator=FilterOperator.IN, value=["China", "Trade"]),
    MetadataFilter(key="article_id", operator=FilterOperator.NIN, value=["001.txt", "002.txt"]),
    MetadataFilter(key="date_int", operator=FilterOperator.EQ, value=0),
]


def _reference(filters: MetadataFilters) -> list[str]:
    keep = build_metadata_filter_fn(lambda a: ARTICLES[a], filters)
    return [a for a in sorted(ARTICLES) if keep(a)]


@pytest.mark.parametrize("condition", [FilterCondition.AND, FilterCondition.OR])
@pytest.mark.parametrize("pair", [(0, 2), (1, 3), (4, 5), (6, 7), (2, 5)])
def test_masks_match_llama_index_filter_function(condition, pair):
    filters = MetadataFilters(filters=[FLAT[i] for i in pair], condition=condition)
    assert INDEX.matching_articles(filters) == _reference(filters)


@pytest.mark.parametrize("single", FLAT, ids=lambda f: f"{f.key}{f.operator.value}")
def test_each_operator_matches_llama_index(single):
    filters = MetadataFilters(filters=[single])
    assert INDEX.matching_articles(filters) == _reference(filters)


def test_chunk_mask_spreads_the_article_mask_over_chunks():
    filters = MetadataFilters(filters=[FLAT[0]])
    mask = INDEX.chunk_mask(filters)
    allowed = set(INDEX.matching_articles(filters))
    expected = [1.0 if a in allowed else 0.0 for a in sorted(ARTICLES) for _ in range(3)]
    assert mask.dtype == np.float32 and mask.tolist() == expected
    assert INDEX.chunk_mask(None) is None


def test_a_chunk_of_an_unknown_article_is_never_allowed():
    index = ArticleFilterIndex(ARTICLES, ["000.txt", "gone.txt"])
    everything = MetadataFilters(filters=[MetadataFilter(key="date_int", operator=FilterOperator.GTE, value=0)])
    assert index.chunk_mask(everything).tolist() == [1.0, 0.0]


def test_date_range_keeps_undated_articles_unless_told_not_to():
    undated = {a for a, m in ARTICLES.items() if not m["date_int"]}
    in_range = {a for a, m in ARTICLES.items() if 20230301 <= m["date_int"] <= 20230630}
    with_undated = metadata_filters(date_from="2023-03-01", date_to="2023-06-30")
    assert set(INDEX.matching_articles(with_undated)) == in_range | undated
    without = metadata_filters(date_from="2023-03-01", date_to="2023-06-30", include_undated=False)
    assert set(INDEX.matching_articles(without)) == in_range


def test_sources_match_an_id_or_a_path_and_combine_with_dates():
    filters = metadata_filters(["001.txt", "seeds/002.txt"], date_from="2000-01-01", include_undated=False)
    expected = {a for a in ("001.txt", "002.txt") if ARTICLES[a]["date_int"]}
    assert set(INDEX.matching_articles(filters)) == expected
    assert metadata_filters() is None


def test_bad_dates_and_unknown_fields_are_clear_errors():
    with pytest.raises(InvalidQuestionError, match="Dates must look like"):
        metadata_filters(date_from="last tuesday")
    with pytest.raises(InvalidFilterError, match="cannot be filtered by 'chunk_index'"):
        INDEX.matching_articles(MetadataFilters(filters=[
            MetadataFilter(key="chunk_index", operator=FilterOperator.EQ, value=1)]))
    with pytest.raises(InvalidFilterError, match="not supported"):
        INDEX.matching_articles(MetadataFilters(filters=[
            MetadataFilter(key="title", operator=FilterOperator.TEXT_MATCH, value="Chi")]))
