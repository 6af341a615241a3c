"""Read a solved model off its blocks into a :class:`DispatchResult`."""

from __future__ import annotations

import math

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
        return values.round() + 0.0  # + 0.0 turns a solver's -0.0 into 0.0
    return values


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


def coupling_columns(built: BuiltModel) -> dict[str, np.ndarray]:
    """What the couplings hold per interval of the solved ``built``, for reports: the H2
    ride-through energy the site requires [MWh]; with ancillary offers (A1), each block's upward
    flexibility [MW], the part of each product's offer backed by stored energy [MW] and the
    stored energy it needs [MWh]. Not part of every result: evaluating these expressions costs
    milliseconds a day that batch runs do not spend."""
    m, n = built.model, built.ctx.n_intervals
    found: dict[str, np.ndarray] = {}
    required = [t.ride_through_required_mwh for _, t in built.blocks if t.ride_through_required_mwh]
    if required:
        found[names.RIDE_THROUGH_REQUIRED_MWH] = np.sum([_values(r, n) for r in required], axis=0)
    if m.component("reserve_deliverable") is None:
        return {name: values + 0.0 for name, values in found.items()}
    for name, terms in built.blocks:
        if terms.reserve_headroom_mw is not None:
            found[names.reserve_headroom(name)] = _values(terms.reserve_headroom_mw, n)
    backed = m.component("reserve_backed_mw")
    if m.component("reserve_sustain_energy_mwh") is not None:
        # build_reserves numbers the offers in the order the blocks list them
        offers = [offer for _, terms in built.blocks for offer in terms.reserve_offers]
        for a, offer in enumerate(offers):
            found[names.ancillary(offer.product, "storage_backed_mw")] = np.array(
                [sum(pyo.value(backed[a, k, t]) for k in m.reserve_stores) for t in range(n)]
            )
        found[names.RESERVE_STORED_ENERGY_MWH] = _values(m.reserve_sustain_energy_mwh, n)
    return {name: values + 0.0 for name, values in found.items()}  # no -0.0 from the solver


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
