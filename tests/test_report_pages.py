"""The batch and size pages (issue 16), and every page opened in a real browser.

The browser test drives Debian's Chromium through Playwright (never a downloaded browser): each
page must load with no console error, and every chart must draw each trace it shows. Screenshots
go to ``$DISPATCH_SCREENSHOTS`` (CI keeps them) or a temporary folder. Without Chromium or
Playwright the browser test is skipped, unless ``DISPATCH_REQUIRE_BROWSER`` is set (as in CI).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import SITES
from test_batch import InlineExecutor

from dispatch import load_inputs, load_site, size
from dispatch.batch.runner import run_batch
from dispatch.batch.tasks import plan_tasks
from dispatch.model.extract import coupling_columns
from dispatch.realtime.cases import CASES
from dispatch.report import write_batch_report, write_run_report, write_size_report
from dispatch.report.batch import (
    comparison_figure,
    curtailment_figure,
    duration_figure,
    load_groups,
    monthly_streams_figure,
)
from dispatch.report.size import size_page
from dispatch.sizing.plot import sweep_heatmap
from dispatch.solver import Dispatcher

HOURLY = SITES / "west_texas_hybrid_hourly.yaml"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """An operator back-test over a week that crosses a month and the fall-back day."""
    out = tmp_path_factory.mktemp("batch")
    tasks = plan_tasks(
        [HOURLY],
        "2023-10-30",
        "2023-11-06",
        settlement_prices="ercot_rtm_spp",
    )
    run_batch(tasks, out, executor=InlineExecutor())
    return out, tasks


@pytest.fixture(scope="module")
def sizing():
    """A sweep of four plans over one real day, dispatched day by day (no tsam needed)."""
    return size(
        SITES / "retrofit_campus.yaml",
        start="2023-07-11",
        end="2023-07-11",
        full_year=True,
        hpc_it_mw=[20, 40],
        mining_mw=[76, 114],
    )


# --- batch --------------------------------------------------------------------------------------


def test_monthly_streams_stack_to_each_cases_margin(batch):
    out, tasks = batch
    (group,) = load_groups(out, tasks)
    assert sorted(group.cases) == sorted(CASES)  # the back-test's four cases
    figure = monthly_streams_figure(group, per_mwh=False)
    menu = figure.layout.updatemenus[0]
    assert [b.label for b in menu.buttons] == group.cases  # every case the data hold
    days = group.days.assign(month=pd.to_datetime(group.days["day"]).dt.strftime("%Y-%m"))
    for button in menu.buttons:
        shown = [t for t, visible in zip(figure.data, button.args[0]["visible"], strict=True)
                 if visible]  # fmt: skip
        bars = [t for t in shown if t.type == "bar"]
        margin = days[days["case"] == button.label].groupby("month")["net_margin_usd"].sum()
        stacked = pd.DataFrame({t.name: pd.Series(t.y, index=t.x) for t in bars}).sum(axis=1)
        # the days table is a separate file from the streams parts: they must agree
        assert np.allclose(stacked * 1e6, margin.reindex(stacked.index), rtol=1e-6, atol=1)


def test_curtailment_heat_map_matches_the_days_table(batch):
    out, tasks = batch
    (group,) = load_groups(out, tasks)
    figure = curtailment_figure(group)
    first = figure.data[0]  # the first case the data hold
    assert list(first.y) == list(range(24)) and first.name == group.cases[0]
    capacity = sum(f.capacity_mw for f in group.site.fleets)
    z = pd.DataFrame(np.asarray(first.z, dtype=float), columns=list(first.x))
    day = group.days[
        (group.days["case"] == group.cases[0]) & (group.days["day"] == dt.date(2023, 10, 31))
    ]
    # a 24-hour day: mean share idle x capacity x 24 h is the day's curtailed MWh
    assert z["2023-10-31"].mean() / 100 * capacity * 24 == pytest.approx(
        float(day["mining_curtailed_mwh"].iloc[0]), abs=1e-3
    )


def test_duration_curves_and_comparison_follow_the_cases_in_the_data(batch):
    out, tasks = batch
    (group,) = load_groups(out, tasks)
    duration = duration_figure(group)
    prices = [t for t in duration.data if "price" in t.name]
    # the day-ahead price planned on, the real-time price every case settled at
    assert [t.name for t in prices] == ["day-ahead price", "real-time price"]
    rt = np.sort(group.schedule[group.schedule["case"] == "operator"]["price_usd_per_mwh"])[::-1]
    assert np.allclose(prices[1].y, rt)
    assert all(np.all(np.diff(t.y) <= 0) for t in prices)  # sorted high to low
    comparison = comparison_figure(group)
    assert [t.name for t in comparison.data] == group.cases
    single = group.__class__(
        group.site, group.label, group.streams, group.days[group.days["case"] == "operator"],
        group.schedule,
    )  # fmt: skip
    assert comparison_figure(single) is None  # one case: nothing to compare, no chart


# --- size ---------------------------------------------------------------------------------------


def test_the_npv_surface_ticks_sit_on_the_grid_and_blank_cells_say_why(sizing):
    ((scenario, sweep),) = sizing.sweeps()
    figure = sweep_heatmap(sweep, sizing.heatmap_marks(scenario))
    assert list(figure.layout.xaxis.tickvals) == [76, 114]  # the cells' own values
    assert list(figure.layout.yaxis.tickvals) == [20, 40]
    heat = figure.data[0]
    blank = sweep[~sweep["feasible"]]
    assert len(blank) == 1  # 40 MW IT beside 114 MW of mining exceeds the 150 MW site load
    row = [20, 40].index(blank["hpc_it_mw"].iloc[0])
    column = [76, 114].index(blank["mining_mw"].iloc[0])
    assert np.isnan(heat.z[row][column])
    assert blank["problem"].iloc[0] in heat.hovertext[row][column]
    best = sweep.loc[sweep["npv_usd"].idxmax()]
    assert (
        f"{best['npv_usd'] / 1e6:,.1f}"
        in heat.text[[20, 40].index(best["hpc_it_mw"])][[76, 114].index(best["mining_mw"])]
    )
    outlines = [s.name for s in figure.layout.shapes]
    assert outlines[0].startswith("sweep best") and "as it stands" in outlines


def test_the_size_page_compares_the_plan_with_business_as_usual(sizing):
    page = size_page(sizing)
    assert "Chosen plan against business as usual" in page
    assert "NPV over HPC and mining MW" in page
    assert "Hashprice scenarios" not in page  # one scenario: no section, nothing drawn empty


# --- a real browser -----------------------------------------------------------------------------


def _browser() -> str:
    """The system Chromium's path, or skip (fail where CI requires a browser)."""
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        executable = None
    if executable is None:
        reason = (
            "no browser: install Debian's chromium (apt-get install chromium) and playwright "
            "(the [test] extra)"
        )
        if os.environ.get("DISPATCH_REQUIRE_BROWSER"):
            pytest.fail(reason)
        pytest.skip(reason)
    return executable


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory) -> Path:
    """``$DISPATCH_SCREENSHOTS`` (CI artifacts) or a temporary folder."""
    folder = os.environ.get("DISPATCH_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _run_page(site, day: str, path: Path) -> Path:
    """The run page of ``site`` on ``day``, with what its couplings hold (as `run --report`)."""
    dispatcher = Dispatcher(site)
    result = dispatcher.solve(load_inputs(site, day))
    assert dispatcher.built is not None
    return write_run_report(result, site, path, coupling_columns(dispatcher.built))


@pytest.fixture(scope="module")
def pages(batch, sizing, tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("pages")
    campus = load_site(SITES / "west_texas_hybrid.yaml")
    hourly = load_site(HOURLY)
    out, tasks = batch
    return {
        "run": _run_page(campus, "2023-08-17", folder / "run.html"),
        "run_fall_back": _run_page(hourly, "2023-11-05", folder / "fall_back.html"),
        "batch": write_batch_report(out, tasks, folder / "batch.html"),
        "size": write_size_report(sizing, folder / "size.html"),
    }


CHARTS_DRAWN = """() => [...document.querySelectorAll('.js-plotly-plot')].map(gd => ({
    id: gd.id,
    declared: gd.data.filter(t => t.visible !== false).length,
    shown: gd._fullData.filter(t => t.visible === true).length,
    drawn: [...gd.querySelectorAll('g.trace, g.hm')].filter(
        g => g.querySelector('path[d]:not([d=""]), image, rect') !== null).length,
}))"""


@pytest.mark.parametrize("name", ["run", "run_fall_back", "batch", "size"])
def test_each_page_draws_every_chart_in_chromium_without_errors(pages, screenshots, name):
    executable = _browser()
    from playwright.sync_api import sync_playwright

    shots = screenshots
    problems: list[str] = []
    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
        browser = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=executable,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1400, "height": 1000},
        )
        try:
            page = browser.new_page()
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.goto(pages[name].as_uri())
            page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length > 0")
            charts = page.evaluate(CHARTS_DRAWN)
            page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
        finally:
            browser.close()
    print(f"screenshot: {shots / f'{name}.png'}")
    assert problems == []
    assert charts, "the page holds no chart"
    for chart in charts:
        assert chart["shown"] > 0, chart
        assert chart["shown"] == chart["declared"], chart  # plotly drops a trace with no data
        assert chart["drawn"] >= chart["shown"], chart  # every visible trace left marks


def test_batch_command_writes_its_report(tmp_path: Path):
    from typer.testing import CliRunner

    from dispatch.cli import app

    out = tmp_path / "out"
    arguments = ["batch", str(HOURLY), "--start", "2023-08-16", "--end", "2023-08-17"]
    result = CliRunner().invoke(app, [*arguments, "--out", str(out), "--workers", "1", "--report"])
    assert result.exit_code == 0, result.output
    page = (out / "report.html").read_text()
    assert "West Texas hybrid campus (hourly) · ercot_dam_spp · HB_WEST" in page
    assert "Cases side by side" not in page  # one case: no comparison drawn
