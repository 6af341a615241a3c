"""The market and program example sites on real ERCOT days, checked against what they must show."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from conftest import SITES
from independent import mismatches

from dispatch import InputError, load_inputs, load_site, solve
from dispatch.inputs.programs import historical_peaks_table

SPIKE_DAY = "2023-08-17"  # HB_WEST real-time above 1,000 USD/MWh for most of 13:45-20:30 CDT
CALM_DAY = "2023-05-09"  # HB_WEST real-time between 2.6 and 30 USD/MWh all day
CP_DAY = "2023-08-10"  # ERCOT's August 2023 coincident peak: record load in the 17:00 CDT hour


def money(result) -> pd.Series:
    return result.streams.set_index("stream")["usd"]


def test_the_derived_4cp_hours_are_the_summer_load_peaks():
    peaks = historical_peaks_table()
    assert len(peaks) == 12  # June-September of 2022, 2023, 2024
    in_2023 = peaks[peaks.index.year == 2023]
    assert [str(t.date()) for t in in_2023.index] == [
        "2023-06-27",
        "2023-07-31",
        "2023-08-10",
        "2023-09-08",
    ]
    assert in_2023.loc["2023-08-10", "ercot_load_mw"].iloc[0] == pytest.approx(85_433, abs=1)
    assert (in_2023.index.hour >= 16).all() and (in_2023.index.hour <= 17).all()


def test_ppa_miner_curtails_through_the_spike_and_earns_more_from_credits():
    site = load_site(SITES / "ppa_power_credits.yaml")
    result = solve(site, load_inputs(site, SPIKE_DAY))
    schedule = result.schedule
    spike = schedule["price_usd_per_mwh"] > 1000
    assert spike.sum() >= 20
    mining_mw = schedule["mining_s19xp_power_mw"] + schedule["mining_s19j_power_mw"]
    assert (mining_mw[spike] == 0).all()
    assert schedule.loc[spike, "ppa_resold_mw"].to_numpy() == pytest.approx(300)
    assert mismatches(site, result) == []
    streams = money(result)
    assert streams["power_credits"] > streams["mining_hashprice"] > 0


def test_ppa_miner_mines_around_the_clock_on_a_calm_day():
    site = load_site(SITES / "ppa_power_credits.yaml")
    result = solve(site, load_inputs(site, CALM_DAY))
    schedule = result.schedule
    assert (schedule["mining_s19xp_containers_on"] == 80).all()
    assert (schedule["mining_s19j_containers_on"] == 70).all()
    assert money(result)["power_credits"] == pytest.approx(0.0, abs=1e-6)


def test_hybrid_cuts_grid_import_in_the_4cp_interval_and_keeps_the_hpc_safe():
    site = load_site(SITES / "west_texas_hybrid.yaml")
    inputs = load_inputs(site, CP_DAY)
    peak = inputs.frame["coincident_peak_weight"] > 0
    assert peak.sum() == 4  # the four quarter-hours of 17:00-18:00 CDT, weight 0.25 each
    assert inputs.frame.loc[peak, "coincident_peak_weight"].tolist() == [0.25] * 4
    result = solve(site, inputs)
    assert mismatches(site, result) == []  # the 4CP charge of real 15-minute weights, by hand
    assert result.streams.set_index("stream").loc["coincident_peak", "usd"] < 0
    schedule = result.schedule
    hpc_mw, battery_mw = site.hpc.facility_load_mw, site.battery.power_mw
    # the least import that keeps the HPC up: its load less a full battery discharge
    assert schedule.loc[peak, "grid_import_mw"].to_numpy() == pytest.approx(hpc_mw - battery_mw)
    assert result.kpis.hpc_availability_fraction == pytest.approx(1.0)
    above_min = (
        schedule["battery_soc_mwh"] - site.battery.min_soc_fraction * site.battery.energy_mwh
    )
    assert (above_min >= site.ride_through_energy_mwh() - 1e-6).all()
    # without 4CP the same day imports more in that hour
    plain = site.model_copy(update={"grid": site.grid.model_copy(update={"coincident_peak": None})})
    baseline = solve(plain, load_inputs(plain, CP_DAY)).schedule
    assert baseline.loc[peak, "grid_import_mw"].mean() > schedule.loc[peak, "grid_import_mw"].mean()


def test_hybrid_offers_are_hourly_and_deliverable_on_real_prices():
    site = load_site(SITES / "west_texas_hybrid.yaml")
    result = solve(site, load_inputs(site, SPIKE_DAY))
    schedule = result.schedule
    offers = schedule[["rrs_offer_mw", "ecrs_offer_mw", "nspin_offer_mw"]]
    hourly = offers.to_numpy().reshape(24, 4, 3)
    assert np.abs(hourly - hourly[:, :1, :]).max() < 1e-9
    headroom = (
        schedule["mining_s21_power_mw"]
        + schedule["mining_s19_power_mw"]
        + site.battery.power_mw
        - schedule["battery_discharge_mw"]
        + schedule["battery_charge_mw"]
    )
    assert (offers.sum(axis=1) <= headroom + 1e-6).all()
    assert (offers.max() <= 60 + 1e-9).all()
    assert result.kpis.ancillary_usd > 0
    assert result.streams["usd"].sum() == pytest.approx(
        result.kpis.objective_usd, rel=1e-9, abs=1e-6
    )


def test_offering_ecrs_before_its_launch_is_an_error_not_zero():
    site = load_site(SITES / "west_texas_hybrid.yaml")
    with pytest.raises(InputError) as caught:
        load_inputs(site, "2023-06-01")
    message = str(caught.value)
    assert message.startswith("programs.ancillary[1].product: ECRS is offered but has no price")
    assert "launched ECRS on 2023-06-10" in message
    load_inputs(site, dt.date(2023, 6, 10))  # the launch day itself has prices


def test_nordic_heat_reuse_sells_heat_and_mines_more_for_it():
    site = load_site(SITES / "nordic_heat_reuse.yaml")
    day = "2024-01-15"  # January 2024 cold snap at HB_PAN
    result = solve(site, load_inputs(site, day))
    schedule = result.schedule
    heat = schedule["heat_sold_mw_thermal"]
    mining_mw = schedule["mining_s19hydro_power_mw"]
    assert (heat <= site.heat_reuse.recovery_fraction * mining_mw + 1e-6).all()
    assert (heat <= site.heat_reuse.max_mw_thermal + 1e-6).all()
    assert money(result)["heat_sales"] > 0
    cold = site.model_copy(update={"heat_reuse": None})
    without = solve(cold, load_inputs(cold, day))
    assert result.kpis.mining_energy_mwh > without.kpis.mining_energy_mwh + 1
    assert result.kpis.net_margin_usd > without.kpis.net_margin_usd
