"""A known-answer test for every constraint tag of the README's formulation, each written so that
removing the constraint, or moving its window by one interval, changes the answer.

Tiny cases with one optimum; expected values derived by hand in the comments (tolerance 1e-6).
A 1 MW, 25 J/TH container at 36 USD/PH/day and no pool fee earns 60 USD per MWh consumed.
"""

from __future__ import annotations

import pytest
from conftest import fleet, make_inputs, make_site, mining

from dispatch import solve
from dispatch.solver import SolveOptions

EXACT = SolveOptions(mip_rel_gap=0.0)
HASHPRICE_60_USD_PER_MWH = 36.0
COLOCATION = {"kind": "colocation", "usd_per_kw_month": 100}


def money(result) -> dict[str, float]:
    return result.streams.set_index("stream")["usd"].to_dict()


# --- U1 generators ------------------------------------------------------------------------------

# a 10 MW unit burning 10 MMBtu/MWh at 5 USD/MMBtu (50 USD/MWh), ramping 0.05 MW/min = 3 MW/h
RECIP_50_USD_PER_MWH = {
    "name": "recip",
    "capacity_mw": 10,
    "min_stable_fraction": 0.3,
    "heat_rate_mmbtu_per_mwh": 10.0,
    "fuel_price_usd_per_mmbtu": 5.0,
    "ramp_mw_per_minute": 0.05,
}


def test_u1_ramp_limits_a_unit_that_stays_on():
    # Off grid, the unit alone serves a 10 MW hall at 50 % then 100 % utilization. It may ramp
    # 0.05 MW/min = 3 MW per hour, so it goes 5 -> 8 MW and 2 MW of the hall is not served
    # (20,000 USD/MWh). Without the ramp limit it would follow 5 -> 10; a start and a stop in the
    # same interval (a unit that stays on) must not buy ramp relief either.
    unit = {**RECIP_50_USD_PER_MWH, "startup_cost_usd": 100}
    site = make_site(
        market=None, hpc={"it_load_mw": 10, "pue": 1.0, "contract": COLOCATION}, generators=[unit]
    )
    result = solve(site, make_inputs(site, n=2, hpc_utilization_fraction=[0.5, 1.0]), EXACT)
    schedule = result.schedule
    assert schedule["generator_recip_power_mw"].tolist() == pytest.approx([5, 8])
    assert schedule["hpc_unserved_mw"].tolist() == pytest.approx([0, 2], abs=1e-9)
    streams = money(result)
    assert streams["generator_startups"] == pytest.approx(-100)  # one start, not 1.2
    assert streams["hpc_sla_penalty"] == pytest.approx(-2 * 20_000)
    assert streams["fuel"] == pytest.approx(-50 * 13)


def test_u1_ramp_down_limits_a_unit_that_stays_on():
    # The unit (fuel 10 MMBtu/MWh x 5 = 50 USD/MWh) serves a 10 MW hall at 100 % then 50 %,
    # with no export. Staying on it could only ramp 10 -> 7 MW (3 MW per hour) while the hall
    # takes 5, so it stops and the grid serves the 5 MW at 100: fuel 500, energy 500. Were the
    # ramp down free for a unit that stays on, it would follow 10 -> 5 (fuel 750, no purchase).
    unit = RECIP_50_USD_PER_MWH
    site = make_site(
        grid={"import_limit_mw": 20},
        hpc={"it_load_mw": 10, "pue": 1.0, "contract": COLOCATION},
        generators=[unit],
    )
    inputs = make_inputs(site, [1000, 100], hpc_utilization_fraction=[1.0, 0.5])
    result = solve(site, inputs, EXACT)
    assert result.schedule["generator_recip_power_mw"].tolist() == pytest.approx([10, 0])
    assert result.schedule["grid_import_mw"].tolist() == pytest.approx([0, 5])
    streams = money(result)
    assert streams["fuel"] == pytest.approx(-500)
    assert streams["grid_energy_purchase"] == pytest.approx(-500)


# --- G2 no simultaneous import and export ----------------------------------------------------------


def test_g2_no_import_and_export_at_once_with_a_negative_adder():
    # A -2 USD/MWh adder pays 2 per MWh imported and exported at once; G2 forbids it, so the grid
    # only feeds the 3 containers when mining pays (30 - 2 < 60) and stays idle at 80.
    site = make_site(
        grid={"import_limit_mw": 10, "export_limit_mw": 10, "import_adder_usd_per_mwh": -2},
        mining=mining(fleet(containers=3)),
    )
    result = solve(site, make_inputs(site, [30, 80], HASHPRICE_60_USD_PER_MWH), EXACT)
    assert result.schedule["grid_import_mw"].tolist() == pytest.approx([3, 0])
    assert result.schedule["grid_export_mw"].tolist() == pytest.approx([0, 0])
    assert result.kpis.net_margin_usd == pytest.approx(3 * (60 - 28))


# --- M3 switching windows on counts --------------------------------------------------------------


