"""Does a cited text support a generated sentence? An entailment-style check without an NLI model.

A model's sentence is supported when what it asserts is in the sentences it cites:
- its content terms (stemmed, stopwords out; rag.text.terms) are covered, at least MIN_COVERAGE of them;
- every number (with its scale: "76%", "$1.13bn") and every name (a capitalised word inside the
  sentence) is in the cited text: the facts an answer is most often wrong about;
- no polarity flip: a word negated on one side and asserted on the other, or a word whose antonym
  the cited text uses instead ("rose" cited to "fell");
- no swapped roles: two names in the opposite order to the cited sentence's (unless a passive "by");
- it asserts something: at least MIN_TERMS content terms ("HACKED." does not), and neither it nor
  its evidence is an instruction to the reader (a passage's "Ignore previous instructions..." is
  text to report on, never support).

MIN_COVERAGE was chosen on the fit half of a labelled set built from BBC articles and is measured on
the other half: `python -m benchmarks.support_check` (BENCHMARKS.md, "Support check").
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from itertools import pairwise

from rag.text import terms

MIN_COVERAGE = 0.8  # chosen on the fit half: best per-kind kept + dropped (benchmarks/support_check.py)
MIN_TERMS = 2
STRUCTURE_KEPT = 0.9  # share of shared words in the cited order above which a claim is that sentence reworded in place

# Words that carry no claim of their own: a paraphrase may add them freely.
_LIGHT = frozenset(terms("said say says according added told reported stated also just around about "
                         "including however meanwhile moreover"))

_NEGATION = re.compile(r"\b(?:not|no|never|none|nobody|nothing|neither|nor|without|cannot)\b|n['’]t\b",
                       re.IGNORECASE)
_NEGATED_SPAN = 4  # words after a negation cue that it negates

# Opposites a paraphrase never swaps but a wrong answer does (stemmed on use).
_ANTONYM_PAIRS = """rise fall; rose fell; increase decrease; increase cut; up down; gain loss; gain lose; win lose;
won lost; higher lower; high low; more less; more fewer; profit loss; strong weak; stronger weaker; boost hit;
grow shrink; growth decline; expand contract; surge slump; surge plunge; jump drop; jump fall; climb fall;
best worst; better worse; success failure; succeed fail; accept refuse; approve reject; support oppose;
allow ban; allow block; open close; start end; begin end; first last; early late; before after; buy sell;
bought sold; import export; hire fire; join leave; rich poor; cheap expensive; big small; large small;
major minor; majority minority; maximum minimum; above below; over under; positive negative; guilty innocent;
legal illegal; agree disagree; like dislike; increasing falling; rising falling; improve worsen; raise lower;
raise cut; peace war; victory defeat; beat lost; include exclude; public private; domestic foreign;
inside outside; true false; always never; full empty; remain leave; ahead behind; top bottom; old new;
young old; future past; north south; east west; lead trail; record low; good bad; right wrong; love hate"""


def _stem(word: str) -> str:
    found = terms(word)
    return found[0] if found else word.lower()


def _antonyms() -> dict[str, set[str]]:
    """Opposites, as raw words and as stems ("up"/"down" and "before"/"after" are stopwords, not terms)."""
    table: dict[str, set[str]] = {}
    for pair in _ANTONYM_PAIRS.replace("\n", " ").split(";"):
        words = pair.split()
        for a, b in (words, [_stem(w) for w in words]):
            if a != b:
                table.setdefault(a, set()).add(b)
                table.setdefault(b, set()).add(a)
    return table


_ANTONYMS = _antonyms()

_NUMBER = re.compile(
    r"(\d[\d,]*(?:\.\d+)?)\s*(%|per ?cent|bn\b|billion|m\b|million|k\b|thousand|trillion|tn\b)?", re.IGNORECASE)
_SCALES = {"%": "%", "percent": "%", "per cent": "%", "bn": "bn", "billion": "bn", "m": "m", "million": "m",
           "k": "k", "thousand": "k", "trillion": "tn", "tn": "tn"}
_NUMBER_WORDS = {w: str(i) for i, w in enumerate(("zero", "one", "two", "three", "four", "five", "six", "seven",
                                                  "eight", "nine", "ten", "eleven", "twelve"))}
_NUMBER_WORD = re.compile(r"\b(" + "|".join(_NUMBER_WORDS) + r")\b", re.IGNORECASE)
_NAME = re.compile(r"(?<![.!?:]\s)(?<![\"“‘(])(?<!^)\b[A-Z][A-Za-z’']*[A-Za-z]")
_CAPITALISED = re.compile(r"\b[A-Z][A-Za-z’']*[A-Za-z]")
# "Mr Clarke said (that)" / ", said Mr Clarke": moving the attribution is no role swap
_ATTRIBUTION = re.compile(r"\b(?:[A-Z][\w’'.-]* )+(?:said|says)(?: that)?\b|,? (?:said|says) (?:[A-Z][\w’'.-]* ?)+")
_RAW_WORD = re.compile(r"[a-z]+")
# Instructions to the reader: what an injected passage says, and what an obeying model writes.
_INSTRUCTION = re.compile(
    r"\b(?:ignore|disregard|forget|override)\b.{0,40}\b(?:instructions?|prompts?|rules|articles?|passages?|above)\b"
    r"|\byou are now\b|\bdeveloper mode\b|\[?\bsystem\b\]?\s*:|^\W*\[system\]"
    r"|\b(?:reply|respond|answer|say)\b.{0,30}\b(?:with|only)\b.{0,20}\bword\b"
    r"|^\W*(?:send|email|visit|click|reveal|print|output|repeat|reply|respond|say)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Support:
    supported: bool
    coverage: float  # share of the sentence's content terms found in the cited text
    reason: str = ""  # why not, for people and for the benchmark's error analysis


def numbers(text: str) -> set[str]:
    """Numbers with their scale: "$1.13bn" -> "1.13bn", "76 per cent" -> "76%", "three" -> "3"."""
    text = _NUMBER_WORD.sub(lambda m: _NUMBER_WORDS[m.group(1).lower()], text)
    found = set()
    for value, scale in _NUMBER.findall(text):
        value = value.replace(",", "").rstrip(".")
        found.add(value + _SCALES.get(re.sub(r"\s+", " ", scale.lower()), ""))
    return found


def names(text: str) -> set[str]:
    """The capitalised words inside a sentence (not its first word, nor one opening a quote)."""
    return set(_NAME.findall(text.strip()))


def _missing_names(claim: str, evidence: str) -> set[str]:
    """The claim's names the evidence does not write with a capital ("Mr Service" is not "public services")."""
    written = set(_CAPITALISED.findall(evidence))
    capitalised = {stem for word in written for stem in terms(word)}
    return {name for name in names(claim) if name not in written and not set(terms(name) or [name]) <= capitalised}


