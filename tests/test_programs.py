"""Markets and programs on tiny cases with one obvious optimum (tolerance 1e-6 USD unless stated).

A 1 MW, 25 J/TH container at 36 USD/PH/day and no pool fee earns 60 USD per MWh consumed.
"""

from __future__ import annotations

import pytest
from conftest import fleet, make_inputs, make_site, mining

from dispatch import InputError, solve
from dispatch.model.state import SiteState
from dispatch.model.tariffs import DemandPeakState
from dispatch.solver import Dispatcher, SolveOptions

HASHPRICE_60_USD_PER_MWH = 36.0
EXACT = SolveOptions(mip_rel_gap=0.0)


def streams(result) -> dict[str, float]:
    return result.streams.set_index("stream")["usd"].to_dict()


# --- A1 ancillary offers -------------------------------------------------------------------------


def rrs_site(**offer):
    # no expected deployment unless a test asks for it (deployment is valued in test_reserves)
    return make_site(
        grid={"import_limit_mw": 10},
        mining=mining(fleet(containers=3)),
        programs={
            "ancillary": [
                {"product": "RRS", "max_mw": 10, "expected_deployment_fraction": 0, **offer}
            ]
        },
    )


def test_ancillary_price_above_the_mining_margin_keeps_containers_running():
    # At 200 USD/MWh mining loses 140 per MWh, but every running MW sells RRS at 150 USD/MW-h:
    # the containers consume to be curtailable.
    site = rrs_site()
    inputs = make_inputs(
        site, [20, 200, 20], HASHPRICE_60_USD_PER_MWH, rrs_usd_per_mw_h=[1, 150, 1]
    )
    result = solve(site, inputs, EXACT)
    assert result.schedule["mining_s19_containers_on"].tolist() == [3, 3, 3]
    assert result.schedule["rrs_offer_mw"].tolist() == pytest.approx([3, 3, 3])
    assert streams(result)["ancillary_rrs"] == pytest.approx(3 * 1 + 3 * 150 + 3 * 1)
    assert result.kpis.net_margin_usd == pytest.approx(540 - 720 + 456, abs=1e-6)


def test_ancillary_price_below_the_loss_lets_containers_curtail():
    site = rrs_site()
    inputs = make_inputs(
        site, [20, 200, 20], HASHPRICE_60_USD_PER_MWH, rrs_usd_per_mw_h=[1, 130, 1]
    )
    result = solve(site, inputs, EXACT)
    assert result.schedule["mining_s19_containers_on"].tolist() == [3, 0, 3]
    assert result.schedule["rrs_offer_mw"].tolist() == pytest.approx([3, 0, 3])
    assert result.kpis.net_margin_usd == pytest.approx(2 * 3 * 40 + 6, abs=1e-6)


def test_expected_deployment_costs_the_hashprice_lost_less_the_energy_not_bought():
    site = rrs_site(max_mw=2, expected_deployment_fraction=0.1)
    inputs = make_inputs(site, [20, 20], HASHPRICE_60_USD_PER_MWH, rrs_usd_per_mw_h=[50, 50])
    result = solve(site, inputs, EXACT)
    # capped at max_mw = 2 and paid 50 per MW-h; a deployed MWh loses 60 of hashprice and saves
    # the 20 it would have cost: 0.1 x 2 MW x 1 h x (20 - 60) = -8 per hour
    assert result.schedule["rrs_offer_mw"].tolist() == pytest.approx([2, 2])
    assert streams(result)["ancillary_rrs"] == pytest.approx(2 * 2 * 50)
    assert streams(result)["ancillary_deployment"] == pytest.approx(2 * -8)
    deployment = result.streams.set_index("stream").loc["ancillary_deployment"]
    assert deployment["basis_mwh"] == pytest.approx(2 * 0.1 * 2)
    assert deployment["usd_per_mwh"] == pytest.approx(20 - 60)


