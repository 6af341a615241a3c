"""Grid connection: import and export at the settlement point price (G1, G2), with the tariffs
of :mod:`dispatch.model.tariffs` (P1 coincident peak, P2 demand charge, P3 PPA)."""

from __future__ import annotations

import pyomo.environ as pyo

from dispatch.model.context import AssetTerms, ModelContext, StreamTerm
from dispatch.model.settlement import add_two_settlement, set_grid_stage
from dispatch.model.tariffs import (
    add_coincident_peak,
    add_demand_charge,
    add_ppa,
    carried_peak_mw,
    demand_peak_hooks,
    settle_demand_peaks,
    settle_ppa_split,
)
from dispatch.site import Grid
from dispatch.streams import Stream


def build_grid(b: pyo.Block, spec: Grid, ctx: ModelContext) -> AssetTerms:
    """Grid import/export [MW] with purchase cost (price + adder) and sale revenue (price).

    With a PPA the purchase stream holds the energy bought at spot plus the adder on all import;
    the block itself is ``ppa_energy`` and its resale ``power_credits`` (P3). In a two-settlement
    model the energy settles as ``da_energy`` + ``rt_deviation`` instead (T1-T3).
    """
    T, dt, price = ctx.intervals, ctx.interval_hours, ctx.price
    # G1: 0 <= import_mw <= import_limit_mw, 0 <= export_mw <= export_limit_mw
    b.import_mw = pyo.Var(T, bounds=(0, spec.import_limit_mw))
    b.export_mw = pyo.Var(T, bounds=(0, spec.export_limit_mw))
    if spec.import_adder_usd_per_mwh < 0 and spec.export_limit_mw > 0:
        # G2 only where export can pay more than import costs: a negative adder. Otherwise
        # importing and exporting at once never pays: a positive adder loses it, and at a zero
        # adder it is money-neutral, so settle_simultaneous_flows nets it after the solve.
        b.importing = pyo.Var(T, domain=pyo.Binary)
        b.import_only_when_importing = pyo.Constraint(T, rule=_g2_import)
        b.export_only_when_not_importing = pyo.Constraint(T, rule=_g2_export)
    b.net_injection_mw = pyo.Expression(T, rule=lambda b, t: b.import_mw[t] - b.export_mw[t])
    b.import_mwh = pyo.Expression(expr=sum(b.import_mw[t] * dt for t in T))
    b.export_mwh = pyo.Expression(expr=sum(b.export_mw[t] * dt for t in T))
    adder = spec.import_adder_usd_per_mwh
    streams: dict[Stream, StreamTerm] = {}
    schedule: dict[str, pyo.Component] = {
        "grid_import_mw": b.import_mw,
        "grid_export_mw": b.export_mw,
    }
    if spec.ppa is not None:
        streams.update(add_ppa(b, spec.ppa, spec, ctx))
        spot_mw = b.spot_import_mw
        schedule["ppa_used_mw"] = b.ppa_used_mw
        schedule["ppa_resold_mw"] = b.ppa_resold_mw
    else:
        spot_mw = b.import_mw
    # Energy bought at spot pays price + adder; with a PPA the adder on the block energy used is
    # part of ppa_energy, so this line reads as USD per MWh actually bought at spot.
    b.spot_import_mwh = pyo.Expression(expr=sum(spot_mw[t] * dt for t in T))
    if ctx.two_settlement:
        # T1-T3: energy settles as a day-ahead position and real-time deviations; the PPA
        # resale is part of the market position, so power_credits gives way to them
        streams.pop(Stream.POWER_CREDITS, None)
        streams.update(add_two_settlement(b, spec, ctx))
        schedule["da_position_mw"] = b.da_position_interval_mw
        schedule["rt_deviation_mw"] = b.rt_deviation_mw
    else:
        b.purchase_usd = pyo.Expression(expr=-sum((price[t] + adder) * spot_mw[t] * dt for t in T))
        b.sale_usd = pyo.Expression(expr=sum(price[t] * b.export_mw[t] * dt for t in T))
        streams[Stream.GRID_ENERGY_PURCHASE] = StreamTerm(b.purchase_usd, b.spot_import_mwh)
        if spec.export_limit_mw > 0:
            streams[Stream.GRID_ENERGY_SALE] = StreamTerm(b.sale_usd, b.export_mwh)
    if spec.coincident_peak is not None:
        streams[Stream.COINCIDENT_PEAK] = add_coincident_peak(b, spec.coincident_peak, ctx)
    if spec.demand_charge is not None:
        streams[Stream.DEMAND_CHARGE] = add_demand_charge(b, spec.demand_charge, ctx)
    ppa, settles = spec.ppa, []
    if spec.import_adder_usd_per_mwh == 0 and spec.export_limit_mw > 0:
        # first: the PPA split and the demand peaks are settled on the netted import
        settles.append(lambda: settle_simultaneous_flows(b, spec, ctx))
    if ppa is not None:
        settles.append(lambda: settle_ppa_split(b, ppa, ctx))
    if spec.demand_charge is not None:
        settles.append(lambda: settle_demand_peaks(b, ctx))

    def settle() -> None:
        for step in settles:
            step()

    return AssetTerms(
        net_injection_mw=b.net_injection_mw,
        streams=streams,
        schedule=schedule,
        metered_import_mw=b.net_injection_mw,
        settle=settle if settles else None,
        state=demand_peak_hooks(b) if spec.demand_charge is not None else None,
        day_ahead_decisions=(b.da_position_mw,) if ctx.two_settlement else (),
        set_stage=(lambda stage: set_grid_stage(b, stage)) if ctx.two_settlement else None,
        hedge_gap_mw=b.hedge_gap_mw if ctx.two_settlement else None,
    )


