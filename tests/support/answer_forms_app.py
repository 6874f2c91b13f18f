"""A Streamlit page drawing one constructed `Answer` of each form with the app's real rendering code
(`streamlit run tests/support/answer_forms_app.py`): what the browser test screenshots to show every form,
including those the offline answerer does not produce yet."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import streamlit as st  # noqa: E402

from app.answer_view import render_answer  # noqa: E402
from app.context import ArticleTexts  # noqa: E402
from rag.schema import Answer, Article, Citation, Passage  # noqa: E402

TEXTS = {
    "austin.txt": ("Beijing declined the meeting on Monday.\n\nThe Chinese government said it had declined a U.S. "
                   "request for Defense Secretary Lloyd Austin to meet Li Shangfu.\nIt cited the sanctions imposed "
                   "on Li in 2018 over weapons purchases from Russia.\n\nA later paragraph about the summit."),
    "blinken.txt": "Antony Blinken met Xi Jinping in Beijing in June.\n\nBoth sides called the talks candid.",
}
META = {"austin.txt": ("Austin snubbed in Singapore", "AP", "2023-05-30"),
        "blinken.txt": ("Blinken in Beijing", "Reuters", None)}


class Articles:
    def article(self, article_id):
        if article_id not in META:  # removed from the library since the answer was given
            return None
        title, publisher, date = META[article_id]
        return Article(id=article_id, source=f"seeds/{article_id}", title=title, publisher=publisher, date=date,
                       text=TEXTS[article_id])


def cite(n: int, article_id: str, quote: str) -> Citation:
    start = TEXTS[article_id].index(quote)
    title, publisher, date = META[article_id]
    return Citation(n=n, article_id=article_id, source=f"seeds/{article_id}", title=title, publisher=publisher, date=date, quote=quote,
                    start=start, end=start + len(quote), score=0.9, chunk_id=f"{article_id}#0")


Q0 = "Beijing declined the meeting on Monday."
GONE = "The deleted article said this."
Q1 = "The Chinese government said it had declined a U.S. request for Defense Secretary Lloyd Austin to meet Li Shangfu."
Q2 = "It cited the sanctions imposed on Li in 2018 over weapons purchases from Russia."
Q3 = "Antony Blinken met Xi Jinping in Beijing in June."
SPAN = "Beijing declined the meeting on Monday.\n\nThe Chinese government said it had declined"
timings = {"total_ms": 41}
ANSWERS = {
    "direct": Answer(question="When were the sanctions on Li imposed?", form="direct", direct_answer="2018",
                     direct_citation=1, text=f"2018 [1].\n\n{Q2} [1]", citations=[cite(1, "austin.txt", Q2)],
                     timings=timings),
    "weekday": Answer(question="When did Beijing decline?", form="direct", direct_answer="Monday", direct_citation=1,
                      text=f"Monday [1].\n\n{Q0} [1]", citations=[cite(1, "austin.txt", Q0)], timings=timings),
    "sentences": Answer(question="Why did China refuse the Austin meeting?", form="sentences", text=f"{Q1} [1] {Q2} [2]",
                        citations=[cite(1, "austin.txt", Q1), cite(2, "austin.txt", Q2)], timings=timings),
    "overview": Answer(question="What happened between the US and China?", form="overview",
                       text=f"{Q1} [1] {Q3} [2]", citations=[cite(1, "austin.txt", Q1), cite(2, "blinken.txt", Q3)],
                       timings=timings),
    "spanning": Answer(question="What did Beijing decline?", form="sentences", text=f"{SPAN} [1]",
                       citations=[cite(1, "austin.txt", SPAN)], timings=timings),
    "generated": Answer(question="Where is the report?", form="generated", answerer="openai",
                        text=f"See [the report](http://evil.example) or www.evil.example; {Q1} [1]",
                        citations=[cite(1, "austin.txt", Q1)], timings=timings),
    "removed": Answer(question="What did the deleted article say?", form="sentences", text=f"{GONE} [1]",
                      citations=[Citation(n=1, source="seeds/gone.txt", title="An article since removed", quote=GONE,
                                          start=0, end=len(GONE), score=0.9, chunk_id="gone.txt#0")], timings=timings),
    "refusal": Answer(question="Who won the World Cup?", form="refusal", abstained=True, text="The articles don't say.",
                      abstain_reason="support 0.47 < 0.47", passages=[Passage(
                          chunk_id="blinken.txt#0", article_id="blinken.txt", source="seeds/blinken.txt",
                          title="Blinken in Beijing", publisher="Reuters", date=None, text=TEXTS["blinken.txt"],
                          start=0, end=len(TEXTS["blinken.txt"]), sentences=[], score=0.2, rank=1)]),
}

texts = ArticleTexts(Articles())
for form, answer in ANSWERS.items():
    st.subheader(form)
    with st.chat_message("user"):
        st.markdown(answer.question)
    with st.chat_message("assistant"):
        render_answer(answer, texts, key=form,
                      searched="1 of the 2 indexed articles (filter on: dated 1 January 2023 to 31 December 2023)",
                      on_clear_filter=(lambda question: None) if form == "refusal" else None, indexed=set(META))
