"""What a question asks for: the kind of answer (a person, a date, a count...) and whether it is broad.

This is English question grammar, not the wording of any article set: the wh-word, the noun after
"which"/"what", "how many"/"how much", and the verbs that ask for an overview ("summarise",
"compare", "what do the articles say about"). The answerer uses the kind two ways: as a feature of
each candidate sentence (does it hold something of that kind that the question does not already
name?) and to cut the short direct answer out of the chosen sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Kind = Literal["person", "date", "count", "amount", "duration", "place", "reason", "entity", "yesno", "thing",
               "broad"]

# Kinds that ask for one short thing, so the answer can open with it.
# ("What did X say?" is not one: what was said is often quoted over several sentences, or not quoted.)
FACTOID_KINDS: frozenset[str] = frozenset({"person", "date", "count", "amount", "duration", "place", "entity"})

_WH = re.compile(r"\b(who|whom|whose|when|where|why|which|what|how)\b", re.IGNORECASE)

_BROAD = re.compile(
    r"^\s*(?:please\s+)?(?:summari[sz]e|sum up|give (?:me )?(?:an? )?(?:overview|summary|rundown)|overview of|"
    r"compare|contrast|describe|outline|tell me (?:about|what)|what are the (?:main|key) (?:points|facts|arguments)|"
    r"what (?:do|does|did) (?:the |these |this )?(?:articles?|reports?|stories|story|coverage|piece) (?:say|report|tell)|"
    r"how (?:do|does|did) (?:the )?(?:articles?|reports?|coverage) (?:describe|cover|portray|characteri[sz]e)|"
    r"(?:do|did) the articles (?:agree|disagree|differ)|how (?:has|have|did) .{1,80}? (?:changed|evolved|developed)|"
    r"has .{1,80}? changed|what is (?:said|reported|known) about|"
    r"what (?:has|have) .{1,60}? (?:said|done) about)\b",
    re.IGNORECASE)
_BROAD_ANYWHERE = re.compile(r"\b(?:in (?:the|these) articles|across (?:the )?articles|summary|overview|"
                             r"according to (?:the|these) articles)\b", re.IGNORECASE)

_PERSON_NOUNS = (
    "person|man|woman|men|women|people|player|players|manager|coach|boss|chief|director|executive|official|"
    "minister|president|leader|spokesman|spokeswoman|spokesperson|singer|actor|actress|star|member|chairman|"
    "founder|author|judge|lawyer|politician|mp|candidate|winner|captain|striker|driver|athlete|artist|band member|"
    "presenter|host|analyst|economist|secretary|governor|mayor|ambassador|general|officer|rival|partner|brother|"
    "sister|son|daughter|wife|husband|father|mother|team-mate|teammate|musician|producer|writer|head")
_PLACE_NOUNS = "country|countries|city|cities|town|place|region|state|venue|location|stadium|ground|island|capital|nation"
_DATE_NOUNS = "year|month|date|day|time|season|decade|week|period"
_AMOUNT_NOUNS = ("percentage|percent|proportion|share|price|amount|sum|figure|value|cost|fee|salary|fine|rate|"
                 "total|profit|loss|revenue|sales|budget|deficit|score|margin|bill|wage|income|debt|stake")


@dataclass(frozen=True)
class QuestionShape:
    kind: Kind
    wh: str | None  # the wh-word that decided the kind, if any
    focus: str | None  # the thing counted or named: "how many *jobs*", "which *company*"

    @property
    def factoid(self) -> bool:
        return self.kind in FACTOID_KINDS

    @property
    def broad(self) -> bool:
        return self.kind == "broad"


def question_shape(question: str) -> QuestionShape:
    """The kind of answer `question` asks for."""
    q = " ".join(question.strip().split())
    if _BROAD.search(q) or (_BROAD_ANYWHERE.search(q) and not _WH.search(q[:40])):
        return QuestionShape("broad", None, None)
    low = q.lower()
    low = low.rstrip(" ?")
    m = re.search(r"\bhow (many|much|long|old|often|far|big|large|high|low|fast|tall)\b(?:\s+([a-z-]+))?", low)
    if m:
        word, focus = m.group(1), m.group(2)
        if word == "many":
            return QuestionShape("count", "how many", focus)
        if word == "much":
            return QuestionShape("amount", "how much", focus)
        if word == "long":
            return QuestionShape("duration", "how long", focus)
        return QuestionShape("count" if word in ("old", "often") else "amount", f"how {word}", None)
    if re.search(r"\bwhat (?:was|is|were|are) the (?:reason|cause|grounds?|motive|explanation)\b|"
                 r"\bfor what reason\b|\bon what (?:grounds|basis)\b|\bwhat (?:led|prompted|caused|made)\b|\bhow come\b",
                 low):
        return QuestionShape("reason", "why", None)
    if re.match(r"(?:did|does|do|is|are|was|were|has|have|had|can|could|will|would|should)\b", low):
        return QuestionShape("yesno", None, None)
    m = _WH.search(q)
    if m is None:
        return QuestionShape("thing", None, None)
    wh = m.group(1).lower()
    after = low[m.end():].strip()
    after = re.sub(r"^(?:one|two|three|four|five|\d+) ", "", after)  # "which two countries" asks for countries
    noun = re.match(r"(?:of the |kind of |sort of |type of )?([a-z-]+)", after)
    focus = noun.group(1) if noun else None
    if wh in ("who", "whom", "whose"):
        if re.fullmatch(r"\s*who (?:is|was|are|were) (?:mr |mrs |ms |dr )?(?:[A-Z][\w'’.-]*\s*){1,4}\??\s*", q,
                        re.IGNORECASE) and re.search(r"\b[A-Z]", q[4:]):
            return QuestionShape("thing", wh, None)  # "Who is Scott Richter?" asks what he is, not for a name
        return QuestionShape("person", wh, None)
    if wh == "when":
        return QuestionShape("date", wh, None)
    if wh == "where":
        return QuestionShape("place", wh, None)
    if wh == "why":
        return QuestionShape("reason", wh, None)
    if wh in ("which", "what"):
        if re.match(rf"(?:{_DATE_NOUNS})\b", after):
            return QuestionShape("date", wh, focus)
        if re.match(rf"(?:{_AMOUNT_NOUNS})\b", after) or re.match(rf"(?:was|is|were|are) the (?:{_AMOUNT_NOUNS})\b", after):
            return QuestionShape("amount", wh, focus)
        if re.match(r"(?:number|percentage)\b", after):
            return QuestionShape("count" if after.startswith("number") else "amount", wh, focus)
        if re.match(rf"(?:{_PERSON_NOUNS})\b", after) or re.search(
                r"\b(?:names?|identity) of the (?:[\w'-]+ ){0,3}(?:" + _PERSON_NOUNS + r")\b", after):
            return QuestionShape("person", wh, focus)
        if re.match(rf"(?:{_PLACE_NOUNS})\b", after):
            return QuestionShape("place", wh, focus)
        if wh == "which" or re.match(r"(?:is|was|are|were) the name\b|name\b", after):
            return QuestionShape("entity", wh, focus)
        return QuestionShape("thing", wh, focus)
    if wh == "how":
        return QuestionShape("thing", wh, None)
    return QuestionShape("thing", wh, None)
