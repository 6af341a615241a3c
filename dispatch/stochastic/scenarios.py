"""Real-time price scenarios of a day from information before that day.

**Method (``spread`` scenarios).** For day D the candidate days are the ``history_weeks`` × 7
days before D and, in every earlier year of the history, the days within ``season_days`` of D's
calendar date. Each candidate day c gives one scenario: its real-time minus day-ahead spread,
interval by interval of the local clock, added to D's day-ahead prices,

    price_c[t] = da_D[t] + (rt_c[t'] - da_c[t'])      (t' = the same local clock time on day c),

so the scenarios keep D's own shape (D's DAM has cleared before D: it is known) and borrow the
real-time surprises of similar days. Recent days share ``recent_weight_fraction`` of the
probability, same-season days the rest (each pool evenly; all of it to one pool if the other is
empty). The candidates are reduced to ``count`` weighted scenarios by fast forward selection
(Heitsch and Römisch 2003) on the Euclidean distance between price vectors: scenarios are
picked one by one, each time the one that most reduces the probability-weighted distance from
every candidate to its nearest pick; every candidate's probability then goes to its nearest
pick. Only days strictly before D are read (:meth:`SpreadTable.before`); a test changes every
price from D on and finds the same scenarios.

Local clock: a candidate's spread is read at the same local hour and minute as D's interval; a
23-hour candidate lends its 01:xx spread to D's 02:xx, a 25-hour candidate its first 01:xx.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dispatch.errors import InputError


@dataclass(frozen=True)
class PriceScenarios:
    """K real-time price scenarios of one day on the site's intervals.

    ``prices_usd_per_mwh[k, t]`` [USD/MWh]; ``weights[k]`` (probabilities, sum 1); ``names[k]``
    says where scenario k comes from (e.g. the history day whose spread it carries).
    """

    index: pd.DatetimeIndex
    prices_usd_per_mwh: np.ndarray
    weights: np.ndarray
    names: tuple[str, ...]
    source: str

    @property
    def count(self) -> int:
        return len(self.weights)

    def mean_usd_per_mwh(self) -> np.ndarray:
        """The probability-weighted mean price of each interval [USD/MWh]."""
        return self.weights @ self.prices_usd_per_mwh

    def frame(self) -> pd.DataFrame:
        """Tidy: interval_start (UTC), scenario, weight, price_usd_per_mwh."""
        n = len(self.index)
        return pd.DataFrame(
            {
                "interval_start": np.tile(self.index.tz_convert("UTC"), self.count),
                "scenario": np.repeat(self.names, n),
                "weight": np.repeat(self.weights, n),
                "price_usd_per_mwh": self.prices_usd_per_mwh.reshape(-1),
            }
        )


@dataclass(frozen=True)
class ScenarioMethod:
    """Settings of the ``spread`` method (module docstring)."""

    count: int = 10
    history_weeks: int = 4
    season_days: int = 14
    recent_weight_fraction: float = 0.5

    def __post_init__(self) -> None:
        if self.count < 1:
            raise InputError(f"--stochastic: expected at least 1 scenario, found {self.count}")
        if self.history_weeks < 0 or self.season_days < 0:
            raise InputError("scenario method: history_weeks and season_days must be >= 0")
        if not 0 <= self.recent_weight_fraction <= 1:
            raise InputError("scenario method: recent_weight_fraction must lie in 0..1")


@dataclass(frozen=True)
class PriceHistory:
    """Day-ahead and real-time prices [USD/MWh] on the site's intervals (local tz index)."""

    da_usd_per_mwh: pd.Series
    rt_usd_per_mwh: pd.Series
    source: str

    def clock_spreads(self) -> SpreadTable:
        """RT − DA spread [USD/MWh] by local day (rows) and local (hour, minute) (columns);
        days with any interval missing are left out. Computed once for a back-test."""
        index = pd.DatetimeIndex(self.rt_usd_per_mwh.index)
        spread = self.rt_usd_per_mwh.to_numpy(float) - self.da_usd_per_mwh.to_numpy(float)
        frame = pd.DataFrame(
            {"day": index.date, "hour": index.hour, "minute": index.minute, "spread": spread}
        )
        frame = frame.dropna()
        table = (
            frame.groupby(["day", "hour", "minute"], sort=True)["spread"]
            .first()
            .unstack(["hour", "minute"])
        )
        # a 23-hour day has no 02:xx: it lends its 01:xx (ffill along the clock)
        table = table.sort_index(axis=1).ffill(axis=1)
        return SpreadTable(table.dropna(), self.source)


