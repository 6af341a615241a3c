"""Tiny cases with one obvious optimum, checked exactly (tolerance 1e-6 USD unless stated)."""

from __future__ import annotations

import pytest
from conftest import fleet, make_inputs, make_site, mining

from dispatch import solve
from dispatch.solver import SolveOptions

# A 1 MW, 25 J/TH container makes 40 PH/s; at 36 USD/PH/day with no pool fee it earns
# 36 * 40 / 24 = 60 USD per MWh consumed.
HASHPRICE_60_USD_PER_MWH = 36.0


def test_mining_runs_only_below_its_value_per_mwh():
    site = make_site(grid={"import_limit_mw": 10}, mining=mining(fleet(containers=3)))
    inputs = make_inputs(site, [20, 200, 20, 20], HASHPRICE_60_USD_PER_MWH)
    result = solve(site, inputs)
    assert result.schedule["mining_s19_containers_on"].tolist() == [3, 0, 3, 3]
    streams = result.streams.set_index("stream")["usd"]
    assert streams["mining_hashprice"] == pytest.approx(36 * 40 * 3 * 3 / 24, abs=1e-6)  # 540
    assert streams["grid_energy_purchase"] == pytest.approx(-20 * 3 * 3, abs=1e-6)  # -180
    assert result.kpis.net_margin_usd == pytest.approx(360.0, abs=1e-6)
    assert result.kpis.breakeven_usd_per_mwh["s19"] == pytest.approx(60.0)


def test_pool_fee_and_import_adder_enter_the_margin():
    site = make_site(
        grid={"import_limit_mw": 10, "import_adder_usd_per_mwh": 5},
        mining=mining(fleet(containers=2), pool_fee_fraction=0.1),
    )
    # value per MWh = 60 * 0.9 = 54; cost 50 + 5 = 55 > 54, so the middle interval curtails
    inputs = make_inputs(site, [10, 50, 10], HASHPRICE_60_USD_PER_MWH)
    result = solve(site, inputs)
    assert result.schedule["mining_s19_containers_on"].tolist() == [2, 0, 2]
    assert result.kpis.net_margin_usd == pytest.approx(2 * 2 * (54 - 15), abs=1e-6)


def test_realized_hashprice_of_a_single_quarter_hour_of_mining():
    # one 1 MW container mines one quarter-hour (54 USD/MWh after the fee beats 20, not 200):
    # 40 PH/s x 0.25 h / 24 = 0.4167 PH-days, paid 36 x 0.9 = 32.4 USD per PH-day
    site = make_site(
        interval_minutes=15,
        grid={"import_limit_mw": 10},
        mining=mining(fleet(containers=1), pool_fee_fraction=0.1),
    )
    result = solve(site, make_inputs(site, [20, 200, 200, 200], HASHPRICE_60_USD_PER_MWH))
    assert result.schedule["mining_s19_containers_on"].tolist() == [1, 0, 0, 0]
    assert result.kpis.realized_hashprice_usd_per_ph_day == pytest.approx(36 * 0.9)


def test_older_fleet_curtails_first_as_price_rises():
    site = make_site(
        grid={"import_limit_mw": 10},
        mining=mining(
            fleet("new", containers=2, efficiency_j_per_th=20.0),  # 75 USD/MWh
            fleet("old", containers=2, efficiency_j_per_th=30.0),  # 50 USD/MWh
        ),
    )
    result = solve(site, make_inputs(site, [40, 60, 80], HASHPRICE_60_USD_PER_MWH))
    assert result.schedule["mining_new_containers_on"].tolist() == [2, 2, 0]
    assert result.schedule["mining_old_containers_on"].tolist() == [2, 0, 0]
    assert result.kpis.breakeven_usd_per_mwh == pytest.approx({"new": 75.0, "old": 50.0})


def test_startup_cost_keeps_containers_on_through_a_short_dip():
    # Price 61 for one hour costs 1 USD/MWh to keep mining; restarting 3 containers costs 3 x 5.
    site = make_site(
        grid={"import_limit_mw": 10},
        mining=mining(fleet(containers=3, startup_cost_usd=5.0)),
    )
    result = solve(site, make_inputs(site, [20, 61, 20], HASHPRICE_60_USD_PER_MWH))
    assert result.schedule["mining_s19_containers_on"].tolist() == [3, 3, 3]