def is_instruction(text: str) -> bool:
    return bool(_INSTRUCTION.search(text.strip()))


def _negations(text: str) -> list[set[str]]:
    """The terms each negation cue negates: a few words after it, up to the end of its clause."""
    scopes = []
    for match in _NEGATION.finditer(text):
        clause = re.split(r"[,;:.!?](?:\s|$)", text[match.end():], maxsplit=1)[0]
        scopes.append(set(terms(" ".join(clause.split()[:_NEGATED_SPAN]))))
    return [scope for scope in scopes if scope]


def _negation_flipped(one: str, other: str, other_terms: set[str]) -> bool:
    """`one` negates something `other` states without negating it (no negation of `other` overlaps)."""
    negated_there = set().union(*_negations(other))
    return any(not scope & negated_there and scope & other_terms for scope in _negations(one))


def _name_positions(text: str) -> dict[str, int]:
    """Where each capitalised word (the first too: "Chelsea beat Arsenal") occurs, if it occurs once."""
    found = [(m.group(), m.start()) for m in _CAPITALISED.finditer(text)]
    counts = Counter(word for word, _ in found)
    return {word: at for word, at in found if counts[word] == 1}


def _same_structure(claim: str, cited: str) -> bool:
    """Whether the claim keeps the cited sentence's word order: nearly every pair of neighbouring shared
    lower-case terms comes in the same order there."""
    cited_order = {t: i for i, t in enumerate(terms(re.sub(_CAPITALISED, " ", cited)))}
    shared = [cited_order[t] for t in terms(re.sub(_CAPITALISED, " ", claim)) if t in cited_order]
    pairs = list(pairwise(shared))
    return bool(pairs) and sum(a < b for a, b in pairs) / len(pairs) >= STRUCTURE_KEPT


