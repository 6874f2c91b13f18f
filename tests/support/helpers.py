"""Paths and helpers the test tiers share."""

from __future__ import annotations

import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from benchmarks.bench_app import free_port  # noqa: F401  (one helper for tests and the app benchmark)

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "seeds"
REGRESSION_SET = ROOT / "tests" / "regression" / "seed_qa.jsonl"


def stop(process, timeout: float = 10) -> None:
    """Terminate a server started by a test; kill it if it does not stop within `timeout` s."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_for_http(url: str, process, log_path: Path, timeout: float = 60) -> None:
    """Return once `url` answers; fail with the server's log if it does not within `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.3)
    process.kill()
    pytest.fail(f"server at {url} did not start: {log_path.read_text()[-2000:]}")


def popover_labels(at) -> list[str]:
    """The labels of every popover on an AppTest page (the [n] markers)."""
    from streamlit.testing.v1.element_tree import Block

    found = []

    def walk(node):
        proto = getattr(node, "proto", None)
        if type(node) is Block and proto is not None and proto.WhichOneof("type") == "popover":
            found.append(proto.popover.label)
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return found


def answer_rows(at) -> list[str]:
    """The Markdown a reader sees without opening anything: not inside a popover or an expander."""
    from streamlit.testing.v1.element_tree import Block, Expander, Markdown

    found = []

    def walk(node):
        proto = getattr(node, "proto", None)
        if isinstance(node, Expander) or (type(node) is Block and proto is not None
                                           and proto.WhichOneof("type") == "popover"):
            return
        if type(node) is Markdown:  # not its subclasses (captions)
            found.append(node.value)
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at.main if hasattr(at, "main") else at)
    return found