@pytest.mark.parametrize(("product", "hours"), [("RRS", 1), ("ECRS", 2), ("NSPIN", 4)])
def test_battery_backs_only_what_it_can_sustain(product, hours):
    # 8 MWh above the minimum, lossless: RRS 8 MW (1 h), ECRS 4 MW (2 h), Non-Spin 2 MW (4 h).
    site = make_site(
        grid={"import_limit_mw": 20},
        battery={
            "power_mw": 10,
            "energy_mwh": 8,
            "round_trip_efficiency": 1.0,
            "initial_soc_fraction": 1.0,
        },
        programs={"ancillary": [{"product": product, "max_mw": 20}]},
    )
    column = f"{product.lower()}_usd_per_mw_h"
    result = solve(site, make_inputs(site, [30, 30, 30], **{column: [50, 50, 50]}), EXACT)
    assert result.schedule[f"{product.lower()}_offer_mw"].tolist() == pytest.approx([8 / hours] * 3)


def test_offers_never_spend_the_hpc_ride_through_energy():
    # 1 MW HPC x 120 min = 2 MWh held for ride-through: ECRS gets (8 - 2) / 2 h = 3 MW.
    site = make_site(
        grid={"import_limit_mw": 20},
        hpc={
            "it_load_mw": 1,
            "pue": 1.0,
            "contract": {"kind": "colocation", "usd_per_kw_month": 100},
            "ride_through_minutes": 120,
        },
        battery={
            "power_mw": 10,
            "energy_mwh": 8,
            "round_trip_efficiency": 1.0,
            "initial_soc_fraction": 1.0,
        },
        programs={"ancillary": [{"product": "ECRS", "max_mw": 20}]},
    )
    result = solve(site, make_inputs(site, [30, 30], ecrs_usd_per_mw_h=[50, 50]), EXACT)
    assert result.schedule["ecrs_offer_mw"].tolist() == pytest.approx([3, 3])
    assert (result.schedule["battery_soc_mwh"] >= 2 - 1e-9).all()


def test_offer_never_exceeds_mining_battery_and_generator_headroom():
    # RRS pays far more than anything else, so the offer sits exactly at the headroom:
    # running mining + (battery power - discharge + charge) + (online capacity - output).
    site = make_site(
        grid={"import_limit_mw": 4},
        mining=mining(fleet(containers=3)),
        battery={"power_mw": 1, "energy_mwh": 4, "initial_soc_fraction": 1.0},
        generators=[
            {
                "name": "recip",
                "capacity_mw": 2,
                "min_stable_fraction": 0.5,
                "heat_rate_mmbtu_per_mwh": 10,
                "fuel_price_usd_per_mmbtu": 3,
            }
        ],
        programs={"ancillary": [{"product": "RRS", "max_mw": 50}]},
    )
    inputs = make_inputs(
        site, [20, 20, 20], HASHPRICE_60_USD_PER_MWH, rrs_usd_per_mw_h=[500, 500, 500]
    )
    schedule = solve(site, inputs, EXACT).schedule
    headroom = (
        schedule["mining_s19_power_mw"]
        + 1
        - schedule["battery_discharge_mw"]
        + schedule["battery_charge_mw"]
        + 2 * schedule["generator_recip_on"]
        - schedule["generator_recip_power_mw"]
    )
    # binding: nothing is offered that cannot be delivered, and nothing deliverable is held back
    assert schedule["rrs_offer_mw"].tolist() == pytest.approx(headroom.tolist(), abs=1e-6)
    # over the horizon at least all mining + battery power + spare generator capacity is offered
    # (a battery may move headroom between hours by charging, so per hour the split can tie)
    assert schedule["rrs_offer_mw"].sum() >= 3 * 5 - 1e-6


