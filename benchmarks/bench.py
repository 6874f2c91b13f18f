"""`make bench` (`python -m benchmarks.bench`): figures measured on this machine, printed and recorded
(BENCHMARKS.md and benchmarks/bench.json).

Retrieval quality is compared side by side, in one run, with the LlamaIndex quickstart:
`VectorStoreIndex.from_documents(SimpleDirectoryReader(docs).load_data())` with the same embedding
model and its default retriever (top-k 2), scored with the same relevance rule as `rag eval`.
"""

from __future__ import annotations

import json
import platform
import shutil
import statistics
import subprocess
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rag.evaluation.cases import EvalCase, load_cases
from rag.evaluation.metrics import KS, is_relevant, retrieval_metrics
from rag.evaluation.runs import git_revision


def _quickstart_ranks(docs: Path, cases: list[EvalCase]) -> tuple[list[int | None], int, float]:
    from llama_index.core import Settings as LlamaSettings
    from llama_index.core import SimpleDirectoryReader, VectorStoreIndex
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    from rag.models.embedder import model_path

    LlamaSettings.llm = None  # the quickstart's retriever needs no LLM; don't resolve OpenAI
    embed_model = HuggingFaceEmbedding(model_name=str(model_path()), device="cpu")
    embed_model.get_query_embedding("warm up")  # time the ingest, not the model load
    started = time.perf_counter()
    index = VectorStoreIndex.from_documents(SimpleDirectoryReader(str(docs)).load_data(), embed_model=embed_model)
    build_s = time.perf_counter() - started
    retriever = index.as_retriever()  # the quickstart default: similarity_top_k=2
    ranks = []
    for case in cases:
        hits = retriever.retrieve(case.question)
        ranks.append(next((i for i, h in enumerate(hits, start=1)
                           if is_relevant(h.node.metadata.get("file_name", ""), h.node.get_content(), case)), None))
    return ranks, len(index.docstore.docs), build_s


def _ours(docs: Path, persist: Path, cases: list[EvalCase]) -> dict[str, Any]:
    from rag.engine import RAG
    from rag.models.embedder import Embedder

    Embedder().embed(["warm up", "batch"])  # the model is shared per process: time the ingest, not its load
    bot = RAG(docs_dir=docs, persist_dir=persist)
    started = time.perf_counter()
    report = bot.ingest()
    ingest_s = time.perf_counter() - started
    ranks = []
    for case in cases:
        passages = bot.retrieve(case.question, top_k=max(KS))
        ranks.append(next((p.rank for p in passages if is_relevant(p.source, p.text, case)), None))
    # Warm ask() latency: every question of the set, repeated until at least 200 asks.
    questions = [c.question for c in cases]
    bot.ask(questions[0])
    latencies = []
    while len(latencies) < 200:
        for q in questions:
            t = time.perf_counter()
            bot.ask(q)
            latencies.append((time.perf_counter() - t) * 1000)
    latencies.sort()
    return {"ranks": ranks, "chunks": report.chunks, "ingest_s": ingest_s, "asks": len(latencies),
            "ask_ms_median": statistics.median(latencies), "ask_ms_p95": latencies[int(0.95 * (len(latencies) - 1))]}


COLD_START_SCRIPT = """
import time
started = time.perf_counter()
from rag import RAG
RAG(docs_dir={docs!r}, persist_dir={persist!r}).ask("Why did China refuse the Austin meeting?")
print(time.perf_counter() - started)
"""


def _cold_starts(docs: Path, persist: Path, runs: int = 3) -> list[float]:
    """Seconds from a new Python process's first import to its first answer (interpreter start-up,
    ~0.05 s, not included; nor the teardown after the answer)."""
    import sys

    out = []
    for _ in range(runs):
        result = subprocess.run([sys.executable, "-c", COLD_START_SCRIPT.format(docs=str(docs), persist=str(persist))],
                                capture_output=True, text=True, check=True, timeout=300)
        out.append(float(result.stdout.strip().splitlines()[-1]))
    return out


def _answer_quality(docs: Path, persist: Path, qa_files: list[Path], work: Path) -> dict[str, Any]:
    """The offline answerer on the regression sets, with each fusion mode, on one index."""
    from benchmarks import synthetic
    from rag.engine import RAG
    from rag.evaluation.harness import run_cases

    syn_docs = work / "synthetic"
    synthetic.write_corpus(syn_docs, 30)
    RAG(docs_dir=syn_docs, persist_dir=work / "synthetic_index").ingest()
    out: dict[str, Any] = {}
    for fusion in ("relative_score", "reciprocal_rank"):
        bot = RAG(docs_dir=docs, persist_dir=persist, fusion=fusion)
        row: dict[str, Any] = {}
        for qa_file in qa_files:
            row[qa_file.stem] = run_cases(bot, load_cases(qa_file)).metrics
        syn = RAG(docs_dir=syn_docs, persist_dir=work / "synthetic_index", fusion=fusion)
        row["synthetic_hits_at_5"] = sum(
            any(p.article_id == f"synthetic_{i:06d}.txt" for p in syn.retrieve(synthetic.question(i), top_k=5))
            for i in range(30))
        out[fusion] = row
    return out


