"""Sizing without a solver: economics, the sizing section, plans and the grid rule."""

from __future__ import annotations

import math

import pytest
import yaml
from conftest import SITES, fleet, make_site, mining

from dispatch import InputError, load_site
from dispatch.site import parse_site, site_json_schema
from dispatch.site.sizing import Sizing
from dispatch.sizing.economics import (
    CostTerm,
    Sizes,
    annuity_factor,
    capital_recovery_factor,
    cost_terms,
    npv_usd,
    payback_years,
)
from dispatch.sizing.evaluate import parse_axis
from dispatch.sizing.plan import Plan, Planning


def hybrid(**sizing) -> dict:
    """Sections of a 10 MW site: an HPC hall design (none built), ten 1 MW containers."""
    return {
        "grid": {"import_limit_mw": 10},
        "hpc": {
            "it_load_mw": 1,
            "pue": 1.25,
            "contract": {"kind": "colocation", "usd_per_kw_month": 100},
        },
        "mining": mining(
            fleet("s19", 10, efficiency_j_per_th=30), fleet("s21", 0, efficiency_j_per_th=17.5)
        ),
        "sizing": sizing
        or {
            "hpc": {"max_it_mw": 8, "existing_it_mw": 0},
            "mining": {"fleets": [{"name": "s19"}, {"name": "s21", "max_containers": 10}]},
        },
    }


def test_capital_recovery_factor_repays_the_capex_over_its_life():
    # textbook value: 10 %, 20 years -> 0.117460
    assert capital_recovery_factor(0.10, 20) == pytest.approx(0.1174596, rel=1e-6)
    assert capital_recovery_factor(0.0, 8) == pytest.approx(1 / 8)
    for rate, life in ((0.07, 15), (0.10, 5), (0.0, 12)):
        # the level payments, discounted over the life, are worth exactly the capex
        assert capital_recovery_factor(rate, life) * annuity_factor(rate, life) == pytest.approx(1)


def test_npv_of_an_asset_living_the_analysis_horizon_is_minus_capex_plus_pv_of_cash():
    spec = Sizing(discount_rate_fraction=0.08, analysis_years=12)
    capex, cash = 5e6, 900_000.0
    net = cash - capex * capital_recovery_factor(0.08, 12)
    expected = -capex + sum(cash / 1.08**year for year in range(1, 13))
    assert npv_usd(spec, net) == pytest.approx(expected, rel=1e-9)


def test_payback():
    assert payback_years(10e6, 2.5e6) == pytest.approx(4.0)
    assert payback_years(0.0, -1.0) == 0.0  # nothing to pay back
    assert payback_years(10e6, 0.0) is None  # never
    assert payback_years(10e6, -3e6) is None


def test_cost_terms_are_linear_in_the_sizes_and_named():
    site = make_site(**hybrid())
    spec = site.sizing
    sizes = Sizes(
        hpc_new_build_it_mw=2.0,
        hpc_retrofit_it_mw=3.0,
        hpc_it_mw=5.0,
        mining_added_mw=4.0,
        mining_mw=9.0,
    )
    terms = cost_terms(spec, sizes)
    crf_hpc = capital_recovery_factor(0.10, 20)
    assert terms[CostTerm.HPC_NEW_BUILD_CAPEX].capex_usd == pytest.approx(2.0 * 9.5e6)
    assert terms[CostTerm.HPC_NEW_BUILD_CAPEX].usd_per_year == pytest.approx(2.0 * 9.5e6 * crf_hpc)
    assert terms[CostTerm.HPC_RETROFIT_CAPEX].capex_usd == pytest.approx(3.0 * 2.25e6)
    assert terms[CostTerm.MINING_CAPEX].usd_per_year == pytest.approx(
        4.0 * 4.0e6 * capital_recovery_factor(0.10, 5)
    )
    assert terms[CostTerm.HPC_FIXED_OM].usd_per_year == pytest.approx(5.0 * 150_000)
    assert terms[CostTerm.MINING_FIXED_OM].usd_per_year == pytest.approx(9.0 * 40_000)
    assert CostTerm.BATTERY_CAPEX not in terms  # the battery is not sized


def test_default_costs_are_the_middle_of_the_market_ranges():
    spec = make_site(**hybrid()).sizing
    assert spec.hpc.new_build.capex_usd_per_mw == 9.5e6  # 8-11 M USD/MW
    assert spec.hpc.retrofit.capex_usd_per_mw == 2.25e6  # 1.5-3 M USD/MW
    assert spec.mining.capex_usd_per_mw == 4.0e6  # 3-5 M USD/MW


@pytest.mark.parametrize(
    ("sizing", "message"),
    [
        ({"hpc": {"max_it_mw": 8, "colour": 1}}, "sizing.hpc.colour: unknown key"),
        (
            {"hpc": {"max_it_mw": -1}},
            "sizing.hpc.max_it_mw: Input should be greater than or equal to 0",
        ),
        ({"mining": {"fleets": [{"name": "s9"}]}}, "sizing.mining.fleets[0].name: no fleet 's9'"),
        ({"hpc": {"max_it_mw": 0.5}}, "max_it_mw = 0.5 MW is below the existing 1 MW IT"),
        (
            {"mining": {"fleets": [{"name": "s19", "min_containers": 11}]}},
            "min_containers = 11 exceeds the largest count 10",
        ),
        (
            {"battery": {"max_power_mw": 5, "max_energy_mwh": 10}},
            "sizing.battery: the site file needs a battery section",
        ),
        ({"discount_rate_fraction": 1.5}, "sizing.discount_rate_fraction"),
    ],
)
def test_bad_sizing_sections_name_the_field(sizing, message):
    with pytest.raises(InputError, match=message.replace("[", r"\[").replace("]", r"\]")):
        make_site(**hybrid(**sizing))


