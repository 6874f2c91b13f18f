"""The ids of what the index holds, made here and only here, then carried on the objects that need them.

    article id   the file's path relative to the docs folder ("politics/012.txt"), stable across re-ingests
    chunk id     "<article id>#<chunk index>"
    sentence id  "<article id>@<start offset>": one record per sentence, shared by the chunks overlapping on it

Nothing takes an id apart to find another: a passage and a citation carry their article id and chunk
index beside the chunk id. The one exception is `legacy_article_id`, for records saved before
citations carried their article id.
"""

from __future__ import annotations

from pathlib import Path


def article_id(path: Path, docs_dir: Path) -> str:
    """The id of the article read from `path` in `docs_dir`."""
    return path.relative_to(docs_dir).as_posix()


def chunk_id(article: str, index: int) -> str:
    return f"{article}#{index}"


def sentence_id(article: str, start: int) -> str:
    return f"{article}@{start}"


def legacy_article_id(chunk: str) -> str:
    """The article id inside a chunk id, for a Citation saved (e.g. in a stored conversation) before
    citations carried `article_id`."""
    return chunk.rsplit("#", 1)[0]
