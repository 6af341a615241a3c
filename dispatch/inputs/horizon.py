"""Horizons: the site's intervals between two local dates, DST handled by absolute time steps."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from dispatch.errors import InputError


def parse_date(value: str | dt.date, field: str) -> dt.date:
    """A local calendar date from ``YYYY-MM-DD`` (error names the argument)."""
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{field}: expected a date as YYYY-MM-DD, found {value!r}") from None


def horizon_index(
    timezone: str, interval_minutes: int, start: dt.date, end: dt.date
) -> pd.DatetimeIndex:
    """Interval starts from local midnight of ``start`` to local midnight after ``end`` (inclusive).

    Steps are absolute, so a spring-forward day has 23 h (92 quarter-hours) and a fall-back day
    25 h (100 quarter-hours). In the few zones whose clocks change at midnight, a day starts at
    its first existing instant (spring) or at the first of two midnights (fall).
    """
    if end < start:
        raise InputError(f"--end {end} is before --start {start}")

    def midnight(day: dt.date) -> pd.Timestamp:
        return pd.Timestamp(day).tz_localize(timezone, ambiguous=True, nonexistent="shift_forward")

    first, stop = midnight(start), midnight(end + dt.timedelta(days=1))
    index = pd.date_range(first, stop, freq=f"{interval_minutes}min", inclusive="left")
    return index.rename("interval_start")
