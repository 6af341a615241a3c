"""Properties that hold for any prices: balance, streams = objective, monotonicity, resolution."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pyomo.environ as pyo
import pytest
from conftest import balance_residual_mw, fleet, make_inputs, make_site, mining
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from independent import mismatches

from dispatch import load_inputs, solve
from dispatch.model.build import build_model
from dispatch.model.state import read_state
from dispatch.solver import Dispatcher, SolveOptions, new_solver, run_highs

EXACT = SolveOptions(mip_rel_gap=0.0)
BUILT = SolveOptions(mip_rel_gap=0.0, model_cache=False)  # a model built for the solve
prices = st.lists(
    st.floats(-40, 400, allow_nan=False).map(lambda p: round(p, 2)), min_size=3, max_size=8
)
hashprices = st.floats(30, 120).map(lambda h: round(h, 2))
few = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def hybrid_site(
    containers: int = 4, battery_mw: float = 2.0, interval_minutes: int = 60, import_mw: float = 12
):
    return make_site(
        interval_minutes=interval_minutes,
        grid={"import_limit_mw": import_mw, "export_limit_mw": 3, "import_adder_usd_per_mwh": 2.0},
        hpc={
            "it_load_mw": 4,
            "pue": 1.25,
            "contract": {"kind": "colocation", "usd_per_kw_month": 120, "power_pass_through": True},
            "ride_through_minutes": 15,
        },
        mining=mining(
            fleet(
                "a",
                containers=containers,
                power_range_fraction=[0.6, 1.1],
                efficiency_curve=[[0.6, 22.0], [1.0, 25.0], [1.1, 27.0]],
            ),
            fleet("b", containers=2, efficiency_j_per_th=32.0, startup_cost_usd=3.0),
            pool_fee_fraction=0.02,
        ),
        battery={
            "power_mw": battery_mw,
            "energy_mwh": 4 * battery_mw,
            "min_soc_fraction": 0.1,
            "degradation_usd_per_mwh": 4.0,
        },
    )


@few
@given(prices=prices, hashprice=hashprices)
def test_balance_holds_and_streams_sum_to_the_objective(prices, hashprice):
    site = hybrid_site()
    result = solve(site, make_inputs(site, prices, hashprice), EXACT)
    assert np.abs(balance_residual_mw(result.schedule)).max() < 1e-6
    # the objective value HiGHS reports, against the sum of the streams table
    assert result.streams["usd"].sum() == pytest.approx(
        result.kpis.objective_usd, rel=1e-9, abs=1e-6
    )
    assert result.kpis.hpc_availability_fraction == pytest.approx(1.0)  # supply always allows
    reserve = result.schedule["battery_soc_mwh"] - 0.1 * 8
    assert (reserve >= 5 * 15 / 60 - 1e-6).all()


@few
@given(prices=prices, hashprice=hashprices)
def test_streams_match_an_independent_recomputation_and_the_solver_objective(prices, hashprice):
    # each stream re-derived from the site file and the schedule (tests/independent.py), and
    # their sum against the objective HiGHS reported (not Pyomo's evaluation of the same terms)
    site = hybrid_site()
    result = solve(site, make_inputs(site, prices, hashprice), EXACT)
    assert mismatches(site, result) == []


@few
@given(prices=prices, hashprice=hashprices)
def test_more_flexibility_never_lowers_the_optimum(prices, hashprice):
    base = hybrid_site(containers=3, battery_mw=1.0)
    more_containers = hybrid_site(containers=4, battery_mw=1.0)
    more_battery = hybrid_site(containers=3, battery_mw=2.0)
    value = {
        name: solve(site, make_inputs(site, prices, hashprice), EXACT).kpis.net_margin_usd
        for name, site in (
            ("base", base),
            ("containers", more_containers),
            ("battery", more_battery),
        )
    }
    assert value["containers"] >= value["base"] - 1e-6
    assert value["battery"] >= value["base"] - 1e-6


@settings(max_examples=10, deadline=None)
@given(prices=prices, hashprice=hashprices)
def test_15_and_60_minute_results_agree_on_hourly_step_prices(prices, hashprice):
    # With a binding import limit, 15-minute steps may run 2.5 containers on average over an
    # hour, which hourly integer counts cannot; with room on the wire the two must agree.
    hourly = hybrid_site(interval_minutes=60, import_mw=30)
    quarter = hybrid_site(interval_minutes=15, import_mw=30)
    a = solve(hourly, make_inputs(hourly, prices, hashprice), EXACT)
    b = solve(quarter, make_inputs(quarter, np.repeat(prices, 4).tolist(), hashprice), EXACT)
    assert b.kpis.net_margin_usd == pytest.approx(a.kpis.net_margin_usd, rel=1e-7, abs=1e-4)
    mining_a = a.schedule["mining_a_power_mw"].to_numpy()
    assert b.schedule["mining_a_power_mw"].to_numpy().reshape(-1, 4).sum(axis=1) / 4 == (
        pytest.approx(mining_a, abs=1e-6)
    )


@pytest.mark.parametrize(
    ("day", "quarters"), [("2023-03-12", 92), ("2023-11-05", 100), ("2023-08-17", 96)]
)
def test_dst_days_have_92_or_100_quarter_hours_and_solve(day, quarters):
    site = hybrid_site(interval_minutes=15)
    inputs = load_inputs(site, day)
    assert len(inputs.index) == quarters
    assert inputs.index[0] == pd.Timestamp(day, tz="America/Chicago")
    result = solve(site, inputs)
    assert len(result.schedule) == quarters
    assert np.abs(balance_residual_mw(result.schedule)).max() < 1e-6


def test_persistent_resolve_equals_rebuild():
    site = hybrid_site(interval_minutes=15)
    dispatcher = Dispatcher(site, EXACT)
    for day in ("2023-08-16", "2023-08-17", "2023-08-18"):
        inputs = load_inputs(site, day)
        resolved = dispatcher.solve(inputs)
        rebuilt = solve(site, inputs, BUILT)
        assert resolved.kpis.net_margin_usd == pytest.approx(
            rebuilt.kpis.net_margin_usd, rel=1e-9, abs=1e-6
        )
    assert dispatcher.models_built + dispatcher.models_from_cache == 1


def test_resolving_with_new_data_and_state_equals_a_fresh_solve():
    # A persistent model re-solved with other prices, another hashprice and the state the first
    # day ended in must equal a fresh build of that day. The generator makes both matter: the
    # carried state and a stale hashprice each change the second day's optimum (asserted).
    site = hybrid_site()
    seen: Counter[str] = Counter()

    @settings(
        max_examples=10,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(first=prices, second=prices, hashprice=hashprices, other_hashprice=hashprices)
    def check(first, second, hashprice, other_hashprice):
        second = (second * 3)[: len(first)]  # same horizon length: the model is re-used
        start = "2024-06-04"
        dispatcher = Dispatcher(site, EXACT)
        dispatcher.solve(make_inputs(site, first, hashprice))
        state = read_state(dispatcher.built, make_inputs(site, first, hashprice).index, None)
        inputs = make_inputs(site, second, other_hashprice, start=start)
        resolved = dispatcher.solve(inputs, state)
        fresh = solve(site, inputs, BUILT, state)
        assert dispatcher.models_built + dispatcher.models_from_cache == 1
        assert resolved.kpis.objective_usd == pytest.approx(
            fresh.kpis.objective_usd, rel=1e-9, abs=1e-6
        )
        pd.testing.assert_frame_equal(resolved.schedule, fresh.schedule, atol=1e-6)
        fresh_start = solve(site, inputs, EXACT).kpis.objective_usd
        stale = solve(site, make_inputs(site, second, hashprice, start=start), EXACT, state)
        seen["state matters"] += abs(fresh_start - fresh.kpis.objective_usd) > 1e-6
        seen["hashprice matters"] += abs(stale.kpis.objective_usd - fresh.kpis.objective_usd) > 1e-6

    check()
    assert seen["state matters"] and seen["hashprice matters"], seen


def battery_heater_site():
    """A full battery that must end full, behind an import limit the HPC and mining already use:
    at negative prices the relaxed model earns by charging and discharging at once (a heater)."""
    return make_site(
        grid={"import_limit_mw": 7.5, "import_adder_usd_per_mwh": 2.0},
        hpc={
            "it_load_mw": 4,
            "pue": 1.25,
            "contract": {"kind": "colocation", "usd_per_kw_month": 120},
        },
        mining=mining(fleet("a", containers=2)),
        battery={
            "power_mw": 2.0,
            "energy_mwh": 4.0,
            "round_trip_efficiency": 0.81,
            "initial_soc_fraction": 1.0,
        },
    )


def test_lazy_battery_exclusivity_equals_binaries_everywhere():
    site = battery_heater_site()
    needed = Counter()

    @settings(
        max_examples=15,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(
        prices=st.lists(st.floats(-80, 150).map(lambda p: round(p, 2)), min_size=3, max_size=8),
        hashprice=hashprices,
    )
    def check(prices, hashprice):
        inputs = make_inputs(site, prices, hashprice)
        dispatcher = Dispatcher(site, EXACT)
        built, report = dispatcher.solve_model(inputs)
        needed["binary switched on"] += report.rounds > 1
        lazy = report.objective_usd
        exact_model = build_model(site, inputs)
        for _, terms in exact_model.blocks:
            if terms.enforce is not None:
                terms.enforce(True)
        exact = run_highs(new_solver(), exact_model, EXACT, inputs)
        assert lazy == pytest.approx(exact.objective_usd, rel=1e-9, abs=1e-6)
        charge = [pyo.value(built.model.battery.charge_mw[t]) for t in built.model.intervals]
        discharge = [pyo.value(built.model.battery.discharge_mw[t]) for t in built.model.intervals]
        assert (np.minimum(charge, discharge) < 1e-6).all()

    check()
    assert needed["binary switched on"] > 0  # the generator made cases that need the binary