def test_firm_hpc_load_never_backs_an_offer_but_its_flexible_share_does():
    hpc = {
        "it_load_mw": 10,
        "pue": 1.0,
        "contract": {"kind": "colocation", "usd_per_kw_month": 100},
    }
    firm_only = {"grid": {"import_limit_mw": 20}, "hpc": hpc}
    offers = {"ancillary": [{"product": "RRS", "max_mw": 20}]}
    with pytest.raises(InputError, match=r"programs.ancillary\[0\]: RRS is offered but the site"):
        make_site(**firm_only, programs=offers)
    site = make_site(
        grid={"import_limit_mw": 20}, hpc={**hpc, "flexible_fraction": 0.2}, programs=offers
    )
    result = solve(site, make_inputs(site, [30, 30], rrs_usd_per_mw_h=[100, 100]), EXACT)
    assert result.schedule["rrs_offer_mw"].tolist() == pytest.approx([2, 2])
    assert result.kpis.hpc_availability_fraction == pytest.approx(1.0)


def test_offers_are_constant_within_each_hour():
    site = make_site(
        interval_minutes=15,
        grid={"import_limit_mw": 10},
        mining=mining(fleet(containers=3)),
        programs={"ancillary": [{"product": "RRS", "max_mw": 10}]},
    )
    # mining pays only in the first quarter of each hour; the offer must hold all hour
    prices = [20, 200, 200, 200] * 2
    inputs = make_inputs(site, prices, HASHPRICE_60_USD_PER_MWH, rrs_usd_per_mw_h=[30] * 8)
    schedule = solve(site, inputs, EXACT).schedule
    offer = schedule["rrs_offer_mw"].to_numpy().reshape(2, 4)
    assert (offer == offer[:, :1]).all()
    assert (schedule["mining_s19_power_mw"] >= schedule["rrs_offer_mw"] - 1e-6).all()


# --- P1 coincident peak, P2 demand charge ---------------------------------------------------------


def test_a_certain_coincident_peak_with_a_high_rate_empties_grid_import():
    site = make_site(
        grid={
            "import_limit_mw": 10,
            "coincident_peak": {"usd_per_mw_year": 1_000_000, "peaks_per_year": 4},
        },
        hpc={
            "it_load_mw": 2,
            "pue": 1.0,
            "contract": {"kind": "colocation", "usd_per_kw_month": 100},
        },
        mining=mining(fleet(containers=3)),
        battery={"power_mw": 5, "energy_mwh": 10, "round_trip_efficiency": 0.81},
    )
    # The peak hour runs on the battery alone (5 MW: 2 MW HPC + 3 containers); it refills
    # 5 / 0.81 MWh, as much as its 5 MW allows in the cheaper last hour, the rest in the first.
    inputs = make_inputs(
        site, [20, 20, 19], HASHPRICE_60_USD_PER_MWH, coincident_peak_weight=[0, 1, 0]
    )
    result = solve(site, inputs, EXACT)
    schedule = result.schedule
    refill_mwh = 5 / 0.81
    assert schedule["grid_import_mw"].tolist() == pytest.approx([5 + refill_mwh - 5, 0, 10])
    assert schedule["battery_discharge_mw"].tolist() == pytest.approx([0, 5, 0])
    assert schedule["mining_s19_containers_on"].tolist() == [3, 3, 3]
    assert result.kpis.hpc_availability_fraction == pytest.approx(1.0)
    assert streams(result)["coincident_peak"] == pytest.approx(0.0, abs=1e-6)


def test_coincident_peak_charge_is_the_expected_value_of_the_weights():
    site = make_site(
        grid={
            "import_limit_mw": 10,
            "coincident_peak": {"usd_per_mw_year": 48_000, "peaks_per_year": 4},
        },
        mining=mining(fleet(containers=3)),
    )
    # weight 0.01 x 12,000 USD/MW = 120 USD/MW > 40 USD/MWh margin: curtail; 0.002 -> 24: mine
    inputs = make_inputs(
        site, [20, 20], HASHPRICE_60_USD_PER_MWH, coincident_peak_weight=[0.01, 0.002]
    )
    result = solve(site, inputs, EXACT)
    assert result.schedule["mining_s19_containers_on"].tolist() == [0, 3]
    assert streams(result)["coincident_peak"] == pytest.approx(-0.002 * 12_000 * 3)


