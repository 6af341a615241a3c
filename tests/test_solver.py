"""Solver behaviour: options are explicit, a time-limited solve returns its incumbent, an
infeasible model raises SolveError saying why."""

from __future__ import annotations

import time

import pytest
import yaml
from conftest import SITES, make_inputs, make_site

from dispatch import InputError, SolveError, load_inputs
from dispatch.model.build import build_model
from dispatch.results import SolveReport, compute_kpis
from dispatch.site import parse_site
from dispatch.solver import SolveOptions, new_solver, run_highs, solve


def hard_flare_site():
    """The flare-gas example with gas that does not match whole containers: many ties."""
    data = yaml.safe_load((SITES / "flare_gas_offgrid.yaml").read_text())
    data["generators"][0]["fuel_limit_mmbtu_per_day"] = 320
    data["generators"][1]["fuel_limit_mmbtu_per_day"] = 280
    return parse_site(data, "hard flare")


def test_time_limited_solve_returns_its_incumbent_and_gap():
    site = hard_flare_site()
    inputs = load_inputs(site, "2023-08-17")
    result = solve(site, inputs, SolveOptions(mip_rel_gap=0.0, time_limit_s=1.0))
    assert result.kpis.status == "time_limit"
    assert 0 < result.kpis.mip_gap < 0.05
    assert len(result.schedule) == 96
    assert result.streams["usd"].sum() == pytest.approx(
        result.kpis.objective_usd, rel=1e-9, abs=1e-6
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"mip_rel_gap": -1}, r"mip_rel_gap \(--mip-gap\): expected 0 <= gap < 1, found -1"),
        (
            {"time_limit_s": 0},
            r"time_limit_s \(--time-limit\): expected a finite number of seconds > 0, found 0",
        ),
        ({"threads": 0}, "threads: expected >= 1, found 0"),
        ({"presolve": "maybe"}, "presolve: expected choose, on or off, found 'maybe'"),
        ({"interface": "gurobi"}, "interface: expected compiled or pyomo, found 'gurobi'"),
        (
            {"interface": "pyomo", "warm_start": True},
            "warm_start: a MIP start needs interface compiled",
        ),
        (
            {"interface": "pyomo", "relaxation_first": True},
            "relaxation_first: the relaxation first needs interface compiled",
        ),
        ({"relaxation_first": "yes"}, "relaxation_first: expected True or False, found str"),
        (
            {"highs_options": {"mip_heuristic_effrt": 0.1}},
            "HiGHS refuses option 'mip_heuristic_effrt'",
        ),
        ({"highs_options": {"mip_heuristic_effort": 5.0}}, "'mip_heuristic_effort' = 5.0"),
    ],
)
def test_bad_options_are_user_errors(options, message):
    with pytest.raises(InputError, match=message):
        SolveOptions(**options)


def test_infeasible_carried_state_raises_solve_error_with_the_likely_cause():
    # A generator carried in as "just started, must stay on 2 h" on a site that cannot take
    # its minimum output: no export, no load.
    site = make_site(
        grid={"import_limit_mw": 5, "export_limit_mw": 0},
        generators=[
            {
                "name": "recip",
                "capacity_mw": 2,
                "min_stable_fraction": 0.5,
                "heat_rate_mmbtu_per_mwh": 9,
                "fuel_price_usd_per_mmbtu": 3,
                "min_up_minutes": 120,
            }
        ],
    )
    inputs = make_inputs(site, [30, 30, 30])
    built = build_model(site, inputs)
    built.model.generator_recip.on_before = 1
    built.model.generator_recip.started_before[0] = 1
    with pytest.raises(SolveError, match=r"has no feasible schedule .* min up/down"):
        run_highs(new_solver(), built, SolveOptions(), inputs)


def test_extra_highs_options_reach_the_solver():
    # An iteration limit of 0 stops the LP before it starts: the option must have been applied.
    site = make_site(
        grid={"import_limit_mw": 5, "export_limit_mw": 5}, battery={"power_mw": 1, "energy_mwh": 2}
    )
    inputs = make_inputs(site, [10, 100, 10])
    assert solve(site, inputs).kpis.status == "optimal"
    with pytest.raises(SolveError):
        solve(
            site,
            inputs,
            SolveOptions(
                relax_integrality=True, presolve="off", highs_options={"simplex_iteration_limit": 0}
            ),
        )


def test_a_solves_total_time_spans_its_build_and_solve_within_the_call():
    # total_seconds (kpis.json, the run report) is the whole call: preparing, building and
    # solving the model, then reading the result; it cannot be less than its parts, nor more
    # than the call took
    site = make_site(
        grid={"import_limit_mw": 5, "export_limit_mw": 5}, battery={"power_mw": 1, "energy_mwh": 2}
    )
    inputs = make_inputs(site, [10, 100, 10])
    started = time.perf_counter()
    kpis = solve(site, inputs, SolveOptions(model_cache=False)).kpis
    elapsed = time.perf_counter() - started
    assert kpis.build_seconds > 0 and kpis.solve_seconds > 0
    assert kpis.build_seconds + kpis.solve_seconds <= kpis.total_seconds <= elapsed


def test_the_kpis_carry_the_solve_report_as_it_came():
    # a time-limited solve's gap is what tells the user a schedule may not be optimal; the
    # time-limited test above runs on the clock, this one on a report made by hand
    site = make_site(
        grid={"import_limit_mw": 5, "export_limit_mw": 5}, battery={"power_mw": 1, "energy_mwh": 2}
    )
    result = solve(site, make_inputs(site, [10, 100, 10]))
    report = SolveReport(
        status="time_limit",
        objective_usd=123.0,
        bound_usd=130.0,
        mip_gap=0.05,
        solver_seconds=1.5,
        solve_seconds=2.0,
        build_seconds=0.5,
        rebuilt=True,
        rounds=1,
    )
    usd = dict(zip(result.streams["stream"], result.streams["usd"], strict=True))
    kpis = compute_kpis(site, result.schedule, usd, 1.0, report)
    names = (
        "status",
        "objective_usd",
        "mip_gap",
        "solver_seconds",
        "solve_seconds",
        "build_seconds",
    )
    assert {name: getattr(kpis, name) for name in names} == {
        "status": "time_limit",
        "objective_usd": 123.0,
        "mip_gap": 0.05,
        "solver_seconds": 1.5,
        "solve_seconds": 2.0,
        "build_seconds": 0.5,
    }


def test_a_persistent_lp_keeps_its_time_limit_per_solve():
    # HiGHS measures an LP's time limit against the run time its object accumulated over all
    # solves; a long persistent run (a year of LP relaxations) must not stop once the solves
    # add up to the limit.
    import numpy as np

    from dispatch.solver import Dispatcher

    site = make_site(
        interval_minutes=15,
        grid={"import_limit_mw": 10, "export_limit_mw": 10},
        battery={"power_mw": 5, "energy_mwh": 10},
    )
    limit_s = 0.1
    dispatcher = Dispatcher(site, SolveOptions(time_limit_s=limit_s, relax_integrality=True))
    rng = np.random.default_rng(7)
    accumulated_s, solves = 0.0, 0
    while accumulated_s < 3 * limit_s and solves < 2000:
        prices = rng.uniform(-20, 200, 96).round(2)
        result = dispatcher.solve(make_inputs(site, prices.tolist()))
        assert result.kpis.status == "optimal"
        accumulated_s += result.kpis.solver_seconds
        solves += 1
    assert accumulated_s >= 3 * limit_s  # the run really went past the limit in total
