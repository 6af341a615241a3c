"""The batch claims of the README, tested as written: --resume re-runs a task whose part is gone;
every field a task's result depends on changes its key; the summary's ratios are the ratios of
sums recomputed from the schedule parts."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from test_batch import InlineExecutor

from dispatch.batch import tasks as tasks_module
from dispatch.batch.outputs import OutputDir
from dispatch.batch.runner import run_batch
from dispatch.batch.summary import kpi_summary, summarize
from dispatch.batch.tasks import Task, plan_tasks, task_key
from dispatch.options import SolveOptions
from dispatch.stochastic.settings import Risk, StochasticSettings

SITE = """\
name: batch claims site
timezone: America/Chicago
market: {iso: ERCOT, settlement_point: HB_WEST}
interval_minutes: 60
grid: {import_limit_mw: 4, export_limit_mw: 1, import_adder_usd_per_mwh: 3}
hpc:
  it_load_mw: 1
  pue: 1.2
  contract: {kind: colocation, usd_per_kw_month: 100}
  sla_penalty_usd_per_mwh: 30
mining:
  pool_fee_fraction: 0.02
  fleets:
    - {name: s19, containers: 3, container_mw: 1.0, efficiency_j_per_th: 25.0,
       startup_cost_usd: 2, min_off_minutes: 120}
