"""Where HiGHS spends a dispatch day: the MIP against its LP relaxation, both from scratch.

Solves each sampled day of a year (``--days N`` spread over it, as ``run.py``) on one compiled
model per shape, with the HiGHS basis forgotten before every solve, as the MIP (default HiGHS
settings of dispatch, then each ``--variant`` of extra HiGHS options) and as its LP relaxation.
Per day: CPU seconds, simplex iterations, branch-and-bound nodes, whether the relaxation is
integral, and each variant's objective (which must equal the default's within the gap). Not part
of the test suite.

    python benchmarks/highs_profile.py --days 36
    python benchmarks/highs_profile.py --days 36 --variant mip_heuristic_run_feasibility_jump=true
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from run import days_of, parse_option, site_for_day

from dispatch import load_inputs, load_site
from dispatch.fast import FastModel
from dispatch.model.build import build_model, load_data
from dispatch.model.state import write_state
from dispatch.options import SolveOptions

ROOT = Path(__file__).resolve().parent.parent


def timed(model: FastModel, options: SolveOptions, inputs) -> tuple[float, float]:
    """(CPU seconds, objective) of one solve from no basis."""
    model.forget_basis()
    started = time.process_time()
    report = model.solve_once(options, inputs)
    return time.process_time() - started, report.objective_usd


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=Path, default=ROOT / "sites" / "west_texas_hybrid.yaml")
    parser.add_argument("--year", type=int, default=2023)
    parser.add_argument("--prices", default="ercot_rtm_spp")
    parser.add_argument("--days", type=int, default=36)
    parser.add_argument("--variant", action="append", default=[], metavar="NAME=VALUE[,NAME=VALUE]")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "highs.json")
    args = parser.parse_args()
    options = SolveOptions(threads=1)
    variants = {
        text: replace(options, highs_options=dict(parse_option(o) for o in text.split(",") if o))
        for text in args.variant
    }
    base, models, rows = load_site(args.site), {}, []
    for day in days_of(args.year, args.days):
        site = site_for_day(base, day)
        inputs = load_inputs(site, day, prices=args.prices)
        key = (site is base, len(inputs.index))
        if key not in models:
            models[key] = FastModel(build_model(site, inputs))
        model = models[key]
        load_data(model.built, inputs)
        write_state(model.built, None, inputs.index)
        row: dict = {"day": day.isoformat()}
        row["mip_cpu_s"], row["mip_objective_usd"] = timed(model, options, inputs)
        info = model.highs.getInfo()
        row["mip_iterations"], row["nodes"] = info.simplex_iteration_count, info.mip_node_count
        for text, variant in variants.items():
            row[f"{text}_cpu_s"], row[f"{text}_objective_usd"] = timed(model, variant, inputs)
        relaxed = replace(options, relax_integrality=True)
        row["lp_cpu_s"], row["lp_objective_usd"] = timed(model, relaxed, inputs)
        row["lp_iterations"] = model.highs.getInfo().simplex_iteration_count
        integer = np.array([v.is_integer() and not v.fixed for v in model.compiled.columns])
        assert model.solution is not None
        x = model.solution[integer]
        row["integral"] = bool(np.all(np.abs(x - np.round(x)) <= 1e-6))
        rows.append(row)
        print(json.dumps(row), flush=True)
    summary = {
        "days": len(rows),
        "mip_cpu_s": sum(r["mip_cpu_s"] for r in rows),
        "lp_cpu_s": sum(r["lp_cpu_s"] for r in rows),
        "days_solved_at_the_root": sum(r["nodes"] <= 1 for r in rows),
        "days_with_an_integral_relaxation": sum(r["integral"] for r in rows),
        "median_lp_gap": statistics.median(
            abs(r["lp_objective_usd"] - r["mip_objective_usd"]) / abs(r["mip_objective_usd"])
            for r in rows
        ),
        "load_average": os.getloadavg(),
    }
    for text in variants:
        summary[f"{text}_cpu_s"] = sum(r[f"{text}_cpu_s"] for r in rows)
        summary[f"{text}_max_objective_change"] = max(
            abs(r[f"{text}_objective_usd"] - r["mip_objective_usd"]) / abs(r["mip_objective_usd"])
            for r in rows
        )
    args.out.write_text(json.dumps({"summary": summary, "days": rows}, indent=2) + "\n")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
