"""``evaluate_under_uncertainty``: each candidate plan's NPV distribution, the mean-vs-CVaR
frontier, a tornado of the inputs that move NPV most, and a one-line recommendation, as tidy
tables a report can draw (:class:`UncertaintyResult`).

NPV figures are the **NPV against the site as it stands** on the same path (the decision's
value) unless a column says otherwise; ``npv_usd`` is the whole site's project NPV.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from dispatch.sizing.economics import CostTerm
from dispatch.sizing.evaluate import check_executor
from dispatch.sizing.montecarlo import (
    Candidate,
    Grid,
    Scored,
    Setup,
    Sites,
    bau_ledger,
    dispatch_grid,
    score,
    set_up,
    sites_of,
    uncertainty_of,
)
from dispatch.sizing.paths import chain
from dispatch.sizing.plan import Planning
from dispatch.sizing.progress import Progress, Tracker, quiet
from dispatch.sizing.risk import efficient, signed_musd, summarize
from dispatch.sizing.sensitivity import BAU, inputs_table, tornado
from dispatch.solver import SolveOptions
from dispatch.streams import Stream

MEASURES = (
    "npv_vs_bau_usd",
    "npv_usd",
    "equity_npv_vs_bau_usd",
    "equity_npv_usd",
    "irr_fraction",
    "equity_irr_fraction",
    "payback_years",
    "min_dscr",
)


@dataclass(frozen=True)
class UncertaintyResult:
    """What the Monte Carlo found, as tidy tables (one row per observation).

    ``summary``: one row per candidate (plan, NPV-vs-as-it-stands statistics, IRR, payback,
    DSCR, frontier and recommendation flags). ``paths``: every measure on every path.
    ``distribution``: candidate × measure × statistic. ``frontier``: mean and CVaR of NPV.
    ``tornado``: per candidate and input, NPV at the input's P10 and P90 (others at their
    median paths). ``cash_flows``: mean yearly cash per candidate and item. ``grid``: the
    dispatched value per configuration, price year and hashprice level. ``price_years``: the
    days each year was dispatched on and what it could not price. ``inputs``: what was drawn.
    """

    recommended: str
    recommendation: str
    summary: pd.DataFrame
    paths: pd.DataFrame
    distribution: pd.DataFrame
    frontier: pd.DataFrame
    tornado: pd.DataFrame
    cash_flows: pd.DataFrame
    grid: pd.DataFrame
    price_years: pd.DataFrame
    inputs: pd.DataFrame
    settings: dict[str, object] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def tornado_subject(self) -> str:
        """The candidate a tornado is shown for: the recommended one, or the best other one
        when the site as it stands is recommended (its NPV against itself is 0)."""
        if self.recommended != BAU:
            return self.recommended
        others = self.summary[self.summary["candidate"] != BAU]
        if others.empty:
            return self.recommended
        return str(others.loc[others["objective_usd"].idxmax(), "candidate"])

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables by the file name :meth:`SizingResult.write` gives them."""
        return {
            "mc_summary.csv": self.summary,
            "mc_paths.csv": self.paths,
            "mc_distribution.csv": self.distribution,
            "mc_frontier.csv": self.frontier,
            "mc_tornado.csv": self.tornado,
            "mc_cash_flows.csv": self.cash_flows,
            "mc_grid.csv": self.grid,
            "mc_price_years.csv": self.price_years,
            "mc_inputs.csv": self.inputs,
        }


