"""The Monte Carlo's draws: hashprice paths, power-price years, capex, GPU terms, tenant exits.

Hashprice is derived as the bundled series is (PROVENANCE.md section 8), day by day from the
last day of the bundled chain data::

    hashprice [USD/PH/day] = BTC price × (subsidy + fees per block) × 86,400 × 1e15
                             / (difficulty × 2^32)

* **BTC price**: the last bundled close × exp(cumulative daily log-returns), the returns drawn
  as blocks of ``btc_block_days`` consecutive days from the bundled history (a moving-block
  bootstrap keeps volatility clustering); ``btc_drift_fraction_per_year`` re-centres them.
* **Difficulty** (network hashrate): the last bundled difficulty growing at a constant rate per
  path, drawn within ``network_hashrate_growth_fraction_per_year`` (default: the range of the
  bundled calendar years' growth).
* **Subsidy** halves on each date of ``halving_dates`` (default: 210,000 ten-minute blocks after
  the last halving, and again: April 2028 and April 2032).
* **Fees** per block are constant per path: the fee share of miner revenue at today's subsidy,
  drawn within ``fee_share_fraction`` (default: the range of the bundled years' median shares);
  a halving halves the subsidy, not the fees.

Each draw kind has its own random stream (spawned from ``seed`` in a fixed order), so paths are
reproducible and adding a plan or a kind of draw never changes the others.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

import numpy as np
import pandas as pd

from dispatch.inputs.bundled import bundled_hashprice, read_dataset
from dispatch.inputs.hashprice import BLOCKS_PER_HALVING, HALVINGS_UTC
from dispatch.site.business import Range, Uncertainty
from dispatch.sizing.economics import CostTerm
from dispatch.sizing.timeline import MONTHS_PER_YEAR

SECONDS_PER_BLOCK = 600.0
PH_DAY_BLOCKS = 86_400 * 1e15 / 2.0**32  # blocks a PH/s expects per day, times difficulty
STREAMS = ("btc", "hashrate", "fees", "years", "capex", "gpu", "tenant")


@dataclass(frozen=True)
class Chain:
    """The bundled chain data the paths start from (its last day with a hashprice)."""

    last_day: dt.date
    btc_usd: float
    difficulty: float
    subsidy_btc: float
    log_returns: np.ndarray  # daily BTC log-returns of the history, in order
    difficulty_growth: Range  # lowest and highest growth of a whole calendar year
    fee_share: Range  # lowest and highest median fee share of a calendar year

    def hashprice_usd_per_ph_day(self, fee_share: float) -> float:
        """Hashprice on the last day with fees at ``fee_share`` of miner revenue."""
        fees = self.subsidy_btc * fee_share / (1.0 - fee_share)
        return self.btc_usd * (self.subsidy_btc + fees) * PH_DAY_BLOCKS / self.difficulty


@cache
def chain() -> Chain:
    """Read the bundled BTC data through the package's readers (served hashprice days only)."""
    data = read_dataset("btc_hashprice")
    served = bundled_hashprice().index
    data = data.loc[data.index.isin(served)]
    last = served[-1]
    price = data["btc_price_usd_close"].dropna()
    returns = np.diff(np.log(price.to_numpy(dtype=float)))
    difficulty = data["difficulty"]
    years = pd.Index([d.year for d in difficulty.index])
    growth = [
        difficulty[years == y].iloc[-1] / difficulty[years == y - 1].iloc[-1] - 1.0
        for y in sorted(set(years))
        if y - 1 in set(years) and (years == y).sum() >= 365
    ]
    share = 1.0 - data["hashprice_subsidy_usd_per_th_day"] / data["hashprice_usd_per_th_day"]
    share = share.dropna()
    medians = share.groupby([d.year for d in share.index]).median()
    return Chain(
        last_day=last,
        btc_usd=float(data.loc[last, "btc_price_usd_close"]),
        difficulty=float(data.loc[last, "difficulty"]),
        subsidy_btc=float(data.loc[last, "block_subsidy_btc"]),
        log_returns=returns,
        difficulty_growth=(float(min(growth)), float(max(growth))),
        fee_share=(float(medians.min()), float(medians.max())),
    )


