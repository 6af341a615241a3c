"""Inputs folders (`run --inputs DIR`, `load_inputs(inputs=DIR)`): files found by their columns,
ambiguity refused, every problem reported at once; and the markets price files state."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import SITES, fleet, make_site, mining
from real_files import ercot_dam_spp, ercot_mcpc, gridstatus_as_prices, gridstatus_spp, local_days
from typer.testing import CliRunner

from dispatch import InputError, load_inputs, load_site
from dispatch.cli import app
from dispatch.errors import InputWarning
from dispatch.inputs import scan_folder
from dispatch.inputs.bundled import read_dataset
from dispatch.inputs.export import tidy_export, write_tidy

runner = CliRunner()
DAY = "2024-04-16"
HYBRID = SITES / "west_texas_hybrid.yaml"


def export(folder: Path, name: str, file: str, point: str | None = None, **days: str) -> Path:
    """A bundled real data set cut to the local days asked, written as a tidy file."""
    first = pd.Timestamp(days.get("start", DAY)).date()
    last = pd.Timestamp(days.get("end", days.get("start", DAY))).date()
    frame, _ = tidy_export(name, settlement_point=point, start=first, end=last)
    return write_tidy(frame, folder / file)


def day_folder(folder: Path) -> Path:
    """What an operator has for the hybrid campus's day: DA prices, AS prices, hashprice."""
    folder.mkdir(exist_ok=True)
    export(folder, "ercot_dam_spp", "da.csv", "HB_WEST")
    export(folder, "ercot_dam_as", "as.csv")
    export(folder, "btc_hashprice", "hashprice.csv", start="2024-04-16")
    return folder


def test_a_folder_gives_every_series_the_site_reads(tmp_path: Path):
    folder = day_folder(tmp_path / "in")
    (folder / "notes.txt").write_text("bought 2 MW of RRS")  # not a data file: skipped
    (folder / ".da.csv.tmp").write_text("half")  # a temporary file: skipped
    site = load_site(HYBRID)
    inputs = load_inputs(site, DAY, inputs=folder)
    dam = local_days(read_dataset("ercot_dam_spp"), DAY)["HB_WEST"].to_numpy()
    assert np.array_equal(inputs.frame["price_usd_per_mwh"], np.repeat(dam, 4))  # DA: held
    mcpc = local_days(read_dataset("ercot_dam_as"), DAY)
    assert np.array_equal(inputs.frame["ecrs_usd_per_mw_h"], np.repeat(mcpc["ECRS"], 4))
    daily = read_dataset("btc_hashprice")["hashprice_usd_per_ph_day"]
    assert (inputs.frame["hashprice_usd_per_ph_day"] == daily[pd.Timestamp(DAY).date()]).all()
    assert inputs.sources == {
        "price_usd_per_mwh": f"{folder / 'da.csv'} (day-ahead)",
        "hashprice_usd_per_ph_day": str(folder / "hashprice.csv"),
        "rrs_usd_per_mw_h": str(folder / "as.csv"),
        "ecrs_usd_per_mw_h": str(folder / "as.csv"),
        "nspin_usd_per_mw_h": str(folder / "as.csv"),
        "coincident_peak_weight": "none: the days lie outside the coincident-peak months (6, 7, 8, 9)",
    }


def test_files_in_any_layout_are_recognised(tmp_path: Path):
    folder = tmp_path / "in"
    folder.mkdir()
    ercot_dam_spp(DAY, header="mis").to_csv(folder / "DAM_SPP.csv", index=False)
    ercot_mcpc(DAY).to_csv(folder / "mcpc.csv", index=False)
    gridstatus_spp(DAY, dataset="ercot_rtm_spp").to_parquet(folder / "rt.parquet")
    gridstatus_as_prices(DAY).to_csv(folder / "gs_as.csv", index=False)
    export(folder, "btc_hashprice", "btc.csv", start="2024-04-10", end="2024-04-16")
    found = {f.path.name: (f.roles, f.market) for f in scan_folder(folder).files}
    assert found == {
        "DAM_SPP.csv": (("prices",), "day-ahead"),
        "btc.csv": (("hashprice",), None),
        "gs_as.csv": (("ancillary",), None),
        "mcpc.csv": (("ancillary",), None),
        "rt.parquet": (("prices",), "real-time"),
    }


