"""Inputs: bundled real data on the site's intervals, tidy files, and the errors users meet."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import fleet, make_site, mining

from dispatch import InputError, load_inputs
from dispatch.errors import InputWarning
from dispatch.inputs.bundled import bundled_price, read_dataset


def quarter_site(**changes):
    return make_site(
        interval_minutes=15, grid={"import_limit_mw": 10}, mining=mining(fleet()), **changes
    )


def test_hourly_day_ahead_prices_are_held_over_quarter_hours():
    inputs = load_inputs(quarter_site(), "2023-08-17", prices="ercot_dam_spp")
    price = inputs.frame["price_usd_per_mwh"]
    assert len(price) == 96
    assert (price.to_numpy().reshape(24, 4) == price.to_numpy()[::4, None]).all()
    dam = bundled_price("ercot_dam_spp", "HB_WEST")
    # 19:00 CDT on 2023-08-17 is 00:00 UTC on 2023-08-18
    assert (
        price[pd.Timestamp("2023-08-17 19:45", tz="America/Chicago")]
        == dam[pd.Timestamp("2023-08-18 00:00", tz="UTC")]
    )


def test_real_time_prices_are_averaged_over_hourly_intervals():
    site = make_site(grid={"import_limit_mw": 10}, mining=mining(fleet()))
    inputs = load_inputs(site, "2023-08-17", prices="ercot_rtm_spp")
    rtm = bundled_price("ercot_rtm_spp", "HB_WEST")
    hour = pd.Timestamp("2023-08-17 19:00", tz="America/Chicago")
    expected = rtm[hour.tz_convert("UTC") : hour.tz_convert("UTC") + pd.Timedelta("45min")].mean()
    assert inputs.frame.loc[hour, "price_usd_per_mwh"] == pytest.approx(expected)


def test_default_day_has_the_august_2023_spike():
    inputs = load_inputs(quarter_site(), "2023-08-17")
    assert inputs.frame["price_usd_per_mwh"].max() == pytest.approx(5236.81)  # 19:30 CDT
    assert inputs.sources["price_usd_per_mwh"] == "bundled ercot_rtm_spp HB_WEST"
    assert inputs.frame["hashprice_usd_per_ph_day"].nunique() == 1


def test_hashprice_is_held_over_each_local_day():
    inputs = load_inputs(quarter_site(), "2023-08-16", "2023-08-17")
    daily = read_dataset("btc_hashprice")["hashprice_usd_per_ph_day"]
    by_day = inputs.frame["hashprice_usd_per_ph_day"].groupby(inputs.index.date).unique()
    assert [v[0] for v in by_day] == [daily[d] for d in by_day.index]


def test_renewable_profiles_come_from_bundled_ercot_capacity_factors():
    site = quarter_site(renewables=[{"name": "pv", "capacity_mw": 5, "profile": "solar"}])
    factor = load_inputs(site, "2023-08-17").frame["solar_capacity_factor"]
    assert factor.between(0, 1).all() and factor.max() > 0.5 and factor.iloc[0] < 1e-3


def test_unknown_settlement_point_lists_the_points_present():
    site = quarter_site(market={"settlement_point": "HB_EAST"})
    with pytest.raises(
        InputError, match="'HB_EAST' is not in bundled ercot_rtm_spp; points present: HB_HOUSTON"
    ):
        load_inputs(site, "2023-08-17")


def test_a_horizon_outside_the_data_is_refused():
    with pytest.raises(InputError, match=r"covers .* the horizon needs"):
        load_inputs(quarter_site(), "2026-01-02")
    with pytest.raises(InputError, match="hashprice_usd_per_ph_day has no value for 2025-06-01"):
        load_inputs(quarter_site(), "2025-06-01")


def real_prices(path: Path, day: str = "2023-08-17") -> pd.DataFrame:
    """A tidy price file cut from the bundled real-time HB_WEST series (one local day + 1 h)."""
    start = pd.Timestamp(day, tz="America/Chicago").tz_convert("UTC")
    rtm = bundled_price("ercot_rtm_spp", "HB_WEST")[start : start + pd.Timedelta("25h")]
    frame = pd.DataFrame(
        {"interval_start": [t.isoformat() for t in rtm.index], "price_usd_per_mwh": rtm.to_numpy()}
    )
    frame.to_csv(path, index=False)
    return frame


def test_tidy_price_file_round_trips(tmp_path: Path):
    frame = real_prices(tmp_path / "prices.csv")
    with pytest.warns(
        InputWarning,
        match=r"line 78: price_usd_per_mwh = 5,174.05 .* above the ERCOT offer cap then in force \(5,000 USD/MWh\); 6 value",
    ):
        inputs = load_inputs(quarter_site(), "2023-08-17", prices=tmp_path / "prices.csv")
    assert np.allclose(inputs.frame["price_usd_per_mwh"], frame["price_usd_per_mwh"][:96])
    assert inputs.sources["price_usd_per_mwh"] == str(tmp_path / "prices.csv")


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda f: f.drop(index=10), "line 12: gap in price_usd_per_mwh"),
        (lambda f: pd.concat([f.iloc[:5], f.iloc[4:]]), "line 7: duplicate timestamp"),
        (
            lambda f: f.assign(price_usd_per_mwh=f.price_usd_per_mwh.where(f.index != 20)),
            "line 22: price_usd_per_mwh is missing \\(NaN\\)",
        ),
        (lambda f: f.iloc[[0, 2, 1, *range(3, len(f))]], "line 4: timestamps go backwards"),
        (
            lambda f: f.rename(columns={"price_usd_per_mwh": "lmp"}),
            "no price column \\(price_usd_per_mwh, da_price_usd_per_mwh, rt_price_usd_per_mwh\\); columns present: lmp",
        ),
        (lambda f: f.assign(interval_start=f.interval_start.str.slice(0, 19)), "no UTC offset"),
        (
            lambda f: f.assign(
                price_usd_per_mwh=f.price_usd_per_mwh.astype(object).where(f.index != 3, "abc")
            ),
            "line 5: price_usd_per_mwh is not a number: 'abc'",
        ),
    ],
    ids=["gap", "duplicate", "nan", "order", "column", "naive", "text"],
)
def test_bad_price_files_name_the_row(tmp_path: Path, damage, message):
    path = tmp_path / "prices.csv"
    damage(real_prices(path)).to_csv(path, index=False)
    with pytest.raises(InputError, match=message):
        load_inputs(quarter_site(), "2023-08-17", prices=path)


def test_a_file_that_ends_early_says_what_it_covers(tmp_path: Path):
    path = tmp_path / "prices.csv"
    real_prices(path).iloc[:50].to_csv(path, index=False)
    with pytest.raises(InputError, match=r"price_usd_per_mwh covers .* the horizon needs"):
        load_inputs(quarter_site(), "2023-08-17", prices=path)


def test_missing_price_file(tmp_path: Path):
    with pytest.raises(InputError, match="file not found"):
        load_inputs(quarter_site(), "2023-08-17", prices=tmp_path / "none.csv")


def test_bad_dates_are_refused():
    with pytest.raises(
        InputError, match="--start: expected a date as YYYY-MM-DD, found '17/08/2023'"
    ):
        load_inputs(quarter_site(), "17/08/2023")
    with pytest.raises(InputError, match="is before --start"):
        load_inputs(quarter_site(), "2023-08-17", "2023-08-16")


def test_bundled_hashprice_is_served_from_its_first_day_at_the_12_5_btc_subsidy():
    site = make_site(mining=mining(fleet()), generators=[])
    first = load_inputs(site, "2020-04-13").frame["hashprice_usd_per_ph_day"]
    # by hand from the file's own row: price x subsidy x expected blocks per PH/s-day + fees
    row = read_dataset("btc_hashprice").loc[dt.date(2020, 4, 13)]
    blocks_per_ph_day = 86_400 * 1e15 / (row["difficulty"] * 2**32)
    subsidy = row["btc_price_usd_close"] * 12.5 * blocks_per_ph_day
    fees = row["btc_price_usd_close"] * row["fees_btc_per_day"] / (row["hashrate_th_s"] / 1000)
    assert first.iloc[0] == pytest.approx(subsidy + fees, rel=1e-12)
    assert first.nunique() == 1 and first.iloc[0] == pytest.approx(117.8859, abs=1e-4)
    with pytest.raises(
        InputError, match=r"no value for 2020-04-12 \(covers 2020-04-13 to 2025-04-07"
    ):
        load_inputs(site, "2020-04-12")


def test_a_zone_whose_clocks_change_at_midnight_starts_the_day_at_its_first_instant():
    from dispatch.inputs.horizon import horizon_index

    # Cuba springs forward at 00:00 -> 01:00: the local day has 23 hours from 01:00
    index = horizon_index("America/Havana", 15, dt.date(2023, 3, 12), dt.date(2023, 3, 12))
    assert len(index) == 92 and index[0].hour == 1
