"""A built Pyomo model as arrays, with its mutable Params kept symbolic.

The builders stay the only description of the model. :func:`compile_model` walks what Pyomo
built once (every active constraint, the active objective and the expressions to report) and
keeps each matrix coefficient, row bound, column cost and reported coefficient as
``base + Σ coef × Π symbols`` (:class:`Coefficients`), so new data moves numbers in numpy, not
through the modelling layer. Nothing is listed by hand: a Param a new builder adds is mapped
wherever it appears, and an expression the compiler cannot read raises
:class:`~dispatch.model.forms.CompileError` (never a silent gap).

Columns are every variable of the model in Pyomo's order. Fixed variables stay columns (held by
their bounds), so fixing and unfixing never changes the structure; variable bounds, domains and
fixing are read from the variables at each solve (:mod:`dispatch.fast`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyomo.environ as pyo
from pyomo.common.gc_manager import PauseGC
from pyomo.core.base.var import VarData
from pyomo.core.expr import relational_expr as rel

from dispatch.model.forms import CONSTANT, CompileError, Form, FormReader, Monomial, Symbols

Term = tuple[int, Monomial, float]  # (entry, monomial, coefficient)
# the component types a compiled model reads; any other active one is refused (Suffix: data
# for or from a solver, not part of the model)
_READ = {
    pyo.Block,
    pyo.Var,
    pyo.Param,
    pyo.Set,
    pyo.RangeSet,
    pyo.Expression,
    pyo.Constraint,
    pyo.Objective,
    pyo.Suffix,
}


@dataclass(frozen=True)
class Coefficients:
    """Numbers that depend on the symbols ``p``: entry i is ``base[i]`` plus, for each monomial
    term whose entry is i, ``coef × Π p[symbols]``. ``terms`` holds one (entry, symbols, coef)
    triple of arrays per degree (``symbols`` has one column per factor)."""

    base: np.ndarray
    terms: tuple[tuple[np.ndarray, np.ndarray, np.ndarray], ...]

    @classmethod
    def of(cls, base: Sequence[float] | np.ndarray, terms: Sequence[Term]) -> Coefficients:
        by_degree: dict[int, list[Term]] = {}
        for term in terms:
            by_degree.setdefault(len(term[1]), []).append(term)
        return cls(
            np.asarray(base, dtype=float),
            tuple(
                (
                    np.array([t[0] for t in listed], dtype=np.int64),
                    np.array([t[1] for t in listed], dtype=np.int64).reshape(-1, degree),
                    np.array([t[2] for t in listed], dtype=float),
                )
                for degree, listed in sorted(by_degree.items())
            ),
        )

    @property
    def varying(self) -> np.ndarray:
        """Positions of the entries that depend on some symbol (sorted, unique)."""
        return np.unique(np.concatenate([t[0] for t in self.terms] or [np.zeros(0, np.int64)]))

    def values(self, p: np.ndarray) -> np.ndarray:
        out = self.base.copy()
        for entry, symbols, coef in self.terms:
            out += np.bincount(entry, coef * p[symbols].prod(axis=1), minlength=len(out))
        return out


@dataclass(frozen=True)
class Table:
    """Sparse linear forms: entry i puts ``coefficients[i]`` at (``row[i]``, ``col[i]``); the
    column ``n_columns`` (one past the last) stands for the constant 1."""

    n_rows: int
    row: np.ndarray
    col: np.ndarray
    coefficients: Coefficients

    def evaluate(self, p: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Each form's value at symbols ``p`` and column values ``x``."""
        terms = self.coefficients.values(p) * np.append(x, 1.0)[self.col]
        return np.bincount(self.row, terms, minlength=self.n_rows)