def test_demand_charge_is_paid_on_the_increase_over_the_carried_peak():
    # Each MW earns 40 USD/h x 4 h = 160 but a new MW of peak costs 200: stay off, unless the
    # month has already set a 2 MW peak, which makes the first 2 MW free.
    site = make_site(
        grid={"import_limit_mw": 10, "demand_charge": {"usd_per_mw_month": 200}},
        mining=mining(fleet(containers=3)),
    )
    inputs = make_inputs(site, [20] * 4, HASHPRICE_60_USD_PER_MWH)
    dispatcher = Dispatcher(site, EXACT)
    fresh = dispatcher.solve(inputs)
    assert fresh.schedule["mining_s19_containers_on"].tolist() == [0] * 4
    june_peak = DemandPeakState(month=(2024, 6), peak_import_mw=2.0)  # carried state (P2)
    carried = dispatcher.solve(inputs, SiteState({"grid": june_peak}))
    assert carried.schedule["mining_s19_containers_on"].tolist() == [2] * 4
    assert streams(carried)["demand_charge"] == pytest.approx(0.0, abs=1e-6)
    assert carried.kpis.net_margin_usd == pytest.approx(2 * 160)


# --- P3 fixed-price PPA --------------------------------------------------------------------------


def ppa_site(containers: int = 3, **grid):
    return make_site(
        grid={
            "import_limit_mw": 10,
            "ppa": {"volume_mw": 3, "price_usd_per_mwh": 35},
            **grid,
        },
        mining=mining(fleet(containers=containers)),
    )


def test_ppa_dispatch_follows_spot_not_the_ppa_price():
    # The block costs 35 but mining is worth 60: a PPA-price view would mine every hour. At 70
    # the unused block resells for more than mining earns, so the fleet curtails.
    site = ppa_site()
    result = solve(site, make_inputs(site, [20, 70, 50, -10], HASHPRICE_60_USD_PER_MWH), EXACT)
    schedule = result.schedule
    assert schedule["mining_s19_containers_on"].tolist() == [3, 0, 3, 3]
    assert schedule["ppa_resold_mw"].tolist() == pytest.approx([0, 3, 0, 0])
    money = streams(result)
    assert money["ppa_energy"] == pytest.approx(-35 * 3 * 4)
    assert money["power_credits"] == pytest.approx(70 * 3)
    assert money["grid_energy_purchase"] == pytest.approx(0.0, abs=1e-6)
    assert money["mining_hashprice"] == pytest.approx(60 * 3 * 3)


def test_consumption_above_the_block_is_bought_at_spot():
    site = ppa_site(containers=5, import_adder_usd_per_mwh=1.0)
    result = solve(site, make_inputs(site, [20, 30], HASHPRICE_60_USD_PER_MWH), EXACT)
    schedule = result.schedule
    assert schedule["ppa_used_mw"].tolist() == pytest.approx([3, 3])
    assert schedule["ppa_resold_mw"].tolist() == pytest.approx([0, 0])
    money = streams(result)
    # 2 MW above the block at spot plus its adder; the adder on the 3 MW block used is PPA cost
    assert money["grid_energy_purchase"] == pytest.approx(-(20 * 2 + 30 * 2) - 1.0 * 2 * 2)
    assert money["ppa_energy"] == pytest.approx(-35 * 3 * 2 - 1.0 * 3 * 2)
    basis = result.streams.set_index("stream")["basis_mwh"]
    assert basis["grid_energy_purchase"] == pytest.approx(2 * 2)  # MWh bought at spot
    assert money["power_credits"] == pytest.approx(0.0, abs=1e-6)


def test_a_ppa_moves_the_optimum_by_a_constant():
    prices = [20, 70, 50, 90]
    with_ppa, spot_only = (
        ppa_site(),
        make_site(grid={"import_limit_mw": 10}, mining=mining(fleet(containers=3))),
    )
    a = solve(with_ppa, make_inputs(with_ppa, prices, HASHPRICE_60_USD_PER_MWH), EXACT)
    b = solve(spot_only, make_inputs(spot_only, prices, HASHPRICE_60_USD_PER_MWH), EXACT)
    assert a.schedule["mining_s19_containers_on"].tolist() == (
        b.schedule["mining_s19_containers_on"].tolist()
    )
    constant = sum(3 * (p - 35) for p in prices)
    assert a.kpis.net_margin_usd - b.kpis.net_margin_usd == pytest.approx(constant)


