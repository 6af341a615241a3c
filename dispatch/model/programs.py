"""Programs the site sells its flexibility into: ancillary capacity offers (A1) and utility
demand-response events (DR). One block per offer or event; what makes an offer deliverable and
how an event is measured are couplings in :mod:`dispatch.model.reserves`.
"""

from __future__ import annotations

import pyomo.environ as pyo

from dispatch import columns
from dispatch.model.context import (
    AssetTerms,
    DrClaim,
    ModelContext,
    ReserveOffer,
    Stage,
    StreamTerm,
)
from dispatch.site import AncillaryOffer, DrEvent
from dispatch.streams import Stream, ancillary_stream


def build_ancillary_offer(b: pyo.Block, spec: AncillaryOffer, ctx: ModelContext) -> AssetTerms:
    """A1: one product's offer [MW], constant within each local clock hour, capped at max_mw.

    Revenue = Σ_t price[t] [USD/MW-h] × offer_mw[t] × Δ, paid whether or not deployed, measured
    against the MW-h offered. What deployments cost is counted by the coupling (A4,
    ``ancillary_deployment``) from the resources that back the offer.
    """
    T, dt = ctx.intervals, ctx.interval_hours
    price = ctx.ancillary_price_usd_per_mw_h[spec.product]
    b.hours = pyo.Set(initialize=ctx.hours, ordered=True)
    # A1: 0 <= offer_hourly_mw[h] <= max_mw
    b.offer_hourly_mw = pyo.Var(b.hours, bounds=(0, spec.max_mw))
    # A1: the offer is one number per hour, held over the hour's intervals
    b.offer_mw = pyo.Expression(T, rule=lambda b, t: b.offer_hourly_mw[ctx.hour_of_interval[t]])
    b.offered_mw_h = pyo.Expression(expr=sum(b.offer_mw[t] * dt for t in T))
    b.revenue_usd = pyo.Expression(expr=sum(price[t] * b.offer_mw[t] * dt for t in T))
    b.net_injection_mw = pyo.Expression(T, rule=lambda b, t: 0.0)  # capacity, not energy
    streams = {ancillary_stream(spec.product): StreamTerm(b.revenue_usd, b.offered_mw_h)}
    schedule = {columns.ancillary(spec.product, "offer_mw"): b.offer_mw}

    def backed(mw: pyo.Expression) -> tuple[ReserveOffer, ...]:
        """What A1-A4 must carry: ``mw`` of this product."""
        return (ReserveOffer(spec.product, mw, spec.sustain_hours, spec.deployment_fraction),)

    if not ctx.two_settlement:
        return AssetTerms(
            net_injection_mw=b.net_injection_mw,
            streams=streams,
            schedule=schedule,
            reserve_offers=backed(b.offer_mw),
        )
    # Two-settlement: the hourly offer is the DAM award. A real-time state may leave part of it
    # undeliverable; that part fails (T4) and ERCOT charges it back at the award's clearing
    # price (failure to provide), so delivery, not the award, backs A1.
    b.failed_mw = pyo.Var(T, bounds=(0.0, 0.0))
    b.failed_within_award = pyo.Constraint(T, rule=_t4_failed_within_award)
    b.delivered_mw = pyo.Expression(T, rule=lambda b, t: b.offer_mw[t] - b.failed_mw[t])
    b.failed_mw_h = pyo.Expression(expr=sum(b.failed_mw[t] * dt for t in T))
    b.failure_usd = pyo.Expression(expr=-sum(price[t] * b.failed_mw[t] * dt for t in T))
    streams[Stream.ANCILLARY_FAILURE] = StreamTerm(b.failure_usd, b.failed_mw_h)
    schedule[columns.ancillary(spec.product, "failed_mw")] = b.failed_mw

    def set_stage(stage: Stage) -> None:
        """T4: awards may fail only in the last-resort real-time stage (a failure already
        fixed as past stays what it was)."""
        for t in T:
            if not b.failed_mw[t].fixed:
                b.failed_mw[t].setub(None if stage is Stage.REAL_TIME_FAILING else 0.0)

    return AssetTerms(
        net_injection_mw=b.net_injection_mw,
        streams=streams,
        schedule=schedule,
        reserve_offers=backed(b.delivered_mw),
        day_ahead_decisions=(b.offer_hourly_mw,),
        set_stage=set_stage,
    )


