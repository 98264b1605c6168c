"""The ``seqscale`` command line: a thin shell over :mod:`seqscale.cli.jobs` and the library.

Each command parses its options, calls one public function and prints a short summary. A user
mistake (a :class:`~seqscale.errors.SeqscaleError`, or a usage mistake such as an unknown option
or method) is one line on stderr and exit code 2, with no traceback and no partial output file;
anything else is a bug and keeps its traceback.

Stdout carries only results (summaries, tables); progress bars, notes and warnings go to
stderr. Help pages and tables are plain text without boxes when stdout is not a terminal or
``NO_COLOR`` / ``TERM=dumb`` ask for it (:func:`plain`); piped or redirected, every help text and
table cell is printed whole on its line. ``NO_COLOR`` turns colors off.
Also runs as ``python -m seqscale``.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import os
import sys
import warnings
from collections.abc import Callable, Iterator
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console, Group
from rich.protocol import is_renderable, rich_cast
from rich.table import Table
from typer.core import TyperCommand, TyperGroup

from seqscale.advisor.api import advise as run_advise
from seqscale.advisor.lstm import EPOCHS, PATIENCE
from seqscale.cli.jobs import check_job, file_rows, fit_job, read_frame, transform_job
from seqscale.cli.tables import check_table
from seqscale.errors import ParameterError, SeqscaleError
from seqscale.lab.compare import compare as run_compare
from seqscale.lab.demo import run_demo
from seqscale.scalers.estimators import SCALERS
from seqscale.scalers.registry import DEFAULT_METHOD
from seqscale.util.atomic import check_output
from seqscale.util.version import __version__

#: The width of piped or redirected text: every cell and every help line in full, unwrapped.
UNWRAPPED = 10_000


def plain() -> bool:
    """Plain text on stdout: when it is not a terminal, or ``NO_COLOR`` / ``TERM=dumb`` ask for it.

    Plain help and tables have no boxes; piped, their lines are not wrapped either.
    """
    return not sys.stdout.isatty() or bool(os.environ.get("NO_COLOR")) or os.environ.get("TERM") == "dumb"


def _unboxed(renderable: Any, console: Console) -> Any:
    """``renderable`` with every rich table in it drawn without its box (lines kept aligned)."""
    renderable = rich_cast(renderable)
    if isinstance(renderable, Table):
        renderable.box = None
        renderable.title_justify = "left"  # not centred over a line as wide as the table's cells
        return renderable
    if isinstance(renderable, Group):
        return Group(*(_unboxed(r, console) for r in renderable.renderables))
    if hasattr(renderable, "__rich_console__"):  # e.g. the advice: a table it builds on demand
        parts = list(renderable.__rich_console__(console, console.options))
        # only what holds tables is taken apart: anything else (a rule) was just drawn at the
        # console's full width, not at the width the caller prints it with
        tables = any(isinstance(p, (Table, Group)) for p in parts)
        if tables and all(isinstance(p, str) or is_renderable(p) for p in parts):
            return Group(*(_unboxed(p, console) for p in parts))
    return renderable


class _Out(Console):
    """The results console: plain tables (:func:`plain`) when stdout is not a terminal."""

    def print(self, *objects: Any, **options: Any) -> None:
        if plain():
            objects = tuple(_unboxed(o, self) for o in objects)
        super().print(*objects, **options)


out = _Out(width=None if sys.stdout.isatty() else UNWRAPPED)
err = Console(stderr=True)


#: click's UsageError, found through typer's public BadParameter (its subclass): typer bundles its
#: own copy of click in recent releases and uses click itself in older ones.
_UsageError = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")


@contextlib.contextmanager
def _usage_errors() -> Iterator[None]:
    """A usage mistake as one line on stderr and exit code 2, like every other user mistake."""
    try:
        yield
    except _UsageError as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # a bare `seqscale`: the help, as asked
            if not plain():
                raise  # rich drew it already
            out.print(exc.format_message(), markup=False, highlight=False)
            raise typer.Exit(2) from None
        where = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
        message = " ".join(exc.format_message().replace("Value error, ", "").split())
        err.print(f"seqscale: error: {message}{where}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


class _PlainHelp:
    """Help as plain text when :func:`plain` (click's layout: no boxes, words never cut)."""

    rich_markup_mode: Any

    def format_help(self, ctx: Any, formatter: Any) -> None:
        if not plain():
            return super().format_help(ctx, formatter)  # type: ignore[misc]
        mode, self.rich_markup_mode = self.rich_markup_mode, None
        try:
            return super().format_help(ctx, formatter)  # type: ignore[misc]
        finally:
            self.rich_markup_mode = mode


class _Command(_PlainHelp, TyperCommand):
    """A command whose help is plain text when :func:`plain`."""


class _Commands(_PlainHelp, TyperGroup):
    """The command group, with usage mistakes reported by :func:`_usage_errors`."""

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any) -> Any:
        if parent is None and not sys.stdout.isatty():  # piped help: each text on one line
            extra.setdefault("terminal_width", UNWRAPPED)
        with _usage_errors():
            return super().make_context(info_name, args, parent=parent, **extra)

    def invoke(self, ctx: Any) -> Any:
        with _usage_errors():
            return super().invoke(ctx)


