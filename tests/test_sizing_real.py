"""Sizing on real ERCOT prices and hashprice: the optimizer against the sweep and the full
history, monotonicity, regret, the command line and the 2023 example.

The small cases run the retrofit example at an hourly interval (bundled day-ahead prices) with
hashprice halved, where the answer is interior: retire most of the old S19 fleet and retrofit
its halls into HPC.
"""

from __future__ import annotations

import itertools
import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import pytest
from conftest import SITES
from typer.testing import CliRunner

from dispatch import InputError, load_site, size
from dispatch.cli import app
from dispatch.sizing.scenarios import Scenario

HALF = Scenario(name="half", hashprice_factor=0.5)


@pytest.fixture(scope="module")
def campus():
    site = load_site(SITES / "retrofit_campus.yaml")
    return site.model_copy(update={"interval_minutes": 60})


def test_the_optimizer_sits_at_the_best_point_of_the_sweep(campus):
    """With every day of the history as its own representative, the optimizer and the sweep
    score plans on the same basis: the optimizer (free routes, per-fleet counts) can only do
    better than any grid point, and its mix lies within one grid step of the sweep's best.
    The grid follows the decisions' own steps (10 MW IT halls); measured: sweep best 388 M USD
    at 90 MW IT x 19 MW mining, optimizer 397 M USD at 90 MW IT x 22.8 MW (12 S21 kept)."""
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as executor:
        result = size(
            campus,
            start="2023-07-10",
            end="2023-07-14",
            representative_days=5,
            scenarios=[HALF],
            hpc_it_mw=[20, 30, 40, 50, 60, 70, 80, 90, 100],  # whole 10 MW IT halls
            mining_mw=[0, 19, 38, 57, 76, 95, 114],  # ten 1.9 MW containers a step
            check=False,
            executor=executor,
        )
    sweep = result.sweep
    assert sweep["feasible"].sum() >= 10
    best = sweep.loc[sweep["npv_usd"].idxmax()]
    optimum = result.outcomes[0].optimum
    assert optimum.npv_usd >= best["npv_usd"] * (1 - 1e-6)
    assert abs(optimum.plan.hpc_it_mw - best["hpc_it_mw"]) <= 10
    assert abs(optimum.mining_mw - best["plan_mining_mw"]) <= 19
    assert 20 < optimum.plan.hpc_it_mw < 100  # interior: the test is not about a corner
    for route_mw in (optimum.plan.hpc_retrofit_it_mw, optimum.plan.hpc_new_build_it_mw):
        assert route_mw / 10 == pytest.approx(round(route_mw / 10))  # whole 10 MW IT halls


def test_representative_days_land_within_tolerance_of_the_full_month(campus):
    """July 2023: 10 representative days (+ the 4CP day) against all 31 as their own. Stated
    tolerance: the same mix, and net value per year within 5 % (measured: 2.0 %)."""
    exact = size(
        campus,
        start="2023-07-01",
        end="2023-07-31",
        representative_days=31,
        scenarios=[HALF],
        check=False,
    )
    rep = size(
        campus,
        start="2023-07-01",
        end="2023-07-31",
        representative_days=10,
        scenarios=[HALF],
        check=False,
    )
    exact_case, rep_case = exact.outcomes[0].optimum, rep.outcomes[0].optimum
    assert rep_case.plan.hpc_it_mw == exact_case.plan.hpc_it_mw
    assert rep_case.plan.containers == exact_case.plan.containers
    assert rep_case.net_usd_per_year == pytest.approx(exact_case.net_usd_per_year, rel=0.05)


def test_higher_hpc_capex_never_increases_hpc_mw_on_real_prices(campus):
    sizing = campus.sizing
    hpc_mw = []
    for factor in (0.25, 1.0, 2.0, 4.0):
        routes = {
            name: getattr(sizing.hpc, name).model_copy(
                update={"capex_usd_per_mw": factor * getattr(sizing.hpc, name).capex_usd_per_mw}
            )
            for name in ("new_build", "retrofit")
        }
        site = campus.model_copy(
            update={
                "sizing": sizing.model_copy(update={"hpc": sizing.hpc.model_copy(update=routes)})
            }
        )
        result = size(
            site,
            start="2023-07-10",
            end="2023-07-12",
            representative_days=3,
            scenarios=[HALF],
            check=False,
        )
        hpc_mw.append(result.outcomes[0].optimum.plan.hpc_it_mw)
    assert all(b <= a + 1e-6 for a, b in itertools.pairwise(hpc_mw)), hpc_mw
    assert hpc_mw[0] > hpc_mw[-1]  # the capex matters here: the sequence is not flat


