"""The planner's question under uncertainty: each candidate plan's NPV over many paths.

1. **Draw** every path (:mod:`dispatch.sizing.paths`): BTC price, network hashrate growth, fee
   share and halvings give each analysis year's mean hashprice; each analysis year draws a
   power-price year of the bundled history; capex units, GPU terms and tenant events are drawn
   within their ranges.
2. **Dispatch** a grid (:mod:`dispatch.sizing.valuegrid`): every candidate's mining and battery
   (hall empty, and before its added equipment arrives) at a few hashprice levels spanning the
   paths, and the candidate with its hall full at the central level, on representative days of
   every price year. Tasks run on the executor (processes or Dask), like the sweep.
3. **Count the money** of every candidate on every path (:mod:`dispatch.sizing.ledger`) and
   compare it with the site as it stands on the same path (paired: the same draws), so the
   NPV of a decision is free of the noise both share.

The draws depend only on the seed and the uncertainty section; the grid is deterministic; so a
run is reproducible and independent of the executor and its number of workers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np

from dispatch.errors import InputError, expect
from dispatch.site import Site
from dispatch.site.business import MAX_PATHS, MAX_SEED, Range, Uncertainty
from dispatch.site.sizing import (
    HPC_NEW_BUILD_USD_PER_MW_RANGE,
    HPC_RETROFIT_USD_PER_MW_RANGE,
    MINING_BUILD_USD_PER_MW_RANGE,
)
from dispatch.sizing.cashflow import irr, npv, payback_years
from dispatch.sizing.economics import CostTerm
from dispatch.sizing.evaluate import Call, run_calls
from dispatch.sizing.ledger import Ledger, Operations, ledger
from dispatch.sizing.paths import (
    Draws,
    Horizon,
    chain,
    default_halvings,
    draw,
    yearly_hashprice,
)
from dispatch.sizing.plan import Plan, Planning
from dispatch.sizing.progress import Progress, Tracker
from dispatch.sizing.valuegrid import (
    Lines,
    PriceYear,
    Unpriced,
    chord_bound,
    dispatch_years,
    envelope,
    hashprice_levels,
    price_year,
)
from dispatch.solver import SolveOptions
from dispatch.streams import Stream


@dataclass(frozen=True)
class Candidate:
    """A plan the Monte Carlo scores, under the name the planner's tables give it."""

    name: str
    plan: Plan


@dataclass(frozen=True)
class Setup:
    """What every candidate is scored on: the draws, each path's yearly hashprice [USD/PH/day]
    [paths, years], the grid's hashprice levels and the price years."""

    spec: Uncertainty
    horizon: Horizon
    draws: Draws
    hashprice: np.ndarray
    halvings: tuple[dt.date, ...]
    levels: np.ndarray
    central: int
    years: tuple[PriceYear, ...]


def uncertainty_of(planning: Planning, paths: int | None, seed: int | None) -> Uncertainty:
    """The site file's uncertainty section (defaults without one), ``paths`` and ``seed`` given
    on the command line or the API taking precedence."""
    spec = planning.spec.uncertainty or Uncertainty.model_validate({})
    updates: dict[str, object] = {}
    if paths is not None:
        expect(paths, int, "paths", "a whole number of paths")
        if not 1 <= paths <= MAX_PATHS:
            raise InputError(
                f"--paths: expected 0 (no Monte Carlo) to {MAX_PATHS:,}, found {paths}"
            )
        updates["paths"] = paths
    if seed is not None:
        expect(seed, int, "seed", "a whole number")
        if not 0 <= seed <= MAX_SEED:
            raise InputError(f"--seed: expected an integer from 0 to {MAX_SEED}, found {seed}")
        updates["seed"] = seed
    spec = spec.model_copy(update=updates)
    last_day = chain().last_day
    if spec.start_year is not None and spec.start_year <= last_day.year:
        raise InputError(
            f"sizing.uncertainty.start_year = {spec.start_year}: the paths start after the "
            f"bundled BTC data, which ends {last_day}; the first year must be later"
        )
    if spec.cvar_fraction * spec.paths < 1:
        raise InputError(
            f"--paths: {spec.paths} paths leave no path in the CVaR tail "
            f"(sizing.uncertainty.cvar_fraction = {spec.cvar_fraction:g}); use more paths"
        )
    return spec