def test_upper_case_file_suffixes_are_data_files_too(tmp_path: Path):
    """DA.CSV (as Windows tools write names) was skipped without a word, and the day was priced
    from bundled real-time data instead."""
    folder = day_folder(tmp_path / "in")
    (folder / "da.csv").rename(folder / "DA.CSV")
    parquet = folder / "AS.PARQUET"
    pd.read_csv(folder / "as.csv").to_parquet(parquet)
    (folder / "as.csv").unlink()
    inputs = load_inputs(load_site(HYBRID), DAY, inputs=folder)
    assert inputs.sources["price_usd_per_mwh"] == f"{folder / 'DA.CSV'} (day-ahead)"
    assert inputs.sources["rrs_usd_per_mw_h"] == str(parquet)


def test_two_price_files_of_two_markets_ask_which_one(tmp_path: Path):
    folder = day_folder(tmp_path / "in")
    export(folder, "ercot_rtm_spp", "rt.csv", "HB_WEST")
    result = runner.invoke(app, ["run", str(HYBRID), "--day", DAY, "--inputs", str(folder)])
    assert result.exit_code == 2
    assert " ".join(result.output.split()) == (
        f"error: {folder}: 2 files give prices: da.csv (day-ahead), rt.csv (real-time); a run "
        "is priced at one market: choose with --prices FILE"
    )
    chosen = runner.invoke(
        app,
        [
            "run",
            str(HYBRID),
            "--day",
            DAY,
            "--inputs",
            str(folder),
            "--prices",
            str(folder / "rt.csv"),
        ],
    )
    assert chosen.exit_code == 0, chosen.output
    assert "rt.csv (real-time)" in " ".join(chosen.output.split())


def test_two_files_that_both_look_like_prices_are_refused(tmp_path: Path):
    folder = day_folder(tmp_path / "in")
    da = pd.read_csv(folder / "da.csv").rename(
        columns={"da_price_usd_per_mwh": "price_usd_per_mwh"}
    )
    da.to_csv(folder / "prices.csv", index=False)
    with pytest.raises(InputError) as error:
        load_inputs(load_site(HYBRID), DAY, inputs=folder)
    assert str(error.value) == (
        f"{folder}: 2 files give prices: da.csv (day-ahead), prices.csv; keep one in the folder, "
        "or choose with --prices FILE"
    )


def test_a_series_the_site_does_not_read_may_be_given_twice(tmp_path: Path):
    folder = day_folder(tmp_path / "in")
    export(folder, "btc_hashprice", "hashprice_too.csv", start="2024-04-16")
    hpc = load_site(SITES / "hpc_only.yaml").hpc.model_dump(mode="json")
    hpc["ride_through_minutes"] = 0  # no battery here to hold the reserve
    site = make_site(interval_minutes=15, grid={"import_limit_mw": 80}, hpc=hpc)  # no mining
    inputs = load_inputs(site, DAY, inputs=folder)
    assert "hashprice_usd_per_ph_day" not in inputs.frame


