"""`dispatch batch`: the summary it prints and writes, exit codes, one message per mistake."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from test_batch import TINY_SITE, last_status
from typer.testing import CliRunner

from dispatch.cli import app

runner = CliRunner()


@pytest.fixture
def site_file(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY_SITE)
    return path


def batch(*args: str):
    return runner.invoke(app, ["batch", *args])


def test_batch_prints_a_table_per_task_and_year_and_writes_the_summary(
    site_file: Path, tmp_path: Path
):
    out = tmp_path / "out"
    result = batch(
        str(site_file), "--start", "2022-12-30", "--end", "2023-01-02", "--out", str(out),
        "--workers", "1", "--lookahead-hours", "24",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    for text in ("tiny batch site", "2022", "2023", "mining_hashprice USD", "USD/MWh"):
        assert text in result.output
    for text in ("net margin USD", "mining uptime", "curtailed mining MWh", "HPC availability"):
        assert text in result.output
    assert (
        "tasks: 2 finished, 0 skipped (finished earlier), 0 failed, 0 not run; 4 days solved"
        in (result.output)
    )
    wrote = [line for line in result.output.splitlines() if line.startswith("wrote ")]
    assert wrote == [
        f"wrote {out / name}"
        for name in (
            "summary_streams.parquet",
            "summary_streams.csv",
            "summary_kpis.parquet",
            "summary_kpis.csv",
        )
    ]
    kpis = pd.read_csv(out / "summary_kpis.csv")
    streams = pd.read_parquet(out / "summary_streams.parquet")
    days = pd.read_parquet(out / "days")
    assert kpis["year"].tolist() == [2022, 2023] and kpis["days"].tolist() == [2, 2]
    assert kpis["net_margin_usd"].sum() == pytest.approx(days["net_margin_usd"].sum())
    by_year = streams.groupby("year")["usd"].sum()
    assert by_year.to_numpy() == pytest.approx(kpis["net_margin_usd"].to_numpy())
    hashprice = streams[streams["stream"] == "mining_hashprice"]
    assert (hashprice["usd_per_mwh"] == hashprice["usd"] / hashprice["basis_mwh"]).all()
    uptime = days["mining_container_intervals_on"].sum() / days["mining_container_intervals"].sum()
    assert kpis["mining_uptime_fraction"].mean() == pytest.approx(uptime, abs=0.01)


@pytest.mark.slow
def test_operator_batch_compares_four_cases_by_year_and_month(site_file: Path, tmp_path: Path):
    out = tmp_path / "out"
    result = batch(
        str(site_file), "--start", "2023-08-31", "--end", "2023-09-01", "--out", str(out),
        "--workers", "1", "--operator",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "operator back-test" in " ".join(result.output.split())
    days = pd.read_parquet(out / "days")
    assert set(days["case"]) == {"perfect_foresight", "da_plan_rt", "operator", "breakeven"}
    table = pd.read_csv(out / "summary_operator.csv", dtype={"period": str})
    assert table["period"].tolist() == ["2023", "2023-08", "2023-09"]
    by_case = days.groupby("case")["net_margin_usd"].sum()
    year = table.iloc[0]
    for case in by_case.index:
        assert year[f"{case}_margin_usd"] == pytest.approx(by_case[case])
    assert year["operator_share_of_perfect_foresight"] == pytest.approx(
        by_case["operator"] / by_case["perfect_foresight"]
    )
    streams = set(pd.read_parquet(out / "streams")["stream"])
    assert {"da_energy", "rt_deviation"} <= streams and "grid_energy_purchase" not in streams


def test_a_task_whose_data_do_not_cover_its_period_fails_alone(site_file: Path, tmp_path: Path):
    out = tmp_path / "out"
    result = batch(
        str(site_file), "--start", "2020-12-30", "--end", "2021-01-01", "--out", str(out),
        "--workers", "1",
    )  # fmt: skip
    assert result.exit_code == 1
    assert "tasks: 1 finished, 0 skipped (finished earlier), 1 failed" in result.output
    assert "failed: tiny ercot_dam_spp HB_WEST 2020-12-30..2020-12-31: bundled ercot_dam_spp" in (
        result.output
    )
    said = " ".join(result.output.split())  # the console wraps long lines
    assert (
        "lists every task that did not finish; fix the cause and re-run the same command "
        "with --resume" in said
    )
    assert said.endswith("with --resume")
    assert sorted(last_status(out).values()) == ["failed", "ok"]
    assert "Traceback" not in result.output


def test_a_hashprice_held_forward_in_a_worker_is_reported(site_file: Path, tmp_path: Path):
    """The bundled hashprice ends 2025-04-07: the next day runs on that day's value held
    forward. In a worker process the warning would be lost; the batch must say so."""
    out = tmp_path / "out"
    result = batch(
        str(site_file), "--start", "2025-04-07", "--end", "2025-04-08", "--out", str(out),
        "--workers", "1",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert (
        "warning: tiny ercot_dam_spp HB_WEST 2025-04-07..2025-04-08: bundled btc_hashprice: "
        "hashprice_usd_per_ph_day for 2025-04-08 is 2025-04-07's"
    ) in text
    (entry,) = [e for e in last_status_entries(out) if e["status"] == "ok"]
    assert "2025-04-07's" in entry["warnings"][0]


def last_status_entries(out: Path) -> list[dict]:
    from dispatch.batch.outputs import OutputDir

    return list(OutputDir(out).last_entries().values())


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("tcp://127.0.0.1:9", "--scheduler tcp://127.0.0.1:9: cannot reach the Dask scheduler"),
        ("127.0.0.1", "--scheduler 127.0.0.1: not a Dask scheduler address (missing port"),
    ],
)
def test_an_unreachable_scheduler_is_one_message_and_leaves_no_trace(
    site_file: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str], address, message
):
    out = tmp_path / "out"
    result = batch(
        str(site_file), "--start", "2023-01-01", "--end", "2023-01-02", "--out", str(out),
        "--scheduler", address, "--scheduler-timeout", "0.5",
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output + capfd.readouterr().err
    assert not out.exists()  # no manifest, no folder: nothing was planned into it


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--start", "2023-01-01", "--end", "2023-01-02"], "Missing option '--out'"),
        (["--start", "2023-13-01", "--end", "2023-01-02", "--out", "o"], "--start: expected a date"),
        (["--start", "2023-01-01", "--end", "2023-01-02", "--out", "o", "--workers", "0"],
         "--workers: expected at least 1, found 0"),
        (["--start", "2023-01-01", "--end", "2023-01-02", "--out", "o", "--workers", "2",
          "--scheduler", "tcp://x:1"], "--workers and --scheduler: use one"),
        (["--start", "2023-01-01", "--end", "2023-01-02", "--out", "o", "--settlement-point",
          "HB_NOWHERE"], "settlement point 'HB_NOWHERE' is not in bundled ercot_dam_spp"),
        (["--start", "2023-01-01", "--end", "2023-01-02", "--out", "o", "--decision-minutes", "90"],
         "--rt-prices, --decision-minutes and --rt-forecast apply with --operator only"),
        (["--start", "2023-01-01", "--end", "2023-01-02", "--out", "o", "--operator",
          "--decision-minutes", "420"], "--decision-minutes: 420 does not divide the 1440-minute day"),
        (["--start", "2023-01-01", "--end", "2023-01-02", "--out", "o", "--operator",
          "--decision-minutes", "90"], "a positive multiple of the site's interval_minutes = 60"),
        (["--start", "2023-01-01", "--end", "2023-01-02", "--out", "o", "--operator",
          "--rt-forecast", "tomorrow.csv"],
         "--rt-forecast: expected spread or da or scenarios or a price file, found 'tomorrow.csv'"),
        (["--start", "2023-01-01", "--end", "2023-01-02", "--out", "o", "--operator",
          "--lookahead-hours", "24"], "operator mode decides one day at a time"),
        (["--start", "2023-01-01", "--end", "2023-01-02", "--out", "o", "--prices", "ercot_dam"],
         "--prices: 'ercot_dam' is neither a bundled price data set"),
        (["--start", "2023-01-01", "--end", "2023-01-02", "--out", "o", "--split", "week"],
         "Invalid value for '--split'"),
    ],
)  # fmt: skip
def test_batch_mistakes_exit_2_with_one_message(
    site_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args, message
):
    monkeypatch.chdir(tmp_path)  # "o" lands in this test's folder, if anything is written
    result = batch(str(site_file), *args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "o").exists()


def test_a_site_file_that_is_a_symlink_loop_is_one_message(tmp_path: Path):
    loop = tmp_path / "loop.yaml"
    loop.symlink_to(loop)
    result = batch(str(loop), "--start", "2023-01-01", "--end", "2023-01-01", "--out",
                   str(tmp_path / "o"))  # fmt: skip
    assert result.exit_code == 2, result.output
    assert " ".join(result.output.split()) == (
        f"error: {loop}: cannot read site file (Too many levels of symbolic links)"
    )
    assert not (tmp_path / "o").exists()


def test_an_existing_batch_is_not_overwritten_without_resume(site_file: Path, tmp_path: Path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "manifest.jsonl").write_text("")
    result = batch(
        str(site_file), "--start", "2023-01-01", "--end", "2023-01-01", "--out", str(out)
    )
    assert result.exit_code == 2
    assert "already holds a batch (manifest.jsonl); pass --resume" in result.output
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    result = batch(
        str(site_file), "--start", "2023-01-01", "--end", "2023-01-01", "--out", str(not_a_folder)
    )
    assert result.exit_code == 2 and "exists and is not a folder" in result.output


def test_batch_api_is_exported_lazily():
    code = (
        "import sys, dispatch, dispatch.cli\n"
        "assert 'pyomo' not in sys.modules and 'distributed' not in sys.modules\n"
        "run_batch, plan_tasks = dispatch.run_batch, dispatch.plan_tasks\n"
        "assert 'distributed' not in sys.modules\n"
        "print(run_batch.__module__, plan_tasks.__module__)\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert completed.stdout.split() == ["dispatch.batch.runner", "dispatch.batch.tasks"]


def test_progress_bar_shows_tasks_days_per_second_and_eta(site_file: Path):
    import io

    from rich.console import Console

    from dispatch.batch.display import progress
    from dispatch.batch.runner import TaskRecord
    from dispatch.batch.tasks import plan_tasks

    tasks = plan_tasks([site_file], "2022-12-30", "2023-01-02")
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=120)
    with progress(console, tasks) as on_task_done:
        for task in tasks:
            on_task_done(TaskRecord(task, "ok", 1.0))
    shown = screen.getvalue()
    assert "2/2 tasks" in shown and "days/s" in shown and "ETA" in shown
    logged = io.StringIO()
    with progress(Console(file=logged, width=200), tasks) as on_task_done:
        on_task_done(TaskRecord(tasks[0], "failed", 1.0, "no data"))
    assert logged.getvalue().startswith(
        "[1/2] tiny ercot_dam_spp HB_WEST 2022-12-30..2022-12-31: failed"
    )


# Two days of a back-test's margins [USD] per case, made up by hand (a derivation, not data)
MARGINS = {
    "perfect_information": (12_000, 5_000),
    "perfect_foresight": (13_000, 6_000),
    "stochastic": (10_000, 3_000),
    "operator": (9_000, 2_500),
    "breakeven": (7_000, 2_000),
    "da_plan_rt": (8_000, 4_000),
}
IN_SAMPLE = {"in_sample_rp_usd": (10_500, 3_200), "in_sample_eev_usd": (10_000, 3_000),
             "in_sample_ws_usd": (11_000, 3_600)}  # fmt: skip


def back_test_days() -> pd.DataFrame:
    group = {"site_file": "tiny.yaml", "site_name": "tiny", "prices": "ercot_dam_spp",
             "settlement_point": "HB_WEST"}  # fmt: skip
    rows = []
    for case, margins in MARGINS.items():
        for i, day in enumerate(("2023-08-16", "2023-08-17")):
            row = {**group, "case": case, "day": day, "net_margin_usd": float(margins[i])}
            if case == "stochastic":
                row |= {name: float(v[i]) for name, v in IN_SAMPLE.items()}
                row["stochastic_gap"] = 0.0
            rows.append(row)
    return pd.DataFrame(rows)


def rendered_rows(table) -> dict[str, list[str]]:
    """A rich table as printed by the batch (no colour), each body row's cells as laid out
    (with their padding), by the row's first cell."""
    import io

    from dispatch.cli.common import plain_console

    screen = io.StringIO()
    plain_console(file=screen, width=400).print(table)
    rows = {}
    for line in screen.getvalue().splitlines():
        if line.startswith("│"):
            cells = line.split("│")[1:-1]
            rows[cells[0].strip()] = cells[1:]
    return rows


