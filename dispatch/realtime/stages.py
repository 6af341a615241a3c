"""The operator's day on one two-settlement model: day-ahead stage, real-time loop, settlement.

One model and its own HiGHS (fixed variables passed as column bounds) per day shape; the
stages differ only in variable bounds, never in structure:

1. **Day-ahead stage** (:meth:`StageRunner.day_ahead`): the day solved on its day-ahead view
   (the real-time price forecast, forecast peak weights, yesterday's hashprice) from the planned
   state; the hourly energy position follows the plan (T3) and ancillary awards are chosen (A1).
2. **Real-time loop** (:meth:`StageRunner.real_time`): the position and awards are fixed. At each
   decision time k = 0, N, 2N, ... the rest of the day is re-solved with the real-time prices of
   intervals before k and the forecast for k onwards, from the state actually reached; the
   decisions of intervals k..k+N-1 are kept (fixed as bounds) and the loop moves on. If a real
   state leaves an award undeliverable, the solve is repeated allowing failure (T4, charged as
   ``ancillary_failure``): never an infeasible day.
3. **Settlement** (:meth:`StageRunner.settle`): with every interval decision fixed, the realized
   data (real-time prices, realized coincident peaks and hashprice) are loaded and HiGHS solves
   what is left (demand peaks, the hedge gap): its objective is the realized margin, and the
   streams table evaluates the objective's own expressions.

A :class:`Policy` decides what the optimizer may not: :class:`Optimize` leaves everything to it,
:class:`BreakevenRule` fixes mining by the miners' breakeven rule and idles the battery and offers.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np
import pyomo.environ as pyo
from pyomo.core.base.var import VarData

from dispatch import columns
from dispatch.errors import SolveError
from dispatch.fast import FastModel
from dispatch.inputs import HASHPRICE, PRICE, Inputs
from dispatch.model.build import BuiltModel, build_model, horizon_shape, load_data
from dispatch.model.context import Stage
from dispatch.model.extract import extract_result
from dispatch.model.state import SiteState, read_state, write_state
from dispatch.options import SolveOptions
from dispatch.realtime.information import PriceForecast
from dispatch.results import DispatchResult, SolveReport
from dispatch.site import Site
from dispatch.solver import Engine, Shape, by_shape, new_engine, run_exact


def interval_variables(built: BuiltModel) -> list[list[VarData]]:
    """Every variable of ``built`` indexed by interval, grouped by interval position: what a
    decision at interval t consists of (variables indexed by hours or months are not)."""
    T = built.ctx.intervals
    by_interval: list[list[VarData]] = [[] for _ in range(built.ctx.n_intervals)]
    for var in built.model.component_objects(pyo.Var, descend_into=True):
        if not var.is_indexed():
            continue
        index_set = var.index_set()
        if index_set is T:
            for t, data in var.items():
                by_interval[t].append(data)
            continue
        subsets = list(index_set.subsets()) if index_set.dimen and index_set.dimen > 1 else []
        positions = [i for i, s in enumerate(subsets) if s is T]
        if positions:
            for index, data in var.items():
                by_interval[index[positions[0]]].append(data)
    return by_interval


def fix_at_value(data: VarData, value: float | None = None) -> None:
    """Fix a variable at ``value`` (default: its solution value), integers rounded and within
    its bounds (a solver's 3.9999999 is 4, its -1e-14 is 0)."""
    value = data.value if value is None else value
    if value is None:
        return
    if data.is_integer():
        value = round(value)
    lower, upper = data.bounds
    value = max(value, lower) if lower is not None else value
    value = min(value, upper) if upper is not None else value
    data.fix(value)


@dataclass
class StageModel:
    """A built two-settlement model with its own HiGHS and its decision handles."""

    model: Engine
    by_interval: list[list[VarData]]
    day_ahead: list[VarData]

    @property
    def built(self) -> BuiltModel:
        return self.model.built

    def set_stage(self, stage: Stage) -> None:
        for _, terms in self.built.blocks:
            if terms.set_stage is not None:
                terms.set_stage(stage)

    def release(self) -> None:
        """Unfix every interval decision and day-ahead decision (a new day)."""
        for datas in self.by_interval:
            for data in datas:
                data.unfix()
        for data in self.day_ahead:
            data.unfix()

    def fix_intervals(self, start: int, stop: int) -> None:
        for datas in self.by_interval[start:stop]:
            for data in datas:
                fix_at_value(data)


@dataclass(frozen=True)
class DayAheadPlan:
    """The day-ahead stage's decisions (values of ``StageModel.day_ahead``, in order), the plan
    settled at real-time prices (the plan executed as planned) and the state it ends in."""

    decisions: tuple[float, ...]
    settled: DispatchResult
    end_state: SiteState


class DayAheadDecisions(Protocol):
    """What the real-time loop needs of a day-ahead stage: its decisions, in the order of
    ``StageModel.day_ahead`` (a :class:`DayAheadPlan`, or a stochastic plan)."""

    @property
    def decisions(self) -> tuple[float, ...]: ...


class Policy(Protocol):
    """What is decided by rule rather than by the optimizer, given what is known.

    ``decide(stage, start, stop, known_price)`` fixes rule-bound variables of intervals
    ``start..stop-1``; ``known_price[t - start]`` is the price the rule may act on [USD/MWh].
    ``day_ahead(stage)`` fixes rule-bound day-ahead decisions.
    """

    def day_ahead(self, stage: StageModel) -> None: ...

    def decide(self, stage: StageModel, start: int, stop: int, known_price: np.ndarray) -> None: ...

    def rule_price(self, k: int, known_rt: np.ndarray, forecast: np.ndarray) -> np.ndarray: ...


class Optimize:
    """Every decision is the optimizer's (the operator loop)."""

    def day_ahead(self, stage: StageModel) -> None:
        return None

    def decide(self, stage: StageModel, start: int, stop: int, known_price: np.ndarray) -> None:
        return None

    def rule_price(self, k: int, known_rt: np.ndarray, forecast: np.ndarray) -> np.ndarray:
        return forecast


@dataclass(frozen=True)
class BreakevenRule:
    """The miners' breakeven rule: each fleet runs every container at nominal power while its
    hashprice revenue per MWh beats the price plus the import adder, else none; the battery
    idles and nothing is offered. The rule acts on the latest real-time price known (the
    interval before the decision time; the forecast at the day's first decision); everything
    it does not name (grid, HPC, generators) is dispatched by the optimizer on the same
    information."""

    site: Site

    def day_ahead(self, stage: StageModel) -> None:
        """Nothing is offered: the offer blocks' day-ahead decisions are 0."""
        for _, terms in stage.built.blocks:
            if terms.reserve_offers:
                for var in terms.day_ahead_decisions:
                    for data in var.values():
                        data.fix(0.0)

    def rule_price(self, k: int, known_rt: np.ndarray, forecast: np.ndarray) -> np.ndarray:
        if k == 0:
            return forecast
        return np.full(len(forecast), known_rt[k - 1])

    def decide(self, stage: StageModel, start: int, stop: int, known_price: np.ndarray) -> None:
        site, built = self.site, stage.built
        schedule = {name: c for _, terms in built.blocks for name, c in terms.schedule.items()}
        hashprice = built.model.component(HASHPRICE)
        adder = site.grid.import_adder_usd_per_mwh if site.grid else 0.0
        fee = site.mining.pool_fee_fraction if site.mining else 0.0
        for fleet in site.fleets:
            containers = schedule[columns.mining(fleet.name, "containers_on")]
            power = schedule[columns.mining(fleet.name, "power_mw")]
            low, high = fleet.power_range_fraction
            fraction = min(max(1.0, low), high)
            ph_s_per_mw = 1000.0 / fleet.efficiency_j_per_th
            for t in range(start, stop):
                revenue_per_mwh = pyo.value(hashprice[t]) * (1 - fee) * ph_s_per_mw / 24.0
                on = revenue_per_mwh > known_price[t - start] + adder
                n = fleet.containers if on else 0
                containers[t].fix(n)
                power[t].fix(n * fleet.container_mw * fraction)
        for name in ("battery_charge_mw", "battery_discharge_mw"):
            if name in schedule:
                for t in range(start, stop):
                    schedule[name][t].fix(0.0)


@dataclass
class StageRunner:
    """Runs one site's days through the stages under a :class:`Policy`; one :class:`StageModel`
    per day shape. ``solve_seconds`` and ``solve_cpu_seconds`` record every solve's wall time
    and this process's CPU time (benchmarks on a shared machine read the second)."""

    site: Site
    options: SolveOptions
    policy: Policy = field(default_factory=Optimize)
    solve_seconds: list[float] = field(default_factory=list)
    solve_cpu_seconds: list[float] = field(default_factory=list)
    _models: dict[Shape, StageModel] = field(default_factory=dict)

    @property
    def highs_seconds(self) -> float:
        """HiGHS's own run time over every solve so far [s]."""
        return sum(stage.model.highs_seconds for stage in self._models.values())

    def stage_model(self, inputs: Inputs) -> StageModel:
        def make() -> StageModel:
            built = build_model(self.site, inputs, two_settlement=True)
            day_ahead = [
                data
                for _, terms in built.blocks
                for var in terms.day_ahead_decisions
                for data in var.values()
            ]
            model = new_engine(built, loop_options(self.options), fixed_as_bounds=True)
            return StageModel(model, interval_variables(built), day_ahead)

        stage, new = by_shape(self._models, horizon_shape(inputs.index), make)
        if not new:
            load_data(stage.built, inputs)
        return stage

    def _solve(self, stage: StageModel, inputs: Inputs) -> SolveReport:
        started, cpu = time.perf_counter(), time.process_time()
        report = run_exact(stage.model, self.options, inputs, started, rebuilt=False)
        self.solve_seconds.append(time.perf_counter() - started)
        self.solve_cpu_seconds.append(time.process_time() - cpu)
        return report

    def _solve_real_time(self, stage: StageModel, inputs: Inputs) -> SolveReport:
        """Solve holding the awards; if a real state makes that impossible, let them fail (T4).
        The stage is left as solved, so the decisions are fixed within the bounds they had."""
        stage.set_stage(Stage.REAL_TIME)
        try:
            return self._solve(stage, inputs)
        except SolveError:
            stage.set_stage(Stage.REAL_TIME_FAILING)
            return self._solve_fixed(stage, inputs)

    def _solve_fixed(self, stage: StageModel, inputs: Inputs) -> SolveReport:
        """:meth:`_solve`; if HiGHS calls it infeasible, once more with the fixed columns free
        by :data:`~dispatch.fast.FIXED_SLACK_MW`: a past fixed at a solve's values met its rows
        only within HiGHS's feasibility tolerance (reported as fixed all the same)."""
        try:
            return self._solve(stage, inputs)
        except SolveError:
            if not isinstance(stage.model, FastModel):
                raise
        stage.model.fixed_slack = True
        try:
            return self._solve(stage, inputs)
        finally:
            stage.model.fixed_slack = False

    def day_ahead(
        self,
        view: Inputs,
        realized: Inputs,
        state: SiteState | None,
        forecast: PriceForecast,
    ) -> DayAheadPlan:
        """The day-ahead stage of one day from the planned ``state``, and its plan settled."""
        started = time.perf_counter()
        planned = with_price(view, forecast.rest_of_day(0, np.empty(0), view))
        stage = self.stage_model(planned)
        stage.release()
        stage.set_stage(Stage.DAY_AHEAD)
        write_state(stage.built, state, planned.index)
        self.policy.day_ahead(stage)
        price = planned.frame[PRICE].to_numpy(dtype=float)
        self.policy.decide(stage, 0, len(price), price)
        stage.model.forget_basis()  # the last solve settled a day at realized prices
        report = self._solve(stage, planned)
        decisions = tuple(float(d.value or 0.0) for d in stage.day_ahead)
        stage.fix_intervals(0, len(price))
        settled, end_state = self.settle(stage, realized, state, [report], started)
        return DayAheadPlan(decisions, settled, end_state)

    def real_time(
        self,
        view: Inputs,
        realized: Inputs,
        state: SiteState | None,
        plan: DayAheadDecisions,
        forecast: PriceForecast,
        period: int,
    ) -> tuple[DispatchResult, SiteState]:
        """The real-time loop of one day from the real ``state``, deciding every ``period``
        intervals; returns the day settled and the state it ends in."""
        started = time.perf_counter()
        stage = self.stage_model(view)
        stage.release()
        for data, value in zip(stage.day_ahead, plan.decisions, strict=True):
            fix_at_value(data, value)
        write_state(stage.built, state, view.index)
        rt = realized.frame[PRICE].to_numpy(dtype=float)
        price_param = stage.built.model.component(PRICE)
        n, reports = len(rt), []
        # the plan was settled at this day's realized prices: its basis must not pick among
        # equal optima for the first step; later steps start from the step before (known data)
        stage.model.forget_basis()
        for k in range(0, n, period):
            stop = min(k + period, n)
            known = rt[:k].copy()  # nothing at or after k reaches a decision
            rest = forecast.rest_of_day(k, known, view)
            price_param.store_values(dict(enumerate(np.concatenate([known, rest]))))
            self.policy.decide(stage, k, stop, self.policy.rule_price(k, known, rest))
            reports.append(self._solve_real_time(stage, view))
            stage.fix_intervals(k, stop)
        stage.set_stage(Stage.REAL_TIME)
        return self.settle(stage, realized, state, reports, started)

    def settle(
        self,
        stage: StageModel,
        realized: Inputs,
        state: SiteState | None,
        reports: Sequence[SolveReport],
        started: float,
    ) -> tuple[DispatchResult, SiteState]:
        """Price the fixed day at the realized data; HiGHS's objective is the realized margin."""
        for data in stage.day_ahead:
            fix_at_value(data)
        stage.set_stage(Stage.REAL_TIME)
        load_data(stage.built, realized)
        final = self._solve_fixed(stage, realized)
        report = replace(
            final,
            status=worst_status([*reports, final]),
            mip_gap=max(r.mip_gap for r in [*reports, final]),
            solver_seconds=sum(r.solver_seconds for r in [*reports, final]),
            rounds=len(reports) + 1,
        )
        result = extract_result(stage.built, realized, report, stage.model.evaluate())
        end_state = read_state(stage.built, realized.index, state)
        return result.with_total_seconds(time.perf_counter() - started), end_state


def loop_options(options: SolveOptions) -> SolveOptions:
    """``options`` for the stages' re-solves: on the compiled path, the LP relaxation first
    (:attr:`SolveOptions.relaxation_first`). A step of the loop changes a few prices and holds
    a few more intervals: from the last basis HiGHS needs few iterations, and the relaxation is
    integral in most steps (median re-solve 7.3 ms CPU over 2023-06-10..2023-12-31 for the West
    Texas campus; on some days most steps are fractional and pay one LP more: see
    docs/performance.md)."""
    if options.interface != "compiled":
        return options
    return replace(options, relaxation_first=True)


def worst_status(reports: Sequence[SolveReport]) -> str:
    """``optimal`` if every solve was, else the first other status."""
    return next((r.status for r in reports if r.status != "optimal"), "optimal")


def with_price(inputs: Inputs, price: np.ndarray) -> Inputs:
    """``inputs`` with ``price_usd_per_mwh`` replaced."""
    frame = inputs.frame.copy()
    frame[PRICE] = price
    return Inputs(frame, inputs.sources)
