"""Sizing inputs: the history by day, representative days and hashprice scenarios."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from conftest import SITES

from dispatch import InputError, load_site
from dispatch.inputs import COINCIDENT_PEAK_WEIGHT, HASHPRICE, PRICE
from dispatch.inputs.bundled import read_dataset
from dispatch.sizing.days import _hourly_profiles, load_history, parse_years, representative_days
from dispatch.sizing.plan import Planning
from dispatch.sizing.scenarios import Scenario, apply_scenario, load_scenarios


@pytest.fixture(scope="module")
def campus():
    """The retrofit example at an hourly interval (bundled day-ahead prices)."""
    site = load_site(SITES / "retrofit_campus.yaml")
    return site.model_copy(update={"interval_minutes": 60})


@pytest.fixture(scope="module")
def summer(campus):
    """June-September 2023: four ERCOT 4CP days and the August heat wave."""
    upper = Planning(campus).upper_site()
    return load_history(upper, start=dt.date(2023, 6, 1), end=dt.date(2023, 9, 30))


def test_years():
    assert parse_years("2023") == (2023,)
    assert parse_years("2021:2024") == (2021, 2022, 2023, 2024)
    for bad in ("2024:2023", "twenty", "2021-2024"):
        with pytest.raises(InputError, match="--years"):
            parse_years(bad)


def test_history_of_whole_years_counts_years_and_days(campus):
    history = load_history(Planning(campus).upper_site(), years=(2023,))
    days = history.days()
    assert history.n_years == 1.0 and history.label == "2023"
    assert len(days) == 365
    lengths = {d.date: len(d.inputs.frame) for d in days}
    assert lengths[dt.date(2023, 3, 12)] == 23 and lengths[dt.date(2023, 11, 5)] == 25  # DST


@pytest.mark.parametrize("day", [dt.date(2023, 3, 12), dt.date(2023, 11, 5)])
def test_hourly_profiles_repeat_the_hour_before_the_gap_and_average_a_repeated_hour(campus, day):
    """The profiles tsam clusters (one row per local hour) on the DST days and their
    neighbours: each hour the mean of its intervals, recomputed here interval by interval; the
    spring-forward day's missing 2 a.m. is its 1 a.m., the fall-back day's 1 a.m. the mean of
    both 1 a.m. hours."""
    upper = Planning(campus).upper_site()
    history = load_history(upper, start=day - dt.timedelta(days=1), end=day + dt.timedelta(days=1))
    days = history.days()
    profiles = _hourly_profiles(days, [PRICE, HASHPRICE])
    assert len(profiles) == 3 * 24
    for k, one in enumerate(days):
        frame = one.inputs.frame
        expected = []
        for hour in range(24):
            found = [v for t, v in zip(frame.index, frame[PRICE], strict=True) if t.hour == hour]
            expected.append(sum(found) / len(found) if found else expected[-1])
        assert profiles[PRICE].iloc[24 * k : 24 * (k + 1)].tolist() == pytest.approx(expected)
    lengths = [len(d.inputs.frame) for d in days]
    assert lengths[1] == (23 if day.month == 3 else 25) and lengths[0] == lengths[2] == 24
    prices = days[1].inputs.frame[PRICE]
    if day.month == 3:
        assert profiles[PRICE].iloc[24 + 2] == prices.iloc[1]
    else:
        assert profiles[PRICE].iloc[24 + 1] == pytest.approx(prices.iloc[1:3].mean())


def test_representative_days_are_real_days_whose_weights_add_up_to_the_history(summer):
    days = summer.days()
    rep = representative_days(days, 12, summer.event_columns)
    assert len(rep.days) == 12 + 4  # 12 chosen by tsam, and the four 4CP days on top
    assert sum(d.weight_days for d in rep.days) == pytest.approx(len(days))
    by_date = {d.date: d for d in days}
    for day in rep.days:  # each is a real day, with its own real inputs
        pd.testing.assert_frame_equal(day.inputs.frame, by_date[day.date].inputs.frame)
    # the four 4CP days are kept as themselves, weight 1
    peak_days = {d.date for d in days if d.inputs.frame[COINCIDENT_PEAK_WEIGHT].gt(0).any()}
    assert len(peak_days) == 4
    pinned = {d.date for d in rep.days if d.kind == "pinned"}
    assert pinned == peak_days
    assert all(d.weight_days == 1 for d in rep.days if d.kind in ("pinned", "extreme"))
    # the days of the highest and of the lowest hourly price are kept as extremes
    others = [d for d in days if d.date not in peak_days]
    top = max(others, key=lambda d: d.inputs.frame[PRICE].max()).date
    bottom = min(others, key=lambda d: d.inputs.frame[PRICE].min()).date
    assert {top, bottom} == {d.date for d in rep.days if d.kind == "extreme"}
    assert set(rep.accuracy.index) >= {PRICE, HASHPRICE}
    hashprice_error = rep.means.set_index("series").loc[HASHPRICE, "relative_error"]
    assert abs(hashprice_error) < 0.02


def test_enough_representative_days_are_every_day(summer):
    days = summer.days()
    rep = representative_days(days, len(days) + 5, summer.event_columns)
    assert [d.date for d in rep.days] == [d.date for d in days]
    assert all(d.weight_days == 1 for d in rep.days)


def test_pinned_days_come_on_top_of_the_days_tsam_chooses(summer):
    rep = representative_days(
        summer.days(), 2, summer.event_columns
    )  # too few for extremes: two clusters
    assert [d.kind for d in rep.days].count("pinned") == 4
    assert [d.kind for d in rep.days].count("cluster") == 2
    assert sum(d.weight_days for d in rep.days) == pytest.approx(len(summer.days()))
    with pytest.raises(InputError, match="--representative-days: expected at least 1"):
        representative_days(summer.days(), 0, summer.event_columns)


def test_halving_scenario_halves_the_subsidy_part_of_each_day(summer):
    halving = apply_scenario(summer, Scenario(name="halving", subsidy_factor=0.5))
    chain = read_dataset("btc_hashprice")
    day = dt.date(2023, 8, 17)
    share = (
        chain.loc[day, "hashprice_subsidy_usd_per_th_day"]
        / chain.loc[day, "hashprice_usd_per_th_day"]
    )
    assert 0.85 < share < 1  # mostly subsidy in 2023
    before = summer.inputs.frame.loc[str(day), HASHPRICE].iloc[0]
    after = halving.inputs.frame.loc[str(day), HASHPRICE].iloc[0]
    assert after == pytest.approx(before * (share * 0.5 + (1 - share)), rel=1e-12)
    # prices and everything else untouched, and the source says which scenario
    pd.testing.assert_series_equal(halving.inputs.frame[PRICE], summer.inputs.frame[PRICE])
    assert "scenario halving" in halving.inputs.sources[HASHPRICE]


def test_scenario_file_scales_or_replaces_hashprice(summer, tmp_path):
    flat = pd.DataFrame(
        {"date": pd.date_range("2023-06-01", "2023-09-30").date, "hashprice_usd_per_th_day": 0.05}
    )
    flat.to_csv(tmp_path / "flat.csv", index=False)
    (tmp_path / "scenarios.yaml").write_text(
        "scenarios:\n"
        "  - {name: history}\n"
        "  - {name: doubled, hashprice_factor: 2.0}\n"
        "  - {name: flat, hashprice_file: flat.csv}\n"
    )
    history, doubled, flat_scenario = load_scenarios(tmp_path / "scenarios.yaml")
    assert apply_scenario(summer, history) is summer
    values = summer.inputs.frame[HASHPRICE].to_numpy()
    np.testing.assert_allclose(apply_scenario(summer, doubled).inputs.frame[HASHPRICE], 2 * values)
    np.testing.assert_allclose(apply_scenario(summer, flat_scenario).inputs.frame[HASHPRICE], 50.0)


def test_bad_scenario_files_name_the_field(tmp_path):
    (tmp_path / "bad.yaml").write_text("scenarios:\n  - {name: x, hashprice_factr: 2}\n")
    with pytest.raises(InputError, match=r"scenarios\[0\].hashprice_factr: unknown key"):
        load_scenarios(tmp_path / "bad.yaml")
    (tmp_path / "twice.yaml").write_text("scenarios:\n  - {name: x}\n  - {name: x}\n")
    with pytest.raises(InputError, match="scenario names must not repeat"):
        load_scenarios(tmp_path / "twice.yaml")
