"""The `rag` command: a thin shell over the library."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from rag.errors import RagError
from rag.ingest.load import unicode_name

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Ask questions about a folder of news articles; every answer cites its sources.")
console = Console()
err = Console(stderr=True, soft_wrap=True)  # paths in messages stay whole


# Terminal controls a file name, setting or article may carry: C0/C1 controls (ESC starts the ANSI
# sequences that recolour, retitle or clear a terminal; CR overwrites a line) and the bidirectional
# overrides that make text read other than it is. Shown as their escape (\x1b), so a file stays findable.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_CONTROLS_AND_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: object, *, one_line: bool = False) -> str:
    """`text` with terminal controls (and line breaks, for `one_line`) written as escapes, and lone
    surrogates (from file names that are not valid UTF-8) as \\udcXX, which would not encode."""
    text = unicode_name(str(text))
    controls = _CONTROLS_AND_BREAKS if one_line else _CONTROLS
    return controls.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def shown(text: object, *, one_line: bool = False) -> str:
    """`printable(text)` for a Rich string with markup: `[`...`]` in it is kept as written, never read
    as a style (`a[/].txt` crashed the CLI). Every user-supplied string printed with markup goes through it."""
    return escape(printable(text, one_line=one_line))


def _bot(**overrides):
    from rag.engine import RAG

    return RAG(**{k: v for k, v in overrides.items() if v is not None})


def _fail(exc: RagError) -> None:
    err.print(f"[bold red]error:[/] {shown(exc.message)}")
    if exc.hint:
        err.print(f"[dim]{shown(exc.hint)}[/]")
    raise typer.Exit(2)


@app.command()
def ingest(
    docs_dir: Annotated[Optional[Path], typer.Argument(help="Folder of articles (default: settings docs_dir).")] = None,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Drop the index and ingest everything again.")] = False,
    persist_dir: Annotated[Optional[Path], typer.Option(help="Index folder.")] = None,
) -> None:
    """Index the articles: adds new files, updates changed ones, removes deleted ones."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    try:
        bot = _bot(persist_dir=persist_dir)
        with Progress(TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=err, transient=True) as bar:
            task = bar.add_task("Ingesting", total=None)

            def progress(done: int, total: int, current: str) -> None:
                # `current` ends with articles and chunks per second and the time left, once known.
                bar.update(task, completed=done, total=total, description=shown(current or "Ingesting"))

            report = bot.ingest(docs_dir, rebuild=rebuild, progress=progress)
    except RagError as exc:
        _fail(exc)
    for problem in report.failed:
        err.print(f"[yellow]skipped[/] {shown(problem.file, one_line=True)}: {shown(problem.reason, one_line=True)}")
    console.print(report.summary(), soft_wrap=True, markup=False)  # one line even when piped to a log


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, in quotes.")],
    top_k: Annotated[Optional[int], typer.Option("--k", help="Passages to answer from.")] = None,
    source: Annotated[Optional[list[str]], typer.Option(help="Only these articles (repeatable).")] = None,
    date_from: Annotated[Optional[str], typer.Option("--from", help="Only articles dated on or after (YYYY-MM-DD).")] = None,
    date_to: Annotated[Optional[str], typer.Option("--to", help="Only articles dated on or before (YYYY-MM-DD).")] = None,
    undated: Annotated[bool, typer.Option("--undated/--no-undated",
                                          help="With --from/--to: keep articles that have no date.")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole Answer as JSON.")] = False,
) -> None:
    """Answer one question with numbered sources."""
    try:
        answer = _bot().ask(question, top_k=top_k, sources=source, date_from=date_from, date_to=date_to,
                            include_undated=undated)
    except RagError as exc:
        _fail(exc)
    if as_json:
        print(answer.model_dump_json(indent=2))
        return
    _print_answer(answer)


def _print_answer(answer) -> None:
    style = "yellow" if answer.abstained else "bold"
    console.print(printable(answer.text), style=style, markup=False, highlight=False)
    if answer.fallback_reason:
        err.print(f"[yellow]note:[/] {shown(answer.fallback_reason)}")
    for c in answer.citations:
        label = " · ".join(x for x in (c.title, c.publisher, c.date) if x)
        console.print(f"\n[{c.n}] {printable(label, one_line=True)}\n    {printable(c.source, one_line=True)} "
                      f"(chars {c.start}-{c.end})", markup=False, highlight=False)
        console.print(f'    "{printable(c.quote)}"', style="dim", markup=False, highlight=False)


@app.command()
def chat() -> None:
    """A conversation in the terminal; follow-up questions use the earlier turns. Ctrl-D ends it."""
    try:
        conversation = _bot().chat()
    except RagError as exc:
        _fail(exc)
    while True:
        try:
            question = console.input("[bold cyan]you>[/] ")
        except (EOFError, KeyboardInterrupt):
            console.print()
            return
        if not question.strip():
            continue
        try:
            answer = conversation.ask(question)
        except RagError as exc:
            err.print(f"[red]{shown(exc)}[/]")
            continue
        if answer.standalone_question:
            err.print(f"[dim](searched for: {shown(answer.standalone_question)})[/]")
        _print_answer(answer)


