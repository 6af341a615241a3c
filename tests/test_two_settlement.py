"""Two-settlement (T1-T4): known answers, the single-settlement invariant, streams checked
against HiGHS's objective and against a recomputation from the schedule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import fleet, make_inputs, make_site, mining
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dispatch import Inputs, Site, solve
from dispatch.inputs import DA_PRICE, PRICE, load_inputs
from dispatch.realtime.information import DayAheadForecast, OperatorInputs
from dispatch.realtime.stages import StageRunner
from dispatch.solver import SolveOptions

EXACT = SolveOptions(mip_rel_gap=0.0)
HASHPRICE_60_USD_PER_MWH = 36.0  # a 1 MW, 25 J/TH container earns 60 USD per MWh


def two_settlement(
    site: Site,
    da: list[float],
    rt: list[float],
    hashprice: float = HASHPRICE_60_USD_PER_MWH,
    **columns: float,
) -> OperatorInputs:
    """Day-ahead view (price = DA) and realized day (price = RT) of a tiny hourly site."""
    realized = make_inputs(site, rt, hashprice, **{DA_PRICE: da}, **columns)
    view = make_inputs(site, da, hashprice, **{DA_PRICE: da}, **columns)
    return OperatorInputs(realized, view)


def streams(result) -> pd.Series:
    return result.streams.set_index("stream")["usd"]


def hand_two_settlement_usd(result, site: Site) -> dict[str, float]:
    """da_energy and rt_deviation recomputed from the schedule's physical columns."""
    s = result.schedule
    hours = site.interval_minutes / 60
    ppa = site.grid.ppa.volume_mw if site.grid and site.grid.ppa else 0.0
    market = s["grid_import_mw"] - s["grid_export_mw"] - ppa
    return {
        "da_energy": float(-(s[DA_PRICE] * s["da_position_mw"]).sum() * hours),
        "rt_deviation": float(-(s[PRICE] * (market - s["da_position_mw"])).sum() * hours),
    }


def test_day_ahead_position_buys_the_plan_and_deviations_settle_at_rt():
    site = make_site(grid={"import_limit_mw": 10}, mining=mining(fleet(containers=3)))
    days = two_settlement(site, da=[20, 200, 20, 20], rt=[30, 20, 100, 20])
    plan = StageRunner(site, EXACT).day_ahead(
        days.day_ahead, days.realized, None, DayAheadForecast()
    )
    settled = plan.settled
    assert settled.schedule["mining_s19_containers_on"].tolist() == [3, 0, 3, 3]
    assert settled.schedule["da_position_mw"].tolist() == pytest.approx([3, 0, 3, 3])
    usd = streams(settled)
    assert usd["da_energy"] == pytest.approx(-20 * 9, abs=1e-6)  # 9 MWh bought at 20
    assert usd["rt_deviation"] == pytest.approx(0.0, abs=1e-6)  # executed as planned
    assert usd["mining_hashprice"] == pytest.approx(60 * 9, abs=1e-6)
    assert "grid_energy_purchase" not in usd and "power_credits" not in usd
    assert settled.kpis.net_margin_usd == pytest.approx(360.0, abs=1e-6)
    assert settled.kpis.objective_usd == pytest.approx(360.0, abs=1e-6)  # HiGHS's own


def test_an_export_is_a_day_ahead_sale():
    # A 5 MW unit at 50 USD/MWh and nothing else on site: it sells 5 MW day-ahead in the
    # 200-USD hour (position -5, +1,000 USD, fuel -250) and stays off at 20; RT = DA, so no
    # deviation. An export counted as a purchase would keep it off (margin 0).
    unit = {
        "name": "recip",
        "capacity_mw": 5,
        "min_stable_fraction": 0.3,
        "heat_rate_mmbtu_per_mwh": 10.0,
        "fuel_price_usd_per_mmbtu": 5.0,
    }
    # a 1 USD/MWh adder: importing while exporting is not free (with 0 it is money-neutral)
    grid = {"import_limit_mw": 10, "export_limit_mw": 10, "import_adder_usd_per_mwh": 1}
    site = make_site(grid=grid, generators=[unit])
    days = two_settlement(site, da=[200, 20], rt=[200, 20])
    plan = StageRunner(site, EXACT).day_ahead(
        days.day_ahead, days.realized, None, DayAheadForecast()
    )
    settled = plan.settled
    assert settled.schedule["grid_export_mw"].tolist() == pytest.approx([5, 0])
    assert settled.schedule["da_position_mw"].tolist() == pytest.approx([-5, 0])
    usd = streams(settled)
    assert usd["da_energy"] == pytest.approx(1000, abs=1e-6)
    assert usd["rt_deviation"] == pytest.approx(0.0, abs=1e-6)
    assert usd["fuel"] == pytest.approx(-250, abs=1e-6)
    assert settled.kpis.objective_usd == pytest.approx(750, abs=1e-6)  # HiGHS's own
    assert hand_two_settlement_usd(settled, site) == pytest.approx(
        {"da_energy": 1000, "rt_deviation": 0.0}, abs=1e-6
    )


