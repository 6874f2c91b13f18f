"""Question answering over news articles, with citations you can check. Offline by default.

    from rag import RAG
    bot = RAG()
    bot.ingest()
    answer = bot.ask("Why did China refuse the Austin meeting?")

Importing `rag` changes nothing in the process; `RAG()` sets the offline environment variables
(environment.py) before the libraries that read them are loaded.
"""

from importlib import import_module
from typing import TYPE_CHECKING

from .errors import (
    ChromaServerError,
    DocsDirError,
    DocumentError,
    EvalSetError,
    IndexBusyError,
    IndexCorruptError,
    IndexFolderError,
    InvalidFilterError,
    InvalidQuestionError,
    LLMUnavailable,
    NotIngestedError,
    RagError,
    SettingsError,
)
from .schema import Answer, Article, Citation, IngestReport, Passage
from .settings import Settings

if TYPE_CHECKING:
    from rag.retrieval.filters import metadata_filters

    from .engine import RAG
    from .query import Query

# Imported on first use: the engine pulls in llama-index and chromadb (about a second), which a page
# showing start-up progress, or `rag --help`, should not wait for.
_LAZY = {"RAG": "engine", "Query": "query", "metadata_filters": "retrieval.filters"}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "RAG", "Query", "Settings", "Answer", "Citation", "Article", "Passage", "IngestReport", "metadata_filters",
    "RagError", "InvalidQuestionError", "InvalidFilterError", "DocsDirError", "DocumentError", "IndexCorruptError",
    "IndexBusyError", "IndexFolderError", "ChromaServerError", "NotIngestedError", "SettingsError", "LLMUnavailable",
    "EvalSetError",
]
