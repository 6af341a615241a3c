"""The real-time loop: known answers, non-anticipativity (hypothesis), what is known when."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from conftest import fleet, make_inputs, make_site, mining
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from test_two_settlement import EXACT, HASHPRICE_60_USD_PER_MWH, streams, two_settlement

from dispatch.errors import InputError
from dispatch.inputs import DA_PRICE, PRICE
from dispatch.inputs.bundled import read_dataset
from dispatch.realtime.information import (
    DayAheadForecast,
    OperatorInputs,
    SpreadForecast,
    decision_intervals,
    forecast_peak_weights,
    previous_day_hashprice,
)
from dispatch.realtime.stages import BreakevenRule, Optimize, Policy, StageRunner
from dispatch.site import CoincidentPeak, Site

DA = [20.0, 200.0, 20.0, 20.0]
RT = [30.0, 20.0, 100.0, 20.0]


def run_day(site: Site, days: OperatorInputs, forecast, period: int, policy: Policy | None = None):
    runner = StageRunner(site, EXACT, policy or Optimize())
    plan = runner.day_ahead(days.day_ahead, days.realized, None, forecast)
    result, _ = runner.real_time(days.day_ahead, days.realized, None, plan, forecast, period)
    return plan, result


def mining_site() -> Site:
    return make_site(grid={"import_limit_mw": 10}, mining=mining(fleet(containers=3)))


def test_spread_forecast_follows_the_latest_rt_price_and_decays():
    days = two_settlement(mining_site(), DA, RT)
    forecast = SpreadForecast(half_life_hours=2.0)
    assert forecast.rest_of_day(0, np.empty(0), days.day_ahead).tolist() == DA
    # at k = 2 the latest known spread is RT[1] - DA[1] = -180, halved every 2 h
    expected = [20 - 180 * 0.5**0.5, 20 - 180 * 0.5**1.0]
    got = forecast.rest_of_day(2, np.array(RT[:2]), days.day_ahead)
    assert got.tolist() == pytest.approx(expected)


def test_operator_loop_known_answer():
    """Hourly decisions with the spread forecast (worked out by hand in the docs): hour 1 is
    forecast at 207 (curtail), hour 2 at -107 (mine), hour 3 at 76.6 after RT hit 100 in hour
    2 (curtail, but RT is 20: the forecast was wrong). Position [3, 0, 3, 3] at DA 20."""
    site = mining_site()
    plan, result = run_day(site, two_settlement(site, DA, RT), SpreadForecast(), 1)
    assert result.schedule["mining_s19_containers_on"].tolist() == [3, 0, 3, 0]
    usd = streams(result)
    assert usd["da_energy"] == pytest.approx(-180.0, abs=1e-6)
    assert usd["rt_deviation"] == pytest.approx(3 * 20, abs=1e-6)  # 3 MWh resold at 20
    assert result.kpis.net_margin_usd == pytest.approx(360 - 180 + 60, abs=1e-6)
    assert plan.settled.kpis.net_margin_usd == pytest.approx(360.0, abs=1e-6)


def test_with_the_day_ahead_price_as_forecast_the_loop_is_the_plan():
    """Past real-time prices are sunk: with the DA price as the forecast of every remaining
    interval, each re-solve finds the day-ahead plan again."""
    site = mining_site()
    plan, result = run_day(site, two_settlement(site, DA, RT), DayAheadForecast(), 1)
    pd.testing.assert_frame_equal(result.schedule, plan.settled.schedule)


def test_breakeven_rule_acts_on_the_latest_known_price():
    """The rule mines while 60 USD/MWh beats the last RT price known: hour 0 on the forecast
    (20), hour 1 on RT[0] = 30, hour 2 on RT[1] = 20, hour 3 off on RT[2] = 100."""
    site = mining_site()
    days = two_settlement(site, DA, RT)
    _, result = run_day(site, days, SpreadForecast(), 1, BreakevenRule(site))
    assert result.schedule["mining_s19_containers_on"].tolist() == [3, 3, 3, 0]
    # 9 MWh mined (540); DA 9 MWh at 20; deviation +3 at 20 in hour 1, -3 at 20 in hour 3
    assert result.kpis.net_margin_usd == pytest.approx(540 - 180 - 60 + 60, abs=1e-6)


LOOP_SITE = dict(
    grid={"import_limit_mw": 12, "export_limit_mw": 4, "import_adder_usd_per_mwh": 1.5},
    mining=mining(fleet(containers=4, startup_cost_usd=3.0), fleet("old", containers=3)),
    battery={"power_mw": 3, "energy_mwh": 6, "round_trip_efficiency": 0.9},
    programs={"ancillary": [{"product": "RRS", "max_mw": 4}]},
)
N = 8
prices = st.lists(st.floats(-40, 300, allow_nan=False, width=32), min_size=N, max_size=N)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    da=prices,
    rt=prices,
    later=prices,
    t=st.integers(0, N - 2),
    period=st.sampled_from([1, 2]),
    rule=st.booleans(),
)
def test_decisions_up_to_t_never_see_rt_prices_after_t(da, rt, later, t, period, rule):
    """Non-anticipativity: change the RT prices after interval t; every decision (every
    schedule column of intervals 0..t) is unchanged, for the operator and the breakeven rule."""
    changed = rt[: t + 1] + later[t + 1 :]
    assume(not np.allclose(changed[t + 1 :], rt[t + 1 :]))  # the future really changed
    site = make_site(**LOOP_SITE)
    policy: Policy = BreakevenRule(site) if rule else Optimize()

    def decisions(realized_rt: list[float]) -> pd.DataFrame:
        days = two_settlement(site, da, realized_rt, rrs_usd_per_mw_h=15.0)
        _, result = run_day(site, days, SpreadForecast(), period, policy)
        return result.schedule.drop(columns=[PRICE]).iloc[: t + 1]

    pd.testing.assert_frame_equal(decisions(rt), decisions(changed), atol=1e-7)


def test_decision_period_must_divide_the_day():
    site = make_site(
        grid={"import_limit_mw": 1}, battery={"power_mw": 1, "energy_mwh": 2}, interval_minutes=15
    )
    assert decision_intervals(site, 60) == 4
    with pytest.raises(InputError, match="multiple of the site's interval_minutes = 15"):
        decision_intervals(site, 20)
    with pytest.raises(InputError, match="420 does not divide the 1440-minute day"):
        decision_intervals(site, 420)


def test_hashprice_known_day_ahead_is_yesterdays():
    daily = pd.Series([10.0, 20.0, 30.0], index=[dt.date(2023, 8, d) for d in (1, 2, 3)])
    index = pd.date_range("2023-08-02", periods=48, freq="h", tz="America/Chicago")
    values = previous_day_hashprice(daily, index, "bundled")
    assert values[:24].tolist() == [10.0] * 24 and values[24:].tolist() == [20.0] * 24
    with pytest.raises(InputError, match="no hashprice for 2023-07-31"):
        previous_day_hashprice(daily, index - pd.Timedelta(days=1), "bundled")


CP = CoincidentPeak(usd_per_mw_year=60000, peaks_per_year=4)


def test_peak_weights_follow_yesterdays_hot_hours_on_risk_days():
    """June 2023 (ERCOT load, bundled): June 1 is a risk day (first of the month); the weight 1
    sits on the hours of May 31's load within 2 % of its maximum, a quarter per 15 minutes."""
    load = read_dataset("ercot_wind_solar")["ercot_load_mw"]
    horizon = pd.date_range("2023-06-01", periods=96, freq="15min", tz="America/Chicago")
    weights = forecast_peak_weights(CP, horizon, load)
    assert weights.sum() == pytest.approx(1.0)
    may31 = load.tz_convert("America/Chicago").loc["2023-05-31"]
    hot = sorted(may31[may31 >= 0.98 * may31.max()].index.hour)
    assert sorted(set(weights[weights > 0].index.hour)) == hot
    np.testing.assert_allclose(weights[weights > 0], 0.25 / len(hot))


