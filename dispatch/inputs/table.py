"""What every reader shares: raw files in, one validated :class:`Table` out.

A reader turns its format into interval starts (tz-aware UTC, or dates for daily series) and
canonical columns (units in the names), then calls :func:`build_table`, which applies the same
checks to every format and names the file row of the first problem.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeAlias

import numpy as np
import pandas as pd

from dispatch.errors import InputError
from dispatch.inputs.align import RowLabel, check_series, check_values, csv_row, table_row
from dispatch.inputs.checks import check_timezone

Source: TypeAlias = str | Path | pd.DataFrame
"""A file path (CSV, optionally zipped, or Parquet) or an in-memory frame."""

_OFFSET = r"(?:Z|[+-]\d{2}:?\d{2})$"

Market: TypeAlias = Literal["day-ahead", "real-time"]
"""The market a price series cleared in: ERCOT's day-ahead market (hourly, cleared the day
before) or its real-time market (15-minute settlement point prices)."""
DAY = pd.Timedelta(days=1)
DAY_AHEAD: Market = "day-ahead"
REAL_TIME: Market = "real-time"


@dataclass(frozen=True)
class Table:
    """A validated series file: columns by quantity, indexed by tz-aware interval start (UTC)
    or by date (daily series), with the step between rows, where it came from and, for prices
    whose layout says so, the market they cleared in."""

    frame: pd.DataFrame
    step: pd.Timedelta
    path: str
    kind: str = "tidy"
    market: Market | None = None

    @property
    def description(self) -> str:
        """The file, its layout unless tidy and its market if known (for ``Inputs.sources``)."""
        notes = [n for n in (None if self.kind == "tidy" else self.kind, self.market) if n]
        return f"{self.path} ({', '.join(notes)})" if notes else self.path

    def column(self, name: str) -> pd.Series:
        """One series over the rows that carry it (an ancillary product launched mid-file,
        such as ECRS, starts later than the others)."""
        if name not in self.frame.columns:
            raise InputError(
                f"{self.path}: no column {name!r}; columns present: {', '.join(self.frame.columns)}"
            )
        return self.frame[name].dropna()


def source_name(source: Source) -> str:
    return "frame" if isinstance(source, pd.DataFrame) else str(source)


def is_parquet(path: str | Path) -> bool:
    """Whether a file name says Parquet (``.parquet``, in any case)."""
    return str(path).lower().endswith(".parquet")


def read_frame(source: Source) -> tuple[pd.DataFrame, RowLabel]:
    """The raw rows in file order, and how to name a row in messages.

    CSV files may be zipped (as downloaded from the ERCOT MIS); ``.parquet`` files are read with
    pyarrow; a frame is taken as it is (rows named by position).
    """
    if isinstance(source, pd.DataFrame):
        return source.reset_index(drop=True), lambda i: f"frame row {i + 1}"
    path = str(source)
    if path.lower().endswith((".xlsx", ".xls")):
        raise InputError(f"{path}: Excel workbooks are not read; save the sheet as CSV")
    try:
        if is_parquet(path):
            return pd.read_parquet(path), table_row(path)
        return pd.read_csv(path, skipinitialspace=True), csv_row(path)
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except (OSError, ValueError) as error:
        kind = "Parquet" if is_parquet(path) else "CSV"
        raise InputError(f"{path}: cannot read as {kind}: {error}") from None


def parse_times(raw: pd.Series, *, path: str, row: RowLabel, timezone: str | None) -> pd.Series:
    """UTC timestamps from ISO 8601 text or datetimes.

    Timestamps must carry a UTC offset (``Z``, ``-05:00``); offsets may change within a file, as
    they do across a DST change. Naive timestamps are refused unless ``timezone`` says where they
    are; then the repeated fall-back hour is ambiguous and refused.
    """
    raw = raw.reset_index(drop=True)
    if isinstance(raw.dtype, pd.DatetimeTZDtype):
        return raw.dt.tz_convert("UTC")
    if pd.api.types.is_datetime64_dtype(raw.dtype):
        return _localize(raw, path=path, row=row, timezone=timezone, example=str(raw.iloc[0]))
    text = raw.astype(str).str.strip()
    has_offset = text.str.contains(_OFFSET, regex=True)
    if has_offset.any() and not has_offset.all():
        i = int((~has_offset).idxmax() if has_offset.iloc[0] else has_offset.idxmax())
        raise InputError(
            f"{row(i)}: timestamp {raw.iloc[i]!r} mixes with timestamps of the other kind; write "
            "every timestamp with a UTC offset"
        )
    parsed = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=bool(has_offset.all()))
    if parsed.isna().any():
        i = int(parsed.isna().idxmax())
        raise InputError(f"{row(i)}: cannot read timestamp {raw.iloc[i]!r}")
    if has_offset.all():
        return parsed
    return _localize(parsed, path=path, row=row, timezone=timezone, example=str(raw.iloc[0]))


def _localize(
    naive: pd.Series, *, path: str, row: RowLabel, timezone: str | None, example: str
) -> pd.Series:
    if timezone is None:
        raise InputError(
            f"{path}: timestamps have no UTC offset (e.g. {example!r}); write them with an "
            "offset or Z, or pass --timezone"
        )
    check_timezone(timezone)
    local = naive.dt.tz_localize(timezone, ambiguous="NaT", nonexistent="NaT")
    if local.isna().any():
        i = int(local.isna().idxmax())
        raise InputError(
            f"{row(i)}: {naive.iloc[i]} is repeated or skipped by a DST change in {timezone}; "
            "naive local timestamps cannot say which, so write them with a UTC offset"
        )
    return local.dt.tz_convert("UTC")


def parse_dates(raw: pd.Series, *, path: str, row: RowLabel) -> pd.Series:
    """Calendar dates from ``YYYY-MM-DD`` text (or datetimes at midnight)."""
    raw = raw.reset_index(drop=True)
    if pd.api.types.is_datetime64_any_dtype(raw.dtype):
        return pd.Series(raw.dt.tz_localize(None) if raw.dt.tz else raw)
    parsed = pd.to_datetime(raw.astype(str).str.strip(), format="%Y-%m-%d", errors="coerce")
    if parsed.isna().any():
        i = int(parsed.isna().idxmax())
        raise InputError(f"{row(i)}: expected a date as YYYY-MM-DD, found {raw.iloc[i]!r}")
    return parsed


def numeric(frame: pd.DataFrame, name: str, row: RowLabel) -> pd.Series:
    """A column as floats; text that is not a number is an error naming its row."""
    values = pd.to_numeric(frame[name], errors="coerce").astype(float)
    bad = values.isna() & frame[name].notna()
    if bad.any():
        i = int(np.argmax(bad.to_numpy()))
        raise InputError(f"{row(i)}: {name} is not a number: {frame[name].iloc[i]!r}")
    return values.reset_index(drop=True)


def select_point(
    frame: pd.DataFrame,
    *,
    point_column: str,
    point: str | None,
    path: str,
    row: RowLabel,
    type_column: str | None = None,
) -> tuple[pd.DataFrame, RowLabel]:
    """The rows of one settlement point (location), keeping their file row labels.

    With no ``point`` a file of a single point is taken whole; a missing point is an error
    listing the points present.
    """
    names = frame[point_column].astype(str).str.strip()
    present = list(dict.fromkeys(names))
    if point is None:
        if len(present) > 1:
            raise InputError(
                f"{path}: holds {len(present)} settlement points ({_listing(present)}); the site "
                "must name one in market.settlement_point"
            )
        point = present[0]
    keep = np.flatnonzero((names == point).to_numpy())
    if keep.size == 0:
        raise InputError(
            f"{path}: settlement point {point!r} (market.settlement_point) is not in the file; "
            f"points present: {_listing(present)}"
        )
    rows = frame.iloc[keep].reset_index(drop=True)
    if type_column is not None and type_column in rows.columns:
        types = list(dict.fromkeys(rows[type_column].astype(str).str.strip()))
        if len(types) > 1:
            raise InputError(
                f"{path}: {point} appears under more than one {type_column} ({', '.join(types)}), "
                f"so each interval has several prices; keep the rows of one type"
            )
    return rows, lambda i: row(int(keep[i]))


def _listing(names: list[str], limit: int = 25) -> str:
    shown = ", ".join(sorted(names)[:limit])
    return shown if len(names) <= limit else f"{shown}, ... ({len(names)} in all)"


def build_table(
    times: pd.Series,
    columns: Mapping[str, pd.Series],
    *,
    path: str,
    row: RowLabel,
    daily: bool = False,
) -> Table:
    """Check every column against the times (NaN, duplicates, order, gaps, mixed intervals) and
    its values against the bounds its unit implies; index by interval start (UTC) or date.
    Daily series (``daily``) step by one day, so a single row is a whole series.

    ``times`` and each column are in file order: position i is the row ``row(i)``.
    """
    if not columns:
        raise InputError(f"{path}: no value columns besides the time column")
    times = times.reset_index(drop=True)
    step = pd.Timedelta(0)
    known = DAY if daily else None  # one row of a daily file is a whole series
    data = {}
    for name, values in columns.items():
        values = values.reset_index(drop=True)
        step = check_series(times, values, name=name, row=row, step=known)
        check_values(times, values, name=name, row=row)
        data[name] = values.to_numpy(dtype=float)
    if daily:
        index: pd.Index = pd.Index(pd.DatetimeIndex(times).date, name="date")
    else:
        index = pd.DatetimeIndex(times, name="interval_start").tz_convert("UTC")
    return Table(pd.DataFrame(data, index=index).sort_index(), step, path)
