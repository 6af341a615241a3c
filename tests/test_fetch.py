"""`dispatch fetch`: ERCOT's published prices through gridstatus into an inputs folder.

gridstatus is replaced by a stand-in serving real bundled prices in gridstatus's layouts
(fake_gridstatus.py); no test needs the network or the library.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import SITES
from fake_gridstatus import Markets, fake_gridstatus
from real_files import local_days
from typer.testing import CliRunner

from dispatch import load_inputs, load_site
from dispatch.cli import app
from dispatch.errors import InputError
from dispatch.inputs.bundled import read_dataset
from dispatch.inputs.fetch import fetch_day

runner = CliRunner()
DAY = "2024-08-20"
CPT = "America/Chicago"
AFTER = pd.Timestamp("2024-08-21 09:00", tz=CPT)  # the day is over
EVE = pd.Timestamp("2024-08-19 15:00", tz=CPT)  # the day before, DAM results out


def fetch(out: Path, *extra: str, day: str = DAY) -> object:
    args = ["fetch", "--day", day, "--settlement-point", "HB_WEST", "--out", str(out), *extra]
    return runner.invoke(app, args)


def test_a_past_day_is_written_as_tidy_files_of_the_real_prices(tmp_path: Path, monkeypatch):
    monkeypatch.setitem(sys.modules, "gridstatus", fake_gridstatus(DAY, AFTER))
    result = fetch(tmp_path / "in", "--hashprice", "48.5")
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (tmp_path / "in").iterdir())
    assert names == ["ancillary.csv", "da_prices.csv", "hashprice.csv", "rt_prices.csv"]
    da = pd.read_csv(tmp_path / "in" / "da_prices.csv")
    dam = local_days(read_dataset("ercot_dam_spp"), DAY)["HB_WEST"]
    assert list(da.columns) == ["interval_start", "da_price_usd_per_mwh"]
    assert da.interval_start[0] == "2024-08-20T00:00:00-05:00" and len(da) == 24
    assert np.array_equal(da.da_price_usd_per_mwh, dam.to_numpy())
    rt = pd.read_csv(tmp_path / "in" / "rt_prices.csv")
    rtm = local_days(read_dataset("ercot_rtm_spp"), DAY)["HB_WEST"]
    assert len(rt) == 96 and np.array_equal(rt.rt_price_usd_per_mwh, rtm.to_numpy())
    ancillary = pd.read_csv(tmp_path / "in" / "ancillary.csv")
    mcpc = local_days(read_dataset("ercot_dam_as"), DAY)
    for product in ("REGUP", "REGDN", "RRS", "NSPIN", "ECRS"):
        assert np.array_equal(ancillary[f"{product.lower()}_usd_per_mw_h"], mcpc[product])
    hashprice = pd.read_csv(tmp_path / "in" / "hashprice.csv")
    assert hashprice.to_dict("list") == {
        "date": ["2024-08-19"],  # today's value, known the day before the operating day
        "hashprice_usd_per_ph_day": [48.5],
    }


def test_the_gridstatus_api_is_called_as_documented(tmp_path: Path, monkeypatch):
    module = fake_gridstatus(DAY, AFTER)
    monkeypatch.setitem(sys.modules, "gridstatus", module)
    assert fetch(tmp_path).exit_code == 0
    assert module.calls == [
        ("get_spp", DAY, {"market": Markets.DAY_AHEAD_HOURLY, "locations": "ALL"}),
        ("get_as_prices", DAY, {}),
        ("get_spp", DAY, {"market": Markets.REAL_TIME_15_MIN, "locations": "ALL"}),
    ]


def test_an_unknown_settlement_point_lists_those_present(tmp_path: Path, monkeypatch):
    monkeypatch.setitem(sys.modules, "gridstatus", fake_gridstatus(DAY, AFTER))
    result = runner.invoke(
        app, ["fetch", "--day", DAY, "--settlement-point", "HB_WST", "--out", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert result.output == (
        "error: fetch: ERCOT DAM for 2024-08-20, cleared 2024-08-19: day-ahead prices at HB_WST: "
        "frame: settlement point 'HB_WST' (market.settlement_point) is not in the file; points "
        "present: HB_HOUSTON, HB_NORTH, HB_WEST\n"
    )


def test_tomorrow_has_day_ahead_prices_and_no_real_time_yet(tmp_path: Path, monkeypatch):
    monkeypatch.setitem(sys.modules, "gridstatus", fake_gridstatus(DAY, EVE))
    fetched = fetch_day(pd.Timestamp(DAY).date(), "HB_WEST", tmp_path, now=EVE)
    assert sorted(p.name for p in fetched.written) == ["ancillary.csv", "da_prices.csv"]
    rt_note, hashprice_note = fetched.notes
    assert rt_note.startswith("rt_prices.csv: not fetched: 2024-08-20 ends 2024-08-21 00:00 CDT")
    assert "hashprice.csv: not fetched (no free public source" in hashprice_note
    assert "--hashprice USD_PER_PH_DAY" in hashprice_note


def test_a_day_in_progress_writes_no_partial_real_time_file(tmp_path: Path, monkeypatch):
    noon = pd.Timestamp(f"{DAY} 12:00", tz=CPT)
    module = fake_gridstatus(DAY, noon)
    monkeypatch.setitem(sys.modules, "gridstatus", module)
    fetched = fetch_day(pd.Timestamp(DAY).date(), "HB_WEST", tmp_path, now=AFTER)
    assert not (tmp_path / "rt_prices.csv").exists()
    assert "rt_prices.csv: not written, the day is not wholly published" in fetched.notes[0]
    assert "covers 2024-08-20 00:00:00-05:00 to 2024-08-20 12:00:00-05:00" in fetched.notes[0]


def test_before_the_day_ahead_results_exit_2_and_write_nothing(tmp_path: Path, monkeypatch):
    morning = pd.Timestamp("2024-08-19 09:00", tz=CPT)
    monkeypatch.setitem(sys.modules, "gridstatus", fake_gridstatus(DAY, morning))
    result = fetch(tmp_path / "in")
    assert result.exit_code == 2
    assert result.output.startswith(
        "error: fetch: ERCOT has not published day-ahead prices at HB_WEST for 2024-08-20 "
        "(the day-ahead market for 2024-08-20 clears on 2024-08-19"
    )
    assert "Traceback" not in result.output and not (tmp_path / "in").exists()


class Offline:
    """The day-ahead prices arrive, then ERCOT becomes unreachable, as requests reports it (its
    errors are OSErrors)."""

    def day_ahead_spp(self, day):
        return fake_gridstatus(DAY, AFTER).Ercot().get_spp(DAY, market=Markets.DAY_AHEAD_HOURLY)

    def day_ahead_as_prices(self, day):
        raise ConnectionError(
            "HTTPSConnectionPool(host='www.ercot.com', port=443): Max retries exceeded\nmore"
        )

    def real_time_spp(self, day):
        raise AssertionError("not reached")


def test_without_network_one_line_and_nothing_half_written(tmp_path: Path):
    with pytest.raises(InputError) as error:
        fetch_day(pd.Timestamp(DAY).date(), "HB_WEST", tmp_path / "in", source=Offline())
    assert str(error.value) == (
        "fetch: cannot reach ERCOT for ancillary clearing prices on 2024-08-20: "
        "HTTPSConnectionPool(host='www.ercot.com', port=443): Max retries exceeded"
    )
    assert not (tmp_path / "in").exists()  # the day-ahead prices, pulled first, are not written


def test_the_cli_without_network_exits_2_in_one_line(tmp_path: Path, monkeypatch):
    module = fake_gridstatus(DAY, AFTER)

    def unreachable(*args, **kwargs):
        raise OSError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(module.Ercot, "get_spp", unreachable)
    monkeypatch.setitem(sys.modules, "gridstatus", module)
    result = fetch(tmp_path / "in")
    assert result.exit_code == 2
    assert result.output == (
        "error: fetch: cannot reach ERCOT for day-ahead prices at HB_WEST on 2024-08-20: "
        "[Errno -3] Temporary failure in name resolution\n"
    )


def test_without_the_extra_one_line_names_it(tmp_path: Path, monkeypatch):
    monkeypatch.setitem(sys.modules, "gridstatus", None)  # import gridstatus -> ImportError
    result = fetch(tmp_path)
    assert result.exit_code == 2
    assert (
        result.output
        == "error: fetch: needs the gridstatus library: pip install 'flexload-dispatch[fetch]'\n"
    )


def test_a_gridstatus_failure_is_one_line(tmp_path: Path, monkeypatch):
    module = fake_gridstatus(DAY, AFTER)

    def changed_format(*args, **kwargs):
        raise KeyError("MCPC")

    monkeypatch.setattr(module.Ercot, "get_as_prices", changed_format)
    monkeypatch.setitem(sys.modules, "gridstatus", module)
    result = fetch(tmp_path / "in")
    assert result.exit_code == 2
    assert result.output == (
        "error: fetch: gridstatus Ercot.changed_format(2024-08-20) failed: KeyError: 'MCPC'\n"
    )


def until_22h(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of a gridstatus frame before 22:00 (the last two hours lost)."""
    return frame[frame["Interval Start"].dt.hour < 22]