def _t4_failed_within_award(b: pyo.Block, t: int) -> pyo.Expression:
    """T4: failed_mw[t] <= offer_mw[t]"""
    return b.failed_mw[t] <= b.offer_mw[t]


def build_dr_event(b: pyo.Block, spec: DrEvent, ctx: ModelContext) -> AssetTerms:
    """DR: curtailment [MW] against the baseline in the event's intervals, paid per MWh up to
    committed_mw; a shortfall below committed_mw pays the penalty.

    The coupling (reserves.py) measures curtailed_mw[t] <= baseline_mw - metered import[t];
    import above the baseline counts as negative curtailment (charged at the event price), so
    the model stays feasible whatever the site must draw. Outside the event curtailed_mw is 0.
    """
    T, dt = ctx.intervals, ctx.interval_hours
    active = ctx.dr_active_fraction[spec.name]
    grid = ctx.site.grid
    reach_mw = (grid.import_limit_mw + grid.export_limit_mw) if grid else 0.0
    committed = spec.committed_mw
    b.curtailed_mw = pyo.Var(T, bounds=(-reach_mw, committed))
    b.shortfall_mw = pyo.Var(T, bounds=(0, None))
    if spec.baseline == "fixed":
        assert spec.baseline_mw is not None, "validated: a fixed baseline has baseline_mw"
        # the program sets it, possibly above what the connection can import
        b.baseline_mw = pyo.Var(bounds=(-reach_mw, max(reach_mw, spec.baseline_mw)))
        b.baseline_mw.fix(spec.baseline_mw)
    else:
        b.baseline_mw = pyo.Var(bounds=(-reach_mw, reach_mw))

    def shortfall(b: pyo.Block, t: int) -> pyo.Expression:
        """DR: shortfall_mw[t] >= committed_mw × active[t] - curtailed_mw[t]"""
        return b.shortfall_mw[t] >= committed * active[t] - b.curtailed_mw[t]

    b.shortfall_definition = pyo.Constraint(T, rule=shortfall)

    def refresh() -> None:
        """Curtailment lives only inside the event window (data: dr_<event>_active_fraction)."""
        for t in T:
            on = pyo.value(active[t]) > 0.5
            b.curtailed_mw[t].setlb(-reach_mw if on else 0.0)
            b.curtailed_mw[t].setub(committed if on else 0.0)

    b.curtailed_mwh = pyo.Expression(expr=sum(b.curtailed_mw[t] * dt for t in T))
    b.event_usd = pyo.Expression(
        expr=sum(
            (spec.usd_per_mwh * b.curtailed_mw[t] - spec.penalty_usd_per_mwh * b.shortfall_mw[t])
            * dt
            for t in T
        )
    )
    baseline_fraction = ctx.dr_baseline_fraction.get(spec.name)
    b.net_injection_mw = pyo.Expression(T, rule=lambda b, t: 0.0)  # a measure, not a flow
    return AssetTerms(
        net_injection_mw=b.net_injection_mw,
        streams={Stream.DR_EVENTS: StreamTerm(b.event_usd, b.curtailed_mwh)},
        schedule={
            columns.dr_event(spec.name, "curtailed_mw"): b.curtailed_mw,
            columns.dr_event(spec.name, "shortfall_mw"): b.shortfall_mw,
        },
        dr_claims=(DrClaim(b.curtailed_mw, active, b.baseline_mw, baseline_fraction),),
        refresh=refresh,
    )
