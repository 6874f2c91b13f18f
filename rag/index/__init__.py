"""The stored index: Chroma collections and the keyword (BM25) index."""
