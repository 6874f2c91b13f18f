"""The app's own settings (`RAG_*` environment variables, like the library's; the library never reads them)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class AppSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RAG_", env_file=".env", extra="ignore")

    eval_sets_dir: Path | None = Field(
        None, description="Folder of regression sets (*.jsonl, *.json) offered on the Regression page; "
                          "default tests/regression when it exists.")
    runs_dir: Path = Field(Path("runs"), description="Where regression runs are recorded (as `rag eval` does).")
    conversations_db: Path | None = Field(
        None, description="SQLite file of saved conversations and feedback; default conversations.sqlite3 "
                          "in the index folder.")
    app_allowed_hosts: str = Field(
        "", description="Host names the app may be reached under besides 127.0.0.1, localhost and [::1] "
                        "(comma-separated; * for any): requests naming other hosts get 403 (DNS rebinding).")

    def eval_sets(self) -> Path | None:
        if self.eval_sets_dir is not None:
            return self.eval_sets_dir
        default = Path("tests/regression")
        return default if default.is_dir() else None

    def conversations_path(self, persist_dir: Path) -> Path:
        return self.conversations_db or Path(persist_dir) / "conversations.sqlite3"
