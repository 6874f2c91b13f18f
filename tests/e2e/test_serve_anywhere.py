"""`python -m app.serve` keeps the app's security settings from any working directory (a real Streamlit server)."""

from __future__ import annotations

import os
import subprocess
import sys

from ..support.helpers import ROOT, free_port, stop, wait_for_http


def _listening(port: int) -> set[str]:
    """Local addresses (hex, as in /proc/net/tcp*) listening on `port`."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = open(table).read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            local, state = row.split()[1], row.split()[3]
            address, _, hex_port = local.rpartition(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.add(address)
    return found


def test_rag_serve_from_another_folder_listens_on_this_machine_only(tmp_path, seed_index):
    # Streamlit reads .streamlit/config.toml from the working directory and from beside the app: here
    # neither has one (an installed package, or a copy of the app), so only `app.serve` keeps it safe.
    app = tmp_path / "elsewhere" / "app.py"
    app.parent.mkdir()
    app.write_text((ROOT / "app.py").read_text())
    port = free_port()
    log = tmp_path / "serve.log"
    env = dict(os.environ, PYTHONPATH=str(ROOT), RAG_DOCS_DIR=str(seed_index["docs"]),
               RAG_PERSIST_DIR=str(seed_index["persist"]))
    with open(log, "w") as out:
        server = subprocess.Popen([sys.executable, "-m", "app.serve", "--app", str(app), "--no-ingest",
                                   "--server.port", str(port)], cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/_stcore/health", server, log, timeout=120)
        assert _listening(port) == {"0100007F"}, f"listens on {_listening(port)} (0100007F is 127.0.0.1 only)"
    finally:
        stop(server, timeout=20)
