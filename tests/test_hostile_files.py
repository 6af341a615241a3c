"""Files as users expect: every output (results, batch parts, manifest, summary, exports,
reports) is created with the permissions the umask gives, as any program's files are; none is
left 0600 by a temporary file."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import SITES
from test_batch import TINY_SITE
from typer.testing import CliRunner

from dispatch.cli import app
from dispatch.files import write_atomic

runner = CliRunner()


@pytest.fixture(params=[0o022, 0o027, 0o077], ids=["022", "027", "077"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    previous = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(previous)


@pytest.fixture
def group_umask() -> Iterator[int]:
    """One umask for the slower end-to-end runs: 027 (group may read, others may not)."""
    previous = os.umask(0o027)
    try:
        yield 0o027
    finally:
        os.umask(previous)


def modes(folder: Path) -> dict[str, int]:
    return {
        str(path.relative_to(folder)): stat.S_IMODE(path.stat().st_mode)
        for path in folder.rglob("*")
        if path.is_file()
    }


def test_write_atomic_follows_the_umask(tmp_path: Path, umask: int):
    path = write_atomic(tmp_path / "a.txt", lambda p: p.write_text("x"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
    # replacing a file keeps no temporary behind and gives the new file the umask's mode
    write_atomic(path, lambda p: p.write_text("y"))
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask


def test_run_outputs_and_report_follow_the_umask(tmp_path: Path, group_umask: int):
    umask = group_umask
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        ["run", str(SITES / "west_texas_hybrid_hourly.yaml"), "--out", str(out), "--report"],
    )
    assert result.exit_code == 0, result.output
    found = modes(out)
    assert set(found) == {"schedule.csv", "streams.csv", "kpis.json", "report.html"}
    assert set(found.values()) == {0o666 & ~umask}


def test_batch_parts_manifest_and_summary_follow_the_umask(tmp_path: Path, group_umask: int):
    umask = group_umask
    site = tmp_path / "tiny.yaml"
    site.write_text(TINY_SITE)
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        ["batch", str(site), "--start", "2023-01-30", "--end", "2023-01-30", "--out", str(out), "--workers", "1"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    found = modes(out)
    assert "manifest.jsonl" in found and "summary_kpis.csv" in found and ".lock" in found
    assert sum(name.endswith(".parquet") for name in found) == 3 + 2  # parts + summaries
    assert set(found.values()) == {0o666 & ~umask}


def test_exports_follow_the_umask(tmp_path: Path, umask: int):
    path = tmp_path / "hashprice.csv"
    result = runner.invoke(
        app,
        ["data", "export", "btc_hashprice", "--start", "2023-01-01", "--end", "2023-01-31", "--out", str(path)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask


# -- outputs that cannot be written: one line, exit 2, and the set whole or not at all -----------


def test_run_outputs_that_cannot_be_written_are_one_line_and_no_partial_set(tmp_path: Path):
    out = tmp_path / "out"
    (out / "streams.csv").mkdir(parents=True)  # in the way of the second file
    result = runner.invoke(app, ["run", str(SITES / "hpc_only.yaml"), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and result.exception.__class__ is SystemExit
    last = result.output.strip().splitlines()[-1]
    assert last.startswith(f"error: {out / 'streams.csv'}: "), last
    # the schedule of this run beside the streams and KPIs of another is no result at all
    assert sorted(p.name for p in out.iterdir()) == ["streams.csv"]


def test_write_atomic_all_leaves_every_path_as_it_was_when_one_write_fails(tmp_path: Path):
    from dispatch.files import write_atomic_all

    (tmp_path / "a.txt").write_text("old a")

    def fail(path: Path) -> None:
        raise OSError(28, "No space left on device", str(path))

    with pytest.raises(OSError) as error:
        write_atomic_all(
            {tmp_path / "a.txt": lambda p: p.write_text("new"), tmp_path / "b.txt": fail}
        )
    assert error.value.filename == str(tmp_path / "b.txt")  # the file meant, not a temporary
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]
    assert (tmp_path / "a.txt").read_text() == "old a"


def test_fetch_into_a_folder_it_cannot_write_writes_nothing(tmp_path: Path, monkeypatch):
    import sys

    import pandas as pd
    from fake_gridstatus import fake_gridstatus

    day = "2024-08-20"
    after = pd.Timestamp("2024-08-22", tz="America/Chicago")
    monkeypatch.setitem(sys.modules, "gridstatus", fake_gridstatus(day, after))
    command = ["fetch", "--day", day, "--settlement-point", "HB_WEST", "--hashprice", "50"]
    under_a_file = tmp_path / "file.txt"
    under_a_file.write_text("x")
    result = runner.invoke(app, [*command, "--out", str(under_a_file / "in")])
    assert result.exit_code == 2 and result.exception.__class__ is SystemExit, result.output
    assert result.output.startswith(f"error: {under_a_file / 'in'}: "), result.output
    out = tmp_path / "in"
    (out / "rt_prices.csv").mkdir(parents=True)  # the third file cannot be written
    result = runner.invoke(app, [*command, "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert result.output.startswith(f"error: {out / 'rt_prices.csv'}: "), result.output
    assert sorted(p.name for p in out.iterdir()) == ["rt_prices.csv"]  # nothing else written
