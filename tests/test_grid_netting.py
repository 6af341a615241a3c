"""G2 at a zero import adder: importing and exporting in the same interval is money-neutral, so
HiGHS may return both at once; the schedule reports only the net flow (docs/formulation.md, G2).

Tiny hourly sites where the net flow has one optimum: a firm hall (colocation, nothing else
moves), so import - export = hall load every hour, under a 20 MW import / 10 MW export
connection with no adder. Expected values derived by hand in the comments (tolerance 1e-6).
Each case runs twice: once with the netting switched off, asserting that HiGHS did return both
flows at once (the case keeps exercising the netting) and that netting leaves the money as it
was; once as shipped, asserting the flows and streams by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pyomo.environ as pyo
import pytest
from conftest import SITES, make_inputs, make_site
from independent import mismatches
from physics import violations

from dispatch import load_inputs, load_site, solve
from dispatch.batch.rolling import roll
from dispatch.inputs import DA_PRICE
from dispatch.model import grid
from dispatch.model.build import build_model
from dispatch.realtime.information import DayAheadForecast
from dispatch.realtime.stages import StageRunner
from dispatch.solver import SolveOptions
from dispatch.stochastic.plan import StochasticDayAhead
from dispatch.stochastic.scenarios import PriceScenarios

INTERFACES = ["compiled", "pyomo"]
COLOCATION = {"kind": "colocation", "usd_per_kw_month": 100}
GRID = {"import_limit_mw": 20, "export_limit_mw": 10, "import_adder_usd_per_mwh": 0}
PPA_8_MW = {"volume_mw": 8, "price_usd_per_mwh": 25}
HALL_5_MW = {"it_load_mw": 5, "pue": 1.0, "contract": COLOCATION}
HALL_10_MW = {"it_load_mw": 10, "pue": 1.0, "contract": COLOCATION}
PRICES = [30.0, -10.0, 30.0, -10.0]  # Σ = 40 USD/MWh over the four hours


def options(interface: str) -> SolveOptions:
    return SolveOptions(mip_rel_gap=0.0, interface=interface, model_cache=False)


def money(table: pd.DataFrame) -> dict[str, tuple[float, float]]:
    """stream -> (usd, basis_mwh)."""
    rows = table.set_index("stream")
    return {s: (float(rows.loc[s, "usd"]), float(rows.loc[s, "basis_mwh"])) for s in rows.index}


def both_ways(schedule: pd.DataFrame) -> np.ndarray:
    return np.minimum(schedule["grid_import_mw"], schedule["grid_export_mw"]).to_numpy()


def run_both(monkeypatch, run: Callable[[], Any], schedule_of: Callable[[Any], pd.DataFrame]):
    """``run()`` with the netting switched off, then as shipped; asserts HiGHS's own schedule
    imports and exports at once somewhere. Returns (HiGHS's own result, the netted result)."""
    with monkeypatch.context() as m:
        m.setattr(grid, "settle_simultaneous_flows", lambda b, spec, ctx: None)
        unnetted = run()
    assert (both_ways(schedule_of(unnetted)) > 1e-6).any(), "HiGHS no longer flows both ways"
    netted = run()
    assert (both_ways(schedule_of(netted)) <= 1e-9).all()
    return unnetted, netted


def flows(schedule: pd.DataFrame) -> tuple[list[float], list[float]]:
    return schedule["grid_import_mw"].tolist(), schedule["grid_export_mw"].tolist()


# --- single settlement ---------------------------------------------------------------------------


@pytest.mark.parametrize("interface", INTERFACES)
def test_single_settlement_reports_the_net_flow(interface, monkeypatch):
    # import 5 MW every hour, export 0; purchase -(30 - 10 + 30 - 10) x 5 = -200 USD on 20 MWh;
    # no sale. HiGHS's own answer imports 15 and exports 10 at -10 USD/MWh: the same money.
    site = make_site(grid=GRID, hpc=HALL_5_MW)
    inputs = make_inputs(site, PRICES)
    unnetted, result = run_both(
        monkeypatch, lambda: solve(site, inputs, options(interface)), lambda r: r.schedule
    )
    assert flows(result.schedule) == ([5, 5, 5, 5], [0, 0, 0, 0])
    streams = money(result.streams)
    assert streams["grid_energy_purchase"] == pytest.approx((-200.0, 20.0))
    assert streams["grid_energy_sale"] == pytest.approx((0.0, 0.0), abs=1e-9)
    assert result.kpis.objective_usd == unnetted.kpis.objective_usd
    assert mismatches(site, result) == []  # streams, basis, KPIs, Σ streams = HiGHS objective
    assert violations(site, result.schedule) == []


@pytest.mark.parametrize("interface", INTERFACES)
def test_single_settlement_with_a_ppa_splits_the_net_import(interface, monkeypatch):
    # The 8 MW block is used for the hall's 5 MW, the other 3 MW resold: import 5, export 0,
    # ppa_used 5, spot 0. ppa_energy -25 x 8 x 4 = -800 USD on 32 MWh; power_credits
    # 3 x 40 = 120 USD on 12 MWh; nothing bought at spot or sold.
    site = make_site(grid={**GRID, "ppa": PPA_8_MW}, hpc=HALL_5_MW)
    inputs = make_inputs(site, PRICES)
    unnetted, result = run_both(
        monkeypatch, lambda: solve(site, inputs, options(interface)), lambda r: r.schedule
    )
    schedule = result.schedule
    assert flows(schedule) == ([5, 5, 5, 5], [0, 0, 0, 0])
    assert schedule["ppa_used_mw"].tolist() == [5, 5, 5, 5]
    assert schedule["ppa_resold_mw"].tolist() == [3, 3, 3, 3]
    streams = money(result.streams)
    assert streams["ppa_energy"] == pytest.approx((-800.0, 32.0))
    assert streams["power_credits"] == pytest.approx((120.0, 12.0))
    assert streams["grid_energy_purchase"] == pytest.approx((0.0, 0.0), abs=1e-9)
    assert streams["grid_energy_sale"] == pytest.approx((0.0, 0.0), abs=1e-9)
    assert result.kpis.objective_usd == unnetted.kpis.objective_usd
    assert mismatches(site, result) == []
    assert violations(site, result.schedule) == []


@pytest.mark.parametrize("interface", INTERFACES)
def test_coincident_peak_prices_only_the_weighted_hours(interface, monkeypatch):
    # P1 prices import in the last hour only (weight 0.5): HiGHS avoids both flows there, not
    # in the other hours. CP charge 40,000 / 4 x 0.5 x 5 MW = -25,000 USD; purchase -200.
    cp = {"usd_per_mw_year": 40_000, "peaks_per_year": 4}
    site = make_site(grid={**GRID, "coincident_peak": cp}, hpc=HALL_5_MW)
    inputs = make_inputs(site, PRICES, coincident_peak_weight=[0, 0, 0, 0.5])
    unnetted, result = run_both(
        monkeypatch, lambda: solve(site, inputs, options(interface)), lambda r: r.schedule
    )
    assert both_ways(unnetted.schedule)[3] == 0
    assert flows(result.schedule) == ([5, 5, 5, 5], [0, 0, 0, 0])
    streams = money(result.streams)
    assert streams["coincident_peak"] == pytest.approx((-25_000.0, 20.0))
    assert streams["grid_energy_purchase"] == pytest.approx((-200.0, 20.0))
    assert result.kpis.objective_usd == unnetted.kpis.objective_usd
    assert mismatches(site, result) == []
    assert violations(site, result.schedule) == []


@pytest.mark.parametrize("interface", INTERFACES)
def test_a_demand_charge_lets_import_flow_both_ways_up_to_the_peak(interface, monkeypatch):
    # A 10 MW hall at 100 % then 50 %: the month's peak is 10 MW whatever happens, so in the
    # half-load hours importing up to 10 and exporting 5 costs nothing more (P2 does not stop
    # it). Netted: import [10, 5, 10, 5], export 0; demand charge -100 x 10 = -1000 USD;
    # purchase -(-10 x 10 + 30 x 5) x 2 = -100 USD on 30 MWh.
    dc = {"usd_per_mw_month": 100}
    site = make_site(grid={**GRID, "demand_charge": dc}, hpc=HALL_10_MW)
    inputs = make_inputs(site, [-10, 30, -10, 30], hpc_utilization_fraction=[1, 0.5, 1, 0.5])
    unnetted, result = run_both(
        monkeypatch, lambda: solve(site, inputs, options(interface)), lambda r: r.schedule
    )
    assert flows(result.schedule) == ([10, 5, 10, 5], [0, 0, 0, 0])
    streams = money(result.streams)
    assert streams["demand_charge"] == pytest.approx((-1000.0, 30.0))
    assert streams["grid_energy_purchase"] == pytest.approx((-100.0, 30.0))
    assert result.kpis.objective_usd == unnetted.kpis.objective_usd
    assert mismatches(site, result) == []
    assert violations(site, result.schedule) == []


@pytest.mark.parametrize("lookahead_hours", [0, 24])
def test_rolling_days_keep_the_net_flow(lookahead_hours, monkeypatch):
    # Three days of the 4-hour price pattern; with a look-ahead each kept day holds a window of
    # a 48 h solution (settled again on the kept window). Every day: import 5 MW, export 0,
    # purchase -5 x 6 x 40 = -1200 USD on 120 MWh.
    site = make_site(grid=GRID, hpc=HALL_5_MW)
    inputs = make_inputs(site, PRICES * 18)

    def run():
        return roll(site, inputs, options("compiled"), lookahead_hours=lookahead_hours)

    _, days = run_both(monkeypatch, run, lambda ds: pd.concat([d.result.schedule for d in ds]))
    assert len(days) == 3
    for day in days:
        assert flows(day.result.schedule) == ([5] * 24, [0] * 24)
        streams = money(day.result.streams)
        assert streams["grid_energy_purchase"] == pytest.approx((-1200.0, 120.0))
        assert streams["grid_energy_sale"] == pytest.approx((0.0, 0.0), abs=1e-9)


# --- two-settlement (the operator's day) and the stochastic day-ahead stage ----------------------


@pytest.mark.parametrize("interface", INTERFACES)
@pytest.mark.parametrize("ppa", [False, True], ids=["no_ppa", "ppa"])
def test_two_settlement_day_ahead_and_real_time_report_the_net_flow(interface, ppa, monkeypatch):
    # DA = RT prices. The market position is import - export - PPA block = 5 - 0 - (8 or 0):
    # no PPA: da_position 5, da_energy -5 x 40 = -200 USD on 20 MWh, adder basis 20 MWh;
    # PPA: da_position -3, da_energy +3 x 40 = 120 USD on -12 MWh, ppa_energy -800 on 32 MWh,
    # nothing bought beyond the block (adder basis 0). No deviation in either stage.
    site = make_site(grid={**GRID, "ppa": PPA_8_MW} if ppa else GRID, hpc=HALL_5_MW)
    day = make_inputs(site, PRICES, **{DA_PRICE: PRICES})
    position, da_usd, spot_mwh = (-3.0, 120.0, 0.0) if ppa else (5.0, -200.0, 20.0)

    def operator_day():
        runner = StageRunner(site, options(interface))
        plan = runner.day_ahead(day, day, None, DayAheadForecast())
        real_time, _ = runner.real_time(day, day, None, plan, DayAheadForecast(), 1)
        return plan.settled, real_time

    (unnetted, _), (planned, real_time) = run_both(
        monkeypatch, operator_day, lambda r: pd.concat([r[0].schedule, r[1].schedule])
    )
    assert planned.kpis.objective_usd == unnetted.kpis.objective_usd
    for result in (planned, real_time):
        assert flows(result.schedule) == ([5, 5, 5, 5], [0, 0, 0, 0])
        assert result.schedule["da_position_mw"].tolist() == pytest.approx([position] * 4)
        streams = money(result.streams)
        assert streams["da_energy"] == pytest.approx((da_usd, position * 4))
        assert streams["rt_deviation"] == pytest.approx((0.0, 0.0), abs=1e-9)
        assert streams["grid_import_adder"] == pytest.approx((0.0, spot_mwh), abs=1e-9)
        if ppa:
            assert streams["ppa_energy"] == pytest.approx((-800.0, 32.0))
        assert mismatches(site, result) == []
        assert violations(site, result.schedule) == []


@pytest.mark.parametrize("ppa", [False, True], ids=["no_ppa", "ppa"])
def test_every_stochastic_scenario_reports_the_net_flow(ppa, monkeypatch):
    # Real time at -10 or 30 all day, equally likely; the position buys the expected plan (N2),
    # the same 5 MW - PPA block as in the operator's day above, and nothing deviates. Pyomo's
    # interface: the compiled one (presolve on) returns the net flows here by itself.
    site = make_site(grid={**GRID, "ppa": PPA_8_MW} if ppa else GRID, hpc=HALL_5_MW)
    view = make_inputs(site, PRICES, **{DA_PRICE: PRICES})
    paths = np.array([[-10.0] * 4, [30.0] * 4])
    scenarios = PriceScenarios(view.index, paths, np.array([0.5, 0.5]), ("low", "high"), "hand")
    position, da_usd = (-3.0, 120.0) if ppa else (5.0, -200.0)

    def plan():
        return StochasticDayAhead(site, options("pyomo")).plan(view, scenarios, schedules=True)

    unnetted, netted = run_both(
        monkeypatch, plan, lambda p: pd.concat(p.schedules, ignore_index=True)
    )
    assert netted.report.objective_usd == unnetted.report.objective_usd
    assert netted.first_stage["da_position_mw"].tolist() == pytest.approx([position] * 4)
    for schedule, table in zip(netted.schedules, netted.streams, strict=True):
        assert flows(schedule) == ([5, 5, 5, 5], [0, 0, 0, 0])
        streams = money(table)
        assert streams["da_energy"] == pytest.approx((da_usd, position * 4))
        assert streams["rt_deviation"] == pytest.approx((0.0, 0.0), abs=1e-9)
        assert violations(site, schedule) == []


# --- real days ------------------------------------------------------------------------------------


@pytest.mark.parametrize("day", ["2021-02-15", "2023-08-17"], ids=["uri", "august_2023"])
def test_hpc_only_with_no_adder_on_real_days(day, monkeypatch):
    # sites/hpc_only.yaml (50 MW IT hall, 50 MW / 100 MWh battery) with the adder set to 0, on
    # Winter Storm Uri and the August 2023 heat wave: HiGHS returns tens of quarter-hours with
    # both flows (about 200 MWh each way). Netting moves the same MWh out of the purchase and
    # the sale, changes nothing else in the schedule and nothing in the money.
    site = load_site(SITES / "hpc_only.yaml")
    site = site.model_copy(
        update={"grid": site.grid.model_copy(update={"import_adder_usd_per_mwh": 0.0})}
    )
    inputs = load_inputs(site, day)
    unnetted, result = run_both(
        monkeypatch,
        lambda: solve(site, inputs, SolveOptions(model_cache=False)),
        lambda r: r.schedule,
    )
    # by hand from HiGHS's own schedule: the MWh imported and exported at once, and their value
    hours = site.interval_minutes / 60
    both_mw = both_ways(unnetted.schedule)
    both_mwh = float(both_mw.sum() * hours)
    both_usd = float((both_mw * unnetted.schedule["price_usd_per_mwh"]).sum() * hours)
    before, after = money(unnetted.streams), money(result.streams)
    purchase, sale = before["grid_energy_purchase"], before["grid_energy_sale"]
    assert after["grid_energy_purchase"] == pytest.approx(
        (purchase[0] + both_usd, purchase[1] - both_mwh), rel=1e-9, abs=1e-6
    )
    assert after["grid_energy_sale"] == pytest.approx(
        (sale[0] - both_usd, sale[1] - both_mwh), rel=1e-9, abs=1e-6
    )
    net = result.schedule["grid_import_mw"] - result.schedule["grid_export_mw"]
    net_before = unnetted.schedule["grid_import_mw"] - unnetted.schedule["grid_export_mw"]
    assert net.to_numpy() == pytest.approx(net_before.to_numpy(), abs=1e-9)
    others = [c for c in result.schedule if c not in ("grid_import_mw", "grid_export_mw")]
    pd.testing.assert_frame_equal(result.schedule[others], unnetted.schedule[others])
    assert result.kpis.objective_usd == unnetted.kpis.objective_usd
    assert mismatches(site, result) == []
    assert violations(site, result.schedule) == []


# --- what is left as solved: netting that would lower a charge ------------------------------------


def settle_by_hand(site, inputs, imported, exported, *, carried_peak_mw=0.0):
    """The grid block of a model built (not solved) with the given flows, settled."""
    built = build_model(site, inputs)
    terms = next(t for _, t in built.blocks if "grid_import_mw" in t.schedule)
    b = terms.schedule["grid_import_mw"].parent_block()
    for t, (i, e) in enumerate(zip(imported, exported, strict=True)):
        b.import_mw[t].set_value(i)
        b.export_mw[t].set_value(e)
    if carried_peak_mw:
        b.month_to_date_peak_mw.set_value(carried_peak_mw)
    assert terms.settle is not None
    terms.settle()
    return b


def test_a_coincident_peak_hour_is_left_as_solved():
    # Netting hour 1 would lower the CP charge by 0.5 x 10 x rate: not HiGHS's money. Such a
    # schedule is never optimal (a time-limited incumbent may be); the others are netted.
    cp = {"usd_per_mw_year": 40_000, "peaks_per_year": 4}
    site = make_site(grid={**GRID, "coincident_peak": cp}, hpc=HALL_5_MW)
    inputs = make_inputs(site, PRICES, coincident_peak_weight=[0, 0.5, 0, 0])
    b = settle_by_hand(site, inputs, [15, 15, 5, 15], [10, 10, 0, 10])
    assert [b.import_mw[t].value for t in range(4)] == [5, 15, 5, 5]
    assert [b.export_mw[t].value for t in range(4)] == [0, 10, 0, 0]


@pytest.mark.parametrize(
    ("imported", "exported", "carried_mw", "netted", "peak_mw"),
    [
        # the 10 MW peak is held in hours 0 and 2, which import only: hours 1 and 3 are netted
        ([10, 10, 10, 10], [0, 5, 0, 5], 0.0, [10, 5, 10, 5], 10),
        # hours 1 and 3 hold the peak alone: netting them would lower it 10 -> 5, left
        ([5, 10, 5, 10], [0, 5, 0, 5], 0.0, [5, 10, 5, 10], 10),
        # ... unless the month-to-date peak carried in (12 MW) holds it
        ([5, 10, 5, 10], [0, 5, 0, 5], 12.0, [5, 5, 5, 5], 12),
        # hour 3 holds the peak alone (8 MW), hour 1 (7 MW) lies below the 7 MW kept: netted
        ([5, 7, 7, 8], [0, 2, 0, 3], 0.0, [5, 5, 7, 8], 8),
    ],
)
def test_a_demand_peak_is_never_lowered_by_netting(imported, exported, carried_mw, netted, peak_mw):
    site = make_site(grid={**GRID, "demand_charge": {"usd_per_mw_month": 100}}, hpc=HALL_5_MW)
    inputs = make_inputs(site, PRICES)
    b = settle_by_hand(site, inputs, imported, exported, carried_peak_mw=carried_mw)
    assert [b.import_mw[t].value for t in range(4)] == netted
    net = np.array(imported) - np.array(exported)
    assert [b.export_mw[t].value for t in range(4)] == pytest.approx(np.array(netted) - net)
    assert [pyo.value(p) for p in b.peak_import_mw.values()] == [peak_mw]


# --- sizing -------------------------------------------------------------------------------------


def test_sizing_settles_the_flows_of_every_day_block(monkeypatch):
    # A wiring test: no sizing case was found where HiGHS returns both flows at once (the MILP
    # lands on the net flow by itself), so this checks that the sizing MILP settles each day
    # block through the same step as dispatch, once, after its last solve.
    from test_sizing_model import N_YEARS, OPTIONS, toy_days, toy_site

    from dispatch.sizing.model import optimize
    from dispatch.sizing.plan import Planning

    settled = []
    real = grid.settle_simultaneous_flows

    def spy(b, spec, ctx):
        settled.append(b.import_mw[0].value is not None)
        real(b, spec, ctx)

    monkeypatch.setattr(grid, "settle_simultaneous_flows", spy)
    planning = Planning(toy_site(grid=GRID))
    days = toy_days(planning.site, prices=[30.0, -10.0] * 24)
    optimize(planning, days, N_YEARS, OPTIONS)
    assert settled == [True] * len(days)
