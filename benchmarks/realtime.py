"""Real-time (shrinking-horizon) loop: the past held by column bounds, MIP start on or off.

Each day the site is planned on day-ahead prices; then every hour the intervals that have
happened are held at the values the last solve gave them (``FastModel.fix``, bound changes on
the HiGHS model, no rebuild), their real-time prices replace the day-ahead ones, and the rest of
the day is re-solved. The same loop runs with and without the previous solution as HiGHS's MIP
start (it is feasible for the next step: the past is held at its own values), in alternation so
that machine load falls on both alike. Not part of the test suite.

    python benchmarks/realtime.py                      # 4 summer days of 2023, 23 steps each
    python benchmarks/realtime.py --days 2023-08-17 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

from dispatch import Inputs, load_inputs, load_site
from dispatch.fast import FastModel
from dispatch.model.build import build_model, load_data
from dispatch.solver import SolveOptions, run_exact

DAYS = ["2023-06-27", "2023-07-20", "2023-08-17", "2023-09-05"]


def run_day(site_path: str, day: str, warm_start: bool, step: int) -> dict[str, float]:
    """One day of the loop; HiGHS seconds and wall seconds of the re-solves."""
    site = load_site(site_path)
    day_ahead = load_inputs(site, day, prices="ercot_dam_spp")
    real_time = load_inputs(site, day, prices="ercot_rtm_spp")
    model = FastModel(build_model(site, day_ahead), warm_start=warm_start)
    options = SolveOptions()
    run_exact(model, options, day_ahead, time.perf_counter(), rebuilt=True)
    frame = day_ahead.frame.copy()
    highs = wall = 0.0
    solves = 0
    for k in range(step, len(frame), step):
        started = time.perf_counter()
        frame.iloc[:k] = real_time.frame.iloc[:k].to_numpy()  # what is known by now
        now = Inputs(frame.copy(), real_time.sources)
        load_data(model.built, now)
        assert model.solution is not None
        past = model.columns_before(k)
        model.fix(past, model.solution[past])
        report = run_exact(model, options, now, started, rebuilt=False)
        highs += report.solver_seconds
        wall += time.perf_counter() - started
        solves += 1
    return {"highs_s": highs, "wall_s": wall, "solves": solves}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", default="sites/west_texas_hybrid.yaml")
    parser.add_argument("--days", nargs="+", default=DAYS)
    parser.add_argument("--step", type=int, default=4, help="intervals between re-solves")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    totals: dict[str, list[float]] = {"cold": [], "warm": []}
    for _ in range(args.repeats):
        for label, warm in (("cold", False), ("warm", True)):
            rows = [run_day(args.site, day, warm, args.step) for day in args.days]
            totals[label].append(sum(r["highs_s"] for r in rows))
            print(
                json.dumps(
                    {
                        "mip_start": label,
                        "solves": sum(r["solves"] for r in rows),
                        "highs_s": round(totals[label][-1], 2),
                        "wall_s": round(sum(r["wall_s"] for r in rows), 2),
                        "load_average": os.getloadavg(),
                    }
                ),
                flush=True,
            )
    cold, warm = statistics.median(totals["cold"]), statistics.median(totals["warm"])
    print(f"median HiGHS seconds: cold {cold:.2f}, warm {warm:.2f} ({cold / warm:.2f}x)")


if __name__ == "__main__":
    main()