def test_real_time_deviation_from_a_fixed_position_is_priced_at_rt():
    """Perfect knowledge of RT prices with the position held: mine [3, 3, 0, 3]."""
    site = make_site(grid={"import_limit_mw": 10}, mining=mining(fleet(containers=3)))
    days = two_settlement(site, da=[20, 200, 20, 20], rt=[30, 20, 100, 20])
    runner = StageRunner(site, EXACT)
    plan = runner.day_ahead(days.day_ahead, days.realized, None, DayAheadForecast())
    from dispatch.realtime.information import HindsightForecast

    result, _ = runner.real_time(
        days.realized, days.realized, None, plan, HindsightForecast(days.realized), 4
    )
    assert result.schedule["mining_s19_containers_on"].tolist() == [3, 3, 0, 3]
    usd = streams(result)
    # da: 9 MWh at 20; deviation: +3 MWh at 20 in hour 1, -3 MWh at 100 in hour 2
    assert usd["da_energy"] == pytest.approx(-180.0, abs=1e-6)
    assert usd["rt_deviation"] == pytest.approx(-60 + 300, abs=1e-6)
    assert result.kpis.net_margin_usd == pytest.approx(540 - 180 - 60 + 300, abs=1e-6)
    assert hand_two_settlement_usd(result, site) == pytest.approx(
        {"da_energy": -180.0, "rt_deviation": 240.0}, abs=1e-6
    )


PPA_SITE = dict(
    grid={
        "import_limit_mw": 8,
        "export_limit_mw": 0,
        "import_adder_usd_per_mwh": 2.0,
        "ppa": {"volume_mw": 3, "price_usd_per_mwh": 25},
    },
    mining=mining(fleet(containers=4), fleet("old", containers=2, efficiency_j_per_th=30.0)),
    battery={"power_mw": 2, "energy_mwh": 4, "round_trip_efficiency": 0.9},
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prices=st.lists(st.floats(-50, 400, allow_nan=False), min_size=6, max_size=6))
def test_rt_equal_to_da_gives_the_single_settlement_margin(prices: list[float]):
    """With real-time prices equal to day-ahead prices, two-settlement is single settlement:
    same margin (PPA, adder, battery and two fleets included)."""
    site = make_site(**PPA_SITE)
    days = two_settlement(site, da=prices, rt=prices)
    plan = StageRunner(site, EXACT).day_ahead(
        days.day_ahead, days.realized, None, DayAheadForecast()
    )
    single = solve(site, make_inputs(site, prices, HASHPRICE_60_USD_PER_MWH), EXACT)
    # the two models add the same money in different orders: equal to float noise (a margin of
    # 4,096 USD came out 2.3e-6 USD apart)
    assert plan.settled.kpis.net_margin_usd == pytest.approx(
        single.kpis.net_margin_usd, rel=1e-9, abs=1e-6
    )
    assert plan.settled.kpis.objective_usd == pytest.approx(
        plan.settled.streams["usd"].sum(), abs=1e-6
    )
    hand = hand_two_settlement_usd(plan.settled, site)
    assert streams(plan.settled)[list(hand)].to_dict() == pytest.approx(hand, abs=1e-6)


def test_two_settlement_on_a_real_day_with_rt_as_da_matches_single_settlement():
    """West Texas campus on 2023-08-17 (ERCOT RT prices at HB_WEST): with the day-ahead price
    set to the real-time price, the two settlements agree to the MIP gap."""
    from conftest import SITES

    from dispatch.site import load_site

    site = load_site(SITES / "west_texas_hybrid.yaml")
    rt = load_inputs(site, "2023-08-17")
    frame = rt.frame.copy()
    frame[DA_PRICE] = frame[PRICE]
    days = OperatorInputs(Inputs(frame, rt.sources), Inputs(frame, rt.sources))
    plan = StageRunner(site, SolveOptions()).day_ahead(
        days.day_ahead, days.realized, None, DayAheadForecast()
    )
    single = solve(site, rt)
    margin = plan.settled.kpis.net_margin_usd
    assert margin == pytest.approx(single.kpis.net_margin_usd, rel=2e-4)
    assert plan.settled.kpis.objective_usd == pytest.approx(margin, abs=1e-4)
    assert set(streams(plan.settled).index) >= {"da_energy", "rt_deviation", "ancillary_ecrs"}


