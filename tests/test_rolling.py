"""Rolling horizons: state carried across midnight, look-ahead, and equality with single solves.

Tolerances: 1e-6 USD / MW / MWh on tiny exact solves (mip_rel_gap 0).
"""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import fleet, hand_energy_and_hashing_usd, make_inputs, make_site, mining

from dispatch import InputError, Inputs
from dispatch.batch.rolling import day_windows, roll, slice_inputs
from dispatch.model.battery import BatteryState
from dispatch.model.carry import carried_window, recent, run_length, switches
from dispatch.model.generators import GeneratorState
from dispatch.model.mining import FleetState
from dispatch.model.state import SiteState
from dispatch.solver import Dispatcher, SolveOptions, solve

EXACT = SolveOptions(mip_rel_gap=0.0)
BUILT = SolveOptions(mip_rel_gap=0.0, model_cache=False)  # a model built for the solve
HASHPRICE_60_USD_PER_MWH = 36.0  # a 1 MW, 25 J/TH container earns 60 USD per MWh


# --- pure helpers (no solver) ---------------------------------------------------------------


def test_carried_window_counts_switches_still_inside_the_window():
    # a start 1 interval before the horizon, another 3 before; window of 4 intervals
    history = (1, 0, 0, 2)  # τ = -4, -3, -2, -1
    # t=0 sees τ=-3..-1 -> 2; t=1 sees τ=-2..-1 -> 2; t=2 sees τ=-1 -> 2; t=3 sees nothing
    assert carried_window(history, window=4, n_intervals=5) == [2, 2, 2, 0, 0]
    assert carried_window((5,), window=4, n_intervals=3) == [5, 5, 5]
    assert carried_window((), window=4, n_intervals=2) == [0, 0]
    assert carried_window((3, 3), window=1, n_intervals=2) == [0, 0]


def test_switch_history_helpers():
    assert switches(3, [3, 1, 1, 4]) == ([0, 0, 0, 3], [0, 2, 0, 0])
    assert recent((1, 2), (3, 4, 5), 3) == (3, 4, 5)
    assert recent((1, 2), (3,), 4) == (1, 2, 3)
    assert recent((1, 2), (3,), 0) == ()
    assert run_length(0, 5, [1, 1, 0, 0, 0], cap=10) == 3
    assert run_length(1, 5, [1, 1], cap=10) == 7  # still on: the carried-in run continues
    assert run_length(1, 5, [1, 1], cap=6) == 6


@pytest.mark.parametrize("unit", ["ns", "us"])
def test_day_windows_with_and_without_look_ahead(unit: str):
    index = pd.date_range(
        pd.Timestamp("2024-06-03", tz="America/Chicago"), periods=72, freq="60min"
    ).as_unit(unit)
    assert [(w.start, w.kept, w.stop) for w in day_windows(index)] == [
        (0, 24, 24),
        (24, 24, 48),
        (48, 24, 72),
    ]
    assert [(w.start, w.kept, w.stop) for w in day_windows(index, 24)] == [
        (0, 24, 48),
        (24, 24, 72),
        (48, 24, 72),  # the look-ahead never reaches past the period
    ]
    assert [w.stop for w in day_windows(index, 6)] == [30, 54, 72]


def test_day_windows_keep_dst_days_whole():
    index = pd.date_range(
        pd.Timestamp("2024-11-02", tz="America/Chicago"),
        pd.Timestamp("2024-11-05", tz="America/Chicago"),
        freq="15min",
        inclusive="left",
    )
    windows = day_windows(index, 24)
    assert [w.kept for w in windows] == [96, 100, 96]  # fall back: a 25-hour day
    assert [w.stop - w.start for w in windows] == [192, 196, 96]  # 24 h absolute look-ahead


# --- carried state matters --------------------------------------------------------------------


def genset_site():
    """3 MW of mining worth 60 USD/MWh; a 3 MW genset at 30 USD/MWh with a 6-hour min-up."""
    return make_site(
        grid={"import_limit_mw": 10},
        mining=mining(fleet(containers=3)),
        generators=[
            {
                "name": "g",
                "capacity_mw": 3,
                "min_stable_fraction": 0.5,
                "heat_rate_mmbtu_per_mwh": 10,
                "fuel_price_usd_per_mmbtu": 3,
                "startup_cost_usd": 10,
                "min_up_minutes": 360,
            }
        ],
    )