# --- demand-response events ----------------------------------------------------------------------


def dr_site(**event):
    return make_site(
        grid={"import_limit_mw": 10},
        mining=mining(fleet(containers=3)),
        programs={
            "events": [
                {
                    "name": "peak",
                    "start": "2024-06-03T02:00:00-05:00",
                    "end": "2024-06-03T04:00:00-05:00",
                    "committed_mw": 2,
                    "usd_per_mwh": 500,
                    **event,
                }
            ]
        },
    )


def test_dr_event_against_the_scheduled_baseline():
    # baseline = import in the hour before the event (3 MW); curtailing 2 MW is paid 500/MWh;
    # a third MW is not paid and would lose mining revenue.
    site = dr_site()
    result = solve(site, make_inputs(site, [20] * 5, HASHPRICE_60_USD_PER_MWH), EXACT)
    schedule = result.schedule
    assert schedule["mining_s19_containers_on"].tolist() == [3, 3, 1, 1, 3]
    assert schedule["dr_peak_curtailed_mw"].tolist() == pytest.approx([0, 0, 2, 2, 0])
    assert streams(result)["dr_events"] == pytest.approx(500 * 2 * 2)
    assert result.kpis.net_margin_usd == pytest.approx(40 * 11 + 2000)


def test_dr_under_delivery_pays_the_penalty():
    # A fixed 2 MW baseline allows at most 2 MW of curtailment: 1 MW short of the 3 committed.
    site = dr_site(committed_mw=3, baseline="fixed", baseline_mw=2, penalty_usd_per_mwh=300)
    result = solve(site, make_inputs(site, [20] * 5, HASHPRICE_60_USD_PER_MWH), EXACT)
    schedule = result.schedule
    assert schedule["mining_s19_containers_on"].tolist() == [3, 3, 0, 0, 3]
    assert schedule["dr_peak_shortfall_mw"].tolist() == pytest.approx([0, 0, 1, 1, 0])
    assert streams(result)["dr_events"] == pytest.approx(2 * (500 * 2 - 300 * 1))


def test_dr_event_outside_the_horizon_is_an_error():
    site = dr_site(start="2024-06-04T02:00:00-05:00", end="2024-06-04T04:00:00-05:00")
    with pytest.raises(InputError, match=r"programs.events\[0\] \(peak\): .* outside the horizon"):
        make_inputs(site, [20] * 5, HASHPRICE_60_USD_PER_MWH)


def test_scheduled_baseline_needs_its_window_inside_the_horizon():
    site = dr_site(start="2024-06-03T00:00:00-05:00", end="2024-06-03T01:00:00-05:00")
    with pytest.raises(InputError, match=r"programs.events\[0\].baseline_minutes"):
        make_inputs(site, [20] * 5, HASHPRICE_60_USD_PER_MWH)


# --- X1 heat reuse, H3 flexible HPC ---------------------------------------------------------------


def test_heat_sales_keep_mining_up_to_the_heat_demand():
    # At 70 USD/MWh mining alone loses 10; half the heat sold at 40 adds 20 per MWh, but only
    # 1 MW thermal is wanted: 2 containers.
    heat = {"recovery_fraction": 0.5, "price_usd_per_mwh_thermal": 40, "max_mw_thermal": 1}
    site = make_site(
        grid={"import_limit_mw": 10}, mining=mining(fleet(containers=3)), heat_reuse=heat
    )
    result = solve(site, make_inputs(site, [70, 70], HASHPRICE_60_USD_PER_MWH), EXACT)
    assert result.schedule["mining_s19_containers_on"].tolist() == [2, 2]
    assert result.schedule["heat_sold_mw_thermal"].tolist() == pytest.approx([1, 1])
    assert streams(result)["heat_sales"] == pytest.approx(40 * 2)
    assert result.kpis.net_margin_usd == pytest.approx(2 * (2 * -10 + 40))