def evaluate_under_uncertainty(
    planning: Planning,
    candidates: Sequence[Candidate],
    *,
    paths: int | None = None,
    seed: int | None = None,
    load: dict[str, object] | None = None,
    options: SolveOptions | None = None,
    executor: Executor | None = None,
    progress: Progress | None = None,
) -> UncertaintyResult:
    """Score ``candidates`` (the site as it stands among them or added) on Monte Carlo paths.

    Parameters
    ----------
    planning
        The site and its sizing section (``uncertainty``, ``financing``, ``schedule`` and the
        contract terms are read from it).
    candidates
        Plans to compare; duplicates of a plan are scored once, under the first name.
    paths, seed
        Override ``sizing.uncertainty.paths`` and ``.seed``.
    load
        ``prices``, ``ancillary``, ``peaks``, ``fill``, ``timezone`` as for :func:`load_inputs`.
    options
        Solver settings of each dispatched day; the MIP gap is ``sizing.uncertainty.mip_rel_gap``
        (1e-3 by default: the grid dispatches thousands of days).
    executor
        Runs the price years and the dispatch grid (processes or a Dask client's executor).
    progress
        Receives a :class:`~dispatch.sizing.progress.Step` per unit of each long step.
    """
    check_executor(executor)
    started = time.perf_counter()
    say = progress or quiet
    spec = uncertainty_of(planning, paths, seed)
    unique = _unique(planning, candidates)
    seconds: dict[str, float] = {}
    clock = time.perf_counter()
    setup = set_up(planning, spec, dict(load or {}), executor, say)
    seconds["draws_and_price_years"] = time.perf_counter() - clock
    with_sites = [(c, sites_of(planning, c.plan)) for c in unique]
    clock = time.perf_counter()
    day_options = replace(options or SolveOptions(), mip_rel_gap=spec.mip_rel_gap)
    grid = dispatch_grid(setup, with_sites, day_options, executor, say)
    seconds["dispatch_grid"] = time.perf_counter() - clock
    clock = time.perf_counter()
    tracker = Tracker(say, "Monte Carlo: cash flows", len(with_sites), "plans")
    bau_sites = with_sites[0][1]  # the site as it stands comes first
    draws, hashprice = setup.draws, setup.hashprice
    bau = bau_ledger(planning, grid, bau_sites, draws, hashprice)
    scored = []
    for candidate, sites in with_sites:
        scored.append(score(planning, grid, candidate, sites, bau, draws, hashprice))
        tracker.advance()
    swings = tornado(planning, grid, with_sites, bau_sites)
    seconds["cash_flows"] = time.perf_counter() - clock
    summary = _summary(planning, scored, spec.cvar_fraction, spec.cvar_weight_fraction)
    recommended = str(summary.loc[summary["recommended"], "candidate"].iloc[0])
    seconds["total"] = time.perf_counter() - started
    return UncertaintyResult(
        recommended=recommended,
        recommendation=_recommendation(summary, recommended, spec.cvar_weight_fraction),
        summary=summary,
        paths=_paths_table(scored),
        distribution=_distribution(scored, spec.cvar_fraction),
        frontier=summary[["candidate", "mean_npv_vs_bau_usd", "cvar_npv_vs_bau_usd", "efficient"]],
        tornado=swings,
        cash_flows=_cash_flows(scored, setup),
        grid=_grid_table(grid, with_sites),
        price_years=_price_years_table(setup),
        inputs=inputs_table(planning, setup),
        settings=_settings(setup, planning, grid),
        seconds=seconds,
    )


def _unique(planning: Planning, candidates: Sequence[Candidate]) -> list[Candidate]:
    """The site as it stands first, then each distinct plan once (first name wins)."""
    bau = planning.business_as_usual()
    found = [Candidate(BAU, bau)]
    for candidate in candidates:
        if all(candidate.plan != c.plan for c in found):
            found.append(candidate)
    return found


def _summary(
    planning: Planning, scored: Sequence[Scored], fraction: float, weight: float
) -> pd.DataFrame:
    rows = []
    for s in scored:
        plan = s.candidate.plan
        gain = summarize(s.npv_vs_bau_usd, fraction)
        row: dict[str, object] = {
            "candidate": s.candidate.name,
            "description": planning.describe(plan),
            "hpc_it_mw": plan.hpc_it_mw,
            "hpc_retrofit_it_mw": plan.hpc_retrofit_it_mw,
            "hpc_new_build_it_mw": plan.hpc_new_build_it_mw,
            "mining_mw": planning.mining_mw(plan),
            **{f"{f}_containers": n for f, n in plan.containers.items()},
            "battery_power_mw": plan.battery_power_mw,
            "battery_energy_mwh": plan.battery_energy_mwh,
        }
        row.update(
            {f"{k}_npv_vs_bau_usd": v for k, v in gain.items() if k != "probability_of_loss"}
        )
        row["probability_of_loss"] = gain["probability_of_loss"]
        row["mean_npv_usd"] = float(np.mean(s.npv_usd))
        row["p50_npv_usd"] = float(np.median(s.npv_usd))
        row["p50_equity_npv_vs_bau_usd"] = float(np.median(s.equity_npv_vs_bau_usd))
        row["p50_irr_fraction"] = _median(s.irr_fraction)
        row["p50_equity_irr_fraction"] = _median(s.equity_irr_fraction)
        row["p50_payback_years"] = _median_payback(s.payback_years)
        row["p10_min_dscr"] = _quantile(s.min_dscr, 10)
        row["mean_tenant_exits"] = float(np.mean(s.ledger.exits))
        bound = s.interpolation_bound_usd
        row["interpolation_bound_usd_per_year"] = (
            float(np.nanmean(bound)) if np.isfinite(bound).any() else math.nan
        )
        row["hashprice_outside_levels_fraction"] = float(np.isnan(bound).mean())
        rows.append(row)
    table = pd.DataFrame(rows)
    table["efficient"] = efficient(
        table["mean_npv_vs_bau_usd"].to_numpy(), table["cvar_npv_vs_bau_usd"].to_numpy()
    )
    table["objective_usd"] = (1 - weight) * table["mean_npv_vs_bau_usd"] + weight * table[
        "cvar_npv_vs_bau_usd"
    ]
    best = int(table["objective_usd"].to_numpy().argmax())  # ties: the first (as it stands)
    table["recommended"] = table.index == best
    return table