ROOT = Path(__file__).resolve().parent.parent


def run_bench(docs: Path, qa_file: Path, out_dir: Path, *, app: bool = True, bbc: bool = True) -> dict[str, Any]:
    from benchmarks import bench_app, corpus

    cases = [c for c in load_cases(qa_file) if c.answerable]
    skipped = (None if app else "left out (--no-app)") or bench_app.unavailable()
    app_start = {"skipped": skipped} if skipped else bench_app.measure(ROOT)
    work = Path(tempfile.mkdtemp(prefix="rag-bench-"))
    try:
        ours = _ours(docs, work / "vectorstore", cases)
        ours["cold_start_s"] = _cold_starts(docs, work / "vectorstore")
        holdout = qa_file.with_name("holdout_qa.jsonl")
        quality = _answer_quality(docs, work / "vectorstore", [qa_file] + ([holdout] if holdout.exists() else []),
                                  work)
        theirs_ranks, theirs_chunks, theirs_build = _quickstart_ranks(docs, cases)
        bbc_record = corpus.compare(work) if bbc else {"skipped": "left out (--no-bbc)"}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    record = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "git_revision": git_revision(),
        "machine": f"{platform.machine()}, {_cpus()} cores, Python {platform.python_version()}",
        "command": "make bench" + ("" if app and bbc else f" ({' '.join(a for a, on in (('--no-app', app), ('--no-bbc', bbc)) if not on)})"),
        "bbc": bbc_record,
        "qa_file": str(qa_file), "answerable_cases": len(cases),
        "ours": {**retrieval_metrics(ours["ranks"]), **{k: v for k, v in ours.items() if k != "ranks"}},
        "quickstart": {**retrieval_metrics(theirs_ranks), "chunks": theirs_chunks, "build_s": theirs_build},
        "answer_quality": quality,
        "app_start": app_start,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "bench.json").write_text(json.dumps(record, indent=2))
    return record


def markdown(record: dict[str, Any]) -> str:
    from benchmarks import corpus

    ours, theirs = record["ours"], record["quickstart"]
    rows = "\n".join(
        f"| {k} | {ours[f'hit_rate@{k}']:.3f} | {theirs[f'hit_rate@{k}']:.3f} | {ours[f'mrr@{k}']:.3f} | {theirs[f'mrr@{k}']:.3f} |"
        for k in KS)
    return f"""# Benchmarks

Produced by `{record['command']}` (`python -m benchmarks.bench`) on {record['date']}, git revision `{record['git_revision']}`,
machine: {record['machine']}. Raw record: `benchmarks/bench.json`. Figures vary between runs on shared
machines; compare within one run.

## Retrieval quality vs the LlamaIndex quickstart (seed regression set, {record['answerable_cases']} answerable questions)

Same files, same embedding model (all-MiniLM-L6-v2), one run. The quickstart is
`VectorStoreIndex.from_documents(SimpleDirectoryReader("seeds").load_data())` with its default
retriever (top-k 2, so its k=3 and k=5 figures are its top 2). A retrieved passage is relevant when it
comes from an article that holds the answer and contains one of the case's key facts.

| k | hit rate (ours) | hit rate (quickstart) | MRR (ours) | MRR (quickstart) |
|---|---|---|---|---|
{rows}

Chunks: ours {ours['chunks']} (200-token, sentence-aligned, furniture removed), quickstart {theirs['chunks']} (1024-token).

## Warm `ask()` latency, seed corpus, offline extractive answerer

{ours['asks']} asks over the regression questions after one warm-up: median **{ours['ask_ms_median']:.1f} ms**,
p95 {ours['ask_ms_p95']:.1f} ms (target: median ≤ 50 ms).

## Cold start and ingest, seed corpus

- New process to first answer (import, open the index, load the model, answer), 3 runs:
  {', '.join(f'{x:.2f}' for x in ours['cold_start_s'])} s (target ≤ 3 s).
- Ingest of the seed folder into an empty index, models already loaded: ours
  {ours['ingest_s']:.1f} s ({ours['chunks']} chunks; it embeds every chunk and every sentence), quickstart
  `from_documents` {theirs['build_s']:.1f} s ({theirs['chunks']} chunks, in memory).
  Per chunk: ours {ours['chunks'] / ours['ingest_s']:.1f} chunks/s, quickstart {theirs['chunks'] / theirs['build_s']:.1f} chunks/s
  (ratio {(ours['chunks'] / ours['ingest_s']) / (theirs['chunks'] / theirs['build_s']):.2f}); its chunks are 5x larger.

{corpus.markdown(record['bbc'])}
{_app_start_markdown(record['app_start'])}
{_quality_markdown(record['answer_quality'])}"""


