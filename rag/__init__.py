"""Question answering over news articles, with citations you can check. Offline by default.

    from rag import RAG
    bot = RAG()
    bot.ingest()
    answer = bot.ask("Why did China refuse the Austin meeting?")
"""

from . import environment  # noqa: F401  (first: keeps every library offline)
from .engine import RAG
from .errors import (DocsDirError, DocumentError, IndexBusyError, IndexCorruptError, InvalidQuestionError,
                     NotIngestedError, RagError, SettingsError)
from .retrieve import Filters
from .schema import Answer, Article, Citation, IngestReport, Passage
from .settings import Settings

__all__ = [
    "RAG", "Settings", "Answer", "Citation", "Article", "Passage", "IngestReport", "Filters",
    "RagError", "InvalidQuestionError", "DocsDirError", "DocumentError", "IndexCorruptError",
    "IndexBusyError", "NotIngestedError", "SettingsError",
]
