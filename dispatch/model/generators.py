"""Gas generators with unit commitment: on/start/stop, min stable output, min up/down, ramp,
fuel cost and an optional daily fuel budget (U1)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pyomo.environ as pyo

from dispatch import columns
from dispatch.model.carry import carried_window, run_length
from dispatch.model.context import (
    AssetTerms,
    ModelContext,
    ReserveSupport,
    StateHooks,
    StreamTerm,
)
from dispatch.site import Generator
from dispatch.streams import Stream


@dataclass(frozen=True)
class GeneratorState:
    """On or off at the end of the kept window, its output [MW], and for how many intervals it
    has been in that state (capped at the longer min-up/min-down window)."""

    on: bool
    power_mw: float
    intervals_in_state: int


def build_generator(b: pyo.Block, spec: Generator, ctx: ModelContext) -> AssetTerms:
    """One economically dispatched unit. Output [MW], fuel [MMBtu], cost [USD].

    Carried state (mutable Params): ``on_before`` and ``power_before_mw`` (default: off, long
    enough to start at once) and ``started_before[t]`` / ``stopped_before[t]`` (1 where a start
    or stop before the horizon still holds the unit on or off at interval t).
    """
    T, dt = ctx.intervals, ctx.interval_hours
    cap, floor = spec.capacity_mw, spec.min_stable_fraction * spec.capacity_mw
    b.on = pyo.Var(T, domain=pyo.Binary)
    b.start = pyo.Var(T, bounds=(0, 1))
    b.stop = pyo.Var(T, bounds=(0, 1))
    b.power_mw = pyo.Var(T, bounds=(0, cap))
    b.on_before = pyo.Param(mutable=True, initialize=0, within=pyo.Binary)
    b.power_before_mw = pyo.Param(mutable=True, initialize=0.0, within=pyo.NonNegativeReals)
    b.started_before = pyo.Param(T, mutable=True, initialize=0)
    b.stopped_before = pyo.Param(T, mutable=True, initialize=0)

    b.min_stable = pyo.Constraint(T, rule=lambda b, t: b.power_mw[t] >= floor * b.on[t])
    b.max_output = pyo.Constraint(T, rule=lambda b, t: b.power_mw[t] <= cap * b.on[t])
    b.commitment = pyo.Constraint(T, rule=_u1_commitment)
    up, down = ctx.intervals_for(spec.min_up_minutes), ctx.intervals_for(spec.min_down_minutes)
    if spec.min_up_minutes > 0 and up > 1:
        b.min_up = pyo.Constraint(T, rule=lambda b, t: _u1_min_up(b, t, up))
    if spec.min_down_minutes > 0 and down > 1:
        b.min_down = pyo.Constraint(T, rule=lambda b, t: _u1_min_down(b, t, down))
    if spec.ramp_mw_per_minute is not None:
        ramp_mw = spec.ramp_mw_per_minute * ctx.interval_minutes
        if ramp_mw < cap:
            b.ramp_up = pyo.Constraint(T, rule=lambda b, t: _u1_ramp_up(b, t, ramp_mw, cap))
            b.ramp_down = pyo.Constraint(T, rule=lambda b, t: _u1_ramp_down(b, t, ramp_mw, cap))

    heat_rate = spec.heat_rate_mmbtu_per_mwh
    b.fuel_mmbtu = pyo.Expression(T, rule=lambda b, t: heat_rate * b.power_mw[t] * dt)
    if spec.fuel_limit_mmbtu_per_day is not None:
        days = sorted(set(ctx.day_of_interval))
        b.days = pyo.Set(initialize=days)
        limit = spec.fuel_limit_mmbtu_per_day

        def fuel_budget(b: pyo.Block, day: int) -> pyo.Expression:
            """U1: Σ_{t in local day} heat_rate · power_mw[t] · Δ <= fuel_limit_mmbtu_per_day"""
            in_day = [t for t in T if ctx.day_of_interval[t] == day]
            return sum(b.fuel_mmbtu[t] for t in in_day) <= limit

        b.fuel_budget = pyo.Constraint(b.days, rule=fuel_budget)

    history = max(up, down)  # a unit in its state this long is free to switch

    def read_state(kept: pd.DatetimeIndex, before: GeneratorState | None) -> GeneratorState:
        n = len(kept)
        states = [round(pyo.value(b.on[t])) for t in range(n)]
        before = before or GeneratorState(False, 0.0, history)
        length = run_length(int(before.on), before.intervals_in_state, states, cap=history)
        power_mw = min(max(pyo.value(b.power_mw[n - 1]), 0.0), cap) if states[-1] else 0.0
        return GeneratorState(bool(states[-1]), power_mw, length)

    def write_state(state: GeneratorState | None, horizon: pd.DatetimeIndex) -> None:
        state = state or GeneratorState(False, 0.0, history)  # fresh start: off, free to start
        b.on_before.set_value(int(state.on))
        b.power_before_mw.set_value(state.power_mw)
        # the switch that began the current state happened `intervals_in_state` intervals ago
        switch = (1, *[0] * (state.intervals_in_state - 1)) if state.intervals_in_state else ()
        n = ctx.n_intervals
        started = carried_window(switch if state.on else (), up, n)
        stopped = carried_window(() if state.on else switch, down, n)
        # whole counts by construction: written straight into the Params' data
        b.started_before.store_values(dict(enumerate(started)), check=False)
        b.stopped_before.store_values(dict(enumerate(stopped)), check=False)

    b.net_injection_mw = pyo.Expression(T, rule=lambda b, t: b.power_mw[t])
    b.energy_mwh = pyo.Expression(expr=sum(b.power_mw[t] * dt for t in T))
    b.fuel_usd = pyo.Expression(
        expr=-spec.fuel_price_usd_per_mmbtu * sum(b.fuel_mmbtu[t] for t in T)
    )
    b.startups_usd = pyo.Expression(expr=-spec.startup_cost_usd * sum(b.start[t] for t in T))
    # A1: an online unit can ramp to capacity (the fuel budget is not held for deployments);
    # A4: a deployed MWh burns heat rate x fuel price
    b.reserve_headroom_mw = pyo.Expression(T, rule=lambda b, t: cap * b.on[t] - b.power_mw[t])
    reserve = ReserveSupport(
        headroom_mw=b.reserve_headroom_mw,
        lost_value_usd_per_mwh=spec.heat_rate_mmbtu_per_mwh * spec.fuel_price_usd_per_mmbtu,
    )
    return AssetTerms(
        net_injection_mw=b.net_injection_mw,
        reserve=reserve,
        streams={
            Stream.FUEL: StreamTerm(b.fuel_usd, b.energy_mwh),
            Stream.GENERATOR_STARTUPS: StreamTerm(b.startups_usd, b.energy_mwh),
        },
        schedule={
            columns.generator(spec.name, "on"): b.on,
            columns.generator(spec.name, "power_mw"): b.power_mw,
            columns.generator(spec.name, "fuel_mmbtu"): b.fuel_mmbtu,
        },
        state=StateHooks(read_state, write_state),
    )


def _u1_commitment(b: pyo.Block, t: int) -> pyo.Expression:
    """U1: start[t] - stop[t] == on[t] - on[t-1]"""
    before = b.on[t - 1] if t > 0 else b.on_before
    return b.start[t] - b.stop[t] == b.on[t] - before


def _u1_min_up(b: pyo.Block, t: int, window: int) -> pyo.Expression:
    """U1: Σ_{τ=t-U+1..t} start[τ] + started_before[t] <= on[t]  (Rajan–Takriti)"""
    recent = sum(b.start[tau] for tau in range(max(0, t - window + 1), t + 1))
    return recent + b.started_before[t] <= b.on[t]


def _u1_min_down(b: pyo.Block, t: int, window: int) -> pyo.Expression:
    """U1: Σ_{τ=t-D+1..t} stop[τ] + stopped_before[t] <= 1 - on[t]  (Rajan–Takriti)"""
    recent = sum(b.stop[tau] for tau in range(max(0, t - window + 1), t + 1))
    return recent + b.stopped_before[t] <= 1 - b.on[t]


def _u1_ramp_up(b: pyo.Block, t: int, ramp_mw: float, cap: float) -> pyo.Expression:
    """U1: power[t] - power[t-1] <= ramp · interval + capacity · (1 - on[t-1])

    Relief only for a unit that was off (a start), read from the binary ``on``: the continuous
    start and stop could both be positive while the unit stays on and buy relief for a fraction
    of a start-up."""
    before = b.power_mw[t - 1] if t > 0 else b.power_before_mw
    was_on = b.on[t - 1] if t > 0 else b.on_before
    return b.power_mw[t] - before <= ramp_mw + cap * (1 - was_on)


def _u1_ramp_down(b: pyo.Block, t: int, ramp_mw: float, cap: float) -> pyo.Expression:
    """U1: power[t-1] - power[t] <= ramp · interval + capacity · (1 - on[t])  (a stop)"""
    before = b.power_mw[t - 1] if t > 0 else b.power_before_mw
    return before - b.power_mw[t] <= ramp_mw + cap * (1 - b.on[t])
