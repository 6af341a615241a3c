"""Does the two-stage model overstate recourse? Each day's first stages realized through the
real-time loop on the day's own scenarios, beside the scenario model's whole-day recourse.

Run ``python benchmarks/recourse_gap.py --help``. For every day of the period, from the state the
deterministic plan of the day before ends in (as the back-test plans), three first stages (hourly
position and awards) are chosen:

* ``det``: the operator's deterministic day-ahead stage (on the loop's forecast at the start of
  the day: the DA price for ``spread``);
* ``ev``: the expected-value problem (the scenario model with one scenario, the scenarios'
  weighted mean prices);
* ``stoch``: the stochastic first stage (``StochasticDayAhead``).

Each is then valued six ways, from the same state, on the same data (the day-ahead view: the
forecast peak weights and yesterday's hashprice) unless said, only the real-time prices differ:

* ``model``: the scenario model's evaluation (the first stage fixed in every block, each
  scenario's operation re-optimized over its whole day: what RP and EEV measure in-sample);
* ``hindsight``: Σ_k w_k of the operator's stages with scenario k's prices known for the whole
  day (one solve, as the back-test's ``perfect_foresight``): the whole-day recourse, exact;
* ``loop``: Σ_k w_k of the non-anticipative real-time loop (every ``--decision-minutes``, on
  the ``spread`` forecast) with scenario k's prices as the real-time prices: the recourse the
  operator collects if the scenarios are the truth;
* ``rt_hindsight``: the operator's stages with the day's realized real-time prices known for the
  whole day (the whole-day recourse on the real day);
* ``rt_view``: the same loop on the day's realized real-time prices;
* ``realized``: the same, settled as the back-test settles (on the realized peaks and hashprice).

With λ > 0 (``--cvar-weight``) ``model`` is the objective mean − λ·CVaR_α; the
``hindsight_objective`` and ``loop_objective`` columns are the same measure of the scenarios'
margins (at λ = 0 they equal the means).

If ``stoch`` beats ``det`` on ``model`` and ``hindsight`` but loses on ``loop``, the scenario
model credits the first stage with recourse the loop cannot collect. Prints one row per day and
first stage and the period's sums and stochastic − deterministic by stream (USD); ``--out``
writes the rows (with each stream) as CSV, ``--per-scenario`` each scenario's margins.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

from dispatch import load_inputs, load_site
from dispatch.batch.rolling import day_windows, slice_inputs
from dispatch.inputs import PRICE
from dispatch.model.build import BuiltModel
from dispatch.options import SolveOptions
from dispatch.realtime.information import (
    HindsightForecast,
    SpreadForecast,
    decision_intervals,
    load_operator_inputs,
)
from dispatch.realtime.stages import DayAheadPlan, StageRunner, with_price
from dispatch.results import DispatchResult
from dispatch.stochastic.history import HistoryScenarios, load_price_history
from dispatch.stochastic.plan import StochasticDayAhead, cvar_of_loss
from dispatch.stochastic.scenarios import ScenarioMethod
from dispatch.stochastic.settings import Risk

ROOT = Path(__file__).resolve().parent.parent
FIRST_STAGES = ("det", "ev", "stoch")


class Decisions:
    """A first stage as the real-time loop takes it (``decisions``, in the model's order)."""

    def __init__(self, decisions: tuple[float, ...]) -> None:
        self.decisions = decisions


def first_stage_summary(decisions: tuple[float, ...], built: BuiltModel) -> dict[str, float]:
    """Position [MWh] and awards [MW-h] of a first stage (``decisions`` in the order of the
    blocks' ``day_ahead_decisions``, hourly): an offer block's decisions are awards, the grid's
    the position."""
    totals = {"position_mwh": 0.0, "awards_mw_h": 0.0}
    at = 0
    for _, terms in built.blocks:
        for var in terms.day_ahead_decisions:
            total = float(sum(decisions[at : at + len(var)]))
            totals["awards_mw_h" if terms.reserve_offers else "position_mwh"] += total
            at += len(var)
    return totals


def by_stream(result: DispatchResult) -> pd.Series:
    """A result's streams table as USD by stream."""
    return result.streams.set_index("stream")["usd"].astype(float)


def objective(margins: list[float], weights: np.ndarray, risk: Risk) -> float:
    """Mean margin − λ·CVaR_α of the loss [USD], as the scenario model's objective."""
    values = np.asarray(margins, dtype=float)
    return float(
        weights @ values - risk.cvar_weight * cvar_of_loss(values, weights, risk.cvar_alpha)
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--site", default=str(ROOT / "sites" / "west_texas_hybrid.yaml"))
    parser.add_argument("--start", default="2023-07-10", help="first day (local date)")
    parser.add_argument("--end", default="2023-07-19", help="last day (local date)")
    parser.add_argument("--scenarios", type=int, default=10, help="K, scenarios a day")
    parser.add_argument("--cvar-weight", type=float, default=0.0, help="λ of mean − λ·CVaR")
    parser.add_argument(
        "--decision-minutes", type=int, default=60, help="the loop's decision period"
    )
    parser.add_argument("--out", type=Path, help="CSV of the rows (day, first stage, values)")
    parser.add_argument(
        "--realized-only",
        action="store_true",
        help="skip the valuations on the scenarios (model, hindsight, loop)",
    )
    parser.add_argument(
        "--per-scenario",
        type=Path,
        help="CSV of each scenario's rows (day, first stage, scenario, name, weight, hindsight "
        "and loop margins, the loop's streams)",
    )
    args = parser.parse_args()

    site = load_site(args.site)
    first, last = dt.date.fromisoformat(args.start), dt.date.fromisoformat(args.end)
    inputs = load_operator_inputs(
        site,
        load_inputs(site, first, last, prices="ercot_dam_spp"),
        load_inputs(site, first, last, prices="ercot_rtm_spp"),
    )
    history = load_price_history(site, first, last)
    source = HistoryScenarios(history.clock_spreads(), ScenarioMethod(count=args.scenarios))
    options = SolveOptions()
    risk = Risk(cvar_weight=args.cvar_weight)
    planner = StochasticDayAhead(site, options, risk)
    runner = StageRunner(site, options)
    forecast = SpreadForecast()
    period = decision_intervals(site, args.decision_minutes)
    load_before, started = os.getloadavg(), time.perf_counter()
    rows, plan_state, scenario_rows = [], None, []
    for window in day_windows(inputs.realized.index):
        view = slice_inputs(inputs.day_ahead, window.start, window.stop)
        realized = slice_inputs(inputs.realized, window.start, window.stop)
        state = plan_state
        det: DayAheadPlan = runner.day_ahead(view, realized, state, forecast)
        plan_state = det.end_state
        scenarios = source.day(view)
        stoch = planner.plan(view, scenarios, state)
        mean = planner.model(view, 1)
        mean.load(view, scenarios.mean_usd_per_mwh()[None, :], np.ones(1), state, risk)
        mean.solve(options, view)
        ev = tuple(float(d.value) for d in mean.first_stage[0])
        chosen = {"det": det.decisions, "ev": ev, "stoch": stoch.decisions}
        model = planner.model(view, scenarios.count)
        rt_view = with_price(view, realized.frame[PRICE].to_numpy(dtype=float))
        for name, decisions in chosen.items():
            plan = Decisions(decisions)
            scenario_values: dict[str, float] = {}
            loop = pd.Series(dtype=float)
            if not args.realized_only:
                model.load(view, scenarios.prices_usd_per_mwh, scenarios.weights, state, risk)
                evaluated, _ = model.solve(options, view, mode="given", decisions=decisions)
                margins: dict[str, list[float]] = {"hindsight": [], "loop": []}
                for k, weight in enumerate(scenarios.weights):
                    own = with_price(view, scenarios.prices_usd_per_mwh[k])
                    whole, _ = runner.real_time(
                        own, own, state, plan, HindsightForecast(own), len(own.index)
                    )
                    hourly, _ = runner.real_time(view, own, state, plan, forecast, period)
                    margins["hindsight"].append(whole.kpis.net_margin_usd)
                    margins["loop"].append(hourly.kpis.net_margin_usd)
                    scenario_rows.append(
                        {
                            "day": window.day,
                            "first_stage": name,
                            "scenario": k,
                            "name": scenarios.names[k],
                            "weight": weight,
                            "hindsight_usd": whole.kpis.net_margin_usd,
                            "loop_usd": hourly.kpis.net_margin_usd,
                            **{f"loop_{s}_usd": usd for s, usd in by_stream(hourly).items()},
                        }
                    )
                    loop = loop.add(weight * by_stream(hourly), fill_value=0.0)
                scenario_values = {
                    "model_usd": evaluated.objective_usd,
                    "hindsight_usd": float(scenarios.weights @ margins["hindsight"]),
                    "loop_usd": float(loop.sum()),
                    **{
                        f"{how}_objective_usd": objective(values, scenarios.weights, risk)
                        for how, values in margins.items()
                    },
                }
            on_view, _ = runner.real_time(view, rt_view, state, plan, forecast, period)
            known, _ = runner.real_time(
                rt_view, rt_view, state, plan, HindsightForecast(rt_view), len(rt_view.index)
            )
            real, _ = runner.real_time(view, realized, state, plan, forecast, period)
            rows.append(
                {
                    "day": window.day,
                    "first_stage": name,
                    **scenario_values,
                    "rt_hindsight_usd": known.kpis.net_margin_usd,
                    "rt_view_usd": on_view.kpis.net_margin_usd,
                    "realized_usd": real.kpis.net_margin_usd,
                    **first_stage_summary(decisions, model.blocks[0]),
                    **{f"loop_{s}_usd": usd for s, usd in loop.items()},
                    **{f"rt_hindsight_{s}_usd": usd for s, usd in by_stream(known).items()},
                    **{f"rt_view_{s}_usd": usd for s, usd in by_stream(on_view).items()},
                    **{f"realized_{s}_usd": usd for s, usd in by_stream(real).items()},
                }
            )
        day_rows = pd.DataFrame(rows[-3:]).set_index("first_stage")
        shown = ["model_usd", "hindsight_usd", "loop_usd", "rt_hindsight_usd", "rt_view_usd"]
        shown = [c for c in shown if c in day_rows] + ["realized_usd", "position_mwh"]
        shown += ["awards_mw_h"]
        print(f"{window.day}", day_rows[shown].round(0).to_string(), sep="\n", flush=True)
        if args.out:  # after every day: a long run leaves what it has done
            pd.DataFrame(rows).to_csv(args.out, index=False)
        if args.per_scenario:
            pd.DataFrame(scenario_rows).to_csv(args.per_scenario, index=False)
    frame = pd.DataFrame(rows)
    wall = time.perf_counter() - started
    print(
        f"\n{len(frame) // 3} days {args.start}..{args.end}, K = {args.scenarios}, "
        f"λ = {args.cvar_weight:g}, {wall:.0f} s wall, load {load_before[0]:.1f} -> "
        f"{os.getloadavg()[0]:.1f}"
    )
    values = ["model_usd", "hindsight_usd", "loop_usd", "rt_hindsight_usd", "rt_view_usd"]
    values += ["realized_usd", "hindsight_objective_usd", "loop_objective_usd"]
    values = [c for c in values if c in frame]
    print(frame.groupby("first_stage", sort=False)[values].sum().round(0).to_string())
    wide = frame.pivot(index="day", columns="first_stage")
    for value in values:
        gap = wide[(value, "stoch")] - wide[(value, "det")]
        print(
            f"stoch - det, {value}: {gap.sum():,.0f} USD, stoch below det on "
            f"{int((gap < 0).sum())} of {len(gap)} days"
        )
    for prefix in ("loop_", "rt_hindsight_", "rt_view_", "realized_"):
        streams = [c for c in frame.columns if c.startswith(prefix) and c not in values]
        streams = [c for c in streams if "objective" not in c]
        if not streams:
            continue
        by_stage = frame.groupby("first_stage")[streams].sum()
        moved = (by_stage.loc["stoch"] - by_stage.loc["det"]).round(0)
        print(f"stoch - det, {prefix.rstrip('_')}, by stream (USD):")
        print(moved[moved.abs() > 0.5].to_string())


if __name__ == "__main__":
    main()
