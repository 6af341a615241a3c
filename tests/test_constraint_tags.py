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


def test_u1_ramp_limits_a_unit_that_stays_on():
    # Off grid, the unit alone serves a 10 MW hall at 50 % then 100 % utilization. It may ramp
    # 0.05 MW/min = 3 MW per hour, so it goes 5 -> 8 MW and 2 MW of the hall is not served
    # (20,000 USD/MWh). Without the ramp limit it would follow 5 -> 10; a start and a stop in the
    # same interval (a unit that stays on) must not buy ramp relief either.
    unit = {
        "name": "recip",
        "capacity_mw": 10,
        "min_stable_fraction": 0.3,
        "heat_rate_mmbtu_per_mwh": 10.0,
        "fuel_price_usd_per_mmbtu": 5.0,
        "startup_cost_usd": 100,
        "ramp_mw_per_minute": 0.05,
    }
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
