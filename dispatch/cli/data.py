"""`dispatch data`: the bundled data sets, listed or exported."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from dispatch.cli.common import (
    app,
    console,
    say,
    show,
    user_errors,
)

data_app = typer.Typer(
    help="Bundled real data sets: list them (no arguments) or export one as a tidy file.",
    invoke_without_command=True,
    no_args_is_help=False,
)
app.add_typer(data_app, name="data")


@data_app.callback()
def data(context: typer.Context) -> None:
    """List the bundled real data sets (coverage, interval, unit, source), or export one."""
    if context.invoked_subcommand is None:
        _list_data()


@data_app.command("export")
@user_errors
def data_export(
    name: Annotated[str, typer.Argument(help="bundled data set (see `dispatch data`)")],
    out: Annotated[Path, typer.Option(help="file to write: .csv or .parquet")],
    settlement_point: Annotated[
        str | None, typer.Option(help="price node, e.g. HB_WEST (price data sets only)")
    ] = None,
    start: Annotated[str | None, typer.Option(help="first local day YYYY-MM-DD")] = None,
    end: Annotated[str | None, typer.Option(help="last local day YYYY-MM-DD (inclusive)")] = None,
    timezone: Annotated[
        str, typer.Option(help="time zone of the days and of the written offsets")
    ] = "America/Chicago",
) -> None:
    """Write a bundled data set as a tidy file that --prices/--hashprice/--profiles read back."""
    from dispatch.inputs.export import tidy_export, write_tidy
    from dispatch.inputs.horizon import parse_date

    first = parse_date(start, "--start") if start is not None else None
    last = parse_date(end, "--end") if end is not None else None
    frame, left_out = tidy_export(
        name, settlement_point=settlement_point, start=first, end=last, timezone=timezone
    )
    path = write_tidy(frame, out)
    columns = ", ".join(map(str, frame.columns[1:]))
    say(console, f"wrote {path}: {len(frame)} rows; {columns}")
    if left_out:
        say(console, f"left out (not priced over the whole period): {', '.join(left_out)}")


def _list_data() -> None:
    from dispatch.inputs.bundled import COVERAGE_TIMEZONE, DATASETS

    table = Table(title="bundled data (dispatch/data, provenance in PROVENANCE.md)")
    coverage = f"coverage (local days, {COVERAGE_TIMEZONE})"
    for column in ("name", "interval", "unit", coverage, "what", "source"):
        table.add_column(column, no_wrap=column in ("name", "interval"))
    for dataset in DATASETS.values():
        table.add_row(
            dataset.name,
            dataset.interval,
            dataset.unit,
            coverage_text(dataset.name),
            dataset.description,
            dataset.source,
        )
    show(console, table)


def coverage_text(name: str) -> str:
    """The local days a site can run on a bundled data set, e.g. ``2022-01-01 to 2025-04-12
    (ECRS 2023-06-10 to 2025-04-12)``: the span of its served columns, and every column that
    covers less."""
    from dispatch.inputs.bundled import local_day_coverage, served_columns

    spans = {column: local_day_coverage(name, column) for column in served_columns(name)}
    covered = [span for span in spans.values() if span is not None]
    first, last = min(s[0] for s in covered), max(s[1] for s in covered)
    narrower = [
        f"{column} {span[0]} to {span[1]}" if span else f"{column}: no whole day"
        for column, span in spans.items()
        if span != (first, last)
    ]
    text = f"{first} to {last}"
    return f"{text} ({'; '.join(narrower)})" if narrower else text
