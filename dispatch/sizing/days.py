"""The operations basis: a price history split into local days, or a few representative days.

Representative days are real historical days (medoids of a ``tsam`` clustering of the days'
hourly profiles), so each one is dispatched with its own real prices, DST length and program
series. Each carries a weight: the number of history days it stands for. Days a program makes
special (a coincident-peak weight or a DR event) are kept as their own representative with
weight 1, and the day of the highest and of the lowest price are kept as extremes.
"""

from __future__ import annotations

import datetime as dt
import itertools
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from dispatch.distribution import install_hint
from dispatch.errors import InputError
from dispatch.inputs import HASHPRICE, PRICE, Inputs, load_inputs
from dispatch.inputs.programs import event_signal_columns
from dispatch.site import Site

DayKind = Literal["day", "cluster", "extreme", "pinned", "spike"]
HOURS_PER_DAY = 24
DAYS_PER_YEAR = 365.0  # a span that is not whole calendar years: days / 365 years


@dataclass(frozen=True)
class Day:
    """One local day of inputs and the number of history days it stands for."""

    date: dt.date
    inputs: Inputs
    weight_days: float = 1.0
    kind: DayKind = "day"


@dataclass(frozen=True)
class History:
    """Inputs over a period on the site's intervals. ``n_years`` turns totals into years: the
    number of whole calendar years, or days / 365 for another span; ``label`` names the period."""

    inputs: Inputs
    n_years: float
    label: str
    event_columns: tuple[str, ...]  # CP weights, DR windows: they pin days, never clustered

    def days(self) -> list[Day]:
        """Every local day, weight 1."""
        return split_days(self.inputs)

    def with_inputs(self, inputs: Inputs) -> History:
        return replace(self, inputs=inputs)


def parse_years(text: str) -> tuple[int, ...]:
    """``"2023"`` or ``"2021:2024"`` (inclusive) -> the calendar years."""
    try:
        first, _, last = text.partition(":")
        years = tuple(range(int(first), int(last or first) + 1))
    except ValueError:
        raise InputError(f"--years: expected YEAR or FIRST:LAST, found {text!r}") from None
    if not years:
        raise InputError(f"--years: {text!r} holds no year (the last is before the first)")
    return years


def load_history(
    site: Site,
    years: Sequence[int] | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    **load: Any,
) -> History:
    """Inputs of whole local calendar ``years``, or of the local days ``start``..``end``
    (inclusive), for ``site``; ``load`` passes prices, hashprice, ancillary, peaks, fill and
    timezone on to :func:`load_inputs`."""
    if years is not None:
        years = tuple(sorted(set(years)))
        if not years or years != tuple(range(years[0], years[-1] + 1)):
            raise InputError(f"--years: expected consecutive years, found {list(years)}")
        first, last = dt.date(years[0], 1, 1), dt.date(years[-1], 12, 31)
        n_years = float(len(years))
        label = str(years[0]) if len(years) == 1 else f"{years[0]}-{years[-1]}"
    elif start is not None and end is not None:
        if end < start:
            raise InputError(f"--end {end} is before --start {start}")
        first, last = start, end
        n_years = ((end - start).days + 1) / DAYS_PER_YEAR
        label = f"{start} to {end}"
    else:
        raise InputError("--years or --start/--end: the history to size over is missing")
    inputs = load_inputs(site, first, last, **load, dr_events_outside="inactive")
    return History(inputs, n_years, label, tuple(event_signal_columns(site)))


def split_days(inputs: Inputs) -> list[Day]:
    """The local days of ``inputs``, each as its own (already validated) inputs, weight 1."""
    dates = np.asarray(inputs.index.date)
    starts = [0, *(np.flatnonzero(dates[1:] != dates[:-1]) + 1).tolist(), len(dates)]
    return [
        Day(dates[a], inputs.with_frame(inputs.frame.iloc[a:b]))
        for a, b in itertools.pairwise(starts)
    ]


@dataclass(frozen=True)
class RepresentativeDays:
    """The days operations are optimized on, their weights and how well they represent the
    history. ``accuracy`` is tsam's per-feature RMSE / MAE / duration-curve RMSE (normalized
    0..1 per feature); ``means`` compares the weighted mean price and hashprice with the
    history's."""

    days: tuple[Day, ...]
    n_history_days: int
    accuracy: pd.DataFrame
    means: pd.DataFrame

    def table(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "date": [d.date.isoformat() for d in self.days],
                "weight_days": [d.weight_days for d in self.days],
                "kind": [d.kind for d in self.days],
            }
        )


def _is_pinned(day: Day, event_columns: Sequence[str]) -> bool:
    """Days whose money hangs on a few intervals a clustering would blur: a coincident-peak
    weight, a DR event or its baseline window."""
    frame = day.inputs.frame
    return any(bool((frame[c].to_numpy() > 0).any()) for c in event_columns)