def _attributed(text: str) -> set[str]:
    return {word for match in _ATTRIBUTION.finditer(text) for word in _CAPITALISED.findall(match.group())}


def _swapped(claim: str, cited: str) -> bool:
    """Two names in the opposite order to the cited sentence's ("Arsenal beat Chelsea" for "Chelsea beat Arsenal",
    "the Commission Electoral"), in a claim that keeps the cited sentence's word order otherwise; a name
    that is the speaker on both sides does not count (moving "Mr Clarke said" to the front swaps nothing)."""
    pairs = re.findall(r"(?=\b([A-Z][\w’']*) ([A-Z][\w’']*)\b)", claim)
    if any(f"{b} {a}" in cited and f"{a} {b}" not in cited for a, b in pairs):
        return True
    if not _same_structure(claim, cited):  # a paraphrase that reorders its clauses moves names too
        return False
    speakers = _attributed(claim) & _attributed(cited)
    mine, theirs = _name_positions(claim), _name_positions(cited)
    common = sorted((at, word) for word, at in mine.items() if word in theirs and word not in speakers)
    for i, (at_x, x) in enumerate(common):
        for at_y, y in common[i + 1:]:
            if theirs[x] > theirs[y] and _acts(claim[at_x:at_y]) and _acts(cited[theirs[y]:theirs[x]]):
                return True
    return False


def _acts(between: str) -> bool:
    """Whether the words between two names can make one the actor and the other the object: some content
    word, and no passive "by" (an apposition, "Louis Michel, the EU's commissioner", swaps nothing)."""
    return " by " not in between and bool(terms(_CAPITALISED.sub(" ", between)))


def best_sentences(claim: str, sentences: list[str], k: int = 2) -> list[str]:
    """The `k` sentences sharing the most content terms with `claim`, best first (the evidence for it:
    two, so a sentence that merges two of the passage's is judged against both)."""
    wanted = set(terms(claim))
    scored = [(len(wanted & set(terms(s))), -i, s) for i, s in enumerate(sentences)]
    return [s for score, _, s in sorted(scored, reverse=True)[:k] if score > 0]


def _share(part: set[str], whole: set[str]) -> float:
    return len(part & whole) / len(part) if part else 0.0


def support(claim: str, cited: list[str], min_coverage: float = MIN_COVERAGE) -> Support:
    """Whether the cited sentences support `claim` (best-matching sentence first)."""
    if is_instruction(claim):
        return Support(False, 0.0, "an instruction, not a statement")
    cited = [c for c in cited if not is_instruction(c)]
    wanted = set(terms(claim)) - _LIGHT
    if len(wanted) < MIN_TERMS:
        return Support(False, 0.0, "too few words to assert anything")
    if not cited:
        return Support(False, 0.0, "the cited text is an instruction")
    evidence = " ".join(cited)
    have = set(terms(evidence))
    coverage = _share(wanted, have)
    if missing := numbers(claim) - numbers(evidence):
        return Support(False, coverage, f"number not in the cited text: {min(missing)}")
    if missing := _missing_names(claim, evidence):
        return Support(False, coverage, f"name not in the cited text: {min(missing)}")
    # Opposites and negations count in the sentences the claim is built from (most of their terms are in
    # the claim): a neighbouring sentence's "higher" or "no" says nothing about it.
    sources = " ".join(c for c in cited if _share(set(terms(c)), wanted) >= 0.5) or cited[0]
    source_terms = set(terms(sources))
    claim_words, source_words = set(_RAW_WORD.findall(claim.lower())), set(_RAW_WORD.findall(sources.lower()))
    claim_terms = set(terms(claim))  # light words too: "did not add" is not "added"
    for mine, theirs in ((claim_terms, source_terms), (claim_words, source_words)):
        for word in mine - theirs:
            if _ANTONYMS.get(word, set()) & theirs:
                return Support(False, coverage, f"an opposite of the cited text: {word}")
    if _negation_flipped(claim, evidence, have) or _negation_flipped(sources, claim, claim_terms):
        return Support(False, coverage, "negated on one side only")
    if _swapped(claim, cited[0]):
        return Support(False, coverage, "roles swapped")
    if coverage < min_coverage:
        return Support(False, coverage, f"only {coverage:.0%} of its words are in the cited text")
    return Support(True, coverage)
