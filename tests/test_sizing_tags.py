"""A known-answer test for each sizing constraint SZ1-SZ6 (SZ7, the ride-through at the start of
each day: test_sizing_model.py::test_sizing_keeps_the_hpc_ride_through_h2), each on a case where
the constraint binds, so that removing it changes the plan.

The toy site of test_sizing_model.py: 10 MW of interconnection at 40 USD/MWh, ten existing 1 MW
containers, an HPC hall (PUE 1, 100 USD/kW-month) to retrofit at 1 M USD/MW or build new at
3 M USD/MW (10 years, 10 %: capital recovery factor 0.162745). Per MW and year at 60 USD/PH/day:

* HPC retrofit:  1.2e6 - 350,400 - 162,745  = 686,855 USD
* HPC new build: 1.2e6 - 350,400 - 488,235  = 361,365 USD
* mining:        60 x 40 x 365 - 350,400     = 525,600 USD (1,401,600 at 120 USD/PH/day)
"""

from __future__ import annotations

import time

import pytest
from conftest import fleet, make_site, mining
from test_sizing_model import CRF, N_YEARS, OPTIONS, toy_days, toy_site

from dispatch.errors import SolveError
from dispatch.sizing.model import optimize
from dispatch.sizing.plan import Planning

CONTRACT = 100 * 1000 * 12  # USD per MW IT and year
ENERGY = 40 * 8760  # USD per MW and year at 40 USD/MWh
RETROFIT = CONTRACT - ENERGY - 1e6 * CRF
NEW_BUILD = CONTRACT - ENERGY - 3e6 * CRF
MINING = 60 * 40 * 365 - ENERGY


def sized(site, hashprice: float = 60.0):
    planning = Planning(site)
    return optimize(planning, toy_days(planning.site, hashprice=hashprice), N_YEARS, OPTIONS)


def with_sizing(**changes):
    """The toy site's sizing section with ``changes`` merged into it (one level deep)."""
    sizing = toy_site().sizing.model_dump()
    for key, value in changes.items():
        merge = isinstance(value, dict) and sizing.get(key) is not None
        sizing[key] = {**sizing[key], **value} if merge else value
    return sizing


@pytest.mark.parametrize(
    ("hpc", "hpc_mw", "containers"),
    [
        # SZ1 cap: 7 MW IT at most, the other 3 MW stay mining
        ({"max_it_mw": 7}, 7, 3),
        # SZ1 blocks: whole 3 MW halls, so 9 MW (not 10) and one container keeps running
        ({"block_it_mw": 3}, 9, 1),
    ],
)
def test_sz1_hpc_within_its_cap_and_in_whole_blocks(hpc, hpc_mw, containers):
    solution = sized(toy_site(sizing=with_sizing(hpc=hpc)))
    assert solution.plan.hpc_it_mw == pytest.approx(hpc_mw)
    assert solution.plan.containers == {"s19": containers}
    expected = hpc_mw * RETROFIT + containers * MINING
    assert solution.objective_usd_per_year == pytest.approx(expected, rel=1e-6)


def test_sz1_the_cap_holds_for_both_routes_together():
    # At 20 USD/PH/day a container loses 20 x 40 x 365 - 350,400 = -58,400 USD per MW-year, so
    # only HPC pays: the five container halls are retrofitted (the better route) and new build
    # adds the last 2 MW of the 7 MW cap. Each route alone stays within 7 MW; only SZ1's sum
    # stops new build at 2. The SLA penalty (60 USD/MWh) makes serving the hall (40 USD/MWh)
    # worth it, yet leaves a hall beyond the cap worth building though it could never be served
    # (the site's HPC load is at most max_it_mw): 1.2e6 - 488,235 - 60 x 8760 = 186,165 USD per
    # MW-year, so without SZ1 the plan would fill the 10 MW connection.
    hpc = {"it_load_mw": 1, "pue": 1.0, "contract": {"kind": "colocation", "usd_per_kw_month": 100}}
    site = toy_site(
        hpc={**hpc, "sla_penalty_usd_per_mwh": 60},
        mining=mining(fleet("s19", 5)),
        sizing=with_sizing(hpc={"max_it_mw": 7}),
    )
    solution = sized(site, hashprice=20.0)
    plan = solution.plan
    assert plan.hpc_retrofit_it_mw == pytest.approx(5)
    assert plan.hpc_new_build_it_mw == pytest.approx(2)
    assert plan.hpc_it_mw == pytest.approx(7)
    assert plan.containers == {"s19": 0}
    assert solution.objective_usd_per_year == pytest.approx(5 * RETROFIT + 2 * NEW_BUILD, rel=1e-6)


