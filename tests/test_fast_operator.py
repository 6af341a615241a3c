"""The operator's day (day-ahead stage, real-time loop, settlement) on the compiled path against
Pyomo: between stages the StageRunner fixes and unfixes variables and moves bounds on the Pyomo
model; every solve of the compiled model must see exactly that model."""

from __future__ import annotations

import datetime as dt

import pyomo.environ as pyo
import pytest
from conftest import SITES
from test_fast import EXAMPLES, PYOMO, assert_feasible_for_pyomo, assert_same_as_fresh_pyomo

from dispatch import load_inputs, load_site
from dispatch.batch.rolling import day_windows, slice_inputs
from dispatch.fast import FastModel
from dispatch.inputs import Inputs
from dispatch.model.state import read_state
from dispatch.realtime.information import (
    HindsightForecast,
    SpreadForecast,
    load_operator_inputs,
)
from dispatch.realtime.stages import BreakevenRule, Optimize, StageModel, StageRunner
from dispatch.results import SolveReport
from dispatch.site import Site
from dispatch.solver import Dispatcher, SolveOptions, new_solver, solve_exact

EXACT = SolveOptions(mip_rel_gap=0.0)


class CheckedRunner(StageRunner):
    """A StageRunner on the compiled path that checks every solve against Pyomo: variables the
    runner fixed kept their values, the solution satisfies every constraint and bound of the
    Pyomo model as it stands, and a fresh Pyomo HiGHS finds the same optimum of that model."""

    checked = 0

    def _solve(self, stage: StageModel, inputs: Inputs) -> SolveReport:
        assert isinstance(stage.model, FastModel)
        variables = list(stage.built.model.component_data_objects(pyo.Var, descend_into=True))
        fixed = [(v, v.value) for v in variables if v.fixed]
        report = super()._solve(stage, inputs)
        assert all(v.fixed and v.value == value for v, value in fixed)
        assert_feasible_for_pyomo(stage.built)
        solution = [(v, v.value) for v in variables]
        reference = solve_exact(new_solver(fixed_as_bounds=True), stage.built, PYOMO, inputs)
        assert report.objective_usd == pytest.approx(reference.objective_usd, rel=1e-9, abs=1e-6)
        for v, value in solution:  # the loop goes on from the compiled path's solution
            v.set_value(value, skip_validation=True)
        type(self).checked += 1
        return report


def operator_days(site: Site, start: str, end: str):
    day_ahead = load_inputs(site, start, end, prices="ercot_dam_spp")
    real_time = load_inputs(site, start, end, prices="ercot_rtm_spp")
    inputs = load_operator_inputs(site, day_ahead, real_time)
    for window in day_windows(inputs.realized.index):
        yield (
            slice_inputs(inputs.day_ahead, window.start, window.stop),
            slice_inputs(inputs.realized, window.start, window.stop),
        )


@pytest.mark.parametrize("rule", [False, True], ids=["optimize", "breakeven_rule"])
def test_every_operator_solve_on_the_compiled_path_equals_pyomos(rule):
    # The 15-minute West Texas campus offers RRS, ECRS and NSPIN (A1-A4; a fleet on an
    # under-frequency relay, A3) and runs two real August days deciding every 8 hours: the
    # second day re-uses the models (new data, released fixings), so a stale bound or fixing
    # from the first day would show.
    site = load_site(SITES / "west_texas_hybrid.yaml")
    assert site.programs is not None and site.programs.ancillary
    assert any(f.load_resource == "ufr" for f in site.fleets)
    runner = CheckedRunner(site, EXACT, BreakevenRule(site) if rule else Optimize())
    CheckedRunner.checked = 0
    forecast, state, plan_state = SpreadForecast(), None, None
    for view, realized in operator_days(site, "2023-08-16", "2023-08-17"):
        plan = runner.day_ahead(view, realized, plan_state, forecast)
        plan_state = plan.end_state
        result, state = runner.real_time(view, realized, state, plan, forecast, 32)
        assert result.streams["usd"].sum() == pytest.approx(
            result.kpis.objective_usd, rel=1e-9, abs=1e-6
        )
    # per day: the plan, its settlement, 3 decision times, the day's settlement
    assert CheckedRunner.checked == 2 * (1 + 1 + 3 + 1)
    assert dt.date(2023, 8, 17) == result.schedule.index[0].date()


def test_the_relaxation_first_gives_pyomos_optimum_whether_or_not_it_is_integral(monkeypatch):
    # Every example site over two real days (the second from the first's end state) with the
    # LP relaxation solved first: an integral relaxation is taken as the MIP's optimum, a
    # fractional one falls back to the MIP; both must equal a fresh Pyomo build, and both
    # cases must occur.
    outcomes: list[bool] = []
    first = FastModel._relaxation_is_integral

    def spy(self, options):
        outcomes.append(first(self, options))
        return outcomes[-1]

    monkeypatch.setattr(FastModel, "_relaxation_is_integral", spy)
    options = SolveOptions(mip_rel_gap=0.0, relaxation_first=True)
    for path in EXAMPLES:
        site = load_site(path)
        dispatcher, state = Dispatcher(site, options), None
        for day in ("2023-08-16", "2023-08-17"):
            inputs = load_inputs(site, day)
            result = dispatcher.solve(inputs, state)
            assert_same_as_fresh_pyomo(site, inputs, state, dispatcher, result)
            assert dispatcher.built is not None
            state = read_state(dispatcher.built, inputs.index, state)
    assert True in outcomes and False in outcomes


class HoldsTheRelayDisarmed(Optimize):
    """The loop's own decisions, with every relay fleet's daily arming (A3, a binary indexed by
    day, not by interval) held at 0 in each real-time step, as a day-ahead arming would hold it."""

    def decide(self, stage: StageModel, start: int, stop: int, known_price) -> None:
        for var in stage.built.model.component_objects(pyo.Var, descend_into=True):
            if var.local_name == "rrs_relay_armed":
                for data in var.values():
                    data.fix(0)


def test_a_fixed_day_indexed_binary_settles_on_the_compiled_path_as_on_pyomos():
    # 2023-07-13 on the campus, perfect foresight (one real-time solve of the whole day) with the
    # relay held disarmed, as the day-ahead plan has it: the solution splits ECRS/NSPIN onto the
    # S21 fleet 5.2e-7 MW above its headroom (within HiGHS's tolerances). The settlement then
    # fixes every decision, so the model's only integers are fixed: Pyomo passes them as
    # integer columns (a MIP, HiGHS's 1e-6 MIP feasibility tolerance) and settles the day; the
    # compiled path passed them as continuous columns, an LP held to 1e-7: infeasible.
    site = load_site(SITES / "west_texas_hybrid.yaml")
    runner = CheckedRunner(site, EXACT, HoldsTheRelayDisarmed())
    CheckedRunner.checked = 0
    (view, realized), *_ = operator_days(site, "2023-07-13", "2023-07-13")
    plan = runner.day_ahead(view, realized, None, SpreadForecast())
    assert plan.settled.schedule["mining_s19_rrs_relay_armed"].eq(0).all()
    result, _ = runner.real_time(
        realized, realized, None, plan, HindsightForecast(realized), len(realized.index)
    )
    assert CheckedRunner.checked == 4  # plan, its settlement, the day, its settlement
    assert result.schedule["mining_s19_rrs_relay_armed"].eq(0).all()
    assert result.streams["usd"].sum() == pytest.approx(
        result.kpis.objective_usd, rel=1e-9, abs=1e-6
    )
