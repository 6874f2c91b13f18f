"""`python -m app.serve`: start the chat app with its engine already warming up (what `make run` runs).

The docs folder is indexed and the model loaded in a background thread while Streamlit starts, so
the page shows progress at once and the first question is answered warm. Options:

    python -m app.serve [--app PATH] [--no-ingest] [any `streamlit run` option, e.g. --server.port 8502]

The app's safe server settings (listen on 127.0.0.1, XSRF protection, a 25 MB upload cap, no usage
statistics; also the highlight colour) are passed to Streamlit, so they hold from any working
directory; an option given explicitly wins. The app is served as an `st.App` with `app.guard` in
front: requests under a host name the app is not served under get 403 (DNS rebinding), and each
browser gets the cookie that keeps its conversations its own.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Annotated, Any

import click
import typer

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

cli = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


def streamlit_options(options: list[str]) -> list[str]:
    """The caller's `streamlit run` options, then each safe default the caller did not set."""
    given = {o.split("=", 1)[0] for o in options if o.startswith("--")}
    return [*options, *(part for name, value in SAFE_OPTIONS.items() if name not in given for part in (name, value))]


def streamlit_config(app_file: Path, options: list[str]) -> dict[str, Any]:
    """`streamlit run` options as typed config values ({"server.port": 8502, ...}), parsed by Streamlit's
    own command line, so an unknown option or a bad value is refused as `streamlit run` refuses it."""
    from streamlit.web import cli as streamlit_cli

    with streamlit_cli.main_run.make_context("python -m app.serve", [str(app_file), *options]) as ctx:
        params = ctx.params
    return {name.replace("_", "."): value for name, value in params.items()
            if name not in ("target", "args") and value is not None and value != ()}


@cli.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def main(
    ctx: typer.Context,
    app: Annotated[Path, typer.Option("--app", help="The Streamlit page to serve.")] = APP_FILE,
    ingest: Annotated[bool, typer.Option(help="Index the docs folder while the server starts.")] = True,
) -> None:
    """Serve the chat app (any other option is a `streamlit run` option, e.g. --server.port 8502)."""
    if not app.is_file():
        print(f"error: no app at {str(app)!r}. Pass --app PATH.", file=sys.stderr)
        raise typer.Exit(2)
    try:
        config = streamlit_config(app, streamlit_options(list(ctx.args)))
    except click.UsageError as exc:  # an unknown `streamlit run` option, or a bad value
        print(f"error: {exc.format_message()}", file=sys.stderr)
        raise typer.Exit(2) from None
    try:
        startup = begin(ingest=ingest)
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise typer.Exit(1) from None
    threading.Thread(target=report_startup, args=(startup,), daemon=True).start()
    serve(app.resolve(), config)


def serve(app_file: Path, config: dict[str, Any]) -> None:
    import streamlit as st
    from starlette.middleware import Middleware

    from .guard import RequestGuard

    # st.App takes the folder of sys.argv[0] as the script's (sys.path, .streamlit/config.toml):
    # naming the page there makes this the same as `streamlit run app.py`.
    sys.argv = [str(app_file)]
    st.App(app_file, middleware=[Middleware(RequestGuard)]).run(config=config)


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
    cli()