@pytest.mark.parametrize(
    ("min_on_minutes", "on"),
    [
        # 70 loses 10 per MWh, 200 loses 140: a start at t1 worth 3 x 40 pays for staying on
        # through t2 (U = 2 intervals) but not through t3 as well (U = 3); U = 1: off at t2
        (60, [0, 3, 0, 0, 3]),
        (120, [0, 3, 3, 0, 3]),
        (180, [0, 0, 0, 0, 3]),
    ],
)
def test_m3_min_on_window_counts_whole_intervals(min_on_minutes, on):
    site = make_site(
        grid={"import_limit_mw": 10},
        mining=mining(fleet(containers=3, min_on_minutes=min_on_minutes)),
    )
    result = solve(site, make_inputs(site, [200, 20, 70, 200, 20], HASHPRICE_60_USD_PER_MWH), EXACT)
    assert result.schedule["mining_s19_containers_on"].tolist() == on


@pytest.mark.parametrize(
    ("min_off_minutes", "on", "margin"),
    [
        # stopping for the 200 hour keeps the fleet off for D intervals: D = 2 loses the +10 hour
        # at 50; D = 3 the 45-per-MWh hour at 15 too, so it stops at once and restarts at t3
        (60, [3, 0, 3, 3], 3 * (40 + 10 + 45)),
        (120, [3, 0, 0, 3], 3 * (40 + 45)),
        (180, [0, 0, 0, 3], 3 * 45),
    ],
)
def test_m3_min_off_window_counts_whole_intervals(min_off_minutes, on, margin):
    site = make_site(
        grid={"import_limit_mw": 10},
        mining=mining(fleet(containers=3, min_off_minutes=min_off_minutes)),
    )
    result = solve(site, make_inputs(site, [20, 200, 50, 15], HASHPRICE_60_USD_PER_MWH), EXACT)
    assert result.schedule["mining_s19_containers_on"].tolist() == on
    assert result.kpis.net_margin_usd == pytest.approx(margin)


# --- H3 flexible HPC windows ---------------------------------------------------------------------


def flexible_hpc_site(window_minutes: float):
    return make_site(
        grid={"import_limit_mw": 20},
        hpc={
            "it_load_mw": 10,
            "pue": 1.0,
            "contract": COLOCATION,
            "flexible_fraction": 0.2,
            "flexible_window_minutes": window_minutes,
            "deferral_cost_usd_per_mwh": 10,
        },
    )


@pytest.mark.parametrize(
    ("window_minutes", "served"),
    [
        # 8 MW required of a 10 MW hall; up to 1.6 MW deferred, made up below 10 MW. Windows of
        # 2 hours from midnight, [t0, t1] and [t2, t3]: the 500 hour's work is made up at t0
        # (100); a 3-hour window [t0, t1, t2] makes it up at 20 (and moves t0's too); 1 hour:
        # nothing can move.
        (60, [8, 8, 8, 8]),
        (120, [9.6, 6.4, 8, 8]),
        (180, [7.6, 6.4, 10, 8]),
    ],
)
def test_h3_deferred_work_is_made_up_within_its_window(window_minutes, served):
    site = flexible_hpc_site(window_minutes)
    inputs = make_inputs(site, [100, 500, 20, 20], hpc_utilization_fraction=[0.8] * 4)
    result = solve(site, inputs, EXACT)
    assert result.schedule["hpc_served_mw"].tolist() == pytest.approx(served)
    assert result.kpis.hpc_availability_fraction == pytest.approx(1.0)


# --- A1 ancillary offers ---------------------------------------------------------------------------


def rrs_battery_site(power_mw: float, energy_mwh: float, initial_soc_fraction: float):
    return make_site(
        grid={"import_limit_mw": 20},
        battery={
            "power_mw": power_mw,
            "energy_mwh": energy_mwh,
            "round_trip_efficiency": 0.81,  # 0.9 each way
            "initial_soc_fraction": initial_soc_fraction,
        },
        # no expected deployment: the hand numbers below are the capacity and the sustain only
        programs={
            "ancillary": [
                {
                    "product": "RRS",
                    "max_mw": 20,
                    "sustain_minutes": 60,
                    "expected_deployment_fraction": 0,
                }
            ]
        },
    )


def test_a1_battery_backs_what_its_energy_sustains_after_discharge_losses():
    # 8 MWh stored; sustaining x MW for 1 h draws x / 0.9 MWh, so x = 7.2 MW (not 8)
    site = rrs_battery_site(power_mw=10, energy_mwh=8, initial_soc_fraction=1.0)
    result = solve(site, make_inputs(site, [30, 30], rrs_usd_per_mw_h=[50, 50]), EXACT)
    assert result.schedule["rrs_offer_mw"].tolist() == pytest.approx([7.2, 7.2])
    assert result.schedule["rrs_backed_by_battery_mw"].tolist() == pytest.approx([7.2, 7.2])
    assert money(result)["ancillary_rrs"] == pytest.approx(50 * 7.2 * 2)


