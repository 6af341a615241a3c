"""HPC / AI data-center load: firm, with SLA penalty (H1), a ride-through requirement (H2) and an
optional flexible share that can be deferred within a window and back ancillary offers (H3)."""

from __future__ import annotations

import pyomo.environ as pyo

from dispatch.model.context import AssetTerms, ModelContext, ReserveSupport, StreamTerm
from dispatch.site import Colocation, GpuCloud, Hpc
from dispatch.streams import Stream

HOURS_PER_MONTH = 8760.0 / 12.0


def build_hpc(b: pyo.Block, spec: Hpc, ctx: ModelContext) -> AssetTerms:
    """Served and unserved HPC facility load [MW] and the contract, pass-through and SLA streams."""
    T, dt, utilization = ctx.intervals, ctx.interval_hours, ctx.utilization
    facility_mw = spec.facility_load_mw
    # SZ: in sizing the installed IT MW is a decision and spec.it_load_mw its upper bound
    it_mw = ctx.sized.hpc_it_mw if ctx.sized and ctx.sized.hpc_it_mw is not None else None
    installed_mw = facility_mw if it_mw is None else it_mw * spec.pue
    b.required_mw = pyo.Expression(T, rule=lambda b, t: installed_mw * utilization[t])
    b.served_mw = pyo.Var(T, bounds=(0, facility_mw))
    b.unserved_mw = pyo.Var(T, bounds=(0, facility_mw))
    if it_mw is not None:
        # SZ: served_mw[t] <= installed IT MW × pue
        b.served_within_installed = pyo.Constraint(
            T, rule=lambda b, t: b.served_mw[t] <= installed_mw
        )
    flexible = spec.flexible_fraction > 0
    if flexible:
        _add_flexible_share(b, spec, ctx)
    b.firm_load = pyo.Constraint(T, rule=lambda b, t: _h1_firm_load(b, t, flexible))
    b.net_injection_mw = pyo.Expression(T, rule=lambda b, t: -b.served_mw[t])
    b.served_mwh = pyo.Expression(expr=sum(b.served_mw[t] * dt for t in T))
    b.unserved_mwh = pyo.Expression(expr=sum(b.unserved_mw[t] * dt for t in T))
    contracted_it_mw = spec.it_load_mw if it_mw is None else it_mw
    b.contract_usd = pyo.Expression(expr=_contract_usd(b, spec, ctx, contracted_it_mw))
    b.sla_penalty_usd = pyo.Expression(expr=-spec.sla_penalty_usd_per_mwh * b.unserved_mwh)
    streams = {
        Stream.HPC_CONTRACT: StreamTerm(b.contract_usd, b.served_mwh),
        Stream.HPC_SLA_PENALTY: StreamTerm(b.sla_penalty_usd, b.unserved_mwh),
    }
    if isinstance(spec.contract, Colocation) and spec.contract.power_pass_through:
        adder = ctx.site.grid.import_adder_usd_per_mwh if ctx.site.grid else 0.0
        price = ctx.price
        b.pass_through_usd = pyo.Expression(
            expr=sum((price[t] + adder) * b.served_mw[t] * dt for t in T)
        )
        streams[Stream.HPC_POWER_PASS_THROUGH] = StreamTerm(b.pass_through_usd, b.served_mwh)
    schedule: dict[str, pyo.Component] = {
        "hpc_required_mw": b.required_mw,
        "hpc_served_mw": b.served_mw,
        "hpc_unserved_mw": b.unserved_mw,
    }
    if flexible:
        streams[Stream.HPC_DEFERRAL] = StreamTerm(b.deferral_usd, b.deferred_mwh)
        schedule["hpc_deferred_mw"] = b.deferred_mw
        schedule["hpc_made_up_mw"] = b.made_up_mw
    ride_through_h = spec.ride_through_minutes / 60.0
    backup_mw = ctx.site.backup_capacity_mw
    if backup_mw == 0:
        # H2 requirement: firm facility load x ride-through time
        b.ride_through_required_mwh = pyo.Expression(
            T, rule=lambda b, t: b.required_mw[t] * ride_through_h
        )
    else:
        # H2 requirement: (firm facility load - backup generation)+ x ride-through time, as an
        # epigraph (the reserve constraint pushes it down to the max). Without the (.)+ a backup
        # larger than the load would give a negative requirement that cancels the energy the
        # battery must hold for its ancillary offers in the same constraint.
        b.ride_through_required_mwh = pyo.Var(T, bounds=(0, None))
        b.ride_through_above_backup = pyo.Constraint(
            T,
            rule=lambda b, t: (
                b.ride_through_required_mwh[t] >= (b.required_mw[t] - backup_mw) * ride_through_h
            ),
        )
    return AssetTerms(
        net_injection_mw=b.net_injection_mw,
        load_mw=b.served_mw,
        streams=streams,
        schedule=schedule,
        ride_through_required_mwh=b.ride_through_required_mwh if ride_through_h > 0 else None,
        reserve=_flexible_reserve(b, spec, ctx) if flexible else None,
    )


