"""Site-wide couplings built only from what the asset blocks expose; no asset is named here."""

from __future__ import annotations

from collections.abc import Sequence

import pyomo.environ as pyo

from dispatch.model.context import AssetTerms, ModelContext


def build_balance(m: pyo.Block, terms: Sequence[AssetTerms], ctx: ModelContext) -> None:
    """B1: Σ_assets net_injection_mw[t] == 0  ∀t  (supply positive, consumption negative)."""

    def balance(m: pyo.Block, t: int) -> pyo.Expression:
        return sum(term.net_injection_mw[t] for term in terms) == 0

    m.balance = pyo.Constraint(ctx.intervals, rule=balance)


def build_ride_through(m: pyo.Block, terms: Sequence[AssetTerms], ctx: ModelContext) -> None:
    """H2: Σ stored energy above minimum [MWh] >= Σ ride-through energy required [MWh]  ∀t.

    Ancillary awards carried by stored energy come on top of it (A2 in reserves.py), so selling
    reserves never spends the HPC's safety margin.
    """
    required = [term.ride_through_required_mwh for term in terms if term.ride_through_required_mwh]
    if not required:
        return
    stored = [t.stored_energy_above_min_mwh for t in terms if t.stored_energy_above_min_mwh]

    def reserve(m: pyo.Block, t: int) -> pyo.Expression:
        return sum(s[t] for s in stored) >= sum(r[t] for r in required)

    m.ride_through_reserve = pyo.Constraint(ctx.intervals, rule=reserve)


def build_heat_recovery(m: pyo.Block, terms: Sequence[AssetTerms], ctx: ModelContext) -> None:
    """X1: Σ waste heat drawn by heat users [MW th] <= Σ waste heat the blocks reject  ∀t."""
    drawn = [t.heat_drawn_mw_thermal for t in terms if t.heat_drawn_mw_thermal is not None]
    if not drawn:
        return
    sources = [t.waste_heat_mw_thermal for t in terms if t.waste_heat_mw_thermal is not None]

    def recovered(m: pyo.Block, t: int) -> pyo.Expression:
        return sum(d[t] for d in drawn) <= sum(s[t] for s in sources)

    m.heat_recovery = pyo.Constraint(ctx.intervals, rule=recovered)
