"""The bundled data: byte-for-byte what its checksums say, and listed with the local days that
actually run."""

from __future__ import annotations

import datetime as dt
import hashlib
from importlib import resources

import pytest
from conftest import fleet, make_site, mining
from typer.testing import CliRunner

from dispatch import InputError, load_inputs
from dispatch.cli import app
from dispatch.inputs.bundled import DATASETS, local_day_coverage

runner = CliRunner()


def test_every_bundled_file_matches_its_sha256sum():
    folder = resources.files("dispatch") / "data"
    sums = dict(
        reversed(line.split("  ", 1)) for line in (folder / "SHA256SUMS").read_text().splitlines()
    )
    bundled = {file for dataset in DATASETS.values() for file in dataset.files}
    assert bundled == set(sums)
    for file, expected in sums.items():
        assert hashlib.sha256((folder / file).read_bytes()).hexdigest() == expected, file


def test_the_btc_file_carries_the_12_5_btc_subsidy_before_the_2020_halving():
    text = (resources.files("dispatch") / "data" / "btc_mining_daily_2020_2025.csv").read_text()
    rows = {line.split(",")[0]: line.split(",") for line in text.splitlines()[1:]}
    subsidy = text.splitlines()[0].split(",").index("block_subsidy_btc")
    assert rows["2020-04-13"][subsidy] == "12.5" and rows["2020-05-10"][subsidy] == "12.5"
    assert rows["2020-05-12"][subsidy] == "6.25"
    # the halving day (block 630,000 at 19:23:43 UTC): the time-weighted mix
    assert float(rows["2020-05-11"][subsidy]) == pytest.approx(
        12.5 - 6.25 * (4 * 3600 + 36 * 60 + 17) / 86400, abs=1e-3
    )


@pytest.mark.parametrize(
    ("name", "column", "first", "last"),
    [
        # hour-long rows from 2021-01-01 06:00Z (local midnight) to 2025-05-18 04:00Z (23:00 CDT)
        ("ercot_dam_spp", "HB_WEST", "2021-01-01", "2025-05-17"),
        ("ercot_rtm_spp", "HB_BUSAVG", "2023-01-01", "2025-12-31"),
        ("ercot_dam_as", "ECRS", "2023-06-10", "2025-04-12"),
        ("btc_hashprice", "hashprice_usd_per_ph_day", "2020-04-13", "2025-04-07"),
        # UTC midnight to 2024-12-31 23:00Z: the last Chicago day would need 6 hours more
        ("roscoe_profiles", "solar_norm_output", "2023-01-01", "2024-12-30"),
    ],
)
def test_coverage_is_the_local_days_a_site_can_run(name, column, first, last):
    assert local_day_coverage(name, column) == (
        dt.date.fromisoformat(first),
        dt.date.fromisoformat(last),
    )


def test_the_listed_days_run_and_the_next_ones_do_not():
    site = make_site(
        grid={"import_limit_mw": 10},
        mining=mining(fleet()),
        renewables=[{"name": "pv", "capacity_mw": 5, "profile": "roscoe_solar"}],
    )
    assert len(load_inputs(site, "2024-12-30").frame) == 24
    with pytest.raises(InputError, match="roscoe_solar_capacity_factor covers"):
        load_inputs(site, "2024-12-31")
    storage = make_site(
        grid={"import_limit_mw": 10, "export_limit_mw": 10},
        battery={"power_mw": 1, "energy_mwh": 2},
    )
    assert len(load_inputs(storage, "2025-05-17", prices="ercot_dam_spp").frame) == 24
    with pytest.raises(InputError, match="price_usd_per_mwh covers"):
        load_inputs(storage, "2025-05-18", prices="ercot_dam_spp")


def test_dispatch_data_lists_local_days_and_narrower_columns():
    result = runner.invoke(app, ["data"])
    assert result.exit_code == 0, result.output
    lines = {line.split("│")[1].strip(): line for line in result.output.splitlines() if "│" in line}
    assert "2021-01-01 to 2025-05-17" in lines["ercot_dam_spp"]
    assert "2020-04-13 to 2025-04-07" in lines["btc_hashprice"]
    assert "(ECRS 2023-06-10 to 2025-04-12)" in lines["ercot_dam_as"]
    assert "2023-01-01 to 2024-12-30" in lines["roscoe_profiles"]
    assert "+00:00" not in result.output  # no UTC instants: days
