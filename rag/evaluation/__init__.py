"""Regression runs over question/answer sets: cases, metrics, records, the model judge."""
