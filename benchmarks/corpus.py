"""The BBC corpus (2,225 real articles) side by side with the LlamaIndex quickstart, in one run.

Each ingest runs in its own process, so peak RSS is per process:
    python -m benchmarks.corpus ingest ours|quickstart DOCS PERSIST QA_FILE   (prints one JSON line)
    python -m benchmarks.corpus latency DOCS PERSIST QA_FILE                 (prints one JSON line)

The quickstart is `SimpleDirectoryReader(recursive=True)` -> `VectorStoreIndex.from_documents` on Chroma,
with the same MiniLM weights through llama-index's HuggingFaceEmbedding (torch, its defaults), and
its retriever at top 5. Retrieval is scored with `rag eval`'s relevance rule (key fact in a passage
from a source article), hit@5 over the answerable questions of the dev set.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from rag.evaluation.cases import load_cases
from rag.evaluation.metrics import is_relevant

ROOT = Path(__file__).resolve().parent.parent
BBC_DOCS = ROOT.parent / "shared" / "corpora" / "bbc"
BBC_QA = ROOT.parent / "shared" / "corpora" / "bbc_dev_qa.jsonl"
MIN_ASKS = 200
THREADS = 8


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _answerable(qa_file: Path):
    return [c for c in load_cases(qa_file) if c.answerable]


def ingest_ours(docs: Path, persist: Path, qa_file: Path) -> dict[str, Any]:
    from rag.engine import RAG
    from rag.models.embedder import Embedder

    Embedder().embed(["warm up", "the model is loaded before the clock starts"])
    bot = RAG(docs_dir=docs, persist_dir=persist)
    started = time.perf_counter()
    report = bot.ingest()
    seconds = time.perf_counter() - started
    cases = _answerable(qa_file)
    hits = sum(any(is_relevant(p.source, p.text, c) for p in bot.retrieve(c.question, top_k=5)) for c in cases)
    return {"ingest_s": seconds, "articles": len(report.added), "failed": len(report.failed),
            "decoded": [d.model_dump() for d in report.decoded], "chunks": report.chunks,
            "hit_at_5": hits / len(cases), "questions": len(cases), "peak_rss_mb": peak_rss_mb()}


def ingest_quickstart(docs: Path, persist: Path, qa_file: Path) -> dict[str, Any]:
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from llama_index.core import Settings as LlamaSettings
    from llama_index.core import SimpleDirectoryReader, StorageContext, VectorStoreIndex
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    from llama_index.vector_stores.chroma import ChromaVectorStore

    from rag.models.embedder import model_path

    LlamaSettings.llm = None  # retrieval only: don't resolve OpenAI
    embed_model = HuggingFaceEmbedding(model_name=str(model_path()), device="cpu")
    embed_model.get_text_embedding_batch(["warm up", "the model is loaded before the clock starts"])
    client = chromadb.PersistentClient(path=str(persist), settings=ChromaSettings(anonymized_telemetry=False))
    collection = client.get_or_create_collection("quickstart", embedding_function=None)
    store = ChromaVectorStore(chroma_collection=collection)
    started = time.perf_counter()
    documents = SimpleDirectoryReader(str(docs), recursive=True).load_data()
    index = VectorStoreIndex.from_documents(documents, storage_context=StorageContext.from_defaults(vector_store=store),
                                            embed_model=embed_model)
    seconds = time.perf_counter() - started
    retriever = index.as_retriever(similarity_top_k=5)
    cases = _answerable(qa_file)
    hits = 0
    for case in cases:
        nodes = retriever.retrieve(case.question)
        hits += any(is_relevant(_quickstart_source(n.node.metadata, docs), n.node.get_content(), case) for n in nodes)
    return {"ingest_s": seconds, "articles": len(documents), "chunks": collection.count(),
            "hit_at_5": hits / len(cases), "questions": len(cases), "peak_rss_mb": peak_rss_mb()}


def _quickstart_source(metadata: dict[str, Any], docs: Path) -> str:
    # The dev set names sources relative to the corpus folder ("sport/199.txt").
    path = metadata.get("file_path") or metadata.get("file_name", "")
    try:
        return Path(path).resolve().relative_to(docs.resolve()).as_posix()
    except ValueError:
        return str(path)


def latency(docs: Path, persist: Path, qa_file: Path) -> dict[str, Any]:
    """Warm ask() idle and beside a CPU-bound process pinned to one core; 8 threads through one RAG."""
    from rag.engine import RAG

    bot = RAG(docs_dir=docs, persist_dir=persist)
    questions = [c.question for c in load_cases(qa_file)]
    bot.warm_up()
    bot.ask(questions[0])
    out: dict[str, Any] = {"idle": _asks(bot, questions)}
    hog = _cpu_hog()
    try:
        time.sleep(0.5)
        out["one_core_busy"] = _asks(bot, questions)
    finally:
        hog.kill()
        hog.wait()
    out["threads"] = _threads(bot, questions)
    return out


def _asks(bot, questions: list[str]) -> dict[str, float]:
    latencies, stages = [], {"embed_ms": [], "retrieve_ms": [], "answer_ms": []}
    while len(latencies) < MIN_ASKS:
        for q in questions:
            t = time.perf_counter()
            answer = bot.ask(q)
            latencies.append((time.perf_counter() - t) * 1000)
            for key in stages:
                stages[key].append(answer.timings.get(key, 0.0))
    latencies.sort()
    return {"asks": len(latencies), "median_ms": statistics.median(latencies),
            "p95_ms": latencies[int(0.95 * (len(latencies) - 1))],
            **{f"{key}_median": statistics.median(v) for key, v in stages.items()}}


def _cpu_hog() -> subprocess.Popen:
    """A competing CPU-bound process on core 0 (the benchmark stops it itself)."""
    return subprocess.Popen([sys.executable, "-c", "import os\nos.sched_setaffinity(0, {0})\nwhile True: pass"])


def _threads(bot, questions: list[str]) -> dict[str, float]:
    batch = (questions * (MIN_ASKS // len(questions) + 1))[:MIN_ASKS]
    started = time.perf_counter()
    for q in batch:
        bot.ask(q)
    one = len(batch) / (time.perf_counter() - started)
    errors: list[BaseException] = []
    lock = threading.Lock()

    def ask(q: str) -> None:
        try:
            bot.ask(q)
        except BaseException as exc:  # counted and reported: a benchmark must not hide a failure
            with lock:
                errors.append(exc)

    started = time.perf_counter()
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(ask, batch))
    many = len(batch) / (time.perf_counter() - started)
    return {"questions": len(batch), "one_thread_qps": one, f"{THREADS}_threads_qps": many,
            "ratio": many / one, "errors": len(errors)}


BBC_EXTRA_QA = ROOT / "benchmarks" / "qa" / "bbc_extra_qa.jsonl"
ANSWER_BARS = {"key_fact_accuracy": (">=", 0.75), "abstention_accuracy": (">=", 0.80),
               "false_abstention_rate": ("<=", 0.05), "citation_precision": (">=", 0.90)}


def answer_quality(docs: Path, persist: Path, qa_files: list[Path]) -> dict[str, Any]:
    """`rag eval`'s figures for the offline answerer over the whole corpus, per set and per split of
    benchmarks/fit_answerer.py (fit: the answerer's weights saw these questions; held: never)."""
    from benchmarks.fit_answerer import split_of
    from rag.engine import RAG
    from rag.evaluation.harness import run_cases

    bot = RAG(docs_dir=docs, persist_dir=persist)
    out: dict[str, Any] = {}
    for qa_file in qa_files:
        cases = load_cases(qa_file)
        results = run_cases(bot, cases).results
        by_id = {r.id: r for r in results}
        from rag.evaluation.metrics import summarize

        out[qa_file.name] = {"all": summarize(results)}
        for split in ("fit", "held"):
            part = [by_id[c.id] for c in cases if split_of(c, False) == split]
            out[qa_file.name][split] = summarize(part) | {"questions": len(part)}
        out[qa_file.name]["all"]["questions"] = len(results)
    return out


def answers_markdown(quality: dict[str, Any]) -> str:
    lines = ["## The offline answerer on the BBC questions, over all 2,225 articles", "",
             "Every question asked against the whole corpus (`rag eval`'s metrics). *fit*: the half of the "
             "questions (split by source article) whose candidate sentences fitted the answerer's weights; "
             "*held*: the half it never saw. Bars from the answers issue: key facts ≥ 0.75, unanswerable "
             "abstained ≥ 0.80, answerable refused ≤ 0.05, citation precision ≥ 0.90.", "",
             "| set | split | questions | key-fact accuracy | unanswerable abstained | answerable refused "
             "| citation precision | latency median (ms) |", "|---|---|---|---|---|---|---|---|"]
    for name, parts in quality.items():
        for split in ("all", "fit", "held"):
            m = parts[split]
            lines.append(f"| {name} | {split} | {m['questions']} | {m['key_fact_accuracy']:.3f} | "
                         f"{m['abstention_accuracy']:.3f} | {m['false_abstention_rate']:.3f} | "
                         f"{m['citation_precision']:.3f} | {m.get('latency_ms_median', 0):.0f} |")
    return "\n".join(lines) + "\n"


def run_child(*args: str, timeout: float = 3600) -> dict[str, Any]:
    """Run `python -m benchmarks.corpus ARGS` in a new process; its last output line is JSON."""
    result = subprocess.run([sys.executable, "-m", "benchmarks.corpus", *args], cwd=ROOT, capture_output=True,
                            text=True, timeout=timeout, env=os.environ | {"PYTHONPATH": str(ROOT)})
    if result.returncode != 0:
        raise RuntimeError(f"benchmarks.corpus {' '.join(args)} failed: {result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def compare(work: Path, docs: Path = BBC_DOCS, qa_file: Path = BBC_QA) -> dict[str, Any]:
    """Both ingests (quickstart first, then ours, each in its own process), then latency on our index."""
    if not docs.is_dir() or not qa_file.exists():
        return {"skipped": f"the BBC corpus is not at {docs} (with {qa_file.name} beside it)"}
    theirs = run_child("ingest", "quickstart", str(docs), str(work / "bbc-quickstart"), str(qa_file))
    ours = run_child("ingest", "ours", str(docs), str(work / "bbc-ours"), str(qa_file))
    lat = run_child("latency", str(docs), str(work / "bbc-ours"), str(qa_file))
    answers = run_child("answers", str(docs), str(work / "bbc-ours"), str(qa_file),
                        *([str(BBC_EXTRA_QA)] if BBC_EXTRA_QA.exists() else []))
    return {"docs": str(docs), "qa_file": str(qa_file), "ours": ours, "quickstart": theirs, "latency": lat,
            "answers": answers,
            "ratios": {"ingest_s": ours["ingest_s"] / theirs["ingest_s"],
                       "peak_rss_mb": ours["peak_rss_mb"] / theirs["peak_rss_mb"],
                       "hit_at_5": ours["hit_at_5"] / theirs["hit_at_5"] if theirs["hit_at_5"] else None}}


def markdown(bbc: dict[str, Any]) -> str:
    head = "## The BBC corpus side by side with the LlamaIndex quickstart (one run)\n\n"
    if "skipped" in bbc:
        return f"{head}Not measured: {bbc['skipped']}.\n"
    ours, theirs, r, lat = bbc["ours"], bbc["quickstart"], bbc["ratios"], bbc["latency"]
    th = lat["threads"]
    return (
        f"{head}`{bbc['docs']}` ({ours['articles']} articles ingested by us, {theirs['articles']} documents read by "
        f"the quickstart), questions: the {ours['questions']} answerable ones of `{Path(bbc['qa_file']).name}`. "
        "Each ingest ran in its own process into an empty index, model loaded before the clock started.\n\n"
        "| | ours | quickstart | ours / quickstart |\n|---|---|---|---|\n"
        f"| ingest (s) | {ours['ingest_s']:.1f} | {theirs['ingest_s']:.1f} | {r['ingest_s']:.2f} |\n"
        f"| peak RSS of the process (MB) | {ours['peak_rss_mb']:.0f} | {theirs['peak_rss_mb']:.0f} | "
        f"{r['peak_rss_mb']:.2f} |\n"
        f"| chunks | {ours['chunks']} | {theirs['chunks']} | |\n"
        f"| key fact in the top 5 passages | {ours['hit_at_5']:.3f} | {theirs['hit_at_5']:.3f} | "
        f"{r['hit_at_5']:.2f} |\n\n"
        f"Files decoded from another charset: {', '.join(d['file'] + ' (' + d['note'] + ')' for d in ours['decoded']) or 'none'}.\n\n"
        f"Warm `ask()` on our BBC index (offline extractive answerer, {lat['idle']['asks']} asks over the dev "
        "questions after a warm-up; target median ≤ 50 ms):\n\n"
        "| machine | median (ms) | p95 (ms) | embed median (ms) | retrieve median (ms) | answer median (ms) |\n"
        "|---|---|---|---|---|---|\n" + "".join(
            f"| {name} | {m['median_ms']:.1f} | {m['p95_ms']:.1f} | {m['embed_ms_median']:.1f} | "
            f"{m['retrieve_ms_median']:.1f} | {m['answer_ms_median']:.1f} |\n"
            for name, m in (("as it was", lat["idle"]),
                            ("with a CPU-bound process pinned to core 0", lat["one_core_busy"]))) +
        f"\n{THREADS} threads asking at once through one `RAG`: {th[f'{THREADS}_threads_qps']:.1f} questions/s vs "
        f"{th['one_thread_qps']:.1f} with one thread (×{th['ratio']:.2f}; {th['errors']} errors in "
        f"{th['questions']} questions).\n\n" + CHOICES + "\n"
        + (answers_markdown(bbc["answers"]) if "answers" in bbc else ""))


# Measured once, by hand, when the choices were made (not rerun by `make bench`).
CHOICES = """How the ingest was made faster, and what was measured before choosing (300-article BBC subset
holding every dev-set source, 138 answerable questions, 2 shared cores under a load of 7-10):

- The model runs in ONNX Runtime (fp32, exported from the packaged weights; cosine to sentence-transformers
  ≥ 0.99999 on the check texts). A question imports no torch.
- Chunk vectors are the length-weighted mean of their sentences' vectors instead of a second pass over
  every chunk: key fact in the top 5 for 136/138 questions (0.986) vs 137/138 (0.993) embedding chunks
  whole; ingest 184 s vs 371 s. On the whole corpus (2,226 files): 131/138 (0.949) vs 133/138 (0.964)
  embedding chunks whole, whose ingest took 1,343 s against 490 s (separate runs, load 3-8). Neither
  reaches 0.97 on this revision; the whole-chunk pass costs 2.7x the ingest for two questions.
- Chroma writes go in groups of 16 articles: the 300 articles' writes took 10.8 s instead of 80.7 s
  (900 per-article upserts at ~71 ms each).
- int8 dynamic quantization (MatMuls, per channel) was measured and NOT adopted: same hit@5 on the subset
  (0.986) and ~1.4-3x faster embedding, but activations are quantized per batch, so a text's vector
  depends on the other texts in its batch (cosine 0.96-0.99 between the same sentence embedded alone and
  in a batch) and fell to 0.968 vs the reference on the check texts: stored and query vectors would
  disagree in a way no threshold calibration can follow.
- Intra-op threads: 1 for a question; at ingest, the cores not busy when it starts (400 sentences took
  13.2 s on one thread and 15.4 s on two under a load of 9).
"""


def main() -> None:
    command, *args = sys.argv[1:]
    if command == "ingest":
        which, docs, persist, qa_file = args
        run = {"ours": ingest_ours, "quickstart": ingest_quickstart}[which]
        print(json.dumps(run(Path(docs), Path(persist), Path(qa_file))))
    elif command == "answers":
        docs, persist, *qa_files = args
        print(json.dumps(answer_quality(Path(docs), Path(persist), [Path(q) for q in qa_files])))
    elif command == "latency":
        docs, persist, qa_file = args
        print(json.dumps(latency(Path(docs), Path(persist), Path(qa_file))))
    else:
        sys.exit(f"unknown command {command!r}")


if __name__ == "__main__":
    main()
