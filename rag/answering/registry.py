"""Answerers by name: the built-in ones, and plugins that other packages declare as entry points.

    extractive  offline, the default: picks article sentences and cites them (extractive.py)
    openai      a model through the openai client (OpenAI or a compatible server); its text goes
                through the citation check (generative.py). When it fails, the engine answers with
                "extractive" instead and says why (Answer.fallback_reason)
    lead        a baseline for regression runs: the first sentence of the best passage (lead.py)

A plugin is a package with an entry point in the `rag.answerers` group whose name is the answerer's
name and whose object is a factory `(AnswererContext) -> Answerer` (interface.py), e.g. in its
pyproject.toml:

    [project.entry-points."rag.answerers"]
    echo = "rag_echo:make_answerer"

`RAG_ANSWERER=echo` (or `RAG(answerer="echo")`, `rag ask --answerer echo`) then selects it. Entry
points are read only when a name is not built in, and a plugin's code is imported only when its
answerer is first asked for. Code inside the process may also add one with `@register("name")`.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points

from rag.answering.interface import Answerer, AnswererContext, AnswererFactory
from rag.errors import SettingsError

PLUGIN_GROUP = "rag.answerers"
OFFLINE = "extractive"  # answers when the model cannot
AUTO = "auto"  # the settings' default: the model when one is configured, else OFFLINE

ANSWERERS: dict[str, AnswererFactory] = {}


def register(name: str) -> Callable[[AnswererFactory], AnswererFactory]:
    """Decorator: `factory` builds the answerer called `name`."""
    def add(factory: AnswererFactory) -> AnswererFactory:
        ANSWERERS[name] = factory
        return factory
    return add


@register("extractive")
def _extractive(ctx: AnswererContext) -> Answerer:
    from rag.answering.extractive import ExtractiveAnswerer

    return ExtractiveAnswerer(ctx.keyword, ctx.settings.max_answer_sentences)


@register("lead")
def _lead(ctx: AnswererContext) -> Answerer:
    from rag.answering.lead import LeadAnswerer

    return LeadAnswerer()


@register("openai")
def _openai(ctx: AnswererContext) -> Answerer:
    from rag.answering.generative import GenerativeAnswerer

    if ctx.model is None:
        raise SettingsError("The openai answerer was asked for, but no model is configured.",
                            "Set OPENAI_API_KEY, or OPENAI_BASE_URL for a compatible server.")
    return GenerativeAnswerer(ctx.model)


def plugin_names() -> list[str]:
    """Names of the answerers installed packages declare (their code is not imported)."""
    return sorted({ep.name for ep in entry_points(group=PLUGIN_GROUP)})


def known_names() -> list[str]:
    return sorted(set(ANSWERERS) | set(plugin_names()))


def check_name(name: str) -> None:
    """SettingsError, listing the known names, unless `name` is `auto` or a known answerer."""
    if name != AUTO and name not in ANSWERERS and name not in plugin_names():
        raise SettingsError(f"Unknown answerer {name!r}.", f"Use one of: {', '.join([AUTO, *known_names()])}.")


def factory(name: str) -> AnswererFactory:
    """The factory of the answerer called `name`: registered here, else loaded from its entry point."""
    if name not in ANSWERERS:
        check_name(name)
        point = next(ep for ep in entry_points(group=PLUGIN_GROUP) if ep.name == name)
        try:
            ANSWERERS[name] = point.load()
        except Exception as exc:  # a broken plugin is a configuration problem, named as such
            raise SettingsError(f"The answerer plugin {name!r} ({point.value}) could not be loaded: {exc}",
                                "Reinstall the package that provides it, or choose another answerer.") from exc
    return ANSWERERS[name]


class Answerers:
    """The answerers of one index state, each built on first use."""

    def __init__(self, context: AnswererContext) -> None:
        self.context = context
        self._built: dict[str, Answerer] = {}

    def get(self, name: str | None = None) -> Answerer:
        """The answerer called `name`; None: the one the settings choose (`auto`: the model when one
        is configured, else extractive)."""
        name = name or self.context.settings.effective_answerer()
        if name not in self._built:
            answerer = factory(name)(self.context)
            if not isinstance(answerer, Answerer):
                raise SettingsError(f"The answerer factory for {name!r} returned {type(answerer).__name__}, "
                                    "which has no `name` and `answer(evidence)`.",
                                    "See README, Answerer plugins.")
            self._built[name] = answerer
        return self._built[name]

    @property
    def offline(self) -> Answerer:
        return self.get(OFFLINE)