def default_halvings(count: int = 2) -> list[dt.date]:
    """The next ``count`` halvings at ten minutes a block after the last one on record."""
    last = HALVINGS_UTC[-1][1]
    step = pd.Timedelta(seconds=BLOCKS_PER_HALVING * SECONDS_PER_BLOCK)
    return [(last + step * (k + 1)).date() for k in range(count)]


class DrawKind(StrEnum):
    """The uncertain inputs other than capex (each capex unit is named by its cost term)."""

    BTC_PRICE = "btc_price"
    HASHRATE_GROWTH = "network_hashrate_growth"
    FEE_SHARE = "fee_share"
    PRICE_YEARS = "power_price_years"
    GPU_DECLINE = "gpu_price_decline"
    GPU_UTILIZATION = "gpu_utilization"
    TENANT = "tenant_exits"


@dataclass(frozen=True)
class Draws:
    """Every draw of every path (arrays indexed by path first).

    ``log_btc`` [paths, days]: log of BTC price relative to the last bundled day, for the days
    after it; ``hashrate_growth``, ``fee_share`` [paths]; ``price_year`` [paths, years]: index
    into the price years; ``capex_unit`` maps a capex name to [paths] USD per unit;
    ``gpu_decline``, ``gpu_utilization`` [paths]; ``exit_draws``, ``renewal_draws``
    [paths, months] uniform in [0, 1).
    """

    log_btc: np.ndarray
    hashrate_growth: np.ndarray
    fee_share: np.ndarray
    price_year: np.ndarray
    capex_unit: dict[CostTerm, np.ndarray]
    gpu_decline: np.ndarray
    gpu_utilization: np.ndarray
    exit_draws: np.ndarray
    renewal_draws: np.ndarray

    @property
    def n_paths(self) -> int:
        return len(self.hashrate_growth)

    def combine(
        self, base: np.ndarray, swapped: Mapping[DrawKind | CostTerm, np.ndarray] | None = None
    ) -> Draws:
        """New paths taking every draw from the paths ``base`` names, except the kinds in
        ``swapped``, taken from the paths it names (the tornado's one-input-at-a-time
        paths). A capex unit is named by its cost term."""
        rows = swapped or {}

        def take(kind: DrawKind | CostTerm, values: np.ndarray) -> np.ndarray:
            return values[rows.get(kind, base)]

        return Draws(
            log_btc=take(DrawKind.BTC_PRICE, self.log_btc),
            hashrate_growth=take(DrawKind.HASHRATE_GROWTH, self.hashrate_growth),
            fee_share=take(DrawKind.FEE_SHARE, self.fee_share),
            price_year=take(DrawKind.PRICE_YEARS, self.price_year),
            capex_unit={term: take(term, values) for term, values in self.capex_unit.items()},
            gpu_decline=take(DrawKind.GPU_DECLINE, self.gpu_decline),
            gpu_utilization=take(DrawKind.GPU_UTILIZATION, self.gpu_utilization),
            exit_draws=take(DrawKind.TENANT, self.exit_draws),
            renewal_draws=take(DrawKind.TENANT, self.renewal_draws),
        )


@dataclass(frozen=True)
class Horizon:
    """The analysis years: calendar years ``first_year`` .. ``first_year + n_years - 1``."""

    first_year: int
    n_years: int

    @property
    def n_months(self) -> int:
        return self.n_years * MONTHS_PER_YEAR

    def days(self, after: dt.date) -> pd.DatetimeIndex:
        """Every day from the day after ``after`` to the horizon's last day."""
        end = dt.date(self.first_year + self.n_years - 1, 12, 31)
        return pd.date_range(after + dt.timedelta(days=1), end, freq="D")