def test_min_up_genset_started_late_on_day_one_stays_on_into_day_two():
    site = genset_site()
    # day 1: grid at 20 except 100 in the last two hours (the genset at 30 beats it); day 2: 20
    prices = [20] * 22 + [100, 100] + [20] * 24
    days = roll(site, make_inputs(site, prices, HASHPRICE_60_USD_PER_MWH), EXACT)
    on = [d.result.schedule["generator_g_on"].tolist() for d in days]
    assert on[0] == [0] * 22 + [1, 1]
    assert on[1] == [1] * 4 + [0] * 20  # 2 + 4 = the 6-hour minimum, though the grid is cheaper
    assert days[0].state.get("generator_g") == GeneratorState(True, 3.0, 2)
    fresh = solve(
        site, make_inputs(site, prices[24:], HASHPRICE_60_USD_PER_MWH, start="2024-06-04")
    )
    assert fresh.schedule["generator_g_on"].sum() == 0  # without the carried state: never on
    # the forced hours cost (30 - 20) x 1.5 MW at min stable output, for 4 hours
    assert fresh.kpis.net_margin_usd - days[1].result.kpis.net_margin_usd == pytest.approx(60.0)


def battery_site():
    return make_site(
        grid={"import_limit_mw": 20, "export_limit_mw": 20},
        battery={
            "power_mw": 10,
            "energy_mwh": 20,
            "round_trip_efficiency": 1.0,
            "initial_soc_fraction": 0.5,
            "degradation_usd_per_mwh": 1.0,  # no ties: cycling at a flat price loses money
        },
    )


def test_battery_carries_its_soc_across_midnight():
    site = battery_site()
    # day 1 ends with negative prices (paid to charge): it ends full; day 2 opens at 100
    prices = [30] * 22 + [-10, -10] + [100] * 2 + [30] * 22
    days = roll(site, make_inputs(site, prices), EXACT)
    assert days[0].state.get("battery") == BatteryState(20.0)
    day_two = days[1].result.schedule
    # it opens full: sells all 20 MWh into the 100s and buys the 10 MWh reference back at 30
    assert day_two["battery_discharge_mw"].iloc[:2].tolist() == pytest.approx([10, 10])
    assert days[1].state.get("battery").soc_mwh == pytest.approx(10.0)  # ends at the reference
    fresh = solve(site, make_inputs(site, prices[24:], start="2024-06-04"), EXACT)
    assert fresh.schedule["battery_discharge_mw"].sum() == pytest.approx(10.0)  # from 10 MWh
    difference = days[1].result.kpis.net_margin_usd - fresh.kpis.net_margin_usd
    assert difference == pytest.approx(10 * (100 - 1))  # the 10 MWh carried over midnight


def test_look_ahead_charges_before_midnight_for_tomorrow_morning():
    site = battery_site()
    prices = [30] * 24 + [200] * 2 + [30] * 22
    inputs = make_inputs(site, prices)
    myopic = roll(site, inputs, EXACT)
    ahead = roll(site, inputs, EXACT, lookahead_hours=24)
    assert myopic[0].state.get("battery").soc_mwh == pytest.approx(10.0)
    assert ahead[0].state.get("battery").soc_mwh == pytest.approx(20.0)  # bought at 30
    total = sum(d.result.kpis.net_margin_usd for d in ahead)
    # 10 MWh more bought at 30 and sold at 200 (less 1 USD/MWh degradation)
    assert total - sum(d.result.kpis.net_margin_usd for d in myopic) == pytest.approx(10 * 169)


# --- a rolling run is a loop of single solves -------------------------------------------------


def hybrid_site():
    return make_site(
        grid={"import_limit_mw": 12, "export_limit_mw": 5, "import_adder_usd_per_mwh": 2},
        mining=mining(
            fleet("new", containers=4, efficiency_j_per_th=20.0, min_off_minutes=180),
            fleet("old", containers=3, min_on_minutes=240, startup_cost_usd=3),
        ),
        battery={"power_mw": 3, "energy_mwh": 6, "degradation_usd_per_mwh": 2},
        generators=[genset_site().generators[0]],
    )


def three_days_of_prices() -> list[float]:
    day = [22, 18, 15, 14, 16, 25, 40, 55, 48, 35, 30, 33, 45, 70, 95, 130, 160, 90, 65, 50]
    day += [38, 30, 26, 90]
    return day + [p * 1.1 + 3 for p in day] + [p * 0.8 for p in day]


