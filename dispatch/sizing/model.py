"""The sizing MILP: capacity decisions shared by one dispatch block per representative day.

Every day block is built by the dispatch builders themselves (:func:`build_block`), with the
capacities that are decisions handed to them through :class:`SizedCapacities`; the site the
blocks see holds the largest sizes (their bounds). The objective, in USD/year, is

    Σ_streams Σ_days weight_d / years × stream_usd[d, s]      (operations, by stream)
  − Σ_terms annualized capex and fixed O&M                   (cost_terms, by term)

and the tables report these very expressions. Constraint tags (docs/formulation.md):

* **SZ1** HPC: installed IT = existing + new build + retrofit ≤ ``max_it_mw``; new build and
  retrofit within their caps; each route adds whole ``block_it_mw`` blocks when blocks are set.
* **SZ2** retrofit: retrofit IT × PUE ≤ Σ_f (existing_f − kept_f) × container MW_f.
* **SZ3** site load: installed IT × PUE + Σ_f containers_f × container MW_f ≤ ``max_site_load_mw``.
* **SZ4** firm HPC: installed IT × PUE ≤ grid import limit + economic generators (H1 can be met).
* **SZ5** fleets: min ≤ kept + added ≤ max, kept ≤ existing (integers).
* **SZ6** battery: existing ≤ power ≤ max, existing ≤ energy ≤ max.
* **SZ7** ride-through at the start: (initial − min SoC fraction) × battery energy ≥
  (installed IT × PUE − backup generation) × ride-through hours (the site file's own check).
* In each day block the builders add ``≤ installed`` (tag SZ in hpc.py, mining.py, battery.py);
  H1, H2 and every other dispatch constraint hold on every representative day.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyomo.environ as pyo
from pyomo.contrib.solver.common.results import Results, SolutionStatus, TerminationCondition
from pyomo.contrib.solver.solvers.highs import Highs

from dispatch.errors import SolveError
from dispatch.model.build import build_block
from dispatch.model.context import AssetTerms, SizedCapacities
from dispatch.sizing.days import Day
from dispatch.sizing.economics import CostTerm, Sizes, cost_terms
from dispatch.sizing.plan import Plan, Planning
from dispatch.solver import SolveOptions, solve_until_exact
from dispatch.streams import Stream


@dataclass(frozen=True)
class SizingSolution:
    """The optimal plan on the representative days and the model's own money tables.

    ``streams``: stream, usd_per_year, basis_mwh_per_year (operations, weighted to a year);
    ``costs``: term, capex_usd, usd_per_year (positive numbers, subtracted in the objective).
    """

    plan: Plan
    streams: pd.DataFrame
    costs: pd.DataFrame
    objective_usd_per_year: float
    status: str
    mip_gap: float
    build_seconds: float
    solve_seconds: float


def build_sizing_model(
    planning: Planning, days: Sequence[Day], n_years: float
) -> tuple[pyo.ConcreteModel, list[Stream], list[AssetTerms]]:
    """The sizing MILP over ``days`` (weights in history days) for ``n_years`` of history, its
    streams and the day blocks' asset terms (for lazy binaries and settling)."""
    site, spec = planning.site, planning.spec
    m = pyo.ConcreteModel(name=f"sizing {site.name}")
    cap = m.capacity = pyo.Block()
    pue = planning.pue
    hpc_it_mw: Any = planning.existing_hpc_it_mw
    if spec.hpc is not None:
        _add_hpc(cap, planning)
        hpc_it_mw = cap.hpc_it_mw
    fleets = {f.name for f in spec.mining.fleets} if spec.mining else set()
    cap.fleets = pyo.Set(initialize=sorted(fleets), ordered=True)
    ranges = planning.fleets

    def kept_bounds(cap: pyo.Block, f: str) -> tuple[int, int]:
        return 0, min(ranges[f].existing, ranges[f].maximum)

    cap.containers_kept = pyo.Var(cap.fleets, domain=pyo.NonNegativeIntegers, bounds=kept_bounds)
    cap.containers_added = pyo.Var(
        cap.fleets, domain=pyo.NonNegativeIntegers, bounds=lambda cap, f: (0, ranges[f].maximum)
    )
    cap.containers = pyo.Expression(
        cap.fleets, rule=lambda cap, f: cap.containers_kept[f] + cap.containers_added[f]
    )
    cap.fleet_range = pyo.Constraint(  # SZ5: min <= kept + added <= max
        cap.fleets,
        rule=lambda cap, f: pyo.inequality(ranges[f].minimum, cap.containers[f], ranges[f].maximum),
    )
    installed_mining_mw = sum(
        (cap.containers[f] if f in fleets else r.existing) * r.container_mw
        for f, r in ranges.items()
    )
    added_mining_mw = sum(cap.containers_added[f] * ranges[f].container_mw for f in fleets)
    retired_mw = sum(
        (ranges[f].existing - cap.containers_kept[f]) * ranges[f].container_mw for f in fleets
    )
    if spec.hpc is not None:
        # SZ2: retrofit IT × PUE <= power of the retired existing containers
        cap.retrofit_within_retired = pyo.Constraint(
            expr=cap.hpc_retrofit_it_mw * pue <= retired_mw
        )
    if spec.hpc is not None or fleets:
        # SZ3: HPC facility + nominal mining <= the site load limit (the interconnection to
        # split); with neither sized it is a constant, which the site as it stands satisfies
        cap.site_load = pyo.Constraint(
            expr=hpc_it_mw * pue + installed_mining_mw <= planning.max_site_load_mw
        )
    if spec.hpc is not None:
        # SZ4: the firm HPC load fits the firm supply
        cap.hpc_firm = pyo.Constraint(expr=cap.hpc_it_mw * pue <= planning.firm_supply_mw)
    battery_range = planning.battery_range()
    battery_added_mw: Any = 0.0
    battery_added_mwh: Any = 0.0
    battery_power_mw: Any = site.battery.power_mw if site.battery else 0.0
    if battery_range is not None:
        (p0, p1), (e0, e1) = battery_range
        cap.battery_power_mw = pyo.Var(bounds=(p0, p1))  # SZ6
        cap.battery_energy_mwh = pyo.Var(bounds=(e0, e1))  # SZ6
        battery_added_mw, battery_added_mwh = cap.battery_power_mw - p0, cap.battery_energy_mwh - e0
        battery_power_mw = cap.battery_power_mw
    _add_ride_through_at_start(cap, planning, hpc_it_mw)
    sizes = Sizes(
        hpc_new_build_it_mw=cap.hpc_new_build_it_mw if spec.hpc else 0.0,
        hpc_retrofit_it_mw=cap.hpc_retrofit_it_mw if spec.hpc else 0.0,
        hpc_it_mw=hpc_it_mw,
        mining_added_mw=added_mining_mw,
        mining_mw=installed_mining_mw,
        battery_added_power_mw=battery_added_mw,
        battery_added_energy_mwh=battery_added_mwh,
        battery_power_mw=battery_power_mw,
    )
    costs = cost_terms(spec, sizes)
    cap.cost_terms = pyo.Set(initialize=[t.value for t in costs], ordered=True)
    cap.capex_usd = pyo.Expression(cap.cost_terms, rule=lambda c, t: costs[CostTerm(t)].capex_usd)
    cap.cost_usd_per_year = pyo.Expression(
        cap.cost_terms, rule=lambda c, t: costs[CostTerm(t)].usd_per_year
    )

    upper = planning.upper_site()
    sized = SizedCapacities(
        hpc_it_mw=cap.hpc_it_mw if spec.hpc is not None and upper.hpc is not None else None,
        containers={f: cap.containers[f] for f in fleets},
        battery=(cap.battery_power_mw, cap.battery_energy_mwh) if battery_range else None,
    )
    m.days = pyo.Block(range(len(days)))
    present: list[Stream] = []
    terms: list[AssetTerms] = []
    for i, day in enumerate(days):
        built = build_block(m.days[i], upper, day.inputs, sized)
        terms += [t for _, t in built.blocks]
        m.days[i].margin_usd.deactivate()  # the sizing objective sums the days' streams itself
        present += [s for s in built.streams if s not in present]
    streams = [s for s in Stream if s in present]
    m.streams = pyo.Set(initialize=[s.value for s in streams], ordered=True)
    factors = [day.weight_days / n_years for day in days]

    def yearly(component: str):
        def rule(m: pyo.Block, name: str) -> object:
            return sum(
                factors[i] * getattr(m.days[i], component)[name]
                for i in range(len(days))
                if name in m.days[i].stream_names
            )

        return rule

    m.stream_usd_per_year = pyo.Expression(m.streams, rule=yearly("stream_usd"))
    m.stream_basis_mwh_per_year = pyo.Expression(m.streams, rule=yearly("stream_basis_mwh"))
    m.net_usd_per_year = pyo.Objective(
        expr=sum(m.stream_usd_per_year[s] for s in m.streams)
        - sum(cap.cost_usd_per_year[t] for t in cap.cost_terms),
        sense=pyo.maximize,
    )
    return m, streams, terms


