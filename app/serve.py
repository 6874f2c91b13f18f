"""`python -m app.serve`: start the chat app with its engine already warming up (what `make run` runs).

The docs folder is indexed and the model loaded in a background thread while Streamlit starts, so
the page shows progress at once and the first question is answered warm. Options:

    python -m app.serve [--app PATH] [--no-ingest] [any `streamlit run` option, e.g. --server.port 8502]

The app's safe server settings (listen on 127.0.0.1, XSRF protection, a 25 MB upload cap, no usage
statistics; also the highlight colour) are passed on the command line, so they hold from any working
directory; an option given explicitly wins.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from rag.errors import RagError

from .startup import Startup, begin

APP_FILE = Path(__file__).resolve().parent.parent / "app.py"
SAFE_OPTIONS = {
    "--server.address": "127.0.0.1",
    "--server.headless": "true",
    "--server.enableXsrfProtection": "true",
    "--server.maxUploadSize": "25",
    "--server.fileWatcherType": "none",
    "--browser.gatherUsageStats": "false",
    "--theme.base": "light",
    "--theme.yellowBackgroundColor": "#ffe27a",  # the quote highlight, as in .streamlit/config.toml
}


def streamlit_argv(app_file: Path, options: list[str]) -> list[str]:
    """`streamlit run app_file` with the caller's options, then each safe default the caller did not set."""
    given = {o.split("=", 1)[0] for o in options if o.startswith("--")}
    defaults = [part for name, value in SAFE_OPTIONS.items() if name not in given for part in (name, value)]
    return ["streamlit", "run", str(app_file), *options, *defaults]


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    ingest = "--no-ingest" not in args
    args = [a for a in args if a not in ("--no-ingest", "--ingest")]
    app_file = APP_FILE
    if "--app" in args:
        at = args.index("--app")
        app_file = Path(args[at + 1]) if at + 1 < len(args) else Path("")
        del args[at:at + 2]
    if not app_file.is_file():
        print(f"error: no app at {str(app_file)!r}. Pass --app PATH.", file=sys.stderr)
        raise SystemExit(2)
    try:
        startup = begin(ingest=ingest)
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    threading.Thread(target=report_startup, args=(startup,), daemon=True).start()
    from streamlit.web import cli as streamlit_cli

    sys.argv = streamlit_argv(app_file, args)
    streamlit_cli.main()


def report_startup(startup: Startup) -> None:
    """Say in the terminal what the page says: what was indexed, or why the start-up failed."""
    startup.wait()
    if startup.error is None:
        if startup.report is not None:
            for problem in startup.report.failed:
                print(f"skipped {problem.file}: {problem.reason}", file=sys.stderr)
            print(startup.report.summary(), file=sys.stderr)
        print(f"Ready in {startup.seconds:.1f} s: the index is open and the model loaded.", file=sys.stderr)
    elif isinstance(startup.error, RagError):
        print(f"error: {startup.error}", file=sys.stderr)


if __name__ == "__main__":
    main()