def capex_ranges(planning: Planning, spec: Uncertainty) -> dict[CostTerm, Range]:
    """Each drawn capex unit's range [USD per MW]: the uncertainty section's, else the market
    range scaled to the sizing section's figure (its own range when the figure is the default
    mid-point). The battery's capex is not drawn."""
    sizing = planning.spec

    def scaled(point: float, market: Range) -> Range:
        middle = (market[0] + market[1]) / 2.0
        return point * market[0] / middle, point * market[1] / middle

    ranges: dict[CostTerm, Range] = {}
    if sizing.hpc is not None:
        ranges[CostTerm.HPC_NEW_BUILD_CAPEX] = spec.hpc_new_build_capex_usd_per_mw or scaled(
            sizing.hpc.new_build.capex_usd_per_mw, HPC_NEW_BUILD_USD_PER_MW_RANGE
        )
        ranges[CostTerm.HPC_RETROFIT_CAPEX] = spec.hpc_retrofit_capex_usd_per_mw or scaled(
            sizing.hpc.retrofit.capex_usd_per_mw, HPC_RETROFIT_USD_PER_MW_RANGE
        )
    if sizing.mining is not None:
        ranges[CostTerm.MINING_CAPEX] = spec.mining_capex_usd_per_mw or scaled(
            sizing.mining.capex_usd_per_mw, MINING_BUILD_USD_PER_MW_RANGE
        )
    gpu = planning.gpu_costs
    if gpu is not None:
        low, high = spec.gpu_capex_factor
        ranges[CostTerm.GPU_CAPEX] = (gpu.capex_usd_per_it_mw * low, gpu.capex_usd_per_it_mw * high)
    return ranges


def gpu_ranges(planning: Planning, spec: Uncertainty) -> tuple[Range, Range] | None:
    """Ranges of the GPU-hour price decline and utilization (points when not drawn)."""
    terms = planning.gpu_cloud
    if terms is None:
        return None
    decline = terms.price_decline_fraction_per_year
    used = terms.utilization_fraction
    return (
        spec.gpu_price_decline_fraction_per_year or (decline, decline),
        spec.gpu_utilization_fraction or (used, used),
    )


def set_up(
    planning: Planning,
    spec: Uncertainty,
    load: dict[str, object],
    executor: Executor | None,
    progress: Progress,
) -> Setup:
    """Draw the paths, place the hashprice levels and load the price years (on the executor)."""
    tracker = Tracker(progress, "Monte Carlo: drawing paths", 1, "draw")
    first_year = spec.start_year or chain().last_day.year + 1
    horizon = Horizon(first_year, planning.spec.analysis_years)
    halvings = tuple(spec.halving_dates or default_halvings())
    draws = draw(
        spec,
        horizon,
        len(spec.price_years),
        capex_ranges(planning, spec),
        gpu_ranges(planning, spec),
    )
    hashprice = yearly_hashprice(draws, horizon, list(halvings))
    levels = hashprice_levels(hashprice, spec.hashprice_levels)
    central = int(np.argmin(np.abs(np.log(levels) - np.log(np.median(hashprice)))))
    tracker.finish()
    years = price_years(planning.upper_site(), spec, load, executor, progress)
    return Setup(spec, horizon, draws, hashprice, halvings, levels, central, years)


MAX_KEPT_YEARS = 64
_kept_years: dict[tuple[str, int, int, int], PriceYear] = {}


