"""Heat reuse: recovered mining heat sold up to a heat demand (X1)."""

from __future__ import annotations

import pyomo.environ as pyo

from dispatch.model.context import AssetTerms, ModelContext, StreamTerm
from dispatch.site import HeatReuse
from dispatch.streams import Stream


def build_heat_reuse(b: pyo.Block, spec: HeatReuse, ctx: ModelContext) -> AssetTerms:
    """Heat sold [MW thermal] at ``price_usd_per_mwh_thermal``.

    X1: sold_mw_thermal[t] <= heat_demand_mw_thermal[t] here, and sold / recovery_fraction <= the
    waste heat the blocks reject (the coupling in balance.py), i.e. sold <= recovery × mining MW.
    """
    T, dt = ctx.intervals, ctx.interval_hours
    assert ctx.heat_demand_mw_thermal is not None, "validated: heat sites carry a heat demand"
    demand = ctx.heat_demand_mw_thermal
    b.sold_mw_thermal = pyo.Var(T, bounds=(0, None))

    def within_demand(b: pyo.Block, t: int) -> pyo.Expression:
        """X1: sold_mw_thermal[t] <= heat_demand_mw_thermal[t]"""
        return b.sold_mw_thermal[t] <= demand[t]

    b.within_demand = pyo.Constraint(T, rule=within_demand)
    recovery = spec.recovery_fraction
    b.drawn_mw_thermal = pyo.Expression(T, rule=lambda b, t: b.sold_mw_thermal[t] / recovery)
    b.net_injection_mw = pyo.Expression(T, rule=lambda b, t: 0.0)  # heat, not electricity
    b.sold_mwh_thermal = pyo.Expression(expr=sum(b.sold_mw_thermal[t] * dt for t in T))
    b.sales_usd = pyo.Expression(expr=spec.price_usd_per_mwh_thermal * b.sold_mwh_thermal)
    return AssetTerms(
        net_injection_mw=b.net_injection_mw,
        streams={Stream.HEAT_SALES: StreamTerm(b.sales_usd, b.sold_mwh_thermal)},
        schedule={"heat_sold_mw_thermal": b.sold_mw_thermal},
        heat_drawn_mw_thermal=b.drawn_mw_thermal,
    )