def test_overclocking_follows_the_concave_efficiency_curve():
    # Per container: 0.5 MW at 20 J/TH -> 25 PH/s; 1.0 MW at 25 J/TH -> 40 PH/s.
    # The second half MW adds 15 PH/s: at 36 USD/PH/day that is 15*36/24/0.5 = 45 USD/MWh.
    site = make_site(
        grid={"import_limit_mw": 10},
        mining=mining(
            fleet(
                containers=1,
                power_range_fraction=[0.5, 1.0],
                efficiency_curve=[[0.5, 20.0], [1.0, 25.0]],
            )
        ),
    )
    result = solve(site, make_inputs(site, [40, 50, 80], HASHPRICE_60_USD_PER_MWH))
    # 40 < 45: full power; 45 < 50 < 72 (first half worth 25*36/24/0.5 = 72): half power; 80: off
    assert result.schedule["mining_s19_power_mw"].tolist() == pytest.approx([1.0, 0.5, 0.0])
    assert result.schedule["mining_s19_hashrate_ph_s"].tolist() == pytest.approx([40, 25, 0])


def test_battery_charges_low_and_discharges_high():
    site = make_site(
        grid={"import_limit_mw": 5, "export_limit_mw": 5},
        battery={
            "power_mw": 1,
            "energy_mwh": 0.9,  # one hour of charging fills it: no reason to hold energy over
            "round_trip_efficiency": 0.81,  # 0.9 each way
            "initial_soc_fraction": 0.0,
        },
    )
    result = solve(site, make_inputs(site, [10, 100, 20, 120]))
    schedule = result.schedule
    assert schedule["battery_charge_mw"].tolist() == pytest.approx([1, 0, 1, 0])
    assert schedule["battery_discharge_mw"].tolist() == pytest.approx([0, 0.81, 0, 0.81])
    assert schedule["battery_soc_mwh"].tolist() == pytest.approx([0.9, 0, 0.9, 0])
    assert result.kpis.net_margin_usd == pytest.approx(81 - 10 + 97.2 - 20, abs=1e-6)


def test_battery_does_not_cycle_when_prices_are_negative():
    # At -50 USD/MWh charging and discharging at once would burn energy for pay; that is not
    # allowed, so the empty battery only fills up.
    site = make_site(
        grid={"import_limit_mw": 5, "export_limit_mw": 0},
        battery={
            "power_mw": 1,
            "energy_mwh": 4,
            "round_trip_efficiency": 0.81,
            "initial_soc_fraction": 0.0,
        },
    )
    result = solve(site, make_inputs(site, [-50, -50]))
    schedule = result.schedule
    assert (schedule["battery_charge_mw"] * schedule["battery_discharge_mw"]).max() == 0
    assert schedule["battery_charge_mw"].tolist() == pytest.approx([1, 1])


def test_a_full_battery_cannot_act_as_a_heater_at_negative_prices():
    # Full and bound to end full: relaxed, it would charge 1 MW and discharge 0.81 MW at once
    # (import 0.19 MW, state of charge unchanged) to be paid 50 USD/MWh for burning energy. The
    # exclusivity the solver switches on where a solution does both leaves it idle.
    site = make_site(
        grid={"import_limit_mw": 5, "export_limit_mw": 0},
        battery={
            "power_mw": 1,
            "energy_mwh": 4,
            "round_trip_efficiency": 0.81,
            "initial_soc_fraction": 1.0,
        },
    )
    relaxed = solve(site, make_inputs(site, [-50, -50, -50]), SolveOptions(relax_integrality=True))
    assert relaxed.kpis.objective_usd > 1.0  # the relaxation does burn energy for pay
    result = solve(site, make_inputs(site, [-50, -50, -50]))
    assert result.schedule["battery_charge_mw"].tolist() == pytest.approx([0, 0, 0])
    assert result.schedule["battery_discharge_mw"].tolist() == pytest.approx([0, 0, 0])
    assert result.kpis.objective_usd == pytest.approx(0.0, abs=1e-6)