@pytest.mark.parametrize("lookahead_hours", [0, 24])
def test_rolling_equals_single_solves_from_the_same_state(lookahead_hours: int):
    site = hybrid_site()
    inputs = make_inputs(site, three_days_of_prices(), HASHPRICE_60_USD_PER_MWH)
    days = roll(site, inputs, EXACT, lookahead_hours=lookahead_hours)
    assert [len(d.result.schedule) for d in days] == [24, 24, 24]
    state = None
    for window, day in zip(day_windows(inputs.index, lookahead_hours), days, strict=True):
        horizon = slice_inputs(inputs, window.start, window.stop)
        single = solve(site, horizon, BUILT, state=state)  # a fresh model for each day
        if lookahead_hours == 0:
            assert day.result.kpis.net_margin_usd == pytest.approx(
                single.kpis.net_margin_usd, abs=1e-6
            )
            # the solver's objective over the day is the streams' sum
            assert day.result.streams["usd"].sum() == pytest.approx(
                day.result.kpis.objective_usd, abs=1e-6
            )
        else:  # the kept day is the look-ahead solution's first 24 hours
            pd.testing.assert_frame_equal(day.result.schedule, single.schedule.iloc[:24], atol=1e-6)
        money = day.result.streams.set_index("stream")["usd"]
        for stream, usd in hand_energy_and_hashing_usd(day.result, site).items():
            assert money[stream] == pytest.approx(usd, abs=1e-6)
        state = day.state
    assert set(days[-1].state.assets) == {"mining_new", "mining_old", "battery", "generator_g"}


def test_fleet_state_holds_its_min_off_window_across_midnight():
    site = make_site(
        grid={"import_limit_mw": 10},
        mining=mining(fleet(containers=2, min_off_minutes=180)),
    )
    # a spike in the last hour of day 1 stops both containers; day 2 is cheap from hour 0
    prices = [20] * 23 + [500] + [20] * 24
    days = roll(site, make_inputs(site, prices, HASHPRICE_60_USD_PER_MWH), EXACT)
    # history: the last 2 intervals (a 3-hour window reaches 2 back past midnight)
    assert days[0].state.get("mining_s19") == FleetState(0, (0, 0), (0, 2))
    on = days[1].result.schedule["mining_s19_containers_on"].tolist()
    assert on[:3] == [0, 0, 2]  # off for 3 hours in all: 1 on day 1 + 2 on day 2


def test_a_reused_model_starts_fresh_when_given_no_state():
    site = genset_site()
    prices = [20] * 22 + [100, 100]
    dispatcher = Dispatcher(site, EXACT)
    first = dispatcher.solve(make_inputs(site, prices, HASHPRICE_60_USD_PER_MWH))
    carried = SiteState({"generator_g": GeneratorState(True, 3.0, 1)})
    forced = dispatcher.solve(make_inputs(site, [20] * 24, HASHPRICE_60_USD_PER_MWH), carried)
    again = dispatcher.solve(make_inputs(site, [20] * 24, HASHPRICE_60_USD_PER_MWH))
    assert dispatcher.models_built + dispatcher.models_from_cache == 1
    assert forced.schedule["generator_g_on"].iloc[:5].tolist() == [1] * 5
    assert again.schedule["generator_g_on"].sum() == 0  # the carried state did not linger
    assert first.kpis.net_margin_usd > 0


def test_rolling_through_a_dst_day_with_look_ahead():
    site = hybrid_site()
    prices = [*three_days_of_prices(), 30.0]  # Nov 2, 3 (25 hours), 4 in Chicago
    inputs = make_inputs(site, prices, HASHPRICE_60_USD_PER_MWH, start="2024-11-02")
    days = roll(site, inputs, EXACT, lookahead_hours=24)
    assert [len(d.result.schedule) for d in days] == [24, 25, 24]
    assert [str(d.day) for d in days] == ["2024-11-02", "2024-11-03", "2024-11-04"]
    for day in days:
        assert day.result.kpis.status == "optimal"
        money = day.result.streams.set_index("stream")["usd"]
        for stream, usd in hand_energy_and_hashing_usd(day.result, site).items():
            assert money[stream] == pytest.approx(usd, abs=1e-6)


def test_demand_charge_carries_the_month_to_date_peak_across_days():
    # 10 MW of containers worth 60 USD/MWh against 20 USD power; a 500 USD/MW-month demand
    # charge (9,600 USD of margin a day buys it). Day 1 sets a 10 MW peak; day 2 (same month)
    # runs the same load for free, where a fresh solve of day 2 would pay the peak again. The 1st
    # of the next month starts over.
    site = make_site(
        grid={"import_limit_mw": 20, "demand_charge": {"usd_per_mw_month": 500}},
        mining=mining(fleet(containers=10)),
    )
    prices = [20.0] * 72
    days = roll(
        site, make_inputs(site, prices, HASHPRICE_60_USD_PER_MWH, start="2024-06-29"), EXACT
    )
    charges = [d.result.streams.set_index("stream").loc["demand_charge", "usd"] for d in days]
    assert charges == pytest.approx([-5_000, 0, -5_000])  # June 29, June 30, July 1
    assert days[1].state.get("grid").peak_import_mw == pytest.approx(10.0)
    assert days[2].state.get("grid").month == (2024, 7)