def test_sz2_retrofit_only_into_retired_container_halls():
    # five containers to retire: 5 MW retrofit; the other 5 MW is new build (361,365 > 0)
    solution = sized(toy_site(mining=mining(fleet("s19", 5))))
    plan = solution.plan
    assert plan.hpc_retrofit_it_mw == pytest.approx(5)
    assert plan.hpc_new_build_it_mw == pytest.approx(5)
    assert plan.containers == {"s19": 0}
    assert solution.objective_usd_per_year == pytest.approx(5 * RETROFIT + 5 * NEW_BUILD, rel=1e-6)


@pytest.mark.parametrize(
    ("hashprice", "hpc_mw", "containers", "per_mw"),
    [(60.0, 8, 0, RETROFIT), (120.0, 0, 8, 120 * 40 * 365 - ENERGY)],
)
def test_sz3_hpc_and_mining_share_the_site_load_limit(hashprice, hpc_mw, containers, per_mw):
    # 8 MW of site load on a 10 MW connection: the better use takes all 8 MW, the rest is idle
    solution = sized(toy_site(sizing=with_sizing(max_site_load_mw=8)), hashprice)
    assert solution.plan.hpc_it_mw == pytest.approx(hpc_mw, abs=1e-6)
    assert solution.plan.containers == {"s19": containers}
    assert solution.objective_usd_per_year == pytest.approx(8 * per_mw, rel=1e-6)


def test_sz4_firm_hpc_load_fits_the_firm_supply():
    # A colocation tenant pays for capacity whether served or not, and this SLA costs nothing, so
    # an unserved hall still earns the contract: the plan builds 10 MW of HPC new (keeping the ten
    # containers mining the 10 MW connection) and, without SZ4, would build up to 15 MW.
    hpc = {"it_load_mw": 1, "pue": 1.0, "contract": {"kind": "colocation", "usd_per_kw_month": 100}}
    site = toy_site(
        hpc={**hpc, "sla_penalty_usd_per_mwh": 0},
        sizing=with_sizing(max_site_load_mw=20, hpc={"max_it_mw": 15}),
    )
    solution = sized(site)
    assert solution.plan.hpc_it_mw == pytest.approx(10)
    assert solution.plan.hpc_new_build_it_mw == pytest.approx(10)
    assert solution.plan.containers == {"s19": 10}
    unserved_hall = CONTRACT - 3e6 * CRF
    expected = 10 * unserved_hall + 10 * MINING
    assert solution.objective_usd_per_year == pytest.approx(expected, rel=1e-6)


def test_sz5_a_fleet_keeps_its_minimum_count():
    mining_sizing = {
        "fixed_om_usd_per_mw_year": 0,
        "fleets": [{"name": "s19", "min_containers": 4}],
    }
    started = time.perf_counter()
    solution = sized(toy_site(sizing=with_sizing(mining=mining_sizing)))
    assert 0 <= solution.build_seconds <= time.perf_counter() - started
    assert solution.plan.containers == {"s19": 4}
    assert solution.plan.hpc_it_mw == pytest.approx(6)
    assert solution.objective_usd_per_year == pytest.approx(6 * RETROFIT + 4 * MINING, rel=1e-6)


def sized_battery(prices: list[float], om_usd_per_mw_year: float):
    battery = {"power_mw": 1, "energy_mwh": 1, "round_trip_efficiency": 0.9}
    battery_sizing = {
        "max_power_mw": 4,
        "max_energy_mwh": 8,
        "capex_usd_per_mw": 1.0,
        "capex_usd_per_mwh": 1000.0,
        "fixed_om_usd_per_mw_year": om_usd_per_mw_year,
    }
    site = make_site(
        grid={"import_limit_mw": 10, "export_limit_mw": 10},
        battery=battery,
        sizing={"battery": battery_sizing},
    )
    planning = Planning(site)
    days = toy_days(planning.site, prices=prices * 8)
    return optimize(planning, days, N_YEARS, OPTIONS).plan


