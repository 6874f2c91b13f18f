"""Nothing reaches the network: ingest and ask run with every non-loopback connection refused."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from ..support.helpers import ROOT, SEEDS

GUARD = textwrap.dedent('''
    import socket
    _connect = socket.socket.connect
    def guarded(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and not (host.startswith("127.") or host in ("localhost", "::1")) \\
                and self.family in (socket.AF_INET, socket.AF_INET6):
            raise OSError(f"network blocked in test: {address}")
        return _connect(self, address)
    socket.socket.connect = guarded
    socket.create_connection = lambda *a, **k: (_ for _ in ()).throw(OSError("network blocked in test"))
''')


def run_offline(code: str, tmp_path, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_", "TIKTOKEN_", "NLTK_"))}
    env.update(env_extra or {})
    script = GUARD + textwrap.dedent(code)
    return subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)


def test_token_counting_works_with_the_network_cut(tmp_path):
    result = run_offline("""
        from rag.ingest.tokens import count_tokens
        print(count_tokens("Why did China refuse the Austin meeting?"))
    """, tmp_path, {"XDG_CACHE_HOME": str(tmp_path / "empty_cache")})
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.strip()) == 8  # Why| did| China| refuse| the| Austin| meeting|?


def test_ingest_and_ask_work_with_the_network_cut(tmp_path):
    result = run_offline(f"""
        from rag import RAG
        bot = RAG(docs_dir={str(SEEDS)!r}, persist_dir="vs")
        print(bot.ingest().summary())
        answer = bot.ask("Why did China refuse the Austin meeting?")
        assert not answer.abstained and answer.citations, answer
        print("ANSWERED")
    """, tmp_path, {"HF_HOME": str(tmp_path / "hf_home")})
    assert result.returncode == 0, result.stderr[-3000:]
    assert "ANSWERED" in result.stdout
    assert "network blocked" not in result.stderr, "something tried to reach the network"


def test_chroma_telemetry_is_off(bot):
    assert bot._store.client.get_settings().anonymized_telemetry is False


def test_importing_rag_leaves_the_environment_alone(tmp_path):
    result = run_offline("""
        import os
        before = dict(os.environ)
        import rag, rag.engine, rag.cli
        assert dict(os.environ) == before, set(os.environ.items()) ^ set(before.items())
        rag.RAG(persist_dir="vs")
        assert os.environ["HF_HUB_OFFLINE"] == "1" and os.environ["TIKTOKEN_CACHE_DIR"]
        print("OK")
    """, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "OK" in result.stdout
