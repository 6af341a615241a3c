"""Daily-solve benchmark: one site over every day of a year of real prices, MILP and LP.

Run ``python benchmarks/run.py --help``. Writes a JSON summary (per-day rows and a summary) so
results can be compared across commits; not part of the test suite.

What is timed per day (one process, one HiGHS thread):
  build_s   model build (and compile), or loading the day's data into the persistent model
  solve_s   the solve call (hand-off to HiGHS + HiGHS + the solution back)
  highs_s   HiGHS alone (differences of its accumulated run time)
  total_s   build + solve + reading results (what a user waits for per day)
  outside_s total_s - highs_s: the modelling layer's share
  cpu_s     this process's CPU time for the day (on a shared machine, the figure to compare)
``--interface pyomo`` runs the Pyomo persistent reference instead of the compiled path.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import statistics
import sys
import time
from dataclasses import replace
from importlib.metadata import version
from pathlib import Path

from dispatch import Site, load_inputs, load_site
from dispatch.errors import SolveError
from dispatch.inputs.programs import ECRS_LAUNCH
from dispatch.solver import Dispatcher, SolveOptions

ROOT = Path(__file__).resolve().parent.parent


def days_of(year: int, count: int | None) -> list[dt.date]:
    first = dt.date(year, 1, 1)
    days = [first + dt.timedelta(days=i) for i in range((dt.date(year + 1, 1, 1) - first).days)]
    if count is None or count >= len(days):
        return days
    step = len(days) / count  # spread the quick sample over the year's seasons
    return [days[int(i * step)] for i in range(count)]


def site_for_day(site: Site, day: dt.date) -> Site:
    """The site as an operator could run it that day: ERCOT had no ECRS before its launch, so an
    ECRS offer is dropped on earlier days (the site file itself refuses to offer it then)."""
    if site.programs is None or day >= ECRS_LAUNCH:
        return site
    offers = [o for o in site.programs.ancillary if o.product != "ECRS"]
    programs = site.programs.model_copy(update={"ancillary": offers})
    return site.model_copy(update={"programs": programs})


def parse_option(text: str) -> tuple[str, bool | int | float | str]:
    """``name=value`` with the value read as bool, int, float or left as text."""
    name, _, raw = text.partition("=")
    for convert in (int, float):
        try:
            return name, convert(raw)
        except ValueError:
            pass
    return name, {"true": True, "false": False}.get(raw.lower(), raw)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run(args: argparse.Namespace) -> dict:
    highs = dict(parse_option(o) for o in args.highs_option)
    options = SolveOptions(
        mip_rel_gap=args.mip_gap,
        time_limit_s=args.time_limit,
        threads=1,
        presolve=args.presolve,
        highs_options=highs,
        interface=args.interface,
        warm_start=args.warm_start,
        relaxation_first=args.relaxation_first,
        model_cache=args.mode != "rebuild",
    )
    lp_options = replace(options, relax_integrality=True)
    solvers: dict[bool, tuple[Dispatcher, Dispatcher]] = {}  # persistent pair per site variant
    rows = []
    days = days_of(args.year, args.days)
    base = load_site(args.site)
    for i, day in enumerate(days):
        site = site_for_day(base, day)
        variant = site is base
        if variant not in solvers or args.mode != "persistent":
            solvers.pop(variant, None)  # (a fresh solve gives its models back to the cache first)
            solvers[variant] = (Dispatcher(site, options), Dispatcher(site, lp_options))
        milp, lp = solvers[variant]
        inputs = load_inputs(site, day, prices=args.prices)
        row: dict = {
            "day": day.isoformat(),
            "intervals": len(inputs.index),
            "ecrs_dropped": not variant,
        }
        try:
            cpu = time.process_time()
            result = milp.solve(inputs)
            cpu = time.process_time() - cpu
            k = result.kpis
            row.update(
                status=k.status,
                objective_usd=k.net_margin_usd,
                mip_gap=k.mip_gap,
                build_s=k.build_seconds,
                solve_s=k.solve_seconds,
                highs_s=k.solver_seconds,
                total_s=k.total_seconds,
                cpu_s=cpu,
                outside_s=k.total_seconds - k.solver_seconds,
            )
        except SolveError as error:
            row.update(status="error", error=str(error))
        if not args.no_lp:
            relaxed = lp.solve(inputs).kpis
            row.update(
                lp_objective_usd=relaxed.net_margin_usd,
                lp_total_s=relaxed.total_seconds,
                lp_highs_s=relaxed.solver_seconds,
            )
        rows.append(row)
        if args.verbose:
            print(
                f"[{i + 1}/{len(days)}] {row['day']} {row.get('status')} "
                f"total {row.get('total_s', float('nan')):.3f} s "
                f"gap {row.get('mip_gap', float('nan')):.1e}",
                flush=True,
            )
    return summarize(args, rows)


def summarize(args: argparse.Namespace, rows: list[dict]) -> dict:
    solved = [r for r in rows if r.get("status") in ("optimal", "time_limit")]
    totals = [r["total_s"] for r in solved]
    summary = {
        "days": len(rows),
        "optimal_days": sum(r.get("status") == "optimal" for r in rows),
        "time_limited_days": sum(r.get("status") == "time_limit" for r in rows),
        "failed_days": len(rows) - len(solved),
        "max_mip_gap": max((r["mip_gap"] for r in solved), default=None),
        "median_total_s": statistics.median(totals) if totals else None,
        "median_cpu_s": statistics.median(r["cpu_s"] for r in solved) if solved else None,
        "sum_cpu_s": sum(r["cpu_s"] for r in solved),
        "first_cpu_s": solved[0]["cpu_s"] if solved else None,
        "p95_total_s": percentile(totals, 0.95) if totals else None,
        "max_total_s": max(totals, default=None),
        "sum_total_s": sum(totals),
        "days_over_1s": sum(t > 1.0 for t in totals),
        "days_without_ecrs": sum(r["ecrs_dropped"] for r in rows),
        "median_build_s": statistics.median(r["build_s"] for r in solved) if solved else None,
        "median_highs_s": statistics.median(r["highs_s"] for r in solved) if solved else None,
        "sum_highs_s": sum(r["highs_s"] for r in solved),
        "median_outside_s": statistics.median(r["outside_s"] for r in solved) if solved else None,
        "sum_outside_s": sum(r["outside_s"] for r in solved),
    }
    if not args.no_lp:
        lp_total = sum(r["lp_total_s"] for r in rows)
        lp_highs = sum(r["lp_highs_s"] for r in rows)
        summary.update(
            lp_sum_total_s=lp_total,
            lp_sum_highs_s=lp_highs,
            milp_over_lp_total=summary["sum_total_s"] / lp_total if lp_total else None,
            milp_over_lp_highs=summary["sum_highs_s"] / lp_highs if lp_highs else None,
        )
    return {
        "settings": {
            "site": str(args.site),
            "year": args.year,
            "prices": args.prices,
            "mip_rel_gap": args.mip_gap,
            "presolve": args.presolve,
            "highs_options": dict(parse_option(o) for o in args.highs_option),
            "time_limit_s": args.time_limit,
            "threads": 1,
            "mode": args.mode,
            "interface": args.interface,
            "warm_start": args.warm_start,
            "relaxation_first": args.relaxation_first,
        },
        "machine": {
            "python": platform.python_version(),
            "pyomo": version("pyomo"),
            "highspy": version("highspy"),
            "platform": platform.platform(),
            "cpus": _cpus(),
            "peak_rss_mb": _peak_rss_mb(),
            "load_average": os.getloadavg(),
        },
        "summary": summary,
        "days": rows,
    }


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def _peak_rss_mb() -> float:
    kilobytes = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return kilobytes / 1024 if sys.platform != "darwin" else kilobytes / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--site", type=Path, default=ROOT / "sites" / "west_texas_hybrid.yaml")
    parser.add_argument("--year", type=int, default=2023)
    parser.add_argument(
        "--prices",
        default="ercot_rtm_spp",
        help="bundled data set or tidy file (default: real-time 15-min)",
    )
    parser.add_argument(
        "--days",
        type=int,
        default=None,
        help="quick mode: N days spread over the year (default: every day)",
    )
    parser.add_argument("--mip-gap", type=float, default=1e-4)
    parser.add_argument("--time-limit", type=float, default=30.0)
    parser.add_argument(
        "--presolve", choices=["choose", "on", "off"], default=SolveOptions().presolve
    )
    parser.add_argument(
        "--highs-option",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra HiGHS option, e.g. mip_heuristic_effort=0.1 (repeatable)",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--fresh",
        dest="mode",
        action="store_const",
        const="fresh",
        help="a new Dispatcher every day, as dispatch.solve() does: the first day builds, later "
        "days take the model from the process's cache (dispatch.cache)",
    )
    mode.add_argument(
        "--rebuild",
        dest="mode",
        action="store_const",
        const="rebuild",
        help="a new Dispatcher every day with the model cache off: every day builds",
    )
    parser.set_defaults(mode="persistent")
    parser.add_argument(
        "--interface",
        choices=["compiled", "pyomo"],
        default=SolveOptions().interface,
        help="compiled arrays through highspy (default) or Pyomo's persistent interface",
    )
    parser.add_argument(
        "--warm-start", action="store_true", help="the previous solution as HiGHS's MIP start"
    )
    parser.add_argument(
        "--relaxation-first",
        action="store_true",
        help="the LP relaxation first, the MIP only if it is fractional",
    )
    parser.add_argument("--no-lp", action="store_true", help="skip the LP-relaxation pass")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "latest.json")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    report = run(args)
    report["summary"]["wall_s"] = time.perf_counter() - started
    args.out.parent.mkdir(parents=True, exist_ok=True)
    temp = args.out.with_suffix(".json.tmp")
    temp.write_text(json.dumps(report, indent=2) + "\n")
    temp.replace(args.out)
    print(
        json.dumps(
            {
                "settings": report["settings"],
                "machine": report["machine"],
                "summary": report["summary"],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