def test_sz6_battery_power_up_to_its_maximum():
    # one hour at 300 USD/MWh after five at 10, at a trivial capex: as much power as allowed
    plan = sized_battery([10.0] * 5 + [300.0], om_usd_per_mw_year=0.0)
    assert plan.battery_power_mw == pytest.approx(4)
    assert 4 / 0.9**0.5 - 1e-6 <= plan.battery_energy_mwh <= 8 + 1e-6  # sustains 4 MW for 1 h


def test_sz6_the_minimum_soc_is_a_share_of_the_energy_installed():
    # One hour at 300 USD/MWh among hours at 10, at a trivial capex, with a floor of half the
    # energy installed: every MWh installed stores only 0.5 MWh it may use, so the plan takes
    # the most energy allowed (8 MWh: 4 usable, 4 x sqrt(0.9) = 3.79 MWh delivered at 300).
    # Without the floor, 4 / sqrt(0.9) = 4.2 MWh would deliver the full 4 MW (the day ends on
    # cheap hours, so the end SoC does not need the floor either).
    battery = {
        "power_mw": 1,
        "energy_mwh": 1,
        "round_trip_efficiency": 0.9,
        "min_soc_fraction": 0.5,
        "initial_soc_fraction": 0.5,
    }
    battery_sizing = {
        "max_power_mw": 4,
        "max_energy_mwh": 8,
        "capex_usd_per_mw": 1.0,
        "capex_usd_per_mwh": 1000.0,
        "fixed_om_usd_per_mw_year": 0.0,
    }
    site = make_site(
        grid={"import_limit_mw": 10, "export_limit_mw": 10},
        battery=battery,
        sizing={"battery": battery_sizing},
    )
    planning = Planning(site)
    days = toy_days(planning.site, prices=([10.0] * 3 + [300.0] + [10.0] * 2) * 8)
    plan = optimize(planning, days, N_YEARS, OPTIONS).plan
    assert plan.battery_energy_mwh == pytest.approx(8)


def test_sz6_the_existing_battery_is_kept():
    # flat prices and fixed O&M per MW: it earns nothing, but existing capacity is never sold back
    plan = sized_battery([40.0] * 6, om_usd_per_mw_year=10_000.0)
    assert (plan.battery_power_mw, plan.battery_energy_mwh) == pytest.approx((1, 1))


def test_sizing_only_the_battery_or_only_a_fleet_keeps_the_fixed_sides_as_they_stand():
    # Neither SZ3 (no HPC or fleet sized) nor SZ7 (no HPC or battery sized) has a decision in
    # it then: the site as it stands satisfies them, and the plan changes only what is sized.
    hpc = {
        "it_load_mw": 2,
        "pue": 1.0,
        "ride_through_minutes": 10,
        "contract": {"kind": "colocation", "usd_per_kw_month": 100},
    }
    common = {
        "grid": {"import_limit_mw": 10, "export_limit_mw": 10},
        "hpc": hpc,
        "mining": mining(fleet("s19", 3)),
        "battery": {"power_mw": 1, "energy_mwh": 1, "round_trip_efficiency": 0.9},
    }
    battery_only = make_site(**common, sizing={"battery": {"max_power_mw": 4, "max_energy_mwh": 8}})
    plan = optimize(Planning(battery_only), toy_days(battery_only), N_YEARS, OPTIONS).plan
    assert plan.hpc_it_mw == 2 and plan.containers == {"s19": 3}
    fleet_only = make_site(
        **common, sizing={"mining": {"fleets": [{"name": "s19", "max_containers": 6}]}}
    )
    plan = optimize(Planning(fleet_only), toy_days(fleet_only), N_YEARS, OPTIONS).plan
    assert plan.hpc_it_mw == 2 and (plan.battery_power_mw, plan.battery_energy_mwh) == (1, 1)
    assert 3 <= plan.containers["s19"] <= 6


def test_sz5_a_minimum_count_beyond_the_site_load_limit_is_no_plan_named():
    # four 1 MW containers kept, 2 MW of site load allowed (SZ3): HiGHS proves it infeasible and
    # the user reads why in one line, not Pyomo's exception
    mining_sizing = {"fleets": [{"name": "s19", "min_containers": 4}]}
    site = toy_site(sizing=with_sizing(max_site_load_mw=2, mining=mining_sizing))
    message = (
        "sizing of site 'test site' over 2 days: HiGHS stopped with provenInfeasible and no plan "
        "(check the sizing ranges: the site as it stands must fit them, and the HPC ride-through "
        "needs battery energy)"
    )
    with pytest.raises(SolveError) as raised:
        sized(site)
    assert str(raised.value) == message
