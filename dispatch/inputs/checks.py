"""What the model may be given: every series it reads is finite and within the bounds its unit
implies, on the site's own intervals.

Checked when inputs are made (:meth:`Inputs.from_frame`) and again before every solve
(:func:`check_inputs`), because ``Inputs.frame`` is an ordinary DataFrame that code may edit after
loading: a NaN price written into it would otherwise reach HiGHS (which then searches for
minutes), an infinite one would read as an unbounded model.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from dispatch.errors import InputError
from dispatch.inputs.align import (
    FRACTION_SUFFIXES,
    PRICE_CEILING_USD_PER_MWH,
    PRICE_FLOOR_USD_PER_MWH,
    PRICE_SUFFIXES,
)
from dispatch.site.base import MAX_POWER_MW

HASHPRICE_CEILING_USD_PER_PH_DAY = 100_000.0
"""Per day: 20 x the highest daily hashprice since 2016 (files are also checked by their median,
1..20,000 USD/PH/day, which names a unit off by 1000)."""


def bounds(column: str) -> tuple[float, float] | None:
    """The plausible range of a series, from the unit in its name (None: finite is enough)."""
    if column.endswith(PRICE_SUFFIXES):
        return PRICE_FLOOR_USD_PER_MWH, PRICE_CEILING_USD_PER_MWH
    if column.endswith(FRACTION_SUFFIXES):
        return 0.0, 1.0
    if column.endswith("_usd_per_ph_day"):
        return 0.0, HASHPRICE_CEILING_USD_PER_PH_DAY
    if column.endswith("_mw_thermal"):
        return 0.0, MAX_POWER_MW
    return None


def check_values(frame: pd.DataFrame, columns: Iterable[str], what: str = "inputs") -> None:
    """Raise :class:`InputError` naming the column, interval and value of the first NaN,
    infinite or implausible value among ``columns`` (one array pass: this runs at every solve)."""
    names = list(columns)
    if not names:
        return
    try:
        position = {column: i for i, column in enumerate(frame.columns)}
        values = frame.to_numpy(dtype=float)[:, [position[name] for name in names]]
    except (TypeError, ValueError):  # a column the model does not read may hold text
        try:
            values = np.column_stack([frame[name].to_numpy(dtype=float) for name in names])
        except (TypeError, ValueError):
            raise InputError(f"{what}: {', '.join(names)}: values that are not numbers") from None
    index = frame.index
    bad = ~np.isfinite(values)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        value = values[row, col]
        kind = "NaN" if np.isnan(value) else f"{value}"
        raise InputError(f"{what}: {names[col]} is {kind} at {index[row]}")
    for col, column in enumerate(names):
        limits = bounds(column)
        if limits is None:
            continue
        low, high = limits
        outside = (values[:, col] < low) | (values[:, col] > high)
        if outside.any():
            row = int(np.argmax(outside))
            raise InputError(
                f"{what}: {column} must lie in {low:,.0f}..{high:,.0f}, found "
                f"{values[row, col]:g} at {index[row]}"
            )


def check_index(index: pd.Index, interval_minutes: int, timezone: str | None = None) -> None:
    """Tz-aware interval starts, at least one, each ``interval_minutes`` after the one before
    (and in ``timezone`` when given)."""
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
        raise InputError("inputs: index must be tz-aware interval starts")
    if len(index) < 1:
        raise InputError("inputs: the horizon has no intervals")
    step_ns = pd.Timedelta(minutes=interval_minutes).value
    off = np.diff(index.as_unit("ns").asi8) != step_ns
    if off.any():
        i = int(np.argmax(off)) + 1
        raise InputError(
            f"inputs: interval starting {index[i]} does not follow {index[i - 1]} by "
            f"interval_minutes = {interval_minutes}"
        )
    if timezone is not None and str(index.tz) != timezone:
        raise InputError(
            f"inputs: intervals are in {index.tz}, the site's time zone is {timezone}; load "
            "the inputs for this site"
        )


def check_timezone(name: object, option: str = "--timezone") -> str:
    """An IANA time zone name, or :class:`InputError` naming the option."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if not isinstance(name, str) or not name:
        raise InputError(f"{option}: expected an IANA time zone name, found {name!r}")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise InputError(
            f"{option}: unknown IANA time zone {name!r} (e.g. America/Chicago, UTC)"
        ) from None
    return name