def _add_ride_through_at_start(cap: pyo.Block, planning: Planning, hpc_it_mw: Any) -> None:
    """SZ7: (initial_soc_fraction − min_soc_fraction) × battery energy >= (installed IT × PUE −
    backup generation) × ride-through hours: the rule the site file checks (the day starts with
    the HPC's reserve in the battery), so every plan is a valid site."""
    site = planning.site
    hpc, battery = site.hpc, site.battery
    if hpc is None or hpc.ride_through_minutes == 0 or battery is None:
        return
    if planning.spec.hpc is None and planning.battery_range() is None:
        return  # neither side is a decision: the site file's own check already holds
    energy_mwh = cap.battery_energy_mwh if planning.battery_range() else battery.energy_mwh
    above_min = (battery.initial_soc_fraction - battery.min_soc_fraction) * energy_mwh
    required = (hpc_it_mw * hpc.pue - site.backup_capacity_mw) * hpc.ride_through_minutes / 60
    cap.ride_through_at_start = pyo.Constraint(expr=above_min >= required)


def _add_hpc(cap: pyo.Block, planning: Planning) -> None:
    """SZ1: installed IT = existing + new build + retrofit <= max_it_mw (each route in whole
    blocks if set)."""
    spec = planning.spec.hpc
    assert spec is not None
    top = planning.max_hpc_it_mw
    cap.hpc_new_build_it_mw = pyo.Var(bounds=(0, min(top, spec.new_build.max_it_mw or top)))
    cap.hpc_retrofit_it_mw = pyo.Var(bounds=(0, min(top, spec.retrofit.max_it_mw or top)))
    cap.hpc_it_mw = pyo.Expression(
        expr=planning.existing_hpc_it_mw + cap.hpc_new_build_it_mw + cap.hpc_retrofit_it_mw
    )
    cap.hpc_within_max = pyo.Constraint(expr=cap.hpc_it_mw <= top)
    if spec.block_it_mw is not None:
        # SZ1: each route adds whole blocks (a hall is converted or built as a unit)
        block = spec.block_it_mw
        cap.hpc_new_build_blocks = pyo.Var(domain=pyo.NonNegativeIntegers)
        cap.hpc_retrofit_blocks = pyo.Var(domain=pyo.NonNegativeIntegers)
        cap.hpc_new_build_in_blocks = pyo.Constraint(
            expr=cap.hpc_new_build_it_mw == block * cap.hpc_new_build_blocks
        )
        cap.hpc_retrofit_in_blocks = pyo.Constraint(
            expr=cap.hpc_retrofit_it_mw == block * cap.hpc_retrofit_blocks
        )