@settings(max_examples=10, deadline=None)
@given(factors=st.lists(st.floats(0.5, 1.5), min_size=24, max_size=24))
def test_peak_weights_never_read_the_day_itself(factors):
    """Scaling ERCOT load on the day and after never moves that day's weights (and the
    realized August 2023 peak is there to be found: it is not what the weights use)."""
    load = read_dataset("ercot_wind_solar")["ercot_load_mw"]
    local = load.tz_convert("America/Chicago")
    day = dt.date(2023, 8, 10)
    horizon = pd.date_range("2023-08-10", periods=96, freq="15min", tz="America/Chicago")
    before = forecast_peak_weights(CP, horizon, load)
    changed = local.copy()
    on_or_after = np.array(local.index.date) >= day
    scale = np.resize(np.asarray(factors), int(on_or_after.sum()))
    changed[on_or_after] = changed[on_or_after] * scale
    assume(not np.allclose(changed.to_numpy(), local.to_numpy()))
    after = forecast_peak_weights(CP, horizon, changed.tz_convert("UTC"))
    pd.testing.assert_series_equal(before, after)


def test_peak_weights_are_zero_off_risk_days_and_outside_peak_months():
    load = read_dataset("ercot_wind_solar")["ercot_load_mw"]
    october = pd.date_range("2023-10-10", periods=24, freq="h", tz="America/Chicago")
    assert forecast_peak_weights(CP, october, load).sum() == 0
    # a day whose eve stayed well below the month's peak so far carries no weight
    local = load.tz_convert("America/Chicago")
    quiet = [
        d
        for d in pd.date_range("2023-06-05", "2023-09-30").date
        if d.month in (6, 7, 8, 9) and d.day > 1
        if local.loc[str(d - dt.timedelta(days=1))].max()
        < 0.95 * local[(local.index.date >= d.replace(day=1)) & (local.index.date < d)].max()
    ]
    assert quiet, "the summer of 2023 has calm days"
    horizon = pd.date_range(str(quiet[0]), periods=24, freq="h", tz="America/Chicago")
    assert forecast_peak_weights(CP, horizon, load).sum() == 0


def test_operator_inputs_keep_realized_and_known_apart():
    from dispatch.realtime.information import operator_inputs

    site = mining_site()
    real_time = make_inputs(site, RT, HASHPRICE_60_USD_PER_MWH)
    day_ahead = make_inputs(site, DA, HASHPRICE_60_USD_PER_MWH)
    daily = pd.Series([12.0], index=[dt.date(2024, 6, 2)])
    joined = operator_inputs(real_time, day_ahead, peak=None, load_mw=None, daily_hashprice=daily)
    assert joined.realized.frame[PRICE].tolist() == RT
    assert joined.realized.frame[DA_PRICE].tolist() == DA
    assert joined.day_ahead.frame[PRICE].tolist() == DA
    assert joined.day_ahead.frame["hashprice_usd_per_ph_day"].tolist() == [12.0] * 4
    assert joined.realized.frame["hashprice_usd_per_ph_day"].tolist() == [36.0] * 4