def price_years(
    site: Site,
    spec: Uncertainty,
    load: dict[str, object],
    executor: Executor | None,
    progress: Progress,
) -> tuple[PriceYear, ...]:
    """The price years of ``spec`` loaded on ``site`` with their representative days (on the
    executor). Years of the bundled data (nothing in ``load``) are kept for the process: a
    later call on the same site and settings (another set of candidates, another seed) re-uses
    them; the oldest are dropped beyond :data:`MAX_KEPT_YEARS`."""
    tracker = Tracker(progress, "Monte Carlo: price years", len(spec.price_years), "years")
    bundled = all(value is None for value in load.values())
    site_key = Grid.key(site)
    keys = [
        (site_key, year, spec.days_per_year, spec.spike_days_per_year) for year in spec.price_years
    ]
    missing = [key for key in keys if not (bundled and key in _kept_years)]
    if len(missing) < len(keys):
        tracker.advance(len(keys) - len(missing))
    calls = [Call(price_year, (site, *key[1:]), load) for key in missing]
    found = dict(zip(missing, run_calls(calls, executor, tracker), strict=True))
    if bundled:
        for key, year in found.items():
            if len(_kept_years) >= MAX_KEPT_YEARS:
                _kept_years.pop(next(iter(_kept_years)))
            _kept_years[key] = year
    return tuple(found[key] if key in found else _kept_years[key] for key in keys)


@dataclass(frozen=True)
class Sites:
    """The sites a candidate is dispatched as: hall empty (``site``), before its added equipment
    (``before``, None when it adds none) and with its hall drawing ``hall_occupancy`` of its IT
    load (``hall``, None without HPC): 1 for a lease, the sold share for a GPU cloud, so the
    hall's usual state is dispatched, not interpolated."""

    site: Site
    before: Site | None
    hall: Site | None
    hall_occupancy: float = 1.0


def sites_of(planning: Planning, plan: Plan) -> Sites:
    adds = any(plan.containers_added.values()) or (
        (plan.battery_power_mw, plan.battery_energy_mwh) != planning.battery_as_is()
    )
    gpu = planning.gpu_cloud
    return Sites(
        planning.site_without_hall(plan),
        planning.site_without_hall(plan, deployed=False) if adds else None,
        planning.site_for(plan) if plan.hpc_it_mw > 0 else None,
        gpu.utilization_fraction if gpu is not None else 1.0,
    )


class Grid:
    """The dispatched grid: per site configuration and price year, the money of each stream on
    each representative day at each level it was dispatched at."""

    def __init__(self, setup: Setup, lines: dict[tuple[str, int], Lines]) -> None:
        self.setup = setup
        self.lines = lines
        present = {s for found in lines.values() for s in found.streams}
        self.streams = tuple(s for s in Stream if s in present)

    @staticmethod
    def key(site: Site) -> str:
        """A configuration's identity (its whole site file content)."""
        return site.model_dump_json()

    def operations(self, sites: Sites, draws: Draws, hashprice: np.ndarray) -> Operations:
        """A candidate's operations on every path of ``draws`` at ``hashprice`` [paths, years]."""
        shape = (*hashprice.shape, len(self.streams))
        site_usd, deployment, hall = np.zeros(shape), np.zeros(shape), np.zeros(shape)
        setup = self.setup
        for index, year in enumerate(setup.years):
            mask = draws.price_year == index
            if not mask.any():
                continue
            weights, levels, h = year.weights, setup.levels, hashprice[mask]
            own = self.lines[self.key(sites.site), year.year].on(self.streams)
            site_usd[mask] = envelope(own, self.streams, weights, levels, h)
            if sites.before is not None:
                before = self.lines[self.key(sites.before), year.year].on(self.streams)
                deployment[mask] = site_usd[mask] - envelope(
                    before, self.streams, weights, levels, h
                )
            if sites.hall is not None:
                whole = self.lines[self.key(sites.hall), year.year].on(self.streams)[:, 0, :]
                added = weights @ (whole - own[:, setup.central, :])
                hall[mask] = added[None, :]
        return Operations(self.streams, site_usd, deployment, hall, sites.hall_occupancy)

    def bound(self, sites: Sites, draws: Draws, hashprice: np.ndarray) -> np.ndarray:
        """Chord minus envelope of the hall-empty site [paths, years] (USD/year): how far the
        estimate can lie below the optimum (NaN outside the levels)."""
        out = np.full(hashprice.shape, np.nan)
        for index, year in enumerate(self.setup.years):
            mask = draws.price_year == index
            own = self.lines[self.key(sites.site), year.year].on(self.streams)
            h = hashprice[mask]
            estimate = envelope(own, self.streams, year.weights, self.setup.levels, h).sum(axis=1)
            out[mask] = chord_bound(own, year.weights, self.setup.levels, h) - estimate
        return out


