"""Tidy CSV / Parquet files: a time column and one column per series, units in the column names.

Interval series use ``interval_start`` (ISO 8601 with an offset or Z; naive timestamps only with an
explicit time zone); daily series use ``date`` (the site's local day).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from dispatch.errors import InputError
from dispatch.inputs.align import RowLabel, check_series, csv_row, table_row


@dataclass(frozen=True)
class Table:
    """A validated file: columns by quantity, indexed by tz-aware interval start or by date."""

    frame: pd.DataFrame
    step: pd.Timedelta
    path: str

    def column(self, name: str) -> pd.Series:
        if name not in self.frame.columns:
            raise InputError(
                f"{self.path}: no column {name!r}; columns present: {', '.join(self.frame.columns)}"
            )
        return self.frame[name]


def read_frame(path: str | Path) -> tuple[pd.DataFrame, RowLabel]:
    """The raw file in file order, and how to name its rows in messages."""
    path = str(path)
    try:
        if path.endswith(".parquet"):
            return pd.read_parquet(path), table_row(path)
        return pd.read_csv(path), csv_row(path)
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except (OSError, ValueError) as error:
        kind = "Parquet" if path.endswith(".parquet") else "CSV"
        raise InputError(f"{path}: cannot read as {kind}: {error}") from None


def parse_times(raw: pd.Series, *, path: str, row: RowLabel, timezone: str | None) -> pd.Series:
    """tz-aware UTC timestamps; naive ones are refused unless a time zone is given."""
    text = raw.astype(str)
    try:
        parsed = pd.to_datetime(text, format="ISO8601")
    except (ValueError, TypeError):
        parsed = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True)
        i = int(parsed.isna().idxmax())
        raise InputError(f"{row(i)}: cannot read timestamp {raw.iloc[i]!r}") from None
    if parsed.dt.tz is None:
        if timezone is None:
            raise InputError(
                f"{path}: timestamps have no UTC offset (e.g. {raw.iloc[0]!r}); write them with an "
                "offset or Z, or pass --timezone"
            )
        parsed = parsed.dt.tz_localize(timezone, ambiguous="raise", nonexistent="raise")
    return parsed.dt.tz_convert("UTC")


def read_tidy(path: str | Path, *, timezone: str | None = None) -> Table:
    """Read and check a tidy interval (``interval_start``) or daily (``date``) file."""
    frame, row = read_frame(path)
    path = str(path)
    daily = "interval_start" not in frame.columns
    if not daily:
        times = parse_times(frame.pop("interval_start"), path=path, row=row, timezone=timezone)
    elif "date" in frame.columns:
        try:
            dates = pd.to_datetime(frame.pop("date").astype(str), format="%Y-%m-%d")
        except ValueError as error:
            raise InputError(
                f"{path}: column 'date' must hold YYYY-MM-DD dates ({error})"
            ) from None
        times = pd.Series(dates)
    else:
        raise InputError(
            f"{path}: expected a time column 'interval_start' (or 'date' for daily series), "
            f"found columns {list(frame.columns)}"
        )
    if frame.columns.empty:
        raise InputError(f"{path}: no value columns besides the time column")
    step = pd.Timedelta(0)
    for name in frame.columns:
        values = pd.to_numeric(frame[name], errors="coerce")
        bad = values.isna() & frame[name].notna()
        if bad.any():
            i = int(bad.idxmax())
            raise InputError(f"{row(i)}: {name} is not a number: {frame[name].iloc[i]!r}")
        step = check_series(times, values, name=name, row=row)
        frame[name] = values
    if daily:
        frame.index = pd.Index(times.dt.date, name="date")
    else:
        frame.index = pd.DatetimeIndex(times, name="interval_start")
    return Table(frame.sort_index(), step, path)