def test_a_frame_missing_hours_is_refused_naming_what_it_covers(tmp_path: Path, monkeypatch):
    module = fake_gridstatus(DAY, AFTER)
    get_spp = module.Ercot.get_spp
    monkeypatch.setattr(
        module.Ercot, "get_spp", lambda self, *a, **k: until_22h(get_spp(self, *a, **k))
    )
    monkeypatch.setitem(sys.modules, "gridstatus", module)
    result = fetch(tmp_path / "in")
    assert result.exit_code == 2
    assert result.output.startswith(
        "error: fetch: ERCOT DAM for 2024-08-20, cleared 2024-08-19: day-ahead prices at HB_WEST: "
        "da_price_usd_per_mwh covers "
        "2024-08-20 00:00:00-05:00 to 2024-08-20 22:00:00-05:00, the horizon needs "
        "2024-08-20 00:00:00-05:00 to 2024-08-21 00:00:00-05:00"
    )
    assert not (tmp_path / "in").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--hashprice", "0.0485"],
            "error: --hashprice: 0.0485 USD/PH/day is outside the plausible 1..20,000 USD/PH/day (a value in USD/TH/day is 1000 times smaller)",
        ),
        (["--hashprice", "nan"], "error: --hashprice: nan USD/PH/day is outside the plausible"),
        (
            ["--day", "2024-13-01"],
            "error: --day: expected a date as YYYY-MM-DD, found '2024-13-01'",
        ),
    ],
)
def test_fetch_mistakes_exit_2(tmp_path: Path, monkeypatch, args, message):
    monkeypatch.setitem(sys.modules, "gridstatus", fake_gridstatus(DAY, AFTER))
    result = fetch(tmp_path / "in", *args)
    assert result.exit_code == 2 and result.output.startswith(message), result.output
    assert not (tmp_path / "in").exists()


