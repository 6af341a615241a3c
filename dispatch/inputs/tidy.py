"""Tidy CSV / Parquet files: a time column and one column per series, units in the column names.

Interval series use ``interval_start`` (ISO 8601 with an offset or Z; naive timestamps only with an
explicit time zone); daily series use ``date`` (the site's local day). A price column may state its
market (``da_price_usd_per_mwh``, ``rt_price_usd_per_mwh``; see :mod:`dispatch.inputs.prices`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pandas as pd

from dispatch.errors import InputError
from dispatch.inputs.align import RowLabel
from dispatch.inputs.prices import tidy_price_market
from dispatch.inputs.table import (
    Source,
    Table,
    build_table,
    numeric,
    parse_dates,
    parse_times,
    read_frame,
    source_name,
)

TIME_COLUMNS = ("interval_start", "date")


def is_tidy(columns: pd.Index) -> bool:
    return any(c in columns for c in TIME_COLUMNS)


def read_tidy(
    source: Source, *, timezone: str | None = None, columns: Sequence[str] | None = None
) -> Table:
    """Read and check a tidy interval (``interval_start``) or daily (``date``) file.

    Parameters
    ----------
    source
        CSV or Parquet path, or a frame.
    timezone
        IANA zone of naive timestamps; without it naive timestamps are refused.
    columns
        Value columns to read and check (default: all); others are ignored.
    """
    frame, row = read_frame(source)
    return tidy_table(frame, row=row, path=source_name(source), timezone=timezone, columns=columns)


def tidy_table(
    frame: pd.DataFrame,
    *,
    row: RowLabel,
    path: str,
    timezone: str | None = None,
    columns: Sequence[str] | None = None,
) -> Table:
    """:func:`read_tidy` on rows already read."""
    if "interval_start" in frame.columns:
        daily = False
        times = parse_times(frame["interval_start"], path=path, row=row, timezone=timezone)
    elif "date" in frame.columns:
        daily = True
        times = parse_dates(frame["date"], path=path, row=row)
    else:
        raise InputError(
            f"{path}: expected a time column 'interval_start' (or 'date' for daily series), "
            f"found columns {list(frame.columns)}"
        )
    names = [c for c in frame.columns if c not in TIME_COLUMNS]
    if columns is not None:
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise InputError(
                f"{path}: no column {missing[0]!r}; columns present: {', '.join(map(str, names))}"
            )
        names = list(columns)
    values = {str(name): numeric(frame, name, row) for name in names}
    table = build_table(times, values, path=path, row=row, daily=daily)
    return replace(table, market=tidy_price_market(pd.Index(names)))