def test_look_ahead_does_not_charge_the_demand_peak_twice():
    # Day 1 at 100 USD/MWh keeps mining off; days 2-3 at 20 set a 10 MW peak once. With a 24 h
    # look-ahead the kept day 1 must not pay for the look-ahead's (day 2's) peak: the month
    # pays one 10 MW increase, 5,000 USD, with or without look-ahead.
    site = make_site(
        grid={"import_limit_mw": 20, "demand_charge": {"usd_per_mw_month": 500}},
        mining=mining(fleet(containers=10)),
    )
    inputs = make_inputs(
        site, [100.0] * 24 + [20.0] * 48, HASHPRICE_60_USD_PER_MWH, start="2024-06-10"
    )
    for hours in (0, 24):
        days = roll(site, inputs, EXACT, lookahead_hours=hours)
        charges = [d.result.streams.set_index("stream").loc["demand_charge", "usd"] for d in days]
        assert charges == pytest.approx([0, -5_000, 0])
        margins = [d.result.kpis.net_margin_usd for d in days]
        assert margins == pytest.approx([0, 24 * 10 * 40 - 5_000, 24 * 10 * 40])


def test_deferred_hpc_work_is_never_dropped_at_midnight():
    # Half the HPC load may be deferred within 5-hour windows; a 200 USD/MWh hour just before
    # midnight tempts deferring into the next day. Windows restart at local midnight, so with a
    # 24 h look-ahead every MWh required is still served within its own day.
    site = make_site(
        grid={"import_limit_mw": 30},
        hpc={
            "it_load_mw": 10,
            "pue": 1.0,
            "contract": {"kind": "colocation", "usd_per_kw_month": 0},
            "flexible_fraction": 0.5,
            "flexible_window_minutes": 300,
            "deferral_cost_usd_per_mwh": 1,
        },
    )
    prices = [20.0] * 23 + [200.0] + [10.0] + [20.0] * 23
    inputs = make_inputs(site, prices, hpc_utilization_fraction=[0.5] * 48)
    for hours in (0, 24):
        for day in roll(site, inputs, EXACT, lookahead_hours=hours):
            schedule = day.result.schedule
            assert schedule["hpc_served_mw"].sum() == pytest.approx(
                schedule["hpc_required_mw"].sum()
            )
            assert schedule["hpc_deferred_mw"].sum() == pytest.approx(
                schedule["hpc_made_up_mw"].sum()
            )


def dr_site(start: str, end: str):
    return make_site(
        grid={"import_limit_mw": 20},
        mining=mining(fleet(containers=10)),
        programs={
            "events": [
                {
                    "name": "e",
                    "start": start,
                    "end": end,
                    "committed_mw": 5,
                    "usd_per_mwh": 200,
                    "penalty_usd_per_mwh": 500,
                    "baseline": "scheduled",
                    "baseline_minutes": 120,
                }
            ]
        },
    )


def test_rolled_dr_event_earns_what_a_single_solve_earns():
    # the event (02:00-04:00 on day 2) and its 2-hour baseline lie inside day 2
    site = dr_site("2024-06-04T02:00:00-05:00", "2024-06-04T04:00:00-05:00")
    inputs = make_inputs(site, [20.0] * 48, HASHPRICE_60_USD_PER_MWH)
    whole = solve(site, inputs, EXACT).streams.set_index("stream").loc["dr_events", "usd"]
    rolled = [
        d.result.streams.set_index("stream").loc["dr_events", "usd"]
        for d in roll(site, inputs, EXACT)
    ]
    assert rolled == pytest.approx([0.0, whole])
    assert whole == pytest.approx(5 * 2 * 200)  # 5 MW curtailed for 2 h


def test_a_baseline_cut_by_midnight_is_refused_in_a_rolling_run():
    site = dr_site("2024-06-04T00:00:00-05:00", "2024-06-04T02:00:00-05:00")
    inputs = make_inputs(site, [20.0] * 48, HASHPRICE_60_USD_PER_MWH)
    assert solve(site, inputs, EXACT).kpis.status == "optimal"  # one 2-day model is fine
    with pytest.raises(
        InputError, match=r"programs.events\[0\].baseline_minutes: .* baseline: fixed"
    ):
        roll(site, inputs, EXACT)


def test_events_outside_a_batch_task_are_inactive_not_errors():
    site = dr_site("2024-06-04T02:00:00-05:00", "2024-06-04T04:00:00-05:00")
    index = pd.date_range(pd.Timestamp("2024-06-10", tz="America/Chicago"), periods=24, freq="h")
    frame = pd.DataFrame(
        {"price_usd_per_mwh": 20.0, "hashprice_usd_per_ph_day": HASHPRICE_60_USD_PER_MWH},
        index=index,
    )
    with pytest.raises(InputError, match=r"programs.events\[0\] \(e\): .* is outside the horizon"):
        Inputs.from_frame(site, frame)
    inactive = Inputs.from_frame(site, frame, dr_events_outside="inactive")
    assert inactive.frame["dr_e_active_fraction"].sum() == 0