def test_each_scenario_has_its_optimum_and_another_mix_has_regret(campus):
    result = size(
        campus,
        start="2023-07-10",
        end="2023-07-12",
        representative_days=3,
        scenarios=[Scenario(name="history"), HALF],
        check=False,
    )
    optima = {o.scenario.name: o.optimum.plan for o in result.outcomes}
    assert optima["half"].hpc_it_mw > optima["history"].hpc_it_mw  # cheaper hashprice: more HPC
    regret = result.regret
    assert regret.loc["history", "history"] == pytest.approx(0, abs=1)
    assert regret.loc["half", "half"] == pytest.approx(0, abs=1)
    assert regret.loc["history", "half"] > 1e6  # staying in mining when hashprice halves hurts
    assert (regret.drop(columns="max_regret_usd") >= -1e-6).all().all()


def test_dispatch_size_command_writes_tables_summary_and_report(tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        [
            "size",
            str(SITES / "retrofit_campus.yaml"),
            "--start",
            "2023-07-11",
            "--end",
            "2023-07-12",
            "--representative-days",
            "2",
            "--hpc-mw",
            "20:40:20",
            "--mining-mw",
            "76:114:38",
            "--out",
            str(out),
            "--report",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "margin by stream per year" in result.output
    assert "sweep NPV" in result.output
    written = {p.name for p in out.iterdir()}
    assert {
        "cases.csv",
        "streams.csv",
        "costs.csv",
        "sweep.csv",
        "summary.json",
        "representative_days.csv",
        "report.html",
    } <= written
    page = (out / "report.html").read_text()
    assert "Chosen plan against business as usual" in page and "NPV over HPC and mining MW" in page
    summary = json.loads((out / "summary.json").read_text())
    assert summary["optimum"]["basis"] == "full history (2 days)"  # the check
    assert summary["business_as_usual"]["hpc_it_mw"] == 20


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--full-year"], "--full-year: needs --hpc-mw and --mining-mw"),
        (["--hpc-mw", "0:10:5"], "a sweep needs both axes"),
        (["--years", "2024:2023"], "--years"),
        (
            ["--full-year", "--representative-days", "4", "--hpc-mw", "20", "--mining-mw", "100"],
            "either --representative-days or --full-year",
        ),
        (["--hpc-mw", "10:0:5", "--mining-mw", "0"], "--hpc-mw: expected MIN:MAX:STEP"),
    ],
)
def test_dispatch_size_user_errors_exit_2(arguments, message):
    result = CliRunner().invoke(app, ["size", str(SITES / "retrofit_campus.yaml"), *arguments])
    assert result.exit_code == 2
    assert message in result.output


def test_a_site_without_sizing_section_exits_2():
    result = CliRunner().invoke(app, ["size", str(SITES / "west_texas_hybrid.yaml")])
    assert result.exit_code == 2
    assert "no sizing section" in result.output


@pytest.mark.slow
def test_the_2023_example_completes(tmp_path):
    """The documented example (docs/planning.md): the retrofit campus over 2023 on 12
    representative days (+ the four 4CP days), checked by dispatching all 365 days, with a small sweep over the real history."""
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as executor:
        result = size(
            SITES / "retrofit_campus.yaml",
            "2023",
            hpc_it_mw=[20, 60],
            mining_mw=[57, 114],
            executor=executor,
        )
    assert result.outcomes[0].solve["status"] == "optimal"
    assert [c.basis for c in result.checked] == ["full history (365 days)"] * 2
    estimate, checked = result.outcomes[0].optimum, result.optimum
    assert estimate.net_usd_per_year == pytest.approx(checked.net_usd_per_year, rel=0.05)
    assert result.optimum.npv_usd >= result.business_as_usual.npv_usd - 1e-6 * abs(
        result.business_as_usual.npv_usd
    )
    result.write(tmp_path)


def test_a_thread_pool_is_refused_before_it_can_deadlock(campus):
    with ThreadPoolExecutor(2) as executor, pytest.raises(InputError, match="ProcessPoolExecutor"):
        size(campus, start="2023-07-10", end="2023-07-10", executor=executor)
