"""Couplings of the programs, built only from what the blocks expose; no asset is named here.

* A1 deliverability: every offer is split among the blocks that may carry its product, and no
  block carries more than the upward flexibility it has in that interval.
* A2 sustain window: an award carried by stored energy can be delivered for its whole sustain
  duration on top of the schedule (its power and its energy), without spending the HPC
  ride-through energy (H2).
* A4 expected deployment: the expected share of every award that is deployed, valued from the
  blocks that carry it (stream ``ancillary_deployment``); stored energy is drawn from storage.
* DR measurement: each event's curtailment is measured on the metered grid import against its
  baseline.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pyomo.environ as pyo

from dispatch import columns
from dispatch.model.context import (
    AssetTerms,
    ModelContext,
    ReserveOffer,
    ReserveSupport,
    StreamTerm,
)
from dispatch.streams import Stream

Backed = Callable[[int, int, int], pyo.Var]  # (offer a, block k, interval t) -> backed MW


@dataclass(frozen=True)
class SustainWindows:
    """A2: where a full deployment starting in hour h can still be delivering.

    A full deployment of every product starts together at some interval t of hour h and lasts
    K_a intervals for product a. ``drawn[h, τ][a]`` is the most intervals' worth of product a it
    has delivered by the end of τ: min(τ - t + 1, K_a), largest for the hour's first interval
    (energy a product delivered stays spent while the others go on). ``delivering[h, τ][a]``
    says whether a can still be delivering at τ (a start in the hour's last interval e_h reaches
    e_h + K_a - 1). Windows run to e_h + max K - 1; their part past the horizon's end folds into
    its last interval, with the block taken as idle after the horizon: by then every product has
    delivered its whole K_a, and ``past_end[h][a]`` says which are still delivering after it.
    """

    drawn: dict[tuple[int, int], tuple[int, ...]]
    delivering: dict[tuple[int, int], tuple[bool, ...]]
    past_end: dict[int, tuple[bool, ...]]


def sustain_windows(hour_of_interval: Sequence[int], lengths: Sequence[int]) -> SustainWindows:
    """A2 windows of a horizon whose intervals belong to ``hour_of_interval`` (hours numbered
    0, 1, ... in order), for products sustained ``lengths`` intervals each."""
    n = len(hour_of_interval)
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    for t, h in enumerate(hour_of_interval):
        first.setdefault(h, t)
        last[h] = t
    drawn, delivering, past_end = {}, {}, {}
    for h, start in first.items():
        reach = [last[h] + k - 1 for k in lengths]
        for tau in range(start, min(max(reach), n - 1) + 1):
            beyond = tau == n - 1 and max(reach) > n - 1
            drawn[h, tau] = tuple(k if beyond else min(tau - start + 1, k) for k in lengths)
            delivering[h, tau] = tuple(tau <= r for r in reach)
        past_end[h] = tuple(r > n - 1 for r in reach)
    return SustainWindows(drawn, delivering, past_end)


class _Carriers:
    """Offers a, the blocks k that can deliver reserves, and who may carry what: ``pairs`` are
    the (a, k) where block k may carry offer a's product, ``stores`` the energy-limited k."""

    def __init__(
        self, offers: list[ReserveOffer], names: list[str], supports: list[ReserveSupport]
    ) -> None:
        self.offers, self.names, self.supports = offers, names, supports
        self.pairs = [
            (a, k)
            for a, offer in enumerate(offers)
            for k, support in enumerate(supports)
            if support.carries(offer.product)
        ]
        self.stores = [k for k, s in enumerate(supports) if s.energy_mwh_per_mwh is not None]

    def carried_by(self, k: int) -> list[int]:
        return [a for a, j in self.pairs if j == k]

    def carriers_of(self, a: int) -> list[int]:
        return [k for j, k in self.pairs if j == a]


def build_reserves(
    m: pyo.Block, blocks: Sequence[tuple[str, AssetTerms]], ctx: ModelContext
) -> AssetTerms | None:
    """A1, A2, A4 in a block ``m.reserves``; returns its terms (the ``ancillary_deployment``
    stream and the schedule of who carries what), or None when nothing is offered.

    backed[a,k,t] [MW] is the part of offer a that block k carries: a variable per interval, or
    per hour for an energy-limited block (its share of an hourly award, as A2 checks it).
    """
    offers = [offer for _, term in blocks for offer in term.reserve_offers]
    named = [(name, term.reserve) for name, term in blocks if term.reserve is not None]
    if not offers:
        return None
    c = _Carriers(offers, [n for n, _ in named], [s for _, s in named])
    b = pyo.Block()
    m.add_component("reserves", b)
    T, hour, stores = ctx.intervals, ctx.hour_of_interval, c.stores
    b.pairs = pyo.Set(initialize=[p for p in c.pairs if p[1] not in stores], dimen=2)
    b.store_pairs = pyo.Set(initialize=[p for p in c.pairs if p[1] in stores], dimen=2)
    b.backed_mw = pyo.Var(b.pairs, T, bounds=(0, None))
    b.store_backed_mw = pyo.Var(b.store_pairs, ctx.hours, bounds=(0, None))

    def backed(a: int, k: int, t: int) -> pyo.Var:
        return b.store_backed_mw[a, k, hour[t]] if k in stores else b.backed_mw[a, k, t]

    _add_a1_deliverable(b, c, backed, ctx)
    if stores:
        _add_a2_sustain(b, c, blocks, ctx)
    schedule: dict[str, pyo.Component] = {}
    for a, k in c.pairs:
        component = pyo.Expression(T, rule=lambda b, t, a=a, k=k: backed(a, k, t))
        b.add_component(f"backed_{a}_{k}_mw", component)
        schedule[columns.reserve_backing(offers[a].product, c.names[k])] = component
    _add_a4_deployment(b, c, backed, ctx)
    b.net_injection_mw = pyo.Expression(T, rule=lambda b, t: 0.0)  # money and a split, no flow
    return AssetTerms(
        net_injection_mw=b.net_injection_mw,
        streams={Stream.ANCILLARY_DEPLOYMENT: StreamTerm(b.deployment_usd, b.deployed_mwh)},
        schedule=schedule,
    )


