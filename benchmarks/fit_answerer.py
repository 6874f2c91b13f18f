"""Fit how the extractive answerer combines its signals, on data, and calibrate its decisions.

    make fit-answerer      # indexes the BBC corpus and the seeds under runs/, then fits with --write
    python -m benchmarks.fit_answerer --index BBC_INDEX --sets ../shared/corpora/bbc_dev_qa.jsonl ... \
        [--seed-index SEED_INDEX --seed-sets tests/regression/seed_qa.jsonl ...] [--held-sets ...] [--write]

Needs the `[fit]` extra (scipy, scikit-learn): `pip install '.[fit]'`; `make fit-answerer` installs it.

For every question of every set: retrieve the passages as `ask()` does, compute each candidate
sentence's features (rag.answering.extractive.FEATURES, the same code the answerer runs), and label the sentence
1 when its quote holds every key-fact group of the case. Then:

1. Split. A case belongs to the *fit* split or the *held* split by a hash of its first source
   article (of its id when it has none), so questions about one article never sit on both sides.
   Sets named with --held-sets are held whole. Nothing of the held split is used below.
2. Ranker: pairwise logistic regression (a sentence holding the answer against each one of the same
   question that does not), on standardised features, L2-regularised, each weight bounded to the
   sign RANKER_SIGNS allows; fitted with scipy's L-BFGS-B (`fit_logistic`). C is chosen by 5-fold
   cross-validation on the fit split's questions, maximising top-1 accuracy; the folds interleave the
   questions in the order they were collected (question i goes to fold i mod 5), so two questions about
   one article can sit in different folds.
3. Abstention: the same sign-bounded logistic regression (scipy, C fixed at 0.3) for P(the question is
   answered) from the question's features, with made near misses (the passages without the sentences
   holding the facts) weighing AUGMENT_WEIGHT and the classes balanced.
4. Short answers: scikit-learn's LogisticRegression (C=0.3) for P(a span of the cited quotes holds a key fact).
5. A grid search on the fit split for the decisions made with those probabilities: the margin under
   which a further sentence joins the answer (maximising key-fact accuracy while keeping citation
   precision), the abstention threshold (the largest that refuses at most `--max-refused` of the
   answerable questions, which then abstains on as many unanswerable ones as it can; the table
   threshold -> (answerable refused, unanswerable abstained) is printed for both splits and saved with
   the model), and the kinds of question that open with a short answer.
6. With --write, rag/answering/answer_model.json gets the weights, the decisions, the split, the figures,
   and what it was fitted with (`provenance`: git revision, library versions, sha256 of every question
   set and a digest of each index's articles), so a fit can be checked and repeated.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from benchmarks.provenance import provenance
from rag.answering.extractive import (
    FEATURES,
    QUESTION_FEATURES,
    SPAN_FEATURES,
    Analysis,
    AnswerModel,
    ExtractiveAnswerer,
    best_span,
    span_candidates,
)
from rag.evaluation.cases import EvalCase, load_cases
from rag.evaluation.metrics import facts_present, source_matches
from rag.index.keyword import KeywordIndex

ROOT = Path(__file__).resolve().parent.parent
AUGMENT_WEIGHT = 0.3  # weight of a made near miss in the abstention fit (a real one weighs 1)
# Not fitted (too few broad questions to fit on): a broad question is refused only when no retrieved
# sentence, read with its neighbours, holds a third of its key terms; overviews weigh relevance 0.7
# against repetition 0.3 (the usual MMR balance).
BROAD_MIN_COVERAGE = 0.34
MMR_LAMBDA = 0.7
MODEL_FILE = ROOT / "rag" / "answering" / "answer_model.json"


@dataclass
class Row:
    case: EvalCase
    set_name: str
    split: str
    analysis: Analysis  # candidates in retrieval order; features do not depend on the model
    labels: np.ndarray  # the quote holds every key-fact group
    any_fact: np.ndarray  # the quote holds at least one group

    @property
    def features(self) -> np.ndarray:
        return np.stack([c.features for c in self.analysis.candidates]) if self.analysis.candidates \
            else np.zeros((0, len(FEATURES)), np.float32)


def span_holds_fact(span: str, case: EvalCase) -> bool:
    """A short answer is right when it holds a key fact, or is the heart of one ("300" of "300 fans")."""
    low = span.casefold()
    return any(facts_present(span, case.key_facts)) or any(
        len(low) >= 3 and low in alt.casefold() for group in case.key_facts for alt in group)


def split_of(case: EvalCase, held_whole: bool) -> str:
    if held_whole:
        return "held"
    key = case.sources[0] if case.sources else case.id
    return "fit" if int(hashlib.sha1(key.encode()).hexdigest(), 16) % 2 == 0 else "held"


def blank_model() -> AnswerModel:
    return AnswerModel.blank(BROAD_MIN_COVERAGE, MMR_LAMBDA)


def keyword_index(index: Path) -> KeywordIndex:
    """The keyword index of `index` (its BM25 statistics weigh the question's terms)."""
    from rag import RAG

    extractive = RAG(persist_dir=str(index)).answerer("extractive")
    assert isinstance(extractive, ExtractiveAnswerer), "the registry's extractive answerer is ExtractiveAnswerer"
    return extractive.keyword


def reader(keyword: KeywordIndex, model: AnswerModel, max_sentences: int = 3) -> ExtractiveAnswerer:
    # Replaying `choose` and `best_span` on cached analyses never reads the keyword index; analysing does.
    return ExtractiveAnswerer(keyword, max_sentences=max_sentences, model=model)


def collect(index: Path, sets: list[Path], held: set[Path], top_k: int) -> list[Row]:
    from rag import RAG

    bot = RAG(persist_dir=str(index))
    probe = reader(bot.answerer("extractive").keyword, blank_model())
    rows: list[Row] = []
    for path in sets:
        for case in load_cases(path):
            e = bot.evidence(case.question, top_k=top_k)
            analysis = probe.analyse(case.question, e.embedding, e.passages, e.sentence_embeddings)
            facts = [facts_present(c.quote, case.key_facts) if case.answerable and case.key_facts else [False]
                     for c in analysis.candidates]
            rows.append(Row(case, path.name, split_of(case, path in held), analysis,
                            np.array([all(f) for f in facts], dtype=bool), np.array([any(f) for f in facts], dtype=bool)))
            print(f"\r{path.name}: {len(rows)} questions", end="", file=sys.stderr)
    print(file=sys.stderr)
    return rows


# Which way each signal may push (+1: more of it means more likely; -1: less; 0: either). A fitted
# weight against common sense (a clearer winner lowering the confidence) is an artefact of a small
# sample and would extrapolate wildly on questions unlike it, so the fit is bounded to these signs.
RANKER_SIGNS = {
    "dense": 1, "dense_gap": 1, "dense_neighbour": 0, "coverage": 1, "coverage_gap": 1, "coverage_window": 1,
    "novelty": 0, "has_date": 1, "has_number": 1, "has_name": 1, "has_quote": 1, "has_cause": 1,
    "kind_missing": -1, "passage_score": 1, "passage_rank": 1, "lead_sentence": 0, "position": 0, "length": 0,
    "anaphor": 0, "subject": 1, "bigram": 1,
}
QUESTION_SIGNS = {
    "top_score": 1, "score_gap": 1, "max_coverage": 1, "top_coverage": 1, "max_dense": 1, "top_dense": 1,
    "top_has_kind": 1, "kind_in_top3": 1, "unmatched": -1, "unmatched_rarest": -1, "factoid": 0,
    "top_missing": -1, "top_missing_rarest": -1, "top_not_yet": -1,
}


def fit_logistic(x: np.ndarray, y: np.ndarray, signs: list[int], c: float, intercept: bool = True,
                 sample_weight: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """L2-regularised logistic regression whose weights keep the given signs (scipy's L-BFGS-B)."""
    from scipy.optimize import minimize

    n, d = x.shape
    w8 = np.ones(n) if sample_weight is None else sample_weight
    target = 2 * y - 1

    def loss(theta):
        w, b = theta[:d], (theta[d] if intercept else 0.0)
        z = target * (x @ w + b)
        value = np.sum(w8 * np.logaddexp(0, -z)) + 0.5 / c * w @ w
        g = -w8 * target / (1 + np.exp(z))
        grad = np.concatenate([x.T @ g + w / c, [g.sum()] if intercept else []])
        return value, grad

    bounds = [(0, None) if s > 0 else (None, 0) if s < 0 else (None, None) for s in signs]
    bounds += [(None, None)] if intercept else []
    result = minimize(loss, np.zeros(d + intercept), jac=True, method="L-BFGS-B", bounds=bounds)
    return result.x[:d], float(result.x[d]) if intercept else 0.0


def fit_ranker(rows: list[Row]) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Pairwise logistic regression: a sentence holding the answer against each one of the same
    question that does not (so the scale of a question's similarities does not matter)."""
    train = [r for r in rows if r.split == "fit" and r.case.answerable and r.labels.any() and not r.labels.all()]
    signs = [RANKER_SIGNS[name] for name in FEATURES]
    x_all = np.concatenate([r.features for r in train])
    mean, scale = x_all.mean(axis=0), x_all.std(axis=0) + 1e-6

    def pairs(part: list[Row]) -> tuple[np.ndarray, np.ndarray]:
        diffs = []
        for r in part:
            z = (r.features - mean) / scale
            pos, neg = z[r.labels], z[~r.labels]
            diffs.append((pos[:, None, :] - neg[None, :, :]).reshape(-1, z.shape[1]))
        d = np.concatenate(diffs)
        return np.concatenate([d, -d]), np.concatenate([np.ones(len(d)), np.zeros(len(d))])

    def top1(weights: np.ndarray, part: list[Row]) -> float:
        return float(np.mean([r.labels[np.argmax(((r.features - mean) / scale) @ weights)] for r in part]))

    folds = [train[i::5] for i in range(5)]
    best_c, best = 1.0, -1.0
    for c in (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0):
        accuracy = []
        for k in range(5):
            rest = [r for j, f in enumerate(folds) if j != k for r in f]
            x, y = pairs(rest)
            w, _ = fit_logistic(x, y, signs, c, intercept=False)
            accuracy.append(top1(w, folds[k]))
        if np.mean(accuracy) > best + 1e-9:
            best_c, best = c, float(np.mean(accuracy))
    x, y = pairs(train)
    weights, _ = fit_logistic(x, y, signs, best_c, intercept=False)
    print(f"ranker: {len(train)} questions, {len(x) // 2} pairs; C={best_c}, 5-fold top-1 {best:.3f}, "
          f"fit top-1 {top1(weights, train):.3f}")
    return mean.astype(np.float32), scale.astype(np.float32), weights.astype(np.float32), best_c


def scored(row: Row, model: AnswerModel, drop: np.ndarray | None = None) -> Analysis:
    """The row's analysis scored by `model` (without the candidates `drop` marks)."""
    cands = [c for i, c in enumerate(row.analysis.candidates) if drop is None or not drop[i]]
    if cands:
        for c, s in zip(cands, model.scores(np.stack([c.features for c in cands]))):
            c.score = float(s)
        cands = sorted(cands, key=lambda c: c.score, reverse=True)
    return replace(row.analysis, candidates=cands, question=row.case.question)


def question_examples(rows: list[Row], model: AnswerModel, augment: bool) -> tuple[np.ndarray, np.ndarray]:
    """(question features, answered?) for the abstention model. With `augment`, each answerable
    question also yields a near miss: the same passages without the sentences holding its facts."""
    x, y = [], []
    for r in rows:
        if r.case.answerable and not r.labels.any():
            continue  # retrieval missed the facts: neither a clean positive nor a clean negative
        x.append(scored(r, model).question_features())
        y.append(1.0 if r.case.answerable else 0.0)
        if augment and r.case.answerable and r.any_fact.any() and not r.any_fact.all():
            x.append(scored(r, model, drop=r.any_fact).question_features())
            y.append(0.0)
    return np.stack(x), np.array(y)


def fit_abstention(rows: list[Row], model: AnswerModel, augment_weight: float = AUGMENT_WEIGHT,
                   c: float = 0.3) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:

    fit = [r for r in rows if r.split == "fit"]
    x, y = question_examples(fit, model, augment=False)
    xa, ya = question_examples(fit, model, augment=True)
    made = xa[len(x):] if len(xa) > len(x) else np.zeros((0, x.shape[1]), np.float32)
    # Made near misses are many but easier than real ones: they count for less.
    x_all = np.concatenate([x, made])
    y_all = np.concatenate([y, np.zeros(len(made))])
    weight = np.concatenate([np.ones(len(x)), np.full(len(made), augment_weight)])
    weight[y_all == 0] *= (y_all == 1).sum() / max(1e-9, weight[y_all == 0].sum())  # balance the classes
    mean, scale = x_all.mean(axis=0), x_all.std(axis=0) + 1e-6
    coef, bias = fit_logistic((x_all - mean) / scale, y_all, [QUESTION_SIGNS[n] for n in QUESTION_FEATURES], c,
                              sample_weight=weight)
    x, y = x_all, y_all
    print(f"abstention: {int(y.sum())} answered and {int((1 - y).sum())} unanswered examples "
          f"({sum(1 for r in rows if r.split == 'fit' and not r.case.answerable)} real near misses, the rest made "
          "by removing the answer's sentences)")
    return mean.astype(np.float32), scale.astype(np.float32), coef.astype(np.float32), bias


def fit_spans(rows: list[Row], model: AnswerModel,
              keyword: KeywordIndex) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Logistic regression: is this span of the cited quotes (one of) the key facts?"""
    from sklearn.linear_model import LogisticRegression

    answerer = reader(keyword, model)
    x, y = [], []
    for r in rows:
        if r.split != "fit" or not r.case.answerable or not r.labels.any():
            continue
        a = scored(r, model)
        if not a.shape.factoid:
            continue
        for _, text, f in span_candidates(answerer.choose(a.candidates), a.candidates, r.case.question):
            x.append(f)
            y.append(1.0 if span_holds_fact(text, r.case) else 0.0)
    x, y = np.stack(x), np.array(y)
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    lr = LogisticRegression(C=0.3, max_iter=3000).fit((x - mean) / scale, y)
    print(f"spans: {len(y)} spans of cited quotes, {int(y.sum())} hold a key fact")
    return mean.astype(np.float32), scale.astype(np.float32), lr.coef_[0].astype(np.float32), float(lr.intercept_[0])


def simulate(rows: list[Row], model: AnswerModel, keyword: KeywordIndex,
             max_sentences: int = 3) -> dict[str, float]:
    """What the answerer would do on these rows with `model`: the `rag eval` figures, from the cache."""
    answerer = reader(keyword, model, max_sentences)
    answerable = [r for r in rows if r.case.answerable]
    unanswerable = [r for r in rows if not r.case.answerable]
    correct = refused = abstained = cited = cited_ok = direct_n = direct_ok = 0
    for r in rows:
        a = scored(r, model)
        if not a.candidates:
            abstain = True
        elif a.shape.broad:
            abstain = max(c.features[FEATURES.index("coverage_window")] for c in a.candidates) < model.broad_abstain_below
        else:
            abstain = model.answered_probability(a.question_features()) < model.abstain_below
        if abstain:
            refused += r.case.answerable
            abstained += not r.case.answerable
            continue
        if not r.case.answerable:
            continue
        chosen = answerer.choose(a.candidates)
        text = " ".join(c.quote for c in chosen)
        if a.shape.kind in model.direct_kinds:
            d = best_span(chosen, a.candidates, r.case.question, model)
            if d is not None:
                direct_n += 1
                direct_ok += span_holds_fact(d[1], r.case)
        correct += all(facts_present(text, r.case.key_facts))
        for c in chosen:
            cited += 1
            cited_ok += source_matches(c.passage.source, r.case.sources)
    n_a, n_u = max(1, len(answerable)), max(1, len(unanswerable))
    return {"questions": len(rows), "answerable": len(answerable), "unanswerable": len(unanswerable),
            "key_fact_accuracy": correct / n_a, "answerable_refused": refused / n_a,
            "unanswerable_abstained": abstained / n_u, "citation_precision": cited_ok / max(1, cited),
            "direct_answers": direct_n, "direct_answer_right": direct_ok / max(1, direct_n)}


def calibrate_margin(rows: list[Row], model: AnswerModel, keyword: KeywordIndex) -> float:
    """The extra-sentence margin: best key-fact accuracy with citation precision >= 0.9, abstention off;
    of equally good margins the smallest (shorter answers)."""
    fit = [r for r in rows if r.split == "fit"]
    best = None
    for margin in np.arange(0.0, 4.01, 0.25):
        m = simulate(fit, replace(model, abstain_below=0.0, extra_margin=float(margin)), keyword)
        score = m["key_fact_accuracy"] - (0 if m["citation_precision"] >= 0.9 else 1)
        if best is None or score > best[0] + 1e-9:
            best = (score, float(margin))
    return best[1]


def calibrate(rows: list[Row], model: AnswerModel, max_refused: float,
              keyword: KeywordIndex) -> tuple[AnswerModel, list[dict]]:
    fit = [r for r in rows if r.split == "fit"]
    # 2. The abstention threshold: refuse at most `max_refused` of the fit split's answerable questions.
    table = []
    for t in np.arange(0.0, 1.0, 0.025):
        m_fit = simulate(fit, replace(model, abstain_below=float(t)), keyword)
        m_held = simulate([r for r in rows if r.split == "held"], replace(model, abstain_below=float(t)), keyword)
        table.append({"threshold": round(float(t), 3),
                      "fit_answerable_refused": round(m_fit["answerable_refused"], 3),
                      "fit_unanswerable_abstained": round(m_fit["unanswerable_abstained"], 3),
                      "held_answerable_refused": round(m_held["answerable_refused"], 3),
                      "held_unanswerable_abstained": round(m_held["unanswerable_abstained"], 3)})
    allowed = [row for row in table if row["fit_answerable_refused"] <= max_refused]
    chosen = max(allowed, key=lambda row: (row["fit_unanswerable_abstained"], -row["threshold"]))
    # Of the thresholds that abstain as often, the lowest: refusing an answerable question costs a
    # reader more than answering a near miss with quotes that visibly don't say it.
    plateau = [row["threshold"] for row in allowed
               if row["fit_unanswerable_abstained"] == chosen["fit_unanswerable_abstained"]]
    model = replace(model, abstain_below=round(float(min(plateau)), 3))
    # 3. Which kinds of question open with a short answer: those whose short answers on the fit split
    #    are right at least DIRECT_PRECISION of the time (a wrong short answer misleads more than none).
    kinds = sorted({r.analysis.shape.kind for r in fit if r.analysis.shape.factoid})
    direct_kinds = set()
    for kind in kinds:
        part = [r for r in fit if r.analysis.shape.kind == kind]
        m = simulate(part, replace(model, direct_kinds=frozenset({kind})), keyword)
        print(f"  short answers for {kind!r} questions: {m['direct_answers']} given, {m['direct_answer_right']:.2f} right")
        if m["direct_answers"] >= 5 and m["direct_answer_right"] >= DIRECT_PRECISION:
            direct_kinds.add(kind)
    return replace(model, direct_kinds=frozenset(direct_kinds)), table


DIRECT_PRECISION = 0.6
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--index", type=Path, required=True, help="index holding the articles of --sets")
    ap.add_argument("--sets", type=Path, nargs="+", required=True)
    ap.add_argument("--seed-index", type=Path, help="a second index (e.g. the seed articles) for --seed-sets")
    ap.add_argument("--seed-sets", type=Path, nargs="*", default=[])
    ap.add_argument("--held-sets", type=Path, nargs="*", default=[], help="sets never fitted on, whole")
    ap.add_argument("--top-k", type=int, default=5)
    ap.add_argument("--max-refused", type=float, default=0.025)
    ap.add_argument("--cache", type=Path, default=ROOT / "runs" / "fit_answerer.pkl")
    ap.add_argument("--reuse", action="store_true", help="reuse the cached candidates instead of retrieving again")
    ap.add_argument("--write", action="store_true", help=f"write {MODEL_FILE.relative_to(ROOT)}")
    args = ap.parse_args(argv)
    held = set(args.held_sets)
    # Taken before anything is read, so it names the code and data the fit started from.
    made_from = provenance(argv if argv is not None else sys.argv[1:],
                           [*args.sets, *args.seed_sets, *sorted(held)], [p for p in (args.index, args.seed_index) if p])

    if args.reuse and args.cache.exists():
        rows = pickle.loads(args.cache.read_bytes())
    else:
        rows = collect(args.index, [*args.sets, *[p for p in held if p not in args.seed_sets]], held, args.top_k)
        if args.seed_index:
            rows += collect(args.seed_index, args.seed_sets, held, args.top_k)
        args.cache.parent.mkdir(parents=True, exist_ok=True)
        args.cache.write_bytes(pickle.dumps(rows))

    mean, scale, weights, c = fit_ranker(rows)
    model = replace(blank_model(), mean=mean, scale=scale, weights=weights, extra_margin=1.0)
    q_mean, q_scale, q_weights, q_bias = fit_abstention(rows, model)
    model = replace(model, q_mean=q_mean, q_scale=q_scale, q_weights=q_weights, q_bias=q_bias)
    keyword = keyword_index(args.index)
    model = replace(model, extra_margin=calibrate_margin(rows, model, keyword))
    s_mean, s_scale, s_weights, s_bias = fit_spans(rows, model, keyword)
    model = replace(model, span_mean=s_mean, span_scale=s_scale, span_weights=s_weights, span_bias=s_bias)
    model, table = calibrate(rows, model, args.max_refused, keyword)
    print("ranker weights:", ", ".join(f"{n}={w:+.2f}" for n, w in zip(FEATURES, weights)))
    print("abstention weights:", ", ".join(f"{n}={w:+.2f}" for n, w in zip(QUESTION_FEATURES, q_weights)))
    print("span weights:", ", ".join(f"{n}={w:+.2f}" for n, w in zip(SPAN_FEATURES, model.span_weights)))
    print(f"extra_margin={model.extra_margin} abstain_below={model.abstain_below} "
          f"direct_kinds={sorted(model.direct_kinds)}")
    report = {}
    for split in ("fit", "held"):
        for set_name in sorted({r.set_name for r in rows}):
            part = [r for r in rows if r.split == split and r.set_name == set_name]
            if part:
                report[f"{split}:{set_name}"] = {k: round(v, 3) for k, v in simulate(part, model, keyword).items()}
    for name, m in report.items():
        print(f"{name:34} " + " ".join(f"{k}={v}" for k, v in m.items()))
    print("threshold  fit: refused abstained   held: refused abstained")
    for row in table:
        print(f"  {row['threshold']:.3f}        {row['fit_answerable_refused']:.3f}   {row['fit_unanswerable_abstained']:.3f}"
              f"          {row['held_answerable_refused']:.3f}   {row['held_unanswerable_abstained']:.3f}")
    if args.write:
        MODEL_FILE.write_text(json.dumps({
            "about": "Fitted by benchmarks/fit_answerer.py; see its docstring. Do not edit by hand.",
            "features": list(FEATURES), "mean": mean.tolist(), "scale": scale.tolist(), "weights": weights.tolist(),
            "C": c, "extra_margin": model.extra_margin,
            "question_features": list(QUESTION_FEATURES), "q_mean": q_mean.tolist(), "q_scale": q_scale.tolist(),
            "q_weights": q_weights.tolist(), "q_bias": q_bias, "abstain_below": model.abstain_below,
            "span_features": list(SPAN_FEATURES), "span_mean": model.span_mean.tolist(),
            "span_scale": model.span_scale.tolist(), "span_weights": model.span_weights.tolist(),
            "span_bias": model.span_bias, "direct_kinds": sorted(model.direct_kinds),
            "max_refused": args.max_refused,
            "broad_abstain_below": model.broad_abstain_below, "mmr_lambda": model.mmr_lambda,
            "fitted_on": sorted({f"{r.set_name} (fit split)" for r in rows if r.split == "fit"}),
            "never_fitted_on": sorted({f"{r.set_name} (held split)" for r in rows if r.split == "held"}),
            "figures": report, "calibration": table,
            "provenance": made_from,
        }, indent=1) + "\n")
        print(f"wrote {MODEL_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