def test_flexible_hpc_defers_work_out_of_a_price_spike():
    # 8 MW required of a 10 MW hall: 20% (1.6 MW) is shifted out of the 500 USD/MWh hour and
    # made up in the cheap hour of the same 2-hour window.
    site = make_site(
        grid={"import_limit_mw": 20},
        hpc={
            "it_load_mw": 10,
            "pue": 1.0,
            "contract": {"kind": "colocation", "usd_per_kw_month": 100},
            "flexible_fraction": 0.2,
            "flexible_window_minutes": 120,
            "deferral_cost_usd_per_mwh": 10,
        },
    )
    inputs = make_inputs(site, [20, 500], hpc_utilization_fraction=[0.8, 0.8])
    result = solve(site, inputs, EXACT)
    schedule = result.schedule
    assert schedule["hpc_served_mw"].tolist() == pytest.approx([9.6, 6.4])
    assert schedule["hpc_deferred_mw"].tolist() == pytest.approx([0, 1.6])
    assert streams(result)["hpc_deferral"] == pytest.approx(-16)
    assert result.kpis.hpc_availability_fraction == pytest.approx(1.0)  # only firm unserved counts


def test_dr_windows_as_data_re_solve_on_the_persistent_model():
    # The site file's event sets the first window; later horizons bring the window as data.
    site = dr_site()
    dispatcher = Dispatcher(site, EXACT)
    first = make_inputs(site, [20] * 5, HASHPRICE_60_USD_PER_MWH)
    assert dispatcher.solve(first).schedule["dr_peak_curtailed_mw"].tolist() == pytest.approx(
        [0, 0, 2, 2, 0]
    )
    moved = make_inputs(
        site,
        [20] * 5,
        HASHPRICE_60_USD_PER_MWH,
        start="2024-06-04",
        dr_peak_active_fraction=[0, 0, 0, 1, 0],
        dr_peak_baseline_fraction=[0, 0, 1, 0, 0],
    )
    resolved = dispatcher.solve(moved)
    assert dispatcher.models_built + dispatcher.models_from_cache == 1
    assert resolved.schedule["mining_s19_containers_on"].tolist() == [3, 3, 3, 1, 3]
    assert resolved.kpis.net_margin_usd == pytest.approx(
        solve(site, moved, EXACT).kpis.net_margin_usd
    )


def test_backup_larger_than_the_hpc_load_frees_no_battery_energy_for_offers():
    # 20 MW of backup covers the 10 MW HPC ride-through, so H2 asks nothing of the battery; it
    # must still hold every MWh of RRS it backs (sustain 60 min) and starts empty.
    site = make_site(
        grid={"import_limit_mw": 30},
        hpc={
            "it_load_mw": 10,
            "pue": 1.0,
            "contract": {"kind": "colocation", "usd_per_kw_month": 0},
            "ride_through_minutes": 60,
        },
        generators=[
            {
                "name": "backup",
                "capacity_mw": 20,
                "heat_rate_mmbtu_per_mwh": 9,
                "fuel_price_usd_per_mmbtu": 3,
                "role": "backup",
            }
        ],
        battery={
            "power_mw": 10,
            "energy_mwh": 10,
            "round_trip_efficiency": 1.0,
            "initial_soc_fraction": 0.0,
        },
        programs={"ancillary": [{"product": "RRS", "max_mw": 10, "sustain_minutes": 60}]},
    )
    inputs = make_inputs(site, [30.0] * 6, rrs_usd_per_mw_h=[50.0] * 6)
    schedule = solve(site, inputs, EXACT).schedule
    assert schedule["rrs_offer_mw"].max() > 0  # it does sell, once charged
    assert (schedule["rrs_offer_mw"] <= schedule["battery_soc_mwh"] + 1e-6).all()
