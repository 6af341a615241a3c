"""The stochastic cases in the operator back-test: what the day-ahead stage may see, the batch
wiring and summary, the scenario-mean forecast, and the mistakes that exit 2."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_batch import TINY_SITE
from test_two_settlement import EXACT
from typer.testing import CliRunner

from dispatch.cli import app
from dispatch.inputs import PRICE, Inputs, load_inputs
from dispatch.realtime.information import SpreadForecast, load_operator_inputs
from dispatch.site import parse_site
from dispatch.stochastic.backtest import StochasticCases
from dispatch.stochastic.history import HistoryScenarios, ScenarioMeanForecast, load_price_history
from dispatch.stochastic.scenarios import PriceScenarios, ScenarioMethod
from dispatch.stochastic.settings import Risk
from dispatch.stochastic.summary import PERFECT_INFORMATION, STOCHASTIC

runner = CliRunner()
DAY = dt.date(2023, 8, 17)


@pytest.fixture
def site_file(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY_SITE)
    return path


def tiny_day():
    import yaml

    site = parse_site(yaml.safe_load(TINY_SITE), "tiny")
    day_ahead = load_inputs(site, DAY, DAY, prices="ercot_dam_spp")
    real_time = load_inputs(site, DAY, DAY, prices="ercot_rtm_spp")
    history = load_price_history(site, DAY, DAY - dt.timedelta(days=1))
    source = HistoryScenarios(history.clock_spreads(), ScenarioMethod(count=4))
    return site, load_operator_inputs(site, day_ahead, real_time), source


def test_the_stochastic_day_ahead_stage_never_sees_the_days_real_time_prices():
    """Change the day's real-time prices: the stochastic case's day-ahead decisions (position and
    what it settles against) stay; only what the loop and the settlement see moves."""
    site, inputs, source = tiny_day()

    def decisions(rt: np.ndarray) -> pd.DataFrame:
        frame = inputs.realized.frame.copy()
        frame[PRICE] = rt
        cases = StochasticCases(site, source, Risk(), EXACT, period=1, in_sample=False)
        results, _ = cases.day(
            inputs.day_ahead, Inputs(frame, inputs.realized.sources), None, SpreadForecast()
        )
        return results[STOCHASTIC].schedule[["da_position_mw"]]

    rt = inputs.realized.frame[PRICE].to_numpy()
    pd.testing.assert_frame_equal(decisions(rt), decisions(rt * 3.0 + 50.0))


def test_scenario_mean_forecast_is_the_weighted_mean_issued_before_the_day():
    _, inputs, _ = tiny_day()
    index = inputs.day_ahead.index
    prices = np.vstack([np.full(len(index), 10.0), np.full(len(index), 110.0)])
    scenarios = PriceScenarios(index, prices, np.array([0.75, 0.25]), ("a", "b"), "hand")

    class Fixed:
        def day(self, view: Inputs) -> PriceScenarios:
            return scenarios

    forecast = ScenarioMeanForecast(Fixed())  # type: ignore[arg-type]
    known = np.array([999.0, 999.0])  # real-time prices so far do not revise it
    rest = forecast.rest_of_day(2, known, inputs.day_ahead)
    assert rest.tolist() == pytest.approx([35.0] * (len(index) - 2))


def test_a_one_scenario_stochastic_batch_has_no_in_sample_vss_or_evpi(
    site_file: Path, tmp_path: Path
):
    """With one scenario the stochastic problem, the expected-value problem (the weighted mean of
    one scenario is that scenario) and wait-and-see (one scenario, its own first stage) are the
    same problem: RP = EEV = WS on every day."""
    from test_batch import InlineExecutor

    from dispatch.batch.outputs import OutputDir
    from dispatch.batch.runner import run_batch
    from dispatch.batch.summary import summarize
    from dispatch.batch.tasks import plan_tasks
    from dispatch.stochastic.settings import StochasticSettings

    tasks = plan_tasks(
        [site_file], "2023-08-17", "2023-08-17", settlement_prices="ercot_rtm_spp",
        rt_forecast="scenarios", stochastic=StochasticSettings(count=1),
    )  # fmt: skip
    out = tmp_path / "out"
    report = run_batch(tasks, out, executor=InlineExecutor())
    assert report.complete, [r.error for r in report.records]
    days = pd.read_parquet(out / "days")
    cases = {STOCHASTIC, PERFECT_INFORMATION, "perfect_foresight", "da_plan_rt", "operator"}
    assert set(days["case"]) == cases | {"breakeven"}
    (own,) = days[days["case"] == STOCHASTIC].itertuples()
    assert own.scenarios == 1
    assert own.in_sample_eev_usd == pytest.approx(own.in_sample_rp_usd, rel=1e-6)
    assert own.in_sample_ws_usd == pytest.approx(own.in_sample_rp_usd, rel=1e-6)
    margin = days.set_index("case")["net_margin_usd"]
    (year, month) = summarize(OutputDir(out), [t.key for t in tasks]).stochastic.itertuples()
    assert (year.period, month.period) == ("2023", "2023-08")
    for row in (year, month):
        assert row.realized_vss_usd == pytest.approx(margin[STOCHASTIC] - margin["operator"])
        assert row.in_sample_vss_usd == pytest.approx(0.0, abs=1e-6 * abs(own.in_sample_rp_usd))


@pytest.mark.slow
def test_stochastic_batch_adds_its_cases_and_the_vss_evpi_summary(site_file: Path, tmp_path: Path):
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        ["batch", str(site_file), "--start", "2023-08-16", "--end", "2023-08-17", "--out",
         str(out), "--workers", "1", "--operator", "--stochastic", "4", "--rt-forecast",
         "scenarios"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    days = pd.read_parquet(out / "days")
    assert {STOCHASTIC, PERFECT_INFORMATION, "operator", "breakeven"} <= set(days["case"])
    own = days[days["case"] == STOCHASTIC]
    assert (own["scenarios"] == 4).all() and own["in_sample_rp_usd"].notna().all()
    table = pd.read_csv(out / "summary_stochastic.csv", dtype={"period": str})
    year = table[table["period"] == "2023"].iloc[0]
    margin = days.groupby("case")["net_margin_usd"].sum()
    assert year["realized_vss_usd"] == pytest.approx(margin[STOCHASTIC] - margin["operator"])
    assert year["realized_evpi_usd"] == pytest.approx(
        margin[PERFECT_INFORMATION] - margin[STOCHASTIC]
    )
    rp, eev = own["in_sample_rp_usd"].sum(), own["in_sample_eev_usd"].sum()
    assert year["in_sample_vss_usd"] == pytest.approx(rp - eev)
    worst = pd.read_csv(out / "summary_worst_days.csv")
    assert worst["stochastic_margin_usd"].is_monotonic_increasing
    assert "stochastic DA" in " ".join(result.output.split())


@pytest.mark.slow
def test_the_campus_at_cvar_weight_half_runs_through_2023_08_02(tmp_path: Path):
    # The stochastic case's real-time loop held a past whose balance row was 1.07e-7 MW off
    # (HiGHS's tolerance is 1e-7) and the month stopped "infeasible" on 08-02: the loop and the
    # settle now solve such a step once more with slack on the fixed columns.
    out = tmp_path / "out"
    campus = Path(__file__).resolve().parent.parent / "sites" / "west_texas_hybrid.yaml"
    result = runner.invoke(
        app,
        ["batch", str(campus), "--start", "2023-08-01", "--end", "2023-08-02", "--operator",
         "--stochastic", "10", "--cvar-weight", "0.5", "--no-in-sample", "--workers", "1",
         "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    days = pd.read_parquet(out / "days")
    assert len(days[days["case"] == STOCHASTIC]) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--stochastic", "3"], "--stochastic: applies with --operator only"),
        (["--operator", "--rt-forecast", "scenarios"], "--rt-forecast scenarios: needs --stochastic"),
        (["--operator", "--stochastic", "0"], "--stochastic: expected at least 1 scenario, found 0"),
        (["--operator", "--stochastic", "3", "--cvar-alpha", "1"],
         "--cvar-alpha: expected 0 <= alpha < 1, found 1"),
        (["--operator", "--stochastic", "3", "--cvar-weight", "-1"],
         "--cvar-weight: expected >= 0, found -1"),
        (["--operator", "--stochastic", "3", "--cvar-weight", "nan"],
         "--cvar-weight: expected >= 0, found nan"),
        (["--operator", "--stochastic", "3", "--position-band-mw", "inf"],
         "--position-band-mw: expected >= 0, found inf"),
        (["--scenarios", "nowhere.csv"], "--scenarios and --scenario-weights apply with"),
    ],
)  # fmt: skip
def test_stochastic_batch_mistakes_exit_2(
    site_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args, message
):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(
        app, ["batch", str(site_file), "--start", "2023-08-01", "--end", "2023-08-02", "--out",
              "o", *args],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--stochastic", "0"], "--stochastic: expected at least 1 scenario, found 0"),
        (["--stochastic", "3", "--start", "2023-08-16", "--end", "2023-08-17"],
         "--stochastic: decides one day; use --day"),
        (["--cvar-weight", "0.5"], "apply with --stochastic only"),
    ],
)  # fmt: skip
def test_stochastic_run_mistakes_exit_2(site_file: Path, args, message):
    result = runner.invoke(app, ["run", str(site_file), *args])
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
