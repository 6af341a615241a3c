"""What a plan earns in a power-price year at a hashprice level, from real dispatch.

For each price year of the bundled history, representative real days are chosen (the days of
highest mean price kept as themselves, 4CP and DR days pinned, tsam clusters the rest:
:func:`year_days`). A plan's mining and battery (its HPC hall empty) are dispatched on those
days by the ordinary :class:`Dispatcher` at a few flat hashprice levels; the plan with its hall
drawing its usual load (all of it for a lease, the sold share of a GPU cloud) at the central
level gives what the hall's load adds. A dispatched
day is a schedule x whose money is linear in hashprice h:

    value_x(h) = rest_x + h × hashrate_money_x        (mining_hashprice = h × hashrate_money)

The day's optimum is the largest value over all schedules, so it is convex in h and at least
the best of the dispatched schedules at any h (the **envelope**, used as the estimate: it is
what a dispatched schedule really earns). Between two levels it is at most the chord through
their optima, so chord − envelope bounds the estimate's error without another solve; the
bound is reported (and a test compares the envelope with direct dispatch off the levels).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from dispatch.errors import InputError
from dispatch.inputs import HASHPRICE, HPC_UTILIZATION, PRICE
from dispatch.inputs.align import Fill
from dispatch.inputs.horizon import horizon_index
from dispatch.inputs.programs import bundled_ancillary, historical_weights
from dispatch.inputs.table import Source
from dispatch.site import Site
from dispatch.sizing.days import Day, load_history, representative_days
from dispatch.solver import Dispatcher, SolveOptions
from dispatch.streams import Stream

PLACEHOLDER_HASHPRICE = 100.0  # loads a year's other series; every dispatch sets its own level


@dataclass(frozen=True)
class Unpriced:
    """What the bundled data cannot price in a year: ancillary products offered and the
    coincident-peak charge. Left out of that year's dispatch (never invented)."""

    products: tuple[str, ...] = ()
    coincident_peak: bool = False

    def apply(self, site: Site) -> Site:
        """``site`` without the unpriced offers and charge."""
        updates: dict[str, object] = {}
        if self.products and site.programs is not None:
            kept = [o for o in site.programs.ancillary if o.product not in self.products]
            updates["programs"] = site.programs.model_copy(update={"ancillary": kept})
        if self.coincident_peak and site.grid is not None:
            updates["grid"] = site.grid.model_copy(update={"coincident_peak": None})
        return site.model_copy(update=updates) if updates else site

    def notes(self) -> tuple[str, ...]:
        found = [f"ancillary {p} left out (no bundled prices)" for p in self.products]
        if self.coincident_peak:
            found.append("coincident peak charge left out (no bundled peaks)")
        return tuple(found)


def unpriced(site: Site, year: int, ancillary: Source | None, peaks: Source | None) -> Unpriced:
    """The offers and charge of ``site`` the bundled data cannot price in ``year`` (a file the
    user gave is used as given, so nothing is left out for it)."""
    horizon = horizon_index(
        site.timezone, site.interval_minutes, dt.date(year, 1, 1), dt.date(year, 12, 31)
    )
    products: list[str] = []
    if site.programs is not None and ancillary is None:
        for offer in site.programs.ancillary:
            alone = site.programs.model_copy(update={"ancillary": [offer]})
            try:
                bundled_ancillary(site.model_copy(update={"programs": alone}), horizon)
            except InputError:
                products.append(offer.product)
    peak = site.grid.coincident_peak if site.grid is not None else None
    missing_peaks = False
    if peak is not None and peaks is None:
        try:
            historical_weights(peak, horizon)
        except InputError:
            missing_peaks = True
    return Unpriced(tuple(products), missing_peaks)


@dataclass(frozen=True)
class PriceYear:
    """One power-price year: its representative days (weights in days), what the bundled data
    cannot price that year, and its mean energy price [USD/MWh]."""

    year: int
    days: tuple[Day, ...]
    unpriced: Unpriced
    mean_price_usd_per_mwh: float

    @property
    def weights(self) -> np.ndarray:
        return np.array([d.weight_days for d in self.days])