def _flexible_reserve(b: pyo.Block, spec: Hpc, ctx: ModelContext) -> ReserveSupport:
    """A1: the running flexible share can be shed on deployment (a Controllable Load Resource).
    A4: a deployed MWh is deferred work: its deferral cost, and its energy is bought back later
    (valued at the same interval's price, so the energy nets out of the deployment)."""
    cost, price = spec.deferral_cost_usd_per_mwh, ctx.price_usd_per_mwh
    lost_value = pyo.Expression(
        ctx.intervals, rule=lambda b, t: cost + (price[t] if price is not None else 0.0)
    )
    b.deployment_lost_value_usd_per_mwh = lost_value
    return ReserveSupport(b.flexible_running_mw, lost_value_usd_per_mwh=lost_value)


def _h1_firm_load(b: pyo.Block, t: int, flexible: bool) -> pyo.Expression:
    """H1: served_mw[t] + unserved_mw[t] == it_load_mw * pue * utilization[t]
    (- deferred_mw[t] + made_up_mw[t] with a flexible share, H3)"""
    if not flexible:
        return b.served_mw[t] + b.unserved_mw[t] == b.required_mw[t]
    shifted = b.made_up_mw[t] - b.deferred_mw[t]
    return b.served_mw[t] + b.unserved_mw[t] == b.required_mw[t] + shifted


def _add_flexible_share(b: pyo.Block, spec: Hpc, ctx: ModelContext) -> None:
    """H3: a share of the load may be deferred and made up later in the same window, at a cost.

    deferred_mw[t] <= flexible_fraction × required_mw[t]; Σ_{t in window w} deferred_mw[t] ==
    Σ_{t in w} made_up_mw[t] (windows of ``flexible_window_minutes`` from each local midnight);
    served never exceeds the facility load, so work is made up only where the load runs below
    it. The flexible load still running, flexible_fraction × required - deferred + made_up,
    can be shed on deployment and backs ancillary offers (A1); the firm share never does.
    """
    T, dt = ctx.intervals, ctx.interval_hours
    share, facility_mw = spec.flexible_fraction, spec.facility_load_mw
    b.deferred_mw = pyo.Var(T, bounds=(0, share * facility_mw))
    b.made_up_mw = pyo.Var(T, bounds=(0, facility_mw))
    b.deferrable = pyo.Constraint(T, rule=lambda b, t: b.deferred_mw[t] <= share * b.required_mw[t])
    width = ctx.intervals_for(spec.flexible_window_minutes)
    # Windows restart at every local midnight, so no deferred work is owed across a day boundary:
    # a rolling run that keeps whole days (with or without look-ahead) never drops deferred work.
    days = ctx.day_of_interval
    day_start = {d: days.index(d) for d in set(days)}
    window_of = [(days[t], (t - day_start[days[t]]) // width) for t in T]
    b.windows = pyo.Set(initialize=sorted(set(window_of)), dimen=2, ordered=True)

    def made_up_in_window(b: pyo.Block, day: int, w: int) -> pyo.Expression:
        """H3: Σ_{t in w} deferred_mw[t] == Σ_{t in w} made_up_mw[t]  (windows within a day)"""
        members = [t for t in T if window_of[t] == (day, w)]
        return sum(b.deferred_mw[t] for t in members) == sum(b.made_up_mw[t] for t in members)

    b.made_up_in_window = pyo.Constraint(b.windows, rule=made_up_in_window)
    b.deferred_mwh = pyo.Expression(expr=sum(b.deferred_mw[t] * dt for t in T))
    b.deferral_usd = pyo.Expression(expr=-spec.deferral_cost_usd_per_mwh * b.deferred_mwh)
    b.flexible_running_mw = pyo.Expression(
        T, rule=lambda b, t: share * b.required_mw[t] - b.deferred_mw[t] + b.made_up_mw[t]
    )


def _contract_usd(
    b: pyo.Block, spec: Hpc, ctx: ModelContext, it_mw: float | pyo.Expression
) -> pyo.Expression | float:
    """Colocation: contracted IT kW x USD/kW-month, pro rata over the horizon (paid whatever is
    drawn). GPU cloud: USD/GPU-hour x GPUs actually served (served IT MW / kW per GPU).
    ``it_mw`` is the contracted IT load [MW]: the site's, or the sizing decision."""
    contract, dt = spec.contract, ctx.interval_hours
    if isinstance(contract, GpuCloud):
        gpus_per_facility_mw = 1000.0 / (contract.kw_per_gpu * spec.pue)
        return sum(
            contract.usd_per_gpu_hour * gpus_per_facility_mw * b.served_mw[t] * dt
            for t in ctx.intervals
        )
    horizon_h = ctx.n_intervals * dt
    return contract.usd_per_kw_month * it_mw * 1000.0 * horizon_h / HOURS_PER_MONTH