def dispatch_grid(
    setup: Setup,
    candidates: Sequence[tuple[Candidate, Sites]],
    options: SolveOptions,
    executor: Executor | None,
    progress: Progress,
) -> Grid:
    """Dispatch every configuration the candidates need on every price year (on the executor,
    the longest tasks first)."""
    wanted: dict[str, tuple[Site, list[float], float | None]] = {}
    all_levels = [float(v) for v in setup.levels]
    for _, sites in candidates:
        for site in (sites.site, sites.before):
            if site is not None:
                wanted[Grid.key(site)] = (site, all_levels, None)
        if sites.hall is not None:
            central = [all_levels[setup.central]]
            wanted.setdefault(Grid.key(sites.hall), (sites.hall, central, sites.hall_occupancy))
    # one task per configuration and group of years it is dispatched the same in (the years
    # whose bundled data price the same programs): the task's models serve all its years
    groups: dict[Unpriced, list[PriceYear]] = {}
    for year in setup.years:
        groups.setdefault(year.unpriced, []).append(year)
    tasks = [(key, years, *found) for key, found in wanted.items() for years in groups.values()]
    tasks.sort(key=lambda task: -len(task[3]) * sum(len(y.days) for y in task[1]))
    tracker = Tracker(progress, "Monte Carlo: dispatch grid", len(tasks), "tasks")
    calls = [
        Call(
            dispatch_years,
            (years[0].unpriced.apply(site), [y.days for y in years], levels, options, used),
        )
        for _, years, site, levels, used in tasks
    ]
    done = run_calls(calls, executor, tracker)
    lines = {
        (task[0], year.year): found
        for task, per_year in zip(tasks, done, strict=True)
        for year, found in zip(task[1], per_year, strict=True)
    }
    return Grid(setup, lines)


@dataclass(frozen=True)
class Scored:
    """One candidate's money on every path and the measures derived from it ([paths] each;
    ``*_vs_bau`` against the site as it stands on the same path)."""

    candidate: Candidate
    ledger: Ledger
    npv_usd: np.ndarray
    npv_vs_bau_usd: np.ndarray
    equity_npv_usd: np.ndarray
    equity_npv_vs_bau_usd: np.ndarray
    irr_fraction: np.ndarray
    equity_irr_fraction: np.ndarray
    payback_years: np.ndarray
    min_dscr: np.ndarray
    interpolation_bound_usd: np.ndarray  # [paths, years]


def rates(planning: Planning) -> tuple[float, float]:
    """Project and equity discount rates [1/year]."""
    project = planning.spec.discount_rate_fraction
    equity = planning.spec.financing.equity_discount_rate_fraction
    return project, project if equity is None else equity


def score(
    planning: Planning,
    grid: Grid,
    candidate: Candidate,
    sites: Sites,
    bau: Ledger,
    draws: Draws,
    hashprice: np.ndarray,
) -> Scored:
    """A candidate's ledger and measures on every path of ``draws``, paired with ``bau``."""
    horizon = grid.setup.horizon
    operations = grid.operations(sites, draws, hashprice)
    money = ledger(planning, candidate.plan, horizon, draws, operations)
    project_rate, equity_rate = rates(planning)
    gain = money.finance.project_cash - bau.finance.project_cash
    equity_gain = money.finance.equity_cash - bau.finance.equity_cash
    return Scored(
        candidate,
        money,
        npv(money.finance.project_cash, project_rate),
        npv(gain, project_rate),
        npv(money.finance.equity_cash, equity_rate),
        npv(equity_gain, equity_rate),
        irr(gain),
        irr(equity_gain),
        payback_years(gain),
        money.finance.min_dscr(),
        grid.bound(sites, draws, hashprice),
    )


def bau_ledger(
    planning: Planning, grid: Grid, bau: Sites, draws: Draws, hashprice: np.ndarray
) -> Ledger:
    """The site as it stands on every path of ``draws``."""
    operations = grid.operations(bau, draws, hashprice)
    return ledger(planning, planning.business_as_usual(), grid.setup.horizon, draws, operations)
