"""`dispatch size` under uncertainty from the command line: bad business terms exit 2 with one
line naming the field, progress shows as bars on a terminal and as one line per step in a log,
and a small Monte Carlo ends with the recommendation and writes its tables."""

from __future__ import annotations

import io
import json

import pytest
import yaml
from conftest import SITES
from rich.console import Console
from typer.testing import CliRunner

from dispatch.cli import app
from dispatch.cli.steps import step_display
from dispatch.sizing.progress import Step


def campus(tmp_path, name="campus.yaml", gpu=False, **sizing):
    """The retrofit (or GPU cloud) campus, hourly, without 4CP, its sizing extended."""
    source = "gpu_cloud_campus.yaml" if gpu else "retrofit_campus.yaml"
    data = yaml.safe_load((SITES / source).read_text())
    data["interval_minutes"] = 60
    del data["grid"]["coincident_peak"]
    for key, value in sizing.items():
        if value is None:
            data["sizing"].pop(key, None)
        else:
            data["sizing"][key] = value
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return path


BAD = [
    (
        {"financing": {"debt_fraction": 1.5}},
        False,
        "sizing.financing.debt_fraction: Input should be less than or equal to 1 (found 1.5)",
    ),
    (
        {"schedule": {"retrofit_months": 130}},
        False,
        "sizing.schedule.retrofit_months = 130 is not shorter than the analysis horizon",
    ),
    (
        {"colocation": {"escalator_fraction_per_year": -0.02}},
        False,
        "sizing.colocation.escalator_fraction_per_year: Input should be greater than or equal to 0",
    ),
    (
        {"gpu_cloud": {"gpu_capex_usd_per_gpu": 40000, "refresh_years": 12}},
        True,
        "sizing.gpu_cloud.refresh_years = 12 is longer than sizing.analysis_years = 10",
    ),
    (
        {"gpu_cloud": {"gpu_capex_usd_per_gpu": 40000}},
        False,
        "sizing.gpu_cloud: the terms of a GPU cloud, but hpc.contract.kind is colocation",
    ),
    (
        {"uncertainty": {"network_hashrate_growth_fraction_per_year": [0.6, 0.2]}},
        False,
        "sizing.uncertainty: network_hashrate_growth_fraction_per_year: expected [low, high]",
    ),
    (
        {"uncertainty": {"paths": 10}},
        False,
        "sizing.uncertainty.cvar_fraction = 0.05 of 10 paths holds no path",
    ),
    (
        {"colocation": {"exit_probability_per_year": 1.2}},
        False,
        "sizing.colocation.exit_probability_per_year: Input should be less than or equal to 1",
    ),
]


@pytest.mark.parametrize(("sizing", "gpu", "message"), BAD, ids=[m[:40] for _, _, m in BAD])
def test_bad_business_terms_exit_2_with_one_line_naming_the_field(tmp_path, sizing, gpu, message):
    path = campus(tmp_path, gpu=gpu, **sizing)
    result = CliRunner().invoke(
        app, ["size", str(path), "--start", "2023-07-11", "--end", "2023-07-11"]
    )
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert len([line for line in result.output.splitlines() if line.startswith("error")]) == 1


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--paths", "-1"], "--paths: expected 0 (no Monte Carlo) or more, found -1"),
        (["--paths", "10"], "--paths: 10 paths leave no path in the CVaR tail"),
        (["--paths", "1000000"], "--paths: expected 0 (no Monte Carlo) to 100,000, found 1000000"),
        (["--paths", "100", "--seed", "-3"], "--seed: expected an integer from 0 to"),
        (["--paths", "100", "--seed", str(10**20)], "--seed: expected an integer from 0 to"),
    ],
)
def test_bad_monte_carlo_options_exit_2_before_any_work(tmp_path, arguments, message):
    path = campus(tmp_path)
    result = CliRunner().invoke(
        app, ["size", str(path), "--start", "2023-07-11", "--end", "2023-07-11", *arguments]
    )
    assert result.exit_code == 2
    assert message in result.output
    assert "loading inputs" not in result.output  # refused before the history was read


def test_a_terminal_shows_a_bar_with_an_eta_and_a_log_one_line_per_step():
    screen = io.StringIO()
    with step_display(Console(file=screen, force_terminal=True, width=120)) as show:
        for done in range(4):
            show(Step("sweep", done, 3, "points", done * 1.5))
    assert "sweep" in screen.getvalue() and "ETA" in screen.getvalue()
    log = io.StringIO()
    with step_display(Console(file=log, force_terminal=False, width=120)) as show:
        for done in range(4):
            show(Step("sweep", done, 3, "points", done * 1.5))
        show(Step("Monte Carlo: dispatch grid", 8, 8, "tasks", 12.0))
    assert log.getvalue().splitlines() == [
        "sweep: 3/3 points in 4.5 s",
        "Monte Carlo: dispatch grid: 8/8 tasks in 12.0 s",
    ]


@pytest.mark.parametrize("terminal", [True, False])
def test_step_names_print_as_typed(terminal):
    """A step name is text, never Rich markup (a bracket, an emoji code) nor an escape code."""
    screen = io.StringIO()
    name = "scenario [bold]x[/] :smile: \x1b[31m"
    with step_display(Console(file=screen, force_terminal=terminal, width=200)) as show:
        show(Step(name, 0, 1, "MILP", 0.0))
        show(Step(name, 1, 1, "MILP", 1.0))
    assert "scenario [bold]x[/] :smile: \\x1b[31m" in screen.getvalue()


def test_a_small_monte_carlo_ends_with_the_recommendation_and_writes_its_tables(tmp_path):
    uncertainty = {
        "paths": 40,
        "price_years": [2023],
        "days_per_year": 1,
        "spike_days_per_year": 1,
        "hashprice_levels": 2,
    }
    path = campus(tmp_path, uncertainty=uncertainty)
    out = tmp_path / "out"
    arguments = ["size", str(path), "--start", "2023-07-11", "--end", "2023-07-12"]
    arguments += ["--representative-days", "2", "--hpc-mw", "20:60:40", "--mining-mw", "57:114:57"]
    result = CliRunner().invoke(app, [*arguments, "--out", str(out), "--report"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert any(line.startswith("sweep: 3/3 points in") for line in lines)
    assert any(line.startswith("Monte Carlo: dispatch grid: ") for line in lines)
    assert "NPV against the site as it stands under uncertainty" in result.output
    assert "tornado" in result.output
    last = " ".join(lines[-3:])
    assert "recommendation:" in last and ("NPV P50" in last or "keep the site as it stands" in last)
    written = {p.name for p in out.iterdir()}
    expected = {
        "mc_summary.csv",
        "mc_paths.csv",
        "mc_frontier.csv",
        "mc_tornado.csv",
        "mc_cash_flows.csv",
    }
    assert expected | {"report.html"} <= written
    page = (out / "report.html").read_text()
    for section in ("NPV under uncertainty", "Mean against CVaR", "What moves the NPV of"):
        assert f">{section}" in page, section
    assert "Under uncertainty: NPV P50 / P10" in page
    summary = json.loads((out / "summary.json").read_text())
    assert summary["uncertainty"]["settings"]["paths"] == 40
    assert summary["recommendation"] in " ".join(result.output.split())
    candidates = {c["candidate"] for c in summary["uncertainty"]["candidates"]}
    assert {"business_as_usual", "optimum", "sweep 60 MW IT x 57 MW mining"} <= candidates
