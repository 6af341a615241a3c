"""HiGHS through Pyomo: explicit options, a persistent model for re-solves, a result or a reason.

A :class:`Dispatcher` keeps one built model and one persistent HiGHS instance per horizon shape;
solving the next day with the same shape only rewrites the data and carried-state Params.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol, TypeVar

import numpy as np
import pyomo.environ as pyo
from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition
from pyomo.contrib.solver.solvers.highs import Highs

from dispatch.cache import MODEL_CACHE, structure_key
from dispatch.errors import InputError, SolveError, expect, no_schedule
from dispatch.fast import FastModel
from dispatch.inputs import Inputs, check_inputs
from dispatch.model.build import BuiltModel, build_model, horizon_shape, load_data
from dispatch.model.context import AssetTerms
from dispatch.model.extract import Layout, extract_result, pyomo_values, report_layout
from dispatch.model.state import SiteState, state_problems, write_state
from dispatch.options import SolveOptions
from dispatch.results import DispatchResult, SolveReport
from dispatch.site import Site

__all__ = ["Dispatcher", "SolveOptions", "solve"]

MAX_SHAPES = 16  # built models kept per Dispatcher (days, DST days, look-ahead windows)
Shape = tuple[tuple[int, ...], ...]  # local day, clock hour and month of each interval
T = TypeVar("T")


def by_shape(cache: dict[Shape, T], shape: Shape, make: Callable[[], T]) -> tuple[T, bool]:
    """The cached item for ``shape``, or a new one from ``make`` (True: it is new). The oldest
    entry is dropped beyond :data:`MAX_SHAPES`."""
    if shape in cache:
        return cache[shape], False
    if len(cache) >= MAX_SHAPES:
        cache.pop(next(iter(cache)))
    cache[shape] = make()
    return cache[shape], True


class Engine(Protocol):
    """A built model with its own HiGHS: :class:`FastModel` (compiled arrays, the default) or
    :class:`PersistentModel` (Pyomo's persistent interface, the reference)."""

    built: BuiltModel
    highs_seconds: float  # HiGHS run time accumulated over the engine's solves

    def solve_once(self, options: SolveOptions, inputs: Inputs) -> SolveReport: ...

    def evaluate(self) -> tuple[Layout, np.ndarray]: ...

    def forget_basis(self) -> None: ...


@dataclass
class PersistentModel:
    """A built model with Pyomo's persistent HiGHS, re-solved with new data (the reference).

    HiGHS reports run time accumulated over an instance's solves; ``highs_seconds`` holds the
    total so far.
    """

    built: BuiltModel
    solver: Highs
    highs_seconds: float = 0.0

    def solve_once(self, options: SolveOptions, inputs: Inputs) -> SolveReport:
        report = run_highs(self.solver, self.built, options, inputs)
        seconds = report.solver_seconds - self.highs_seconds
        self.highs_seconds = report.solver_seconds
        return replace(report, solver_seconds=seconds)

    def evaluate(self) -> tuple[Layout, np.ndarray]:
        layout = report_layout(self.built)
        return layout, pyomo_values(layout)

    def forget_basis(self) -> None:
        """Nothing to forget: Pyomo's persistent HiGHS solves a MIP from scratch every time."""


def new_engine(
    built: BuiltModel, options: SolveOptions, *, fixed_as_bounds: bool = False
) -> Engine:
    """The engine ``options.interface`` names for ``built``. ``fixed_as_bounds`` (Pyomo only):
    fixed variables become column bounds, fast when their values change between solves."""
    if options.interface == "pyomo":
        return PersistentModel(built, new_solver(fixed_as_bounds=fixed_as_bounds))
    return FastModel(
        built, warm_start=options.warm_start, relaxation_first=options.relaxation_first
    )


def run_exact(
    engine: Engine, options: SolveOptions, inputs: Inputs, started: float, *, rebuilt: bool
) -> SolveReport:
    """Solve ``engine``'s model exactly (:func:`solve_until_exact`); ``started`` is when
    preparing this solve began (build or data load). The report's HiGHS seconds are this
    solve's, over all its rounds."""
    built_at = time.perf_counter()
    seconds_before = engine.highs_seconds
    terms = [t for _, t in engine.built.blocks]
    report, rounds = solve_until_exact(
        terms, lambda: engine.solve_once(options, inputs), relaxed=options.relax_integrality
    )
    return replace(
        report,
        solver_seconds=engine.highs_seconds - seconds_before,
        solve_seconds=time.perf_counter() - built_at,
        build_seconds=built_at - started,
        rebuilt=rebuilt,
        rounds=rounds,
    )


class Evaluates(Protocol):
    built: BuiltModel

    def evaluate(self) -> tuple[Layout, np.ndarray]: ...


def evaluate_with(owners: Iterable[Evaluates], built: BuiltModel) -> tuple[Layout, np.ndarray]:
    """The report values of ``built`` from the engine (or reporter) that owns it; Pyomo
    evaluates a model none of them owns."""
    for owner in owners:
        if owner.built is built:
            return owner.evaluate()
    layout = report_layout(built)
    return layout, pyomo_values(layout)


class Dispatcher:
    """Solves one site over successive horizons, re-using a built model per horizon shape.

    Each solve writes its carried-in state (``None``: a fresh start) before solving, so a model
    re-used from an earlier horizon never keeps that horizon's state. On the compiled path
    (``options.model_cache``, the default) a model of a structure another dispatcher of this
    process has built is taken from :data:`dispatch.cache.MODEL_CACHE` instead of being built,
    and this dispatcher's models go there when it is garbage-collected; a model it returned
    (:meth:`solve_model`, :attr:`built`) is valid while the dispatcher lives.
    ``models_built`` counts the models this dispatcher built, ``models_from_cache`` those it
    took from the cache.
    """

    def __init__(self, site: Site, options: SolveOptions | None = None) -> None:
        expect(site, Site, "site", "a Site (from load_site)")
        if options is not None:
            expect(options, SolveOptions, "options", "SolveOptions (not a dict)")
        self.site = site
        self.options = options or SolveOptions()
        self._models: dict[Shape, Engine] = {}
        self._built: BuiltModel | None = None
        self.models_built = 0
        self.models_from_cache = 0
        self._cached = self.options.model_cache and self.options.interface == "compiled"
        self._keys: dict[Shape, Hashable] = {}  # structure keys of the models, by shape
        self._restart: set[Shape] = set()  # shapes of models taken, not yet on a new HiGHS
        if self._cached:
            weakref.finalize(self, _give_back, self._models, self._keys).atexit = False

    @property
    def built(self) -> BuiltModel | None:
        """The model of the last solve (for inspection, state and tests)."""
        return self._built

    def engine(self, inputs: Inputs, shape: Shape | None = None) -> tuple[Engine, bool]:
        """The engine for the horizon shape of ``inputs`` (True: built now, with ``inputs``).

        ``shape`` is that shape if the caller has it already."""
        shape = shape or horizon_shape(inputs.index)
        taken = False

        def make() -> Engine:
            nonlocal taken
            if self._cached:
                key = structure_key(self.site, self.options, tuple(inputs.frame.columns), shape)
                self._keys[shape] = key
                cached = MODEL_CACHE.take(key)
                if cached is not None:
                    taken = True
                    self._restart.add(shape)
                    return cached
            return new_engine(build_model(self.site, inputs), self.options)

        engine, new = by_shape(self._models, shape, make)
        self.models_from_cache += taken
        self.models_built += new and not taken
        return engine, new and not taken

    def solve(self, inputs: Inputs, state: SiteState | None = None) -> DispatchResult:
        """Solve over the horizon of ``inputs`` from carried-in ``state``."""
        started = time.perf_counter()
        built, report = self.solve_model(inputs, state)
        result = extract_result(built, inputs, report, self.evaluate(built))
        return result.with_total_seconds(time.perf_counter() - started)

    def solve_model(
        self, inputs: Inputs, state: SiteState | None = None
    ) -> tuple[BuiltModel, SolveReport]:
        """Solve and leave the solution on the returned model (read it, or evaluate it).

        Raises :class:`InputError` for inputs made for another site or edited into NaN, infinite
        or implausible values since loading, and for a carried state no schedule can start from.
        """
        started = time.perf_counter()
        check_inputs(self.site, inputs)
        if state is not None:
            expect(state, SiteState, "state", "a SiteState (or None: a fresh start)")
        problems = state_problems(self.site, inputs, state)
        if problems:
            raise InputError("\n".join(problems))
        shape = horizon_shape(inputs.index)
        engine, rebuilt = self.engine(inputs, shape)
        if not rebuilt:
            load_data(engine.built, inputs, shape)
        if shape in self._restart and isinstance(engine, FastModel):
            # taken from the cache: this day's data go to a new HiGHS as a new build's would
            engine.restart()
            self._restart.discard(shape)
        self._built = engine.built
        write_state(engine.built, state, inputs.index)
        return engine.built, run_exact(engine, self.options, inputs, started, rebuilt=rebuilt)

    def evaluate(self, built: BuiltModel) -> tuple[Layout, np.ndarray]:
        """The report values (:class:`~dispatch.model.extract.Layout`) of a model this
        dispatcher solved, at its current solution."""
        return evaluate_with(self._models.values(), built)


def _give_back(models: dict[Shape, Engine], keys: dict[Shape, Hashable]) -> None:
    """A dispatcher's compiled models into the process's cache (it is being collected)."""
    for shape, engine in models.items():
        if isinstance(engine, FastModel) and shape in keys:
            MODEL_CACHE.give(keys[shape], engine)


def solve(
    site: Site,
    inputs: Inputs,
    options: SolveOptions | None = None,
    state: SiteState | None = None,
) -> DispatchResult:
    """Build and solve the dispatch of ``site`` over the horizon of ``inputs``.

    ``state`` is carried in from an earlier horizon (see :mod:`dispatch.batch.rolling`);
    ``None`` starts fresh (battery at its initial SoC, containers running, generators off).
    A model of the same structure solved earlier in this process is re-used with this call's
    data (:mod:`dispatch.cache`; ``SolveOptions(model_cache=False)`` builds anew).
    """
    return Dispatcher(site, options).solve(inputs, state)


def new_solver(*, fixed_as_bounds: bool = False) -> Highs:
    """A persistent HiGHS for one model. ``fixed_as_bounds``: fixed variables become column
    bounds (fast when their values change between solves, as in a real-time re-dispatch)."""
    solver = Highs(treat_fixed_vars_as_params=not fixed_as_bounds)
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


def solve_exact(
    solver: Highs, built: BuiltModel, options: SolveOptions, inputs: Inputs
) -> SolveReport:
    """Solve ``built`` exactly (:func:`solve_until_exact`) with Pyomo's HiGHS ``solver``; the
    report counts the solves."""
    terms = [t for _, t in built.blocks]
    report, rounds = solve_until_exact(
        terms,
        lambda: run_highs(solver, built, options, inputs),
        relaxed=options.relax_integrality,
    )
    return replace(report, rounds=rounds)


def solve_until_exact(
    terms: Sequence[AssetTerms], solve_once: Callable[[], T], *, relaxed: bool
) -> tuple[T, int]:
    """Solve; while the solution needs lazy binaries (``AssetTerms.enforce``), switch them on
    and solve again (after ``MAX_ENFORCE_ROUNDS`` rounds, all of them at once); then settle the
    solution's degenerate splits (``AssetTerms.settle``). Returns the last solve's result and
    the number of solves. Any model built from the asset builders (a dispatch model, the day
    blocks of a sizing model) is solved through here."""
    result = solve_once()
    rounds = 0
    while not relaxed:
        everywhere = rounds >= MAX_ENFORCE_ROUNDS
        switched = sum(t.enforce(everywhere) for t in terms if t.enforce is not None)
        if not switched:
            break
        result = solve_once()
        rounds += 1
    for term in terms:
        if term.settle is not None:
            term.settle()
    return result, rounds + 1


def run_highs(
    solver: Highs, built: BuiltModel, options: SolveOptions, inputs: Inputs
) -> SolveReport:
    """Solve ``built`` and load the solution; raise :class:`SolveError` without one.

    ``solver_seconds`` is HiGHS's run time as reported, which accumulates on a re-used instance.
    """
    highs_options = {**options.highs_settings, "presolve": options.presolve, "output_flag": False}
    if options.relax_integrality:
        highs_options["solve_relaxation"] = True
    results = solver.solve(
        built.model,
        time_limit=_time_limit_s(solver, built, options),
        rel_gap=options.mip_rel_gap,
        threads=options.threads,
        solver_options=highs_options,
        load_solutions=False,
        raise_exception_on_nonoptimal_result=False,
    )
    condition = results.termination_condition
    if results.solution_status not in (SolutionStatus.optimal, SolutionStatus.feasible):
        kind = {
            TerminationCondition.provenInfeasible: "infeasible",
            TerminationCondition.infeasibleOrUnbounded: "infeasible",
            TerminationCondition.maxTimeLimit: "time_limit",
        }.get(condition, condition.name)
        raise SolveError(no_schedule(built.ctx.site.name, kind, inputs.index))
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


def _time_limit_s(solver: Highs, built: BuiltModel, options: SolveOptions) -> float:
    """The time limit to give HiGHS for this solve [s].

    HiGHS compares an LP's time limit with the run time its object has accumulated over every
    solve (ERGO-Code/HiGHS#1477, to change in HiGHS 2.0; its MIP solver times each solve
    itself), so a persistent model solved as an LP would stop at once after its solves added up
    to the limit. For an LP the limit is therefore the run time so far plus the limit.
    """
    highs = getattr(solver, "_solver_model", None)  # None before the first solve
    if highs is None or not _solved_as_lp(built, options):
        return options.time_limit_s
    return options.time_limit_s + highs.getRunTime()


def _solved_as_lp(built: BuiltModel, options: SolveOptions) -> bool:
    if options.relax_integrality:
        return True
    variables = built.model.component_data_objects(pyo.Var, descend_into=True)
    return not any(not v.is_continuous() and not v.fixed for v in variables)
