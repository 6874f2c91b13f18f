"""Hybrid retrieval: vector and keyword search fused, with metadata filters and dates."""
