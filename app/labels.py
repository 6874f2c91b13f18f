"""Words the app shows for the library's objects: answerer choices, article labels."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .render import human_date

if TYPE_CHECKING:
    from rag import RAG

OFFLINE = "Offline (quotes the articles' own sentences)"


def answerer_choices(bot: RAG) -> dict[str, str]:
    """Answerer name -> what it is, for choosing in the sidebar (a model only when one is configured)."""
    choices = {"extractive": OFFLINE}
    if bot.model is not None:
        s = bot.settings
        choices["openai"] = (f"Compatible server at {s.model_server} ({s.openai_model})" if s.openai_base_url
                             else f"OpenAI ({s.openai_model})")
    return choices


def answered_by(answerer: str) -> str:
    return "the offline answerer" if answerer in ("extractive", "lead") else f"the model ({answerer})"


def article_title(title: str | None) -> str:
    """An article's title as shown; never its file name (seed files are named by hash)."""
    return (title or "").strip() or "Untitled article"


def article_label(meta: dict[str, Any]) -> str:
    """'Title · by Author · Publisher · 30 May 2023' for an article record or a citation's fields."""
    author = meta.get("author")
    parts = [article_title(meta.get("title")), author and f"by {author}", meta.get("publisher"),
             human_date(meta.get("date"))]
    return " · ".join(p for p in parts if p)
