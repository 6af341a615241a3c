"""HiGHS through Pyomo: explicit options, a persistent model for re-solves, a result or a reason.

A :class:`Dispatcher` keeps one built model and one persistent HiGHS instance per horizon shape;
solving the next day with the same number of intervals only rewrites the data Params.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import highspy
from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition
from pyomo.contrib.solver.solvers.highs import Highs

from dispatch.errors import InputError, SolveError
from dispatch.inputs import Inputs
from dispatch.model.build import BuiltModel, build_model, horizon_shape, load_data
from dispatch.model.extract import extract_result
from dispatch.results import DispatchResult, SolveReport
from dispatch.site import Site


@dataclass(frozen=True)
class SolveOptions:
    """Solver settings. ``mip_rel_gap`` relative; ``time_limit_s`` per solve [s].

    ``highs_options`` passes further HiGHS options by their HiGHS names (e.g.
    ``{"mip_heuristic_effort": 0.1}``); an unknown name or a value HiGHS refuses is an
    InputError.
    """

    mip_rel_gap: float = 1e-4
    time_limit_s: float = 60.0
    threads: int = 1
    relax_integrality: bool = False
    presolve: str = "choose"
    highs_options: Mapping[str, bool | int | float | str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0 <= self.mip_rel_gap < 1:
            raise InputError(f"mip_rel_gap: expected 0 <= gap < 1, found {self.mip_rel_gap}")
        if self.time_limit_s <= 0:
            raise InputError(f"time_limit_s: expected > 0, found {self.time_limit_s}")
        if self.threads < 1:
            raise InputError(f"threads: expected >= 1, found {self.threads}")
        if self.presolve not in ("choose", "on", "off"):
            raise InputError(f"presolve: expected choose, on or off, found {self.presolve!r}")
        if self.highs_options:
            probe = highspy.Highs()
            probe.setOptionValue("output_flag", False)
            for name, value in self.highs_options.items():
                if probe.setOptionValue(name, value) != highspy.HighsStatus.kOk:
                    raise InputError(
                        f"highs_options: HiGHS refuses option {name!r} = {value!r} "
                        "(unknown name, wrong type or out of range)"
                    )


class Dispatcher:
    """Solves one site over successive horizons, re-using the model when the shape repeats."""

    def __init__(self, site: Site, options: SolveOptions | None = None) -> None:
        self.site = site
        self.options = options or SolveOptions()
        self._built: BuiltModel | None = None
        self._solver: Highs | None = None
        self._highs_seconds = 0.0  # HiGHS run time accumulates on a reused instance
        self.models_built = 0

    @property
    def built(self) -> BuiltModel | None:
        """The model of the last solve (for inspection and tests)."""
        return self._built

    def solve(self, inputs: Inputs) -> DispatchResult:
        """Solve over the horizon of ``inputs``; re-use the built model if the shape matches."""
        started = time.perf_counter()
        built, solver = self._built, self._solver
        rebuilt = built is None or solver is None or horizon_shape(inputs.index) != built.shape
        if built is None or solver is None or rebuilt:
            built = self._built = build_model(self.site, inputs)
            solver = self._solver = _new_solver()
            self.models_built += 1
            self._highs_seconds = 0.0
        else:
            load_data(built, inputs)
        built_at = time.perf_counter()
        report = _solve_exact(solver, built, self.options, inputs)
        highs_seconds = report.solver_seconds - self._highs_seconds
        self._highs_seconds = report.solver_seconds
        report = replace(
            report,
            solver_seconds=highs_seconds,
            solve_seconds=time.perf_counter() - built_at,
            build_seconds=built_at - started,
            rebuilt=rebuilt,
        )
        result = extract_result(built, inputs, report)
        return result.with_total_seconds(time.perf_counter() - started)


def solve(site: Site, inputs: Inputs, options: SolveOptions | None = None) -> DispatchResult:
    """Build and solve the dispatch of ``site`` over the horizon of ``inputs``."""
    return Dispatcher(site, options).solve(inputs)


def _new_solver() -> Highs:
    solver = Highs()
    updates = solver.config.auto_updates
    # The structure never changes between re-solves: only Param values and variable domains do.
    updates.check_for_new_or_removed_constraints = False
    updates.check_for_new_or_removed_vars = False
    updates.check_for_new_or_removed_params = False
    updates.check_for_new_objective = False
    updates.update_constraints = False
    updates.update_named_expressions = False
    updates.update_objective = False
    return solver


MAX_ENFORCE_ROUNDS = 3


def _solve_exact(
    solver: Highs, built: BuiltModel, options: SolveOptions, inputs: Inputs
) -> SolveReport:
    """Solve; while the solution needs lazy binaries (``AssetTerms.enforce``), switch them on
    and solve again (after ``MAX_ENFORCE_ROUNDS`` rounds, all of them at once); then settle the
    solution's degenerate splits (``AssetTerms.settle``)."""
    terms = [t for _, t in built.blocks]
    report = _run(solver, built, options, inputs)
    rounds = 0
    while not options.relax_integrality:
        everywhere = rounds >= MAX_ENFORCE_ROUNDS
        switched = sum(t.enforce(everywhere) for t in terms if t.enforce is not None)
        if not switched:
            break
        report = _run(solver, built, options, inputs)
        rounds += 1
    for term in terms:
        if term.settle is not None:
            term.settle()
    return replace(report, rounds=rounds + 1)