def test_a1_a_charging_battery_offers_its_charge_and_its_discharge_power():
    # A 1 MW battery charging at 1 MW can deliver 2 MW on deployment (stop charging, discharge):
    # charging at 10 USD/MWh to offer 2 MW at 50 beats idling with a 1 MW offer.
    site = rrs_battery_site(power_mw=1, energy_mwh=10, initial_soc_fraction=0.5)
    result = solve(site, make_inputs(site, [10, 10], rrs_usd_per_mw_h=[50, 50]), EXACT)
    assert result.schedule["battery_charge_mw"].tolist() == pytest.approx([1, 1])
    assert result.schedule["rrs_offer_mw"].tolist() == pytest.approx([2, 2])
    assert result.kpis.net_margin_usd == pytest.approx(2 * 2 * 50 - 2 * 10)


# --- P1 coincident peak on 15-minute and hourly sites ----------------------------------------------


@pytest.mark.parametrize("interval_minutes", [60, 15])
def test_p1_charge_is_the_same_on_hourly_and_15_minute_sites(interval_minutes):
    # Peak probability 0.01 in the first hour, 0.002 in the second, spread evenly over the
    # hour's intervals. 12,000 USD/MW per peak: 0.01 costs 120 per MW > 40 margin (curtail);
    # 0.002 costs 24 (mine): charge 0.002 x 12,000 x 3 MW = 72 USD whatever the interval length.
    site = make_site(
        interval_minutes=interval_minutes,
        grid={
            "import_limit_mw": 10,
            "coincident_peak": {"usd_per_mw_year": 48_000, "peaks_per_year": 4},
        },
        mining=mining(fleet(containers=3)),
    )
    per_hour = 60 // interval_minutes
    weights = [0.01 / per_hour] * per_hour + [0.002 / per_hour] * per_hour
    inputs = make_inputs(
        site, [20] * 2 * per_hour, HASHPRICE_60_USD_PER_MWH, coincident_peak_weight=weights
    )
    result = solve(site, inputs, EXACT)
    assert result.schedule["mining_s19_containers_on"].tolist() == [0] * per_hour + [3] * per_hour
    assert money(result)["coincident_peak"] == pytest.approx(-72)
    assert result.kpis.net_margin_usd == pytest.approx(3 * 40 - 72)


# --- DR scheduled baseline -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("baseline_minutes", "on"),
    [
        # event 03:00-05:00, 2 MW committed at 500 USD/MWh. The baseline is the MEAN metered
        # import over the window before the event: 1 h = t2 (3 MW running: curtail to 1);
        # 2 h = t1, t2 (running 1 container at 200 raises the mean to 2 and allows curtailing
        # to 0); 3 h = t0..t2: (0 + 3 + 3) / 3 = 2 with the fleet running at t1.
        (60, [0, 0, 3, 1, 1, 3]),
        (120, [0, 1, 3, 0, 0, 3]),
        (180, [0, 3, 3, 0, 0, 3]),
    ],
)
def test_dr_scheduled_baseline_is_the_mean_over_its_window(baseline_minutes, on):
    site = make_site(
        grid={"import_limit_mw": 10},
        mining=mining(fleet(containers=3)),
        programs={
            "events": [
                {
                    "name": "peak",
                    "start": "2024-06-03T03:00:00-05:00",
                    "end": "2024-06-03T05:00:00-05:00",
                    "committed_mw": 2,
                    "usd_per_mwh": 500,
                    "baseline_minutes": baseline_minutes,
                }
            ]
        },
    )
    inputs = make_inputs(site, [200, 200, 20, 20, 20, 20], HASHPRICE_60_USD_PER_MWH)
    result = solve(site, inputs, EXACT)
    assert result.schedule["mining_s19_containers_on"].tolist() == on
    assert result.schedule["dr_peak_curtailed_mw"].tolist() == pytest.approx([0, 0, 0, 2, 2, 0])
    assert money(result)["dr_events"] == pytest.approx(2 * 2 * 500)


def test_dr_fixed_baseline_above_the_grid_limit_is_used_as_given(caplog):
    # The program's baseline (5 MW) exceeds the 2 MW connection: curtailment is measured
    # against it all the same (3 MW committed: 5 - 2 MW running = 3), with no solver warning.
    site = make_site(
        grid={"import_limit_mw": 2},
        mining=mining(fleet(containers=2)),
        programs={
            "events": [
                {
                    "name": "peak",
                    "start": "2024-06-03T01:00:00-05:00",
                    "end": "2024-06-03T02:00:00-05:00",
                    "committed_mw": 3,
                    "usd_per_mwh": 500,
                    "baseline": "fixed",
                    "baseline_mw": 5,
                }
            ]
        },
    )
    result = solve(site, make_inputs(site, [20, 20, 20], HASHPRICE_60_USD_PER_MWH), EXACT)
    assert result.schedule["mining_s19_containers_on"].tolist() == [2, 2, 2]
    assert result.schedule["dr_peak_curtailed_mw"].tolist() == pytest.approx([0, 3, 0])
    assert not [r for r in caplog.records if r.levelname == "WARNING"]
