"""Forecast mode: schedule on day-ahead prices, settle that schedule at real-time prices.

Each day, from the state the operator actually reached:

* ``da_plan``: the schedule solved on day-ahead prices, valued at day-ahead prices;
* ``da_schedule_rt``: the same schedule settled at real-time prices: the schedule's variable
  values held on a model loaded with real-time prices, whose own stream expressions are
  evaluated (money counted once, by the expressions the objective sums);
* ``rt_redispatch`` (optional): mining re-dispatched with perfect knowledge of the real-time
  interval prices: every asset that is not ``real_time_flexible`` is fixed at its day-ahead
  values and the model is re-solved at real-time prices (day-ahead prices in the look-ahead);
* ``perfect_foresight``: an independent rolling run on real-time prices with its own state.

The operator's executed case is ``rt_redispatch`` when asked for, else ``da_schedule_rt``; its end
state is carried into the next day. The value of perfect foresight is the perfect-foresight
margin minus the executed margin.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo

from dispatch.batch.rolling import Roller, day_windows, slice_inputs
from dispatch.errors import InputError
from dispatch.inputs import Inputs
from dispatch.model.build import BuiltModel, build_model, horizon_shape, load_data
from dispatch.model.extract import Layout
from dispatch.model.state import SiteState, copy_solution, fixed_decisions, write_state
from dispatch.options import SolveOptions
from dispatch.results import DispatchResult, SolveReport
from dispatch.site import Site
from dispatch.solver import Engine, Shape, by_shape, evaluate_with, new_engine, run_exact

DA_PLAN = "da_plan"
DA_SCHEDULE_RT = "da_schedule_rt"
RT_REDISPATCH = "rt_redispatch"
PERFECT_FORESIGHT = "perfect_foresight"


@dataclass(frozen=True)
class ForecastDay:
    """One day of forecast mode: each case's result (see the module docstring)."""

    day: dt.date
    plan: DispatchResult
    settled: DispatchResult
    redispatched: DispatchResult | None
    perfect: DispatchResult
    state: SiteState
    perfect_state: SiteState

    @property
    def executed(self) -> DispatchResult:
        """What the operator earned: the re-dispatch if any, else the settled DA schedule."""
        return self.redispatched if self.redispatched is not None else self.settled

    @property
    def value_of_perfect_foresight_usd(self) -> float:
        return self.perfect.kpis.net_margin_usd - self.executed.kpis.net_margin_usd

    def cases(self) -> dict[str, DispatchResult]:
        cases = {DA_PLAN: self.plan, DA_SCHEDULE_RT: self.settled}
        if self.redispatched is not None:
            cases[RT_REDISPATCH] = self.redispatched
        cases[PERFECT_FORESIGHT] = self.perfect
        return cases


class Redispatcher:
    """Re-solves a day-ahead solution at real-time prices with only flexible assets free.

    One model and its own HiGHS per horizon shape; held variables are fixed (as column
    bounds, continuous, so a fractional relaxed value never meets an integer domain).
    """

    def __init__(self, site: Site, options: SolveOptions) -> None:
        self.site = site
        self.options = options
        self._models: dict[Shape, tuple[Engine, list[pyo.Var]]] = {}

    def solve_model(
        self, planned: BuiltModel, inputs: Inputs, state: SiteState | None
    ) -> tuple[BuiltModel, SolveReport]:
        """Re-solve ``planned``'s solution on ``inputs`` with the held variables fixed."""
        started = time.perf_counter()

        def make() -> tuple[Engine, list[pyo.Var]]:
            built = build_model(self.site, inputs)
            engine = new_engine(built, self.options, fixed_as_bounds=True)
            return engine, fixed_decisions(built)

        (engine, held), rebuilt = by_shape(self._models, horizon_shape(inputs.index), make)
        if not rebuilt:
            load_data(engine.built, inputs)
        write_state(engine.built, state, inputs.index)
        copy_solution(planned, engine.built)
        for variable in held:
            variable.domain = pyo.Reals
            variable.fix(variable.value)
        return engine.built, run_exact(engine, self.options, inputs, started, rebuilt=rebuilt)

    def evaluate(self, built: BuiltModel) -> tuple[Layout, np.ndarray]:
        """The report values of a model this redispatcher solved."""
        return evaluate_with((engine for engine, _ in self._models.values()), built)


def _check_same_horizon(day_ahead: Inputs, real_time: Inputs) -> None:
    if not day_ahead.index.equals(real_time.index):
        raise InputError("forecast mode: day-ahead and real-time inputs cover different intervals")
    if list(day_ahead.frame.columns) != list(real_time.frame.columns):
        raise InputError(
            f"forecast mode: day-ahead inputs have series {list(day_ahead.frame.columns)}, "
            f"real-time inputs {list(real_time.frame.columns)}"
        )


def roll_forecast(
    site: Site,
    day_ahead: Inputs,
    real_time: Inputs,
    options: SolveOptions | None = None,
    *,
    lookahead_hours: float = 0.0,
    redispatch_mining: bool = False,
    state: SiteState | None = None,
) -> Iterator[ForecastDay]:
    """Every local day: plan on ``day_ahead``, settle on ``real_time``, and perfect foresight.

    ``day_ahead`` and ``real_time`` are inputs on the same intervals that differ in their prices.
    """
    _check_same_horizon(day_ahead, real_time)
    options = options or SolveOptions()
    planner = Roller(site, options, lookahead_hours)
    perfect = Roller(site, options, lookahead_hours)
    redispatcher = Redispatcher(site, options) if redispatch_mining else None
    executed_state, perfect_state = state, state
    for window in day_windows(day_ahead.index, lookahead_hours):
        started = time.perf_counter()
        keep = (window.start, window.start + window.kept)
        kept_da, kept_rt = slice_inputs(day_ahead, *keep), slice_inputs(real_time, *keep)
        planned, report = planner.solve(day_ahead, window, executed_state)
        plan, _ = planner.keep(planned, report, kept_da, executed_state, same_inputs=True)
        settled, end_state = planner.keep(
            planned, report, kept_rt, executed_state, same_inputs=False
        )
        redispatched = None
        if redispatcher is not None:
            horizon = slice_inputs(day_ahead, window.start, window.stop)
            frame = horizon.frame.copy()
            frame.iloc[: window.kept] = kept_rt.frame.to_numpy(dtype=np.float64)
            mixed = Inputs(frame, horizon.sources)  # real-time today, day-ahead in the look-ahead
            solved, rd_report = redispatcher.solve_model(planned, mixed, executed_state)
            redispatched, end_state = planner.keep(
                solved,
                rd_report,
                kept_rt,
                executed_state,
                same_inputs=True,
                evaluate=redispatcher.evaluate,
            )
        best, pf_report = perfect.solve(real_time, window, perfect_state)
        foresight, perfect_state = perfect.keep(
            best, pf_report, kept_rt, perfect_state, same_inputs=True
        )
        seconds = time.perf_counter() - started
        yield ForecastDay(
            day=window.day,
            plan=plan.with_total_seconds(seconds),
            settled=settled.with_total_seconds(seconds),
            redispatched=redispatched.with_total_seconds(seconds) if redispatched else None,
            perfect=foresight.with_total_seconds(seconds),
            state=end_state,
            perfect_state=perfect_state,
        )
        executed_state = end_state
