"""Battery storage: state of charge with split efficiencies and degradation cost (S1)."""

from __future__ import annotations

import math

import pyomo.environ as pyo

from dispatch.model.context import AssetTerms, ModelContext, StreamTerm
from dispatch.site import Battery
from dispatch.streams import Stream


def build_battery(b: pyo.Block, spec: Battery, ctx: ModelContext) -> AssetTerms:
    """Charge/discharge [MW] and SoC [MWh]; ends the horizon at least as full as it started.

    ``initial_soc_mwh`` is a mutable Param so a rolling horizon can carry the SoC across days.
    """
    T, dt = ctx.intervals, ctx.interval_hours
    efficiency = math.sqrt(spec.round_trip_efficiency)  # split evenly between charge and discharge
    # SZ: in sizing power and energy are decisions and the spec holds their upper bounds
    installed = ctx.sized.battery if ctx.sized else None
    power_mw, energy_mwh = installed or (spec.power_mw, spec.energy_mwh)
    min_soc_mwh = spec.min_soc_fraction * energy_mwh
    b.charge_mw = pyo.Var(T, bounds=(0, spec.power_mw))
    b.discharge_mw = pyo.Var(T, bounds=(0, spec.power_mw))
    if installed is None:
        b.soc_mwh = pyo.Var(T, bounds=(min_soc_mwh, spec.energy_mwh))
        b.initial_soc_mwh = pyo.Param(
            mutable=True, initialize=spec.initial_soc_fraction * spec.energy_mwh
        )
    else:
        b.soc_mwh = pyo.Var(T, bounds=(0, spec.energy_mwh))
        b.initial_soc_mwh = pyo.Expression(expr=spec.initial_soc_fraction * energy_mwh)
        _add_sz_within_installed(b, T, power_mw, energy_mwh, min_soc_mwh)

    def soc_dynamics(b: pyo.Block, t: int) -> pyo.Expression:
        """S1: soc[t] == soc[t-1] + η·charge[t]·Δ - discharge[t]·Δ/η"""
        before = b.soc_mwh[t - 1] if t > 0 else b.initial_soc_mwh
        flow = efficiency * b.charge_mw[t] * dt - b.discharge_mw[t] * dt / efficiency
        return b.soc_mwh[t] == before + flow

    b.soc_dynamics = pyo.Constraint(T, rule=soc_dynamics)
    last = ctx.n_intervals - 1
    # S1: the horizon returns what it borrowed, so no day spends energy it did not buy
    b.end_soc = pyo.Constraint(expr=b.soc_mwh[last] >= b.initial_soc_mwh)

    # S1 exclusivity: a binary only where the price is negative (elsewhere charging and
    # discharging at once only loses energy, so the LP never does it); see refresh below.
    b.charging = pyo.Var(T, bounds=(0, 1))
    b.charge_only_when_charging = pyo.Constraint(
        T, rule=lambda b, t: b.charge_mw[t] <= spec.power_mw * b.charging[t]
    )
    b.discharge_only_when_not_charging = pyo.Constraint(
        T, rule=lambda b, t: b.discharge_mw[t] <= spec.power_mw * (1 - b.charging[t])
    )

    def refresh() -> None:
        price = ctx.price_usd_per_mwh
        for t in T:
            negative = price is not None and pyo.value(price[t]) < 0
            b.charging[t].domain = pyo.Binary if negative else pyo.Reals

    b.net_injection_mw = pyo.Expression(T, rule=lambda b, t: b.discharge_mw[t] - b.charge_mw[t])
    b.discharge_mwh = pyo.Expression(expr=sum(b.discharge_mw[t] * dt for t in T))
    b.degradation_usd = pyo.Expression(expr=-spec.degradation_usd_per_mwh * b.discharge_mwh)
    b.energy_above_min_mwh = pyo.Expression(T, rule=lambda b, t: b.soc_mwh[t] - min_soc_mwh)
    # A1: on deployment the battery stops charging and discharges up to its power rating
    b.reserve_headroom_mw = pyo.Expression(
        T, rule=lambda b, t: power_mw - b.discharge_mw[t] + b.charge_mw[t]
    )
    return AssetTerms(
        net_injection_mw=b.net_injection_mw,
        streams={Stream.BATTERY_DEGRADATION: StreamTerm(b.degradation_usd, b.discharge_mwh)},
        schedule={
            "battery_charge_mw": b.charge_mw,
            "battery_discharge_mw": b.discharge_mw,
            "battery_soc_mwh": b.soc_mwh,
        },
        stored_energy_above_min_mwh=b.energy_above_min_mwh,
        refresh=refresh,
        reserve_headroom_mw=b.reserve_headroom_mw,
        reserve_energy_mwh_per_mwh=1.0 / efficiency,
    )


def _add_sz_within_installed(
    b: pyo.Block,
    T: pyo.Set,
    power_mw: pyo.Expression,
    energy_mwh: pyo.Expression,
    min_soc_mwh: pyo.Expression,
) -> None:
    """SZ: charge_mw[t] <= power_mw, discharge_mw[t] <= power_mw,
    min_soc_fraction × energy_mwh <= soc_mwh[t] <= energy_mwh  ∀t (sizing decisions)."""
    b.charge_within_installed = pyo.Constraint(T, rule=lambda b, t: b.charge_mw[t] <= power_mw)
    b.discharge_within_installed = pyo.Constraint(
        T, rule=lambda b, t: b.discharge_mw[t] <= power_mw
    )
    b.soc_within_installed = pyo.Constraint(T, rule=lambda b, t: b.soc_mwh[t] <= energy_mwh)
    b.soc_above_installed_min = pyo.Constraint(T, rule=lambda b, t: b.soc_mwh[t] >= min_soc_mwh)
