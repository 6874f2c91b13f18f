"""Time from a start command (`make run`) to the first answer in a real browser.

Headless Debian Chromium, driven by Playwright (both from the test set-up), opens the page as soon as
the server answers, types the Austin question the moment the chat box is there, and waits for the
answer. Each run uses a new browser context, so nothing is cached from the run before.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
# Without these, Chromium keeps trying to reach Google's services on this closed network.
NO_NETWORK_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--disable-default-apps", "--disable-extensions"]
QUESTION = "Why did China refuse the Austin meeting?"

# What is compared, side by side: `make run` (`python -m app.serve`: ingest and model load begin while the
# server starts; file watcher off), on the existing index and on a new empty one (a fresh clone's
# first run, less the install), against the plain way (`rag ingest`, then `streamlit run` with
# Streamlit's default file watcher; the engine is built by the first visit).
COMMANDS = {
    "make run": "make run PORT={port}",
    "make run, empty index": "RAG_PERSIST_DIR={empty_dir} make run PORT={port}",
    "rag ingest + streamlit run": ".venv/bin/rag ingest seeds && .venv/bin/streamlit run app.py "
                                  "--server.port {port} --server.fileWatcherType auto",
}


def unavailable() -> str | None:
    """Why the browser benchmark cannot run here, or None."""
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is not installed (`make test` installs Debian's chromium)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright is not installed (it is in the test extra: pip install -e '.[test]')"
    return None


def stop_group(server: subprocess.Popen, timeout: float = 20) -> None:
    """Stop a server started with start_new_session=True, and everything it started (SIGKILL after `timeout` s)."""
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _one_run(browser, command: str, cwd: Path) -> dict[str, float]:
    from playwright.sync_api import Error, expect

    port = free_port()
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    with tempfile.TemporaryFile() as log, tempfile.TemporaryDirectory() as empty_dir:
        # (the log is a file: a pipe nobody reads would fill and stall the server)
        started = time.perf_counter()
        server = subprocess.Popen(command.format(port=port, empty_dir=empty_dir), shell=True, cwd=cwd, stdout=log,
                                  stderr=subprocess.STDOUT, start_new_session=True)
        try:
            marks: dict[str, float] = {}
            while True:
                if server.poll() is not None:
                    log.seek(0)
                    raise RuntimeError(f"{command!r} exited with {server.returncode}: {log.read()[-2000:]!r}")
                try:
                    page.goto(f"http://127.0.0.1:{port}", wait_until="domcontentloaded", timeout=2000)
                    break
                except Error:
                    time.sleep(0.1)
            marks["page_served_s"] = time.perf_counter() - started
            box = page.get_by_test_id("stChatInputTextArea")
            expect(box).to_be_visible(timeout=180_000)
            marks["chat_box_s"] = time.perf_counter() - started
            box.fill(QUESTION)
            box.press("Enter")
            expect(page.get_by_text("Answered by:", exact=False)).to_be_visible(timeout=180_000)
            marks["first_answer_s"] = time.perf_counter() - started
            log.seek(0)
            if ready := re.search(rb"Ready in ([0-9.]+) s", log.read()):  # printed by `python -m app.serve`
                marks["engine_ready_s"] = float(ready.group(1))
            return marks
        finally:
            stop_group(server)
            context.close()


def measure(cwd: Path, runs: int = 3) -> dict[str, Any]:
    """Each command `runs` times, alternating, so both see the same machine."""
    from playwright.sync_api import sync_playwright

    results: dict[str, list[dict[str, float]]] = {name: [] for name in COMMANDS}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=NO_NETWORK_FLAGS)
        try:
            for _ in range(runs):
                for name, command in COMMANDS.items():
                    results[name].append(_one_run(browser, command, cwd))
        finally:
            browser.close()
    return {"question": QUESTION, "commands": COMMANDS, "runs": results}
