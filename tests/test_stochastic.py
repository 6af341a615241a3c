"""The two-stage stochastic day-ahead stage: known answers derived by hand, the expected streams
against HiGHS's objective, CVaR, and the relaxed first stage against the exact extensive form."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pyomo.environ as pyo
import pytest
from conftest import fleet, make_inputs, make_site, mining
from test_two_settlement import EXACT, HASHPRICE_60_USD_PER_MWH

from dispatch.inputs import DA_PRICE
from dispatch.stochastic.plan import RISK_LINE, StochasticDayAhead, cvar_of_loss, weighted_quantile
from dispatch.stochastic.scenarios import PriceScenarios
from dispatch.stochastic.settings import Risk

# One hour; 3 containers of 1 MW earn 60 USD/MWh; RRS pays 20 USD/MW-h and needs running mining
# load behind it (A1). DA price 20; the real-time price is 20 or 200, each with probability 1/2.
# A4: RRS's default expected deployment f = 0.0005 of the award sheds mining load, which saves
# the scenario's real-time price and loses the hashprice: f × o × (RT_k − 60) per scenario.
#
# Scenario margins with position x (bought at DA), mining p_k, award o <= p_k:
#   M_k = 60 p_k − 20 x − RT_k (p_k − x) + 20 o + f o (RT_k − 60)
#       = (60 − RT_k) p_k + (RT_k − 20) x + 20 o + f o (RT_k − 60)
# and the position buys the expected plan (N2, band 0): x = (p_low + p_high) / 2, so
#   M_low = 40 p_low + 19.98 o,  M_high = 90 p_low − 50 p_high + 20.07 o,
#   E[M] = 65 p_low − 25 p_high + 20.025 o  (p_high >= o).
# λ = 0: an award costs 25 − 20.025 = 4.975 USD/MW in the spike: o = 0, p_low = 3, p_high = 0,
#   x = 1.5, M = (120, 270), RP = 195.
# Expected-value problem (RT = 110, x = p): M = 40 p + 20.025 o: o = 3, x = 3. Evaluated on the
#   scenarios with p_k >= 3: M = (180 − 0.06, 180 + 0.21): EEV = 180.075, VSS = 14.925.
# Wait-and-see (each scenario its own day-ahead stage, position = its plan): M_k = 40 p +
#   (20 + f (RT_k − 60)) o = (179.94, 180.21): WS = 180.075, EVPI = −14.925 (the stochastic
#   position's resale in the spike is worth more than knowing the price and buying the plan).
# λ = 1, α = 0.5: CVaR of the loss = −min_k M_k; maximize E[M] + min_k M_k. With p_low = 3,
#   p_high = o: M = (120 + 19.98 o, 270 − 29.93 o), the low one the smaller for o <= 3.005:
#   objective 315 + 15.005 o: o = 3, M = (179.94, 180.21), expected streams 180.075 and the
#   risk line +179.94: objective 360.015.


def tiny() -> tuple:
    site = make_site(
        grid={"import_limit_mw": 10},
        mining=mining(fleet(containers=3)),
        programs={"ancillary": [{"product": "RRS", "max_mw": 3}]},
    )
    view = make_inputs(
        site, [20.0], HASHPRICE_60_USD_PER_MWH, **{DA_PRICE: [20.0]}, rrs_usd_per_mw_h=20.0
    )
    scenarios = PriceScenarios(
        view.index, np.array([[20.0], [200.0]]), np.array([0.5, 0.5]), ("low", "high"), "hand"
    )
    return site, view, scenarios


@pytest.mark.parametrize(
    ("exact", "interface"), [(False, "compiled"), (True, "compiled"), (False, "pyomo")]
)
def test_known_answer_risk_neutral(exact: bool, interface: str):
    """Both interfaces: the compiled arrays (the default) and Pyomo's persistent HiGHS."""
    site, view, scenarios = tiny()
    options = replace(EXACT, interface=interface)
    plan = StochasticDayAhead(site, options, exact=exact).plan(view, scenarios, in_sample=True)
    assert plan.first_stage["da_position_mw"].tolist() == pytest.approx([1.5])
    assert plan.first_stage["rrs_offer_mw"].tolist() == pytest.approx([0.0], abs=1e-9)
    assert plan.margins_usd.tolist() == pytest.approx([120.0, 270.0])
    assert plan.objective_usd == pytest.approx(195.0)
    assert plan.report.objective_usd == pytest.approx(195.0)  # HiGHS's own
    assert plan.in_sample is not None
    assert plan.in_sample.eev_usd == pytest.approx(180.075)
    assert plan.in_sample.vss_usd == pytest.approx(14.925)
    assert plan.in_sample.ws_usd == pytest.approx(180.075)
    assert plan.in_sample.evpi_usd == pytest.approx(-14.925)
    high = plan.streams[1].set_index("stream")["usd"]
    assert high["rt_deviation"] == pytest.approx(1.5 * 200)  # the position resold in the spike
    assert high["da_energy"] == pytest.approx(-1.5 * 20)


