"""The app and a CLI ingest side by side: browser sessions ask questions while `rag ingest` runs
again and again in another process (articles removed, added, and now and then `--rebuild`).

    python -m benchmarks.soak_side_by_side --minutes 3 --sessions 2     (make soak-app)

Headless Debian Chromium through Playwright. An error is any exception box or error message on a
page, a question with no answer within 60 s, or a failed ingest; the run fails unless there are none.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchmarks import synthetic
from benchmarks.bench_app import CHROMIUM, NO_NETWORK_FLAGS, free_port, stop_group, unavailable

ROOT = Path(__file__).resolve().parent.parent
ARTICLES = 40  # synthetic articles at the start; each ingest round removes one and adds one


def _rag(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rag.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=900)


def _ingest_rounds(docs: Path, env: dict[str, str], stop: threading.Event, stats: dict) -> None:
    """Remove the oldest synthetic article, add a new one, ingest; every fourth round rebuild."""
    first, last = 0, ARTICLES
    while not stop.is_set():
        (docs / f"synthetic_{first:06d}.txt").unlink(missing_ok=True)
        first += 1
        (docs / f"synthetic_{last:06d}.txt").write_text(synthetic.article(last))
        last += 1
        stats["ingests"] += 1
        done = _rag(env, "ingest", *(["--rebuild"] if stats["ingests"] % 4 == 0 else []))
        if done.returncode != 0:
            stats["errors"].append(f"ingest {stats['ingests']}: {done.stderr.strip()[-500:]}")
        stats["live"] = (first, last)


def _ask(page, question: str, timeout_s: float = 60) -> str | None:
    """Ask on one page; None when answered cleanly, else what went wrong."""
    from playwright.sync_api import Error, expect

    # An answer ends with "Answered by: ..."; an abstention ("The articles don't say") is a warning box.
    answers = page.get_by_text("Answered by:", exact=False).or_(page.get_by_test_id("stAlertContentWarning"))
    before = answers.count()
    box = page.get_by_test_id("stChatInputTextArea")
    try:
        box.fill(question)
        box.press("Enter")
        expect(answers).to_have_count(before + 1, timeout=timeout_s * 1000)
    except (Error, AssertionError) as exc:
        return f"no answer to {question!r} within {timeout_s:g} s ({type(exc).__name__})"
    for test_id in ("stException", "stAlertContentError"):
        if page.get_by_test_id(test_id).count():
            return f"{test_id} on the page after {question!r}: {page.get_by_test_id(test_id).first.inner_text()[:300]}"
    return None


def soak(minutes: float, sessions: int) -> dict:
    from playwright.sync_api import sync_playwright

    stats: dict = {"ingests": 0, "questions": 0, "errors": [], "live": (0, ARTICLES)}
    with tempfile.TemporaryDirectory() as tmp:
        docs, persist = Path(tmp) / "docs", Path(tmp) / "vs"
        shutil.copytree(ROOT / "seeds", docs)
        synthetic.write_corpus(docs, ARTICLES)
        env = dict(os.environ, PYTHONPATH=str(ROOT), RAG_DOCS_DIR=str(docs), RAG_PERSIST_DIR=str(persist),
                   HF_HUB_OFFLINE="1", ANONYMIZED_TELEMETRY="False")
        if (first := _rag(env, "ingest")).returncode != 0:
            raise SystemExit(f"the first ingest failed: {first.stderr[-1000:]}")
        port = free_port()
        log = open(Path(tmp) / "serve.log", "w")  # a file: a pipe nobody reads would stall the server
        server = subprocess.Popen([sys.executable, "-m", "app.serve", "--app", str(ROOT / "app.py"), "--no-ingest",
                                   "--server.port", str(port)], cwd=tmp, env=env, stdout=log, stderr=subprocess.STDOUT,
                                  start_new_session=True)
        stop = threading.Event()
        writer = threading.Thread(target=_ingest_rounds, args=(docs, env, stop, stats))
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=NO_NETWORK_FLAGS)
                pages = []
                for _ in range(sessions):
                    page = browser.new_context().new_page()
                    for _ in range(600):
                        try:
                            page.goto(f"http://127.0.0.1:{port}", wait_until="domcontentloaded", timeout=2000)
                            break
                        except Exception:  # noqa: BLE001  (the server is still starting)
                            time.sleep(0.2)
                    page.get_by_test_id("stChatInputTextArea").wait_for(timeout=180_000)
                    # The first answer waits for the app's start-up (index open, model loaded): not timed.
                    if problem := _ask(page, "Why did China refuse the Austin meeting?", timeout_s=300):
                        stats["errors"].append(f"warm-up: {problem}")
                    pages.append(page)
                writer.start()
                deadline = time.monotonic() + minutes * 60
                i = 0
                while time.monotonic() < deadline:
                    first, last = stats["live"]
                    # Questions about articles just removed, just added, and the seed articles.
                    question = [synthetic.question(max(first - 1, 0)), synthetic.question(last - 1),
                                "Why did China refuse the Austin meeting?"][i % 3]
                    if problem := _ask(pages[i % len(pages)], question):
                        stats["errors"].append(problem)
                    stats["questions"] += 1
                    i += 1
                browser.close()
        finally:
            stop.set()
            if writer.is_alive():
                writer.join(timeout=900)
            stop_group(server)
            log.close()
    return stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--sessions", type=int, default=2)
    args = parser.parse_args()
    if reason := unavailable():
        raise SystemExit(f"cannot run: {reason}")
    stats = soak(args.minutes, args.sessions)
    print(json.dumps({"minutes": args.minutes, "sessions": args.sessions, "questions": stats["questions"],
                      "ingests": stats["ingests"], "errors": len(stats["errors"])}))
    for problem in stats["errors"]:
        print("error:", problem, file=sys.stderr)
    sys.exit(1 if stats["errors"] else 0)


if __name__ == "__main__":
    main()
