"""HiGHS driven through its own arrays: a compiled model re-solved with new data.

A :class:`FastModel` holds a built Pyomo model, its compiled arrays
(:mod:`dispatch.model.compiled`) and a ``highspy.Highs`` loaded from them. Before each solve it
reads the model's current data (every symbol: mutable Params, opaque expressions) and variable
states (bounds, domain, fixing: what ``AssetTerms.refresh``, ``enforce`` and the state hooks
set), and pushes only what changed (``changeColsCost``, ``changeRowsBounds``, ``changeCoeff``,
``changeColsBounds``, ``changeColsIntegrality``). After the solve it writes the solution into
the Pyomo variables (the hooks read them there) and evaluates the reported expressions from
their compiled linear forms. Pyomo stays the single description of the model and the reference
(:class:`dispatch.solver.PersistentModel`).

For a shrinking-horizon (real-time) loop, :meth:`FastModel.fix` holds chosen columns at given
values as bound changes on the HiGHS model, with no rebuild; :meth:`FastModel.unfix` frees them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import highspy
import numpy as np
import pyomo.environ as pyo

from dispatch.errors import SolveError, no_schedule
from dispatch.inputs import Inputs
from dispatch.model.build import BuiltModel
from dispatch.model.compiled import CompiledModel, compile_model
from dispatch.model.extract import Layout, pyomo_values, report_layout
from dispatch.options import SolveOptions
from dispatch.results import SolveReport

INF = highspy.kHighsInf
_STATUS = {
    highspy.HighsModelStatus.kOptimal: "optimal",
    highspy.HighsModelStatus.kTimeLimit: "time_limit",
}
_INFEASIBLE = (
    highspy.HighsModelStatus.kInfeasible,
    highspy.HighsModelStatus.kUnboundedOrInfeasible,
)
# [MW; MWh, USD or a count for such columns] how far a fixed column may move in a last-resort
# solve whose fixed values as given are infeasible (FastModel._run_with_fixed_slack): ten times
# HiGHS's primal feasibility tolerance, far below what any report shows
FIXED_SLACK_MW = 1e-6


class FastModel:
    """A built model in its own HiGHS, fed through arrays (see the module docstring).

    ``highs_seconds`` is HiGHS's run time accumulated over this instance's solves (HiGHS reports
    the running total); each report carries its own solve's share. ``warm_start`` passes the
    previous solution to HiGHS as a MIP start before each solve. ``highs`` is the HiGHS
    instance (to inspect; changes go through the model and :meth:`fix`).
    """

    def __init__(
        self, built: BuiltModel, *, warm_start: bool = False, relaxation_first: bool = False
    ) -> None:
        self.built = built
        self.layout: Layout = report_layout(built)
        self.compiled: CompiledModel = compile_model(
            built.model, self.layout.expressions, intervals=built.ctx.intervals
        )
        self.warm_start = warm_start
        self.relaxation_first = relaxation_first
        # a solve infeasible as fixed is run again with slack on its fixed columns (a last
        # resort: :meth:`_run_with_fixed_slack`)
        self.fixed_slack = False
        self.restart()

    def restart(self) -> None:
        """Hand the model as it stands (data, variable states) to a new HiGHS, with nothing
        held (:meth:`fix`), no previous solution and no basis: the next solve starts as one on
        a model built and compiled just now (a model taken from :mod:`dispatch.cache`)."""
        self.highs_seconds = 0.0
        self.solution: np.ndarray | None = None  # column values of the last solve
        self._columns = _ColumnStates(self.compiled.columns)
        self._held = np.zeros(self.compiled.n_columns, dtype=bool)  # fixed through fix()
        self._held_at = np.zeros(self.compiled.n_columns)
        self._loosened: np.ndarray | None = None  # fixed columns given slack by the last solve
        self.highs = highspy.Highs()
        self.highs.setOptionValue("output_flag", False)
        self._pass_model()

    # -- loading and updating ---------------------------------------------------------------

    def _pass_model(self) -> None:
        c, h = self.compiled, self.highs
        p = self.compiled.symbols.values()
        lower, upper, integer = self._columns.read_all()
        n = c.n_columns
        h.addVars(n, lower, upper)
        self._bounds = np.vstack([lower, upper])  # the columns' bounds as HiGHS has them
        h.changeColsIntegrality(n, np.arange(n), integer.astype(np.uint8))  # 1: kInteger
        self._integer = integer
        self._cost = c.cost.values(p)
        h.changeColsCost(n, np.arange(n), self._cost)
        self._offset = float(c.offset.values(p)[0])
        h.changeObjectiveOffset(self._offset)
        h.changeObjectiveSense(
            highspy.ObjSense.kMaximize if c.maximize else highspy.ObjSense.kMinimize
        )
        self._lower, self._upper = c.row_lower.values(p), c.row_upper.values(p)
        values = c.matrix.coefficients.values(p)
        starts = np.searchsorted(c.matrix.row, np.arange(len(c.rows)))
        h.addRows(
            len(c.rows),
            self._lower,
            self._upper,
            len(values),
            starts,
            c.matrix.col,
            values,
        )
        self._varying = c.matrix.coefficients.varying
        self._coefficients = values[self._varying]
        self._varying_cost = c.cost.varying
        self._varying_rows = np.union1d(c.row_lower.varying, c.row_upper.varying)

    def push(self) -> None:
        """Send what changed since the last solve: data-dependent costs, row bounds and
        coefficients, and column bounds and integrality."""
        c, h = self.compiled, self.highs
        p = self.compiled.symbols.values()
        cost = c.cost.values(p)
        changed = self._varying_cost[cost[self._varying_cost] != self._cost[self._varying_cost]]
        if len(changed):
            h.changeColsCost(len(changed), changed, cost[changed])
            self._cost = cost
        offset = float(c.offset.values(p)[0])
        if offset != self._offset:
            h.changeObjectiveOffset(offset)
            self._offset = offset
        lower, upper = c.row_lower.values(p), c.row_upper.values(p)
        rows = self._varying_rows
        rows = rows[(lower[rows] != self._lower[rows]) | (upper[rows] != self._upper[rows])]
        if len(rows):
            h.changeRowsBounds(len(rows), rows, lower[rows], upper[rows])  # type: ignore[attr-defined]
            self._lower, self._upper = lower, upper
        if len(self._varying):
            values = c.matrix.coefficients.values(p)[self._varying]
            for k in np.flatnonzero(values != self._coefficients):
                entry = self._varying[k]
                h.changeCoeff(int(c.matrix.row[entry]), int(c.matrix.col[entry]), values[k])
            self._coefficients = values
        self._push_columns(self._columns.changed())

    def _push_columns(self, changed: Sequence[int] | np.ndarray) -> None:
        if not len(changed):
            return
        index = np.asarray(changed, dtype=np.int64)
        lower, upper, integer = self._columns.read(index)
        held = self._held[index]
        lower = np.where(held, self._held_at[index], lower)
        upper = np.where(held, self._held_at[index], upper)
        self.highs.changeColsBounds(len(index), index, lower, upper)
        self._bounds[:, index] = lower, upper
        integer = integer & ~held
        self.highs.changeColsIntegrality(len(index), index, integer.astype(np.uint8))
        self._integer[index] = integer

    # -- fixing the past ----------------------------------------------------------------------

    def columns_before(self, k: int) -> np.ndarray:
        """Columns indexed by an interval before ``k`` (horizon-level and hourly columns, such as
        a month's peak or an hourly offer, are not included: add them if they are decided)."""
        interval = self.compiled.interval
        return np.flatnonzero((interval >= 0) & (interval < k))

    def fix(self, columns: np.ndarray, values: np.ndarray) -> None:
        """Hold ``columns`` at ``values`` (continuous, lb = ub = value) from the next solve on,
        whatever the hooks set on their variables, until :meth:`unfix`."""
        columns = np.asarray(columns, dtype=np.int64)
        self._held[columns] = True
        self._held_at[columns] = values
        self._push_columns(columns)

    def unfix(self, columns: np.ndarray | None = None) -> None:
        """Give ``columns`` (default: all held) their variables' own bounds and domain again."""
        columns = np.flatnonzero(self._held) if columns is None else np.asarray(columns)
        self._held[columns] = False
        self._push_columns(columns)

    # -- solving ------------------------------------------------------------------------------

    def solve_once(self, options: SolveOptions, inputs: Inputs) -> SolveReport:
        """One HiGHS solve of the model as it stands; the solution goes into the variables."""
        self._tighten()
        self.push()
        h = self.highs
        if self.warm_start and self.solution is not None:
            start = highspy.HighsSolution()
            start.col_value = self.solution
            start.value_valid = True
            h.setSolution(start)
        mip = not options.relax_integrality and bool(self._integer.any())
        if not (mip and self.relaxation_first and self._relaxation_is_integral(options)):
            _set_options(h, options, lp=not mip)
            h.run()
        if self.fixed_slack and h.getModelStatus() in _INFEASIBLE:
            self._run_with_fixed_slack(options, lp=not mip)
        total = h.getRunTime()
        self.highs_seconds, seconds = total, total - self.highs_seconds
        status, info = h.getModelStatus(), h.getInfo()
        if info.primal_solution_status != 2:  # 2: feasible
            kind = "infeasible" if status in _INFEASIBLE else h.modelStatusToString(status)
            if status == highspy.HighsModelStatus.kTimeLimit:
                kind = "time_limit"
            raise SolveError(no_schedule(self.built.ctx.site.name, kind, inputs.index))
        # within the bounds: a simplex solution may pass a bound by its feasibility tolerance
        x = np.clip(np.asarray(h.getSolution().col_value), self._bounds[0], self._bounds[1])
        self.solution = x
        columns = self.compiled.columns
        for j in np.flatnonzero(column_values(self.compiled) != x).tolist():
            columns[j].set_value(x[j], skip_validation=True)  # only the values that moved
        objective = float(info.objective_function_value)
        if self._loosened is not None:  # the objective of the fixed values as reported
            objective = float(self._cost @ x + self._offset)
        optimal = status == highspy.HighsModelStatus.kOptimal
        if info.mip_node_count == -1:  # solved as an LP
            bound = objective if optimal else None
        else:
            bound = float(info.mip_dual_bound)
        gap = 0.0 if bound is None else abs(bound - objective) / max(abs(objective), 1e-9)
        return SolveReport(
            status=_STATUS.get(status, h.modelStatusToString(status)),
            objective_usd=objective,
            bound_usd=bound,
            mip_gap=gap,
            solver_seconds=seconds,
            solve_seconds=0.0,
            build_seconds=0.0,
            rebuilt=True,
            rounds=1,
        )

    def _run_with_fixed_slack(self, options: SolveOptions, *, lp: bool) -> None:
        """Run again with every fixed column free by ``FIXED_SLACK_MW`` either side (their
        bounds come back before the next solve): the solution is clipped to the bounds as they
        were, so a fixed column reports exactly its fixed value.

        A past fixed at a solve's values meets its rows only within HiGHS's feasibility
        tolerance (1e-7), and the values read are clipped to their bounds: a row whose columns
        are all fixed can end up just past the tolerance. On 2023-08-02 (the stochastic case
        of the operator back-test, λ = 0.5) a balance row 1.07e-7 MW off made HiGHS call the
        real-time loop's next hour infeasible. A model that is really infeasible stays so.
        """
        lower, upper = self._bounds
        fixed = np.flatnonzero(lower == upper)
        if not len(fixed):
            return
        slack = FIXED_SLACK_MW * np.maximum(1.0, np.abs(lower[fixed]))
        self.highs.changeColsBounds(len(fixed), fixed, lower[fixed] - slack, upper[fixed] + slack)
        self._loosened = fixed
        # without presolve: it can still call the loosened model infeasible (2023-08-02)
        _set_options(self.highs, replace(options, presolve="off"), lp=lp)
        self.highs.run()

    def _tighten(self) -> None:
        """Give the columns :meth:`_run_with_fixed_slack` loosened their bounds back."""
        if self._loosened is not None:
            index, self._loosened = self._loosened, None
            lower, upper = self._bounds[0, index], self._bounds[1, index]
            self.highs.changeColsBounds(len(index), index, lower, upper)

    def forget_basis(self) -> None:
        """Forget the last solve's basis: the next LP starts from scratch, so which of equal
        optima it returns depends on nothing solved before (a loop that must not see the
        future calls this where an earlier solve used data not known yet)."""
        self.highs.clearSolver()

    def _relaxation_is_integral(self, options: SolveOptions) -> bool:
        """Solve the LP relaxation (HiGHS keeps the basis of the last one: a re-solve after
        small changes takes few iterations and no presolve); True if it is optimal with every
        integer column integral within HiGHS's MIP feasibility tolerance, which makes it an
        optimum of the MIP too (its bound is the relaxation's). Else the MIP is solved."""
        h = self.highs
        _set_options(h, replace(options, relax_integrality=True), lp=True)
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return False
        x = np.asarray(h.getSolution().col_value)[self._integer]
        _, tolerance = h.getOptionValue("mip_feasibility_tolerance")
        return bool(np.all(np.abs(x - np.round(x)) <= tolerance))

    def evaluate(self) -> tuple[Layout, np.ndarray]:
        """The reported expressions (:class:`~dispatch.model.extract.Layout`) at the variables'
        current values (after the hooks settled them) and the current data."""
        return self.layout, reported_values(self.compiled)


class Reporter:
    """A model that is evaluated, never solved (e.g. a kept window holding a look-ahead
    solution): its reported expressions compiled to arrays, or read by Pyomo if not
    ``compiled``."""

    def __init__(self, built: BuiltModel, *, compiled: bool = True) -> None:
        self.built = built
        self.layout = report_layout(built)
        self._compiled = (
            compile_model(built.model, self.layout.expressions, rows=False) if compiled else None
        )

    def evaluate(self) -> tuple[Layout, np.ndarray]:
        if self._compiled is None:
            return self.layout, pyomo_values(self.layout)
        return self.layout, reported_values(self._compiled)


def column_values(compiled: CompiledModel) -> np.ndarray:
    """The current value of every column's variable."""
    # a VarData keeps its value in ``_value`` (the public property costs ~30 times more)
    return np.array([v._value for v in compiled.columns], dtype=float)


def reported_values(compiled: CompiledModel) -> np.ndarray:
    """``compiled``'s outputs at its variables' current values and the current data."""
    return compiled.outputs.evaluate(compiled.symbols.values(), column_values(compiled))


def _set_options(h: highspy.Highs, options: SolveOptions, *, lp: bool) -> None:
    """Pass ``options`` to ``h``. HiGHS compares an LP's time limit with the run time the
    instance accumulated over all its solves (ERGO-Code/HiGHS#1477; its MIP solver times each
    solve itself), so an LP's limit is the run time so far plus the limit."""
    settings: dict[str, Any] = {
        **options.highs_settings,
        "presolve": options.presolve,
        "time_limit": options.time_limit_s + (h.getRunTime() if lp else 0.0),
        "mip_rel_gap": options.mip_rel_gap,
        "threads": options.threads,
        "solve_relaxation": options.relax_integrality,
    }
    for name, value in settings.items():
        h.setOptionValue(name, value)


class _ColumnStates:
    """Each column's variable state (bounds, domain, fixed value) as HiGHS needs it, and which
    variables changed since last read.

    Change detection compares the variables' own slots by identity, as Pyomo's persistent
    interfaces do (reading the public ``lb``/``ub`` of every variable costs ~20 times more); a
    bound that is an expression of Params is re-read every time.
    """

    def __init__(self, columns: Sequence[Any]) -> None:
        self.columns = columns
        self._lb = [v._lb for v in columns]
        self._ub = [v._ub for v in columns]
        self._domain = [v._domain for v in columns]
        self._fixed = [v._fixed for v in columns]
        self._value = [v._value for v in columns]
        self._dynamic = [
            i for i, v in enumerate(columns) if not (_is_plain(v._lb) and _is_plain(v._ub))
        ]
        self._domains: dict[int, tuple[Any, float, float, bool]] = {}

    def changed(self) -> list[int]:
        lb, ub, domain, fixed, value = self._lb, self._ub, self._domain, self._fixed, self._value
        out = [
            i
            for i, v in enumerate(self.columns)
            if v._lb is not lb[i]
            or v._ub is not ub[i]
            or v._domain is not domain[i]
            or v._fixed is not fixed[i]
            or (fixed[i] and v._value != value[i])
        ]
        for i in out:
            v = self.columns[i]
            lb[i], ub[i], domain[i], fixed[i], value[i] = (
                v._lb,
                v._ub,
                v._domain,
                v._fixed,
                v._value,
            )
        if self._dynamic:
            out = sorted(set(out) | set(self._dynamic))
        return out

    def read_all(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.read(np.arange(len(self.columns)))

    def read(self, index: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(lower, upper, integer) of the columns ``index``, as Pyomo's ``Var.bounds`` and
        domain give them. A fixed variable is held at its value; an integer held at a whole
        number stays an integer column, as Pyomo's HiGHS interface passes it, so a model whose
        integers are all fixed (the operator's settlement) stays a MIP, its rows held to
        HiGHS's MIP feasibility tolerance (1e-6) as on Pyomo's path, not to the LP's 1e-7,
        which a solution fixed from an earlier solve may miss by its own tolerance. An integer
        held at a fraction (a relaxed value) is a continuous column: no integer meets it."""
        n = len(index)
        lower, upper, integer = np.empty(n), np.empty(n), np.zeros(n, dtype=bool)
        columns, domain_of = self.columns, self._domain_of
        for k, i in enumerate(index.tolist()):
            v = columns[i]
            domain_lower, domain_upper, integer[k] = domain_of(v._domain)
            if v._fixed:
                lower[k] = upper[k] = v._value
                integer[k] = integer[k] and float(v._value).is_integer()
                continue
            lb, ub = v._lb, v._ub
            if lb is None:
                lower[k] = domain_lower
            elif type(lb) is float or type(lb) is int:
                lower[k] = lb if lb > domain_lower else domain_lower
            else:
                lower[k] = max(float(pyo.value(lb)), domain_lower)
            if ub is None:
                upper[k] = domain_upper
            elif type(ub) is float or type(ub) is int:
                upper[k] = ub if ub < domain_upper else domain_upper
            else:
                upper[k] = min(float(pyo.value(ub)), domain_upper)
        return lower, upper, integer

    def _domain_of(self, domain: Any) -> tuple[float, float, bool]:
        """(lower, upper, integer) of a domain set (±inf where open), read once per set."""
        known = self._domains.get(id(domain))
        if known is None or known[0] is not domain:
            low, high = domain.bounds()
            interval = domain.get_interval()
            step = interval[2] if interval is not None else 0
            known = self._domains[id(domain)] = (
                domain,
                -INF if low is None else float(low),
                INF if high is None else float(high),
                step == 1,
            )
        return known[1], known[2], known[3]


def _is_plain(bound: Any) -> bool:
    return bound is None or isinstance(bound, int | float)
