"""Properties of the markets and programs for any prices: deliverable offers, money counted once,
offers only add value, and a fixed-price PPA shifts the optimum by a constant."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
import pytest
from conftest import balance_residual_mw, fleet, make_inputs, make_site, mining
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dispatch import solve
from dispatch.solver import Dispatcher, SolveOptions

EXACT = SolveOptions(mip_rel_gap=0.0)
few = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
N = 5
prices = st.lists(st.floats(-30, 600).map(lambda p: round(p, 2)), min_size=N, max_size=N)
as_prices = st.lists(st.floats(0, 300).map(lambda p: round(p, 2)), min_size=N, max_size=N)
weights = st.lists(st.sampled_from([0.0, 0.0, 0.2, 1.0]), min_size=N, max_size=N)
hashprice = st.floats(30, 120).map(lambda h: round(h, 2))
OFFERS = {"ancillary": [{"product": "RRS", "max_mw": 6}, {"product": "ECRS", "max_mw": 6}]}


def program_site(programs=OFFERS, ppa: bool = True):
    grid = {
        "import_limit_mw": 14,
        "export_limit_mw": 2,
        "import_adder_usd_per_mwh": 2.0,
        "coincident_peak": {"usd_per_mw_year": 40_000},  # < SLA penalty per MW-h
        "demand_charge": {"usd_per_mw_month": 300},
    }
    if ppa:
        grid["ppa"] = {"volume_mw": 6, "price_usd_per_mwh": 30}
    return make_site(
        grid=grid,
        hpc={
            "it_load_mw": 4,
            "pue": 1.25,
            "contract": {"kind": "colocation", "usd_per_kw_month": 120},
            "ride_through_minutes": 30,
            "flexible_fraction": 0.1,
            "deferral_cost_usd_per_mwh": 20,
        },
        mining=mining(
            fleet("a", containers=4, power_range_fraction=[0.6, 1.0]),
            fleet("b", containers=2, efficiency_j_per_th=32.0, startup_cost_usd=3.0),
        ),
        battery={"power_mw": 2, "energy_mwh": 8, "min_soc_fraction": 0.1},
        heat_reuse={"recovery_fraction": 0.6, "price_usd_per_mwh_thermal": 25, "max_mw_thermal": 2},
        programs=programs,
    )


def program_inputs(site, price, rrs, ecrs, weight, hp):
    return make_inputs(
        site,
        price,
        hp,
        rrs_usd_per_mw_h=rrs,
        ecrs_usd_per_mw_h=ecrs,
        coincident_peak_weight=weight,
        hpc_utilization_fraction=[0.8] * N,
    )


@few
@given(price=prices, rrs=as_prices, ecrs=as_prices, weight=weights, hp=hashprice)
def test_offers_are_deliverable_and_streams_sum_to_the_objective(price, rrs, ecrs, weight, hp):
    site = program_site()
    dispatcher = Dispatcher(site, EXACT)
    result = dispatcher.solve(program_inputs(site, price, rrs, ecrs, weight, hp))
    schedule = result.schedule
    assert np.abs(balance_residual_mw(schedule)).max() < 1e-6
    objective = pyo.value(dispatcher.built.model.margin_usd)
    assert result.streams["usd"].sum() == pytest.approx(objective, rel=1e-9, abs=1e-6)
    offered = schedule["rrs_offer_mw"] + schedule["ecrs_offer_mw"]
    headroom = (
        schedule["mining_a_power_mw"]
        + schedule["mining_b_power_mw"]
        + 2
        - schedule["battery_discharge_mw"]
        + schedule["battery_charge_mw"]
        + 0.1 * schedule["hpc_required_mw"]
        - schedule["hpc_deferred_mw"]
        + schedule["hpc_made_up_mw"]
    )
    assert (offered <= headroom + 1e-6).all()
    ride_through_mwh = 5 * 0.8 * 0.5
    assert (schedule["battery_soc_mwh"] - 0.8 >= ride_through_mwh - 1e-6).all()
    mining_mw = schedule["mining_a_power_mw"] + schedule["mining_b_power_mw"]
    assert (schedule["heat_sold_mw_thermal"] <= 0.6 * mining_mw + 1e-6).all()
    assert result.kpis.hpc_availability_fraction == pytest.approx(1.0)


@few
@given(price=prices, rrs=as_prices, ecrs=as_prices, weight=weights, hp=hashprice)
def test_selling_reserves_never_lowers_the_optimum(price, rrs, ecrs, weight, hp):
    with_offers, without = program_site(), program_site(programs=None)
    a = solve(with_offers, program_inputs(with_offers, price, rrs, ecrs, weight, hp), EXACT)
    b = solve(without, program_inputs(without, price, rrs, ecrs, weight, hp), EXACT)
    assert a.kpis.net_margin_usd >= b.kpis.net_margin_usd - 1e-6


@few
@given(price=prices, rrs=as_prices, ecrs=as_prices, weight=weights, hp=hashprice)
def test_a_fixed_price_ppa_shifts_the_optimum_by_a_constant(price, rrs, ecrs, weight, hp):
    with_ppa, spot = program_site(), program_site(ppa=False)
    a = solve(with_ppa, program_inputs(with_ppa, price, rrs, ecrs, weight, hp), EXACT)
    b = solve(spot, program_inputs(spot, price, rrs, ecrs, weight, hp), EXACT)
    constant = sum(6 * (p - 30) for p in price)  # block resold at spot, bought at 30, hourly
    assert a.kpis.net_margin_usd - b.kpis.net_margin_usd == pytest.approx(
        constant, rel=1e-7, abs=1e-4
    )
