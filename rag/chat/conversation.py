"""A conversation: follow-up questions are rewritten into standalone ones before retrieval."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from rag.answering.question import question_shape
from rag.answering.spans import names, new_spans, person_cued
from rag.schema import Answer

if TYPE_CHECKING:
    from rag.engine import RAG

# A follow-up leans on the previous turn: it opens with a connective or points back with a pronoun.
_FOLLOW_UP = re.compile(
    r"^(?:and|but|so|also|what about|how about|then)\b|\b(?:that|this|it|they|them|their|he|she|him|his|her|those|"
    r"these|there)\b|^\W*(?:who|whom|when|where|why|how|what|which)(?: \w+)?\W*$",
    re.IGNORECASE)
_LEADING_CONNECTIVE = re.compile(r"^(?:and|but|so|also|then)\s*,?\s*", re.IGNORECASE)
_PERSON_PRONOUN = re.compile(r"\b(?:he|she|him|her|his)\b", re.IGNORECASE)
# "it", or "that"/"this" standing alone ("say that?"), not as a determiner ("that plant").
_THING_PRONOUN = re.compile(r"\b(?:it|them)\b|\b(?:this|that)\b(?=\s*(?:[?.!,]|$|(?:about|for|from|with|to|in|on|at|"
                            r"happen|happened|mean|cost|take|come)\b))", re.IGNORECASE)
# "it"/"they" as the subject: opening the question, or right after its auxiliary ("When did it say that?").
_SUBJECT_PRONOUN = re.compile(r"^(it|they)\b|\b((?:did|does|do|is|are|was|were|has|have|had|will|would|can|could|"
                              r"should)\s+)(it|they)\b", re.IGNORECASE)
# A named subject opening the previous question's topic: "the Bank of England" in "the Bank of England announce".
_NAMED_SUBJECT = re.compile(r"(?:(?:the|a|an)\s+)?[A-Z][\w'’&.-]*(?:\s+(?:(?:of|and|for|the|de)\s+)*[A-Z][\w'’&.-]*)*")
# The wh-phrase and auxiliary a question opens with: "Why did", "How many people were", "Who".
_WH_HEAD = re.compile(r"^\W*(?:(?:in|on|at|for|from|by) )?(?:who|whom|whose|when|where|why|how(?: \w+)?|what(?: \w+)?|"
                      r"which(?: \w+)?)\s+(?:(?:did|does|do|is|are|was|were|has|have|had|will|would|can|could|might)\s+)?",
                      re.IGNORECASE)


def condense(question: str, history: list[Answer]) -> str | None:
    """A standalone version of a follow-up, from the previous turn; None when the question stands alone.

    - only a wh-phrase ("And when?", "Why?"): the previous question asked again with it;
    - "he", "she", "his": the person the previous answer named (its direct answer, for "who"
      questions), else the last full name in the previous question;
    - "it" or "they" as the subject: the name the previous question's topic opens with ("the Pentagon");
    - otherwise "it", "that", "they": the previous question's topic (what follows its wh-phrase), cut
      before the verb when the follow-up repeats it ("it refuse that?" after "the club refuse the offer");
    - otherwise the previous topic is added in brackets, for retrieval.
    The rewrite uses only the previous turn, so its length stays bounded by two questions.
    """
    if not history or not _FOLLOW_UP.search(question):
        return None
    last = history[-1]
    previous = (last.standalone_question or last.question).strip().rstrip("?")
    rest = _LEADING_CONNECTIVE.sub("", question.strip()).strip()
    rest = rest[:1].upper() + rest[1:]
    topic = _WH_HEAD.sub("", previous, count=1).strip() or previous
    if re.fullmatch(r"\W*(?:who|whom|when|where|why|how(?: \w+)?|what(?: \w+)?|which(?: \w+)?)\W*", rest, re.IGNORECASE):
        wh = rest.strip(" ?.!").lower()
        head = _WH_HEAD.match(previous)
        aux = re.search(r"\s(did|does|do|is|are|was|were|has|have|had|will|would|can|could|might)\s*$", head.group()) if head else None
        return f"{wh[:1].upper()}{wh[1:]} {aux.group(1) + ' ' if aux else ''}{topic}?"
    person = _person_answered(last) or next(iter(_names(previous)), None)
    if _PERSON_PRONOUN.search(rest) and person:
        name = person
        return _PERSON_PRONOUN.sub(lambda m: name + ("'s" if m.group().lower() in ("his", "her") else ""), rest, count=1)
    subject = _NAMED_SUBJECT.match(topic)
    if subject and _SUBJECT_PRONOUN.search(rest):  # the one doing it again: the previous question's subject
        return _SUBJECT_PRONOUN.sub(lambda m: (m.group(2) or "") + subject.group(), rest, count=1).rstrip("?") + "?"
    if match := _THING_PRONOUN.search(rest):
        # "Why did the club refuse the offer?" + "When did it refuse that?": the topic up to the verb the
        # follow-up repeats ("the club"), so the verb is not said twice.
        after = rest[match.end():].split()
        words = topic.split()
        verb = after[0].lower().strip("?.!,") if after else ""
        repeated = next((i for i, w in enumerate(words) if i > 0 and w.lower() == verb), None)
        words = words[:repeated] if repeated else words
        return (rest[:match.start()] + " ".join(words) + rest[match.end():]).rstrip("?") + "?"
    return f"{rest.rstrip('?')} ({topic})?"


def _names(text: str) -> list[str]:
    """Capitalised names in a question, its subject first; the question's opening word is not one."""
    return [s.text for s in names(text) if s.start > 0 and s.text.split()[0] not in _WH_WORDS]


