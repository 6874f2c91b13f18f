"""Hostile and broken input: each gets a clear error or a safe result. Fuzzed with hypothesis."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from rag import RAG, Answer, InvalidQuestionError, SettingsError
from rag.errors import DocumentError
from rag.ingest.clean import clean_document
from rag.ingest.load import parse_document

from ..support.fake_openai import FakeOpenAI
from ..support.helpers import REGRESSION_SET, ROOT
from ..support.pdfs import text_pdf

PLANTED_KEY = "sk-planted-DO-NOT-LEAK-9f8e7d6c5b4a"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=400))
def test_any_question_gets_an_answer_or_a_clear_error(bot, question):
    try:
        answer = bot.ask(question)
    except InvalidQuestionError as exc:
        assert exc.message
        return
    assert isinstance(answer, Answer)
    for c in answer.citations:
        assert bot.article(c.article_id).text[c.start:c.end] == c.quote


@pytest.mark.parametrize("question", [
    "为什么中国拒绝了奥斯汀的会面？ Why did China refuse the Austin meeting?",  # mixed scripts
    "Почему Китай отказался от встречи?",
    "\u202eWhy did China refuse\u202c the Austin meeting?",  # bidi control characters
    "Why did China refuse the Austin meeting?" + " ?" * 900,
])
def test_odd_but_valid_questions_are_answered_safely(bot, question):
    answer = bot.ask(question)
    assert isinstance(answer, Answer) and (answer.abstained or answer.citations)


@settings(max_examples=80, deadline=None)
@given(data=st.binary(max_size=3000), suffix=st.sampled_from([".txt", ".md", ".html", ".pdf"]))
def test_loaders_return_an_article_or_a_document_error(tmp_path_factory, data, suffix):
    path = Path("fuzz" + suffix)
    try:
        article = clean_document(parse_document(path, data), path.name, f"docs/{path.name}")
    except DocumentError as exc:
        assert exc.message
        return
    assert isinstance(article.text, str)


@settings(max_examples=40, deadline=None)
@given(st.text(max_size=2000))
def test_html_text_never_keeps_scripts_or_handlers(body):
    html = f"<html><body><p onclick=\"evil()\">{body}</p><script>steal()</script></body></html>"
    try:
        article = clean_document(parse_document(Path("x.html"), html.encode()), "x.html", "docs/x.html")
    except DocumentError:  # e.g. NUL bytes: refused as binary, which is safe too
        return
    assert "steal()" not in article.text and "evil()" not in article.text


def test_fifty_megabyte_and_encrypted_files_are_skipped_with_reasons(tmp_path):
    from pypdf import PdfReader, PdfWriter

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "ok.txt").write_text("Harbour news\n\nThe harbour reopened on Monday after repairs.\n")
    with open(docs / "huge.txt", "wb") as f:
        f.write(b"word " * 10_000_000)  # 50 MB
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(text_pdf(["Secret memo about the harbour."]))))
    writer.encrypt("password")
    with open(docs / "locked.pdf", "wb") as f:
        writer.write(f)
    report = RAG(docs_dir=docs, persist_dir=tmp_path / "vs").ingest()
    reasons = {p.file: p.reason for p in report.failed}
    assert report.added == ["ok.txt"]
    assert "over the 25 MB limit" in reasons["huge.txt"]
    assert "encrypted PDF" in reasons["locked.pdf"]


@pytest.mark.parametrize("env,field", [({"RAG_TOP_K": "abc"}, "top_k"), ({"RAG_TOP_K": "0"}, "top_k"),
                                       ({"RAG_CHUNK_TOKENS": "64", "RAG_CHUNK_OVERLAP_TOKENS": "64"}, "chunk_overlap"),
                                       ({"RAG_ANSWERER": "magic"}, "answerer"), ({"RAG_COLLECTION": "a"}, "collection")])
def test_invalid_settings_are_clear_errors(monkeypatch, env, field):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(SettingsError, match=field):
        RAG()


def test_app_security_defaults():
    config = (ROOT / ".streamlit" / "config.toml").read_text()
    assert 'address = "127.0.0.1"' in config
    assert "enableXsrfProtection = true" in config
    assert "maxUploadSize = 25" in config  # what `make run` passes, from any folder: tests/integration/test_startup.py


def test_uploads_have_a_type_allowlist_and_a_size_cap(tmp_path):
    from rag.ingest.library import save_document

    with pytest.raises(DocumentError, match=r"\.exe files are not supported"):
        save_document(tmp_path, "tool.exe", b"MZ...", 10_000)
    with pytest.raises(DocumentError, match="over the"):
        save_document(tmp_path, "big.txt", b"x" * 20_001, 20_000)
    with pytest.raises(DocumentError, match="does not look like a PDF"):
        save_document(tmp_path, "fake.pdf", b"<html>", 10_000)
    saved = save_document(tmp_path, "../../etc/evil name.md", b"# Fine\n\nText here.", 10_000)
    assert saved.parent == tmp_path and saved.name == "evil name.md"


def test_uploads_in_utf16_are_saved_and_binaries_refused_in_plain_words(tmp_path):
    from rag.ingest.library import save_document

    text = "Markets in Zürich rallied\n\nThe franc fell on Tuesday, traders said.\n"
    saved = save_document(tmp_path, "notepad.txt", text.encode("utf-16"), 10_000)  # Notepad's "Unicode"
    assert parse_document(saved, saved.read_bytes()).text == text
    with pytest.raises(DocumentError, match="looks like a binary file, not text") as caught:
        save_document(tmp_path, "program.txt", Path(sys.executable).read_bytes()[:5000], 10_000)
    assert "NUL" not in str(caught.value)


def test_an_upload_never_overwrites_an_article_without_being_asked_to(tmp_path):
    from rag.ingest.library import safe_filename, save_document

    first = save_document(tmp_path, "story.txt", b"The first version.", 10_000)
    with pytest.raises(DocumentError, match="An article named story.txt is already in"):
        save_document(tmp_path, "story.txt", b"The second version.", 10_000)
    assert first.read_bytes() == b"The first version."
    save_document(tmp_path, "story.txt", b"The second version.", 10_000, overwrite=True)
    assert first.read_bytes() == b"The second version."
    assert not list(tmp_path.glob(".*part")), "no temporary file left behind"

    names = ["My Notes.txt", "My_Notes.txt", "My:Notes.txt", "My?Notes.txt", "Mÿ Notes.txt", "../My Notes.txt"]
    saved = {safe_filename(n) for n in names}
    assert len(saved) == len(names) - 1, saved  # only the folder-stripped one is the same as the first
    assert safe_filename("My Notes.txt") == "My Notes.txt" and safe_filename("My_Notes.txt") == "My_Notes.txt"


def test_a_planted_key_never_appears_in_logs_config_records_or_errors(seed_index, tmp_path, monkeypatch, caplog, capsys):
    from rag.cli import app

    server = FakeOpenAI().start()
    server.scenario = "http_401"  # the server echoes the Authorization header into its error body
    try:
        monkeypatch.setenv("OPENAI_API_KEY", PLANTED_KEY)
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("RAG_PERSIST_DIR", str(seed_index["persist"]))
        monkeypatch.setenv("RAG_OPENAI_MAX_RETRIES", "0")
        caplog.set_level(logging.DEBUG)
        runner = CliRunner()
        outputs = [runner.invoke(app, ["config"]).output,
                   runner.invoke(app, ["ask", "Why did China refuse the Austin meeting?", "--json"]).output,
                   runner.invoke(app, ["eval", str(REGRESSION_SET), "--runs-dir", str(tmp_path / "runs"),
                                       "--no-baseline"]).output]
        answer = RAG(persist_dir=seed_index["persist"]).ask("Who is Liu Pengyu?")
        assert "rejected the API key" in answer.fallback_reason
        assert server.requests and PLANTED_KEY in server.requests[-1]["auth"], "the key was really sent"
        records = [p.read_text() for p in sorted((tmp_path / "runs").glob("*.json"))]
        reports = [p.read_text() for p in sorted((tmp_path / "runs").glob("*.md"))]
        haystack = "\n".join(outputs + records + reports + [caplog.text, capsys.readouterr().out, answer.model_dump_json()])
        assert PLANTED_KEY not in haystack
        assert PLANTED_KEY[:12] not in haystack and PLANTED_KEY[-8:] not in haystack
        assert json.loads(records[0])["settings"]["openai_api_key"] == "set"
    finally:
        server.stop()


# Issue 19 item 12: names and settings printed by the CLI. FORCE_COLOR makes Rich draw as on a terminal
# (the progress bar too), so what a user would see is what is checked.
_SGR = re.compile(r"\x1b\[[0-9;]*m")  # Rich's own colours, removed before looking for the names as written


def _rag(*args: str, cwd: Path, **env: str) -> tuple[int, str, str]:
    environment = dict(os.environ, PYTHONPATH=str(ROOT), FORCE_COLOR="1", COLUMNS="250") | env
    try:
        done = subprocess.run([sys.executable, "-m", "rag.cli", *args], cwd=cwd, env=environment, capture_output=True,
                              text=True, timeout=300)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"rag {' '.join(args)} took over 300 s: {exc.stderr!r}")
    for raw in (done.stdout, done.stderr):  # the names' own sequences: clear the screen, set the window title
        assert "\x1b[2J" not in raw and "\x1b]0;" not in raw, raw
    return done.returncode, _SGR.sub("", done.stdout), _SGR.sub("", done.stderr)


def test_file_names_with_markup_and_terminal_escapes_are_printed_as_written(tmp_path):
    docs = tmp_path / "docs"
    (docs / "a[").mkdir(parents=True)
    (docs / "a[" / "].txt").write_text("Harbour news\n\nThe harbour reopened on Monday after repairs.\n")
    (docs / "a[" / "]empty.txt").write_text("")
    (docs / "[bold]loud.txt").write_bytes(b"\x7fELF\x00\x00binary")
    (docs / "\x1b[2J\x1b]0;pwned\x07evil.txt").write_text("")
    (docs / "\x1b]0;pwned\x07bridge.txt").write_text("Bridge news\n\nThe old bridge over the river closed on "
                                                     "Friday because its cables had rusted.\n")
    (docs / os.fsdecode(b"caf\xe9.txt")).write_text("A name saved in Latin-1, not UTF-8.\n")
    code, out, err = _rag("ingest", str(docs), "--persist-dir", str(tmp_path / "vs"), cwd=tmp_path)
    assert code == 0 and "Traceback" not in err and "MarkupError" not in err, err
    assert "2 added" in out and "4 failed" in out
    assert "skipped a[/]empty.txt: a[/]empty.txt has no article text" in err
    assert "skipped [bold]loud.txt: [bold]loud.txt looks like a binary file" in err
    assert "skipped \\x1b[2J\\x1b]0;pwned\\x07evil.txt:" in err, "controls shown as escapes, so the file can be found"
    assert "skipped caf\\udce9.txt:" in err and "not valid UTF-8" in err

    code, out, err = _rag("ask", "Why did the old bridge close?", cwd=tmp_path, RAG_PERSIST_DIR=str(tmp_path / "vs"))
    assert code == 0 and "\\x1b]0;pwned\\x07bridge.txt" in out, out + err  # the citation's source


def test_markup_in_settings_and_folder_names_is_printed_as_written(tmp_path):
    code, _, err = _rag("ingest", cwd=tmp_path, RAG_DOCS_DIR="no[/]where", RAG_PERSIST_DIR=str(tmp_path / "vs"))
    assert code == 2 and "The documents folder 'no[/]where' does not exist." in err and "Traceback" not in err, err
    code, _, err = _rag("ask", "Who won?", cwd=tmp_path, RAG_COLLECTION="../x")
    assert code == 2 and "should match pattern '^[a-zA-Z0-9][a-zA-Z0-9._-]*[a-zA-Z0-9]$'" in err, err
    code, out, err = _rag("config", cwd=tmp_path, RAG_DOCS_DIR="news[/]\x1b[2Jdesk")
    assert code == 0 and "news[/]\\x1b[2Jdesk" in out, out + err
