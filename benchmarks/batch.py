"""Batch throughput: an example site over years of ERCOT day-ahead prices at every hub.

Runs the same batch (site x 7 hubs x years, one task per hub and year) with 1 and with 2 local
worker processes through the public ``run_batch`` API, each into a fresh folder, and reports
wall time, site-days per second, the speed-up, and per-day solve statistics read back from the
written parts. Not part of the test suite.

    python benchmarks/batch.py            # 2021-01-01..2025-04-07 x 7 hubs (~10 min, 2 cores)
    python benchmarks/batch.py --quick    # 2023 Q1 x 2 hubs, monthly tasks (~1 min)
    python benchmarks/batch.py --workers 1,2,4 --json results.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

import pandas as pd

from dispatch.batch.runner import run_batch
from dispatch.batch.tasks import plan_tasks
from dispatch.options import SolveOptions

ROOT = Path(__file__).resolve().parent.parent
HUBS = ["HB_BUSAVG", "HB_HOUSTON", "HB_HUBAVG", "HB_NORTH", "HB_PAN", "HB_SOUTH", "HB_WEST"]
# the bundled hashprice ends 2025-04-07 and the day-ahead prices 2025-05-17
FULL = {"start": "2021-01-01", "end": "2025-04-07", "points": HUBS, "split": "year"}
QUICK = {"start": "2023-01-01", "end": "2023-03-31", "points": HUBS[3::3], "split": "month"}


def machine() -> dict[str, object]:
    from importlib.metadata import version

    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "pyomo": version("pyomo"),
        "highspy": version("highspy"),
    }


def busy_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat (Linux)."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return (float("nan"), float("nan"))
    ticks = [int(f) for f in fields]
    idle = ticks[3] + ticks[4]  # idle + iowait
    hz = os.sysconf("SC_CLK_TCK")
    return ((sum(ticks) - idle) / hz, sum(ticks) / hz)


def run(tasks: list, workers: int, keep: Path | None) -> dict[str, object]:
    out = Path(tempfile.mkdtemp(prefix=f"dispatch-bench-{workers}w-"))
    try:
        times, (busy, total) = os.times(), busy_seconds()
        started = time.perf_counter()
        report = run_batch(tasks, out, workers=workers)
        seconds = time.perf_counter() - started
        after, (busy_after, total_after) = os.times(), busy_seconds()
        driver = after.user + after.system - times.user - times.system
        workers_cpu = (
            after.children_user + after.children_system - times.children_user
        ) - times.children_system
        machine_busy = busy_after - busy
        if not report.complete:
            failed = [(r.task.label, r.error) for r in report.with_status("failed", "not_run")]
            raise SystemExit(f"the batch did not complete: {failed}")
        days = pd.read_parquet(out / "days")
        solve = days["solve_seconds"]
        row = {
            "workers": workers,
            "tasks": len(tasks),
            "site_days": len(days),
            "seconds": round(seconds, 1),
            "days_per_second": round(len(days) / seconds, 2),
            "solve_ms_median": round(1000 * float(solve.median()), 1),
            "solve_ms_p95": round(1000 * float(solve.quantile(0.95)), 1),
            "solve_ms_max": round(1000 * float(solve.max()), 1),
            "day_ms_mean": round(1000 * float(days["total_seconds"].mean()), 1),
            "days_at_time_limit": int((days["status"] != "optimal").sum()),
            # CPU seconds: this batch's driver and workers, and everything else on the machine
            "cpu_s_driver": round(driver, 1),
            "cpu_s_workers": round(workers_cpu, 1),
            "cpu_s_other_processes": round(machine_busy - driver - workers_cpu, 1),
            "machine_cpu_s_available": round(total_after - total, 1),
            "worker_cpu_ms_per_day": round(1000 * workers_cpu / len(days), 1),
            "net_margin_usd": float(days["net_margin_usd"].sum()),
        }
        if keep is not None:
            shutil.copytree(out, keep / f"{workers}w", dirs_exist_ok=True)
        return row
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2023 Q1 x 2 hubs (a smoke run)")
    parser.add_argument(
        "--site", default=str(ROOT / "sites" / "west_texas_hybrid_hourly.yaml"), help="site file"
    )
    parser.add_argument("--prices", default="ercot_dam_spp", help="bundled price data set")
    parser.add_argument("--workers", default="1,2", help="worker counts to compare, e.g. 1,2")
    parser.add_argument("--start", help="first day (default: 2021-01-01, quick: 2023-01-01)")
    parser.add_argument("--end", help="last day (default: 2025-04-07, quick: 2023-03-31)")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    parser.add_argument("--keep", type=Path, help="copy each run's output folder here")
    parser.add_argument(
        "--interface",
        choices=["compiled", "pyomo"],
        default=SolveOptions().interface,
        help="compiled arrays through highspy (default) or Pyomo's persistent interface",
    )
    parser.add_argument(
        "--relaxation-first",
        action="store_true",
        help="each day's LP relaxation first, the MIP only where it is fractional",
    )
    args = parser.parse_args()
    plan = dict(QUICK if args.quick else FULL)
    plan["start"] = args.start or plan["start"]
    plan["end"] = args.end or plan["end"]
    tasks = plan_tasks(
        [args.site],
        plan["start"],
        plan["end"],
        prices=[args.prices],
        settlement_points=plan["points"],
        split=plan["split"],
        options=SolveOptions(
            threads=1, interface=args.interface, relaxation_first=args.relaxation_first
        ),
    )
    counts = [int(w) for w in args.workers.split(",")]
    print(
        f"{len(tasks)} tasks, {sum(t.days for t in tasks)} site-days: {args.site} on "
        f"{args.prices} at {', '.join(plan['points'])}, {plan['start']}..{plan['end']}",
        flush=True,
    )
    rows = []
    for workers in counts:
        rows.append(run(tasks, workers, args.keep))
        print(json.dumps(rows[-1]), flush=True)
    base = rows[0]["seconds"]
    print(
        "\n| workers | tasks | site-days | seconds | days/s | speed-up | solve ms med/p95/max "
        "| worker CPU ms/day | other processes' CPU share |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        speed_up = base / row["seconds"] * counts[0]
        print(
            f"| {row['workers']} | {row['tasks']} | {row['site_days']:,} | {row['seconds']} | "
            f"{row['days_per_second']} | {speed_up:.2f} | {row['solve_ms_median']} / "
            f"{row['solve_ms_p95']} / {row['solve_ms_max']} | {row['worker_cpu_ms_per_day']} | "
            f"{row['cpu_s_other_processes'] / row['machine_cpu_s_available']:.0%} |"
        )
    if args.json:
        payload = {
            "machine": machine(),
            "plan": plan,
            "site": args.site,
            "interface": args.interface,
            "relaxation_first": args.relaxation_first,
            "load_average": os.getloadavg(),
            "runs": rows,
        }
        args.json.write_text(json.dumps(payload, indent=2) + "\n")


if __name__ == "__main__":
    main()
