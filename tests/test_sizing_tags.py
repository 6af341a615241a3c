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

from conftest import fleet, make_site, mining
from test_sizing_model import N_YEARS, OPTIONS, toy_days

from dispatch.sizing.model import optimize
from dispatch.sizing.plan import Planning


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
