"""Credentials inside OPENAI_BASE_URL (http://user:sk-...@host/v1) are hidden wherever the URL shows."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

from rag import RAG
from rag.settings import redact_url

from ..support.helpers import ROOT, free_port

SECRET = "sk-planted-in-the-url-0123456789"


def test_credentials_in_the_base_url_never_show(seed_index, caplog):
    url = f"http://someone:{SECRET}@127.0.0.1:{free_port()}/v1?api_key={SECRET}"  # nothing listens there
    caplog.set_level(logging.DEBUG)
    bot = RAG(docs_dir=seed_index["docs"], persist_dir=seed_index["persist"], openai_base_url=url,
              openai_max_retries=0, openai_timeout=2)
    answer = bot.ask("Why did China refuse the Austin meeting?")
    assert answer.fallback_reason and "127.0.0.1" in answer.fallback_reason
    from app.labels import answerer_choices

    shown = [answer.model_dump_json(), *answerer_choices(bot).values(), str(bot.settings.public_dict()), caplog.text]
    config = subprocess.run([sys.executable, "-m", "rag.cli", "config"], cwd=ROOT, capture_output=True, text=True,
                            timeout=120, env=dict(os.environ, PYTHONPATH=str(ROOT), OPENAI_BASE_URL=url, COLUMNS="300"))
    assert config.returncode == 0, config.stderr
    shown += [config.stdout, config.stderr]
    for text in shown:
        assert SECRET not in text and "someone" not in text
    assert "***@127.0.0.1" in config.stdout


def test_redact_url_keeps_what_is_needed_to_recognise_the_server():
    assert redact_url(f"https://user:{SECRET}@api.example.com:8443/v1") == "https://***@api.example.com:8443/v1"
    assert redact_url(f"http://[::1]:9000/v1?key={SECRET}&model=m") == "http://[::1]:9000/v1?key=***&model=m"
    assert redact_url("http://localhost:11434/v1") == "http://localhost:11434/v1"
