"""Renewable plant: output up to capacity x profile, the rest curtailed (R1)."""

from __future__ import annotations

import pyomo.environ as pyo

from dispatch import columns
from dispatch.model.context import AssetTerms, ModelContext
from dispatch.site import Renewable


def build_renewable(b: pyo.Block, spec: Renewable, ctx: ModelContext) -> AssetTerms:
    """Output [MW] <= capacity_mw x capacity factor; curtailment is reported, not priced."""
    T = ctx.intervals
    factor = ctx.capacity_factor[spec.profile]
    b.available_mw = pyo.Expression(T, rule=lambda b, t: spec.capacity_mw * factor[t])
    b.output_mw = pyo.Var(T, bounds=(0, spec.capacity_mw))
    # R1: output_mw[t] <= capacity_mw * capacity_factor[t]
    b.availability = pyo.Constraint(T, rule=lambda b, t: b.output_mw[t] <= b.available_mw[t])
    b.curtailed_mw = pyo.Expression(T, rule=lambda b, t: b.available_mw[t] - b.output_mw[t])
    b.net_injection_mw = pyo.Expression(T, rule=lambda b, t: b.output_mw[t])
    return AssetTerms(
        net_injection_mw=b.net_injection_mw,
        schedule={
            columns.renewable(spec.name, "output_mw"): b.output_mw,
            columns.renewable(spec.name, "curtailed_mw"): b.curtailed_mw,
        },
    )
