"""The Streamlit shell's helpers: rendering, start-up, paragraph context, answerer labels, conversations.

`app.py` (the entry point, `streamlit run app.py`) is a thin shell over these modules, and they are
thin shells over the `rag` library. The library never imports this package.
"""