@dataclass(frozen=True)
class SpreadTable:
    """:meth:`PriceHistory.clock_spreads`: ``table`` rows are local days, columns local
    (hour, minute) [USD/MWh]."""

    table: pd.DataFrame
    source: str

    def before(self, day: dt.date) -> pd.DataFrame:
        """The rows of local days strictly before ``day``."""
        return self.table[self.table.index < day]


def candidate_days(day: dt.date, available: pd.Index, method: ScenarioMethod) -> pd.DataFrame:
    """Candidate days before ``day`` with their probabilities: ``day``, ``pool``
    (recent/season) and ``probability`` (sums to 1)."""
    recent = [day - dt.timedelta(days=i) for i in range(1, 7 * method.history_weeks + 1)]
    season = []
    first_year = min(available).year if len(available) else day.year
    for year in range(day.year - 1, first_year - 1, -1):
        try:
            centre = day.replace(year=year)
        except ValueError:  # 29 February
            centre = day.replace(year=year, day=28)
        span = range(-method.season_days, method.season_days + 1)
        season += [centre + dt.timedelta(days=i) for i in span]
    present = set(available)
    recent = [d for d in recent if d in present]
    season = [d for d in season if d in present and d not in set(recent) and d < day]
    rows = []
    share = method.recent_weight_fraction if recent and season else (1.0 if recent else 0.0)
    for pool, days, mass in (("recent", recent, share), ("season", season, 1.0 - share)):
        rows += [{"day": d, "pool": pool, "probability": mass / len(days)} for d in days]
    return pd.DataFrame(rows, columns=["day", "pool", "probability"])


def forward_selection(points: np.ndarray, probabilities: np.ndarray, count: int) -> tuple:
    """Fast forward selection: indices of ``count`` points and their redistributed weights.

    ``points[i]`` are vectors, ``probabilities[i]`` sum to 1. Each step picks the point that
    minimizes Σ_i p_i · min_{j picked} ‖x_i − x_j‖; every point's probability then goes to its
    nearest pick (ties: the earlier pick). Returns (picked indices in pick order, weights).
    """
    n = len(points)
    count = min(count, n)
    squared = (points**2).sum(axis=1)
    distance = np.sqrt(np.maximum(squared[:, None] + squared[None, :] - 2 * points @ points.T, 0))
    nearest = np.full(n, np.inf)  # distance from each point to its nearest pick so far
    picked: list[int] = []
    for _ in range(count):
        # cost of picking u: Σ_i p_i min(nearest_i, d_iu)
        cost = probabilities @ np.minimum(nearest[:, None], distance)
        cost[picked] = np.inf
        choice = int(np.argmin(cost))
        picked.append(choice)
        nearest = np.minimum(nearest, distance[:, choice])
    owner = np.argmin(distance[:, picked], axis=1)
    weights = np.bincount(owner, weights=probabilities, minlength=len(picked))
    return picked, weights


def spread_scenarios(
    spreads: SpreadTable, day: dt.date, da_usd_per_mwh: pd.Series, method: ScenarioMethod
) -> PriceScenarios:
    """``method.count`` scenarios of ``day``'s real-time prices (module docstring).

    ``da_usd_per_mwh``: the day's day-ahead prices on its intervals (known the day before);
    ``spreads``: the history's spreads (rows of ``day`` and later are dropped here).
    """
    known = spreads.before(day)
    candidates = candidate_days(day, known.index, method)
    if candidates.empty:
        raise InputError(
            f"{spreads.source}: no complete day of price history in the {method.history_weeks} "
            f"weeks before {day} or the same season of earlier years: no scenarios"
        )
    index = pd.DatetimeIndex(da_usd_per_mwh.index)
    clock = pd.MultiIndex.from_arrays([index.hour, index.minute])
    table = known.loc[list(candidates["day"])]
    table = table.reindex(columns=table.columns.union(clock.unique())).sort_index(axis=1)
    table = table.ffill(axis=1)
    # by position: on a 25-hour day the repeated 01:xx read the same columns twice
    day_spreads = table.to_numpy(float)[:, table.columns.get_indexer(clock)]
    prices = da_usd_per_mwh.to_numpy(float)[None, :] + day_spreads
    probabilities = candidates["probability"].to_numpy(float)
    picked, weights = forward_selection(prices, probabilities, method.count)
    names = tuple(f"{candidates['pool'].iloc[i]} {candidates['day'].iloc[i]}" for i in picked)
    return PriceScenarios(index, prices[picked], weights, names, f"spread {spreads.source}")