def price_year(
    site: Site,
    year: int,
    n_days: int,
    spike_days: int,
    *,
    prices: str | Path | pd.DataFrame | None = None,
    ancillary: Source | None = None,
    peaks: Source | None = None,
    fill: Fill | None = None,
    timezone: str | None = None,
) -> PriceYear:
    """Load one calendar year on ``site`` (the largest plan) and choose its representative days.
    Hashprice is a placeholder: every dispatch of the grid sets its own level."""
    left_out = unpriced(site, year, ancillary, peaks)
    year_site = left_out.apply(site)
    placeholder = pd.DataFrame(
        {
            "date": pd.date_range(dt.date(year, 1, 1), dt.date(year, 12, 31), freq="D").date,
            HASHPRICE: PLACEHOLDER_HASHPRICE,
        }
    )
    history = load_history(
        year_site,
        (year,),
        prices=prices,
        hashprice=placeholder if year_site.mining is not None else None,
        ancillary=ancillary,
        peaks=peaks,
        fill=fill,
        timezone=timezone,
    )
    days = year_days(history.days(), n_days, spike_days, history.event_columns)
    frame = history.inputs.frame
    mean_price = float(frame[PRICE].mean()) if PRICE in frame.columns else 0.0
    return PriceYear(year, days, left_out, mean_price)


def year_days(
    days: Sequence[Day], n_days: int, spike_days: int, event_columns: Sequence[str]
) -> tuple[Day, ...]:
    """Representative days of a year: the ``spike_days`` days of highest mean price as
    themselves (weight 1: Winter Storm Uri, a heat wave), then ``n_days`` tsam days of the rest
    (4CP and DR days pinned on top, :func:`representative_days`). Weights sum to the year."""
    if PRICE in days[0].inputs.frame.columns and spike_days > 0:
        means = np.array([d.inputs.frame[PRICE].mean() for d in days])
        top = set(np.argsort(-means, kind="stable")[:spike_days].tolist())
    else:
        top = set()
    spikes = [Day(d.date, d.inputs, 1.0, "spike") for i, d in enumerate(days) if i in top]
    rest = [d for i, d in enumerate(days) if i not in top]
    chosen = representative_days(rest, n_days, event_columns).days
    return tuple(sorted([*spikes, *chosen], key=lambda d: d.date))


@dataclass(frozen=True)
class Lines:
    """One site configuration dispatched on one price year's days: ``usd`` [days, levels,
    streams] is each stream's money on each day at each hashprice level; ``streams`` names the
    last axis."""

    streams: tuple[Stream, ...]
    usd: np.ndarray
    solves: int
    seconds: float
    worst_gap: float
    time_limited: int

    def on(self, streams: tuple[Stream, ...]) -> np.ndarray:
        """``usd`` on the stream axis ``streams`` (a stream this site lacks is 0)."""
        out = np.zeros((*self.usd.shape[:-1], len(streams)))
        for i, stream in enumerate(streams):
            if stream in self.streams:
                out[..., i] = self.usd[..., self.streams.index(stream)]
        return out


def dispatch_lines(
    site: Site,
    days: Sequence[Day],
    levels: Sequence[float],
    options: SolveOptions,
    utilization: float | None = None,
    dispatcher: Dispatcher | None = None,
) -> Lines:
    """Dispatch ``site`` on every day at every flat hashprice level [USD/PH/day] (each day once
    if the site does not mine: its money does not depend on hashprice), its HPC drawing
    ``utilization`` of its IT load when given; on ``dispatcher`` (of ``site``) when given."""
    started = time.perf_counter()
    dispatcher = dispatcher or Dispatcher(site, options)
    mines = any(f.containers > 0 for f in site.fleets)
    solved: list[dict[str, float]] = []  # (day, level) order
    worst_gap, limited, solves = 0.0, 0, 0
    for day in days:
        first: dict[str, float] | None = None
        for level in levels:
            if first is not None and not mines:
                solved.append(first)
                continue
            frame = day.inputs.frame.copy()
            if HASHPRICE in frame.columns:
                frame[HASHPRICE] = level
            if utilization is not None:
                frame[HPC_UTILIZATION] = utilization
            result = dispatcher.solve(day.inputs.with_frame(frame))
            solves += 1
            worst_gap = max(worst_gap, result.kpis.mip_gap)
            limited += result.kpis.status != "optimal"
            first = dict(zip(result.streams["stream"], result.streams["usd"], strict=True))
            solved.append(first)
    present = {name for row in solved for name in row}
    streams = tuple(s for s in Stream if s.value in present)
    usd = np.array([[row.get(s.value, 0.0) for s in streams] for row in solved])
    usd = usd.reshape(len(days), len(levels), len(streams))
    return Lines(streams, usd, solves, time.perf_counter() - started, worst_gap, limited)