def assert_right_aligned(cells: list[str], expected: list[str]) -> None:
    assert [c.strip() for c in cells] == expected
    for cell, value in zip(cells, expected, strict=True):  # one space of padding on the right
        assert cell.endswith(f" {value} "), f"{value!r} is not right-aligned in {cell!r}"
        assert len(cell) > len(value) + 2  # the header is wider: there was room to the left


def test_operator_table_shows_each_case_right_aligned_by_year_and_month():
    from dispatch.batch.display import operator_tables
    from dispatch.batch.summary import Summary, operator_summary

    summary = Summary(pd.DataFrame(), pd.DataFrame(), operator_summary(back_test_days()))
    (table,) = operator_tables(summary)
    rows = rendered_rows(table)
    assert list(rows) == ["2023", "2023-08"]
    # foresight 19,000, DA plan 12,000, operator 11,500, rule 9,000; 11,500 / 19,000 = 60.53 %;
    # (11,500 - 9,000) / (19,000 - 9,000) = 25 %
    expected = ["2", "19,000", "12,000", "11,500", "9,000", "60.53%", "25.00%"]
    for period in rows:
        assert_right_aligned(rows[period], expected)


def test_stochastic_table_shows_margins_vss_and_evpi_right_aligned():
    from dispatch.batch.display import stochastic_tables
    from dispatch.batch.summary import Summary
    from dispatch.stochastic.summary import stochastic_summary, worst_days

    days = back_test_days()
    empty = pd.DataFrame()
    summary = Summary(empty, empty, empty, stochastic_summary(days), worst_days(days))
    table, worst = stochastic_tables(summary)
    rows = rendered_rows(table)
    assert list(rows) == ["2023", "2023-08"]
    # information 17,000, stochastic 13,000, deterministic 11,500, rule 9,000; realized VSS
    # 13,000 - 11,500, EVPI 17,000 - 13,000; in sample: VSS 13,700 - 13,000, EVPI 14,600 - 13,700
    expected = ["2", "17,000", "13,000", "11,500", "9,000", "1,500", "4,000", "700", "900"]
    for period in rows:
        assert_right_aligned(rows[period], expected)
    # the worst day first; cases in the order of their names
    assert [c.strip() for c in rendered_rows(worst)["2023-08-17"]] == [
        "2,000", "4,000", "2,500", "6,000", "5,000", "3,000"
    ]  # fmt: skip


