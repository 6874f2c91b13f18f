"""The Regression page: run a set, and read the result in one look — a verdict against the thresholds,
each measure in words with its change since the previous run, and the failed cases with what was
expected, what was answered and what was cited."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import streamlit as st

from rag import RagError

from .labels import answered_by
from .render import md_escape
from .settings import AppSettings

if TYPE_CHECKING:
    from rag import RAG

# Measure -> (words, unit): "rate" shown as a percentage, "ms" as milliseconds, "count" as a number.
MEASURES: dict[str, tuple[str, str]] = {
    "key_fact_accuracy": ("Answers holding every expected fact", "rate"),
    "citation_precision": ("Citations from an article that holds the answer", "rate"),
    "citation_recall": ("Answer sentences carrying a valid citation", "rate"),
    "abstention_accuracy": ("Unanswerable questions declined", "rate"),
    "false_abstention_rate": ("Answerable questions wrongly declined", "rate"),
    "hit_rate@1": ("Right passage ranked first", "rate"),
    "hit_rate@3": ("Right passage in the top 3", "rate"),
    "hit_rate@5": ("Right passage in the top 5", "rate"),
    "mrr@1": ("Rank score of the right passage, top 1 (MRR)", "score"),
    "mrr@3": ("Rank score of the right passage, top 3 (MRR)", "score"),
    "mrr@5": ("Rank score of the right passage, top 5 (MRR)", "score"),
    "latency_ms_median": ("Time per answer, median", "ms"),
    "latency_ms_p95": ("Time per answer, slowest 5%", "ms"),
    "llm_correctness_mean": ("Correctness judged by the model (1 to 5)", "score"),
    "llm_faithfulness_rate": ("Answers the model judged faithful to their quotes", "rate"),
    "check_sentences_kept": ("Model sentences kept by the citation check", "count"),
    "check_sentences_dropped": ("Model sentences dropped by the citation check", "count"),
    "check_markers_removed": ("Citation markers removed by the check", "count"),
    "fallbacks": ("Model failures answered offline instead", "count"),
}


def show_value(name: str, value: float) -> str:
    unit = MEASURES.get(name, ("", "score"))[1]
    if unit == "rate":
        return f"{value * 100:.0f}%"
    if unit == "ms":
        return f"{value:,.0f} ms"
    if unit == "count":
        return f"{value:.0f}"
    return f"{value:.2f}"


def show_change(name: str, now: float, before: float | None) -> str:
    if before is None:
        return "no previous run"
    delta = now - before
    unit = MEASURES.get(name, ("", "score"))[1]
    if unit == "rate":
        points = round(delta * 100)
        return "no change" if points == 0 else f"{points:+d} points"
    if unit == "ms":
        return f"{delta:+,.0f} ms"
    return "no change" if abs(delta) < 0.005 else f"{delta:+.2f}"


def measures_table(verdict: Any, thresholds: dict[str, float]) -> list[dict[str, str]]:
    """One row per measure, every cell text (so the table never mixes types)."""
    from rag.evaluation.runs import DIRECTION

    rows = []
    for name, (now, before) in verdict.deltas.items():
        bar = thresholds.get(name)
        if bar is None:
            target = ""
        else:
            lower_is_better = DIRECTION.get(name, +1) < 0
            met = now <= bar if lower_is_better else now >= bar
            target = (f"{'at most' if lower_is_better else 'at least'} {show_value(name, bar)}: "
                      f"{'met' if met else 'MISSED'}")
        if name in verdict.regressions:
            target = (target + "; " if target else "") + "worse than the previous run"
        rows.append({"Measure": MEASURES.get(name, (name, ""))[0], "This run": show_value(name, now),
                     "Change since the previous run": show_change(name, now, before), "Target": target})
    return rows


def why_failed(result: dict[str, Any]) -> str:
    if not result["answerable"]:
        return "It should have been declined (the articles don't answer it), but it was answered."
    if result["abstained"]:
        return "It was declined, though the articles answer it."
    if result.get("key_facts_ok") is False:
        return "The answer misses an expected fact."
    return "A citation points to an article that does not hold the answer."


def failure_summary(results: list[dict[str, Any]]) -> str:
    failed = [r for r in results if not r["passed"]]
    reasons: dict[str, int] = {}
    for r in failed:
        reasons[why_failed(r)] = reasons.get(why_failed(r), 0) + 1
    parts = [f"{count} × {reason.rstrip('.').lower()}" for reason, count in reasons.items()]
    return f"{len(failed)} of {len(results)} cases failed" + (": " + "; ".join(parts) if parts else "") + "."


def regression_view(bot: RAG, options: dict[str, Any]) -> None:
    settings = AppSettings()
    folder = settings.eval_sets()
    files = sorted([*folder.glob("*.jsonl"), *folder.glob("*.json")]) if folder and folder.is_dir() else []
    if not files:
        st.info(md_escape("No regression sets to run. Set RAG_EVAL_SETS_DIR to a folder of .jsonl sets "
                          "(the format `rag eval` reads)."))
        return
    chosen = st.selectbox("Set", files, format_func=lambda p: p.name, key="qa_file")
    if st.button("Run", key="run_eval", type="primary"):
        _run(bot, chosen, options["answerer"], settings.runs_dir)
    shown = st.session_state.get("eval_result")
    if shown and shown["qa_file"] == str(chosen):
        _show(shown, bot)


def _run(bot: RAG, qa_file: Path, answerer: str, runs_dir: Path) -> None:
    from rag.evaluation.harness import KS, load_cases, run_cases
    from rag.evaluation.runs import (
        DEFAULT_THRESHOLDS,
        DEFAULT_TOLERANCE,
        assess,
        latest_record,
        make_record,
        save_record,
    )

    try:
        cases = load_cases(qa_file)
    except RagError as exc:
        st.error(md_escape(str(exc)))
        return
    bar = st.progress(0.0, text="Asking…")
    try:
        metrics, results = run_cases(
            bot, cases, top_k=max(KS), answerer=answerer,
            progress=lambda done, total: bar.progress(done / total, text=f"Asked {done} of {total}"))
    except RagError as exc:
        st.error(md_escape(str(exc)))
        return
    finally:
        bar.empty()
    record = make_record(metrics, results, qa_file=qa_file, settings=bot.settings.public_dict(),
                         answerer=answerer, k=max(KS))
    previous = latest_record(runs_dir, qa_file)
    before = json.loads(previous.read_text()) if previous else None
    verdict = assess(record, DEFAULT_THRESHOLDS, before, DEFAULT_TOLERANCE, previous.name if previous else None)
    save_record(record, runs_dir)
    st.session_state.eval_result = {
        "qa_file": str(qa_file), "record": record, "verdict": verdict, "thresholds": DEFAULT_THRESHOLDS,
        "previous_created": before["created"] if before else None,
        "facts": {c.id: c.key_facts for c in cases},
    }


def _show(shown: dict[str, Any], bot: RAG) -> None:
    record, verdict = shown["record"], shown["verdict"]
    results = record["cases"]
    if verdict.failed:
        missed = [MEASURES.get(m, (m, ""))[0].lower() for m in (*verdict.below_threshold, *verdict.regressions)]
        st.error(md_escape(f"Failed: {'; '.join(dict.fromkeys(missed))}."), icon=":material/cancel:")
    else:
        st.success("Passed: every measure meets its target and none is worse than the previous run.",
                   icon=":material/check_circle:")
    compared = (f"Compared with the previous run of {Path(shown['qa_file']).name} ({shown['previous_created']})."
                if shown["previous_created"] else "No previous run of this set to compare with.")
    st.caption(md_escape(f"{len(results)} questions, answered by {answered_by(record['answerer'])}. {compared}"))
    st.table(measures_table(verdict, shown["thresholds"]))
    if verdict.flipped:
        st.warning(md_escape(f"Passed before, fail now: {', '.join(verdict.flipped)}"))
    failed = [r for r in results if not r["passed"]]
    st.subheader(f"Failed cases ({len(failed)})")
    st.caption(md_escape(failure_summary(results)))
    titles = {a.get("source"): a.get("title") for a in bot.articles()}
    for r in failed:
        with st.expander(md_escape(f"{r['id']}: {r['question']}")):
            st.markdown(md_escape(why_failed(r)))
            facts = shown["facts"].get(r["id"]) or []
            found = r.get("key_facts_found") or [False] * len(facts)
            if facts:
                st.markdown("**Expected facts**  \n" + "  \n".join(
                    f"{':material/check:' if ok else ':material/close:'} {md_escape(' or '.join(group))}"
                    for group, ok in zip(facts, found)))
            elif not r["answerable"]:
                st.markdown("**Expected:** the question declined.")
            st.markdown("**Answer**  \n" + md_escape(r["answer"]))
            for c in r["citations"]:
                st.caption(md_escape(f"[{c['n']}] {titles.get(c['source']) or c['source']}: “{c['quote']}”"))