def _app_start_markdown(app_start: dict[str, Any]) -> str:
    head = "## From a start command to the first answer in a browser\n\n"
    if "skipped" in app_start:
        return f"{head}Not measured: {app_start['skipped']}.\n"
    medians = {name: statistics.median(r["first_answer_s"] for r in runs) for name, runs in app_start["runs"].items()}
    rows = []
    for name, runs in app_start["runs"].items():
        cells = [", ".join(f"{r[key]:.1f}" for r in runs) for key in ("page_served_s", "chat_box_s", "first_answer_s")]
        rows.append(f"| `{name}` | {' | '.join(cells)} | {medians[name]:.1f} |")
    ours, plain = medians["make run"], medians["rag ingest + streamlit run"]
    ready = ", ".join(f"{r['engine_ready_s']:.1f}" for r in app_start["runs"]["make run"] if "engine_ready_s" in r)
    return (f"{head}Headless Chromium on a new browser context per run opens the page as soon as the server "
            f"answers, types \"{app_start['question']}\" the moment the chat box appears, and waits for the "
            "answer; existing venv, runs alternating. `make run` is `python -m app.serve`: it indexes `seeds/` and "
            "loads the model while Streamlit starts, with Streamlit's file watcher off; \"empty index\" is a fresh "
            "clone's first run less the install (every article embedded). The last row is the plain "
            "way: `rag ingest`, then `streamlit run` with the default file watcher, the engine built from the first "
            "visit. A question typed before the engine is ready waits in the chat box and is answered when it is.\n\n"
            "| command | page served (s) | chat box shown (s) | first answer (s) | median first answer (s) |\n"
            "|---|---|---|---|---|\n" + "\n".join(rows) +
            f"\n\nMedian first answer: `make run` {ours:.1f} s, plain {plain:.1f} s (ratio {ours / plain:.2f}). "
            f"On the existing index `app.serve` reported its engine ready {ready} s after it began building it "
            "(its own log).\n")


def _quality_markdown(quality: dict[str, Any]) -> str:
    sets = [k for k in quality["relative_score"] if k != "synthetic_hits_at_5"]
    lines = ["## Offline answerer on the regression sets, by fusion mode", "",
             "One index of the seed articles; the synthetic column asks each of 30 generated articles about "
             "its unique accord code (hit = that article in the top 5).", "",
             "| fusion | set | key-fact accuracy | citation precision | citation recall | unanswerable abstained "
             "| answerable abstained | hit@1 | MRR@5 |", "|---|---|---|---|---|---|---|---|---|"]
    for fusion in ("relative_score", "reciprocal_rank"):
        for name in sets:
            m = quality[fusion][name]
            lines.append(f"| {fusion} | {name} | {m['key_fact_accuracy']:.3f} | {m['citation_precision']:.3f} | "
                         f"{m['citation_recall']:.3f} | {m['abstention_accuracy']:.3f} | {m['false_abstention_rate']:.3f} | "
                         f"{m['hit_rate@1']:.3f} | {m['mrr@5']:.3f} |")
    lines += ["", "| fusion | synthetic hit@5 (of 30) |", "|---|---|"]
    lines += [f"| {fusion} | {quality[fusion]['synthetic_hits_at_5']} |" for fusion in ("relative_score", "reciprocal_rank")]
    lines += ["", _calibration_markdown()]
    return "\n".join(lines)


def _calibration_markdown() -> str:
    """The abstention trade-off the fitted answerer was calibrated on (rag/answering/answer_model.json, written
    by `python -m benchmarks.fit_answerer`): threshold against both error rates, on both splits."""
    import json

    model = json.loads((ROOT / "rag" / "answer_model.json").read_text())
    lines = ["### Abstention calibration (from `python -m benchmarks.fit_answerer`)", "",
             f"Chosen threshold: {model['abstain_below']} (the fit split refuses at most "
             f"{model['max_refused']:.1%} of its answerable questions). Fitted on: " + ", ".join(model["fitted_on"]) + "; never fitted on: "
             + ", ".join(model["never_fitted_on"]) + ".", "",
             "| threshold | fit: answerable refused | fit: unanswerable abstained | held: answerable refused "
             "| held: unanswerable abstained |", "|---|---|---|---|---|"]
    for row in model["calibration"]:
        lines.append(f"| {row['threshold']:.2f} | {row['fit_answerable_refused']:.3f} | "
                     f"{row['fit_unanswerable_abstained']:.3f} | {row['held_answerable_refused']:.3f} | "
                     f"{row['held_unanswerable_abstained']:.3f} |")
    return "\n".join(lines) + "\n"


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0))


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench", description=__doc__)
    parser.add_argument("--docs", type=Path, default=ROOT / "seeds")
    parser.add_argument("--qa-file", type=Path, default=ROOT / "tests" / "regression" / "seed_qa.jsonl")
    parser.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument("--no-app", dest="app", action="store_false", help="leave out the browser timing")
    parser.add_argument("--no-bbc", dest="bbc", action="store_false", help="leave out the BBC corpus comparison")
    args = parser.parse_args()
    record = run_bench(args.docs, args.qa_file, ROOT / "benchmarks", app=args.app, bbc=args.bbc)
    report = markdown(record)
    args.output.write_text(report)
    print(report)
    print(f"Wrote {args.output} and benchmarks/bench.json")


if __name__ == "__main__":
    main()
