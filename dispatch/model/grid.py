"""Grid connection: import and export at the settlement point price (G1, G2)."""

from __future__ import annotations

import pyomo.environ as pyo

from dispatch.model.context import AssetTerms, ModelContext, StreamTerm
from dispatch.site import Grid
from dispatch.streams import Stream


def build_grid(b: pyo.Block, spec: Grid, ctx: ModelContext) -> AssetTerms:
    """Grid import/export [MW] with purchase cost (price + adder) and sale revenue (price)."""
    T, dt, price = ctx.intervals, ctx.interval_hours, ctx.price
    # G1: 0 <= import_mw <= import_limit_mw, 0 <= export_mw <= export_limit_mw
    b.import_mw = pyo.Var(T, bounds=(0, spec.import_limit_mw))
    b.export_mw = pyo.Var(T, bounds=(0, spec.export_limit_mw))
    if spec.import_adder_usd_per_mwh < 0 and spec.export_limit_mw > 0:
        # G2 only where export can pay more than import costs: a negative adder. Otherwise
        # importing and exporting at once always loses the adder, so no binary is needed.
        b.importing = pyo.Var(T, domain=pyo.Binary)
        b.import_only_when_importing = pyo.Constraint(T, rule=_g2_import)
        b.export_only_when_not_importing = pyo.Constraint(T, rule=_g2_export)
    b.net_injection_mw = pyo.Expression(T, rule=lambda b, t: b.import_mw[t] - b.export_mw[t])
    b.import_mwh = pyo.Expression(expr=sum(b.import_mw[t] * dt for t in T))
    b.export_mwh = pyo.Expression(expr=sum(b.export_mw[t] * dt for t in T))
    adder = spec.import_adder_usd_per_mwh
    b.purchase_usd = pyo.Expression(expr=-sum((price[t] + adder) * b.import_mw[t] * dt for t in T))
    b.sale_usd = pyo.Expression(expr=sum(price[t] * b.export_mw[t] * dt for t in T))
    streams = {Stream.GRID_ENERGY_PURCHASE: StreamTerm(b.purchase_usd, b.import_mwh)}
    if spec.export_limit_mw > 0:
        streams[Stream.GRID_ENERGY_SALE] = StreamTerm(b.sale_usd, b.export_mwh)
    return AssetTerms(
        net_injection_mw=b.net_injection_mw,
        streams=streams,
        schedule={"grid_import_mw": b.import_mw, "grid_export_mw": b.export_mw},
        real_time_flexible=True,  # the grid balances whatever the other assets do
    )


def _g2_import(b: pyo.Block, t: int) -> pyo.Expression:
    """G2: import_mw[t] <= import_limit_mw * importing[t]"""
    return b.import_mw[t] <= b.import_mw[t].ub * b.importing[t]


def _g2_export(b: pyo.Block, t: int) -> pyo.Expression:
    """G2: export_mw[t] <= export_limit_mw * (1 - importing[t])"""
    return b.export_mw[t] <= b.export_mw[t].ub * (1 - b.importing[t])
