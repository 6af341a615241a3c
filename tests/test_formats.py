"""Readers of the layouts users bring: ERCOT reports and gridstatus frames, on the DST days.

Files are cut from the bundled real series (tests/real_files.py). Expected UTC interval starts
are written out by hand: 2023-11-05 (fall back) runs 05:00Z..05:00Z next day, 25 hours;
2023-03-12 (spring forward) runs 06:00Z..04:00Z next day, 23 hours.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import fleet, make_site, mining
from real_files import ercot_dam_spp, ercot_mcpc, ercot_rtm_spp, gridstatus_spp

from dispatch import InputError, load_inputs
from dispatch.inputs.bundled import bundled_price, read_dataset
from dispatch.inputs.detect import read_input

FALL_BACK_UTC = pd.date_range("2023-11-05 05:00", "2023-11-06 05:00", freq="h", tz="UTC")
SPRING_FORWARD_UTC = pd.date_range("2023-03-12 06:00", "2023-03-13 04:00", freq="h", tz="UTC")
DAYS = {"2023-11-05": FALL_BACK_UTC, "2023-03-12": SPRING_FORWARD_UTC}


def site(interval_minutes: int = 60, point: str = "HB_WEST"):
    return make_site(
        interval_minutes=interval_minutes,
        market={"settlement_point": point},
        grid={"import_limit_mw": 10},
        mining=mining(fleet()),
    )


def dam(point: str = "HB_WEST") -> pd.Series:
    return bundled_price("ercot_dam_spp", point)


@pytest.mark.parametrize("header", ["historical", "mis"])
@pytest.mark.parametrize("day", DAYS)
def test_ercot_dam_report_puts_each_hour_in_its_utc_place(tmp_path: Path, day: str, header: str):
    path = tmp_path / "dam.csv"
    ercot_dam_spp(day, header=header).to_csv(path, index=False)
    table = read_input(path, settlement_point="HB_WEST")
    assert table.kind == "ERCOT DAM settlement point prices"
    assert table.step == pd.Timedelta("1h")
    assert table.frame.index.equals(DAYS[day].rename("interval_start"))
    assert np.array_equal(table.column("price_usd_per_mwh"), dam()[DAYS[day]])


def test_fall_back_repeated_hour_is_the_second_cst_hour(tmp_path: Path):
    report = ercot_dam_spp("2023-11-05")
    west = report[report["Settlement Point"] == "HB_WEST"]
    he02 = west[west["Hour Ending"] == "02:00"]
    assert list(he02["Repeated Hour Flag"]) == ["N", "Y"]
    prices = read_input(report, settlement_point="HB_WEST").column("price_usd_per_mwh")
    first, second = he02["Settlement Point Price"]
    assert prices[pd.Timestamp("2023-11-05 06:00", tz="UTC")] == first  # 01:00 CDT
    assert prices[pd.Timestamp("2023-11-05 07:00", tz="UTC")] == second  # 01:00 CST
    assert (
        prices[pd.Timestamp("2023-11-06 05:00", tz="UTC")]
        == west["Settlement Point Price"].iloc[-1]
    )  # HE 24:00


def test_a_boolean_dst_flag_reads_like_y_and_n(tmp_path: Path):
    report = ercot_dam_spp("2023-11-05", header="mis")
    report["DSTFlag"] = report["DSTFlag"] == "Y"  # as some ERCOT API extracts carry it
    path = tmp_path / "dam.csv"
    report.to_csv(path, index=False)
    prices = read_input(path, settlement_point="HB_WEST").column("price_usd_per_mwh")
    assert np.array_equal(prices, dam()[FALL_BACK_UTC])


def test_spring_forward_day_has_no_hour_ending_three(tmp_path: Path):
    report = ercot_dam_spp("2023-03-12", header="mis")
    hours = report.loc[report.SettlementPoint == "HB_WEST", "HourEnding"]
    assert "03:00" not in set(hours) and len(hours) == 23 and hours.iloc[-1] == "24:00"


@pytest.mark.parametrize(("day", "quarters"), [("2023-11-05", 100), ("2023-03-12", 92)])
def test_ercot_rtm_report_round_trips_through_load_inputs(tmp_path: Path, day: str, quarters: int):
    path = tmp_path / "rtm.csv"
    ercot_rtm_spp(day).to_csv(path, index=False)
    inputs = load_inputs(site(15), day, prices=path)
    price = inputs.frame["price_usd_per_mwh"]
    rtm = bundled_price("ercot_rtm_spp", "HB_WEST")
    assert len(price) == quarters
    assert np.array_equal(price.to_numpy(), rtm[price.index.tz_convert("UTC")].to_numpy())
    assert (
        inputs.sources["price_usd_per_mwh"]
        == f"{path} (ERCOT RTM settlement point prices, real-time)"
    )


@pytest.mark.parametrize("day", DAYS)
def test_ercot_dam_file_on_an_hourly_site(tmp_path: Path, day: str):
    path = tmp_path / "dam.csv"
    ercot_dam_spp(day).to_csv(path, index=False)
    price = load_inputs(site(60), day, prices=path).frame["price_usd_per_mwh"]
    assert len(price) == len(DAYS[day])
    assert list(price.index.tz_convert("UTC")) == list(DAYS[day])
    assert np.array_equal(price.to_numpy(), dam()[DAYS[day]].to_numpy())


def test_zipped_mis_download_is_read_directly(tmp_path: Path):
    path = tmp_path / "cdr.00012331.0000000000000000.20231104.csv.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("dam.csv", ercot_dam_spp("2023-11-05", header="mis").to_csv(index=False))
    table = read_input(path, settlement_point="LZ_WEST")
    assert np.array_equal(table.column("price_usd_per_mwh"), dam("LZ_WEST")[FALL_BACK_UTC])


@pytest.mark.parametrize("wide", [False, True], ids=["mis", "historical"])
def test_ercot_ancillary_clearing_prices(wide: bool):
    table = read_input(ercot_mcpc("2023-11-05", wide=wide))
    assert table.kind == "ERCOT DAM ancillary clearing prices"
    as_prices = read_dataset("ercot_dam_as")
    assert sorted(table.frame.columns) == sorted(
        f"{p.lower()}_usd_per_mw_h" for p in ("REGUP", "REGDN", "RRS", "NSPIN", "ECRS")
    )
    assert table.frame.index.equals(FALL_BACK_UTC.rename("interval_start"))
    assert np.array_equal(table.column("rrs_usd_per_mw_h"), as_prices["RRS"][FALL_BACK_UTC])
    assert np.array_equal(table.column("ecrs_usd_per_mw_h"), as_prices["ECRS"][FALL_BACK_UTC])


def test_ancillary_product_not_yet_launched_is_absent_not_nan():
    table = read_input(ercot_mcpc("2023-03-12", wide=True))  # ECRS launched 2023-06-10
    assert "ecrs_usd_per_mw_h" not in table.frame.columns
    assert len(table.column("regup_usd_per_mw_h")) == 23


@pytest.mark.parametrize(
    ("layout", "suffix"),
    [("display", ".csv"), ("display", ".parquet"), ("api", ".csv"), ("api", ".parquet")],
)
def test_gridstatus_frames_round_trip(tmp_path: Path, layout: str, suffix: str):
    frame = gridstatus_spp("2023-11-05", dataset="ercot_rtm_spp", api=layout == "api")
    path = tmp_path / f"spp{suffix}"
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)
    inputs = load_inputs(site(15), "2023-11-05", prices=path)
    price = inputs.frame["price_usd_per_mwh"]
    rtm = bundled_price("ercot_rtm_spp", "HB_WEST")
    assert len(price) == 100
    assert np.array_equal(price.to_numpy(), rtm[price.index.tz_convert("UTC")].to_numpy())


@pytest.mark.parametrize("api", [False, True])
def test_gridstatus_lmp_frames_use_the_total_lmp(api: bool):
    frame = gridstatus_spp("2023-03-12", api=api, lmp=True)
    table = read_input(frame, settlement_point="HB_NORTH")
    assert np.array_equal(table.column("price_usd_per_mwh"), dam("HB_NORTH")[SPRING_FORWARD_UTC])


def test_a_gridstatus_frame_can_be_passed_in_memory():
    frame = gridstatus_spp("2023-11-05")
    price = load_inputs(site(60), "2023-11-05", prices=frame).frame["price_usd_per_mwh"]
    assert np.array_equal(price.to_numpy(), dam()[FALL_BACK_UTC].to_numpy())


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: ercot_dam_spp("2023-11-05"), "points present: HB_NORTH, HB_WEST, LZ_WEST"),
        (lambda: gridstatus_spp("2023-11-05"), "points present: HB_NORTH, HB_WEST"),
        (lambda: gridstatus_spp("2023-11-05", api=True), "points present: HB_NORTH, HB_WEST"),
    ],
    ids=["ercot", "gridstatus", "gridstatus-api"],
)
def test_missing_settlement_point_lists_the_points_present(tmp_path: Path, make, message):
    path = tmp_path / "prices.csv"
    make().to_csv(path, index=False)
    with pytest.raises(
        InputError, match=f"settlement point 'HB_PAN' .* not in the file; {message}"
    ):
        load_inputs(site(60, point="HB_PAN"), "2023-11-05", prices=path)


def test_gridstatus_file_with_two_markets_is_refused():
    both = pd.concat(
        [gridstatus_spp("2023-11-05"), gridstatus_spp("2023-11-05", dataset="ercot_rtm_spp")]
    )
    with pytest.raises(
        InputError,
        match=r"frame: holds more than one market for HB_WEST \(DAY_AHEAD_HOURLY, REAL_TIME_15_MIN\); keep one market per file",
    ):
        read_input(both, settlement_point="HB_WEST")


def test_unknown_layout_lists_what_is_understood(tmp_path: Path):
    path = tmp_path / "prices.csv"
    gridstatus_spp("2023-11-05").rename(columns={"Interval Start": "start", "Time": "t"}).to_csv(
        path, index=False
    )
    with pytest.raises(
        InputError,
        match=r"prices.csv: unrecognised layout: expected a tidy file .* found columns \['t', 'start'",
    ):
        read_input(path)


def west_rows(report: pd.DataFrame) -> pd.DataFrame:
    return report[report["Settlement Point"] == "HB_WEST"].reset_index(drop=True)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (
            lambda r: r.assign(**{"Repeated Hour Flag": "N"}),
            "line 4: the fall-back hour starting 2023-11-05 01:00 appears twice without its second \\(CST\\) occurrence flagged Y in Repeated Hour Flag",
        ),
        (
            lambda r: r.assign(
                **{"Repeated Hour Flag": np.where(r.index == 5, "Y", r["Repeated Hour Flag"])}
            ),
            "line 7: Repeated Hour Flag = Y on hour ending 05:00 of 2023-11-05, which is not the repeated fall-back hour",
        ),
        (
            lambda r: r.drop(index=10),
            "line 12: gap in price_usd_per_mwh: 2023-11-05 14:00:00\\+00:00 to 2023-11-05 16:00:00\\+00:00",
        ),
        (
            lambda r: r.assign(
                **{"Hour Ending": np.where(r.index == 3, "25:00", r["Hour Ending"])}
            ),
            "line 5: Hour Ending '25:00' is not a number in 1..24",
        ),
        (
            lambda r: r.assign(
                **{"Delivery Date": np.where(r.index == 2, "2023/11/05", r["Delivery Date"])}
            ),
            "line 4: Delivery Date '2023/11/05' is not a date",
        ),
    ],
    ids=["flag-missing", "flag-wrong-hour", "gap", "hour-25", "date"],
)
def test_bad_ercot_fall_back_files_name_the_line(tmp_path: Path, damage, message):
    path = tmp_path / "dam.csv"
    damage(west_rows(ercot_dam_spp("2023-11-05"))).to_csv(path, index=False)
    with pytest.raises(InputError, match=message):
        read_input(path, settlement_point="HB_WEST")


def test_an_hour_in_the_spring_gap_is_refused(tmp_path: Path):
    report = west_rows(ercot_dam_spp("2023-03-12"))
    report.loc[2, "Hour Ending"] = "03:00"  # the real 04:00 row relabelled into the skipped hour
    path = tmp_path / "dam.csv"
    report.to_csv(path, index=False)
    with pytest.raises(
        InputError,
        match="line 4: hour ending 03:00 of 2023-03-12 does not exist in Central Prevailing Time",
    ):
        read_input(path)


def test_rows_of_other_points_keep_their_line_numbers(tmp_path: Path):
    report = ercot_dam_spp("2023-11-05")  # 3 points per hour
    report.loc[31, "Settlement Point Price"] = float("nan")  # row 31 is HB_NORTH at HE 11
    path = tmp_path / "dam.csv"
    report.to_csv(path, index=False)
    read_input(path, settlement_point="HB_WEST")  # HB_WEST is untouched
    with pytest.raises(InputError, match="line 33: price_usd_per_mwh is missing \\(NaN\\)"):
        read_input(path, settlement_point="HB_NORTH")


def test_excel_workbooks_ask_for_csv(tmp_path: Path):
    with pytest.raises(InputError, match="Excel workbooks are not read; save the sheet as CSV"):
        read_input(tmp_path / "DAMLZHBSPP_2023.xlsx")