def _add_a1_deliverable(b: pyo.Block, c: _Carriers, backed: Backed, ctx: ModelContext) -> None:
    """A1: Σ_k backed[a,k,t] == offer_a[t] ∀a,t;  Σ_a backed[a,k,t] <= headroom_k[t] ∀k,t
    (energy-limited blocks: A2); backed[a,k,t] <= product headroom_k[a][t] where a block caps
    one product (RRS only while a relay is armed)."""
    T = ctx.intervals
    b.offers = pyo.Set(initialize=range(len(c.offers)), ordered=True)

    def split(b: pyo.Block, a: int, t: int) -> pyo.Expression:
        """A1: Σ_k backed[a,k,t] == offer_a[t]"""
        return sum(backed(a, k, t) for k in c.carriers_of(a)) == c.offers[a].offer_mw[t]

    b.offer_split = pyo.Constraint(b.offers, T, rule=split)
    free = [k for k in range(len(c.supports)) if k not in c.stores and c.carried_by(k)]
    b.free_blocks = pyo.Set(initialize=free, ordered=True)

    def within_headroom(b: pyo.Block, k: int, t: int) -> pyo.Expression:
        """A1: Σ_a backed[a,k,t] <= headroom_k[t]"""
        return sum(backed(a, k, t) for a in c.carried_by(k)) <= c.supports[k].headroom_mw[t]

    b.within_headroom = pyo.Constraint(b.free_blocks, T, rule=within_headroom)
    capped = [
        (a, k) for a, k in c.pairs if c.offers[a].product in c.supports[k].product_headroom_mw
    ]
    b.capped_pairs = pyo.Set(initialize=capped, dimen=2)

    def within_product_headroom(b: pyo.Block, a: int, k: int, t: int) -> pyo.Expression:
        """A1: backed[a,k,t] <= product headroom_k[a][t]"""
        return backed(a, k, t) <= c.supports[k].product_headroom_mw[c.offers[a].product][t]

    b.within_product_headroom = pyo.Constraint(b.capped_pairs, T, rule=within_product_headroom)


def _add_a2_sustain(
    b: pyo.Block, c: _Carriers, blocks: Sequence[tuple[str, AssetTerms]], ctx: ModelContext
) -> None:
    """A2: a full deployment starting in any hour h is delivered on top of the schedule.

    energy: Σ stored_above_min[τ] - Σ ride_through[τ]
            >= Σ_{k,a} Δ × stored MWh per MWh_k × drawn[h,τ][a] × backed[a,k,h]  ∀(h,τ)
    power:  Σ_{a delivering at τ} backed[a,k,h] <= headroom_k[τ]  ∀k,(h,τ)
            Σ_{a delivering past the end} backed[a,k,h] <= power rating_k  ∀k,h
    """
    dt = ctx.interval_hours
    lengths = [ctx.intervals_for(offer.sustain_hours * 60.0) for offer in c.offers]
    windows = sustain_windows(ctx.hour_of_interval, lengths)
    stored = [t.stored_energy_above_min_mwh for _, t in blocks if t.stored_energy_above_min_mwh]
    required = [t.ride_through_required_mwh for _, t in blocks if t.ride_through_required_mwh]
    b.windows = pyo.Set(initialize=sorted(windows.drawn), dimen=2, ordered=True)

    def draw(b: pyo.Block, h: int, tau: int) -> pyo.Expression:
        """Stored energy a full deployment starting in hour h has drawn by the end of τ [MWh]."""
        drawn = windows.drawn[h, tau]
        return sum(
            dt * (c.supports[k].energy_mwh_per_mwh or 0.0) * drawn[a] * b.store_backed_mw[a, k, h]
            for k in c.stores
            for a in c.carried_by(k)
        )

    b.sustain_draw_mwh = pyo.Expression(b.windows, rule=draw)

    def energy(b: pyo.Block, h: int, tau: int) -> pyo.Expression:
        """A2: stored above min[τ] - ride-through[τ] >= energy the deployment drew by τ"""
        held = sum(s[tau] for s in stored) - sum(r[tau] for r in required)
        return held >= b.sustain_draw_mwh[h, tau]

    b.sustain_energy = pyo.Constraint(b.windows, rule=energy)
    b.stores = pyo.Set(initialize=c.stores, ordered=True)

    def power(b: pyo.Block, k: int, h: int, tau: int) -> pyo.Expression:
        """A2: Σ_{a delivering at τ} backed[a,k,h] <= headroom_k[τ]"""
        delivering = windows.delivering[h, tau]
        load = [b.store_backed_mw[a, k, h] for a in c.carried_by(k) if delivering[a]]
        if not load:
            return pyo.Constraint.Skip
        return sum(load) <= c.supports[k].headroom_mw[tau]

    b.sustain_power = pyo.Constraint(b.stores, b.windows, rule=power)
    b.hours = pyo.Set(initialize=ctx.hours, ordered=True)

    def past_end(b: pyo.Block, k: int, h: int) -> pyo.Expression:
        """A2: Σ_{a delivering past the horizon} backed[a,k,h] <= power rating_k"""
        load = [b.store_backed_mw[a, k, h] for a in c.carried_by(k) if windows.past_end[h][a]]
        rating = c.supports[k].power_rating_mw
        if not load or rating is None:
            return pyo.Constraint.Skip
        return sum(load) <= rating

    b.sustain_power_past_end = pyo.Constraint(b.stores, b.hours, rule=past_end)