@pytest.mark.parametrize("interface", ["compiled", "pyomo"])
def test_known_answer_with_cvar(interface: str):
    site, view, scenarios = tiny()
    risk = Risk(cvar_weight=1.0, cvar_alpha=0.5)
    plan = StochasticDayAhead(site, replace(EXACT, interface=interface), risk).plan(view, scenarios)
    assert plan.first_stage["rrs_offer_mw"].tolist() == pytest.approx([3.0])
    assert plan.margins_usd.tolist() == pytest.approx([179.94, 180.21])
    table = plan.expected_streams.set_index("stream")["usd"]
    assert table[RISK_LINE] == pytest.approx(179.94)  # −λ · CVaR(loss) = −1 · (−179.94)
    assert table["ancillary_deployment"] == pytest.approx(0.5 * (-0.06 + 0.21))
    assert table.sum() == pytest.approx(360.015)
    assert plan.report.objective_usd == pytest.approx(360.015)
    assert plan.distribution()["cvar_loss_usd"] == pytest.approx(-179.94)
    low, high = (s.set_index("stream")["usd"]["ancillary_deployment"] for s in plan.streams)
    assert (low, high) == pytest.approx((-0.06, 0.21))  # each at its scenario's RT price


def test_expected_streams_table_is_the_objectives_own_expressions():
    """The table (weighted sum of the scenario blocks' streams) equals the objective's
    stream_usd expressions evaluated, and with the risk line sums to HiGHS's objective."""
    site, view, scenarios = tiny()
    planner = StochasticDayAhead(site, EXACT, Risk(cvar_weight=0.3, cvar_alpha=0.5))
    plan = planner.plan(view, scenarios, schedules=True)
    m = planner.model(view, 2).model
    table = plan.expected_streams.set_index("stream")["usd"]
    for name in m.stream_names:
        assert table[name] == pytest.approx(pyo.value(m.stream_usd[name]), abs=1e-9)
    assert table.sum() == pytest.approx(plan.report.objective_usd, abs=1e-6)
    assert len(plan.schedules) == 2 and "da_position_mw" in plan.schedules[0]


def test_weighted_quantile_and_cvar_by_hand():
    margins = np.array([100.0, -50.0, 30.0, 10.0])
    weights = np.array([0.4, 0.1, 0.3, 0.2])
    # sorted: -50 (0.1), 10 (0.3 cum), 30 (0.6), 100 (1.0)
    assert weighted_quantile(margins, weights, 0.05) == -50.0
    assert weighted_quantile(margins, weights, 0.5) == 30.0
    assert weighted_quantile(margins, weights, 0.95) == 100.0
    # worst 20 %: 0.1 at -50 and 0.1 of the 0.2 at 10: mean margin (-5 + 1) / 0.2 = -20
    assert cvar_of_loss(margins, weights, 0.8) == pytest.approx(20.0)