def _run(solver: Highs, built: BuiltModel, options: SolveOptions, inputs: Inputs) -> SolveReport:
    highs_options = {**options.highs_options, "presolve": options.presolve, "output_flag": False}
    if options.relax_integrality:
        highs_options["solve_relaxation"] = True
    results = solver.solve(
        built.model,
        time_limit=options.time_limit_s,
        rel_gap=options.mip_rel_gap,
        threads=options.threads,
        solver_options=highs_options,
        load_solutions=False,
        raise_exception_on_nonoptimal_result=False,
    )
    condition = results.termination_condition
    if results.solution_status not in (SolutionStatus.optimal, SolutionStatus.feasible):
        raise SolveError(_explain(built, condition, inputs))
    results.solution_loader.load_vars()
    # HiGHS's own objective value: the streams table (Pyomo's evaluation of the same stream
    # expressions) is checked against it, and it costs nothing to read.
    objective = float(results.incumbent_objective)
    bound = results.objective_bound
    gap = 0.0 if bound is None else abs(bound - objective) / max(abs(objective), 1e-9)
    status = {
        TerminationCondition.convergenceCriteriaSatisfied: "optimal",
        TerminationCondition.maxTimeLimit: "time_limit",
    }.get(condition, condition.name)
    return SolveReport(
        status=status,
        objective_usd=objective,
        bound_usd=bound,
        mip_gap=gap,
        solver_seconds=results.timing_info.highs_time,
        solve_seconds=0.0,
        build_seconds=0.0,
        rebuilt=True,
        rounds=1,
    )


def _explain(built: BuiltModel, condition: TerminationCondition, inputs: Inputs) -> str:
    site = built.ctx.site
    span = f"{inputs.index[0]} to {inputs.index[-1]}"
    if condition in (
        TerminationCondition.provenInfeasible,
        TerminationCondition.infeasibleOrUnbounded,
    ):
        return (
            f"site {site.name!r} has no feasible schedule over {span}: check that generators "
            "can follow the load at their min stable output and min up/down times, that fuel "
            "budgets and the battery ride-through reserve can be met, and that carried-in "
            "state is consistent"
        )
    if condition == TerminationCondition.maxTimeLimit:
        return f"site {site.name!r} over {span}: no feasible schedule found within the time limit"
    return f"site {site.name!r} over {span}: HiGHS stopped with {condition.name}"
