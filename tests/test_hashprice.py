"""Hashprice in any common unit, or derived from chain data, checked against the bundled series.

Every file is made from the bundled BTC data (dispatch/data/btc_mining_daily_2020_2025.csv):
its copied price, difficulty, fees and hashrate, or its derived hashprice re-expressed in
another unit.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import fleet, make_site, mining

from dispatch import InputError, load_inputs
from dispatch.errors import InputWarning
from dispatch.inputs.bundled import read_dataset
from dispatch.inputs.hashprice import read_hashprice, subsidy_btc_at_height, subsidy_btc_on


@pytest.fixture(scope="module")
def btc() -> pd.DataFrame:
    """Every day the bundled file has a hashprice (2020-04-13 to 2025-04-07), the 2020 halving
    included: the file carries the 12.5 BTC subsidy before it (corrected 2026-11-29)."""
    return read_dataset("btc_hashprice").dropna(subset=["hashprice_usd_per_ph_day"])


def chain_file(btc: pd.DataFrame, *extra: str) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "date": [d.isoformat() for d in btc.index],
            "btc_price_usd": btc["btc_price_usd_close"].to_numpy(),
            "difficulty": btc["difficulty"].to_numpy(),
            "fees_btc_per_day": btc["fees_btc_per_day"].to_numpy(),
        }
    )
    for column in extra:
        frame[column] = btc[column].to_numpy()
    return frame


def test_derived_from_price_difficulty_and_fees_matches_the_bundled_series(btc):
    derived = read_hashprice(chain_file(btc))
    error = derived / btc["hashprice_usd_per_ph_day"] - 1
    assert len(error) == 1821 and error.index[0] == dt.date(2020, 4, 13)
    assert abs(error.median()) < 0.005  # fees shared by 144 expected blocks vs actual hashrate
    assert error.abs().median() < 0.005


def test_with_the_network_hashrate_the_derivation_is_the_bundled_one(btc):
    derived = read_hashprice(chain_file(btc, "hashrate_th_s"))
    error = (derived / btc["hashprice_usd_per_ph_day"] - 1).abs()
    # the 12.5 BTC subsidy before the 2020 halving, and its day time-weighted, as in the file
    assert error[: dt.date(2020, 5, 12)].max() < 1e-12
    assert error.drop(dt.date(2024, 4, 20)).max() < 1e-12
    # halving day: the block subsidy is time-weighted (block 840,000 at 00:09:27 UTC)
    assert error[dt.date(2024, 4, 20)] == pytest.approx(0.0016, abs=1e-4)


def test_block_subsidy_by_date_and_by_height():
    days = pd.Index([dt.date(2020, 5, 10), dt.date(2020, 5, 12), dt.date(2024, 4, 19)])
    assert list(subsidy_btc_on(days)) == [12.5, 6.25, 6.25]
    assert subsidy_btc_on(pd.Index([dt.date(2024, 4, 21)]))[0] == 3.125
    halving_day = subsidy_btc_on(pd.Index([dt.date(2024, 4, 20)]))[0]
    assert halving_day == pytest.approx(3.125 + 3.125 * (9 * 60 + 27) / 86400)
    heights = np.array([0, 629_999, 630_000, 839_999, 840_000, 1_050_000])
    assert list(subsidy_btc_at_height(heights)) == [50, 12.5, 6.25, 6.25, 3.125, 1.5625]
    with pytest.raises(InputError, match="2028 halving, which is not known yet"):
        subsidy_btc_on(pd.Index([dt.date(2028, 6, 1)]))


def test_explicit_block_subsidy_reproduces_the_bundled_file_exactly(btc):
    derived = read_hashprice(chain_file(btc, "hashrate_th_s", "block_subsidy_btc"))
    assert np.allclose(derived, btc["hashprice_usd_per_ph_day"], rtol=1e-12)


def unit_file(btc: pd.DataFrame, column: str, values: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"date": [d.isoformat() for d in btc.index], column: values})


def test_every_accepted_unit_gives_usd_per_ph_day(btc):
    usd_ph = btc["hashprice_usd_per_ph_day"].to_numpy()
    price = btc["btc_price_usd_close"].to_numpy()
    files = [
        unit_file(btc, "hashprice_usd_per_ph_day", usd_ph),
        unit_file(btc, "hashprice_usd_per_th_day", btc["hashprice_usd_per_th_day"].to_numpy()),
        unit_file(btc, "hashprice_btc_per_ph_day", usd_ph / price).assign(btc_price_usd=price),
        unit_file(btc, "hashprice_btc_per_th_day", usd_ph / price / 1000).assign(
            btc_price_usd=price
        ),
    ]
    for frame in files:
        assert np.allclose(read_hashprice(frame), usd_ph, rtol=1e-12), frame.columns[1]


@pytest.mark.parametrize(
    ("column", "scale", "message"),
    [
        (
            "hashprice_usd_per_ph_day",
            1e-3,
            "hashprice from hashprice_usd_per_ph_day has median 0.08393 USD/PH/day, outside the plausible 1..20,000 USD/PH/day; it looks 1000 times too small: values in USD/TH/day belong in hashprice_usd_per_th_day",
        ),
        (
            "hashprice_usd_per_th_day",
            1.0,
            "hashprice from hashprice_usd_per_th_day has median 83,932.88 USD/PH/day, outside .* it looks 1000 times too large: values in USD/PH/day belong in hashprice_usd_per_ph_day",
        ),
    ],
    ids=["th-in-ph-column", "ph-in-th-column"],
)
def test_a_unit_off_by_1000_is_named(btc, column, scale, message):
    frame = unit_file(btc, column, btc["hashprice_usd_per_ph_day"].to_numpy() * scale)
    with pytest.raises(InputError, match=message):
        read_hashprice(frame)


def test_chain_data_with_a_price_in_thousands_of_usd_is_refused(btc):
    frame = chain_file(btc)
    frame["btc_price_usd"] /= 1000
    with pytest.raises(
        InputError,
        match=r"from btc_price_usd, difficulty and fees .* 1000 times too small: check the unit",
    ):
        read_hashprice(frame)


def test_missing_hashprice_columns_list_what_is_accepted(tmp_path: Path, btc):
    path = tmp_path / "hp.csv"
    chain_file(btc).drop(columns=["fees_btc_per_day"]).to_csv(path, index=False)
    with pytest.raises(
        InputError,
        match=r"hp.csv: no hashprice columns; expected one of: hashprice_usd_per_ph_day; hashprice_usd_per_th_day",
    ):
        read_hashprice(path)


def test_a_daily_file_with_a_gap_names_the_line(tmp_path: Path, btc):
    path = tmp_path / "hp.csv"
    chain_file(btc).drop(index=30).to_csv(path, index=False)
    with pytest.raises(InputError, match=r"hp.csv line 32: gap in btc_price_usd"):
        read_hashprice(path)


def test_load_inputs_reads_hashprice_in_usd_per_th_day(tmp_path: Path, btc):
    path = tmp_path / "hp.csv"
    unit_file(btc, "hashprice_usd_per_th_day", btc["hashprice_usd_per_th_day"].to_numpy()).to_csv(
        path, index=False
    )
    site = make_site(interval_minutes=15, grid={"import_limit_mw": 10}, mining=mining(fleet()))
    inputs = load_inputs(site, "2024-04-19", "2024-04-20", hashprice=path)
    daily = inputs.frame["hashprice_usd_per_ph_day"].groupby(inputs.index.date).unique()
    expected = btc["hashprice_usd_per_ph_day"]
    assert [v[0] for v in daily] == pytest.approx([expected[d] for d in daily.index], rel=1e-12)
    assert inputs.sources["hashprice_usd_per_ph_day"] == str(path)


# -- tomorrow: a single known day, held forward ---------------------------------------------------


def one_day(path: Path, btc: pd.DataFrame, day: str) -> float:
    """A daily file of one row: the bundled hashprice of ``day``."""
    value = float(btc["hashprice_usd_per_ph_day"][dt.date.fromisoformat(day)])
    pd.DataFrame({"date": [day], "hashprice_usd_per_ph_day": [value]}).to_csv(path, index=False)
    return value


def miner():
    return make_site(interval_minutes=15, grid={"import_limit_mw": 10}, mining=mining(fleet()))


def test_a_daily_file_of_one_row_is_read(tmp_path: Path, btc):
    value = one_day(tmp_path / "hp.csv", btc, "2024-08-19")
    assert read_hashprice(tmp_path / "hp.csv").to_dict() == {dt.date(2024, 8, 19): value}


def test_tomorrow_holds_todays_hashprice_and_says_so(tmp_path: Path, btc):
    path = tmp_path / "hp.csv"
    value = one_day(path, btc, "2024-08-19")
    with pytest.warns(InputWarning) as caught:
        inputs = load_inputs(miner(), "2024-08-20", hashprice=path)
    assert (inputs.frame["hashprice_usd_per_ph_day"] == value).all()
    assert [str(w.message) for w in caught] == [
        f"{path}: hashprice_usd_per_ph_day for 2024-08-20 is 2024-08-19's {value:,.2f} USD/PH/day "
        "held forward (the last value known, 1 day before)"
    ]


def test_known_days_keep_their_values_and_later_ones_are_held(tmp_path: Path, btc):
    path = tmp_path / "hp.csv"
    known = btc["hashprice_usd_per_ph_day"][dt.date(2024, 8, 13) : dt.date(2024, 8, 15)]
    pd.DataFrame(
        {"date": [d.isoformat() for d in known.index], "hashprice_usd_per_ph_day": known.to_numpy()}
    ).to_csv(path, index=False)
    with pytest.warns(InputWarning, match="for 2024-08-16 to 2024-08-17 is 2024-08-15's"):
        inputs = load_inputs(miner(), "2024-08-14", "2024-08-17", hashprice=path)
    daily = inputs.frame["hashprice_usd_per_ph_day"].groupby(inputs.index.date).unique()
    assert [v[0] for v in daily] == [known.iloc[1], known.iloc[2], known.iloc[2], known.iloc[2]]


def test_a_value_is_held_seven_days_at_most(tmp_path: Path, btc):
    path = tmp_path / "hp.csv"
    one_day(path, btc, "2024-08-19")
    with pytest.warns(InputWarning, match="7 days before"):
        load_inputs(miner(), "2024-08-26", hashprice=path)
    with pytest.raises(InputError) as error:
        load_inputs(miner(), "2024-08-27", hashprice=path)
    assert str(error.value) == (
        f"{path}: hashprice_usd_per_ph_day has no value for 2024-08-27: its last day is "
        "2024-08-19, 8 days earlier, and a last known value is held forward 7 days at most; add a "
        "row for 2024-08-20 or later (today's hashprice when planning tomorrow)"
    )


def test_a_day_before_the_file_is_never_filled(tmp_path: Path, btc):
    path = tmp_path / "hp.csv"
    one_day(path, btc, "2024-08-19")
    with pytest.raises(
        InputError, match=r"has no value for 2024-08-18 \(covers 2024-08-19 to 2024-08-19\)"
    ):
        load_inputs(miner(), "2024-08-18", hashprice=path)


def test_the_bundled_hashprice_is_held_past_its_last_day_too():
    last = read_dataset("btc_hashprice")["hashprice_usd_per_ph_day"].dropna().index[-1]
    day = last + dt.timedelta(days=1)
    with pytest.warns(InputWarning, match=f"bundled btc_hashprice: .* for {day} is {last}'s"):
        load_inputs(miner(), day.isoformat(), prices="ercot_rtm_spp")