def settle_simultaneous_flows(b: pyo.Block, spec: Grid, ctx: ModelContext) -> None:
    """G2 canonical flows at a zero import adder: where the solution imports and exports in the
    same interval, only the net flow is kept (import = max(net, 0), export = max(-net, 0)).

    Feasible: the net injection is unchanged (B1, the market position of T1-T3, the DR meter)
    and both flows only decrease (G1; P2's peaks and P3's split are settled after this). Of the
    same money: with no adder, energy bought and sold at once settles at the same price. Left
    as solved where import is priced beyond energy, so that netting would lower a charge: an
    interval with a coincident-peak weight (P1), or one that holds its month's peak import
    above what the other intervals keep (P2). An optimum never imports and exports at once
    there; a time-limited incumbent may, and is reported as HiGHS found it.
    """
    flows = zip(ctx.intervals, b.import_mw.values(), b.export_mw.values(), strict=True)
    both = [t for t, i, e in flows if (i.value or 0.0) > 0 and (e.value or 0.0) > 0]
    if not both:
        return
    if spec.coincident_peak is not None and spec.coincident_peak.usd_per_mw_peak > 0:
        weight = ctx.coincident_peak_weight
        assert weight is not None, "validated: CP sites carry weights"
        both = [t for t in both if pyo.value(weight[t]) == 0]
    if spec.demand_charge is not None and spec.demand_charge.usd_per_mw_month > 0:
        # the peak each month keeps whatever is netted: carried in, or imported elsewhere
        kept_mw = {month: carried_peak_mw(b, ctx, month) for month in ctx.months}
        for t in set(ctx.intervals).difference(both):
            month = ctx.month_of_interval[t]
            kept_mw[month] = max(kept_mw[month], b.import_mw[t].value or 0.0)
        both = [t for t in both if b.import_mw[t].value <= kept_mw[ctx.month_of_interval[t]]]
    for t in both:
        imported, exported = b.import_mw[t], b.export_mw[t]
        net_mw = imported.value - exported.value
        # both only fall, so they stay within their bounds
        imported.set_value(max(net_mw, 0.0), skip_validation=True)
        exported.set_value(max(-net_mw, 0.0), skip_validation=True)


def _g2_import(b: pyo.Block, t: int) -> pyo.Expression:
    """G2: import_mw[t] <= import_limit_mw * importing[t]"""
    return b.import_mw[t] <= b.import_mw[t].ub * b.importing[t]


def _g2_export(b: pyo.Block, t: int) -> pyo.Expression:
    """G2: export_mw[t] <= export_limit_mw * (1 - importing[t])"""
    return b.export_mw[t] <= b.export_mw[t].ub * (1 - b.importing[t])
