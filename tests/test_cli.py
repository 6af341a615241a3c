"""The command line: outputs written whole, user mistakes exit 2 with one message."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import SITES
from typer.testing import CliRunner

from dispatch.cli import app

runner = CliRunner()
HYBRID = str(SITES / "west_texas_hybrid.yaml")


def test_run_prints_streams_and_writes_outputs(tmp_path: Path):
    result = runner.invoke(app, ["run", HYBRID, "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "mining_hashprice" in result.output and "net margin" in result.output
    schedule = pd.read_csv(tmp_path / "schedule.csv")
    streams = pd.read_csv(tmp_path / "streams.csv")
    kpis = json.loads((tmp_path / "kpis.json").read_text())
    assert len(schedule) == 96 and schedule["interval_start"][0] == "2023-08-17T00:00:00-05:00"
    assert schedule.columns[0] == "interval_start"  # the first column, no row numbers before it
    assert list(streams.columns) == ["stream", "usd", "basis_mwh", "usd_per_mwh", "kind"]
    assert streams["usd"].sum() == pytest.approx(kpis["objective_usd"], rel=1e-9, abs=1e-6)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "kpis.json",
        "schedule.csv",
        "streams.csv",
    ]


@pytest.mark.parametrize("fmt", ["parquet", "json"])
def test_other_output_formats(tmp_path: Path, fmt: str):
    result = runner.invoke(
        app,
        [
            "run",
            HYBRID,
            "--day",
            "2023-07-01",
            "--prices",
            "ercot_dam_spp",
            "--out",
            str(tmp_path),
            "--format",
            fmt,
        ],
    )
    assert result.exit_code == 0, result.output
    if fmt == "parquet":
        schedule = pd.read_parquet(tmp_path / "schedule.parquet")
        assert str(schedule.index.tz) == "America/Chicago" and len(schedule) == 96
        # the file's own columns (what DuckDB or Polars see), no pandas row numbers among them
        assert pq.read_schema(tmp_path / "streams.parquet").names == [
            "stream",
            "usd",
            "basis_mwh",
            "usd_per_mwh",
            "kind",
        ]
    else:
        payload = json.loads((tmp_path / "result.json").read_text())
        assert {"kpis", "streams", "schedule"} <= payload.keys()


def test_validate_and_schema():
    result = runner.invoke(app, ["validate", HYBRID])
    assert result.exit_code == 0 and "fleet s21 40 x 1.9 MW" in result.output
    schema = runner.invoke(app, ["schema"])
    assert json.loads(schema.output)["title"] == "Site"


def test_data_lists_bundled_sets():
    result = runner.invoke(app, ["data"])
    assert result.exit_code == 0 and "ercot_rtm_spp" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "missing.yaml"], "missing.yaml: cannot read site file"),
        (["run", HYBRID, "--day", "2023-13-01"], "--day: expected a date"),
        (["run", HYBRID, "--day", "2019-06-01"], "price_usd_per_mwh covers"),
        (["run", HYBRID, "--start", "2023-08-01", "--end", "2023-08-31"], "at most 7"),
        (["run", HYBRID, "--prices", "nowhere.csv"], "nowhere.csv: file not found"),
    ],
)
def test_user_mistakes_exit_2_with_one_message(tmp_path: Path, args, message):
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()  # nothing half-written


def test_bad_site_file_exits_2_naming_the_field(tmp_path: Path):
    site = tmp_path / "site.yaml"
    site.write_text((SITES / "hpc_only.yaml").read_text().replace("pue: 1.25", "pue: 0.8"))
    result = runner.invoke(app, ["validate", str(site)])
    assert result.exit_code == 2
    assert (
        f"{site}: hpc.pue: Input should be greater than or equal to 1 (found 0.8)" in result.output
    )


def test_console_script_is_installed_and_help_is_fast():
    completed = subprocess.run(
        [sys.executable, "-c", "import sys, dispatch.cli; print('pyomo' in sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert completed.stdout.strip() == "False"  # pyomo is loaded only when a command solves


def test_out_that_is_a_file_exits_2_before_solving(tmp_path: Path):
    blocker = tmp_path / "taken"
    blocker.write_text("")
    result = runner.invoke(app, ["run", HYBRID, "--out", str(blocker)])
    assert result.exit_code == 2
    assert "is a file, expected a folder" in result.output


def test_inputs_a_site_does_not_use_are_named_as_ignored():
    result = runner.invoke(
        app, ["run", str(SITES / "flare_gas_offgrid.yaml"), "--prices", "ercot_dam_spp"]
    )
    assert result.exit_code == 0
    assert "warning: --prices: ignored, it has no grid to price" in result.output
