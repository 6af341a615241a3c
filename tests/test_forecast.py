"""Forecast mode: plan on day-ahead prices, settle at real-time prices, value perfect foresight.

Tolerances: 1e-6 USD on tiny exact solves.
"""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import SITES, fleet, hand_energy_and_hashing_usd, make_inputs, make_site, mining

from dispatch import load_inputs, load_site
from dispatch.batch.forecast import roll_forecast
from dispatch.errors import InputError
from dispatch.solver import SolveOptions

EXACT = SolveOptions(mip_rel_gap=0.0)
HASHPRICE_60_USD_PER_MWH = 36.0


def mining_site():
    return make_site(grid={"import_limit_mw": 10}, mining=mining(fleet(containers=3)))


def test_known_answers_of_every_case():
    site = mining_site()
    day_ahead = make_inputs(site, [20, 20, 80, 20], HASHPRICE_60_USD_PER_MWH)
    real_time = make_inputs(site, [20, 90, 30, 20], HASHPRICE_60_USD_PER_MWH)
    (day,) = roll_forecast(site, day_ahead, real_time, EXACT, redispatch_mining=True)
    on = "mining_s19_containers_on"
    assert day.plan.schedule[on].tolist() == [3, 3, 0, 3]
    assert day.settled.schedule[on].tolist() == [3, 3, 0, 3]  # the same schedule, RT prices
    assert day.redispatched is not None
    assert day.redispatched.schedule[on].tolist() == [3, 0, 3, 3]
    # 3 MW x (60 - price) in each interval mined
    assert day.plan.kpis.net_margin_usd == pytest.approx(3 * 40 * 3, abs=1e-6)  # 360
    assert day.settled.kpis.net_margin_usd == pytest.approx(3 * (40 - 30 + 40), abs=1e-6)  # 150
    assert day.redispatched.kpis.net_margin_usd == pytest.approx(3 * (40 + 30 + 40), abs=1e-6)
    assert day.perfect.kpis.net_margin_usd == pytest.approx(330, abs=1e-6)
    assert day.executed is day.redispatched
    assert day.value_of_perfect_foresight_usd == pytest.approx(0.0, abs=1e-6)
    (without,) = roll_forecast(site, day_ahead, real_time, EXACT)
    assert without.redispatched is None and without.executed is without.settled
    assert without.value_of_perfect_foresight_usd == pytest.approx(330 - 150, abs=1e-6)
    assert list(without.cases()) == ["da_plan", "da_schedule_rt", "perfect_foresight"]


def storage_site():
    return make_site(
        grid={"import_limit_mw": 10, "export_limit_mw": 10, "import_adder_usd_per_mwh": 1.5},
        mining=mining(fleet(containers=3, startup_cost_usd=2)),
        battery={"power_mw": 2, "energy_mwh": 4, "degradation_usd_per_mwh": 1.0},
    )


def test_settlement_values_the_day_ahead_schedule_at_real_time_prices():
    site = storage_site()
    da_prices = [25, 22, 30, 45, 85, 70, 40, 28]
    rt_prices = [24, 35, 18, 120, 60, 75, 20, 31]
    day_ahead = make_inputs(site, da_prices, HASHPRICE_60_USD_PER_MWH)
    real_time = make_inputs(site, rt_prices, HASHPRICE_60_USD_PER_MWH)
    (day,) = roll_forecast(site, day_ahead, real_time, EXACT, redispatch_mining=True)
    plan, settled = day.plan.schedule, day.settled.schedule
    decisions = [c for c in plan.columns if c != "price_usd_per_mwh"]
    pd.testing.assert_frame_equal(plan[decisions], settled[decisions])
    assert settled["price_usd_per_mwh"].tolist() == rt_prices
    # the settled streams, recomputed by hand from the schedule at real-time prices
    streams = day.settled.streams.set_index("stream")["usd"]
    purchase = -((settled["price_usd_per_mwh"] + 1.5) * settled["grid_import_mw"]).sum()
    sale = (settled["price_usd_per_mwh"] * settled["grid_export_mw"]).sum()
    assert streams["grid_energy_purchase"] == pytest.approx(purchase, abs=1e-6)
    assert streams["grid_energy_sale"] == pytest.approx(sale, abs=1e-6)
    assert streams["mining_hashprice"] == pytest.approx(
        day.plan.streams.set_index("stream")["usd"]["mining_hashprice"], abs=1e-6
    )
    # re-dispatch moves mining only; the battery keeps its day-ahead schedule
    assert day.redispatched is not None
    battery = ["battery_charge_mw", "battery_discharge_mw", "battery_soc_mwh"]
    pd.testing.assert_frame_equal(day.redispatched.schedule[battery], plan[battery], atol=1e-6)
    assert not day.redispatched.schedule["mining_s19_containers_on"].equals(
        plan["mining_s19_containers_on"]
    )
    # one day from the same state: the settled schedule is feasible for the re-dispatch, and
    # the re-dispatch is feasible for perfect foresight
    settled_usd, redispatched_usd = (
        day.settled.kpis.net_margin_usd,
        day.redispatched.kpis.net_margin_usd,
    )
    assert settled_usd <= redispatched_usd + 1e-6
    assert redispatched_usd <= day.perfect.kpis.net_margin_usd + 1e-6
    for result in day.cases().values():  # each case's money, recomputed from its schedule
        money = result.streams.set_index("stream")["usd"]
        for stream, usd in hand_energy_and_hashing_usd(result, site).items():
            assert money[stream] == pytest.approx(usd, abs=1e-6)


