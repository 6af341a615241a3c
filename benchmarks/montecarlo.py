"""Monte Carlo benchmark: 1,000 paths x the 2023 example's candidate mixes on 2 processes.

The candidates are those `dispatch size` hands the Monte Carlo for the README's 2023 example
(``sites/retrofit_campus.yaml --years 2023 --hpc-mw 20:100:20 --mining-mw 19:114:19
--scenario sites/scenarios/hashprice.yaml``): the site as it stands, each scenario's optimum
and every allowed sweep point. The scenario optima come from the sizing MILP (timed apart);
the sweep points from the grid rule, without dispatching the sweep itself. What is timed is
``evaluate_under_uncertainty``: drawing the paths, loading and clustering the price years, the
dispatch grid (on the executor) and the cash flows of every candidate on every path.

Run ``python benchmarks/montecarlo.py --help``; writes JSON with the settings, the machine
load (``os.getloadavg``) before and after, per-step seconds, the grid's solve count, and the
CPU seconds of this process and of the workers: on a shared machine the wall time grows with
the load, and main CPU + workers' CPU / workers estimates the time on two free cores. The JSON
also holds each candidate's NPV distribution (mean, P10/P50/P90, CVaR), to compare two runs on
the same seed, and the candidate plans: ``--candidates`` reads them back from an earlier run's
JSON and skips the sizing MILP (about 9 minutes on this machine).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import resource
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import fields
from pathlib import Path

import pandas as pd

from dispatch import load_site, size
from dispatch.sizing.montecarlo import Candidate
from dispatch.sizing.outlook import candidates
from dispatch.sizing.plan import Plan, Planning
from dispatch.sizing.progress import Step
from dispatch.sizing.uncertainty import evaluate_under_uncertainty
from dispatch.solver import SolveOptions

ROOT = Path(__file__).resolve().parent.parent
HPC_MW = [20.0, 40.0, 60.0, 80.0, 100.0]
MINING_MW = [19.0, 38.0, 57.0, 76.0, 95.0, 114.0]


def _cpu(usage: resource.struct_rusage) -> float:
    return usage.ru_utime + usage.ru_stime


def record(steps: list[str], step: Step) -> None:
    """Keep (and print) one line per finished step."""
    if step.finished:
        steps.append(step.line())
        print(step.line(), flush=True)


def plan_fields(plan: Plan) -> dict[str, object]:
    """The fields that make ``plan`` again (``Plan(**fields)``)."""
    return {f.name: getattr(plan, f.name) for f in fields(plan)}


def read_candidates(path: Path) -> list[Candidate]:
    """The candidate plans an earlier run wrote (``candidate_plans``)."""
    rows = json.loads(path.read_text())["candidate_plans"]
    return [Candidate(row.pop("name"), Plan(**row)) for row in rows]


def distribution(summary: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Per candidate: mean, P10/P50/P90 and CVaR of the NPV against the site as it stands and
    mean and P50 of the project NPV [USD]."""
    columns = [
        *(f"{s}_npv_vs_bau_usd" for s in ("mean", "p10", "p50", "p90", "cvar")),
        "mean_npv_usd",
        "p50_npv_usd",
        "probability_of_loss",
    ]
    return {
        str(row["candidate"]): {c: float(row[c]) for c in columns} for _, row in summary.iterrows()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", default=str(ROOT / "sites" / "retrofit_campus.yaml"))
    parser.add_argument("--paths", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, help="Monte Carlo seed (default: the site's)")
    parser.add_argument("--no-sweep", action="store_true", help="score the optima only")
    parser.add_argument(
        "--candidates", help="an earlier run's JSON: score its candidate plans (no sizing MILP)"
    )
    parser.add_argument(
        "--out", default=str(ROOT / "benchmarks" / "results" / "montecarlo_2023.json")
    )
    args = parser.parse_args()

    site = load_site(args.site)
    planning = Planning(site)
    load_before = os.getloadavg()
    sizing_seconds = None
    if args.candidates:
        found = read_candidates(Path(args.candidates))
    else:
        clock = time.perf_counter()
        result = size(
            site,
            "2023",
            scenarios=ROOT / "sites" / "scenarios" / "hashprice.yaml",
            check=False,
            paths=0,
        )
        sizing_seconds = time.perf_counter() - clock
        found = candidates(planning, result)
        if not args.no_sweep:
            for hpc in HPC_MW:
                for mining in MINING_MW:
                    plan = planning.grid_plan(hpc, mining)
                    if not planning.problems(plan):
                        label = f"sweep {hpc:g} MW IT x {mining:g} MW mining"
                        found.append(Candidate(label, plan))
    steps: list[str] = []
    spawn = multiprocessing.get_context("spawn")
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    self_before = resource.getrusage(resource.RUSAGE_SELF)
    with ProcessPoolExecutor(args.workers, mp_context=spawn) as pool:
        clock = time.perf_counter()
        outcome = evaluate_under_uncertainty(
            planning,
            found,
            paths=args.paths,
            seed=args.seed,
            options=SolveOptions(),
            executor=pool,
            progress=lambda step: record(steps, step),
        )
        seconds = time.perf_counter() - clock
    # the workers' CPU time is counted once the pool has shut down and they have been waited for
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    main_cpu = _cpu(resource.getrusage(resource.RUSAGE_SELF)) - _cpu(self_before)
    workers_cpu = _cpu(children) - _cpu(children_before)
    load_after = os.getloadavg()
    report = {
        "site": args.site,
        "paths": args.paths,
        "workers": args.workers,
        "candidates": len(outcome.summary),
        "monte_carlo_seconds": seconds,
        "main_process_cpu_seconds": main_cpu,
        "workers_cpu_seconds": workers_cpu,
        "cpu_bound_estimate_seconds": main_cpu + workers_cpu / args.workers,
        "sizing_milp_seconds_not_timed_above": sizing_seconds,
        "steps": steps,
        "step_seconds": outcome.seconds,
        "settings": outcome.settings,
        "recommendation": outcome.recommendation,
        "npv_distribution": distribution(outcome.summary),
        "candidate_plans": [{"name": c.name, **plan_fields(c.plan)} for c in found],
        "load_average_before": load_before,
        "load_average_after": load_after,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(
        json.dumps({k: report[k] for k in ("candidates", "monte_carlo_seconds", "steps")}, indent=2)
    )
    print(f"load before {load_before}, after {load_after}")
    print(outcome.recommendation)


if __name__ == "__main__":
    main()
