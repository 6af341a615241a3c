"""Every example site on real stress days, checked against invariants (not copied output)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SITES, balance_residual_mw
from independent import mismatches
from physics import violations

from dispatch import load_inputs, load_site, solve
from dispatch.solver import SolveOptions

DAYS = {
    "2023-08-17": "August 2023 heat wave, HB_WEST RT peak 5,237 USD/MWh",
    "2021-02-15": "Winter Storm Uri, RT prices near the 9,000 USD/MWh cap",
}
ANCILLARY_PRICES_START = "2022-01-01"  # bundled ERCOT DAM AS prices; ECRS only from 2023-06-10


def without_offers(site):
    """The same site with no ancillary offers: for days before the bundled AS prices (Uri)."""
    programs = site.programs.model_copy(update={"ancillary": []}) if site.programs else None
    return site.model_copy(update={"programs": programs})


@pytest.mark.parametrize("day", sorted(DAYS))
@pytest.mark.parametrize("path", sorted(SITES.glob("*.yaml")), ids=lambda p: p.stem)
def test_example_site_on_a_real_stress_day(path, day):
    site = load_site(path)
    if day < ANCILLARY_PRICES_START:
        site = without_offers(site)
    result = solve(site, load_inputs(site, day))
    schedule = result.schedule
    assert result.kpis.status == "optimal"
    assert len(schedule) == 24 * 60 // site.interval_minutes
    assert np.abs(balance_residual_mw(schedule)).max() < 1e-6
    assert result.streams["usd"].sum() == pytest.approx(
        result.kpis.objective_usd, rel=1e-9, abs=1e-6
    )
    # every stream and KPI recomputed from the site file and the schedule alone
    assert mismatches(site, result) == []
    assert violations(site, schedule) == []
    if site.hpc is not None:
        assert result.kpis.hpc_availability_fraction == pytest.approx(1.0)
    if site.battery is not None:
        above_min = (
            schedule["battery_soc_mwh"] - site.battery.min_soc_fraction * site.battery.energy_mwh
        )
        assert (above_min >= site.ride_through_energy_mwh() - 1e-6).all()
        assert (
            schedule["battery_soc_mwh"].iloc[-1]
            >= site.battery.initial_soc_fraction * site.battery.energy_mwh - 1e-6
        )
    for fleet in site.fleets:
        power = schedule[f"mining_{fleet.name}_power_mw"]
        assert (power <= fleet.capacity_mw * fleet.power_range_fraction[1] + 1e-6).all()
    for generator in site.generators:
        fuel = schedule[f"generator_{generator.name}_fuel_mmbtu"].sum()
        if generator.fuel_limit_mmbtu_per_day is not None:
            assert fuel <= generator.fuel_limit_mmbtu_per_day + 1e-6


@pytest.mark.parametrize("offers", [False, True], ids=["energy_only", "with_offers"])
def test_hybrid_curtails_mining_through_the_evening_spike(offers):
    site = load_site(SITES / "west_texas_hybrid.yaml")
    if not offers:
        site = without_offers(site)
    result = solve(site, load_inputs(site, "2023-08-17"))
    schedule = result.schedule
    spike = schedule["price_usd_per_mwh"] > 1000
    assert spike.sum() > 8
    mining_mw = schedule["mining_s21_power_mw"] + schedule["mining_s19_power_mw"]
    if offers:
        # ECRS cleared at 1,800-2,650 USD/MW-h that evening: a few containers keep running in
        # the spike, but only as much as backs the hour's offers (consuming to be curtailable)
        offered = schedule[["rrs_offer_mw", "ecrs_offer_mw", "nspin_offer_mw"]].sum(axis=1)
        assert (mining_mw[spike] <= offered[spike] + 1e-6).all()
        assert mining_mw[spike].mean() < 0.05 * mining_mw[~spike].mean()
    else:
        assert (mining_mw[spike] == 0).all()
    cheap = schedule["price_usd_per_mwh"] < 60
    assert (schedule.loc[cheap, "mining_s21_containers_on"] == 40).all()
    # the battery sells into the spike: discharging in the most expensive interval
    assert schedule.loc[schedule["price_usd_per_mwh"].idxmax(), "battery_discharge_mw"] > 0


def test_uri_shuts_all_mining_and_keeps_the_hpc_up():
    site = without_offers(load_site(SITES / "west_texas_hybrid.yaml"))
    result = solve(site, load_inputs(site, "2021-02-15"))
    assert result.kpis.mining_energy_mwh == pytest.approx(0, abs=1e-9)
    assert result.kpis.hpc_sla_met


def test_flare_gas_site_burns_its_daily_gas_into_hashrate():
    site = load_site(SITES / "flare_gas_offgrid.yaml")
    result = solve(site, load_inputs(site, "2023-08-17"))
    budget = sum(g.fuel_limit_mmbtu_per_day for g in site.generators)
    fuel = sum(result.schedule[f"generator_{g.name}_fuel_mmbtu"].sum() for g in site.generators)
    assert fuel == pytest.approx(budget, rel=1e-6)  # gas is cheap, hashrate is not: use it all
    assert result.kpis.net_margin_usd > 0


def test_hourly_variant_gives_the_15_minute_answer_on_day_ahead_prices():
    campus = load_site(SITES / "west_texas_hybrid.yaml")
    # the hourly variant is the energy-only campus: no ancillary offers, no 4CP
    quarter_hourly = campus.model_copy(
        update={"programs": None, "grid": campus.grid.model_copy(update={"coincident_peak": None})}
    )
    hourly = load_site(SITES / "west_texas_hybrid_hourly.yaml")
    exact = SolveOptions(mip_rel_gap=0.0)
    fine = solve(
        quarter_hourly, load_inputs(quarter_hourly, "2023-08-17", prices="ercot_dam_spp"), exact
    )
    coarse = solve(hourly, load_inputs(hourly, "2023-08-17"), exact)
    assert coarse.sources["price_usd_per_mwh"] == "bundled ercot_dam_spp HB_WEST"
    assert coarse.kpis.net_margin_usd == pytest.approx(fine.kpis.net_margin_usd, rel=1e-9)