@app.command()
def config() -> None:
    """Show the settings in effect (secrets are shown only as set / not set)."""
    from rag.settings import Settings

    try:
        settings = Settings()
    except Exception as exc:  # pydantic's message names the field and the bad value
        err.print(f"[bold red]error:[/] invalid settings: {shown(exc)}")
        raise typer.Exit(2)
    table = Table("concern", "setting", "value", "environment variable")
    for group, values in settings.grouped().items():
        for n, (name, value) in enumerate(values.items()):
            field = Settings.model_fields.get(name)
            if field is None:  # derived, not settable: e.g. answerer_in_effect
                env = "(derived)"
            else:
                env = field.validation_alias if isinstance(field.validation_alias, str) else f"RAG_{name.upper()}"
            table.add_row(group if n == 0 else "", name, shown(value), env, end_section=n == len(values) - 1)
    console.print(table)


@app.command("eval")
def eval_command(
    qa_file: Annotated[Path, typer.Argument(help="Regression set: our .jsonl, or a LlamaIndex LabelledRagDataset .json.")]
    = Path("tests/regression/seed_qa.jsonl"),
    k: Annotated[int, typer.Option("--k", min=1, max=50, help="Passages retrieved per question (metrics @1, @3, @5).")] = 5,
    answerer: Annotated[Optional[str], typer.Option(help="extractive | openai | lead (a baseline) | auto.")] = None,
    baseline: Annotated[Optional[Path], typer.Option(help="Run record to compare with (default: the last saved run of this set).")] = None,
    no_baseline: Annotated[bool, typer.Option("--no-baseline", help="Compare with nothing.")] = False,
    runs_dir: Annotated[Path, typer.Option(help="Where run records and reports are written.")] = Path("runs"),
    threshold: Annotated[Optional[list[str]], typer.Option(help="metric=value, overriding the set's target (repeatable).")] = None,
    tolerance: Annotated[float, typer.Option(help="How far a metric may fall below the baseline before the run fails.")] = 0.02,
    export_llama_dataset: Annotated[Optional[Path], typer.Option(help="Also write the set as a LabelledRagDataset JSON.")] = None,
    judge: Annotated[bool, typer.Option("--judge", help="Also score answers with the configured model as a judge.")] = False,
) -> None:
    """Run a regression set, print the metrics, record the run; exit 1 on a miss or a regression."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from rag.evaluation.cases import load_cases, save_labelled_rag_dataset
    from rag.evaluation.regression import run_regression

    overrides = {}
    for item in threshold or []:
        name, _, value = item.partition("=")
        try:
            overrides[name.strip()] = float(value)
        except ValueError:
            raise typer.BadParameter(f"--threshold takes metric=number, got {item!r}") from None
    try:
        if export_llama_dataset:
            save_labelled_rag_dataset(load_cases(qa_file), export_llama_dataset)
        bot = _bot(answerer=answerer)
        judge_model = None
        if judge:
            from rag.evaluation.judge import Judge

            if bot.model is None:
                err.print("[bold red]error:[/] --judge needs a model: set OPENAI_API_KEY, or OPENAI_BASE_URL for a "
                          "compatible server.")
                raise typer.Exit(2)
            judge_model = Judge(bot.model)
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=err, transient=True) as bar:
            task = bar.add_task(f"Asking the questions of {qa_file.name}", total=None)
            run = run_regression(bot, qa_file, runs_dir=runs_dir, k=k, thresholds=overrides, tolerance=tolerance,
                                 baseline=baseline, compare=not no_baseline, judge=judge_model,
                                 progress=lambda done, total: bar.update(task, completed=done, total=total))
    except RagError as exc:
        _fail(exc)
    record, verdict = run.record, run.verdict
    table = Table("metric", "value", "baseline", "delta", title=shown(f"{qa_file.name} · {record.answerer} · k={k}"))
    for name, (now, was) in verdict.deltas.items():
        style = "red" if name in verdict.regressions or name in verdict.below_threshold else None
        table.add_row(name, f"{now:.3f}", "" if was is None else f"{was:.3f}",
                      "" if was is None else f"{now - was:+.3f}", style=style)
    console.print(table)
    if run.known:
        console.print(f"{qa_file.name}: {run.known.about}" + ("; known hard, so its targets are lower." if
                                                               run.known.held_out else "."))
    for name, (value, bar_value) in verdict.below_threshold.items():
        console.print(f"[red]below threshold:[/] {name} {value:.3f} < {bar_value}")
    for name, (now, was) in verdict.regressions.items():
        console.print(f"[red]regressed:[/] {name} {was:.3f} -> {now:.3f} (tolerance {tolerance})")
    if verdict.flipped:
        console.print(f"[red]flipped from pass to fail ({len(verdict.flipped)}):[/] {shown(', '.join(verdict.flipped))}")
    if verdict.fixed:
        console.print(f"[green]fixed ({len(verdict.fixed)}):[/] {shown(', '.join(verdict.fixed))}")
    console.print(f"Run record: {printable(run.saved)}\nReport: {printable(run.report)}", markup=False, highlight=False)
    console.print("[bold red]FAILED[/]" if verdict.failed else "[bold green]PASSED[/]")
    if verdict.failed:
        raise typer.Exit(1)


def main() -> None:
    try:
        app()
    except RagError as exc:  # anything a command did not catch itself
        err.print(f"[bold red]error:[/] {shown(exc)}")
        sys.exit(2)


if __name__ == "__main__":
    main()
