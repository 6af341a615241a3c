"""Read a solved model off its blocks into a :class:`DispatchResult`.

What a result reads is one flat list of the model's own expressions (:class:`Layout`): every
schedule series interval by interval, the site load, and each stream's USD and basis. Their
values come either from Pyomo (:func:`pyomo_values`, the reference) or from the compiled model
(:mod:`dispatch.fast`), which evaluates the very same expressions as arrays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from dispatch import columns as names
from dispatch.inputs import Inputs
from dispatch.model.build import BuiltModel
from dispatch.results import DispatchResult, SolveReport, compute_kpis
from dispatch.streams import Stream


def _values(component: pyo.Component, n: int) -> np.ndarray:
    values = np.array([pyo.value(component[t]) for t in range(n)], dtype=float)
    if isinstance(component, pyo.Var) and component[0].is_integer():
        values = values.round()
    return values + 0.0  # + 0.0 turns a solver's -0.0 into 0.0


@dataclass(frozen=True)
class Layout:
    """The expressions a result reads, in order: ``schedule`` columns (name, component) take
    ``n`` values each, then the ``load`` components (n each, summed into ``site_load_mw``), then
    each stream's USD and basis [MWh]. The column labels are made once (pandas Indexes and
    string arrays cost more to infer than the tables do to fill)."""

    n: int
    schedule: tuple[tuple[str, Any], ...]
    load: tuple[Any, ...]
    streams: tuple[Stream, ...]
    expressions: tuple[Any, ...]
    solved_columns: pd.Index  # the schedule's columns after the inputs' own
    streams_template: pd.DataFrame  # the streams table with its text filled in


def report_layout(built: BuiltModel) -> Layout:
    """The :class:`Layout` of ``built``."""
    n, m = built.ctx.n_intervals, built.model
    schedule = tuple(
        (name, component) for _, terms in built.blocks for name, component in terms.schedule.items()
    ) + tuple(built.schedule.items())
    load = tuple(terms.load_mw for _, terms in built.blocks if terms.load_mw is not None)
    expressions: list[Any] = []
    for component in [c for _, c in schedule] + list(load):
        expressions += [component[t] for t in range(n)]
    for stream in built.streams:
        expressions += [m.stream_usd[stream.value], m.stream_basis_mwh[stream.value]]
    return Layout(
        n,
        schedule,
        load,
        built.streams,
        tuple(expressions),
        solved_columns=pd.Index([name for name, _ in schedule] + ["site_load_mw"], dtype="str"),
        streams_template=pd.DataFrame(
            {
                "stream": pd.array([s.value for s in built.streams], dtype="str"),
                "usd": 0.0,
                "basis_mwh": 0.0,
                "usd_per_mwh": 0.0,
                "kind": pd.array([s.kind.value for s in built.streams], dtype="str"),
            }
        ),
    )


def pyomo_values(layout: Layout) -> np.ndarray:
    """The layout's expressions evaluated by Pyomo at the model's current variable values."""
    return np.array([pyo.value(e) for e in layout.expressions], dtype=float)


def extract_result(
    built: BuiltModel,
    inputs: Inputs,
    report: SolveReport,
    values: tuple[Layout, np.ndarray] | None = None,
) -> DispatchResult:
    """Read the solution into a :class:`DispatchResult`; ``values`` are the layout's values if
    already evaluated (else Pyomo evaluates them)."""
    if values is None:
        layout = report_layout(built)
        values = layout, pyomo_values(layout)
    layout, y = values
    ctx, n = built.ctx, layout.n
    series = dict(zip(inputs.frame.columns, inputs.frame.to_numpy(dtype=float).T, strict=True))
    at = 0
    for name, component in layout.schedule:
        series[name] = _series(component, y[at : at + n])
        at += n
    load = np.zeros(n)
    for component in layout.load:
        load = load + _series(component, y[at : at + n])
        at += n
    series["site_load_mw"] = load
    columns = inputs.frame.columns.append(layout.solved_columns)
    if columns.has_duplicates:  # a solved series named like an input replaces it
        columns = pd.Index(list(series), dtype="str")
    schedule = pd.DataFrame(
        np.column_stack(list(series.values())), index=inputs.index, columns=columns, copy=False
    )
    streams = streams_table(layout, y[at:])
    usd = dict(zip([s.value for s in layout.streams], y[at::2].tolist(), strict=True))
    kpis = compute_kpis(ctx.site, series, usd, ctx.interval_hours, report)
    return DispatchResult(ctx.site.name, schedule, streams, kpis, dict(inputs.sources))


def _series(component: Any, values: np.ndarray) -> np.ndarray:
    """An integer variable's values rounded (+ 0.0 turns a solver's -0.0 into 0.0)."""
    if isinstance(component, pyo.Var) and component[0].is_integer():
        return values.round() + 0.0
    return values


def streams_table(layout: Layout, values: np.ndarray) -> pd.DataFrame:
    """The streams table from each stream's (USD, basis MWh) pair of ``values``."""
    usd = values[0::2] + 0.0  # no -0.0 for a zero stream
    basis = values[1::2]
    with np.errstate(divide="ignore", invalid="ignore"):
        per_mwh = np.where(np.abs(basis) > 1e-9, usd / basis, math.nan)
    table = layout.streams_template.copy()
    table.iloc[:, 1:4] = np.column_stack([usd, basis, per_mwh])  # usd, basis_mwh, usd_per_mwh
    return table


def coupling_columns(built: BuiltModel) -> dict[str, np.ndarray]:
    """What the couplings hold per interval of the solved ``built``, for reports: the H2
    ride-through energy the site requires [MWh]; with ancillary offers, each block's upward
    flexibility (A1) [MW], the part of each product's award stored energy carries [MW] and the
    stored energy the awards hold above the ride-through floor (A2: at each interval, the most a
    full deployment that may be running then has drawn) [MWh]. Not part of every result:
    evaluating these expressions costs milliseconds a day that batch runs do not spend."""
    m, n = built.model, built.ctx.n_intervals
    found: dict[str, np.ndarray] = {}
    required = [t.ride_through_required_mwh for _, t in built.blocks if t.ride_through_required_mwh]
    if required:
        found[names.RIDE_THROUGH_REQUIRED_MWH] = np.sum([_values(r, n) for r in required], axis=0)
    reserves = m.component("reserves")
    if reserves is None:
        return found
    supports = [(name, t.reserve) for name, t in built.blocks if t.reserve is not None]
    for name, support in supports:
        found[names.reserve_headroom(name)] = _values(support.headroom_mw, n)
    stores = [name for name, s in supports if s.energy_mwh_per_mwh is not None]
    if not stores:
        return found
    split = dict(built.blocks)["reserves"].schedule  # A1: who carries what, by block name
    for offer in (offer for _, terms in built.blocks for offer in terms.reserve_offers):
        carried = [names.reserve_backing(offer.product, store) for store in stores]
        found[names.ancillary(offer.product, "storage_backed_mw")] = np.sum(
            [_values(split[c], n) for c in carried if c in split], axis=0
        ) + np.zeros(n)
    held = np.zeros(n)
    for (_, tau), draw in reserves.sustain_draw_mwh.items():
        held[tau] = max(held[tau], pyo.value(draw))
    found[names.RESERVE_STORED_ENERGY_MWH] = held + 0.0  # no -0.0 from the solver
    return found