app = typer.Typer(
    name="seqscale",
    cls=_Commands,
    help="Scale sequence and time-series data for LSTMs: advise, fit, transform, inverse, check, compare.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _print_version(value: bool) -> None:
    if value:
        out.print(f"seqscale {__version__}", markup=False, highlight=False)
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """Scale sequence and time-series data for LSTMs: advise, fit, transform, inverse, check, compare."""


#: The scaling methods, listed by ``--help`` and checked by the parser.
Method = Enum("Method", {name: name for name in SCALERS}, type=str)
_DEFAULT_METHOD = Method(DEFAULT_METHOD)

Data = Annotated[Path, typer.Argument(help="CSV or Parquet file (by extension).", show_default=False)]
Coefs = Annotated[Path, typer.Option("--coefficients", "-c", help="Fitted coefficients (JSON).")]
Output = Annotated[Path, typer.Option("--output", "-o", help="Output file; its extension picks the format.")]
SeriesId = Annotated[
    str | None,
    typer.Option("--id", help="Series id column (long-format panels): one set of coefficients per series."),
]
OldGroups = Annotated[str | None, typer.Option("--groups", hidden=True, help="Deprecated: use --id.")]
PanelId = Annotated[str | None, typer.Option("--id", help="Series id column (long-format panels).")]
Target = Annotated[str, typer.Option("--target", "-t", help="Column to predict.")]
Time = Annotated[
    str | None,
    typer.Option(
        help="Time column: dates, date-times, years (1871), year-months (1980-01) or quarters "
        "(1959Q1). Default: the one column holding dates."
    ),
]


def _series(id: str | None, groups: str | None) -> str | None:
    """``--id``, or the deprecated ``--groups`` (with a note on stderr)."""
    if groups is None:
        return id
    if id is not None and id != groups:
        raise ParameterError(f"--id {id!r} and --groups {groups!r}: give the series column once, as --id.")
    _note("--groups is deprecated; use --id (the same option in every command).")
    return groups


def _series_options(func: Callable[..., None]) -> Callable[..., None]:
    """Give a command taking ``id`` the options ``--id`` and its deprecated spelling ``--groups``;
    the command receives the one series column (:func:`_series`) as ``id``."""
    signature = inspect.signature(func, eval_str=True)
    params = []
    for param in signature.parameters.values():
        if param.name == "id":
            params.append(param.replace(annotation=SeriesId, default=None))
            param = inspect.Parameter("groups", param.kind, annotation=OldGroups, default=None)
        params.append(param)

    @functools.wraps(func)
    def wrapper(*args: Any, id: str | None = None, groups: str | None = None, **kwargs: Any) -> None:
        return func(*args, id=_series(id, groups), **kwargs)

    wrapper.__signature__ = signature.replace(parameters=params)
    return wrapper


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """A warning as one line on stderr, without the source file and line it came from."""
    text = " ".join(str(message).split())
    err.print(f"seqscale: warning: {text}", markup=False, highlight=False, soft_wrap=True)


def _unchanged(summary: dict) -> None:
    """Name the numeric columns written as read because the fitted file does not know them."""
    if summary.get("passed"):
        names = ", ".join(map(str, summary["passed"]))
        out.print(f"left as read (no coefficients for them): {names}", highlight=False, markup=False)


def _note(text: str | None) -> None:
    if text:
        err.print(f"seqscale: note: {text}", markup=False, highlight=False, soft_wrap=True)


def _user_errors(func):
    """Turn a SeqscaleError into one line on stderr and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            with warnings.catch_warnings():
                warnings.showwarning = _show_warning
                return func(*args, **kwargs)
        except SeqscaleError as exc:
            message = " ".join(str(exc).split())
            err.print(f"seqscale: error: {message}", markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
        except FileNotFoundError as exc:
            err.print(f"seqscale: error: {exc.filename}: no such file.", markup=False, highlight=False)
            raise typer.Exit(2) from None

    return wrapper


@app.command(cls=_Command)
@_user_errors
def advise(
    data: Data,
    target: Target,
    task: Annotated[str, typer.Option(help="regression | binary | multiclass")] = "regression",
    time: Time = None,
    id: PanelId = None,
    output_activation: Annotated[str | None, typer.Option(help="sigmoid | tanh | linear | softmax")] = None,
    plan: Annotated[Path | None, typer.Option(help="Write the recommended plan (JSON) here.")] = None,
    report: Annotated[Path | None, typer.Option(help="Write the HTML report here.")] = None,
    validate: Annotated[
        bool,
        typer.Option(
            "--validate",
            help="Check the choice on data: score candidate plans with a small LSTM on a "
            "validation split of the training rows (the test period is never read).",
        ),
    ] = False,
) -> None:
    """Analyze every column and recommend how to scale it, with reasons.

    Example: seqscale advise sales.csv --target sales --time date --plan plan.json --report report.html
    """
    for written in (plan, report):
        if written is not None:
            check_output(written, [data])
    frame, time, note = read_frame(data, time=time, id=id, sort=True)
    with file_rows(data, frame):
        advice = run_advise(
            frame,
            target=target,
            task=task,
            output_activation=output_activation,
            time=time,
            id=id,
            validate=validate,
        )
    out.print(advice)
    if plan is not None:
        advice.save_plan(plan)
        out.print(
            f"plan written to [bold]{plan}[/] (edit it, then: "
            f"seqscale fit {data} --plan {plan} -o coefficients.json)"
        )
    if report is not None:
        advice.report(report)
        out.print(f"report written to [bold]{report}[/]")
    _note(note)  # after the work: a failed command prints its one error line only


@app.command(cls=_Command)
@_user_errors
@_series_options
def fit(
    data: Data,
    output: Output,
    plan: Annotated[
        Path | None, typer.Option(help="Plan from 'seqscale advise' (fits the whole pipeline).")
    ] = None,
    method: Annotated[
        Method,
        typer.Option(help="Without a plan: the scaling method of every column (minmax: to [0, 1])."),
    ] = _DEFAULT_METHOD,
    columns: Annotated[
        list[str] | None,
        typer.Option("--column", help="Without a plan: columns to scale (repeatable)."),
    ] = None,
    id: str | None = None,
    train_until: Annotated[
        str | None,
        typer.Option(help="First test time: rows before it train (a date, or 1950 in a column of years)."),
    ] = None,
    train_rows: Annotated[
        int | None, typer.Option(help="Instead of a time: the first N rows (of each series) train.")
    ] = None,
    time: Time = None,
) -> None:
    """Fit on the training period and save the coefficients as JSON.

    Example: seqscale fit sales.csv --plan plan.json --train-until 2023-01-01 -o coefficients.json
    """
    summary = fit_job(
        data,
        output,
        plan=plan,
        method=Method(method).value,
        columns=columns,
        id=id,
        train_until=train_until,
        train_rows=train_rows,
        time=time,
        progress=sys.stderr.isatty(),
    )
    _note(summary["note"])
    missing = f"; {summary['missing']} missing value(s) skipped" if summary["missing"] else ""
    out.print(
        f"fitted {summary['kind']} on {summary['rows']} rows{missing}; "
        f"columns: {', '.join(map(str, summary['columns']))}",
        highlight=False,
    )
    out.print(f"coefficients written to [bold]{output}[/]")


@app.command(cls=_Command)
@_user_errors
@_series_options
def transform(
    data: Data,
    coefficients: Coefs,
    output: Output,
    id: str | None = None,
) -> None:
    """Scale new data exactly as the training data was scaled.

    Columns the coefficients do not scale are written exactly as read.

    Example: seqscale transform new.csv -c coefficients.json -o scaled.parquet
    """
    summary = transform_job(data, coefficients, output, id=id, progress=sys.stderr.isatty())
    out.print(
        f"scaled {summary['rows']} rows ({', '.join(map(str, summary['columns']))}) → [bold]{output}[/]",
        highlight=False,
    )


@app.command(cls=_Command)
@_user_errors
@_series_options
def inverse(
    pred: Annotated[Path, typer.Argument(help="Predictions (CSV or Parquet) with columns named as fitted.")],
    coefficients: Coefs,
    output: Output,
    id: str | None = None,
    history: Annotated[
        Path | None,
        typer.Option(
            help="Pipeline with differencing: the observed data (time column and levels) that "
            "the differences continue; the output is then in levels."
        ),
    ] = None,
) -> None:
    """Map scaled values or predictions back to original units.

    Columns are matched by name. A differenced pipeline column needs --history to come back as
    levels; without it the command refuses rather than return differences.

    Example: seqscale inverse predictions.csv -c coefficients.json -o predictions_real.csv
    """
    summary = transform_job(pred, coefficients, output, inverse=True, id=id, history=history)
    out.print(
        f"inverted {summary['rows']} rows ({', '.join(map(str, summary['columns']))}) "
        f"to {summary.get('units', 'original units')} → [bold]{output}[/]",
        highlight=False,
    )
    _unchanged(summary)


@app.command(cls=_Command)
@_user_errors
@_series_options
def check(
    data: Data,
    coefficients: Coefs,
    tolerance: Annotated[
        float, typer.Option(help="Largest share of values allowed outside the fitted range.")
    ] = 0.0,
    drift: Annotated[float, typer.Option(help="Largest shift of the mean allowed, in training stds.")] = 3.0,
    id: str | None = None,
) -> None:
    """Report out-of-range values and drift of every input column; exit code 1 when beyond tolerance.

    Example: seqscale check june.csv -c coefficients.json --tolerance 0.01 || echo "refit needed"
    """
    report, ok = check_job(data, coefficients, tolerance=tolerance, drift=drift, id=id)
    out.print(check_table(report, tolerance, drift))
    if not ok:
        out.print("[bold red]beyond tolerance[/]: some columns left the fitted range or drifted.")
        raise typer.Exit(1)
    out.print("[green]ok[/]: within tolerance.")


@app.command(cls=_Command)
@_user_errors
def compare(
    data: Data,
    target: Target,
    time: Annotated[str | None, typer.Option(help="Time column (the split never shuffles).")] = None,
    id: PanelId = None,
    plan: Annotated[
        list[Path] | None,
        typer.Option(
            help="Your plan file(s), compared on the same footing; named by file stem (repeatable)."
        ),
    ] = None,
    test_size: Annotated[
        float, typer.Option(help="Share in (0, 1), or a whole number, of the last time steps held out.")
    ] = 0.2,
    n_in: Annotated[int | None, typer.Option(help="Input window length [default: the advised one].")] = None,
    seeds: Annotated[int, typer.Option(help="Seeds per variant (mean ± std).")] = 3,
    epochs: Annotated[
        int, typer.Option(help="Epoch budget per run (early stopping on a time-ordered validation split).")
    ] = EPOCHS,
    validate: Annotated[
        bool, typer.Option("--validate", help="Add the advice's validated choice as its own row (slower).")
    ] = False,
    patience: Annotated[
        int, typer.Option(help="Early stopping: epochs without a better validation loss.")
    ] = PATIENCE,
    out_dir: Annotated[
        Path,
        typer.Option(
            "--out", help="Folder for comparison.json, plans/, losses.png, forecasts.png, report.html."
        ),
    ] = Path("seqscale-compare"),
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the numbers as JSON here.")
    ] = None,
) -> None:
    """Train the same LSTM on raw, normalized, standardized and advised data; RMSE/MAE in real units.

    Example: seqscale compare sales.csv --target sales --time date --id store --plan my_plan.json
    """
    plans = _plan_files(plan or [])
    size = _test_size(test_size)
    if json_out is not None:
        check_output(json_out, [data, *(plan or [])])
    frame, time, note = read_frame(data, time=time, id=id)
    with file_rows(data, frame):
        result = run_compare(
            frame,
            target,
            time=time,
            id=id,
            plans=plans,
            test_size=size,
            n_in=n_in,
            seeds=seeds,
            epochs=epochs,
            patience=patience,
            validate=validate,
            progress=sys.stderr.isatty(),
        )
    out.print(result)
    result.save(out_dir)
    if json_out is not None:
        result.to_json(json_out)
        out.print(f"numbers written to [bold]{json_out}[/]")
    out.print(f"numbers, plans, loss curves, forecasts and report written to [bold]{out_dir}[/]")
    _note(note)


def _test_size(value: float) -> float | int:
    """``--test-size``: a share in (0, 1) or a whole number of rows (> 1)."""
    if 0 < value < 1:
        return value
    if value > 1 and float(value).is_integer():
        return int(value)
    raise ParameterError(
        f"--test-size {value:g}: give a share of the rows in (0, 1), e.g. 0.2, or a whole number of "
        "rows, e.g. 40."
    )


def _plan_files(paths: list[Path]) -> dict[str, Path] | None:
    """``--plan`` files by variant name (the file stem); two files of one name are refused."""
    names: dict[str, Path] = {}
    for path in paths:
        if path.stem in names:
            raise ParameterError(
                f"--plan {path} and --plan {names[path.stem]} would both be variant {path.stem!r}; "
                "rename one file (the variant is named after the file)."
            )
        names[path.stem] = path
    return names or None


@app.command(cls=_Command)
@_user_errors
def demo(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for every output.")] = Path("seqscale-demo"),
    quick: Annotated[bool, typer.Option(help="Fewer seeds and epochs: a smoke run.")] = False,
) -> None:
    """The whole story on bundled real data, from advice to a report.

    Advise, fit, save, transform, compare LSTMs, invert, check drift, write report.html.

    Example: seqscale demo --out seqscale-demo
    """
    run_demo(out_dir, quick=quick, console=out)


def main() -> None:
    """Entry point of the ``seqscale`` command (and of ``python -m seqscale``)."""
    # One program name however it is started, so shell completion finds `seqscale`.
    app(prog_name="seqscale")


if __name__ == "__main__":
    main()