def _failure_site() -> Site:
    return make_site(
        grid={"import_limit_mw": 0, "export_limit_mw": 10},
        battery={
            "power_mw": 5,
            "energy_mwh": 5,
            "round_trip_efficiency": 1.0,
            "initial_soc_fraction": 0.4,  # the end-of-day reference: 2 MWh
        },
        programs={
            "ancillary": [
                {
                    "product": "RRS",
                    "max_mw": 5,
                    "sustain_minutes": 60,
                    "expected_deployment_fraction": 0,  # the hand numbers: capacity only
                }
            ]
        },
    )


def test_failed_award_is_charged_back_at_the_dam_price():
    """A battery-backed RRS award planned from a full battery; in real time the battery holds
    less and the site cannot import to refill it: the award fails (T4) instead of an infeasible
    day, and the failed MW-h are charged back at the DAM clearing price."""
    from dispatch.model.battery import BatteryState
    from dispatch.model.state import SiteState

    site = _failure_site()
    mcpc = [10.0, 10.0, 10.0, 10.0]
    prices = [0.0, 0.0, 0.0, 0.0]
    realized = make_inputs(site, prices, rrs_usd_per_mw_h=mcpc, **{DA_PRICE: prices})
    runner = StageRunner(site, EXACT)
    full = SiteState({"battery": BatteryState(5.0)})
    plan = runner.day_ahead(realized, realized, full, DayAheadForecast())
    assert plan.settled.schedule["rrs_offer_mw"].tolist() == pytest.approx([5, 5, 5, 5])
    # the real battery holds 2 MWh (planned: 5) and cannot be refilled: 3 MW of each hour fail
    low = SiteState({"battery": BatteryState(2.0)})
    result, _ = runner.real_time(realized, realized, low, plan, DayAheadForecast(), 1)
    assert result.schedule["rrs_failed_mw"].tolist() == pytest.approx([3, 3, 3, 3])
    usd = streams(result)
    assert usd["ancillary_rrs"] == pytest.approx(10 * 5 * 4, abs=1e-6)
    assert usd["ancillary_failure"] == pytest.approx(-10 * 3 * 4, abs=1e-6)
    assert result.kpis.net_margin_usd == pytest.approx(200 - 120, abs=1e-6)
    np.testing.assert_allclose(result.kpis.objective_usd, result.streams["usd"].sum(), atol=1e-6)


def test_two_settlement_results_match_the_independent_recomputation():
    """Every stream and KPI of a day-ahead plan, a real-time day off the plan and a day with a
    failed award, re-derived from the site file and the schedule (tests/independent.py)."""
    from independent import Before, mismatches

    from dispatch.model.battery import BatteryState
    from dispatch.model.state import SiteState

    site = make_site(**PPA_SITE)
    days = two_settlement(site, da=[20, 200, 20, -5, 60, 20], rt=[30, 20, 100, 20, -10, 90])
    runner = StageRunner(site, EXACT)
    plan = runner.day_ahead(days.day_ahead, days.realized, None, DayAheadForecast())
    assert mismatches(site, plan.settled) == []
    from dispatch.realtime.information import HindsightForecast

    result, _ = runner.real_time(
        days.realized, days.realized, None, plan, HindsightForecast(days.realized), 6
    )
    assert (result.schedule["rt_deviation_mw"].abs() > 1e-6).any()  # off the plan
    assert mismatches(site, result) == []

    failing = _failure_site()
    zero, mcpc = [0.0] * 4, [10.0] * 4
    realized = make_inputs(failing, zero, rrs_usd_per_mw_h=mcpc, **{DA_PRICE: zero})
    runner = StageRunner(failing, EXACT)
    full = SiteState({"battery": BatteryState(5.0)})
    plan = runner.day_ahead(realized, realized, full, DayAheadForecast())
    low = SiteState({"battery": BatteryState(2.0)})
    result, _ = runner.real_time(realized, realized, low, plan, DayAheadForecast(), 1)
    assert result.schedule["rrs_failed_mw"].sum() > 0
    assert mismatches(failing, result, Before()) == []