def test_every_problem_of_the_folder_is_reported_at_once(tmp_path: Path):
    """A price file with a gap, ancillary prices for another day, a file of unknown columns and
    two hashprice files: one message, a line each, each naming its file; exit 2."""
    folder = day_folder(tmp_path / "in")
    da = pd.read_csv(folder / "da.csv")
    da.drop(index=5).to_csv(folder / "da.csv", index=False)
    export(folder, "ercot_dam_as", "as.csv", start="2024-04-15")
    pd.DataFrame({"when": [1], "what": [2]}).to_csv(folder / "misc.csv", index=False)
    export(folder, "btc_hashprice", "hashprice_old.csv", start="2024-04-01")
    result = runner.invoke(app, ["run", str(HYBRID), "--day", DAY, "--inputs", str(folder)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    lines = result.output.splitlines()
    assert lines == [
        f"error: {folder / 'misc.csv'}: gives none of the series an inputs folder holds (prices, "
        "ancillary, hashprice, peaks, profiles); columns found: when, what",
        f"{folder}: 2 files give hashprice: hashprice.csv, hashprice_old.csv; keep one in the "
        "folder, or choose with --hashprice FILE",
        f"{folder / 'da.csv'} line 7: gap in da_price_usd_per_mwh: 2024-04-16 09:00:00+00:00 to "
        "2024-04-16 11:00:00+00:00 is 0 days 02:00:00, the series steps by 0 days 01:00:00",
        f"{folder / 'as.csv'}: rrs_usd_per_mw_h covers 2024-04-15 00:00:00-05:00 to "
        "2024-04-16 00:00:00-05:00, the horizon needs 2024-04-16 00:00:00-05:00 to "
        "2024-04-17 00:00:00-05:00",
    ]


def test_a_folder_that_does_not_cover_the_day_names_the_file(tmp_path: Path):
    folder = day_folder(tmp_path / "in")
    with pytest.raises(InputError) as error, pytest.warns(InputWarning, match="held forward"):
        load_inputs(load_site(HYBRID), "2024-04-17", inputs=folder)
    assert str(error.value).splitlines()[0] == (
        f"{folder / 'da.csv'} (day-ahead): price_usd_per_mwh covers 2024-04-16 00:00:00-05:00 to "
        "2024-04-17 00:00:00-05:00, the horizon needs 2024-04-17 00:00:00-05:00 to "
        "2024-04-18 00:00:00-05:00"
    )


def test_an_option_overrides_the_folder_and_missing_series_come_from_bundled_data(tmp_path: Path):
    folder = tmp_path / "in"
    folder.mkdir()
    export(folder, "ercot_dam_as", "as.csv")
    prices = export(tmp_path, "ercot_rtm_spp", "rt.csv", "HB_WEST")
    inputs = load_inputs(load_site(HYBRID), DAY, inputs=folder, prices=prices)
    assert inputs.sources["price_usd_per_mwh"] == f"{prices} (real-time)"
    assert inputs.sources["hashprice_usd_per_ph_day"] == "bundled btc_hashprice"
    assert inputs.sources["rrs_usd_per_mw_h"] == str(folder / "as.csv")


def test_one_wide_file_may_give_several_series(tmp_path: Path):
    folder = tmp_path / "in"
    folder.mkdir()
    rt = pd.read_csv(export(tmp_path, "ercot_rtm_spp", "rt.csv", "HB_WEST"))
    solar = tidy_export(
        "ercot_wind_solar", start=pd.Timestamp(DAY).date(), end=pd.Timestamp(DAY).date()
    )[0]
    wide = rt.assign(solar_capacity_factor=np.repeat(solar["solar_capacity_factor"].to_numpy(), 4))
    wide.to_csv(folder / "site.csv", index=False)
    site = make_site(
        interval_minutes=15,
        grid={"import_limit_mw": 10},
        mining=mining(fleet()),
        renewables=[{"name": "pv", "capacity_mw": 5, "profile": "solar"}],
    )
    inputs = load_inputs(site, DAY, inputs=folder)
    assert inputs.sources["price_usd_per_mwh"] == f"{folder / 'site.csv'} (real-time)"
    assert inputs.sources["solar_capacity_factor"] == str(folder / "site.csv")
    assert [f.roles for f in scan_folder(folder).files] == [("prices", "profiles")]


@pytest.mark.parametrize("what", ["missing", "file"])
def test_inputs_that_is_not_a_folder_exits_2(tmp_path: Path, what: str):
    path = tmp_path / "in"
    if what == "file":
        path.write_text("x")
    result = runner.invoke(app, ["run", str(HYBRID), "--day", DAY, "--inputs", str(path)])
    assert result.exit_code == 2
    expected = "is a file" if what == "file" else "does not exist"
    assert (
        result.output == f"error: --inputs {path}: {expected}, expected a folder of input files\n"
    )


def test_an_unreadable_file_is_a_problem_naming_it(tmp_path: Path):
    folder = day_folder(tmp_path / "in")
    (folder / "broken.parquet").write_bytes(b"not parquet")
    with pytest.raises(InputError, match=r"broken.parquet: cannot read as Parquet"):
        load_inputs(load_site(HYBRID), DAY, inputs=folder)


# -- price files state their market -------------------------------------------------------------


def quarter_site():
    return make_site(interval_minutes=15, grid={"import_limit_mw": 10}, mining=mining(fleet()))


def hourly_real_time(path: Path) -> Path:
    """The real 15-minute HB_WEST real-time prices averaged to hours (a common public layout)."""
    rt = local_days(read_dataset("ercot_rtm_spp"), DAY)["HB_WEST"]
    hourly = rt.groupby(rt.index.floor("1h")).mean()
    local = hourly.index.tz_convert("America/Chicago")
    frame = pd.DataFrame(
        {
            "interval_start": [t.isoformat() for t in local],
            "rt_price_usd_per_mwh": hourly.to_numpy(),
        }
    )
    frame.to_csv(path, index=False)
    return path


def test_real_time_prices_coarser_than_the_site_are_refused(tmp_path: Path):
    path = hourly_real_time(tmp_path / "rt_hourly.csv")
    with pytest.raises(InputError) as error:
        load_inputs(quarter_site(), DAY, prices=path)
    assert str(error.value) == (
        f"{path} (real-time): real-time prices step by 1 h, coarser than the site's 15 min "
        "intervals, so they cannot settle them; give real-time prices at 15 min or finer "
        "(ERCOT's settle every 15 min), or pass --fill hold to use these as they are"
    )
    held = load_inputs(quarter_site(), DAY, prices=path, fill="hold").frame["price_usd_per_mwh"]
    assert np.array_equal(held, np.repeat(pd.read_csv(path)["rt_price_usd_per_mwh"], 4))


def test_day_ahead_prices_are_held_even_when_fill_says_interpolate(tmp_path: Path):
    """A day-ahead price settles every interval of its hour: --fill interpolate (asked for an
    hourly profile, say) must not bend it into prices nobody settles at."""
    path = export(tmp_path, "ercot_dam_spp", "da.csv", "HB_WEST")
    dam = local_days(read_dataset("ercot_dam_spp"), DAY)["HB_WEST"].to_numpy()
    for fill in ("interpolate", "hold", None):
        prices = load_inputs(quarter_site(), DAY, prices=path, fill=fill).frame
        assert np.array_equal(prices["price_usd_per_mwh"], np.repeat(dam, 4)), fill


def test_the_same_hourly_file_of_unstated_market_asks_for_fill(tmp_path: Path):
    path = hourly_real_time(tmp_path / "hourly.csv")
    frame = pd.read_csv(path).rename(columns={"rt_price_usd_per_mwh": "price_usd_per_mwh"})
    frame.to_csv(path, index=False)
    with pytest.raises(InputError, match="choose how to fill them: --fill hold"):
        load_inputs(quarter_site(), DAY, prices=path)


def test_gridstatus_real_time_frames_state_their_market(tmp_path: Path):
    """An hourly-averaged gridstatus frame labelled REAL_TIME_HOURLY is real-time too."""
    frame = gridstatus_spp(DAY, dataset="ercot_dam_spp").assign(Market="REAL_TIME_HOURLY")
    with pytest.raises(
        InputError, match=r"\(gridstatus, real-time\): real-time prices step by 1 h"
    ):
        load_inputs(quarter_site(), DAY, prices=frame)


def test_a_file_with_two_price_columns_is_refused(tmp_path: Path):
    path = export(tmp_path, "ercot_rtm_spp", "rt.csv", "HB_WEST")
    frame = pd.read_csv(path)
    frame.assign(da_price_usd_per_mwh=frame.rt_price_usd_per_mwh).to_csv(path, index=False)
    with pytest.raises(InputError) as error:
        load_inputs(quarter_site(), DAY, prices=path)
    assert str(error.value) == (
        f"{path}: holds da_price_usd_per_mwh and rt_price_usd_per_mwh; keep one price column "
        "per file (one file per market)"
    )


def test_gridstatus_ancillary_frames_read_as_the_bundled_prices():
    site = load_site(HYBRID)
    from_frame = load_inputs(site, DAY, ancillary=gridstatus_as_prices(DAY))
    bundled = load_inputs(site, DAY)
    columns = ["rrs_usd_per_mw_h", "ecrs_usd_per_mw_h", "nspin_usd_per_mw_h"]
    pd.testing.assert_frame_equal(from_frame.frame[columns], bundled.frame[columns])
    assert (
        from_frame.sources["rrs_usd_per_mw_h"] == "frame (gridstatus ancillary prices, day-ahead)"
    )


def test_ecrs_before_its_launch_is_absent_from_a_gridstatus_frame():
    from dispatch.inputs import read_input

    table = read_input(gridstatus_as_prices("2023-06-09"))
    assert list(table.frame.columns) == [
        "regup_usd_per_mw_h",
        "regdn_usd_per_mw_h",
        "rrs_usd_per_mw_h",
        "nspin_usd_per_mw_h",
    ]