def test_a_full_disk_ends_the_batch_with_exit_1_and_says_what_did_not_finish(
    site_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    import errno

    from dispatch.batch import outputs

    def no_space(table, path, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(outputs.pq, "write_table", no_space)
    out = tmp_path / "out"
    result = batch(
        str(site_file), "--start", "2023-01-30", "--end", "2023-02-02", "--split", "month",
        "--out", str(out), "--workers", "1",
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    assert f"stopped: cannot write to {out}: [Errno 28] No space left on device" in result.output
    assert "re-run the same command with --resume" in result.output
    assert "Traceback" not in result.output
    assert sorted(last_status(out).values()) == ["failed", "pending"]
    assert not list(out.rglob("*.parquet*")) and not (out / "summary_kpis.csv").exists()


def test_operator_files_that_do_not_fit_exit_2_naming_the_file(tmp_path: Path):
    """An RT price file coarser than the site, a forecast file that does not cover the period:
    one line naming the file, before anything runs (real HB_WEST prices, written as tidy)."""
    from dispatch.inputs.bundled import bundled_price

    quarter = tmp_path / "quarter.yaml"
    quarter.write_text(TINY_SITE.replace("interval_minutes: 60", "interval_minutes: 15"))
    hourly = bundled_price("ercot_dam_spp", "HB_WEST")["2023-08-01":"2023-08-04"]
    rt_file = tmp_path / "rt_hourly.csv"
    hourly.rename_axis("interval_start").to_frame().to_csv(rt_file)
    out = tmp_path / "out"
    result = batch(
        str(quarter), "--start", "2023-08-02", "--end", "2023-08-02", "--out", str(out),
        "--operator", "--rt-prices", str(rt_file),
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert f"--rt-prices {rt_file}: real-time prices every 0 days 01:00:00 are coarser" in (
        " ".join(result.output.split())
    )
    result = batch(
        str(quarter), "--start", "2023-08-02", "--end", "2023-08-06", "--out", str(out),
        "--operator", "--rt-forecast", str(rt_file),
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert f"--rt-forecast {rt_file}: covers" in " ".join(result.output.split())
    assert not out.exists()


# --- operator mode: each price source in its market's role ------------------------------------

PPA = Path(__file__).parents[1] / "sites" / "ppa_power_credits.yaml"


def price_file(folder: Path, dataset: str, name: str) -> str:
    """Real HB_WEST prices of one day as the tidy file that states their market."""
    from dispatch.inputs.export import tidy_export, write_tidy

    day = pd.Timestamp("2023-08-17").date()
    frame, _ = tidy_export(dataset, settlement_point="HB_WEST", start=day, end=day)
    return str(write_tidy(frame, folder / name))


@pytest.mark.parametrize(
    ("prices", "rt_prices", "message"),
    [
        # the two files swapped: the day-ahead stage would know the real-time prices, the
        # settlement would be the day-ahead ones (held over the quarter-hours without a word)
        ("rt.csv", "da.csv", "--prices rt.csv: real-time prices"),
        ("ercot_dam_spp", "da.csv", "--rt-prices da.csv: day-ahead prices"),
        ("ercot_dam_spp", "ercot_dam_spp", "--rt-prices ercot_dam_spp: day-ahead prices"),
        ("ercot_rtm_spp", "ercot_rtm_spp", "--prices ercot_rtm_spp: real-time prices"),
    ],
)
def test_operator_mode_refuses_prices_of_the_wrong_market(tmp_path, prices, rt_prices, message):
    from dispatch.batch.tasks import plan_tasks
    from dispatch.errors import InputError

    files = {
        "da.csv": price_file(tmp_path, "ercot_dam_spp", "da.csv"),
        "rt.csv": price_file(tmp_path, "ercot_rtm_spp", "rt.csv"),
    }
    with pytest.raises(InputError) as error:
        plan_tasks(
            [PPA],
            "2023-08-17",
            "2023-08-17",
            prices=[files.get(prices, prices)],
            settlement_prices=files.get(rt_prices, rt_prices),
        )
    shown = str(error.value).replace(str(tmp_path) + "/", "")
    assert shown.startswith(message), shown


def test_operator_mode_takes_prices_that_state_their_markets(tmp_path):
    from dispatch.batch.tasks import plan_tasks
    from dispatch.errors import InputWarning

    da = price_file(tmp_path, "ercot_dam_spp", "da.csv")
    rt = price_file(tmp_path, "ercot_rtm_spp", "rt.csv")
    # 2023-08-17's real-time prices passed the offer cap with adders: said, and kept
    with pytest.warns(InputWarning, match="above the ERCOT offer cap"):
        (task,) = plan_tasks([PPA], "2023-08-17", "2023-08-17", prices=[da], settlement_prices=rt)
    assert (task.prices, task.settlement_prices) == (da, rt)


def test_operator_mode_from_the_api_commits_on_day_ahead_prices_by_default():
    """As the CLI does: without --prices the day-ahead stage commits on ercot_dam_spp, never on
    the site's default (real-time for a 15-minute site), which would know the day in advance."""
    from dispatch.batch.tasks import plan_tasks

    (task,) = plan_tasks([PPA], "2023-08-17", "2023-08-17", settlement_prices="ercot_rtm_spp")
    assert (task.prices, task.settlement_prices) == ("ercot_dam_spp", "ercot_rtm_spp")


def test_relaxation_first_reaches_the_tasks_and_keeps_the_optimum(site_file: Path, tmp_path: Path):
    margins = {}
    for flag in ("--relaxation-first", "--no-relaxation-first"):
        out = tmp_path / flag
        args = ["--start", "2023-01-01", "--end", "2023-01-02", "--workers", "1"]
        result = batch(str(site_file), *args, "--out", str(out), flag)
        assert result.exit_code == 0, result.output
        lines = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
        options = [line["task"]["options"] for line in lines if "task" in line]
        assert options and all(
            o["relaxation_first"] == (flag == "--relaxation-first") for o in options
        )
        margins[flag] = pd.read_parquet(out / "days")["net_margin_usd"].to_numpy()
    assert margins["--relaxation-first"] == pytest.approx(
        margins["--no-relaxation-first"], rel=1e-4
    )
