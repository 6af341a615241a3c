"""The Monte Carlo attached to a sizing result: which plans it scores and when it runs."""

from __future__ import annotations

import time
from concurrent.futures import Executor
from dataclasses import replace

from dispatch.errors import InputError, expect
from dispatch.sizing.montecarlo import Candidate
from dispatch.sizing.plan import Planning
from dispatch.sizing.progress import Progress
from dispatch.sizing.results import SizingResult
from dispatch.sizing.uncertainty import evaluate_under_uncertainty
from dispatch.solver import SolveOptions


def with_uncertainty(
    planning: Planning,
    result: SizingResult,
    paths: int | None,
    seed: int | None,
    load: dict[str, object],
    options: SolveOptions,
    executor: Executor | None,
    progress: Progress,
    started: float,
) -> SizingResult:
    """The result with the Monte Carlo's when asked for (``paths``, or the site file's
    uncertainty section), scoring :func:`candidates`."""
    if not wants_uncertainty(planning, paths):
        return result
    uncertainty = evaluate_under_uncertainty(
        planning,
        candidates(planning, result),
        paths=paths,
        seed=seed,
        load=load,
        options=options,
        executor=executor,
        progress=progress,
    )
    seconds = {**result.seconds, "monte_carlo": uncertainty.seconds["total"]}
    seconds["total"] = time.perf_counter() - started
    return replace(result, uncertainty=uncertainty, seconds=seconds)


def wants_uncertainty(planning: Planning, paths: int | None) -> bool:
    """The Monte Carlo runs when ``paths`` asks for it (not 0) or, without ``paths``, when the
    site file has a ``sizing.uncertainty`` section."""
    if paths is not None:
        expect(paths, int, "paths", "a whole number of paths")
        if paths < 0:
            raise InputError(f"--paths: expected 0 (no Monte Carlo) or more, found {paths}")
        return paths > 0
    return planning.spec.uncertainty is not None


def candidates(planning: Planning, result: SizingResult) -> list[Candidate]:
    """The plans the Monte Carlo scores: each scenario's optimum (the reference's as
    ``optimum``) and every allowed sweep point; the site as it stands is always added."""
    found = []
    for i, outcome in enumerate(result.outcomes):
        name = "optimum" if i == 0 else f"optimum_{outcome.scenario.name}"
        found.append(Candidate(name, outcome.optimum.plan))
    sweeps = [o.sweep for o in result.outcomes if o.sweep is not None]
    if result.sweep is not None:
        sweeps.append(result.sweep)
    for frame in sweeps:
        for row in frame[frame["feasible"]].itertuples():
            label = f"sweep {row.hpc_it_mw:g} MW IT x {row.mining_mw:g} MW mining"
            found.append(Candidate(label, planning.grid_plan(row.hpc_it_mw, row.mining_mw)))
    return found
