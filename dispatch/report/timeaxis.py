"""A time axis in the site's local time that draws a DST day with its 23 or 25 hours.

Plotly has no time zones: it draws wall-clock times, so a fall-back day would fold its repeated
hour onto itself. The interval charts therefore use one category per interval, labelled with its
local time and zone abbreviation (``Sun 05 Nov 01:15 CST``): categories are evenly spaced, so a
25-hour day is 100 quarter-hours wide, and the hover shows each interval's own local time.
Ticks are placed on local clock hours, plus every change of UTC offset.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class LocalAxis:
    """``labels``: one per interval (the chart's x values). ``tickvals``/``ticktext``: the ticks.
    ``title``: the axis title, naming the zone and any clock change."""

    labels: tuple[str, ...]
    tickvals: tuple[str, ...]
    ticktext: tuple[str, ...]
    title: str


def _offset(stamp: pd.Timestamp) -> str:
    """``UTC−05:00``."""
    minutes = int(stamp.utcoffset().total_seconds() // 60)
    sign = "\u2212" if minutes < 0 else "+"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _tick_hours(hours: float) -> int:
    """Hours between labelled ticks for a horizon of ``hours``."""
    for limit, step in ((30, 2), (74, 6), (170, 12)):
        if hours <= limit:
            return step
    return 24


def local_axis(index: pd.DatetimeIndex, zone: str) -> LocalAxis:
    """The axis of a tz-aware interval index in ``zone`` (an IANA name)."""
    local = index.tz_convert(zone)
    labels = tuple(stamp.strftime("%a %d %b %H:%M %Z") for stamp in local)
    if len(set(labels)) != len(labels):  # a zone without distinct abbreviations across DST
        labels = tuple(f"{s.strftime('%a %d %b %H:%M')} {_offset(s)}" for s in local)
    minutes = _interval_minutes(index)
    step = 60 * _tick_hours(len(index) * minutes / 60)
    offsets = [stamp.utcoffset() for stamp in local]
    changes = {i for i in range(1, len(local)) if offsets[i] != offsets[i - 1]}
    near = int(step / 2 / minutes)  # regular ticks this close to a clock change would overlap it
    ticks: list[tuple[str, str]] = []
    for i, stamp in enumerate(local):
        minute_of_day = stamp.hour * 60 + stamp.minute
        if i in changes:
            ticks.append((labels[i], stamp.strftime("%H:%M %Z")))
        elif minute_of_day % step == 0 and not any(abs(i - c) <= near for c in changes):
            text = stamp.strftime("%H:%M")
            if minute_of_day == 0:
                text += "<br>" + stamp.strftime("%a %d %b")
            ticks.append((labels[i], text))
    tickvals = tuple(value for value, _ in ticks)
    ticktext = tuple(text for _, text in ticks)
    return LocalAxis(labels, tuple(tickvals), tuple(ticktext), _title(local, zone))


def _interval_minutes(index: pd.DatetimeIndex) -> float:
    if len(index) < 2:
        return 60.0
    return float((index[1] - index[0]).total_seconds() / 60)


def _title(local: pd.DatetimeIndex, zone: str) -> str:
    """``local time, America/Chicago (CDT, UTC−05:00)``, naming clock changes and day lengths."""
    first = local[0]
    changes = [
        (before, after)
        for before, after in itertools.pairwise(local)
        if before.utcoffset() != after.utcoffset()
    ]
    if not changes:
        return f"local time, {zone} ({first.strftime('%Z')}, {_offset(first)})"
    minutes = _interval_minutes(local)
    hours = pd.Series(1, index=local.date).groupby(level=0).sum() * minutes / 60
    days = [f"{day:%d %b} has {h:g} hours" for day, h in hours.items() if h not in (24,)]
    moves = [
        f"{after.strftime('%H:%M %Z')} follows {before.strftime('%H:%M %Z')}"
        for before, after in changes
    ]
    lengths = f" ({'; '.join(days)})" if days else ""
    return f"local time, {zone}: {'; '.join(moves)}{lengths}"