def draw(
    spec: Uncertainty,
    horizon: Horizon,
    n_price_years: int,
    capex_ranges: dict[CostTerm, Range],
    gpu: tuple[Range, Range] | None,
    seed: int | None = None,
) -> Draws:
    """Draw every path. ``capex_ranges`` names each capex unit drawn uniformly within its
    range [USD per unit]; ``gpu`` the ranges of the GPU-hour price decline and utilization."""
    history = chain()
    generators = dict(
        zip(
            STREAMS,
            np.random.SeedSequence(spec.seed if seed is None else seed).spawn(len(STREAMS)),
            strict=True,
        )
    )
    rng = {name: np.random.default_rng(s) for name, s in generators.items()}
    n = spec.paths
    n_days = len(horizon.days(history.last_day))
    returns = history.log_returns
    if spec.btc_drift_fraction_per_year is not None:
        returns = returns - returns.mean() + np.log1p(spec.btc_drift_fraction_per_year) / 365.25
    block = min(spec.btc_block_days, len(returns))
    n_blocks = -(-n_days // block)
    starts = rng["btc"].integers(0, len(returns) - block + 1, size=(n, n_blocks))
    index = (starts[:, :, None] + np.arange(block)[None, None, :]).reshape(n, -1)[:, :n_days]
    log_btc = np.cumsum(returns[index], axis=1)
    growth = spec.network_hashrate_growth_fraction_per_year or history.difficulty_growth
    fees = spec.fee_share_fraction or history.fee_share
    uniform = rng["capex"].random((n, len(capex_ranges)))
    capex_unit = {
        name: low + (high - low) * uniform[:, i]
        for i, (name, (low, high)) in enumerate(capex_ranges.items())
    }
    decline_range, utilization_range = gpu if gpu is not None else ((0.0, 0.0), (1.0, 1.0))
    gpu_uniform = rng["gpu"].random((n, 2))
    return Draws(
        log_btc=log_btc,
        hashrate_growth=rng["hashrate"].uniform(growth[0], growth[1], size=n),
        fee_share=rng["fees"].uniform(fees[0], fees[1], size=n),
        price_year=rng["years"].integers(0, n_price_years, size=(n, horizon.n_years)),
        capex_unit=capex_unit,
        gpu_decline=decline_range[0] + (decline_range[1] - decline_range[0]) * gpu_uniform[:, 0],
        gpu_utilization=utilization_range[0]
        + (utilization_range[1] - utilization_range[0]) * gpu_uniform[:, 1],
        exit_draws=rng["tenant"].random((n, horizon.n_months)),
        renewal_draws=rng["tenant"].random((n, horizon.n_months)),
    )


def daily_hashprice(
    draws: Draws, horizon: Horizon, halvings: list[dt.date]
) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """Hashprice [USD/PH/day] per path and day after the last bundled day."""
    history = chain()
    days = horizon.days(history.last_day)
    elapsed_years = np.arange(1, len(days) + 1) / 365.25
    halved = np.zeros(len(days))
    for date in halvings:
        halved += (days.date >= date).astype(float)
    subsidy = history.subsidy_btc * 0.5**halved  # [days]
    fees = history.subsidy_btc * draws.fee_share / (1.0 - draws.fee_share)  # [paths]
    difficulty = history.difficulty * (1.0 + draws.hashrate_growth[:, None]) ** elapsed_years
    btc = history.btc_usd * np.exp(draws.log_btc)
    hashprice = btc * (subsidy[None, :] + fees[:, None]) * PH_DAY_BLOCKS / difficulty
    return days, hashprice


def yearly_hashprice(draws: Draws, horizon: Horizon, halvings: list[dt.date]) -> np.ndarray:
    """Mean hashprice [USD/PH/day] per path and analysis year [paths, years]."""
    days, daily = daily_hashprice(draws, horizon, halvings)
    years = days.year.to_numpy()
    return np.stack(
        [daily[:, years == horizon.first_year + k].mean(axis=1) for k in range(horizon.n_years)],
        axis=1,
    )