def test_forecast_mode_on_real_ercot_prices_with_look_ahead():
    site = load_site(SITES / "west_texas_hybrid_hourly.yaml")
    day_ahead = load_inputs(site, "2023-08-16", "2023-08-18", prices="ercot_dam_spp")
    real_time = load_inputs(site, "2023-08-16", "2023-08-18", prices="ercot_rtm_spp")
    days = list(
        roll_forecast(site, day_ahead, real_time, lookahead_hours=24, redispatch_mining=True)
    )
    assert [str(d.day) for d in days] == ["2023-08-16", "2023-08-17", "2023-08-18"]
    for day in days:
        assert len(day.executed.schedule) == 24
        assert day.executed.kpis.hpc_availability_fraction == pytest.approx(1.0)
        for result in day.cases().values():
            money = result.streams.set_index("stream")["usd"]
            for stream, usd in hand_energy_and_hashing_usd(result, site).items():
                assert money[stream] == pytest.approx(usd, rel=1e-9, abs=1e-6)
    # 17 August 2023: RT spiked far above DA in the evening; knowing it was worth a lot
    assert days[1].value_of_perfect_foresight_usd > 50_000


def test_day_ahead_and_real_time_inputs_must_line_up():
    site = mining_site()
    day_ahead = make_inputs(site, [20, 20, 80, 20], HASHPRICE_60_USD_PER_MWH)
    real_time = make_inputs(site, [20, 90, 30], HASHPRICE_60_USD_PER_MWH)
    with pytest.raises(InputError, match="different intervals"):
        next(roll_forecast(site, day_ahead, real_time))


PPA = SITES / "ppa_power_credits.yaml"


def price_file(folder, dataset: str, name: str):
    """Real HB_WEST prices of one day as the tidy file that states their market."""
    from dispatch.inputs.export import tidy_export, write_tidy

    day = pd.Timestamp("2023-08-17").date()
    frame, _ = tidy_export(dataset, settlement_point="HB_WEST", start=day, end=day)
    return str(write_tidy(frame, folder / name))


@pytest.mark.parametrize(
    ("prices", "rt_prices", "message"),
    [
        # the two files swapped: the plan would know the real-time prices, the settlement
        # would be the day-ahead ones (held over the quarter-hours without a word)
        ("rt.csv", "da.csv", "--prices rt.csv: real-time prices"),
        ("ercot_dam_spp", "da.csv", "--rt-prices da.csv: day-ahead prices"),
        ("ercot_dam_spp", "ercot_dam_spp", "--rt-prices ercot_dam_spp: day-ahead prices"),
        ("ercot_rtm_spp", "ercot_rtm_spp", "--prices ercot_rtm_spp: real-time prices"),
    ],
)
def test_forecast_mode_refuses_prices_of_the_wrong_market(tmp_path, prices, rt_prices, message):
    from dispatch.batch.tasks import plan_tasks

    files = {
        "da.csv": price_file(tmp_path, "ercot_dam_spp", "da.csv"),
        "rt.csv": price_file(tmp_path, "ercot_rtm_spp", "rt.csv"),
    }
    with pytest.raises(InputError) as error:
        plan_tasks(
            [PPA],
            "2023-08-17",
            "2023-08-17",
            prices=[files.get(prices, prices)],
            settlement_prices=files.get(rt_prices, rt_prices),
        )
    shown = str(error.value).replace(str(tmp_path) + "/", "")
    assert shown.startswith(message), shown


def test_forecast_mode_takes_prices_that_state_their_markets(tmp_path):
    from dispatch.batch.tasks import plan_tasks

    da = price_file(tmp_path, "ercot_dam_spp", "da.csv")
    rt = price_file(tmp_path, "ercot_rtm_spp", "rt.csv")
    (task,) = plan_tasks([PPA], "2023-08-17", "2023-08-17", prices=[da], settlement_prices=rt)
    assert (task.prices, task.settlement_prices) == (da, rt)


def test_forecast_mode_from_the_api_plans_on_day_ahead_prices_by_default():
    """As the CLI does: without --prices a forecast plans on ercot_dam_spp, never on the site's
    default (real-time for a 15-minute site), which would be perfect foresight by another name."""
    from dispatch.batch.tasks import plan_tasks

    (task,) = plan_tasks([PPA], "2023-08-17", "2023-08-17", settlement_prices="ercot_rtm_spp")
    assert (task.prices, task.settlement_prices) == ("ercot_dam_spp", "ercot_rtm_spp")