def test_the_site_schema_holds_the_sizing_section():
    schema = site_json_schema()
    assert "sizing" in schema["properties"]
    assert "HpcSizing" in schema["$defs"]


def test_business_as_usual_is_the_site_as_it_stands():
    planning = Planning(make_site(**hybrid()))
    bau = planning.business_as_usual()
    assert bau.hpc_it_mw == 0.0  # existing_it_mw: 0 - the hall is only a design
    assert bau.containers == {"s19": 10, "s21": 0}
    assert planning.problems(bau) == []
    assert planning.site_for(bau).hpc is None  # no HPC in the site as it stands
    upper = planning.upper_site()
    assert upper.hpc.it_load_mw == 8 and upper.fleets[1].containers == 10 and upper.sizing is None


def test_a_site_without_a_sizing_section_cannot_be_sized():
    site = load_site(SITES / "west_texas_hybrid.yaml")
    with pytest.raises(InputError, match="no sizing section"):
        Planning(site)


def test_grid_plan_keeps_efficient_containers_and_retrofits_the_retired_halls_first():
    planning = Planning(make_site(**hybrid()))
    # 4 MW of mining: keep the S19 (the only existing fleet) up to 4; 6 retired = 6 MW of halls
    plan = planning.grid_plan(hpc_it_mw=4.0, mining_mw=4.0)
    assert plan.containers_kept == {"s19": 4, "s21": 0}
    assert plan.containers_added == {"s19": 0, "s21": 0}
    assert plan.hpc_retrofit_it_mw == pytest.approx(4.0)  # 4 x 1.25 = 5 MW <= 6 MW retired
    assert plan.hpc_new_build_it_mw == 0.0
    assert planning.problems(plan) == []
    # more HPC than the retired halls hold: the rest is new build, and the site load breaks
    plan = planning.grid_plan(hpc_it_mw=8.0, mining_mw=4.0)
    assert plan.hpc_retrofit_it_mw == pytest.approx(6.0 / 1.25)
    assert plan.hpc_new_build_it_mw == pytest.approx(8.0 - 6.0 / 1.25)
    assert any("exceeds the site load limit 10 MW" in p for p in planning.problems(plan))
    # beyond the existing fleet: new containers of the fleet that may grow
    plan = planning.grid_plan(hpc_it_mw=0.0, mining_mw=10.0)
    assert plan.containers == {"s19": 10, "s21": 0}
    site = make_site(
        **hybrid(mining={"fleets": [{"name": "s19"}, {"name": "s21", "max_containers": 5}]})
    )
    plan = Planning(site).grid_plan(hpc_it_mw=0.0, mining_mw=13.0)
    assert plan.containers_added == {"s19": 0, "s21": 3}


def test_plan_problems_catch_each_rule():
    site = make_site(**hybrid(hpc={"max_it_mw": 8, "existing_it_mw": 0, "block_it_mw": 2}))
    planning = Planning(site)
    kept = {"s19": 10, "s21": 0}
    none = {"s19": 0, "s21": 0}
    retrofit_without_halls = Plan(1.0, 0.0, 1.0, kept, none)
    assert any("retired mining containers" in p for p in planning.problems(retrofit_without_halls))
    not_a_block = Plan(3.0, 0.0, 3.0, {"s19": 5, "s21": 0}, none)
    assert any("whole number of 2 MW blocks" in p for p in planning.problems(not_a_block))
    too_many = Plan(0.0, 0.0, 0.0, {"s19": 11, "s21": 0}, none)
    assert any("fleet s19" in p for p in planning.problems(too_many))
    with pytest.raises(InputError, match="fleet s19"):
        planning.site_for(too_many)


def test_axes():
    assert parse_axis("0:100:25", "--hpc-mw") == [0, 25, 50, 75, 100]
    assert parse_axis("10:35:10", "--hpc-mw") == [10, 20, 30]
    assert parse_axis("40", "--mining-mw") == [40]
    for bad in ("0:10", "10:0:5", "a:b:c", "0:10:0"):
        with pytest.raises(InputError, match="--hpc-mw"):
            parse_axis(bad, "--hpc-mw")
    assert math.isclose(parse_axis("0:1:0.1", "--hpc-mw")[-1], 1.0)


def test_sizing_refuses_a_monthly_demand_charge():
    data = yaml.safe_load((SITES / "retrofit_campus.yaml").read_text())
    data["grid"]["demand_charge"] = {"usd_per_mw_month": 9000}
    with pytest.raises(InputError, match=r"grid\.demand_charge: sizing dispatches each day"):
        parse_site(data, "retrofit.yaml")
