"""Real-time loop benchmark: the operator's day (day-ahead stage, hourly re-solves, settlement)
of one site over a period of real ERCOT prices, in one process with one HiGHS thread.

Run ``python benchmarks/operator_loop.py --help``. The target (issue 10): the 15-minute West
Texas campus over 2023-06-10..2023-12-31 with hourly re-solves (24 a day) in <= 5 minutes, median
re-solve <= 25 ms. Writes a JSON summary: every solve's wall time, HiGHS's share, the machine
load (``os.getloadavg``) before and after, this process's CPU time beside the wall time (on a
shared machine the CPU time is the figure to compare), and with ``--profile`` where the time
goes.

What is timed: ``solve_s`` per solve is the whole call (the update of changed Params and bounds:
compiled arrays pushed through highspy, or Pyomo's persistent update with ``--interface pyomo``;
HiGHS; loading the solution); ``highs_s`` is HiGHS alone; ``day_s`` is a
whole day (stages, settlement, reading results).
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import json
import os
import pstats
import statistics
import time
from dataclasses import replace
from pathlib import Path

from dispatch import load_inputs, load_site
from dispatch.batch.rolling import day_windows, slice_inputs
from dispatch.realtime.information import SpreadForecast, decision_intervals, load_operator_inputs
from dispatch.realtime.stages import StageRunner
from dispatch.solver import SolveOptions

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", default=str(ROOT / "sites" / "west_texas_hybrid.yaml"))
    parser.add_argument("--start", default="2023-06-10")
    parser.add_argument("--end", default="2023-12-31")
    parser.add_argument("--decision-minutes", type=int, default=60)
    parser.add_argument("--presolve", default="on", choices=["on", "off", "choose"])
    parser.add_argument("--mip-gap", type=float, default=1e-4)
    parser.add_argument(
        "--interface",
        default="compiled",
        choices=["compiled", "pyomo"],
        help="compiled arrays through highspy (default) or Pyomo's persistent HiGHS",
    )
    parser.add_argument(
        "--warm-start", action="store_true", help="pass the previous solution as a MIP start"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile the run")
    parser.add_argument("--out", type=Path, help="JSON summary file")
    args = parser.parse_args()

    site = load_site(args.site)
    day_ahead = load_inputs(site, args.start, args.end, prices="ercot_dam_spp")
    real_time = load_inputs(site, args.start, args.end, prices="ercot_rtm_spp")
    inputs = load_operator_inputs(site, day_ahead, real_time)
    options = replace(
        SolveOptions(
            mip_rel_gap=args.mip_gap, interface=args.interface, warm_start=args.warm_start
        ),
        presolve=args.presolve,
    )
    period = decision_intervals(site, args.decision_minutes)
    runner, forecast = StageRunner(site, options), SpreadForecast()
    load_before = os.getloadavg()
    profiler = cProfile.Profile() if args.profile else None
    started, cpu_started = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    days, state, plan_state = [], None, None
    for window in day_windows(inputs.realized.index):
        day_started = time.perf_counter()
        view = slice_inputs(inputs.day_ahead, window.start, window.stop)
        realized = slice_inputs(inputs.realized, window.start, window.stop)
        plan = runner.day_ahead(view, realized, plan_state, forecast)
        plan_state = plan.end_state
        result, state = runner.real_time(view, realized, state, plan, forecast, period)
        days.append(
            {
                "day": window.day.isoformat(),
                "day_s": time.perf_counter() - day_started,
                "margin_usd": result.kpis.net_margin_usd,
                "status": result.kpis.status,
            }
        )
        print(f"{window.day} {days[-1]['day_s']:.2f} s", flush=True)
    if profiler:
        profiler.disable()
    total, cpu_total = time.perf_counter() - started, time.process_time() - cpu_started
    solves = runner.solve_seconds
    summary = {
        "site": args.site,
        "period": [args.start, args.end],
        "decision_minutes": args.decision_minutes,
        "presolve": args.presolve,
        "interface": args.interface,
        "warm_start": args.warm_start,
        "mip_gap": args.mip_gap,
        "days": len(days),
        "total_s": total,
        "total_cpu_s": cpu_total,
        "solves": len(solves),
        "highs_s": runner.highs_seconds,
        "median_solve_s": statistics.median(solves),
        "median_solve_cpu_s": statistics.median(runner.solve_cpu_seconds),
        "p90_solve_s": statistics.quantiles(solves, n=10)[-1] if len(solves) > 10 else None,
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "cpu_count": os.cpu_count(),
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    if profiler:
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(25)
        summary["profile_top"] = text.getvalue().splitlines()[:60]
    print(json.dumps({k: v for k, v in summary.items() if k != "profile_top"}, indent=2))
    if args.out:
        args.out.write_text(json.dumps({"summary": summary, "days": days}, indent=2))


if __name__ == "__main__":
    main()
