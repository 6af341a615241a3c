"""Properties that hold for any prices: balance, streams = objective, monotonicity, resolution."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyomo.environ as pyo
import pytest
from conftest import balance_residual_mw, fleet, make_inputs, make_site, mining
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dispatch import load_inputs, solve
from dispatch.model.build import build_model
from dispatch.solver import Dispatcher, SolveOptions, new_solver, run_highs

EXACT = SolveOptions(mip_rel_gap=0.0)
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
def test_streams_table_matches_the_solver_objective(prices, hashprice):
    site = hybrid_site()
    dispatcher = Dispatcher(site, EXACT)
    result = dispatcher.solve(make_inputs(site, prices, hashprice))
    objective = pyo.value(dispatcher.built.model.margin_usd)
    assert result.streams["usd"].sum() == pytest.approx(objective, rel=1e-9, abs=1e-6)


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
        rebuilt = solve(site, inputs, EXACT)
        assert resolved.kpis.net_margin_usd == pytest.approx(
            rebuilt.kpis.net_margin_usd, rel=1e-9, abs=1e-6
        )
    assert dispatcher.models_built == 1


@few
@given(first=prices, second=prices, hashprice=hashprices)
def test_resolving_with_new_data_equals_a_fresh_solve(first, second, hashprice):
    # Same horizon length so the persistent model is re-used; negative prices switch the
    # battery's charge/discharge binary on, which the re-solve must pick up.
    second = (second * 3)[: len(first)]
    site = hybrid_site()
    dispatcher = Dispatcher(site, EXACT)
    for day_prices in (first, second):
        inputs = make_inputs(site, day_prices, hashprice)
        resolved = dispatcher.solve(inputs).kpis.net_margin_usd
        fresh = solve(site, inputs, EXACT).kpis.net_margin_usd
        assert resolved == pytest.approx(fresh, rel=1e-9, abs=1e-6)
    assert dispatcher.models_built == 1


@few
@given(
    prices=st.lists(st.floats(-80, 150).map(lambda p: round(p, 2)), min_size=3, max_size=8),
    hashprice=hashprices,
)
def test_lazy_battery_exclusivity_equals_binaries_everywhere(prices, hashprice):
    site = hybrid_site()
    inputs = make_inputs(site, prices, hashprice)
    lazy = solve(site, inputs, EXACT)
    built = build_model(site, inputs)
    for _, terms in built.blocks:
        if terms.enforce is not None:
            terms.enforce(True)
    exact = run_highs(new_solver(), built, EXACT, inputs)
    assert lazy.kpis.objective_usd == pytest.approx(exact.objective_usd, rel=1e-9, abs=1e-6)
    schedule = lazy.schedule
    assert (
        np.minimum(schedule["battery_charge_mw"], schedule["battery_discharge_mw"]) < 1e-6
    ).all()