@dataclass(frozen=True)
class CompiledModel:
    """A model as arrays. ``matrix`` holds the rows' coefficients, ``row_lower``/``row_upper``
    their bounds (±inf where open), ``cost`` the objective coefficient of each column and
    ``offset`` its constant (one entry), ``maximize`` its sense; ``outputs`` the expressions
    given to :func:`compile_model`, in their order. ``interval[j]`` is the interval position
    column j is indexed by (-1 where none)."""

    columns: tuple[VarData, ...]
    rows: tuple[Any, ...]
    symbols: Symbols
    matrix: Table
    row_lower: Coefficients
    row_upper: Coefficients
    cost: Coefficients
    offset: Coefficients
    maximize: bool
    outputs: Table
    interval: np.ndarray

    @property
    def n_columns(self) -> int:
        return len(self.columns)


def compile_model(
    model: pyo.Block,
    outputs: Sequence[Any] = (),
    *,
    rows: bool = True,
    intervals: pyo.Set | None = None,
) -> CompiledModel:
    """Compile ``model``'s active constraints and its active objective (``rows`` False: skip
    them, for a model that is only evaluated) and the ``outputs`` expressions.

    ``intervals`` is the model's set of interval positions: a column indexed by it (alone or as
    a factor of a product set) records its interval (:attr:`CompiledModel.interval`).
    """
    with PauseGC():  # many small objects, none of them garbage: a collection only costs time
        for component in model.component_objects(active=True, descend_into=True):
            if component.ctype not in _READ:
                raise CompileError(
                    f"{component.name}: a {component.ctype.__name__} is not read by the "
                    "compiled model (it maps variables, constraints, one objective, Params and "
                    "Expressions)"
                )
        columns = list(model.component_data_objects(pyo.Var, descend_into=True))
        reader = FormReader(columns, Symbols())
        n = len(columns)
        constraints: list[Any] = []
        bodies: list[Form] = []
        lowers: list[dict[Monomial, float] | None] = []
        uppers: list[dict[Monomial, float] | None] = []
        cost, offset, maximize = Coefficients.of(np.zeros(n), ()), Coefficients.of([0.0], ()), False
        if rows:
            for con in model.component_data_objects(pyo.Constraint, active=True, descend_into=True):
                lower, body, upper = _row(reader, con)
                constraints.append(con)
                bodies.append(body)
                lowers.append(lower)
                uppers.append(upper)
            cost, offset, maximize = _objective(model, reader, n)
        reported = []
        for expression in outputs:
            try:
                reported.append(reader.form(expression))
            except CompileError as error:
                raise CompileError(f"reported expression {expression.name}: {error}") from None
        return CompiledModel(
            columns=tuple(columns),
            rows=tuple(constraints),
            symbols=reader.symbols,
            matrix=_table(bodies, n, constant=False),
            row_lower=_bounds(lowers, -math.inf),
            row_upper=_bounds(uppers, math.inf),
            cost=cost,
            offset=offset,
            maximize=maximize,
            outputs=_table(reported, n, constant=True),
            interval=_intervals(model, columns, intervals),
        )


def _row(
    reader: FormReader, con: Any
) -> tuple[dict[Monomial, float] | None, Form, dict[Monomial, float] | None]:
    """(lower, body, upper) of a constraint, the body's constant moved into the bounds; a side
    that is not potentially variable becomes a bound, as Pyomo's own HiGHS interface has it."""
    expr = con.expr
    low: Form | None
    high: Form | None
    try:
        if type(expr) is rel.RangedExpression:
            low, body, high = (reader.form(a) for a in expr.args)
            if not (low.var_free and high.var_free):
                raise CompileError("a ranged constraint with variable bounds")
        else:
            left, right = expr.args
            equality = type(expr) is rel.EqualityExpression
            if not _potentially_variable(right):
                rhs = reader.form(right)
                low, body, high = (rhs if equality else None), reader.form(left), rhs
            elif not _potentially_variable(left):
                lhs = reader.form(left)
                low, body, high = lhs, reader.form(right), (lhs if equality else None)
            else:
                body = Form({})
                reader.add_to(body, left)
                reader.add_to(body, right, -1.0)
                low, high = (Form({}) if equality else None), Form({})
    except CompileError as error:
        raise CompileError(f"constraint {con.name}: {error}") from None
    return _bound(low, body), body, _bound(high, body)


def _potentially_variable(side: Any) -> bool:
    return type(side) not in (int, float) and side.is_potentially_variable()


