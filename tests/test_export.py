"""`dispatch data export`: bundled sets out as tidy files that read back unchanged."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import fleet, make_site, mining
from typer.testing import CliRunner

from dispatch import load_inputs
from dispatch.cli import app
from dispatch.files import write_atomic
from dispatch.inputs.bundled import bundled_price, read_dataset

runner = CliRunner()


def export(*args: str):
    return runner.invoke(app, ["data", "export", *args])


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_exported_prices_read_back_on_the_fall_back_day(tmp_path: Path, suffix: str):
    out = tmp_path / f"rtm{suffix}"
    result = export(
        "ercot_rtm_spp",
        "--settlement-point",
        "HB_WEST",
        "--start",
        "2023-11-05",
        "--end",
        "2023-11-05",
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    assert "100 rows; rt_price_usd_per_mwh" in " ".join(result.output.split())
    site = make_site(interval_minutes=15, grid={"import_limit_mw": 10}, mining=mining(fleet()))
    price = load_inputs(site, "2023-11-05", prices=out).frame["price_usd_per_mwh"]
    rtm = bundled_price("ercot_rtm_spp", "HB_WEST")
    assert len(price) == 100
    assert np.array_equal(price.to_numpy(), rtm[price.index.tz_convert("UTC")].to_numpy())


def test_exported_csv_carries_local_offsets(tmp_path: Path):
    out = tmp_path / "dam.csv"
    result = export(
        "ercot_dam_spp",
        "--settlement-point",
        "LZ_WEST",
        "--start",
        "2023-03-12",
        "--end",
        "2023-03-12",
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out)
    assert list(frame.columns) == ["interval_start", "da_price_usd_per_mwh"]
    assert len(frame) == 23
    assert frame.interval_start[[1, 2]].tolist() == [
        "2023-03-12T01:00:00-06:00",
        "2023-03-12T03:00:00-05:00",
    ]


def test_ancillary_export_leaves_out_products_not_yet_launched(tmp_path: Path):
    out = tmp_path / "as.csv"
    result = export(
        "ercot_dam_as", "--start", "2023-06-09", "--end", "2023-06-10", "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    assert "left out (not priced over the whole period): ecrs_usd_per_mw_h" in result.output
    frame = pd.read_csv(out)
    assert len(frame) == 48 and "rrs_usd_per_mw_h" in frame.columns
    rrs = read_dataset("ercot_dam_as")["RRS"]
    start = pd.Timestamp("2023-06-09", tz="America/Chicago")
    assert np.array_equal(frame["rrs_usd_per_mw_h"], rrs[start : start + pd.Timedelta("47h")])


def test_hashprice_and_profile_exports_feed_load_inputs(tmp_path: Path):
    hashprice, profiles = tmp_path / "hp.csv", tmp_path / "profiles.csv"
    assert (
        export(
            "btc_hashprice", "--start", "2023-08-16", "--end", "2023-08-18", "--out", str(hashprice)
        ).exit_code
        == 0
    )
    assert (
        export(
            "ercot_wind_solar",
            "--start",
            "2023-08-17",
            "--end",
            "2023-08-17",
            "--out",
            str(profiles),
        ).exit_code
        == 0
    )
    assert list(pd.read_csv(profiles).columns) == [
        "interval_start",
        "solar_capacity_factor",
        "wind_capacity_factor",
    ]
    site = make_site(
        grid={"import_limit_mw": 10},
        mining=mining(fleet()),
        renewables=[{"name": "pv", "capacity_mw": 5, "profile": "solar"}],
    )
    from_files = load_inputs(site, "2023-08-17", hashprice=hashprice, profiles=profiles).frame
    bundled = load_inputs(site, "2023-08-17").frame
    pd.testing.assert_frame_equal(from_files, bundled)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ercot_dam_spp"], "--settlement-point: ercot_dam_spp needs one of HB_HOUSTON"),
        (["ercot_dam_spp", "--settlement-point", "HB_EAST"], "found 'HB_EAST'"),
        (
            ["btc_hashprice", "--settlement-point", "HB_WEST"],
            "btc_hashprice has no settlement points",
        ),
        (
            ["ercot_dam_as", "--start", "2030-01-01"],
            "ercot_dam_as covers 2022-01-01 06:00:00+00:00 to",
        ),
        (["nope"], "unknown bundled data set 'nope'"),
    ],
)
def test_export_mistakes_exit_2(tmp_path: Path, args, message):
    out = tmp_path / "out.csv"
    result = export(*args, "--out", str(out))
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
    assert not out.exists()


def test_export_refuses_an_unknown_suffix_or_folder(tmp_path: Path):
    assert (
        "should end in .csv or .parquet"
        in export("btc_hashprice", "--out", str(tmp_path / "x.txt")).output
    )
    assert (
        "does not exist" in export("btc_hashprice", "--out", str(tmp_path / "no" / "x.csv")).output
    )


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path):
    path = tmp_path / "prices.csv"
    path.write_text("old\n")

    def fail(temp: Path) -> None:
        temp.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomic(path, fail)
    assert path.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["prices.csv"]


def test_data_without_a_subcommand_still_lists(tmp_path: Path):
    result = runner.invoke(app, ["data"])
    assert result.exit_code == 0 and "ercot_dam_as" in result.output
