"""One settings object: keyword arguments, then `RAG_*` environment variables (and `.env`), then defaults."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="RAG_", env_file=".env", env_file_encoding="utf-8", extra="ignore",
        validate_default=True, populate_by_name=True,
    )

    # Where things are
    docs_dir: Path = Field(Path("seeds"), description="Folder of articles to ingest.")
    persist_dir: Path = Field(Path("vectorstore"), description="Folder holding the index.")
    collection: str = Field("articles", min_length=3, max_length=60, pattern=r"^[a-zA-Z0-9][a-zA-Z0-9._-]*[a-zA-Z0-9]$")
    chroma_host: str | None = Field(None, description="Use a `chroma run` server at this host instead of the embedded store.")
    chroma_port: int = Field(8000, ge=1, le=65535)

    # Splitting
    chunk_tokens: int = Field(200, ge=32, le=2000, description="Target chunk size in tiktoken (cl100k) tokens.")
    chunk_overlap_tokens: int = Field(40, ge=0, le=500, description="Overlap between neighbouring chunks, in tokens.")
    embed_batch_size: int = Field(64, ge=1, le=4096)
    model_cache_dir: Path | None = Field(None, description="Where the ONNX export of the embedding model is kept "
                                                           "(made once); default $XDG_CACHE_HOME/rag-news/models.")

    # Retrieval
    top_k: int = Field(5, ge=1, le=50, description="Passages handed to the answerer.")
    candidate_k: int = Field(20, ge=1, le=500, description="Depth of each retriever before fusion.")
    fusion: Literal["relative_score", "reciprocal_rank"] = Field(
        "relative_score", description="How vector and BM25 results are fused (llama-index QueryFusionRetriever). "
                                      "Relative score keeps a decisive keyword match; see README, Retrieval.")

    # Answering
    answerer: str = Field(
        "auto", min_length=1, max_length=100, pattern=r"^[\w.-]+$",
        description="`auto` uses OpenAI (or a compatible server) when configured, else the offline extractive "
                    "answerer; `lead` is a baseline for regression runs (first sentence of the best passage); "
                    "any other name is a registered answerer, e.g. from a plugin (rag/answering/registry.py).")
    max_answer_sentences: int = Field(3, ge=1, le=10)
    max_question_chars: int = Field(2000, ge=10, le=100_000)
    max_file_mb: int = Field(25, ge=1, le=1000, description="Larger files are skipped with a warning (and refused as uploads).")
    max_chunks_per_article: int = Field(
        500, ge=1, le=1_000_000, description="An article that splits into more chunks is skipped with a reason: "
                                             "it bounds one file's embedding time and memory (500 chunks: about "
                                             "350 KB of English text).")

    # LLM path (issue 3). The key is a secret: it is never printed.
    openai_api_key: SecretStr | None = Field(None, validation_alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(None, validation_alias="OPENAI_BASE_URL")
    openai_model: str = Field("gpt-4o-mini", min_length=1)
    openai_timeout: float = Field(30.0, gt=0, le=600, description="Seconds per request (the openai client's timeout).")
    openai_max_retries: int = Field(2, ge=0, le=10, description="The openai client's own retries (429, 5xx, connection).")
    openai_deadline: float = Field(60.0, gt=0, le=3600, description="Seconds one answer from the model may take in "
                                   "all (retries included); past it the offline answer is given.")
    openai_max_tokens: int = Field(512, ge=16, le=32_000, description="Longest reply asked of the model, in tokens.")
    context_tokens: int = Field(3000, ge=500, le=200_000, description="Token budget of the prompt sent to the model.")

    @field_validator("chroma_host", "openai_base_url", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _overlap_below_size(self) -> "Settings":
        if self.chunk_overlap_tokens >= self.chunk_tokens:
            raise ValueError("chunk_overlap_tokens must be smaller than chunk_tokens")
        if self.top_k > self.candidate_k:
            raise ValueError("top_k must not exceed candidate_k")
        return self

    @property
    def model_server(self) -> str:
        """Where the model is, for people: the base URL with any credentials in it hidden."""
        return redact_url(self.openai_base_url) if self.openai_base_url else "the OpenAI API"

    def effective_answerer(self) -> str:
        if self.answerer != "auto":
            return self.answerer
        return "openai" if (self.openai_api_key or self.openai_base_url) else "extractive"

    def grouped(self) -> dict[str, dict[str, object]]:
        """`public_dict()` by concern (`GROUPS`): what `rag config` prints."""
        data = self.public_dict()
        return {group: {name: data[name] for name in names} for group, names in GROUPS.items()}

    def public_dict(self) -> dict[str, object]:
        """Every setting, JSON-friendly, with secrets shown only as set or not set."""
        data = self.model_dump(mode="json")
        data["openai_api_key"] = "set" if self.openai_api_key else "not set"
        data["openai_base_url"] = redact_url(self.openai_base_url)
        data["chroma_host"] = redact_url(self.chroma_host)
        data["answerer_in_effect"] = self.effective_answerer()
        return data


# One settings object, its fields grouped by concern (as `rag config` shows them). Flat attributes and
# RAG_* variable names stay as they were, so every existing .env and environment keeps working.
GROUPS: dict[str, tuple[str, ...]] = {
    "index": ("docs_dir", "persist_dir", "collection", "chroma_host", "chroma_port", "chunk_tokens",
              "chunk_overlap_tokens", "embed_batch_size", "model_cache_dir", "max_file_mb",
              "max_chunks_per_article"),
    "retrieval": ("top_k", "candidate_k", "fusion"),
    "answer": ("answerer", "answerer_in_effect", "max_answer_sentences", "max_question_chars"),
    "model": ("openai_api_key", "openai_base_url", "openai_model", "openai_timeout", "openai_max_retries",
              "openai_deadline", "openai_max_tokens", "context_tokens"),
}


_SECRET_PARAM = re.compile(r"key|token|secret|passw|auth|sig", re.IGNORECASE)


def redact_url(url: str | None) -> str | None:
    """`url` safe to show or log: a user name and password in it, and query values that look like
    secrets (api_key=..., token=...), become ***. The one place the app, CLI and errors hide them."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:  # not a URL we can take apart: show nothing of it
        return "***"
    netloc = "***@" + parts.netloc.rpartition("@")[2] if "@" in parts.netloc else parts.netloc
    query = urlencode([(k, "***" if _SECRET_PARAM.search(k) else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)],
                      safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def load_settings(settings: Settings | None = None, **overrides: object) -> Settings:
    """Settings with overrides applied; invalid values raise `SettingsError` naming each field."""
    from rag.errors import SettingsError

    try:
        if settings is None:
            return Settings(**overrides)
        return Settings(**(settings.model_dump() | overrides)) if overrides else settings
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors())
        raise SettingsError(f"Invalid settings: {problems}.", "See `rag config` for every setting and its value.") from None