def optimize(
    planning: Planning, days: Sequence[Day], n_years: float, options: SolveOptions
) -> SizingSolution:
    """Build and solve the sizing MILP; the optimal plan and the model's money tables."""
    started = time.perf_counter()
    m, streams, terms = build_sizing_model(planning, days, n_years)
    built_at = time.perf_counter()
    solver = Highs()

    def solve_once() -> Results:
        results = solver.solve(
            m,
            time_limit=options.time_limit_s,
            rel_gap=options.mip_rel_gap,
            threads=options.threads,
            solver_options={
                **options.highs_options,
                "presolve": options.presolve,
                "output_flag": False,
            },
            load_solutions=False,
            raise_exception_on_nonoptimal_result=False,
        )
        if results.solution_status not in (SolutionStatus.optimal, SolutionStatus.feasible):
            raise SolveError(
                f"sizing of site {planning.site.name!r} over {len(days)} days: HiGHS stopped "
                f"with {results.termination_condition.name} and no plan (check the sizing "
                "ranges: the site as it stands must fit them, and the HPC ride-through needs "
                "battery energy)"
            )
        results.solution_loader.load_vars()
        return results

    # the day blocks' lazy binaries (battery exclusivity) and settling, as in dispatch
    results, _ = solve_until_exact(terms, solve_once, relaxed=options.relax_integrality)
    objective = pyo.value(m.net_usd_per_year)
    bound = results.objective_bound
    gap = 0.0 if bound is None else abs(bound - objective) / max(abs(objective), 1e-9)
    status = {
        TerminationCondition.convergenceCriteriaSatisfied: "optimal",
        TerminationCondition.maxTimeLimit: "time_limit",
    }.get(results.termination_condition, results.termination_condition.name)
    return SizingSolution(
        plan=_read_plan(m, planning),
        streams=_streams_table(m, streams),
        costs=_costs_table(m.capacity),
        objective_usd_per_year=objective,
        status=status,
        mip_gap=gap,
        build_seconds=built_at - started,
        solve_seconds=time.perf_counter() - built_at,
    )


