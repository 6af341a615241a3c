"""Score fixed plans by dispatching them day by day, and sweep a grid of HPC MW x mining MW.

A fixed plan is a concrete site: its days are solved by the ordinary :class:`Dispatcher`
(persistent re-solve; a model per horizon shape), each day on its own with the dispatch
defaults (battery at its initial SoC, every container running), exactly as a day block of the
sizing model. Weighted by the days' weights and divided by the years of history, the streams
give a year. Grid points run as tasks on any ``concurrent.futures.Executor``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from dispatch.errors import InputError
from dispatch.site import Site
from dispatch.sizing.days import Day
from dispatch.sizing.economics import cost_terms
from dispatch.sizing.plan import Plan, Planning
from dispatch.sizing.progress import Progress, Tracker, quiet
from dispatch.solver import Dispatcher, SolveOptions


@dataclass(frozen=True)
class Operations:
    """One plan's operations over a set of days, weighted to a year.

    ``streams``: stream, usd_per_year, basis_mwh_per_year. ``worst_gap`` is the largest MIP
    gap of any day; ``time_limited_days`` how many days stopped at the time limit.
    """

    streams: pd.DataFrame
    days_solved: int
    seconds: float
    worst_gap: float
    time_limited_days: int

    @property
    def usd_per_year(self) -> float:
        return float(self.streams["usd_per_year"].sum())


def dispatch_plan(
    site: Site, days: Sequence[Day], n_years: float, options: SolveOptions
) -> Operations:
    """Dispatch ``site`` on every day of ``days`` and weight the streams to a year."""
    started = time.perf_counter()
    dispatcher = Dispatcher(site, options)
    usd: dict[str, float] = {}
    basis: dict[str, float] = {}
    worst_gap, limited = 0.0, 0
    for day in days:
        result = dispatcher.solve(day.inputs)
        factor = day.weight_days / n_years
        for row in result.streams.itertuples():
            usd[row.stream] = usd.get(row.stream, 0.0) + factor * row.usd
            basis[row.stream] = basis.get(row.stream, 0.0) + factor * row.basis_mwh
        worst_gap = max(worst_gap, result.kpis.mip_gap)
        limited += result.kpis.status != "optimal"
    streams = pd.DataFrame(
        {
            "stream": list(usd),
            "usd_per_year": [usd[s] + 0.0 for s in usd],
            "basis_mwh_per_year": [basis[s] for s in usd],
        },
        columns=["stream", "usd_per_year", "basis_mwh_per_year"],
    )
    return Operations(streams, len(days), time.perf_counter() - started, worst_gap, limited)


def costs_of(planning: Planning, plan: Plan) -> pd.DataFrame:
    """term, capex_usd, usd_per_year of a plan: :func:`cost_terms` on its numbers."""
    rows = [
        {"term": term.value, "capex_usd": float(c.capex_usd), "usd_per_year": float(c.usd_per_year)}
        for term, c in cost_terms(planning.spec, planning.sizes(plan), planning.gpu_costs).items()
    ]
    return pd.DataFrame(rows, columns=["term", "capex_usd", "usd_per_year"])


def parse_axis(text: str, option: str) -> list[float]:
    """``"MIN:MAX:STEP"`` (inclusive of B when on the step), or a single value ``"A"`` [MW]."""
    parts = text.split(":")
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        raise InputError(f"{option}: expected MIN:MAX:STEP in MW, found {text!r}") from None
    if len(numbers) == 1:
        return numbers
    if len(numbers) != 3 or numbers[2] <= 0 or numbers[1] < numbers[0] or numbers[0] < 0:
        raise InputError(
            f"{option}: expected MIN:MAX:STEP with 0 <= MIN <= MAX and STEP > 0, found {text!r}"
        )
    first, last, step = numbers
    count = int(np.floor((last - first) / step + 1e-9)) + 1
    if count > 200:
        raise InputError(f"{option}: {count} values; at most 200 per axis")
    return [round(first + i * step, 9) for i in range(count)]


@dataclass(frozen=True)
class Sweep:
    """A swept grid: ``frame`` has one row per point (see :func:`sweep`); ``plans`` and
    ``operations`` (None where the plan is not allowed) are in the same order."""

    frame: pd.DataFrame
    plans: tuple[Plan, ...]
    operations: tuple[Operations | None, ...]

    def best(self) -> int | None:
        """Row of the feasible point with the highest NPV (None if none is feasible)."""
        feasible = self.frame[self.frame["feasible"]]
        return None if feasible.empty else int(feasible["npv_usd"].idxmax())


def sweep(
    planning: Planning,
    hpc_it_mw: Sequence[float],
    mining_mw: Sequence[float],
    days: Sequence[Day],
    n_years: float,
    options: SolveOptions,
    executor: Executor | None = None,
    progress: Progress | None = None,
) -> Sweep:
    """Every grid point's plan (:meth:`Planning.grid_plan`) dispatched over ``days``.

    One row per point: the grid values, the plan's actual mining MW and routes, ``feasible``
    and the ``problem`` when it is not, operations / fixed O&M / annualized capex / net
    [USD/year], capex [USD] and NPV [USD]. Points run on ``executor`` when given; ``progress``
    hears of each point done.
    """
    check_executor(executor)
    points: list[tuple[float, float, Plan, str]] = []
    for hpc in hpc_it_mw:
        for mining in mining_mw:
            plan = planning.grid_plan(hpc, mining)
            problems = planning.problems(plan)
            if not problems:
                try:
                    planning.site_for(plan)
                except InputError as error:
                    problems = [str(error)]
            points.append((hpc, mining, plan, "; ".join(problems)))
    allowed = [i for i, point in enumerate(points) if not point[3]]
    tracker = Tracker(progress or quiet, "sweep", len(allowed), "points")
    calls = [
        Call(dispatch_plan, (planning.site_for(points[i][2]), days, n_years, options))
        for i in allowed
    ]
    results = dict(zip(allowed, run_calls(calls, executor, tracker), strict=True))
    rows = []
    done: list[Operations | None] = []
    for i, (hpc, mining, plan, problem) in enumerate(points):
        row: dict[str, object] = {
            "hpc_it_mw": hpc,
            "mining_mw": mining,
            "plan_mining_mw": planning.mining_mw(plan),
            "hpc_new_build_it_mw": plan.hpc_new_build_it_mw,
            "hpc_retrofit_it_mw": plan.hpc_retrofit_it_mw,
            "feasible": not problem,
            "problem": problem,
        }
        operations = results.get(i)
        row.update(dict.fromkeys(NET_COLUMNS, math.nan))
        if operations is not None:
            row.update(net_values(planning, plan, operations.usd_per_year))
        rows.append(row)
        done.append(operations)
    return Sweep(pd.DataFrame(rows), tuple(p[2] for p in points), tuple(done))


@dataclass(frozen=True)
class Call:
    """A function and its arguments, to run here or on an executor."""

    function: Callable[..., Any]
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)


def run_calls(calls: Sequence[Call], executor: Executor | None, tracker: Tracker) -> list[Any]:
    """Results of ``calls`` in their order; run on ``executor`` when given (the tracker advances
    as each finishes), else one after the other here."""
    if executor is None:
        results = []
        for call in calls:
            results.append(call.function(*call.args, **call.kwargs))
            tracker.advance()
        return results
    futures = [executor.submit(c.function, *c.args, **c.kwargs) for c in calls]
    for _ in as_completed(futures):
        tracker.advance()
    return [f.result() for f in futures]


def check_executor(executor: Executor | None) -> None:
    """Refuse a thread pool: Pyomo's HiGHS interface captures solver output at the file
    descriptor level and two threads solving at once deadlock. Processes (or Dask) are fine."""
    if isinstance(executor, ThreadPoolExecutor):
        raise InputError(
            "executor: a ThreadPoolExecutor deadlocks in Pyomo's HiGHS output capture; use a "
            "ProcessPoolExecutor (or a Dask client's executor)"
        )


NET_COLUMNS = (
    "operations_usd_per_year",
    "fixed_om_usd_per_year",
    "annualized_capex_usd_per_year",
    "net_usd_per_year",
    "capex_usd",
    "npv_usd",
)


def net_values(planning: Planning, plan: Plan, operations_usd_per_year: float) -> dict[str, float]:
    """Operations, fixed O&M, annualized capex, net [USD/year], capex and NPV [USD] of a plan."""
    from dispatch.sizing.economics import CostTerm, npv_usd

    costs = cost_terms(planning.spec, planning.sizes(plan), planning.gpu_costs)
    om = sum(float(c.usd_per_year) for t, c in costs.items() if not CostTerm(t).is_capex)
    annualized = sum(float(c.usd_per_year) for t, c in costs.items() if CostTerm(t).is_capex)
    capex = sum(float(c.capex_usd) for c in costs.values())
    net = operations_usd_per_year - om - annualized
    return {
        "operations_usd_per_year": operations_usd_per_year,
        "fixed_om_usd_per_year": om,
        "annualized_capex_usd_per_year": annualized,
        "net_usd_per_year": net,
        "capex_usd": capex,
        "npv_usd": npv_usd(planning.spec, net),
    }
