"""Batch runs: tasks and keys, executors that agree, outputs that survive kills and full disks.

A tiny hourly site on bundled ERCOT day-ahead prices keeps every run short.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from pathlib import Path

import pandas as pd
import pytest

from dispatch.batch import outputs
from dispatch.batch.outputs import OutputDir
from dispatch.batch.runner import run_batch
from dispatch.batch.tasks import plan_tasks, split_period
from dispatch.batch.worker import run_task
from dispatch.errors import InputError

TINY_SITE = """\
name: tiny batch site
timezone: America/Chicago
market: {iso: ERCOT, settlement_point: HB_WEST}
interval_minutes: 60
grid: {import_limit_mw: 10, export_limit_mw: 2}
mining:
  pool_fee_fraction: 0.02
  fleets:
    - {name: s19, containers: 3, container_mw: 1.0, efficiency_j_per_th: 25.0,
       startup_cost_usd: 2, min_off_minutes: 120}
battery: {power_mw: 1, energy_mwh: 2, degradation_usd_per_mwh: 2}
"""


class InlineExecutor(Executor):
    """Runs each task when submitted, in this process: a plain loop behind the Executor API."""

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[override]
        future: Future = Future()
        future.set_result(fn(*args, **kwargs))
        return future


@pytest.fixture
def site_file(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY_SITE)
    return path


def sort(frame: pd.DataFrame, dataset: str) -> pd.DataFrame:
    keys = ["task_key", "case", "day"] + (["stream"] if dataset == "streams" else [])
    keys += ["interval_start"] if dataset == "schedule" else []
    return frame.sort_values(keys).reset_index(drop=True)


def read(out: Path, dataset: str) -> pd.DataFrame:
    """A dataset of all parts, without the partition columns (site, year)."""
    frame = pd.read_parquet(out / dataset)
    return sort(frame.drop(columns=["site", "year"]), dataset)


def last_status(out: Path) -> dict[str, str]:
    return {key: entry["status"] for key, entry in OutputDir(out).last_entries().items()}


# --- tasks ------------------------------------------------------------------------------------


def test_periods_split_by_year_month_or_not():
    import datetime as dt

    d = dt.date
    assert split_period(d(2022, 12, 30), d(2024, 1, 2), "year") == [
        (d(2022, 12, 30), d(2022, 12, 31)),
        (d(2023, 1, 1), d(2023, 12, 31)),
        (d(2024, 1, 1), d(2024, 1, 2)),
    ]
    assert split_period(d(2023, 1, 30), d(2023, 3, 1), "month") == [
        (d(2023, 1, 30), d(2023, 1, 31)),
        (d(2023, 2, 1), d(2023, 2, 28)),
        (d(2023, 3, 1), d(2023, 3, 1)),
    ]
    assert split_period(d(2023, 1, 30), d(2023, 3, 1), "none") == [(d(2023, 1, 30), d(2023, 3, 1))]


def test_tasks_cross_sites_prices_points_and_periods(site_file: Path, tmp_path: Path):
    prices = tmp_path / "prices.csv"
    prices.write_text("interval_start,price_usd_per_mwh\n2023-01-01T06:00:00Z,20\n")
    tasks = plan_tasks(
        [site_file],
        "2022-12-31",
        "2023-01-01",
        prices=["ercot_dam_spp", str(prices)],
        settlement_points=["HB_WEST", "HB_NORTH"],
    )
    assert [t.label for t in tasks] == [
        "tiny ercot_dam_spp HB_WEST 2022-12-31..2022-12-31",
        "tiny ercot_dam_spp HB_WEST 2023-01-01..2023-01-01",
        "tiny ercot_dam_spp HB_NORTH 2022-12-31..2022-12-31",
        "tiny ercot_dam_spp HB_NORTH 2023-01-01..2023-01-01",
        "tiny prices.csv - 2022-12-31..2022-12-31",  # a price file is one price history
        "tiny prices.csv - 2023-01-01..2023-01-01",
    ]
    assert tasks[2].load_site().market.settlement_point == "HB_NORTH"
    assert len({t.key for t in tasks}) == 6


def test_task_key_hashes_what_the_result_depends_on(site_file: Path, tmp_path: Path):
    prices = tmp_path / "prices.csv"
    prices.write_text("interval_start,price_usd_per_mwh\n2023-01-01T06:00:00Z,20\n")

    def key(**changes) -> str:
        arguments = {"prices": [str(prices)], **changes}
        return plan_tasks([site_file], "2023-01-01", "2023-01-01", **arguments)[0].key

    first = key()
    assert key() == first  # stable
    assert key(lookahead_hours=24) != first
    prices.write_text("interval_start,price_usd_per_mwh\n2023-01-01T06:00:00Z,21\n")
    assert key() != first  # the price file's contents, not its name
    second = key()
    site_file.write_text(TINY_SITE.replace("containers: 3", "containers: 4"))
    assert key() != second


def test_a_plan_reads_each_file_once_however_many_tasks_use_it(
    site_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """A price history of years split by month is many tasks: each file source is hashed for the
    task keys once per plan, not once per task (price files can be large)."""
    from dispatch.batch import tasks as tasks_module

    prices, hashprice = tmp_path / "prices.csv", tmp_path / "hashprice.csv"
    prices.write_text("interval_start,price_usd_per_mwh\n2023-01-01T06:00:00Z,20\n")
    hashprice.write_text("date,hashprice_usd_per_ph_day\n2023-01-01,60\n")
    hashed: list[str] = []
    real = tasks_module.file_sha256

    def counted(path):
        hashed.append(str(path))
        return real(path)

    monkeypatch.setattr(tasks_module, "file_sha256", counted)
    tasks = plan_tasks(
        [site_file], "2023-01-01", "2023-12-31", prices=[str(prices)], hashprice=hashprice,
        split="month",
    )  # fmt: skip
    assert len(tasks) == 12
    assert sorted(hashed) == sorted([str(prices), str(hashprice)])


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"settlement_points": ["HB_NOWHERE"]}, "settlement point 'HB_NOWHERE' is not in bundled"),
        ({"prices": ["missing.csv"]}, "'missing.csv' is neither a bundled price data set"),
        ({"end": "2022-01-01"}, "--end 2022-01-01 is before --start 2023-01-01"),
        ({"lookahead_hours": -1}, "--lookahead-hours: expected 0 to 168"),
        ({"hashprice": "nowhere.csv"}, "--hashprice: nowhere.csv: file not found"),
    ],
)
def test_planning_mistakes_name_the_argument(site_file: Path, arguments, message):
    end = arguments.pop("end", "2023-01-02")
    with pytest.raises(InputError, match=message.replace(".", r"\.")):
        plan_tasks([site_file], "2023-01-01", end, **arguments)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            {"prices": ["missing.csv"]},
            "--prices: 'missing.csv' is neither a bundled price data set "
            "(ercot_dam_spp, ercot_rtm_spp) nor a file",
        ),
        (
            {"settlement_prices": "rt.csv"},
            "--rt-prices: 'rt.csv' is neither a bundled price data set "
            "(ercot_dam_spp, ercot_rtm_spp) nor a file",
        ),
    ],
)
def test_an_unknown_price_source_is_one_line_listing_the_bundled_sets(
    site_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, arguments, message
):
    monkeypatch.chdir(tmp_path)  # neither name is a file here
    with pytest.raises(InputError) as raised:
        plan_tasks([site_file], "2023-01-01", "2023-01-02", **arguments)
    assert str(raised.value) == message


# --- executors agree ----------------------------------------------------------------------------


def test_dask_local_cluster_process_pool_and_a_plain_loop_agree(site_file: Path, tmp_path: Path):
    distributed = pytest.importorskip("distributed")
    tasks = plan_tasks(
        [site_file],
        "2023-01-30",
        "2023-02-02",
        prices=["ercot_dam_spp"],
        settlement_points=["HB_WEST", "HB_HOUSTON"],
        split="month",
        lookahead_hours=12,
    )
    assert len(tasks) == 4
    loop = {task.key: run_task(task) for task in tasks}  # a plain loop, no executor at all
    assert {o.status for o in loop.values()} == {"ok"}
    with ProcessPoolExecutor(2) as pool:
        pooled = run_batch(tasks, tmp_path / "pool", executor=pool)
    with (
        # a free port for the scheduler's HTTP server (None still takes 8787, which another
        # test run on the machine may hold: "Cluster failed to start")
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        clustered = run_batch(tasks, tmp_path / "dask", executor=client.get_executor())
    assert pooled.complete and clustered.complete
    timings = ["solve_seconds", "total_seconds"]
    for dataset in ("days", "streams", "schedule"):
        from_loop = sort(pd.concat([getattr(o.frames, dataset) for o in loop.values()]), dataset)
        from_pool, from_dask = read(tmp_path / "pool", dataset), read(tmp_path / "dask", dataset)
        assert list(from_pool.columns) == list(from_loop.columns)
        numeric = from_loop.select_dtypes("number").columns.difference(timings)
        assert len(numeric) >= 3
        for other in (from_pool, from_dask):
            assert other["day"].tolist() == from_loop["day"].tolist()
            pd.testing.assert_frame_equal(other[numeric], from_loop[numeric], atol=1e-6)


# --- failures, resume, kills, full disks -----------------------------------------------------


def test_failed_task_is_recorded_and_resume_skips_finished_work(site_file: Path, tmp_path: Path):
    # DAM data begin 2021-01-01: the 2020 task cannot run, the 2021 task can
    tasks = plan_tasks([site_file], "2020-12-31", "2021-01-02", prices=["ercot_dam_spp"])
    out = tmp_path / "out"
    report = run_batch(tasks, out, executor=InlineExecutor())
    assert [r.status for r in report.records] == ["failed", "ok"]
    assert not report.complete
    assert "price_usd_per_mwh covers 2021-01-01" in report.records[0].error
    assert last_status(out) == {tasks[0].key: "failed", tasks[1].key: "ok"}
    with pytest.raises(InputError, match="already holds a batch"):
        run_batch(tasks, out, executor=InlineExecutor())
    again = run_batch(tasks, out, executor=InlineExecutor(), resume=True)
    assert [r.status for r in again.records] == ["failed", "skipped"]  # only failed work re-runs
    assert read(out, "days")["day"].astype(str).tolist() == ["2021-01-01", "2021-01-02"]


def test_a_failed_task_comes_back_under_its_own_key(site_file: Path):
    # DAM data begin 2021-01-01: the task of 2020-12-31 fails on its data
    task = plan_tasks([site_file], "2020-12-31", "2020-12-31", prices=["ercot_dam_spp"])[0]
    outcome = run_task(task)  # e.g. a caller's own loop pairs outcomes with tasks by key
    assert (outcome.key, outcome.status, outcome.days, outcome.frames) == (
        task.key,
        "failed",
        0,
        None,
    )
    assert outcome.error is not None and "\n" not in outcome.error  # a user's mistake: one line


def test_a_bug_in_a_task_is_recorded_with_its_traceback_and_the_batch_goes_on(
    site_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from dispatch.batch import worker
    from dispatch.batch.display import report_lines

    def broken(*args, **kwargs):
        raise RuntimeError("a bug in the tables")

    monkeypatch.setattr(worker, "task_frames", broken)
    task = plan_tasks([site_file], "2023-01-01", "2023-01-01")[0]
    outcome = run_task(task)
    assert (outcome.key, outcome.status) == (task.key, "failed")
    traceback = outcome.error or ""  # a bug: recorded whole, from the first line to the last
    assert traceback.startswith("Traceback (most recent call last):\n")
    assert traceback.endswith("\nRuntimeError: a bug in the tables")
    report = run_batch([task], tmp_path / "out", executor=InlineExecutor())
    entry = OutputDir(tmp_path / "out").last_entries()[task.key]
    assert entry["status"] == "failed"
    assert entry["error"] == traceback
    assert report_lines(report)[1] == (
        "failed: tiny ercot_dam_spp HB_WEST 2023-01-01..2023-01-01: "
        "RuntimeError: a bug in the tables (traceback in the manifest)"
    )


def test_a_full_disk_stops_the_batch_and_loses_nothing(
    site_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    tasks = plan_tasks([site_file], "2023-01-30", "2023-04-02", split="month")
    out = tmp_path / "out"
    real_write = outputs.pq.write_table
    calls = []

    def fill_up(table, path, *args, **kwargs):
        calls.append(path)
        if len(calls) > 4:  # 3 parts per task: the second task's second part hits a full disk
            Path(path).write_bytes(b"PAR1 half a file")
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(table, path, *args, **kwargs)

    monkeypatch.setattr(outputs.pq, "write_table", fill_up)
    report = run_batch(tasks, out, executor=InlineExecutor())
    assert report.stopped is not None and "No space left on device" in report.stopped
    assert [r.status for r in report.records].count("ok") == 1
    statuses = last_status(out)
    assert sorted(statuses.values()) == ["failed", "ok", "pending", "pending"]
    assert not list(out.rglob("*.tmp"))  # the half-written temporary was removed
    # what was written is whole and readable: exactly the days of the one finished task
    (done,) = [e["task"] for e in OutputDir(out).last_entries().values() if e["status"] == "ok"]
    finished = read(out, "days")["day"].astype(str)
    assert finished.tolist() == [str(d.date()) for d in pd.date_range(done["start"], done["end"])]
    monkeypatch.setattr(outputs.pq, "write_table", real_write)  # space freed
    resumed = run_batch(tasks, out, executor=InlineExecutor(), resume=True)
    assert resumed.complete
    days = read(out, "days")["day"].astype(str)
    assert (
        days.is_unique
        and len(days) == (pd.Timestamp("2023-04-02") - pd.Timestamp("2023-01-30")).days + 1
    )


def test_a_killed_batch_resumes_with_no_duplicate_and_no_missing_day(
    site_file: Path, tmp_path: Path
):
    out = tmp_path / "out"
    command = [
        sys.executable, "-m", "dispatch", "batch", str(site_file),
        "--start", "2023-01-01", "--end", "2023-06-30", "--split", "month",
        "--settlement-point", "HB_WEST", "--settlement-point", "HB_NORTH",
        "--out", str(out), "--workers", "2",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + 120
    try:
        while "ok" not in last_status(out).values():
            assert process.poll() is None, "the batch ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.02)
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # the batch and its worker processes, at once
        process.wait()
    statuses = last_status(out)
    assert len(statuses) == 12 and 0 < list(statuses.values()).count("ok") < 12
    resumed = subprocess.run([*command, "--resume"], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert "skipped (finished earlier)" in resumed.stdout
    days = read(out, "days")
    assert set(last_status(out).values()) == {"ok"}
    for point in ("HB_WEST", "HB_NORTH"):
        covered = days.loc[days["settlement_point"] == point, "day"].astype(str)
        assert covered.is_unique
        assert list(covered.sort_values()) == [
            str(d.date()) for d in pd.date_range("2023-01-01", "2023-06-30")
        ]
    streams = read(out, "streams")
    assert not streams.duplicated(["task_key", "day", "stream"]).any()
    first, second = map(json.loads, Path(out / "manifest.jsonl").read_text().splitlines()[:2])
    assert "plan" in first and second["status"] == "pending"  # what the folder is for, first


def test_a_manifest_line_cut_short_by_a_kill_is_skipped_and_never_extended(
    site_file: Path, tmp_path: Path
):
    tasks = plan_tasks([site_file], "2023-01-01", "2023-01-02", split="month")
    manifest = OutputDir(tmp_path)
    manifest.append(tasks[0], "pending")
    with open(manifest.manifest, "a") as handle:
        handle.write('{"key": "' + tasks[0].key + '", "sta')  # killed mid-write
    manifest.append(tasks[0], "failed", error="boom")
    assert last_status(tmp_path) == {tasks[0].key: "failed"}
    assert len(manifest.manifest.read_text().splitlines()) == 3


def test_an_empty_manifest_left_by_a_kill_takes_its_first_line(site_file: Path, tmp_path: Path):
    tasks = plan_tasks([site_file], "2023-01-01", "2023-01-02", split="month")
    manifest = OutputDir(tmp_path)
    manifest.manifest.touch()  # killed between creating the file and writing to it
    manifest.append(tasks[0], "pending")
    assert manifest.manifest.read_text().count("\n") == 1
    assert last_status(tmp_path) == {tasks[0].key: "pending"}
