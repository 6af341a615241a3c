"""One mining fleet: integer containers running, power envelope, concave hashrate (M1-M3)."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import pandas as pd
import pyomo.environ as pyo
from pyomo.core.base.var import VarData

from dispatch import columns
from dispatch.model.carry import carried_window, recent, switches
from dispatch.model.context import (
    AssetTerms,
    ModelContext,
    ReserveSupport,
    StateHooks,
    StreamTerm,
)
from dispatch.site import MiningFleet
from dispatch.streams import Stream


@dataclass(frozen=True)
class FleetState:
    """Containers running at the end of the kept window, and how many started and stopped in
    each of the last intervals (most recent last; as long as the longer min-on/min-off window)."""

    containers_on: int
    recent_starts: tuple[int, ...]
    recent_stops: tuple[int, ...]


def build_mining_fleet(
    b: pyo.Block, spec: MiningFleet, ctx: ModelContext, pool_fee_fraction: float
) -> AssetTerms:
    """Containers on (integer count, never one binary per container), power [MW], hashrate [PH/s].

    Carried state (mutable Params): ``containers_before`` (default: all running) and
    ``started_before[t]`` / ``stopped_before[t]`` (containers started or stopped before the
    horizon whose min-on / min-off window still covers interval t).
    """
    T, dt, hashprice = ctx.intervals, ctx.interval_hours, ctx.hashprice
    n_max, container_mw = spec.containers, spec.container_mw
    low, high = spec.power_range_fraction
    b.containers_on = pyo.Var(T, domain=pyo.NonNegativeIntegers, bounds=(0, n_max))
    b.power_mw = pyo.Var(T, bounds=(0, n_max * high * container_mw))
    b.hashrate_ph_s = pyo.Var(T, bounds=(0, None))
    b.power_floor = pyo.Constraint(
        T, rule=lambda b, t: b.power_mw[t] >= low * container_mw * b.containers_on[t]
    )
    b.power_ceiling = pyo.Constraint(
        T, rule=lambda b, t: b.power_mw[t] <= high * container_mw * b.containers_on[t]
    )
    b.segments = pyo.Set(initialize=range(max(1, len(spec.hashrate_points()) - 1)))
    b.hashrate_envelope = pyo.Constraint(b.segments, T, rule=_m2_rule(spec))

    # SZ: in sizing the installed containers are a decision and spec.containers its upper bound;
    # the day starts with every installed container running, as a dispatch day does by default
    installed = ctx.sized.containers.get(spec.name) if ctx.sized else None
    if installed is None:
        b.containers_before = pyo.Param(
            mutable=True, initialize=n_max, within=pyo.NonNegativeIntegers
        )
    else:
        # SZ: containers_on[t] <= installed containers
        b.within_installed = pyo.Constraint(T, rule=lambda b, t: b.containers_on[t] <= installed)
        b.containers_before = pyo.Expression(expr=installed)
    b.starts = pyo.Var(T, bounds=(0, n_max))
    b.stops = pyo.Var(T, bounds=(0, n_max))
    b.started_before = pyo.Param(T, mutable=True, initialize=0)
    b.stopped_before = pyo.Param(T, mutable=True, initialize=0)
    b.switching = pyo.Constraint(T, rule=_m3_switching)
    min_on, min_off = (
        ctx.intervals_for(spec.min_on_minutes),
        ctx.intervals_for(spec.min_off_minutes),
    )
    if spec.min_on_minutes > 0 and min_on > 1:
        b.min_on = pyo.Constraint(T, rule=lambda b, t: _m3_min_on(b, t, min_on))
    if spec.min_off_minutes > 0 and min_off > 1:
        n_installed = n_max if installed is None else installed
        b.min_off = pyo.Constraint(T, rule=lambda b, t: _m3_min_off(b, t, min_off, n_installed))

    history = max(min_on, min_off) - 1  # intervals before a horizon a window can reach back

    def read_state(kept: pd.DatetimeIndex, before: FleetState | None) -> FleetState:
        counts = [round(pyo.value(b.containers_on[t])) for t in range(len(kept))]
        start = n_max if before is None else before.containers_on
        starts, stops = switches(start, counts)
        return FleetState(
            containers_on=counts[-1],
            recent_starts=recent(before.recent_starts if before else (), starts, history),
            recent_stops=recent(before.recent_stops if before else (), stops, history),
        )

    def write_state(state: FleetState | None, horizon: pd.DatetimeIndex) -> None:
        state = state or FleetState(n_max, (), ())  # fresh start: all running, no recent switch
        b.containers_before.set_value(state.containers_on)
        n = ctx.n_intervals
        # whole counts by construction: written straight into the Params' data
        started = carried_window(state.recent_starts, min_on, n)
        stopped = carried_window(state.recent_stops, min_off, n)
        b.started_before.store_values(dict(enumerate(started)), check=False)
        b.stopped_before.store_values(dict(enumerate(stopped)), check=False)

    def fix_rounded() -> list[VarData]:
        """M1 from a relaxed solution: the count nearest the relaxed count among those that
        can draw the relaxed power, n in [power / (high · P), power / (low · P)]; where no
        integer lies there (power below one container's floor), the fewest containers that
        can draw it (one: the power rises to its floor). A3: the relay's arming rounded up."""
        fixed = []
        for t in T:
            if b.containers_on[t].fixed:
                continue
            power = b.power_mw[t].value or 0.0
            fewest = max(0, math.ceil(power / (high * container_mw) - 1e-6))
            most = min(n_max, math.floor(power / (low * container_mw) + 1e-6) if low else n_max)
            count = round(b.containers_on[t].value or 0.0)
            # a whole number within [0, n_max]: Pyomo's domain check is skipped (it was a third of
            # this hook's time in the stochastic evaluation, 10 scenarios × 2 fleets × 96)
            b.containers_on[t].fix(
                fewest if fewest > most else min(max(count, fewest), most), skip_validation=True
            )
            fixed.append(b.containers_on[t])
        relay = b.component("rrs_relay_armed")
        for armed in relay.values() if relay is not None else ():
            # A3: a relay armed at all in the relaxation is armed (it can then carry all the
            # RRS the relaxation put on the fleet); one never armed stays off
            if not armed.fixed:
                armed.fix(1 if (armed.value or 0.0) > 1e-6 else 0)
                fixed.append(armed)
        return fixed

    b.net_injection_mw = pyo.Expression(T, rule=lambda b, t: -b.power_mw[t])
    b.energy_mwh = pyo.Expression(expr=sum(b.power_mw[t] * dt for t in T))
    # M2 revenue: USD/PH/day x PH/s x (Δ/24) day x (1 - pool fee)
    b.hashprice_usd = pyo.Expression(
        expr=sum(hashprice[t] * b.hashrate_ph_s[t] * dt / 24.0 * (1 - pool_fee_fraction) for t in T)
    )
    b.startups_usd = pyo.Expression(expr=-spec.startup_cost_usd * sum(b.starts[t] for t in T))
    schedule = {
        columns.mining(spec.name, "containers_on"): b.containers_on,
        columns.mining(spec.name, "power_mw"): b.power_mw,
        columns.mining(spec.name, "hashrate_ph_s"): b.hashrate_ph_s,
    }
    reserve = _load_resource(b, spec, ctx, pool_fee_fraction, schedule)
    return AssetTerms(
        net_injection_mw=b.net_injection_mw,
        load_mw=b.power_mw,
        reserve=reserve,
        waste_heat_mw_thermal=b.power_mw,  # X1: all of it leaves as heat
        streams={
            Stream.MINING_HASHPRICE: StreamTerm(b.hashprice_usd, b.energy_mwh),
            Stream.MINING_STARTUPS: StreamTerm(b.startups_usd, b.energy_mwh),
        },
        schedule=schedule,
        state=StateHooks(read_state, write_state),
        fix_rounded=fix_rounded,
    )


def _load_resource(
    b: pyo.Block,
    spec: MiningFleet,
    ctx: ModelContext,
    pool_fee_fraction: float,
    schedule: dict[str, pyo.Component],
) -> ReserveSupport:
    """The fleet as an ERCOT Load Resource (A1, A3, A4).

    A1: every running container can be shed, so the whole running load backs the products the
    fleet may carry, and nothing it does not consume can. A4: a deployed MWh loses the hashprice
    of a container at nominal efficiency. A3 (``load_resource: ufr`` with RRS offered): the
    under-frequency relay is armed or not for each local day; the fleet carries RRS only while
    armed, and an RRS deployment (a relay trip) drops its whole running load, whatever the award:
    trip_mw[t] == power_mw[t] if armed[day(t)] else 0.
    """
    T, hashprice = ctx.intervals, ctx.hashprice
    ph_s_per_mw = 1000.0 / spec.efficiency_j_per_th
    b.deployment_lost_value_usd_per_mwh = pyo.Expression(
        T, rule=lambda b, t: hashprice[t] * ph_s_per_mw / 24.0 * (1 - pool_fee_fraction)
    )
    offered = {offer.product for offer in ctx.site.ancillary_offers}
    if spec.load_resource != "ufr" or "RRS" not in offered:
        return ReserveSupport(
            b.power_mw,
            products=spec.ancillary_products,
            lost_value_usd_per_mwh=b.deployment_lost_value_usd_per_mwh,
        )
    cap_mw = spec.containers * spec.power_range_fraction[1] * spec.container_mw
    day = ctx.day_of_interval
    b.relay_days = pyo.Set(initialize=sorted(set(day)), ordered=True)
    b.rrs_relay_armed = pyo.Var(b.relay_days, domain=pyo.Binary)
    b.rrs_trip_mw = pyo.Var(T, bounds=(0, cap_mw))

    def trips_when_armed(b: pyo.Block, t: int) -> pyo.Expression:
        """A3: trip_mw[t] >= power_mw[t] - cap × (1 - armed[day(t)])"""
        return b.rrs_trip_mw[t] >= b.power_mw[t] - cap_mw * (1 - b.rrs_relay_armed[day[t]])

    b.trips_when_armed = pyo.Constraint(T, rule=trips_when_armed)
    # A3: trip_mw[t] <= power_mw[t];  trip_mw[t] <= cap × armed[day(t)]
    b.trips_running_load = pyo.Constraint(T, rule=lambda b, t: b.rrs_trip_mw[t] <= b.power_mw[t])
    b.trips_only_when_armed = pyo.Constraint(
        T, rule=lambda b, t: b.rrs_trip_mw[t] <= cap_mw * b.rrs_relay_armed[day[t]]
    )
    # A3: RRS is carried only while the relay is armed
    b.rrs_headroom_mw = pyo.Expression(T, rule=lambda b, t: cap_mw * b.rrs_relay_armed[day[t]])
    b.rrs_relay_armed_by_interval = pyo.Expression(T, rule=lambda b, t: b.rrs_relay_armed[day[t]])
    schedule[columns.mining(spec.name, "rrs_relay_armed")] = b.rrs_relay_armed_by_interval
    schedule[columns.mining(spec.name, "rrs_trip_mw")] = b.rrs_trip_mw
    return ReserveSupport(
        b.power_mw,
        products=spec.ancillary_products,
        lost_value_usd_per_mwh=b.deployment_lost_value_usd_per_mwh,
        product_headroom_mw={"RRS": b.rrs_headroom_mw},
        trip_mw={"RRS": b.rrs_trip_mw},
    )


def _m2_rule(spec: MiningFleet):
    """M2: hashrate_ph_s[t] <= slope_k * power_mw[t] + intercept_k * containers_on[t]  ∀k,t

    The perspective form of the concave per-container curve: with n containers sharing power p
    equally, each runs at p/n and the fleet hashrate is n * h(p/n). Segment k joins curve points
    k and k+1; a single point (fixed power) gives hashrate <= h_0 * n.
    """
    points = spec.hashrate_points()
    mw = spec.container_mw
    if len(points) == 1:
        per_container = points[0][1]
        return lambda b, k, t: b.hashrate_ph_s[t] <= per_container * b.containers_on[t]
    slopes, intercepts = [], []
    for (f0, h0), (f1, h1) in itertools.pairwise(points):
        slope = (h1 - h0) / ((f1 - f0) * mw)  # PH/s per MW
        slopes.append(slope)
        intercepts.append(h0 - slope * f0 * mw)  # PH/s per container
    return lambda b, k, t: (
        b.hashrate_ph_s[t] <= slopes[k] * b.power_mw[t] + intercepts[k] * b.containers_on[t]
    )


def _m3_switching(b: pyo.Block, t: int) -> pyo.Expression:
    """M3: starts[t] - stops[t] == containers_on[t] - containers_on[t-1]"""
    before = b.containers_on[t - 1] if t > 0 else b.containers_before
    return b.starts[t] - b.stops[t] == b.containers_on[t] - before


def _m3_min_on(b: pyo.Block, t: int, window: int) -> pyo.Expression:
    """M3: containers_on[t] >= Σ_{τ=t-U+1..t} starts[τ] + started_before[t]

    Rajan–Takriti minimum up time, on container counts instead of unit binaries."""
    recent = sum(b.starts[tau] for tau in range(max(0, t - window + 1), t + 1))
    return b.containers_on[t] >= recent + b.started_before[t]


def _m3_min_off(b: pyo.Block, t: int, window: int, n_max: int | pyo.Expression) -> pyo.Expression:
    """M3: containers - containers_on[t] >= Σ_{τ=t-D+1..t} stops[τ] + stopped_before[t]"""
    recent = sum(b.stops[tau] for tau in range(max(0, t - window + 1), t + 1))
    return n_max - b.containers_on[t] >= recent + b.stopped_before[t]