def _median(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(np.median(finite)) if finite.size * 2 > len(values) else math.nan


def _median_payback(values: np.ndarray) -> float:
    """Median payback [years]; a path that never pays back counts as longer than any other
    (NaN when that is half the paths or more)."""
    ordered = np.sort(np.where(np.isfinite(values), values, np.inf))
    middle = ordered[(len(ordered) - 1) // 2]
    return float(middle) if np.isfinite(middle) else math.nan


def _quantile(values: np.ndarray, q: float) -> float:
    finite = values[np.isfinite(values)]
    return float(np.percentile(finite, q)) if finite.size else math.nan


def _recommendation(summary: pd.DataFrame, recommended: str, cvar_weight: float) -> str:
    """The line ending `dispatch size`: the plan, the figure it was chosen on (the expected NPV,
    or its blend with the CVaR), then its P50, P10 and payback."""
    row = summary.loc[summary["candidate"] == recommended].iloc[0]
    if recommended == BAU:
        others = summary[summary["candidate"] != BAU]
        if others.empty:
            return "keep the site as it stands (no other plan was scored)"
        best = others.loc[others["objective_usd"].idxmax()]
        return (
            f"keep the site as it stands: no plan beats it; the best other, "
            f"{best['description']}: NPV P50 {signed_musd(best['p50_npv_vs_bau_usd'])} M USD, P10 "
            f"{signed_musd(best['p10_npv_vs_bau_usd'])} M USD"
        )
    payback = row["p50_payback_years"]
    paid = (
        f"payback {payback:.1f} years" if math.isfinite(payback) else "payback beyond the horizon"
    )
    criterion = (
        "expected NPV"
        if cvar_weight == 0
        else f"{1 - cvar_weight:.0%} expected NPV + {cvar_weight:.0%} CVaR"
    )
    return (
        f"{row['description']}: best {criterion} {signed_musd(row['objective_usd'])} M USD; "
        f"NPV P50 {signed_musd(row['p50_npv_vs_bau_usd'])} M USD, P10 "
        f"{signed_musd(row['p10_npv_vs_bau_usd'])} M USD, {paid}"
    )


def _paths_table(scored: Sequence[Scored]) -> pd.DataFrame:
    frames = []
    for s in scored:
        n = len(s.npv_usd)
        frames.append(
            pd.DataFrame(
                {
                    "candidate": s.candidate.name,
                    "path": np.arange(n),
                    **{m: getattr(s, m) for m in MEASURES},
                    "tenant_exits": s.ledger.exits,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _distribution(scored: Sequence[Scored], fraction: float) -> pd.DataFrame:
    rows = []
    for s in scored:
        for measure in MEASURES:
            for statistic, value in summarize(getattr(s, measure), fraction).items():
                rows.append(
                    {
                        "candidate": s.candidate.name,
                        "measure": measure,
                        "statistic": statistic,
                        "value": value,
                    }
                )
    return pd.DataFrame(rows)


def _cash_flows(scored: Sequence[Scored], setup: Setup) -> pd.DataFrame:
    """Mean yearly cash [USD] per candidate and item over the paths."""
    years = setup.horizon.first_year + np.arange(setup.horizon.n_years)
    rows = []
    for s in scored:
        finance = s.ledger.finance
        lines: list[tuple[str, str, np.ndarray]] = []
        for item, values in s.ledger.items.items():
            kind = "capex" if item in _CAPEX else "opex" if item in _OPEX else "operations"
            lines.append((item, kind, values))
        lines += [
            ("ebitda", "total", finance.ebitda),
            ("project_tax", "finance", -finance.project_tax),
            ("terminal_value", "finance", finance.terminal_value),
            ("project_cash", "total", finance.project_cash),
            ("debt_draws", "finance", finance.draws),
            ("interest", "finance", -finance.interest),
            ("principal", "finance", -finance.principal),
            ("balloon", "finance", -finance.balloon),
            ("equity_tax", "finance", -finance.equity_tax),
            ("equity_cash", "total", finance.equity_cash),
        ]
        for item, kind, values in lines:
            for year, mean in zip(years, values.mean(axis=0), strict=True):
                rows.append(
                    {
                        "candidate": s.candidate.name,
                        "year": int(year),
                        "item": item,
                        "kind": kind,
                        "usd": float(mean),
                    }
                )
    return pd.DataFrame(rows)


_CAPEX = {t.value for t in CostTerm if t.is_capex}
_OPEX = {t.value for t in CostTerm if not t.is_capex}


def _grid_table(grid: Grid, with_sites: Sequence[tuple[Candidate, Sites]]) -> pd.DataFrame:
    """Dispatched value per candidate, role, price year and level [USD/year], the HPC
    contract stream left out (the business replaces it)."""
    rows = []
    keep = [i for i, s in enumerate(grid.streams) if s is not Stream.HPC_CONTRACT]
    setup = grid.setup
    for candidate, sites in with_sites:
        roles = (
            ("hall_empty", sites.site),
            ("before_deployment", sites.before),
            ("hall_full", sites.hall),
        )
        for role, site in roles:
            if site is None:
                continue
            for year in setup.years:
                lines = grid.lines[grid.key(site), year.year]
                usd = lines.on(grid.streams)[:, :, keep].sum(axis=-1)  # [days, levels]
                levels = (
                    setup.levels
                    if usd.shape[1] == len(setup.levels)
                    else setup.levels[[setup.central]]
                )
                for j, level in enumerate(levels):
                    rows.append(
                        {
                            "candidate": candidate.name,
                            "role": role,
                            "price_year": year.year,
                            "hashprice_usd_per_ph_day": float(level),
                            "usd_per_year": float(year.weights @ usd[:, j]),
                            "solves": lines.solves,
                            "worst_mip_gap": lines.worst_gap,
                        }
                    )
    return pd.DataFrame(rows)


def _price_years_table(setup: Setup) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "price_year": y.year,
                "days": len(y.days),
                "dates": " ".join(d.date.isoformat() for d in y.days),
                "mean_price_usd_per_mwh": y.mean_price_usd_per_mwh,
                "left_out": "; ".join(y.unpriced.notes()),
            }
            for y in setup.years
        ]
    )


def _settings(setup: Setup, planning: Planning, grid: Grid) -> dict[str, object]:
    return {
        "grid_tasks": len(grid.lines),
        "grid_solves": sum(lines.solves for lines in grid.lines.values()),
        "grid_days": sum(len(y.days) for y in setup.years),
        "paths": setup.spec.paths,
        "seed": setup.spec.seed,
        "first_year": setup.horizon.first_year,
        "analysis_years": setup.horizon.n_years,
        "last_year": setup.horizon.first_year + setup.horizon.n_years - 1,
        "price_years": [y.year for y in setup.years],
        "halvings": [d.isoformat() for d in setup.halvings],
        "hashprice_levels_usd_per_ph_day": [float(v) for v in setup.levels],
        "central_level_usd_per_ph_day": float(setup.levels[setup.central]),
        "days_per_year": setup.spec.days_per_year,
        "spike_days_per_year": setup.spec.spike_days_per_year,
        "mip_rel_gap": setup.spec.mip_rel_gap,
        "cvar_fraction": setup.spec.cvar_fraction,
        "cvar_weight_fraction": setup.spec.cvar_weight_fraction,
        "discount_rate_fraction": planning.spec.discount_rate_fraction,
        "bundled_btc_data_ends": chain().last_day.isoformat(),
    }
