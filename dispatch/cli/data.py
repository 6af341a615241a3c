"""`dispatch data`: the bundled data sets, listed or exported."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from dispatch.cli.common import (
    app,
    console,
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
    console.print(f"wrote {path}: {len(frame)} rows; {columns}", highlight=False)
    if left_out:
        console.print(
            f"left out (not priced over the whole period): {', '.join(left_out)}", highlight=False
        )


def _list_data() -> None:
    from dispatch.inputs.bundled import DATASETS, read_dataset

    table = Table(title="bundled data (dispatch/data, provenance in PROVENANCE.md)")
    for column in ("name", "interval", "unit", "coverage", "what", "source"):
        table.add_column(column, no_wrap=column in ("name", "interval"))
    for dataset in DATASETS.values():
        index = read_dataset(dataset.name).index
        table.add_row(
            dataset.name,
            dataset.interval,
            dataset.unit,
            f"{index[0]} to {index[-1]}",
            dataset.description,
            dataset.source,
        )
    console.print(table)
