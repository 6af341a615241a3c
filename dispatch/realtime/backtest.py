"""An honest back-test: every local day, four ways to run the site, each with its own state.

* ``perfect_foresight`` (the upper bound): the operator's day-ahead position and awards, then
  the real-time day solved once knowing all its real-time prices, realized coincident peaks and
  hashprice. What no operator can do; it bounds what the real-time loop can add to the plan.
* ``da_plan_rt``: the day-ahead plan executed as planned, settled at real-time prices.
* ``operator``: the non-anticipative real-time loop (:meth:`StageRunner.real_time`) on the
  same day-ahead decisions.
* ``breakeven``: the miners' breakeven rule (:class:`BreakevenRule`) through the same stages
  and on the same information: its own day-ahead plan (no offers), then the rule every decision
  period.

Every case settles as ERCOT does (two-settlement) on the same realized data. The day-ahead stage
of day D starts from the end of the day-ahead plan of D-1 (the state an operator plans with at
DAM close), the real-time cases from the state they actually reached.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from dispatch.batch.rolling import day_windows, slice_inputs
from dispatch.model.state import SiteState
from dispatch.options import SolveOptions
from dispatch.realtime.cases import BREAKEVEN, CASES, DA_PLAN_RT, OPERATOR, PERFECT_FORESIGHT
from dispatch.realtime.information import (
    HindsightForecast,
    OperatorInputs,
    PriceForecast,
    decision_intervals,
)
from dispatch.realtime.stages import BreakevenRule, StageRunner
from dispatch.results import DispatchResult
from dispatch.site import Site


@dataclass(frozen=True)
class OperatorDay:
    """One day of the back-test: each case's settled result (see the module docstring)."""

    day: dt.date
    results: dict[str, DispatchResult]


def roll_operator(
    site: Site,
    inputs: OperatorInputs,
    forecast: PriceForecast,
    *,
    decision_minutes: int = 60,
    options: SolveOptions | None = None,
    state: SiteState | None = None,
) -> Iterator[OperatorDay]:
    """Every local day of ``inputs``, each case from its own carried state.

    On a 23- or 25-hour day the decision periods run from local midnight and the last one is
    shorter or longer by the hour's intervals.
    """
    period = decision_intervals(site, decision_minutes)
    options = options or SolveOptions()
    operator, breakeven = StageRunner(site, options), StageRunner(site, options)
    breakeven.policy = BreakevenRule(site)
    plan_state = rule_plan_state = state
    states = dict.fromkeys((PERFECT_FORESIGHT, OPERATOR, BREAKEVEN), state)
    for window in day_windows(inputs.realized.index):
        view = slice_inputs(inputs.day_ahead, window.start, window.stop)
        realized = slice_inputs(inputs.realized, window.start, window.stop)
        plan = operator.day_ahead(view, realized, plan_state, forecast)
        plan_state = plan.end_state
        results = {DA_PLAN_RT: plan.settled}
        results[OPERATOR], states[OPERATOR] = operator.real_time(
            view, realized, states[OPERATOR], plan, forecast, period
        )
        results[PERFECT_FORESIGHT], states[PERFECT_FORESIGHT] = operator.real_time(
            realized,
            realized,
            states[PERFECT_FORESIGHT],
            plan,
            HindsightForecast(realized),
            len(realized.index),
        )
        rule_plan = breakeven.day_ahead(view, realized, rule_plan_state, forecast)
        rule_plan_state = rule_plan.end_state
        results[BREAKEVEN], states[BREAKEVEN] = breakeven.real_time(
            view, realized, states[BREAKEVEN], rule_plan, forecast, period
        )
        yield OperatorDay(window.day, {case: results[case] for case in CASES})