"""


@pytest.fixture
def site_file(tmp_path: Path) -> Path:
    path = tmp_path / "claims.yaml"
    path.write_text(SITE)
    return path


def test_resume_re_runs_a_finished_task_whose_part_is_gone(site_file: Path, tmp_path: Path):
    tasks = plan_tasks([site_file], "2023-01-30", "2023-02-01", split="month")
    out = tmp_path / "out"
    assert run_batch(tasks, out, executor=InlineExecutor()).complete
    parts = OutputDir(out).last_entries()[tasks[1].key]["parts"]
    lost = out / parts["streams"][0]["path"]
    lost.unlink()  # e.g. deleted by hand, or lost with a disk
    resumed = run_batch(tasks, out, executor=InlineExecutor(), resume=True)
    assert [r.status for r in resumed.records] == ["skipped", "ok"]
    assert lost.is_file()
    days = pd.read_parquet(out / "days")["day"].astype(str)
    assert sorted(days) == ["2023-01-30", "2023-01-31", "2023-02-01"]


def _task(tmp_path: Path) -> Task:
    prices = tmp_path / "prices.csv"
    prices.write_text("interval_start,price_usd_per_mwh\n2023-01-01T06:00:00Z,20\n")
    (tmp_path / "hashprice.csv").write_text("date,hashprice_usd_per_ph_day\n2023-01-01,60\n")
    (tmp_path / "profiles.csv").write_text("interval_start,solar_capacity_factor\n")
    return Task(
        site_file="claims.yaml",
        site_yaml=SITE,
        prices=str(prices),
        settlement_point="HB_WEST",
        start=dt.date(2023, 1, 1),
        end=dt.date(2023, 1, 31),
        hashprice=str(tmp_path / "hashprice.csv"),
        profiles=str(tmp_path / "profiles.csv"),
        lookahead_hours=0.0,
        options=SolveOptions(),
        settlement_prices="ercot_rtm_spp",
    )


def test_every_field_a_result_depends_on_changes_the_task_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    task = _task(tmp_path)
    other = tmp_path / "other.csv"
    other.write_text("different contents\n")
    changed = {
        "site_yaml": SITE.replace("containers: 3", "containers: 4"),
        "prices": "ercot_dam_spp",
        "settlement_point": "HB_NORTH",
        "start": dt.date(2023, 1, 2),
        "end": dt.date(2023, 1, 30),
        "hashprice": str(other),
        "profiles": str(other),
        "lookahead_hours": 24.0,
        "settlement_prices": "ercot_dam_spp",
        "decision_minutes": 30,
        "rt_forecast": "da",
        "stochastic": StochasticSettings(count=3),
    }
    # every field but the key itself and the site file's path and partition name (its contents
    # count, not its name)
    assert set(changed) == {f.name for f in dataclasses.fields(Task)} - {
        "key",
        "site_file",
        "partition",
        "options",
    }
    first = task_key(task)
    assert task_key(dataclasses.replace(task, site_file="renamed.yaml")) == first
    for name, value in changed.items():
        assert task_key(dataclasses.replace(task, **{name: value})) != first, name
    option_changes = {
        "mip_rel_gap": 1e-3,
        "time_limit_s": 30.0,
        "threads": 2,
        "relax_integrality": True,
        "presolve": "on",
        "highs_options": {"mip_heuristic_effort": 0.1},
        # the engine can pick another of equal optima: a result depends on it too
        "interface": "pyomo",
        "warm_start": True,
        "relaxation_first": True,
    }
    # the model cache re-uses a model of the same structure: how fast, never what is computed
    assert set(option_changes) == {f.name for f in dataclasses.fields(SolveOptions)} - {
        "model_cache"
    }
    for name, value in option_changes.items():
        options = dataclasses.replace(task.options, **{name: value})
        assert task_key(dataclasses.replace(task, options=options)) != first, name
    uncached = dataclasses.replace(task.options, model_cache=False)
    assert task_key(dataclasses.replace(task, options=uncached)) == first
    # every stochastic setting, a scenario file by its contents
    stochastic = dataclasses.replace(task, stochastic=StochasticSettings(count=3))
    scenarios, weights = tmp_path / "scenarios.csv", tmp_path / "weights.csv"
    scenarios.write_text("a\n")
    weights.write_text("b\n")
    settings_changes = {
        "count": 4,
        "risk": Risk(cvar_weight=0.5),
        "scenarios_file": str(scenarios),
        "weights_file": str(weights),
        "in_sample": False,
    }
    assert set(settings_changes) == {f.name for f in dataclasses.fields(StochasticSettings)}
    keys = {task_key(stochastic)}
    for name, value in settings_changes.items():
        settings = dataclasses.replace(stochastic.stochastic, **{name: value})
        keys.add(task_key(dataclasses.replace(stochastic, stochastic=settings)))
    for name, value in (("cvar_alpha", 0.9), ("position_band_mw", 5.0)):
        settings = StochasticSettings(count=3, risk=dataclasses.replace(Risk(), **{name: value}))
        keys.add(task_key(dataclasses.replace(stochastic, stochastic=settings)))
    assert len(keys) == 1 + len(settings_changes) + 2
    with_file = StochasticSettings(count=3, scenarios_file=str(scenarios))
    before_edit = task_key(dataclasses.replace(task, stochastic=with_file))
    scenarios.write_text("c\n")
    assert task_key(dataclasses.replace(task, stochastic=with_file)) != before_edit
    # a file source is its contents: the same name with other contents is another key
    forecast = tmp_path / "forecast.csv"  # --rt-forecast FILE
    forecast.write_text("d\n")
    with_forecast = dataclasses.replace(task, rt_forecast=str(forecast))
    before_edit = task_key(with_forecast)
    forecast.write_text("e\n")
    assert task_key(with_forecast) != before_edit
    Path(task.hashprice).write_text("date,hashprice_usd_per_ph_day\n2023-01-01,61\n")
    assert task_key(task) != first
    # the package and output versions: an upgrade re-runs everything
    monkeypatch.setattr(tasks_module, "package_version", lambda: "99.0")
    assert task_key(task) != first
    monkeypatch.undo()
    monkeypatch.setattr(tasks_module, "OUTPUT_VERSION", tasks_module.OUTPUT_VERSION + 1)
    assert task_key(task) != first


def test_summary_ratios_are_recomputed_from_the_schedule_parts(site_file: Path, tmp_path: Path):
    # two years, so each ratio is a ratio of sums over many days, not a mean of daily ratios
    tasks = plan_tasks([site_file], "2022-12-30", "2023-01-02", lookahead_hours=12)
    out = tmp_path / "out"
    assert run_batch(tasks, out, executor=InlineExecutor()).complete
    summary = summarize(OutputDir(out), [t.key for t in tasks]).kpis.set_index("year")
    schedule = pd.read_parquet(out / "schedule")
    schedule["year"] = pd.to_datetime(schedule["day"]).dt.year
    streams = pd.read_parquet(out / "streams")
    streams["year"] = pd.to_datetime(streams["day"]).dt.year
    for year, rows in schedule.groupby("year"):
        row = summary.loc[year]
        running = rows["mining_s19_containers_on"].sum()
        assert row["mining_uptime_fraction"] == pytest.approx(running / (3 * len(rows)))
        served, required = rows["hpc_served_mw"].sum(), rows["hpc_required_mw"].sum()
        assert row["hpc_availability_fraction"] == pytest.approx(served / required)
        curtailed = (3.0 - rows["mining_s19_power_mw"]).clip(lower=0).sum()
        assert row["mining_curtailed_mwh"] == pytest.approx(curtailed)
        load = rows["hpc_served_mw"].sum() + rows["mining_s19_power_mw"].sum()
        margin = streams.loc[streams["year"] == year, "usd"].sum()
        assert row["net_margin_usd"] == pytest.approx(margin)
        assert row["margin_usd_per_mwh"] == pytest.approx(margin / load)
        assert row["days"] == rows["day"].nunique()
    assert set(summary.index) == {2022, 2023}
    assert (summary["hpc_availability_fraction"] < 1).any()  # the SLA is cheap: some unserved
    assert kpi_summary(pd.DataFrame()).empty


def test_the_manifest_says_what_each_task_is_and_why_it_failed(site_file: Path, tmp_path: Path):
    # DAM data begin 2021-01-01: the 2020 task fails on its prices, the 2021 one on its hashprice
    hashprice = tmp_path / "hashprice.csv"
    hashprice.write_text("date,hashprice_usd_per_ph_day\n2023-01-01,60\n")
    options = SolveOptions(mip_rel_gap=1e-3)
    tasks = plan_tasks(
        [site_file],
        "2020-12-31",
        "2021-01-01",
        prices=["ercot_dam_spp"],
        settlement_points=["HB_HOUSTON"],
        hashprice=hashprice,
        lookahead_hours=12,
        options=options,
    )
    out = tmp_path / "out"
    run_batch(tasks, out, executor=InlineExecutor())
    entries = OutputDir(out).last_entries()
    for task, day in zip(tasks, ("2020-12-31", "2021-01-01"), strict=True):
        entry = entries[task.key]
        assert entry["status"] == "failed"
        assert entry["task"] == {
            "label": f"claims ercot_dam_spp HB_HOUSTON {day}..{day}",
            "site_file": str(site_file),
            "prices": "ercot_dam_spp",
            "settlement_point": "HB_HOUSTON",
            "start": day,
            "end": day,
            "days": 1,
            "hashprice": str(hashprice),
            "profiles": None,
            "lookahead_hours": 12.0,
            "settlement_prices": None,
            "decision_minutes": 60,
            "rt_forecast": "spread",
            "stochastic": None,
            "options": options.as_dict(),
        }
    assert "price_usd_per_mwh covers 2021-01-01" in entries[tasks[0].key]["error"]
    assert "has no value for 2021-01-01" in entries[tasks[1].key]["error"]


def test_schedule_parts_have_one_row_per_interval_stamped_in_utc(site_file: Path, tmp_path: Path):
    # 2023-03-12 springs forward in Chicago: 23 hourly intervals, 71 over the three days
    tasks = plan_tasks([site_file], "2023-03-11", "2023-03-13")
    out = tmp_path / "out"
    assert run_batch(tasks, out, executor=InlineExecutor()).complete
    starts = pd.read_parquet(out / "schedule")["interval_start"]
    local = pd.date_range("2023-03-11", "2023-03-14", freq="h", tz="America/Chicago")[:-1]
    assert len(local) == 71
    assert str(starts.dt.tz) == "UTC"
    assert starts.sort_values().tolist() == local.tz_convert("UTC").tolist()