def test_out_that_is_a_file_is_refused(tmp_path: Path, monkeypatch):
    monkeypatch.setitem(sys.modules, "gridstatus", fake_gridstatus(DAY, AFTER))
    (tmp_path / "in").write_text("x")
    result = fetch(tmp_path / "in")
    assert result.exit_code == 2
    assert (
        result.output
        == f"error: --out {tmp_path / 'in'}: is a file, expected a folder for the input files\n"
    )


def test_a_kept_hashprice_file_is_left_alone(tmp_path: Path, monkeypatch):
    monkeypatch.setitem(sys.modules, "gridstatus", fake_gridstatus(DAY, EVE))
    (tmp_path / "hashprice.csv").write_text("date,hashprice_usd_per_ph_day\n2024-08-19,47.0\n")
    fetched = fetch_day(pd.Timestamp(DAY).date(), "HB_WEST", tmp_path, now=EVE)
    assert (
        fetched.notes[1] == f"hashprice.csv: kept the one in {tmp_path} (--hashprice replaces it)"
    )
    assert (tmp_path / "hashprice.csv").read_text().endswith("47.0\n")


def test_fetched_inputs_equal_the_bundled_series_they_came_from(tmp_path: Path, monkeypatch):
    """The whole path: gridstatus frames -> readers -> tidy files -> inputs folder -> the same
    series load_inputs takes from the bundled data for that day."""
    monkeypatch.setitem(sys.modules, "gridstatus", fake_gridstatus(DAY, AFTER))
    assert fetch(tmp_path).exit_code == 0
    site = load_site(SITES / "west_texas_hybrid.yaml")
    folder = load_inputs(site, DAY, inputs=tmp_path, prices=tmp_path / "rt_prices.csv")
    bundled = load_inputs(site, DAY)
    columns = ["price_usd_per_mwh", "rrs_usd_per_mw_h", "ecrs_usd_per_mw_h", "nspin_usd_per_mw_h"]
    pd.testing.assert_frame_equal(folder.frame[columns], bundled.frame[columns])
    assert folder.sources["rrs_usd_per_mw_h"] == str(tmp_path / "ancillary.csv")
    assert folder.sources["price_usd_per_mwh"] == f"{tmp_path / 'rt_prices.csv'} (real-time)"


def test_paths_print_as_literal_text(tmp_path: Path, monkeypatch):
    """A folder name with an escape sequence is shown escaped, never sent to the terminal."""
    monkeypatch.setitem(sys.modules, "gridstatus", fake_gridstatus(DAY, EVE))
    out = tmp_path / "in\x1b[2Jx"
    result = fetch(out)
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output
    assert "wrote " + str(out).replace("\x1b", "\\x1b") + "/da_prices.csv" in result.output
    assert "note: hashprice.csv: not fetched" in result.output
