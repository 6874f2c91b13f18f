"""Errors the library raises on purpose: each says what went wrong and what to do about it."""

from __future__ import annotations


class RagError(Exception):
    """Base class for every error raised by `rag` on purpose.

    `str(error)` is a full sentence for a person; `hint` says what to do next.
    """

    def __init__(self, message: str, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(f"{message} {hint}" if hint else message)


class InvalidQuestionError(RagError, ValueError):
    """The question is empty, too long or has no words in it."""


class DocsDirError(RagError):
    """The documents folder is missing, not a folder, or holds no readable article."""


class DocumentError(RagError):
    """One file could not be read as an article (binary, wrong encoding, encrypted PDF...)."""


class IndexCorruptError(RagError):
    """The persisted index cannot be read; it must be rebuilt."""


class IndexFolderError(RagError):
    """The index folder cannot be used as it is (a file, read-only, someone else's folder): the data
    in it is not damaged, so the advice is about the folder, never a rebuild."""


class ChromaServerError(RagError):
    """The Chroma server named by RAG_CHROMA_HOST cannot be reached, or dropped the connection."""


class StorageFullError(RagError):
    """The disk holding the index is full: the index is not corrupt, and must not be rebuilt."""


class IndexBusyError(RagError):
    """Another process is writing to the same index."""


class NotIngestedError(RagError):
    """A question was asked before any article was ingested."""


class SettingsError(RagError, ValueError):
    """A setting has a value the library cannot use."""


class InvalidFilterError(InvalidQuestionError):
    """A filter names a field articles do not have, uses an operator the index cannot apply, or a bad date."""


class LLMUnavailable(RagError):
    """The model could not give an answer; `message` says why, for the Answer's fallback_reason."""


class EvalSetError(RagError, ValueError):
    """A regression set file has a malformed line."""