def _bound(bound: Form | None, body: Form) -> dict[Monomial, float] | None:
    """A var-free bound less the body's var-free part, as a polynomial {monomial: coef}."""
    if bound is None:
        return None
    poly: dict[Monomial, float] = {(): bound.const - body.const}
    for sign, sym in ((1.0, bound.sym), (-1.0, body.sym)):
        for (col, mono), v in (sym or {}).items():
            if col == CONSTANT:
                poly[mono] = poly.get(mono, 0.0) + sign * v
    return poly


def _objective(
    model: pyo.Block, reader: FormReader, n: int
) -> tuple[Coefficients, Coefficients, bool]:
    objectives = list(model.component_data_objects(pyo.Objective, active=True))
    if len(objectives) != 1:
        raise CompileError(f"expected one active objective, found {len(objectives)}")
    objective = objectives[0]
    try:
        f = reader.form(objective.expr)
    except CompileError as error:
        raise CompileError(f"objective {objective.name}: {error}") from None
    base = np.zeros(n)
    base[list(f.lin)] = list(f.lin.values())
    terms: list[Term] = []
    offset_terms: list[Term] = []
    for (col, mono), v in (f.sym or {}).items():
        if col == CONSTANT:
            offset_terms.append((0, mono, v))
        else:
            terms.append((col, mono, v))
    cost = Coefficients.of(base, terms)
    return cost, Coefficients.of([f.const], offset_terms), objective.sense == pyo.maximize


def _table(forms: Sequence[Form], n_columns: int, *, constant: bool) -> Table:
    """Forms as sparse entries; ``constant``: the var-free part is column ``n_columns`` (else it
    was moved into the row bounds and is left out)."""
    rows: list[int] = []
    cols: list[int] = []
    base: list[float] = []
    terms: list[Term] = []
    for i, f in enumerate(forms):
        first = len(cols)
        rows.extend([i] * len(f.lin))
        cols.extend(f.lin)
        base.extend(f.lin.values())
        if constant and f.const:
            rows.append(i)
            cols.append(n_columns)
            base.append(f.const)
        if not f.sym:
            continue
        entry_of = {col: first + k for k, col in enumerate(cols[first:])}
        for (col, mono), v in f.sym.items():
            if col == CONSTANT:
                if not constant:
                    continue
                col = n_columns
            if col not in entry_of:
                entry_of[col] = len(cols)
                rows.append(i)
                cols.append(col)
                base.append(0.0)
            terms.append((entry_of[col], mono, v))
    values = np.array(base)
    keep = values != 0.0
    keep[[t[0] for t in terms]] = True
    renumber = np.cumsum(keep) - 1
    return Table(
        n_rows=len(forms),
        row=np.array(rows, dtype=np.int64)[keep],
        col=np.array(cols, dtype=np.int64)[keep],
        coefficients=Coefficients.of(
            values[keep], [(int(renumber[e]), mono, v) for e, mono, v in terms]
        ),
    )


def _bounds(polys: Sequence[dict[Monomial, float] | None], open_value: float) -> Coefficients:
    base = [open_value if p is None else p.get((), 0.0) for p in polys]
    terms = [
        (i, mono, v)
        for i, p in enumerate(polys)
        if p and len(p) > 1
        for mono, v in p.items()
        if mono
    ]
    return Coefficients.of(base, terms)


def _intervals(
    model: pyo.Block, columns: Sequence[VarData], intervals: pyo.Set | None
) -> np.ndarray:
    """The interval position each column is indexed by, -1 where it has none."""
    out = np.full(len(columns), -1, dtype=np.int64)
    if intervals is None:
        return out
    position = {id(v): i for i, v in enumerate(columns)}
    for var in model.component_objects(pyo.Var, descend_into=True):
        if not var.is_indexed():
            continue
        factors = list(var.index_set().subsets())
        at = next((k for k, s in enumerate(factors) if s is intervals), None)
        if at is None:
            continue
        for index, data in var.items():
            out[position[id(data)]] = index[at] if len(factors) > 1 else index
    return out