GENERATOR = {
    "name": "recip",
    "capacity_mw": 10,
    "min_stable_fraction": 0.5,
    "heat_rate_mmbtu_per_mwh": 10.0,
    "fuel_price_usd_per_mmbtu": 5.0,  # 50 USD/MWh
}


def test_generator_respects_min_up_time():
    # Earns 10 * 50 at t0; min up 3 h forces two more hours at 5 MW losing 5 * 30 each.
    site = make_site(
        grid={"import_limit_mw": 0, "export_limit_mw": 10},
        generators=[{**GENERATOR, "min_up_minutes": 180}],
    )
    result = solve(site, make_inputs(site, [100, 20, 20, 20, 20, 20]))
    assert result.schedule["generator_recip_on"].tolist() == [1, 1, 1, 0, 0, 0]
    assert result.schedule["generator_recip_power_mw"].tolist() == pytest.approx(
        [10, 5, 5, 0, 0, 0]
    )
    assert result.kpis.net_margin_usd == pytest.approx(500 - 2 * 150, abs=1e-6)


def test_generator_respects_min_down_time():
    # Without min down it would run [1, 0, 1, ...]; a 2 h min down makes staying on at 5 MW
    # through t1 (-150) better than forgoing t2 (+500).
    site = make_site(
        grid={"import_limit_mw": 0, "export_limit_mw": 10},
        generators=[{**GENERATOR, "min_down_minutes": 120}],
    )
    result = solve(site, make_inputs(site, [100, 20, 100, 20, 20, 20]))
    assert result.schedule["generator_recip_on"].tolist() == [1, 1, 1, 0, 0, 0]
    assert result.kpis.net_margin_usd == pytest.approx(500 - 150 + 500, abs=1e-6)


def test_generator_fuel_budget_caps_daily_burn():
    # 100 MMBtu/day at 10 MMBtu/MWh allows 10 MWh: the best two hours at full output.
    site = make_site(
        grid={"import_limit_mw": 0, "export_limit_mw": 10},
        generators=[{**GENERATOR, "min_stable_fraction": 0.0, "fuel_limit_mmbtu_per_day": 100}],
    )
    result = solve(site, make_inputs(site, [60, 90, 70, 120]))
    assert result.schedule["generator_recip_power_mw"].tolist() == pytest.approx([0, 0, 0, 10])
    assert result.schedule["generator_recip_fuel_mmbtu"].sum() == pytest.approx(100)


HPC = {
    "it_load_mw": 8,
    "pue": 1.25,
    "contract": {"kind": "colocation", "usd_per_kw_month": 100},
    "sla_penalty_usd_per_mwh": 1000,
}


def test_hpc_is_served_before_mining_and_contract_is_pro_rata():
    site = make_site(grid={"import_limit_mw": 12}, hpc=HPC, mining=mining(fleet(containers=3)))
    result = solve(site, make_inputs(site, [20, 20], HASHPRICE_60_USD_PER_MWH))
    # 12 MW import: 10 MW HPC facility load, 2 containers fit in the remaining 2 MW
    assert result.schedule["hpc_served_mw"].tolist() == pytest.approx([10, 10])
    assert result.schedule["mining_s19_containers_on"].tolist() == [2, 2]
    contract = result.streams.set_index("stream").loc["hpc_contract", "usd"]
    assert contract == pytest.approx(100 * 8000 * 2 / (8760 / 12))
    assert result.kpis.hpc_availability_fraction == 1.0


def test_unserved_hpc_pays_the_sla_penalty():
    # 10 MW facility load on an 8 MW import limit with a generator that is too dear to stay off
    site = make_site(
        grid={"import_limit_mw": 8},
        hpc=HPC,
        generators=[
            {
                **GENERATOR,
                "capacity_mw": 2,
                "min_stable_fraction": 0.0,
                "fuel_price_usd_per_mmbtu": 150.0,
            }
        ],  # 1,500 USD/MWh > 1,000 penalty
    )
    result = solve(site, make_inputs(site, [20, 20]))
    assert result.schedule["hpc_unserved_mw"].tolist() == pytest.approx([2, 2])
    penalty = result.streams.set_index("stream").loc["hpc_sla_penalty", "usd"]
    assert penalty == pytest.approx(-1000 * 4)
    assert result.kpis.hpc_availability_fraction == pytest.approx(0.8)
    assert result.kpis.hpc_sla_met is False


