"""``dispatch.size()``: the planner's question answered over real price history.

Representative-day basis (default): tsam picks ``representative_days`` real days; the sizing
MILP chooses the capacities on them; the chosen plan and the site as it stands are then
checked by dispatching every day of the history. Full-history basis (``full_year=True``): a
year as one MILP does not solve (PERF_NOTES), so every candidate is a sweep point dispatched
day by day over the whole history and the optimum is the best point. Either way a sweep grid
(``hpc_it_mw`` x ``mining_mw``) is dispatched over the real history, and each hashprice
scenario gets its own optimum and the regret of choosing another scenario's mix.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future
from pathlib import Path

import pandas as pd

from dispatch.errors import InputError, expect
from dispatch.inputs.align import Fill
from dispatch.inputs.horizon import parse_date
from dispatch.inputs.table import Source
from dispatch.site import Site, load_site
from dispatch.sizing.days import (
    Day,
    History,
    RepresentativeDays,
    load_history,
    parse_years,
    representative_days,
    split_days,
)
from dispatch.sizing.evaluate import (
    Operations,
    check_executor,
    costs_of,
    dispatch_plan,
    net_values,
    sweep,
)
from dispatch.sizing.model import optimize
from dispatch.sizing.plan import Plan, Planning
from dispatch.sizing.results import Case, ScenarioOutcome, SizingResult, make_case
from dispatch.sizing.scenarios import REFERENCE, Scenario, apply_scenario, load_scenarios
from dispatch.solver import SolveOptions

DEFAULT_REPRESENTATIVE_DAYS = 12
DEFAULT_YEARS = (2023,)
DEFAULT_SIZING_OPTIONS = SolveOptions(mip_rel_gap=1e-4, time_limit_s=600.0)
Progress = Callable[[str], None]


def size(
    site: Site | str | Path,
    years: str | Sequence[int] | None = None,
    *,
    start: str | dt.date | None = None,
    end: str | dt.date | None = None,
    prices: str | Path | pd.DataFrame | None = None,
    hashprice: Source | None = None,
    ancillary: Source | None = None,
    peaks: Source | None = None,
    fill: Fill | None = None,
    timezone: str | None = None,
    representative_days: int = DEFAULT_REPRESENTATIVE_DAYS,
    full_year: bool = False,
    hpc_it_mw: Sequence[float] | None = None,
    mining_mw: Sequence[float] | None = None,
    scenarios: Sequence[Scenario] | str | Path | None = None,
    check: bool = True,
    dispatch_options: SolveOptions | None = None,
    sizing_options: SolveOptions | None = None,
    executor: Executor | None = None,
    progress: Progress | None = None,
) -> SizingResult:
    """Size HPC vs mining (and optionally the battery) of ``site`` over ``years`` of history.

    Parameters
    ----------
    site
        A site (or its YAML file) with a ``sizing`` section; the rest is the site as it stands.
    years, start, end
        The history: whole local calendar years (``"2021:2024"`` or a sequence of years), or
        the local days ``start``..``end`` (inclusive). Default: 2023.
    prices, hashprice, ancillary, peaks, fill, timezone
        Inputs as for :func:`dispatch.load_inputs` (default: bundled real data).
    representative_days
        Days tsam chooses for the sizing MILP (clusters and the two extreme-price days); days
        with a coincident-peak weight or a DR event are added on top. At least the number of
        other days: every day is its own representative (exact).
    full_year
        Score every candidate by dispatching every day of the history (needs the grid); the
        optimum is the best grid point.
    hpc_it_mw, mining_mw
        Sweep grid: installed HPC IT [MW] x nominal mining [MW]; both or neither.
    scenarios
        Hashprice scenarios (or a scenario file); the first is the reference. Default: the
        history as it was.
    check
        Dispatch the optimum and the site as it stands over the full history (representative
        basis).
    dispatch_options, sizing_options
        Solver settings per dispatched day and for the sizing MILP.
    executor
        Runs sweep points and checks in parallel: a ``ProcessPoolExecutor`` or a Dask client's
        executor (a thread pool is refused: Pyomo's HiGHS output capture is not thread-safe).
    progress
        Called with a line of text as each stage starts.
    """
    started = time.perf_counter()
    say = progress or (lambda message: None)
    site = site if isinstance(site, Site) else load_site(site)
    expect(representative_days, int, "representative_days", "a whole number of days")
    if representative_days < 1:
        raise InputError(f"--representative-days: expected at least 1, found {representative_days}")
    planning = Planning(site)
    if years is not None and (start is not None or end is not None):
        raise InputError("--years: use either --years or --start/--end, not both")
    if (start is None) != (end is None):
        raise InputError("--start/--end: give both")
    year_list = None
    if start is None:
        year_list = parse_years(years) if isinstance(years, str) else tuple(years or DEFAULT_YEARS)
    if (hpc_it_mw is None) != (mining_mw is None):
        raise InputError("--hpc-mw/--mining-mw: a sweep needs both axes")
    if full_year and hpc_it_mw is None:
        raise InputError(
            "--full-year: needs --hpc-mw and --mining-mw (a full-history optimum is the best "
            "point of a sweep: a year as one MILP does not solve)"
        )
    check_executor(executor)
    scenario_list = _scenarios(scenarios)
    day_options = dispatch_options or SolveOptions()
    seconds: dict[str, float] = {}

    clock = time.perf_counter()
    say("loading inputs")
    loaded = load_history(
        planning.upper_site(),
        year_list,
        parse_date(start, "--start") if start is not None else None,
        parse_date(end, "--end") if end is not None else None,
        prices=prices,
        hashprice=hashprice,
        ancillary=ancillary,
        peaks=peaks,
        fill=fill,
        timezone=timezone,
    )
    histories = [apply_scenario(loaded, s) for s in scenario_list]
    reference = histories[0]  # the first scenario's history: days, check and sweep use it
    seconds["load"] = time.perf_counter() - clock
    n_years = reference.n_years
    if full_year:
        return _full_history(
            planning,
            histories,
            scenario_list,
            hpc_it_mw or [],
            mining_mw or [],
            day_options,
            executor,
            say,
            seconds,
            started,
        )

    clock = time.perf_counter()
    say(f"choosing {representative_days} representative days (tsam)")
    rep = representative_days_of(reference, representative_days)
    seconds["representative_days"] = time.perf_counter() - clock
    basis = f"{len(rep.days)} representative days"
    outcomes = []
    for scenario, history in zip(scenario_list, histories, strict=True):
        say(f"scenario {scenario.name}: sizing MILP on {basis}")
        days = same_days(rep, history)
        clock = time.perf_counter()
        solution = optimize(planning, days, n_years, sizing_options or DEFAULT_SIZING_OPTIONS)
        seconds[f"optimize_{scenario.name}"] = time.perf_counter() - clock
        bau = _dispatched_case(
            planning,
            "business_as_usual",
            scenario,
            basis,
            planning.business_as_usual(),
            days,
            n_years,
            day_options,
        )
        optimum = make_case(
            planning,
            "optimum",
            scenario.name,
            basis,
            solution.plan,
            solution.streams,
            solution.costs,
            bau,
        )
        solve = {
            "status": solution.status,
            "mip_gap": solution.mip_gap,
            "build_seconds": solution.build_seconds,
            "solve_seconds": solution.solve_seconds,
            "objective_usd_per_year": solution.objective_usd_per_year,
        }
        outcomes.append(ScenarioOutcome(scenario, optimum, bau, solve))
    regret = None
    if len(outcomes) > 1:
        say("regret: each scenario's mix under every scenario")
        regret = _regret_on_days(
            planning, outcomes, [same_days(rep, h) for h in histories], n_years, day_options
        )
    checked: tuple[Case, ...] = ()
    if check:
        clock = time.perf_counter()
        say(f"checking the optimum and the site as it stands over {len(reference.days())} days")
        checked = _check(planning, outcomes[0], reference, day_options, executor)
        seconds["check_full_history"] = time.perf_counter() - clock
    grid = None
    if hpc_it_mw is not None and mining_mw is not None:
        clock = time.perf_counter()
        say(f"sweep: {len(hpc_it_mw)} x {len(mining_mw)} points over the history")
        grid = sweep(
            planning, hpc_it_mw, mining_mw, reference.days(), n_years, day_options, executor
        ).frame
        seconds["sweep"] = time.perf_counter() - clock
    seconds["total"] = time.perf_counter() - started
    return SizingResult(
        site.name,
        reference.label,
        "representative_days",
        tuple(outcomes),
        rep,
        checked,
        grid,
        regret,
        seconds,
    )


def representative_days_of(history: History, n_days: int) -> RepresentativeDays:
    """Representative days of a history (see :func:`dispatch.sizing.days.representative_days`)."""
    return representative_days(history.days(), n_days, history.event_columns)


def same_days(rep: RepresentativeDays, history: History) -> list[Day]:
    """The representative dates and weights, with the inputs of ``history`` (a scenario)."""
    by_date = {d.date: d for d in split_days(history.inputs)}
    return [Day(d.date, by_date[d.date].inputs, d.weight_days, d.kind) for d in rep.days]


def _scenarios(scenarios: Sequence[Scenario] | str | Path | None) -> list[Scenario]:
    if scenarios is None:
        return [REFERENCE]
    if isinstance(scenarios, str | Path):
        return load_scenarios(scenarios)
    if not scenarios:
        raise InputError("scenarios: expected at least one scenario")
    return list(scenarios)


def _dispatched_case(
    planning: Planning,
    name: str,
    scenario: Scenario,
    basis: str,
    plan: Plan,
    days: Sequence[Day],
    n_years: float,
    options: SolveOptions,
    bau: Case | None = None,
) -> Case:
    operations = dispatch_plan(planning.site_for(plan), days, n_years, options)
    return make_case(
        planning,
        name,
        scenario.name,
        basis,
        plan,
        operations.streams,
        costs_of(planning, plan),
        bau,
    )


def _check(
    planning: Planning,
    outcome: ScenarioOutcome,
    history: History,
    options: SolveOptions,
    executor: Executor | None,
) -> tuple[Case, ...]:
    """The reference optimum and the site as it stands dispatched over every day."""
    days, n_years = history.days(), history.n_years
    basis = f"full history ({len(days)} days)"
    plans = {"business_as_usual": outcome.business_as_usual.plan, "optimum": outcome.optimum.plan}
    runs: dict[str, Future[Operations] | Operations] = {}
    for name, plan in plans.items():
        if name == "optimum" and plan == plans["business_as_usual"]:
            runs[name] = runs["business_as_usual"]  # nothing to change: the same dispatch
            continue
        site = planning.site_for(plan)
        runs[name] = (
            executor.submit(dispatch_plan, site, days, n_years, options)
            if executor is not None
            else dispatch_plan(site, days, n_years, options)
        )
    cases: dict[str, Case] = {}
    for name, plan in plans.items():
        run = runs[name]
        operations = run if isinstance(run, Operations) else run.result()
        cases[name] = make_case(
            planning,
            name,
            outcome.scenario.name,
            basis,
            plan,
            operations.streams,
            costs_of(planning, plan),
            cases.get("business_as_usual"),
        )
    return cases["optimum"], cases["business_as_usual"]


def _regret_on_days(
    planning: Planning,
    outcomes: Sequence[ScenarioOutcome],
    days_per_scenario: Sequence[Sequence[Day]],
    n_years: float,
    options: SolveOptions,
) -> pd.DataFrame:
    """NPV lost by choosing scenario s's mix when scenario t happens, every mix dispatched on
    the representative days of every scenario (like for like: equal mixes score equally)."""
    names = [o.scenario.name for o in outcomes]
    value = pd.DataFrame(index=names, columns=names, dtype=float)
    scored: dict[tuple[str, int], float] = {}
    for s, chosen in enumerate(outcomes):
        plan = chosen.optimum.plan
        key = json.dumps(plan.as_dict(), sort_keys=True)
        for t in range(len(outcomes)):
            if (key, t) not in scored:
                site = planning.site_for(plan)
                operations = dispatch_plan(site, days_per_scenario[t], n_years, options)
                scored[key, t] = net_values(planning, plan, operations.usd_per_year)["npv_usd"]
            value.iloc[s, t] = scored[key, t]
    return _regret_table(value)


def _regret_table(value: pd.DataFrame) -> pd.DataFrame:
    """Regret [USD] from the NPV of mix s (rows) under scenario t (columns): the best mix
    under t (its own optimum, or another mix that scores as well) minus mix s."""
    regret = pd.DataFrame(index=value.index, columns=value.columns, dtype=float)
    for t in value.columns:
        regret[t] = value[t].max() - value[t]
    regret["max_regret_usd"] = regret.max(axis=1)
    return regret


def _full_history(
    planning: Planning,
    histories: Sequence[History],
    scenarios: Sequence[Scenario],
    hpc_it_mw: Sequence[float],
    mining_mw: Sequence[float],
    options: SolveOptions,
    executor: Executor | None,
    say: Progress,
    seconds: dict[str, float],
    started: float,
) -> SizingResult:
    """Every scenario's grid dispatched over the whole history; optimum = best point."""
    outcomes, sweeps = [], []
    for scenario, history in zip(scenarios, histories, strict=True):
        days, n_years = history.days(), history.n_years
        basis = f"full history ({len(days)} days)"
        clock = time.perf_counter()
        say(f"scenario {scenario.name}: sweep {len(hpc_it_mw)} x {len(mining_mw)} over {basis}")
        swept = sweep(planning, hpc_it_mw, mining_mw, days, n_years, options, executor)
        seconds[f"sweep_{scenario.name}"] = time.perf_counter() - clock
        best = swept.best()
        if best is None:
            raise InputError(
                "--hpc-mw/--mining-mw: no grid point is an allowed plan; first problem: "
                + str(swept.frame["problem"].iloc[0])
            )
        bau = _dispatched_case(
            planning,
            "business_as_usual",
            scenario,
            basis,
            planning.business_as_usual(),
            days,
            n_years,
            options,
        )
        operations = swept.operations[best]
        assert operations is not None, "the best point is feasible"
        plan = swept.plans[best]
        optimum = make_case(
            planning,
            "optimum",
            scenario.name,
            basis,
            plan,
            operations.streams,
            costs_of(planning, plan),
            bau,
        )
        outcomes.append(ScenarioOutcome(scenario, optimum, bau, {}, swept.frame))
        sweeps.append(swept)
    regret = None
    if len(outcomes) > 1:
        names = [s.name for s in scenarios]
        value = pd.DataFrame(index=names, columns=names, dtype=float)
        for s, chosen in enumerate(sweeps):
            row = chosen.best()
            for t, world in enumerate(sweeps):  # same grid: the same point, another world
                value.iloc[s, t] = world.frame.loc[row, "npv_usd"]
        regret = _regret_table(value)
    seconds["total"] = time.perf_counter() - started
    return SizingResult(
        planning.site.name,
        histories[0].label,
        "full_history",
        tuple(outcomes),
        None,
        (),
        None,
        regret,
        seconds,
    )


__all__ = ["size"]
