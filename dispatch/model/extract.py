"""Read a solved model off its blocks into a :class:`DispatchResult`."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from dispatch.inputs import Inputs
from dispatch.model.build import BuiltModel
from dispatch.results import DispatchResult, SolveReport, compute_kpis
from dispatch.streams import Stream


def _values(component: pyo.Component, n: int) -> np.ndarray:
    values = np.array([pyo.value(component[t]) for t in range(n)], dtype=float)
    if isinstance(component, pyo.Var) and component[0].is_integer():
        values = values.round()
    return values + 0.0  # + 0.0 turns a solver's -0.0 into 0.0


def extract_result(built: BuiltModel, inputs: Inputs, report: SolveReport) -> DispatchResult:
    """Read the solution off the blocks into a :class:`DispatchResult`."""
    m, ctx = built.model, built.ctx
    n = ctx.n_intervals
    columns = {c: inputs.frame[c].to_numpy(dtype=float) for c in inputs.frame.columns}
    load = np.zeros(n)
    for _, terms in built.blocks:
        for name, component in terms.schedule.items():
            columns[name] = _values(component, n)
        if terms.load_mw is not None:
            load += _values(terms.load_mw, n)
    columns["site_load_mw"] = load
    schedule = pd.DataFrame(columns, index=inputs.index)
    streams = streams_table(m, built.streams)
    kpis = compute_kpis(ctx.site, schedule, streams, ctx.interval_hours, report)
    return DispatchResult(ctx.site.name, schedule, streams, kpis, dict(inputs.sources))


def streams_table(m: pyo.Block, streams: tuple[Stream, ...]) -> pd.DataFrame:
    """Evaluate the objective's own stream expressions."""
    rows = []
    for stream in streams:
        usd = float(pyo.value(m.stream_usd[stream.value])) + 0.0  # no -0.0 for a zero stream
        basis = float(pyo.value(m.stream_basis_mwh[stream.value]))
        per_mwh = usd / basis if abs(basis) > 1e-9 else math.nan
        rows.append(
            {
                "stream": stream.value,
                "usd": usd,
                "basis_mwh": basis,
                "usd_per_mwh": per_mwh,
                "kind": stream.kind.value,
            }
        )
    return pd.DataFrame(rows, columns=["stream", "usd", "basis_mwh", "usd_per_mwh", "kind"])
