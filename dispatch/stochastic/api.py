"""The stochastic day-ahead decision of one day, from the API and the CLI."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd

from dispatch.files import write_atomic
from dispatch.inputs import load_inputs
from dispatch.inputs.horizon import parse_date
from dispatch.options import SolveOptions
from dispatch.realtime.information import load_operator_inputs
from dispatch.site import Site
from dispatch.stochastic.history import (
    HistoryScenarios,
    load_price_history,
    read_scenario_file,
)
from dispatch.stochastic.plan import StochasticDayAhead, StochasticPlan
from dispatch.stochastic.scenarios import PriceScenarios, ScenarioMethod
from dispatch.stochastic.settings import Risk


def stochastic_day_ahead(
    site: Site,
    day: str | dt.date,
    *,
    scenarios: int | PriceScenarios | Path = 10,
    weights: Path | None = None,
    risk: Risk | None = None,
    prices: str | Path | None = "ercot_dam_spp",
    rt_prices: str | Path | None = "ercot_rtm_spp",
    hashprice: Path | None = None,
    options: SolveOptions | None = None,
    in_sample: bool = False,
) -> tuple[StochasticPlan, PriceScenarios]:
    """The two-stage stochastic day-ahead decision of ``day`` and the scenarios it used.

    ``scenarios``: a count (the ``spread`` method on the history of ``prices`` (day-ahead) and
    ``rt_prices`` (real-time) before the day), a scenario file (``weights``: its weights
    table), or :class:`PriceScenarios`. The day-ahead view is what is known the day before
    (:func:`~dispatch.realtime.information.operator_inputs`): the day's DAM prices, yesterday's
    hashprice, coincident-peak weights from earlier ERCOT load; no real-time price of the day.
    """
    first = parse_date(day, "--day")
    day_ahead = load_inputs(site, first, first, prices=prices, hashprice=hashprice)
    view = load_operator_inputs(
        site, day_ahead, day_ahead, hashprice=None if hashprice is None else str(hashprice)
    ).day_ahead
    if isinstance(scenarios, PriceScenarios):
        chosen = scenarios
    elif isinstance(scenarios, Path):
        chosen = read_scenario_file(scenarios, site, weights=weights).day(view)
    else:
        method = ScenarioMethod(count=scenarios)  # checks the count before any data is read
        history = load_price_history(
            site, first, first - dt.timedelta(days=1), da_prices=prices, rt_prices=rt_prices
        )
        chosen = HistoryScenarios(history.clock_spreads(), method).day(view)
    planner = StochasticDayAhead(site, options or SolveOptions(), risk or Risk())
    return planner.plan(view, chosen, None, in_sample=in_sample, schedules=True), chosen


def write_plan(
    plan: StochasticPlan, scenarios: PriceScenarios, out: Path, fmt: str = "csv"
) -> list[Path]:
    """``first_stage``, ``expected_streams``, ``scenario_streams``, ``scenario_margins``,
    ``scenario_schedule`` and ``scenarios`` tables (CSV or Parquet) and ``distribution.json``,
    each written atomically."""
    out.mkdir(parents=True, exist_ok=True)
    schedules = []
    for k, read in enumerate(plan.schedules):
        schedule = read.reset_index()
        schedule["interval_start"] = schedule["interval_start"].dt.tz_convert("UTC")
        schedule.insert(0, "scenario", k)
        schedules.append(schedule)
    first_stage = plan.first_stage.reset_index()
    first_stage["hour_start"] = first_stage["hour_start"].dt.tz_convert("UTC")
    tables = {
        "first_stage": first_stage,
        "expected_streams": plan.expected_streams,
        "scenario_streams": plan.scenario_streams(),
        "scenario_margins": plan.margins(),
        "scenario_schedule": _concat(schedules),
        "scenarios": scenarios.frame(),
    }
    written = []
    suffix = "parquet" if fmt == "parquet" else "csv"
    for name, frame in tables.items():
        written.append(_write_table(out / f"{name}.{suffix}", frame))
    summary = plan.distribution()
    if plan.in_sample is not None:
        summary |= {
            "in_sample_rp_usd": plan.in_sample.rp_usd,
            "in_sample_ws_usd": plan.in_sample.ws_usd,
            "in_sample_eev_usd": plan.in_sample.eev_usd,
            "in_sample_vss_usd": plan.in_sample.vss_usd,
            "in_sample_evpi_usd": plan.in_sample.evpi_usd,
        }
    path = out / "distribution.json"
    written.append(write_atomic(path, lambda p: p.write_text(json.dumps(summary, indent=2))))
    return written


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    return pd.concat(frames, ignore_index=True)


def _write_table(path: Path, frame: pd.DataFrame) -> Path:
    def write(temp: Path) -> None:
        if path.suffix == ".parquet":
            frame.to_parquet(temp, index=False)
        else:
            frame.to_csv(temp, index=False)

    return write_atomic(path, write)
