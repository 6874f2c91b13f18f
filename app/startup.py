"""The process's engine, built in the background so a page can show progress instead of a blank wait.

`python -m app.serve` (make run) begins the start-up before the Streamlit server is even listening (load the model,
index the docs folder, open the index: seconds of imports and disk); the app's first visit then
finds the engine warm, or shows how far it has got. One engine per process: a start-up for other
settings replaces it.
"""

from __future__ import annotations

import gc
import threading
import time
import traceback
from typing import TYPE_CHECKING, Any

from rag.errors import RagError
from rag.settings import Settings, load_settings

if TYPE_CHECKING:
    from rag.engine import RAG
    from rag.schema import IngestReport


class Startup:
    """Builds one `RAG` in a daemon thread: load the model, optionally ingest the docs folder, open the index."""

    def __init__(self, settings: Settings, *, ingest: bool = False) -> None:
        self.settings = settings
        self.ingest = ingest
        self.stage = "Starting"
        self.fraction: float | None = None  # share of the current stage done, when it is countable
        self.report: IngestReport | None = None
        self.error: BaseException | None = None
        self.seconds: float | None = None  # from begin to ready or failed
        self._engine: RAG | None = None
        self._done = threading.Event()
        self._started = time.perf_counter()
        threading.Thread(target=self._run, name="rag-startup", daemon=True).start()

    def _run(self) -> None:
        try:
            self.stage = "Loading the question-answering library and the embedding model"
            _import_and_freeze()
            from rag.engine import RAG

            bot = RAG(self.settings)
            if self.ingest:
                self.stage = f"Indexing {self.settings.docs_dir}/"
                self.report = bot.ingest(progress=self._ingest_progress)
                self.fraction = None
            self.stage = "Opening the index"
            bot.warm_up()
            self._engine = bot
            self.stage = "Ready"
        except BaseException as exc:  # shown to every visitor; the thread must not die silently
            self.error = exc
            self.stage = "Failed"
            if not isinstance(exc, RagError):
                traceback.print_exc()
        finally:
            self.seconds = time.perf_counter() - self._started
            self._done.set()

    def _ingest_progress(self, done: int, total: int, current: str) -> None:
        self.fraction = done / total if total else None
        self.stage = f"Indexing {self.settings.docs_dir}/, {done} of {total} files done: {current}" if current else self.stage

    def wait(self, timeout: float | None = None) -> bool:
        """True once the start-up has finished, ready or failed."""
        return self._done.wait(timeout)

    @property
    def elapsed(self) -> float:
        """Seconds since the start-up began (until it finished)."""
        return self.seconds if self.seconds is not None else time.perf_counter() - self._started

    @property
    def failed(self) -> bool:
        return self._done.is_set() and self.error is not None

    def engine(self) -> RAG:
        """The warm engine; waits for it. Raises what the start-up raised."""
        self._done.wait()
        if self.error is not None:
            raise self.error
        assert self._engine is not None
        return self._engine


def _import_and_freeze() -> None:
    """Import the engine and load the model without the cyclic garbage collector, then freeze.

    The imports (llama-index, chromadb, torch, transformers) create millions of long-lived objects,
    and the collections they trigger find next to nothing to free. Merely pausing the collector
    moves that cost to the first question (the first collection after it scans them all);
    `gc.freeze()` takes them out of every future collection instead. Only here, where the app owns
    the process, and before any ingest, so no garbage of ours is frozen with them.
    """
    global _imports_frozen
    with _freeze_lock:
        if _imports_frozen:  # once per process: a later freeze could catch an old engine's garbage
            return
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            from rag.engine import RAG  # noqa: F401
            from rag.models.embedder import Embedder

            Embedder().embed_query("warm up")
            gc.freeze()
            _imports_frozen = True
        finally:
            if was_enabled:
                gc.enable()


_imports_frozen = False
_freeze_lock = threading.Lock()


_current: Startup | None = None
_lock = threading.Lock()


def begin(*, ingest: bool = False, **overrides: Any) -> Startup:
    """The process's start-up for these settings (`RAG_*` environment and `.env`, then overrides).

    Joins the one under way or finished when the settings match; begins a new one otherwise, or
    when the last one failed (so the app's next rerun tries again, ingesting if the last one did).
    """
    global _current
    settings = load_settings(**overrides)
    with _lock:
        current = _current
        same = current is not None and current.settings == settings
        if same and not current.failed:
            return current
        _current = Startup(settings, ingest=ingest or (same and current.ingest))
        return _current
