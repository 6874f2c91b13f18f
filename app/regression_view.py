"""The Regression page: run a set, and read the result in one look — a verdict against the thresholds,
each measure in words with its change since the previous run, and the failed cases with what was
expected, what was answered and what was cited. Before a run it says what the chosen set is (a held-out
set is known to be harder) and the targets it is held to, so a known limit never reads as a broken install."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import streamlit as st

from rag import RagError
from rag.evaluation.results import CaseResult
from rag.evaluation.runs import DIRECTION, Verdict

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


def target_words(name: str, bar: float) -> str:
    return f"{'at most' if DIRECTION.get(name, +1) < 0 else 'at least'} {show_value(name, bar)}"


def measures_table(verdict: Verdict, thresholds: dict[str, float]) -> list[dict[str, str]]:
    """One row per measure, every cell text (so the table never mixes types)."""
    rows = []
    for name, (now, before) in verdict.deltas.items():
        bar = thresholds.get(name)
        if bar is None:
            target = ""
        else:
            met = now <= bar if DIRECTION.get(name, +1) < 0 else now >= bar
            target = f"{target_words(name, bar)}: {'met' if met else 'MISSED'}"
        if name in verdict.regressions:
            target = (target + "; " if target else "") + "worse than the previous run"
        rows.append({"Measure": MEASURES.get(name, (name, ""))[0], "This run": show_value(name, now),
                     "Change since the previous run": show_change(name, now, before), "Target": target})
    return rows


def why_failed(result: CaseResult) -> str:
    if not result.answerable:
        return "It should have been declined (the articles don't answer it), but it was answered."
    if result.abstained:
        return "It was declined, though the articles answer it."
    if result.key_facts_ok is False:
        return "The answer misses an expected fact."
    return "A citation points to an article that does not hold the answer."


def failure_summary(results: list[CaseResult]) -> str:
    failed = [r for r in results if not r.passed]
    reasons: dict[str, int] = {}
    for r in failed:
        reasons[why_failed(r)] = reasons.get(why_failed(r), 0) + 1
    parts = [f"{count} × {reason.rstrip('.').lower()}" for reason, count in reasons.items()]
    return f"{len(failed)} of {len(results)} cases failed" + (": " + "; ".join(parts) if parts else "") + "."


def set_explanation(qa_file: Path) -> str:
    """What the set is and the targets a run of it is held to, in words."""
    from rag.evaluation.sets import known_set, thresholds_for

    known = known_set(qa_file)
    if known is None:
        about = f"{qa_file.name} is not one of the project's sets, so the default targets apply."
    elif known.held_out:
        about = (f"{qa_file.name}: {known.about}. Known to be hard: its targets are lower than the defaults, "
                 "just under what a working install reaches. Missing them means a broken install or a "
                 "real regression, not a known limit.")
    else:
        about = f"{qa_file.name}: {known.about}."
    targets = "; ".join(f"{MEASURES.get(name, (name, ''))[0].lower()} {target_words(name, bar)}"
                        for name, bar in thresholds_for(qa_file).items())
    return f"{about} Targets: {targets}."


def regression_view(bot: RAG, options: dict[str, Any]) -> None:
    settings = AppSettings()
    folder = settings.eval_sets()
    files = sorted([*folder.glob("*.jsonl"), *folder.glob("*.json")]) if folder and folder.is_dir() else []
    if not files:
        st.info(md_escape("No regression sets to run. Set RAG_EVAL_SETS_DIR to a folder of .jsonl sets "
                          "(the format `rag eval` reads)."))
        return
    chosen = st.selectbox("Set", files, format_func=lambda p: p.name, key="qa_file")
    st.caption(md_escape(set_explanation(chosen)))
    if st.button("Run", key="run_eval", type="primary"):
        _run(bot, chosen, options["answerer"], settings.runs_dir)
    shown = st.session_state.get("eval_result")
    if shown and shown["qa_file"] == str(chosen):
        _show(shown, bot)


def _run(bot: RAG, qa_file: Path, answerer: str, runs_dir: Path) -> None:
    from rag.evaluation.regression import run_regression

    bar = st.progress(0.0, text="Asking…")
    try:
        run = run_regression(bot, qa_file, runs_dir=runs_dir, answerer=answerer,
                             progress=lambda done, total: bar.progress(done / total, text=f"Asked {done} of {total}"))
    except RagError as exc:
        st.error(md_escape(str(exc)))
        return
    finally:
        bar.empty()
    st.session_state.eval_result = {"qa_file": str(qa_file), "run": run}


def _show(shown: dict[str, Any], bot: RAG) -> None:
    run = shown["run"]
    record, verdict = run.record, run.verdict
    results = record.cases
    if verdict.failed:
        missed = [MEASURES.get(m, (m, ""))[0].lower() for m in (*verdict.below_threshold, *verdict.regressions)]
        st.error(md_escape(f"Failed: {'; '.join(dict.fromkeys(missed))}."), icon=":material/cancel:")
    else:
        st.success("Passed: every measure meets its target and none is worse than the previous run.",
                   icon=":material/check_circle:")
    compared = (f"Compared with the previous run of {Path(shown['qa_file']).name} ({run.baseline.created})."
                if run.baseline else "No previous run of this set to compare with.")
    st.caption(md_escape(f"{len(results)} questions, answered by {answered_by(record.answerer)}. {compared}"))
    st.table(measures_table(verdict, run.thresholds))
    if verdict.flipped:
        st.warning(md_escape(f"Passed before, fail now: {', '.join(verdict.flipped)}"))
    failed = [r for r in results if not r.passed]
    st.subheader(f"Failed cases ({len(failed)})")
    st.caption(md_escape(failure_summary(results)))
    titles = {a.get("source"): a.get("title") for a in bot.articles()}
    facts = {c.id: c.key_facts for c in run.cases}
    for r in failed:
        with st.expander(md_escape(f"{r.id}: {r.question}")):
            st.markdown(md_escape(why_failed(r)))
            expected = facts.get(r.id) or []
            found = r.key_facts_found or [False] * len(expected)
            if expected:
                st.markdown("**Expected facts**  \n" + "  \n".join(
                    f"{':material/check:' if ok else ':material/close:'} {md_escape(' or '.join(group))}"
                    for group, ok in zip(expected, found)))
            elif not r.answerable:
                st.markdown("**Expected:** the question declined.")
            st.markdown("**Answer**  \n" + md_escape(r.answer))
            for c in r.citations:
                st.caption(md_escape(f"[{c['n']}] {titles.get(c['source']) or c['source']}: “{c['quote']}”"))
