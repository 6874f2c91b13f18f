"""Streamlit chat over the articles (placeholder until the UI issue): a thin shell over `rag`."""

import streamlit as st

from rag import RAG, RagError


@st.cache_resource
def engine() -> RAG:
    return RAG()


st.title("Ask the articles")
question = st.chat_input("Ask a question about the articles")
if question:
    with st.chat_message("user"):
        st.text(question)
    with st.chat_message("assistant"):
        try:
            answer = engine().ask(question)
        except RagError as exc:
            st.error(str(exc))
        else:
            st.text(answer.text)
            for c in answer.citations:
                st.caption(f"[{c.n}] {c.title or c.source} — {c.source}")
                st.text(c.quote)
