"""Conversations: follow-up questions rewritten to stand alone."""
