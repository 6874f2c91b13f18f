"""`python -m benchmarks.rebuild_leaks`: what rebuilds leave behind.

1. 20 re-ingests in one process, `rebuild=True` every fifth: the index folder's size, this process's
   open file descriptors and RSS after the first and after the last (target: within 10%).
2. `rag ingest --rebuild` killed three times once its new collections exist, then a plain `rag ingest`:
   collections and folder size against a clean index's.
3. With `--plateau N`: N rebuilds in a row, the folder's size after each checkpoint, to tell a leak
   (growth without end) from the SQLite file's high-water mark of two sets during the swap.

Run, shortened, by tests/integration/test_reliability.py; the figures are in RELIABILITY.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink()) / 1e6


def sqlite_mb(folder: Path) -> float:
    """Chroma's SQLite file: it keeps the pages a dropped collection freed (and reuses them) until
    `chroma vacuum --path` compacts it, so it is reported apart from the rest of the folder."""
    return (folder / "chroma.sqlite3").stat().st_size / 1e6


def _measure(vs: Path) -> dict[str, float]:
    return {"folder_mb": folder_mb(vs), "sqlite_mb": sqlite_mb(vs), "fds": open_fds(), "rss_mb": rss_mb(),
            "segment_folders": sum(1 for p in vs.iterdir() if p.is_dir() and len(p.name) == 36)}


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def collection_names(vs: Path) -> list[str]:
    """Collections in the index, read by a separate process (this one's client must not be reused)."""
    code = ("import chromadb, sys; from chromadb.config import Settings; "
            "c = chromadb.PersistentClient(path=sys.argv[1], settings=Settings(anonymized_telemetry=False)); "
            "print('\\n'.join(sorted(x.name for x in c.list_collections())))")
    done = subprocess.run([sys.executable, "-c", code, str(vs)], capture_output=True, text=True, timeout=120)
    return done.stdout.split()


def repeated_rebuilds(docs: Path, vs: Path, rounds: int = 20, every: int = 5) -> dict[str, float]:
    from rag import RAG

    bot = RAG(docs_dir=docs, persist_dir=vs)
    after_one: dict[str, float] = {}
    for i in range(1, rounds + 1):
        bot.ingest(rebuild=i % every == 0)
        bot.ask("Why did China refuse the Austin meeting?")
        if i == 1:
            after_one = _measure(vs)
    after_all = _measure(vs)
    return {f"{k}_after_1": round(v, 1) for k, v in after_one.items()} | {
        f"{k}_after_{rounds}": round(v, 1) for k, v in after_all.items()} | {
        f"{k}_growth": round(after_all[k] / after_one[k] - 1, 3) for k in after_one}


def killed_rebuilds(docs: Path, vs: Path, kills: int = 3) -> dict[str, object]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    ingest = [sys.executable, "-m", "rag.cli", "ingest", str(docs), "--persist-dir", str(vs)]
    subprocess.run(ingest, cwd=ROOT, env=env, check=True, capture_output=True, timeout=600)
    clean = {"collections": len(collection_names(vs)), "folder_mb": round(folder_mb(vs), 1)}
    for _ in range(kills):
        before = set(collection_names(vs))
        writer = subprocess.Popen([*ingest, "--rebuild"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 300
        while writer.poll() is None and time.monotonic() < deadline and set(collection_names(vs)) <= before:
            time.sleep(0.5)
        time.sleep(1)  # let it write some of the new set
        writer.send_signal(signal.SIGKILL)
        writer.wait()
    killed = {"collections": len(collection_names(vs)), "folder_mb": round(folder_mb(vs), 1)}
    subprocess.run(ingest, cwd=ROOT, env=env, check=True, capture_output=True, timeout=600)
    after = {"collections": len(collection_names(vs)), "folder_mb": round(folder_mb(vs), 1)}
    return {"clean": clean, f"after_{kills}_killed_rebuilds": killed, "after_next_ingest": after}


def rebuild_plateau(docs: Path, vs: Path, rounds: int) -> dict[int, float]:
    """The index folder's size (MB) after rebuild 1, 2, 5, 10, 20, ... of `rounds` rebuilds in a row."""
    from rag import RAG

    bot = RAG(docs_dir=docs, persist_dir=vs)
    bot.ingest()
    sizes = {}
    for i in range(1, rounds + 1):
        bot.ingest(rebuild=True)
        if i in (1, 2, 5, rounds) or i % 10 == 0:
            sizes[i] = round(folder_mb(vs), 2)
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--docs", type=Path, default=ROOT / "seeds")
    parser.add_argument("--plateau", type=int, default=0, help="also: this many rebuilds in a row, sizes on the way")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        docs = Path(tmp) / "docs"
        shutil.copytree(args.docs, docs)
        print("repeated rebuilds:", repeated_rebuilds(docs, Path(tmp) / "vs", args.rounds))
        print("killed rebuilds:", killed_rebuilds(docs, Path(tmp) / "vs2", args.kills))
        if args.plateau:
            print("folder MB after rebuild n:", rebuild_plateau(docs, Path(tmp) / "vs3", args.plateau))


if __name__ == "__main__":
    main()
