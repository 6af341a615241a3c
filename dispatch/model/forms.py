"""Linear forms of Pyomo expressions with the mutable Params kept symbolic.

:class:`FormReader` reads an expression that is linear in the variables into a :class:`Form`:
``Σ_col lin[col]·x[col] + const + Σ coef·Π symbols·(x[col] or 1)``. Symbols are the mutable
Params met (and var-free sub-expressions that are no polynomial of them, e.g. ``1 / p``, which
Pyomo evaluates). Coefficients that depend on no symbol stay plain floats, the common case kept
fast. An expression that is not linear in the variables raises :class:`CompileError`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pyomo.environ as pyo
from pyomo.core.base.param import ParamData
from pyomo.core.base.var import VarData
from pyomo.core.expr import numeric_expr as ne

CONSTANT = -1  # the "column" of the symbolic terms that multiply no variable
Monomial = tuple[int, ...]  # sorted symbol positions
SymbolTerms = dict[tuple[int, Monomial], float]  # (column or CONSTANT, monomial) -> coefficient


class CompileError(ValueError):
    """The model holds an expression the compiled path cannot map (not linear in its variables,
    or a structure it does not read)."""


class Form:
    """``Σ lin[col]·x[col] + const + Σ sym[(col, m)]·Π_{s in m} p[s]·(x[col] or 1 if CONSTANT)``.

    Forms of named expressions are shared (cached), so operations never change their inputs.
    """

    __slots__ = ("const", "lin", "sym")

    def __init__(
        self, lin: dict[int, float], const: float = 0.0, sym: SymbolTerms | None = None
    ) -> None:
        self.lin = lin
        self.const = const
        self.sym = sym

    @property
    def var_free(self) -> bool:
        return not self.lin and (not self.sym or all(col == CONSTANT for col, _ in self.sym))

    @property
    def number(self) -> float | None:
        """The constant this form is, if it is one (no variable, no symbol)."""
        return self.const if not self.lin and not self.sym else None

    def add(self, other: Form, sign: float = 1.0) -> None:
        """In place: self += sign × other (self must be a form of one's own, never shared)."""
        lin = self.lin
        for col, v in other.lin.items():
            lin[col] = lin.get(col, 0.0) + sign * v
        self.const += sign * other.const
        if other.sym:
            sym = self.sym if self.sym is not None else {}
            for key, v in other.sym.items():
                sym[key] = sym.get(key, 0.0) + sign * v
            self.sym = sym

    def copy(self) -> Form:
        """A form of one's own (that may be changed in place)."""
        return Form(dict(self.lin), self.const, dict(self.sym) if self.sym else None)

    def scaled(self, k: float) -> Form:
        if k == 1.0:
            return self
        sym = {key: v * k for key, v in self.sym.items()} if self.sym else None
        return Form({col: v * k for col, v in self.lin.items()}, self.const * k, sym)

    def times(self, g: Form) -> Form:
        """self × g, where g is var-free."""
        if not g.sym:
            return self.scaled(g.const)
        out = self.scaled(g.const) if g.const else Form({})
        sym: SymbolTerms = dict(out.sym) if out.sym else {}
        terms: list[tuple[tuple[int, Monomial], float]] = [
            ((col, ()), v) for col, v in self.lin.items()
        ]
        if self.const:
            terms.append(((CONSTANT, ()), self.const))
        terms += list((self.sym or {}).items())
        for (_, mono_g), w in g.sym.items():
            for (col, mono), v in terms:
                key = (col, tuple(sorted(mono + mono_g)))
                sym[key] = sym.get(key, 0.0) + v * w
        return Form(dict(out.lin), out.const, sym)


class Symbols:
    """The Params (and opaque var-free expressions) compiled forms read, in a fixed order."""

    def __init__(self) -> None:
        self._position: dict[int, int] = {}
        self.sources: list[Any] = []  # ParamData or a var-free expression
        self._params: list[ParamData] = []
        self._param_positions: list[int] = []
        self._opaque: list[tuple[int, Any]] = []

    def of(self, source: Any) -> int:
        key = id(source)
        position = self._position.get(key)
        if position is None:
            position = self._position[key] = len(self.sources)
            self.sources.append(source)
            if isinstance(source, ParamData):
                self._params.append(source)
                self._param_positions.append(position)
            else:
                self._opaque.append((position, source))
        return position

    def __len__(self) -> int:
        return len(self.sources)

    def values(self) -> np.ndarray:
        """Every symbol's current value, in order."""
        out = np.empty(len(self.sources))
        # a ParamData keeps its value in ``_value``: the public property costs ~60 times more,
        # a millisecond per solve over a day's Params
        out[self._param_positions] = [p._value for p in self._params]
        for position, expression in self._opaque:
            out[position] = pyo.value(expression)
        return out


class FormReader:
    """Forms of expressions over a fixed column order (``columns``), Params kept symbolic."""

    def __init__(self, columns: Sequence[VarData], symbols: Symbols) -> None:
        self.column = {id(v): i for i, v in enumerate(columns)}
        self.symbols = symbols
        self._named: dict[int, Form] = {}

    def form(self, e: Any) -> Form:
        """The form of ``e`` (shared when ``e`` is a named expression: do not change it)."""
        handler = _HANDLERS.get(type(e)) or _handler_for(e)
        return handler(self, e)

    def poly(self, e: Any) -> dict[Monomial, float]:
        """A var-free expression as a polynomial of the symbols {monomial: coefficient}
        (() is the constant); the common nodes read directly, the rest through :meth:`form`."""
        kind = type(e)
        if kind in _NATIVE:
            return {(): float(e)}
        if kind is ParamData and e.parent_component().mutable:
            return {(self.symbols.of(e),): 1.0}
        if kind is ne.NPV_ProductExpression:
            a, b = (self.poly(arg) for arg in e.args)
            out: dict[Monomial, float] = {}
            for mono_a, v in a.items():
                for mono_b, w in b.items():
                    mono = tuple(sorted(mono_a + mono_b)) if mono_a and mono_b else mono_a or mono_b
                    out[mono] = out.get(mono, 0.0) + v * w
            return out
        if kind is ne.NPV_SumExpression:
            out = {}
            for arg in e.args:
                for mono, v in self.poly(arg).items():
                    out[mono] = out.get(mono, 0.0) + v
            return out
        f = _var_free(self, e, e)
        out = {(): f.const} if f.const else {}
        for (_, mono), v in (f.sym or {}).items():
            out[mono] = out.get(mono, 0.0) + v
        return out

    def add_to(self, out: Form, e: Any, sign: float = 1.0) -> None:
        """out += sign × e; the common terms go straight in, without a form of their own."""
        kind = type(e)
        if kind is VarData:
            col = self.column[id(e)]
            out.lin[col] = out.lin.get(col, 0.0) + sign
        elif kind is ne.MonomialTermExpression:
            coef, var = e.args
            col = self.column[id(var)]
            if type(coef) in _NATIVE:
                out.lin[col] = out.lin.get(col, 0.0) + sign * coef
                return
            sym = out.sym if out.sym is not None else {}
            for mono, v in self.poly(coef).items():
                if mono:
                    sym[col, mono] = sym.get((col, mono), 0.0) + sign * v
                else:
                    out.lin[col] = out.lin.get(col, 0.0) + sign * v
            out.sym = sym
        elif kind in _NATIVE:
            out.const += sign * e
        elif kind in _SUMS:
            for arg in e.args:
                self.add_to(out, arg, sign)
        elif kind is ne.NegationExpression:
            self.add_to(out, e.args[0], -sign)
        else:
            out.add(self.form(e), sign)


def _number(r: FormReader, e: Any) -> Form:
    return Form({}, float(e))


def _number_like(r: FormReader, e: Any) -> Form:
    """A constant Pyomo object (NumericConstant, an immutable Param)."""
    return Form({}, float(pyo.value(e)))


def _var(r: FormReader, e: VarData) -> Form:
    return Form({r.column[id(e)]: 1.0})


def _param(r: FormReader, e: ParamData) -> Form:
    if not e.parent_component().mutable:
        return Form({}, float(pyo.value(e)))
    return Form({}, 0.0, {(CONSTANT, (r.symbols.of(e),)): 1.0})


def _opaque(r: FormReader, e: Any) -> Form:
    """A var-free expression that is no polynomial of the Params: a symbol of its own."""
    return Form({}, 0.0, {(CONSTANT, (r.symbols.of(e),)): 1.0})


def _named(r: FormReader, e: Any) -> Form:
    key = id(e)
    f = r._named.get(key)
    if f is None:
        f = r._named[key] = r.form(e.expr) if e.expr is not None else Form({})
    return f


def _sum(r: FormReader, e: Any) -> Form:
    out = Form({})
    for arg in e.args:
        r.add_to(out, arg)
    return out


def _monomial(r: FormReader, e: Any) -> Form:
    coef, var = e.args
    if type(coef) in _NATIVE:
        return Form({r.column[id(var)]: float(coef)})
    return r.form(var).times(_var_free(r, coef, e))


def _var_free(r: FormReader, arg: Any, e: Any) -> Form:
    f = r.form(arg)
    if not f.var_free:
        raise CompileError(f"not linear in the variables: {e}")
    return f


def _product(r: FormReader, e: Any) -> Form:
    left, right = e.args
    if type(left) in _NATIVE:
        return r.form(right).scaled(left)
    a, b = r.form(left), r.form(right)
    if b.var_free:
        return a.times(b)
    if a.var_free:
        return b.times(a)
    raise CompileError(f"a product of two variables: {e}")


def _negation(r: FormReader, e: Any) -> Form:
    return r.form(e.args[0]).scaled(-1.0)


def _division(r: FormReader, e: Any) -> Form:
    numerator, denominator = e.args
    d = _var_free(r, denominator, e)
    if d.number is not None:
        return r.form(numerator).scaled(1.0 / d.number)
    return r.form(numerator).times(_opaque(r, 1.0 / denominator))


def _power(r: FormReader, e: Any) -> Form:
    base, exponent = e.args
    f, k = r.form(base), _var_free(r, exponent, e).number
    if k == 1.0:
        return f
    if k == 0.0:
        return Form({}, 1.0)
    if not f.var_free:
        raise CompileError(f"a power of a variable: {e}")
    return _opaque(r, e)


def _other(r: FormReader, e: Any) -> Form:
    if not e.is_potentially_variable():
        return _opaque(r, e)
    raise CompileError(f"an expression of type {type(e).__name__}, not linear: {e}")


_NATIVE = (int, float)
_SUMS = (ne.SumExpression, ne.LinearExpression)
_HANDLERS: dict[type, Callable[[FormReader, Any], Form]] = {
    int: _number,
    float: _number,
    VarData: _var,
    ne.SumExpression: _sum,
    ne.LinearExpression: _sum,
    ne.NPV_SumExpression: _sum,
    ne.MonomialTermExpression: _monomial,
    ne.ProductExpression: _product,
    ne.NPV_ProductExpression: _product,
    ne.NegationExpression: _negation,
    ne.NPV_NegationExpression: _negation,
    ne.DivisionExpression: _division,
    ne.NPV_DivisionExpression: _division,
    ne.PowExpression: _power,
    ne.NPV_PowExpression: _power,
}


def _handler_for(e: Any) -> Callable[[FormReader, Any], Form]:
    """Find (and remember) the handler of a node type met for the first time."""
    kind = type(e)
    handler: Callable[[FormReader, Any], Form]
    if isinstance(e, bool | int | float | np.number):
        handler = _number
    elif isinstance(e, VarData):
        handler = _var
    elif isinstance(e, ParamData):
        handler = _param
    elif e.is_named_expression_type():
        handler = _named
    elif not e.is_expression_type():
        handler = _number_like
    else:
        handler = next((_HANDLERS[b] for b in kind.__mro__ if b in _HANDLERS), _other)
    _HANDLERS[kind] = handler
    return handler