def dispatch_years(
    site: Site,
    years: Sequence[Sequence[Day]],
    levels: Sequence[float],
    options: SolveOptions,
    utilization: float | None = None,
) -> list[Lines]:
    """:func:`dispatch_lines` for several years' days on one :class:`Dispatcher` (its models,
    one per day shape, are built once for all of them)."""
    dispatcher = Dispatcher(site, options)
    return [dispatch_lines(site, days, levels, options, utilization, dispatcher) for days in years]


def envelope(
    usd: np.ndarray,
    streams: tuple[Stream, ...],
    weights: np.ndarray,
    levels: np.ndarray,
    hashprice: np.ndarray,
) -> np.ndarray:
    """Yearly money per stream [queries, streams] at each ``hashprice`` [queries]: on every day,
    the dispatched schedule (level) worth most at that hashprice, its mining revenue rescaled
    to it; days summed with their ``weights`` [days]."""
    hash_index = (
        streams.index(Stream.MINING_HASHPRICE) if Stream.MINING_HASHPRICE in streams else None
    )
    totals = usd.sum(axis=-1)  # [days, levels]
    scale = hashprice[:, None] / levels[None, :]  # [queries, levels]
    value = np.broadcast_to(totals[None, :, :], (len(hashprice), *totals.shape)).copy()
    if hash_index is not None:
        hash_usd = usd[:, :, hash_index]  # [days, levels]
        value += (scale[:, None, :] - 1.0) * hash_usd[None, :, :]
    best = value.argmax(axis=-1)  # [queries, days]
    chosen = usd[np.arange(usd.shape[0])[None, :], best]  # [queries, days, streams]
    if hash_index is not None:
        chosen[:, :, hash_index] *= np.take_along_axis(scale, best, axis=1)
    return np.einsum("d,qds->qs", weights, chosen)


def chord_bound(
    usd: np.ndarray, weights: np.ndarray, levels: np.ndarray, hashprice: np.ndarray
) -> np.ndarray:
    """Yearly value [queries] of the chords between the dispatched optima at the levels around
    each hashprice: an upper bound on the optimum (NaN outside the levels)."""
    totals = weights @ usd.sum(axis=-1)  # [levels]
    inside = (hashprice >= levels[0]) & (hashprice <= levels[-1])
    j = np.clip(np.searchsorted(levels, hashprice, side="right") - 1, 0, len(levels) - 2)
    share = (hashprice - levels[j]) / (levels[j + 1] - levels[j])
    chord = totals[j] + share * (totals[j + 1] - totals[j])
    return np.where(inside, chord, np.nan)


def hashprice_levels(yearly_hashprice: np.ndarray, count: int) -> np.ndarray:
    """``count`` levels [USD/PH/day] at evenly spaced quantiles (2 % to 98 %) of the paths'
    yearly hashprice, where its mass is: the envelope is exact at a level, bounded between two,
    and a real schedule's value beyond them. At least 1 USD/PH/day, strictly increasing."""
    quantiles = np.percentile(yearly_hashprice, np.linspace(2.0, 98.0, count))
    levels = np.maximum(quantiles, 1.0)
    for i in range(1, count):  # ties (a narrow distribution) are spread 1 % apart
        levels[i] = max(levels[i], levels[i - 1] * 1.01)
    return levels
