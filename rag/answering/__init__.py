"""From passages to an answer: answerer interface and registry, extractive, citations."""
