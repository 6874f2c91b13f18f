"""The models the project runs: the MiniLM embedder and the OpenAI-compatible client."""