def _add_a4_deployment(b: pyo.Block, c: _Carriers, backed: Backed, ctx: ModelContext) -> None:
    """A4: expected deployment, delivered[a,k,t] = fraction_a × backed[a,k,t] (or × trip_k[t]
    for a product a relay delivers by dropping the block's whole load):

    deployment_usd = Σ_{a,k,t} delivered[a,k,t] × Δ × (price[t] - lost value_k[t])
    deployed_mw_k[t] = Σ_a delivered[a,k,t]  (energy-limited blocks draw it from storage)
    """
    T, dt, price = ctx.intervals, ctx.interval_hours, ctx.price

    def delivered(a: int, k: int, t: int) -> pyo.Expression:
        trip = c.supports[k].trip_mw.get(c.offers[a].product)
        return c.offers[a].deployment_fraction * (trip[t] if trip is not None else backed(a, k, t))

    def lost_value(k: int, t: int) -> pyo.Expression | float:
        lost = c.supports[k].lost_value_usd_per_mwh
        return lost[t] if isinstance(lost, pyo.Expression) else lost

    b.deployment_usd = pyo.Expression(
        expr=sum(
            delivered(a, k, t) * dt * (price[t] - lost_value(k, t)) for a, k in c.pairs for t in T
        )
    )
    b.deployed_mwh = pyo.Expression(
        expr=sum(delivered(a, k, t) * dt for a, k in c.pairs for t in T)
    )
    for k in c.stores:
        deployed = c.supports[k].deployed_mw
        if deployed is None:
            continue
        for t in T:
            # A4: deployed_mw_k[t] := Σ_a delivered[a,k,t]  (the block's own expression)
            deployed[t].set_value(sum(delivered(a, k, t) for a in c.carried_by(k)))


def build_dr_measurement(m: pyo.Block, terms: Sequence[AssetTerms], ctx: ModelContext) -> None:
    """DR: curtailed_mw[t] <= active[t] × (baseline_mw - Σ metered_import_mw[t])  ∀ events, t;
    a scheduled baseline is baseline_mw == Σ_t baseline_fraction[t] × Σ metered_import_mw[t]
    (the mean metered import over the baseline window before the event)."""
    claims = [claim for term in terms for claim in term.dr_claims]
    if not claims:
        return
    T = ctx.intervals
    meters = [term.metered_import_mw for term in terms if term.metered_import_mw is not None]

    def metered(t: int) -> pyo.Expression:
        return sum(meter[t] for meter in meters)

    m.dr_events = pyo.Set(initialize=range(len(claims)), ordered=True)

    def measured(m: pyo.Block, e: int, t: int) -> pyo.Expression:
        """DR: curtailed_mw[t] <= active[t] × baseline_mw - active[t] × metered import[t]"""
        claim = claims[e]
        active = claim.active_fraction[t]
        return claim.curtailed_mw[t] <= active * claim.baseline_mw - active * metered(t)

    m.dr_measured = pyo.Constraint(m.dr_events, T, rule=measured)
    scheduled = [e for e in m.dr_events if claims[e].baseline_fraction is not None]

    def baseline(m: pyo.Block, e: int) -> pyo.Expression:
        """DR: baseline_mw == Σ_t baseline_fraction[t] × metered import[t]  (scheduled)"""
        weights = claims[e].baseline_fraction
        assert weights is not None
        return claims[e].baseline_mw == sum(weights[t] * metered(t) for t in T)

    if scheduled:
        m.dr_scheduled_events = pyo.Set(initialize=scheduled, ordered=True)
        m.dr_scheduled_baseline = pyo.Constraint(m.dr_scheduled_events, rule=baseline)
