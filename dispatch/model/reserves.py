"""Couplings of the programs, built only from what the blocks expose; no asset is named here.

* A1 deliverability: the ancillary offers of every interval fit in the upward flexibility the
  blocks expose, and the part backed by stored energy can be sustained for each product's
  duration (returned as extra energy for the H2 reserve, so reserves never spend the HPC's
  ride-through energy).
* DR measurement: each event's curtailment is measured on the metered grid import against its
  baseline.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pyomo.environ as pyo

from dispatch import columns
from dispatch.model.context import AssetTerms, ModelContext


@dataclass(frozen=True)
class ReserveCoupling:
    """What the A1 coupling hands back: the stored energy [MWh] the offers backed by storage need
    in each interval (for the H2 reserve; None without storage backing), and schedule columns
    (``<product>_storage_backed_mw``: the part of each offer backed by stored energy)."""

    sustain_energy_mwh: pyo.Expression | None = None
    schedule: Mapping[str, pyo.Component] = field(default_factory=dict)


def build_reserves(m: pyo.Block, terms: Sequence[AssetTerms], ctx: ModelContext) -> ReserveCoupling:
    """A1: Σ_a offer_a[t] <= Σ_free headroom[t] + Σ_{a,k} backed[a,k,t]  ∀t, where ``backed`` is
    the part of offer a that energy-limited block k carries:
    Σ_k backed[a,k,t] <= offer_a[t],  Σ_a backed[a,k,t] <= headroom_k[t].

    The stored energy the backed offers need per interval is
    Σ_{a,k} backed[a,k,t] × sustain_hours_a × energy_per_mwh_k, for the H2 reserve.
    """
    offers = [offer for term in terms for offer in term.reserve_offers]
    if not offers:
        return ReserveCoupling()
    T = ctx.intervals
    free = [
        term.reserve_headroom_mw
        for term in terms
        if term.reserve_headroom_mw is not None and term.reserve_energy_mwh_per_mwh is None
    ]
    stores = [
        term
        for term in terms
        if term.reserve_headroom_mw is not None and term.reserve_energy_mwh_per_mwh is not None
    ]
    m.reserve_products = pyo.Set(initialize=range(len(offers)), ordered=True)
    m.reserve_stores = pyo.Set(initialize=range(len(stores)), ordered=True)
    m.reserve_backed_mw = pyo.Var(m.reserve_products, m.reserve_stores, T, bounds=(0, None))

    def deliverable(m: pyo.Block, t: int) -> pyo.Expression:
        """A1: Σ_a offer_a[t] <= Σ_free headroom[t] + Σ_{a,k} backed[a,k,t]"""
        backed = sum(
            m.reserve_backed_mw[a, k, t] for a in m.reserve_products for k in m.reserve_stores
        )
        return sum(o.offer_mw[t] for o in offers) <= sum(h[t] for h in free) + backed

    def backed_within_offer(m: pyo.Block, a: int, t: int) -> pyo.Expression:
        """A1: Σ_k backed[a,k,t] <= offer_a[t]"""
        return sum(m.reserve_backed_mw[a, k, t] for k in m.reserve_stores) <= offers[a].offer_mw[t]

    def store_headroom(m: pyo.Block, k: int, t: int) -> pyo.Expression:
        """A1: Σ_a backed[a,k,t] <= headroom_k[t]"""
        headroom = stores[k].reserve_headroom_mw
        assert headroom is not None
        return sum(m.reserve_backed_mw[a, k, t] for a in m.reserve_products) <= headroom[t]

    m.reserve_deliverable = pyo.Constraint(T, rule=deliverable)
    if not stores:
        return ReserveCoupling()
    m.reserve_backed_within_offer = pyo.Constraint(m.reserve_products, T, rule=backed_within_offer)
    m.reserve_store_headroom = pyo.Constraint(m.reserve_stores, T, rule=store_headroom)

    def sustain_energy(m: pyo.Block, t: int) -> pyo.Expression:
        return sum(
            m.reserve_backed_mw[a, k, t]
            * offers[a].sustain_hours
            * (stores[k].reserve_energy_mwh_per_mwh or 0.0)
            for a in m.reserve_products
            for k in m.reserve_stores
        )

    m.reserve_sustain_energy_mwh = pyo.Expression(T, rule=sustain_energy)
    # per offer: the part backed by stored energy [MW] (a schedule column)
    m.reserve_storage_backed = pyo.Block(m.reserve_products)
    schedule = {}
    for a in m.reserve_products:
        part = m.reserve_storage_backed[a]
        part.mw = pyo.Expression(
            T, rule=lambda b, t, a=a: sum(m.reserve_backed_mw[a, k, t] for k in m.reserve_stores)
        )
        schedule[columns.ancillary(offers[a].product, "storage_backed_mw")] = part.mw
    return ReserveCoupling(m.reserve_sustain_energy_mwh, schedule)


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
