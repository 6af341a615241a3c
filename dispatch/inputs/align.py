"""Validate a time series and put it on the site's intervals.

Series arrive indexed by tz-aware interval start at their own step (15 min, 1 h, 1 day). Checks
name the file and row; alignment holds (or interpolates, when asked) coarser data over finer site
intervals and averages finer data over coarser site intervals, and refuses a horizon the data does
not cover.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Literal

import numpy as np
import pandas as pd

from dispatch.errors import InputError, InputWarning

RowLabel = Callable[[int], str]
Fill = Literal["hold", "interpolate"]

PRICE_FLOOR_USD_PER_MWH = -5_000.0
"""Prices below this are refused: 20x ERCOT's -250 USD/MWh offer floor, so what lies there is a
sentinel (-9999) or a unit slip, not a market price."""
PRICE_CEILING_USD_PER_MWH = 20_000.0
"""Prices above this are refused: over twice the highest ERCOT cap (9,000 USD/MWh), so a unit
slip (USD/GWh, a price x 1000) or a sentinel."""
ERCOT_CAP_CHANGE = pd.Timestamp("2022-01-01", tz="America/Chicago")
ERCOT_CAP_BEFORE_USD_PER_MWH = 9_000.0  # high system-wide offer cap until 2021
ERCOT_CAP_USD_PER_MWH = 5_000.0  # from 2022-01-01 (PUCT)
PRICE_SUFFIXES = ("_usd_per_mwh", "_usd_per_mw_h")
FRACTION_SUFFIXES = ("_capacity_factor", "_fraction", "coincident_peak_weight")
"""Series that lie in 0..1: capacity factors, fractions and probabilities."""


def csv_row(path: str) -> RowLabel:
    """Row labels for a CSV read in file order: line numbers, the header being line 1."""
    return lambda i: f"{path} line {i + 2}"


def table_row(path: str) -> RowLabel:
    return lambda i: f"{path} row {i + 1}"


def check_series(
    times: pd.Series,
    values: pd.Series,
    *,
    name: str,
    row: RowLabel,
    step: pd.Timedelta | None = None,
) -> pd.Timedelta:
    """Raise on NaN, duplicate, unordered or irregular timestamps; return the series' step.

    ``times`` and ``values`` are in file order (position i is file row i). A series whose
    ``step`` is known (a daily series steps by one day) may have a single row; without it the
    step is read from the rows, so at least two are needed.
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
    if step is None:
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


def ercot_cap_usd_per_mwh(times: pd.Series) -> np.ndarray:
    """ERCOT's system-wide offer cap in force at each (tz-aware) time [USD/MWh]."""
    before = (times < ERCOT_CAP_CHANGE).to_numpy()
    return np.where(before, ERCOT_CAP_BEFORE_USD_PER_MWH, ERCOT_CAP_USD_PER_MWH)


def check_values(times: pd.Series, values: pd.Series, *, name: str, row: RowLabel) -> None:
    """Refuse values that the unit in ``name`` makes implausible; warn above the ERCOT cap.

    Prices (``*_usd_per_mwh``, ``*_usd_per_mw_h``) must lie in
    [``PRICE_FLOOR_USD_PER_MWH``, ``PRICE_CEILING_USD_PER_MWH``]; above the ERCOT offer cap
    in force (9,000 USD/MWh before 2022, 5,000 after) they raise an :class:`InputWarning`, since
    real-time adders can carry a price past the cap. Capacity factors and fractions lie in 0..1.
    """
    array = values.to_numpy(dtype=float)
    if name.endswith(PRICE_SUFFIXES):
        wild = (array < PRICE_FLOOR_USD_PER_MWH) | (array > PRICE_CEILING_USD_PER_MWH)
        if wild.any():
            i = int(np.argmax(wild))
            raise InputError(
                f"{row(i)}: {name} = {array[i]:,.2f} at {times.iloc[i]} is outside the plausible "
                f"range {PRICE_FLOOR_USD_PER_MWH:,.0f}..{PRICE_CEILING_USD_PER_MWH:,.0f} USD/MWh; "
                "check the unit (USD/MWh expected) and missing-value markers"
            )
        if isinstance(times.dtype, pd.DatetimeTZDtype):
            cap = ercot_cap_usd_per_mwh(times)
            above = array > cap
            if above.any():
                i = int(np.argmax(above))
                warnings.warn(
                    f"{row(i)}: {name} = {array[i]:,.2f} at {times.iloc[i]} is above the ERCOT "
                    f"offer cap then in force ({cap[i]:,.0f} USD/MWh); {int(above.sum())} value(s) "
                    "above the cap in all. Real-time adders can do that; kept as given.",
                    InputWarning,
                    stacklevel=2,
                )
    elif name.endswith(FRACTION_SUFFIXES):
        outside = (array < 0) | (array > 1)
        if outside.any():
            i = int(np.argmax(outside))
            # a series peaking between 2 and 100 is a percentage; 1.3 is a slip, not 130 %
            percent = 2 < array.max() <= 100
            hint = " (it looks like a percentage: divide by 100)" if percent else ""
            raise InputError(
                f"{row(i)}: {name} must lie in 0..1, found {array[i]:g} at {times.iloc[i]}{hint}"
            )


def align(
    series: pd.Series,
    step: pd.Timedelta,
    horizon: pd.DatetimeIndex,
    *,
    name: str,
    source: str,
    fill: Fill | None,
) -> pd.Series:
    """Values of a regular ``series`` (index = interval start) on the ``horizon`` intervals.

    Coarser data is held (``fill="hold"``: each value repeated over the finer intervals it
    spans) or linearly interpolated between interval midpoints (``fill="interpolate"``); with
    ``fill=None`` coarser data is refused, so the choice is never made silently. Finer data is
    averaged over each coarser interval, which must be fully covered.
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
    if step > site_step and fill is None:
        raise InputError(
            f"{source}: {name} steps by {duration(step)}, coarser than the site's "
            f"{duration(site_step)} intervals; choose how to fill them: --fill hold (repeat each "
            "value) or --fill interpolate (linear between interval midpoints)"
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


def duration(step: pd.Timedelta) -> str:
    """A step as people write it: ``1 h``, ``15 min``."""
    minutes = int(step / pd.Timedelta(minutes=1))
    return f"{minutes // 60} h" if minutes % 60 == 0 else f"{minutes} min"
