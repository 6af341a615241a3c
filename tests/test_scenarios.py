"""Price scenarios: only history before the day (changed data from the day on leaves them
unchanged; changed earlier data moves them), forward selection by hand, scenario files and
their mistakes (exit 2, one line naming the file)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_cli import HYBRID
from typer.testing import CliRunner

from dispatch.cli import app
from dispatch.errors import InputError
from dispatch.site import load_site
from dispatch.stochastic.history import load_price_history, read_scenario_file
from dispatch.stochastic.scenarios import (
    PriceHistory,
    ScenarioMethod,
    forward_selection,
    spread_scenarios,
)

DAY = dt.date(2023, 8, 17)
runner = CliRunner()


@pytest.fixture(scope="module")
def history() -> PriceHistory:
    """Bundled HB_WEST prices, 2021-01-01 to 2023-08-31 (real data)."""
    return load_price_history(load_site(HYBRID), dt.date(2023, 8, 1), dt.date(2023, 8, 31))


def scenarios_of(history: PriceHistory, day: dt.date = DAY):
    da = history.da_usd_per_mwh[history.da_usd_per_mwh.index.date == day]
    return spread_scenarios(history.clock_spreads(), day, da, ScenarioMethod(count=10))


def changed(history: PriceHistory, rt_mask, da_mask) -> PriceHistory:
    rng = np.random.default_rng(7)
    rt, da = history.rt_usd_per_mwh.copy(), history.da_usd_per_mwh.copy()
    rt[rt_mask] = rt[rt_mask] * rng.uniform(0.5, 3.0, rt_mask.sum()) + 100.0
    da[da_mask] = da[da_mask] * rng.uniform(0.5, 3.0, da_mask.sum()) - 40.0
    return PriceHistory(da, rt, history.source)


def test_scenarios_use_no_data_from_the_day_or_after(history: PriceHistory):
    """Every real-time price from the day on and every day-ahead price after the day changes;
    the scenarios do not. (The day's own DA prices clear the day before: they are known and
    used; the next test shows how.)"""
    dates = np.array(history.rt_usd_per_mwh.index.date)
    before = scenarios_of(history)
    after = scenarios_of(changed(history, dates >= DAY, dates > DAY))
    assert after.names == before.names
    np.testing.assert_array_equal(after.prices_usd_per_mwh, before.prices_usd_per_mwh)
    np.testing.assert_array_equal(after.weights, before.weights)


def test_scenarios_do_use_earlier_days(history: PriceHistory):
    """The generator reads the history: changing the real-time prices of the recent weeks moves
    the scenarios, and every scenario comes from a day before the day."""
    dates = np.array(history.rt_usd_per_mwh.index.date)
    recent = (dates < DAY) & (dates >= DAY - dt.timedelta(days=28))
    before = scenarios_of(history)
    after = scenarios_of(changed(history, recent, np.zeros_like(recent)))
    assert not np.allclose(after.prices_usd_per_mwh, before.prices_usd_per_mwh)
    origins = [dt.date.fromisoformat(name.split()[-1]) for name in before.names]
    assert all(origin < DAY for origin in origins)
    assert {name.split()[0] for name in before.names} == {"recent", "season"}


def test_scenarios_carry_the_days_own_da_prices(history: PriceHistory):
    """price = the day's DA + a history day's RT − DA spread: shifting the day's DA shifts
    every scenario by the same amount."""
    da = history.da_usd_per_mwh[history.da_usd_per_mwh.index.date == DAY]
    table = history.clock_spreads()
    base = spread_scenarios(table, DAY, da, ScenarioMethod())
    shifted = spread_scenarios(table, DAY, da + 7.5, ScenarioMethod())
    np.testing.assert_allclose(shifted.prices_usd_per_mwh, base.prices_usd_per_mwh + 7.5)
    assert base.weights.sum() == pytest.approx(1.0)
    assert base.count == 10


def test_a_25_hour_day_has_scenarios_on_all_its_intervals():
    """2023-11-05 (Central time falls back: 100 quarter hours, 01:xx twice). Each scenario is
    the day's DA price plus its history day's RT − DA spread at the same local clock time,
    recomputed here from the price series; the repeated 01:xx read the same spread twice.
    (The table's column selection once doubled the repeated hour: 108 columns, a crash.)"""
    day = dt.date(2023, 11, 5)
    history = load_price_history(load_site(HYBRID), day, day)
    da = history.da_usd_per_mwh[history.da_usd_per_mwh.index.date == day]
    assert len(da) == 100
    scenarios = spread_scenarios(history.clock_spreads(), day, da, ScenarioMethod(count=10))
    assert scenarios.prices_usd_per_mwh.shape == (10, 100)
    index = pd.DatetimeIndex(history.rt_usd_per_mwh.index)
    spread = history.rt_usd_per_mwh - history.da_usd_per_mwh
    for name, prices in zip(scenarios.names, scenarios.prices_usd_per_mwh, strict=True):
        origin = dt.date.fromisoformat(name.split()[-1])
        own = spread[index.date == origin]
        at = {
            (t.hour, t.minute): v
            for t, v in zip(own.index[::-1], own.to_numpy()[::-1], strict=True)
        }
        expected = [da.iloc[i] + at[(t.hour, t.minute)] for i, t in enumerate(da.index)]
        np.testing.assert_allclose(prices, expected, err_msg=name)


def test_forward_selection_by_hand():
    """Points 0, 0.1, 10, 10.1, 100 with equal probability. First pick minimizes the mean
    distance to all: 10 (22.0; 10.1 gives 22.02). Second: 100 (cost 4.0 against 18.04 for 0).
    0, 0.1, 10 and 10.1 go to 10 (0.8), 100 keeps 0.2."""
    points = np.array([[0.0], [0.1], [10.0], [10.1], [100.0]])
    picked, weights = forward_selection(points, np.full(5, 0.2), 2)
    assert picked == [2, 4]
    assert weights.tolist() == pytest.approx([0.8, 0.2])


def scenario_file(tmp_path: Path, *, weights=(0.25, 0.75), step="15min", periods=96) -> Path:
    index = pd.date_range("2023-08-17", periods=periods, freq=step, tz="America/Chicago")
    rows = [
        {"interval_start": t.isoformat(), "scenario": name, "weight": w, "price_usd_per_mwh": p}
        for name, w, p in (("calm", weights[0], 30.0), ("spike", weights[1], 900.0))
        for t in index
    ]
    path = tmp_path / "vendor.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_scenario_file_is_read_per_day(tmp_path: Path):
    from dispatch.inputs import Inputs

    site = load_site(HYBRID)
    path = scenario_file(tmp_path)
    index = pd.date_range("2023-08-17", periods=96, freq="15min", tz="America/Chicago")
    day = read_scenario_file(path, site).day(Inputs(pd.DataFrame(index=index)))
    assert day.names == ("calm", "spike")
    assert day.weights.tolist() == [0.25, 0.75]
    assert day.mean_usd_per_mwh() == pytest.approx(np.full(96, 0.25 * 30 + 0.75 * 900))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"weights": (0.25, 0.5)}, "sum to 0.75, expected 1"),
        ({"periods": 90}, "does not cover the day 2023-08-17"),
        ({"step": "60min", "periods": 24}, "expected 15-minute intervals, found 60 minutes"),
    ],
)
def test_bad_scenario_files_exit_2_naming_the_file(tmp_path: Path, kwargs, message):
    path = scenario_file(tmp_path, **kwargs)
    result = runner.invoke(app, ["run", HYBRID, "--day", "2023-08-17", "--scenarios", str(path)])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert str(path) in result.output.replace("\n", "") and message in lines[0]


def test_scenario_file_errors_from_the_api(tmp_path: Path):
    with pytest.raises(InputError, match="weights of the scenarios"):
        from dispatch import stochastic_day_ahead

        stochastic_day_ahead(
            load_site(HYBRID), "2023-08-17", scenarios=scenario_file(tmp_path, weights=(1, 1))
        )


def test_a_batch_checks_the_scenario_file_before_any_task(tmp_path: Path):
    path = scenario_file(tmp_path)  # covers 2023-08-17 only
    result = runner.invoke(
        app,
        ["batch", HYBRID, "--start", "2023-08-17", "--end", "2023-08-18", "--operator",
         "--stochastic", "2", "--scenarios", str(path), "--out", str(tmp_path / "o")],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert f"{path}: no scenario covers 2023-08-18" in " ".join(result.output.split())
    assert not (tmp_path / "o").exists()