def _read_plan(m: pyo.ConcreteModel, planning: Planning) -> Plan:
    cap, bau = m.capacity, planning.business_as_usual()
    kept, added = dict(bau.containers_kept), dict(bau.containers_added)
    for f in cap.fleets:
        kept[f] = round(pyo.value(cap.containers_kept[f]))
        added[f] = round(pyo.value(cap.containers_added[f]))
    hpc = planning.spec.hpc is not None
    new = _clean(pyo.value(cap.hpc_new_build_it_mw)) if hpc else 0.0
    retro = _clean(pyo.value(cap.hpc_retrofit_it_mw)) if hpc else 0.0
    battery = planning.battery_range() is not None
    power_mw = _clean(pyo.value(cap.battery_power_mw)) if battery else bau.battery_power_mw
    energy_mwh = _clean(pyo.value(cap.battery_energy_mwh)) if battery else bau.battery_energy_mwh
    return Plan(
        hpc_it_mw=planning.existing_hpc_it_mw + new + retro,
        hpc_new_build_it_mw=new,
        hpc_retrofit_it_mw=retro,
        containers_kept=kept,
        containers_added=added,
        battery_power_mw=power_mw,
        battery_energy_mwh=energy_mwh,
    )


def _clean(value: float) -> float:
    """Solver noise off a size: 1e-6 MW is no capacity, and no -0."""
    rounded = round(value, 6)
    return rounded + 0.0 if abs(rounded) > 0 else 0.0


def _streams_table(m: pyo.ConcreteModel, streams: list[Stream]) -> pd.DataFrame:
    rows = [
        {
            "stream": s.value,
            "usd_per_year": float(pyo.value(m.stream_usd_per_year[s.value])) + 0.0,
            "basis_mwh_per_year": float(pyo.value(m.stream_basis_mwh_per_year[s.value])),
        }
        for s in streams
    ]
    return pd.DataFrame(rows, columns=["stream", "usd_per_year", "basis_mwh_per_year"])


def _costs_table(cap: pyo.Block) -> pd.DataFrame:
    rows = [
        {
            "term": t,
            "capex_usd": float(pyo.value(cap.capex_usd[t])) + 0.0,
            "usd_per_year": float(pyo.value(cap.cost_usd_per_year[t])) + 0.0,
        }
        for t in cap.cost_terms
    ]
    return pd.DataFrame(rows, columns=["term", "capex_usd", "usd_per_year"])
