"""Adapters for other libraries (llama-index retrievers, query and chat engines)."""
