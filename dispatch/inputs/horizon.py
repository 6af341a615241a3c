"""Horizons: the site's intervals between two local dates, DST handled by absolute time steps."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from dispatch.errors import ArgumentError, InputError


def parse_date(value: object, field: str) -> dt.date:
    """A local calendar date from ``YYYY-MM-DD`` text or a date (error names the argument).

    A datetime is taken at its date only when it is midnight: a day runs from local midnight,
    and a horizon started at another time would lie off the market's intervals.

    Raises
    ------
    InputError
        For text that is not a date, or a datetime that is not midnight
        (:class:`~dispatch.errors.ArgumentError` for a value of another type).
    """
    if isinstance(value, dt.datetime):
        if value.time() != dt.time(0):
            raise InputError(
                f"{field}: expected a day, found the time {value}; pass the date (a day runs "
                "from the site's local midnight)"
            )
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        raise ArgumentError(
            f"{field}: expected a date (YYYY-MM-DD or a datetime.date), found "
            f"{type(value).__name__} {value!r:.40}"
        )
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