def test_an_hpc_hall_asked_for_no_load_is_fully_available():
    # utilization 0 (an idle hall): nothing required, nothing unserved, so availability is 1
    # (not 0/0) and the SLA is met
    site = make_site(grid={"import_limit_mw": 12}, hpc=HPC)
    result = solve(site, make_inputs(site, [20, 20], hpc_utilization_fraction=[0.0, 0.0]))
    assert result.schedule["hpc_required_mw"].tolist() == [0, 0]
    assert result.kpis.hpc_availability_fraction == 1.0
    assert result.kpis.hpc_sla_met is True


def test_gpu_cloud_is_paid_per_gpu_hour_served():
    hpc = {
        **HPC,
        "contract": {
            "kind": "gpu_cloud",
            "usd_per_gpu_hour": 2.0,
            "gpu_count": 8000,
            "kw_per_gpu": 1.0,
        },
    }
    site = make_site(grid={"import_limit_mw": 12}, hpc=hpc)
    result = solve(site, make_inputs(site, [20, 20, 20]))
    contract = result.streams.set_index("stream").loc["hpc_contract"]
    assert contract["usd"] == pytest.approx(2.0 * 8000 * 3)
    assert contract["basis_mwh"] == pytest.approx(10 * 3)


def test_ride_through_reserve_is_never_spent_on_arbitrage():
    # 10 MW facility x 30 min = 5 MWh must stay in the battery above its minimum.
    site = make_site(
        grid={"import_limit_mw": 20, "export_limit_mw": 10},
        hpc={**HPC, "ride_through_minutes": 30},
        battery={
            "power_mw": 10,
            "energy_mwh": 10,
            "round_trip_efficiency": 1.0,
            "initial_soc_fraction": 0.5,
        },
    )
    result = solve(site, make_inputs(site, [10, 1000, 10, 1000]))
    assert result.schedule["battery_soc_mwh"].min() == pytest.approx(5.0)
    # without the reserve the same battery would empty itself at 1,000 USD/MWh
    free = make_site(
        grid={"import_limit_mw": 20, "export_limit_mw": 10},
        hpc=HPC,
        battery={
            "power_mw": 10,
            "energy_mwh": 10,
            "round_trip_efficiency": 1.0,
            "initial_soc_fraction": 0.5,
        },
    )
    assert solve(free, make_inputs(free, [10, 1000, 10, 1000])).schedule[
        "battery_soc_mwh"
    ].min() == pytest.approx(0.0)


def test_renewable_output_is_capped_by_profile_and_curtailed_at_negative_prices():
    site = make_site(
        grid={"import_limit_mw": 10, "export_limit_mw": 10},
        renewables=[{"name": "pv", "capacity_mw": 8, "profile": "solar"}],
    )
    inputs = make_inputs(site, [30, -5], solar_capacity_factor=[0.5, 0.75])
    result = solve(site, inputs)
    assert result.schedule["renewable_pv_output_mw"].tolist() == pytest.approx([4, 0])
    assert result.schedule["renewable_pv_curtailed_mw"].tolist() == pytest.approx([0, 6])
    assert result.kpis.net_margin_usd == pytest.approx(120)


def test_relaxed_solve_bounds_the_milp_from_above():
    site = make_site(
        grid={"import_limit_mw": 10},
        mining=mining(fleet(containers=3, startup_cost_usd=50.0)),
    )
    inputs = make_inputs(site, [20, 75, 20, 55], HASHPRICE_60_USD_PER_MWH)
    milp = solve(site, inputs).kpis.net_margin_usd
    lp = solve(site, inputs, SolveOptions(relax_integrality=True)).kpis.net_margin_usd
    assert lp >= milp - 1e-6