@pytest.mark.slow
def test_run_stochastic_on_the_campus_heat_wave_day(tmp_path):
    """2023-08-17 at HB_WEST (real data): the first stage has 24 hours, the written expected
    streams sum to HiGHS's objective, the scenario weights to 1."""
    import json

    from test_cli import HYBRID
    from typer.testing import CliRunner

    from dispatch.cli import app

    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["run", HYBRID, "--day", "2023-08-17", "--stochastic", "10", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    first = pd.read_csv(out / "first_stage.csv")
    assert len(first) == 24 and {"da_position_mw", "ecrs_offer_mw"} <= set(first.columns)
    summary = json.loads((out / "distribution.json").read_text())
    expected = pd.read_csv(out / "expected_streams.csv")
    assert expected["usd"].sum() == pytest.approx(summary["highs_objective_usd"], rel=1e-9)
    margins = pd.read_csv(out / "scenario_margins.csv")
    assert margins["weight"].sum() == pytest.approx(1.0) and len(margins) == 10
    assert summary["p5_margin_usd"] <= summary["p50_margin_usd"] <= summary["p95_margin_usd"]
    scenarios = pd.read_csv(out / "scenarios.csv")
    assert len(scenarios) == 10 * 96


def test_every_scenario_schedule_is_feasible_and_its_streams_recompute_independently():
    """The campus on 2023-08-17 (real DAM prices, reserves on the relay fleet, the controllable
    fleet and the battery) with three history scenarios: each scenario's schedule satisfies
    every documented constraint (tests/physics.py: A1 split, A2 sustain replay, A3 relay, ...)
    and its streams table equals the recomputation from the site file and that schedule
    (tests/independent.py); the day-ahead columns are the same in every scenario (N1)."""
    from independent import streams as recomputed
    from physics import violations
    from test_cli import HYBRID

    from dispatch import load_site, stochastic_day_ahead

    site = load_site(HYBRID)
    plan, _ = stochastic_day_ahead(site, "2023-08-17", scenarios=3, options=EXACT)
    first_stage = ["da_position_mw", *(f"{p}_offer_mw" for p in ("rrs", "ecrs", "nspin"))]
    backing = [c for c in plan.schedules[0].columns if "_backed_by_" in c]
    assert backing and plan.schedules[0][first_stage[1:]].to_numpy().sum() > 0  # awards made
    for k, schedule in enumerate(plan.schedules):
        assert violations(site, schedule) == [], plan.names[k]
        money = recomputed(site, schedule)
        table = plan.streams[k].set_index("stream")
        assert set(table.index) == set(money)
        for name, expected in money.items():
            assert table.loc[name, "usd"] == pytest.approx(expected.usd, rel=1e-7, abs=1e-4), name
            assert table.loc[name, "basis_mwh"] == pytest.approx(
                expected.basis_mwh, rel=1e-7, abs=1e-4
            ), name
        pd.testing.assert_frame_equal(schedule[first_stage], plan.schedules[0][first_stage])


def test_integers_recovered_from_a_relaxed_solution_by_hand():
    """``fix_rounded`` on the campus blocks, values set by hand. s19 (1.9 MW containers,
    80-100 % power): 19 MW can be drawn by 10 to 12 containers (19 / 1.9, 19 / 1.52), so a
    relaxed 11.4 becomes 11 and a relaxed 14.0 the most that can draw 19 MW, 12; 1 MW is below
    one container's floor: 1 container. The relay armed at 0.3 is armed, one at 0 stays off.
    The battery charges where it charges more than it discharges (5 vs 0), discharges where it
    discharges more (0 vs 5, 3 vs 4), and an idle interval stays free."""
    from test_cli import HYBRID

    from dispatch import load_inputs, load_site
    from dispatch.model.build import build_model
    from dispatch.realtime.information import load_operator_inputs

    site = load_site(HYBRID)
    day = pd.Timestamp("2023-08-17").date()
    inputs = load_inputs(site, day, day, prices="ercot_dam_spp")
    view = load_operator_inputs(site, inputs, inputs).day_ahead
    built = build_model(site, view, two_settlement=True)
    terms = dict(built.blocks)
    s19, battery = built.model.mining_s19, built.model.battery
    for t, (power, count) in enumerate([(19.0, 11.4), (19.0, 14.0), (1.0, 0.3)]):
        s19.power_mw[t].set_value(power)
        s19.containers_on[t].set_value(count)
    for t in range(3, 96):
        s19.power_mw[t].set_value(0.0)
        s19.containers_on[t].set_value(0.0)
    s19.rrs_relay_armed[0].set_value(0.3)
    for t, (charge, discharge) in enumerate([(5.0, 0.0), (0.0, 5.0), (3.0, 4.0)]):
        battery.charge_mw[t].set_value(charge)
        battery.discharge_mw[t].set_value(discharge)
    for t in range(3, 96):
        battery.charge_mw[t].set_value(0.0)
        battery.discharge_mw[t].set_value(0.0)
    fixed = terms["mining_s19"].fix_rounded()
    assert [s19.containers_on[t].value for t in range(4)] == [11, 12, 1, 0]
    assert s19.rrs_relay_armed[0].fixed and s19.rrs_relay_armed[0].value == 1
    assert len(fixed) == 96 + 1
    fixed = terms["battery"].fix_rounded()
    assert [battery.charging[t].value for t in range(3)] == [1.0, 0.0, 0.0]
    assert fixed == [battery.charging[t] for t in range(3)]
    assert not battery.charging[3].fixed
    s19.rrs_relay_armed[0].unfix()
    s19.rrs_relay_armed[0].set_value(0.0)
    terms["mining_s19"].fix_rounded()
    assert s19.rrs_relay_armed[0].value == 0