def _person_answered(answer: Answer) -> str | None:
    """The person a "who" question's answer named: its short answer, or the first new name in its first quote."""
    if answer.abstained or question_shape(answer.standalone_question or answer.question).kind != "person":
        return None
    if answer.direct_answer:
        return answer.direct_answer
    if not answer.citations:
        return None
    asked = {w.lower() for w in re.findall(r"[\w'’-]+", answer.standalone_question or answer.question)}
    quote = answer.citations[0].quote
    # Someone named as a person ("... Press Secretary Pat Ryder said") first, then a full name ("Li Shangfu", not "Li").
    found = sorted(new_spans(quote, "person", asked), key=lambda s: (not person_cued(quote, s), len(s.text.split()) < 2))
    return found[0].text if found else None


_WH_WORDS = {"Who", "Whom", "Whose", "What", "Which", "When", "Where", "Why", "How", "Did", "Does", "Do", "Is", "Was"}


class Chat:
    def __init__(self, bot: "RAG", answerer: str | None = None) -> None:
        self.bot = bot
        self.answerer = answerer
        self.history: list[Answer] = []

    def standalone(self, question: str) -> str | None:
        """The question to retrieve for: rewritten by the model when one is configured (falling back
        to the rule-based rewrite if it fails), else by rule; None when it stands alone."""
        question = self.bot.check_question(question)
        if not self.history:
            return None
        model = getattr(self.bot.answerer(self.answerer), "model", None)  # a generative answerer's model
        if model is not None:
            from rag.errors import LLMUnavailable

            try:
                rewritten = model.condense(question, [(a.question, a.text) for a in self.history])
                return rewritten if rewritten.strip() and rewritten.strip() != question else None
            except LLMUnavailable:
                pass
        rewritten = condense(question, self.history)
        limit = self.bot.settings.max_question_chars
        if rewritten and len(rewritten) > limit:  # a follow-up under the limit is never refused for its rewrite
            rewritten = rewritten[:limit].rsplit(" ", 1)[0]
        return rewritten

    def ask(self, question: str, **kwargs: Any) -> Answer:
        answer = self.bot.ask(question, standalone_question=self.standalone(question), answerer=self.answerer, **kwargs)
        self.history.append(answer)
        return answer

    def stream(self, question: str, **kwargs: Any):
        """Like `RAG.stream`, keeping the conversation."""
        for event in self.bot.stream(question, standalone_question=self.standalone(question), answerer=self.answerer,
                                     **kwargs):
            if isinstance(event, Answer):
                self.history.append(event)
            yield event

    def reset(self) -> None:
        self.history.clear()
