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
    for name, component in built.schedule.items():
        columns[name] = _values(component, n)
    columns["site_load_mw"] = load
    schedule = pd.DataFrame(columns, index=inputs.index)
    streams = streams_table(m, built.streams)
    kpis = compute_kpis(ctx.site, schedule, streams, ctx.interval_hours, report)
    return DispatchResult(ctx.site.name, schedule, streams, kpis, dict(inputs.sources))


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