def _hourly_profiles(days: Sequence[Day], columns: list[str]) -> pd.DataFrame:
    """24 local-hour means per day and column (a 23-hour day repeats its hour before the gap, a
    25-hour day averages its repeated hour), on a synthetic regular hourly index for tsam.

    One grouping over all days (by day and local hour), not one per day: the same means in
    about a tenth of the time."""
    frames = [day.inputs.frame for day in days]
    values = pd.DataFrame(
        {c: np.concatenate([frame[c].to_numpy() for frame in frames]) for c in columns}
    )
    day_number = np.repeat(np.arange(len(frames)), [len(frame) for frame in frames])
    hour = np.concatenate([frame.index.hour.to_numpy() for frame in frames])
    means = values.groupby([day_number, hour]).mean()
    every_hour = pd.MultiIndex.from_product([range(len(frames)), range(HOURS_PER_DAY)])
    by_day = means.reindex(every_hour).groupby(level=0)
    stacked = by_day.ffill().groupby(level=0).bfill().reset_index(drop=True)
    stacked.index = pd.date_range("2001-01-01", periods=len(stacked), freq="h")
    return stacked


def _means(history: Sequence[Day], chosen: Sequence[Day]) -> pd.DataFrame:
    rows = []
    total = sum(d.weight_days for d in chosen)
    for column in (PRICE, HASHPRICE):
        if column not in history[0].inputs.frame.columns:
            continue
        full = float(np.mean([d.inputs.frame[column].mean() for d in history]))
        rep = sum(d.weight_days * d.inputs.frame[column].mean() for d in chosen) / total
        rows.append(
            {
                "series": column,
                "history_mean": full,
                "representative_mean": float(rep),
                "relative_error": (float(rep) - full) / full if full else float("nan"),
            }
        )
    return pd.DataFrame(
        rows, columns=["series", "history_mean", "representative_mean", "relative_error"]
    )


def representative_days(
    history: Sequence[Day], n_days: int, event_columns: Sequence[str] = ()
) -> RepresentativeDays:
    """``n_days`` representative days of ``history`` chosen by tsam, plus the pinned days
    (weights summing to the history's length).

    Pinned days (positive ``event_columns``: a coincident-peak weight or a DR event, see
    :attr:`History.event_columns`) are kept as themselves, weight 1, on
    top of ``n_days`` (so several years of 4CP never crowd out the clusters). Of the other days,
    the days of the highest and lowest price are kept as extremes (tsam
    ``ExtremeConfig(method="append")``, when ``n_days`` >= 3) and the rest are represented by
    the medoids of a hierarchical clustering (tsam) of their hourly profiles of every series that
    varies. With ``n_days`` at least the number of other days every day is its own
    representative: exact.
    """
    if n_days < 1:
        raise InputError(f"--representative-days: expected at least 1, found {n_days}")
    special = [_is_pinned(d, event_columns) for d in history]
    pinned = [
        Day(d.date, d.inputs, 1.0, "pinned") for d, p in zip(history, special, strict=True) if p
    ]
    rest = [d for d, p in zip(history, special, strict=True) if not p]
    if n_days >= len(rest):
        empty = pd.DataFrame(columns=["rmse", "mae", "rmse_duration"])
        return RepresentativeDays(tuple(history), len(history), empty, _means(history, history))
    free = n_days
    frame = rest[0].inputs.frame
    columns = [
        c
        for c in frame.columns
        if c not in event_columns
        and np.ptp(np.concatenate([d.inputs.frame[c].to_numpy() for d in rest])) > 0
    ]
    extremes = [PRICE] if PRICE in columns and free >= 3 else []
    clustered, accuracy = _cluster(rest, columns, free - 2 * len(extremes), extremes)
    chosen = sorted(pinned + clustered, key=lambda d: d.date)
    return RepresentativeDays(tuple(chosen), len(history), accuracy, _means(history, chosen))


def _cluster(
    days: Sequence[Day], columns: list[str], n_clusters: int, extremes: list[str]
) -> tuple[list[Day], pd.DataFrame]:
    """Medoid days of ``n_clusters`` clusters (+ extremes) and tsam's accuracy table."""
    if not columns:  # nothing varies: any day stands for all of them
        no_accuracy = pd.DataFrame(columns=["rmse", "mae", "rmse_duration"])
        return [Day(days[0].date, days[0].inputs, float(len(days)), "cluster")], no_accuracy
    try:
        import tsam
        from tsam import ClusterConfig, ExtremeConfig
    except ImportError:
        raise InputError(
            "--representative-days: choosing representative days needs tsam: "
            f"{install_hint('sizing')} (or size on every day with --full-year)"
        ) from None

    profiles = _hourly_profiles(days, columns)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # third-party deprecations, not ours
        result = tsam.aggregate(
            profiles,
            n_clusters,
            period_duration=HOURS_PER_DAY,
            temporal_resolution=1.0,
            cluster=ClusterConfig(method="hierarchical", representation="medoid"),
            extremes=ExtremeConfig(method="append", max_value=extremes, min_value=extremes)
            if extremes
            else None,
            preserve_column_means=False,
            numerical_tolerance=1e-6,  # medoids are real days: only float noise can exceed
        )
        accuracy = result.accuracy.summary
    extreme_clusters = set(result.clustering.extreme_cluster_indices or ())
    assignments = np.asarray(result.cluster_assignments)
    values = profiles.to_numpy().reshape(len(days), HOURS_PER_DAY, len(columns))
    chosen = []
    for cluster, count in result.cluster_counts.items():
        members = np.flatnonzero(assignments == cluster)
        representative = result.cluster_representatives.loc[cluster].to_numpy()
        distance = [np.abs(values[m] - representative).max() for m in members]
        day = days[int(members[int(np.argmin(distance))])]
        kind: DayKind = "extreme" if cluster in extreme_clusters else "cluster"
        chosen.append(Day(day.date, day.inputs, float(count), kind))
    return chosen, accuracy
