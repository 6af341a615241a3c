"""`dispatch fetch`: ERCOT's published prices for one day, as an inputs folder for `run`."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from dispatch.cli.common import app, console, say, user_errors


@app.command()
@user_errors
def fetch(
    day: Annotated[str, typer.Option(help="operating day YYYY-MM-DD (Central Prevailing Time)")],
    settlement_point: Annotated[
        str, typer.Option(help="ERCOT settlement point: hub, load zone or node, e.g. HB_WEST")
    ],
    out: Annotated[Path, typer.Option(help="folder to write the input files into")],
    hashprice: Annotated[
        float | None,
        typer.Option(
            help="today's hashprice [USD/PH/day] (from your pool or a hashprice index); "
            "written dated the day before --day"
        ),
    ] = None,
) -> None:
    """Pull one day's ERCOT prices (gridstatus) into a folder that `run --inputs` reads.

    Day-ahead settlement point prices and ancillary clearing prices (known from about 13:30 CPT
    the day before), real-time prices once the day has ended. Needs the fetch extra (gridstatus).
    """
    from dispatch.inputs.fetch import fetch_day
    from dispatch.inputs.horizon import parse_date

    # gridstatus logs each request at INFO on a handler of its own, unless one is there already
    gridstatus_log = logging.getLogger("gridstatus")
    gridstatus_log.addHandler(logging.NullHandler())
    gridstatus_log.setLevel(logging.WARNING)
    fetched = fetch_day(
        parse_date(day, "--day"), settlement_point, out, hashprice_usd_per_ph_day=hashprice
    )
    for path in fetched.written:
        say(console, f"wrote {path}")
    for note in fetched.notes:
        say(console, f"note: {note}")
