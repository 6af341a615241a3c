"""Validate a time series and put it on the site's intervals.

Series arrive indexed by tz-aware interval start at their own step (15 min, 1 h, 1 day). Checks
name the file and row; alignment holds coarser data over finer site intervals and averages finer
data over coarser site intervals, and refuses a horizon the data does not cover.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
import pandas as pd

from dispatch.errors import InputError

RowLabel = Callable[[int], str]
Fill = Literal["hold", "interpolate"]


def csv_row(path: str) -> RowLabel:
    """Row labels for a CSV read in file order: line numbers, the header being line 1."""
    return lambda i: f"{path} line {i + 2}"


def table_row(path: str) -> RowLabel:
    return lambda i: f"{path} row {i + 1}"


def check_series(times: pd.Series, values: pd.Series, *, name: str, row: RowLabel) -> pd.Timedelta:
    """Raise on NaN, duplicate, unordered or irregular timestamps; return the series' step.

    ``times`` and ``values`` are in file order (position i is file row i).
    """
    times = times.reset_index(drop=True)
    values = values.reset_index(drop=True)
    bad_time = times.isna()
    if bad_time.any():
        raise InputError(f"{row(int(bad_time.idxmax()))}: missing or unreadable timestamp")
    missing = values.isna()
    if missing.any():
        i = int(missing.idxmax())
        raise InputError(f"{row(i)}: {name} is missing (NaN) at {times[i]}")
    duplicated = times.duplicated()
    if duplicated.any():
        i = int(duplicated.idxmax())
        raise InputError(f"{row(i)}: duplicate timestamp {times[i]} for {name}")
    steps = times.diff().iloc[1:]
    if (steps <= pd.Timedelta(0)).any():
        i = int((steps <= pd.Timedelta(0)).idxmax())
        raise InputError(f"{row(i)}: timestamps go backwards ({times[i - 1]} then {times[i]})")
    if steps.empty:
        raise InputError(f"{row(0)}: {name} needs at least two timestamps to show its interval")
    step = steps.mode().iloc[0]
    off = steps != step
    if off.any():
        i = int(off.idxmax())
        kind = "gap" if steps[i] > step else "mixed interval"
        raise InputError(
            f"{row(i)}: {kind} in {name}: {times[i - 1]} to {times[i]} is {steps[i]}, "
            f"the series steps by {step}"
        )
    return step


def align(
    series: pd.Series,
    step: pd.Timedelta,
    horizon: pd.DatetimeIndex,
    *,
    name: str,
    source: str,
    fill: Fill = "hold",
) -> pd.Series:
    """Values of a regular ``series`` (index = interval start) on the ``horizon`` intervals.

    Coarser data is held (or linearly interpolated) over finer intervals; finer data is averaged
    over each coarser interval, which must be fully covered.
    """
    series = series.tz_convert(horizon.tz)
    series.index = series.index.as_unit("ns")
    horizon = horizon.as_unit("ns")
    site_step = horizon[1] - horizon[0] if len(horizon) > 1 else pd.Timedelta(horizon.freq)
    data_start = series.index[0]
    data_end = series.index[-1] + step
    need_start, need_end = horizon[0], horizon[-1] + site_step
    if need_start < data_start or need_end > data_end:
        raise InputError(
            f"{source}: {name} covers {data_start} to {data_end}, the horizon needs "
            f"{need_start} to {need_end}"
        )
    if step >= site_step:
        if fill == "interpolate":
            points = series.copy()
            points.index = points.index + step / 2  # interval means sit at interval midpoints
            mids = horizon + site_step / 2
            values = np.interp(
                mids.asi8, points.index.asi8, points.to_numpy(), left=np.nan, right=np.nan
            )
            held = series.reindex(horizon, method="ffill").to_numpy()
            values = np.where(np.isnan(values), held, values)
        else:
            values = series.reindex(horizon, method="ffill").to_numpy()
        return pd.Series(values, index=horizon, name=name)
    bins = np.searchsorted(horizon.asi8, series.index.asi8, side="right") - 1
    inside = (series.index >= need_start) & (series.index < need_end)
    grouped = series[inside].groupby(bins[inside])
    expected = round(site_step / step)
    counts = grouped.size().reindex(range(len(horizon)), fill_value=0)
    if (counts != expected).any():
        i = int((counts != expected).idxmax())
        raise InputError(
            f"{source}: {name} has {counts[i]} values in the interval starting {horizon[i]}, "
            f"expected {expected} (data step {step} does not divide the site interval {site_step})"
        )
    return pd.Series(grouped.mean().to_numpy(), index=horizon, name=name)
