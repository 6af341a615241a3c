"""What the grid connection costs beyond energy: coincident peak (P1), demand charge (P2) and a
fixed-price PPA block with power credits (P3). Helpers of the grid builder, one per tariff.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pyomo.environ as pyo

from dispatch.model.context import ModelContext, StateHooks, StreamTerm
from dispatch.site import CoincidentPeak, DemandCharge, Grid, Ppa
from dispatch.streams import Stream


def add_coincident_peak(b: pyo.Block, spec: CoincidentPeak, ctx: ModelContext) -> StreamTerm:
    """P1: expected charge = Σ_t weight[t] × (usd_per_mw_year / peaks_per_year) × import_mw[t].

    ``weight[t]`` (input ``coincident_peak_weight``) is the probability that interval t is a
    coincident-peak interval, so the sum is the expected transmission charge the horizon's
    imports cause. Measured against the horizon's grid import [MWh].
    """
    assert ctx.coincident_peak_weight is not None, "validated: CP sites carry weights"
    weight, rate = ctx.coincident_peak_weight, spec.usd_per_mw_peak
    b.coincident_peak_usd = pyo.Expression(
        expr=-rate * sum(weight[t] * b.import_mw[t] for t in ctx.intervals)
    )
    return StreamTerm(b.coincident_peak_usd, b.import_mwh)


def add_demand_charge(b: pyo.Block, spec: DemandCharge, ctx: ModelContext) -> StreamTerm:
    """P2: charge = usd_per_mw_month × Σ_months (peak_import_mw[m] - peak_before_mw[m]).

    ``month_to_date_peak_mw`` (mutable Param, default 0) is the peak import already set earlier
    in the horizon's first month; months that start inside the horizon start from 0. Only the
    increase is charged, so rolling days that carry the month-to-date peak add up to the bill.
    """
    T = ctx.intervals
    b.months = pyo.Set(initialize=ctx.months, ordered=True)
    b.month_to_date_peak_mw = pyo.Param(mutable=True, initialize=0.0, within=pyo.NonNegativeReals)
    b.peak_import_mw = pyo.Var(b.months, bounds=(0, None))
    first = ctx.months[0]

    def above_import(b: pyo.Block, t: int) -> pyo.Expression:
        """P2: peak_import_mw[month(t)] >= import_mw[t]  ∀t"""
        return b.peak_import_mw[ctx.month_of_interval[t]] >= b.import_mw[t]

    b.peak_above_import = pyo.Constraint(T, rule=above_import)
    # P2: the first month's peak is at least the peak carried in
    b.peak_above_carried = pyo.Constraint(expr=b.peak_import_mw[first] >= b.month_to_date_peak_mw)
    increase = sum(b.peak_import_mw[m] for m in b.months) - b.month_to_date_peak_mw
    b.demand_charge_usd = pyo.Expression(expr=-spec.usd_per_mw_month * increase)
    return StreamTerm(b.demand_charge_usd, b.import_mwh)


def settle_demand_peaks(b: pyo.Block, ctx: ModelContext) -> None:
    """P2 canonical peaks: each month's peak is its largest import (and, in the first month, at
    least the carried peak): the least the constraints allow, which an optimum with a positive
    rate already has. It matters where a solution is held on a shorter window than it was solved
    over (the kept day of a look-ahead solve), which must not pay for the look-ahead's peak."""
    for month in b.months:
        imports = [
            b.import_mw[t].value or 0.0 for t in ctx.intervals if ctx.month_of_interval[t] == month
        ]
        b.peak_import_mw[month].set_value(max([carried_peak_mw(b, ctx, month), *imports]))


def carried_peak_mw(b: pyo.Block, ctx: ModelContext, month: int) -> float:
    """P2: the least peak import [MW] ``month`` can have: the month-to-date peak carried in for
    the horizon's first month, 0 for a month that starts inside the horizon."""
    return pyo.value(b.month_to_date_peak_mw) if month == ctx.months[0] else 0.0


@dataclass(frozen=True)
class DemandPeakState:
    """P2 carried state: the local (year, month) and the peak grid import set in it so far [MW]."""

    month: tuple[int, int]
    peak_import_mw: float


def demand_peak_hooks(b: pyo.Block) -> StateHooks:
    """Carry the month-to-date peak import across horizons (rolling days of a month)."""

    def read(kept: pd.DatetimeIndex, before: DemandPeakState | None) -> DemandPeakState:
        month = (kept[-1].year, kept[-1].month)
        in_month = [t for t, start in enumerate(kept) if (start.year, start.month) == month]
        peak = max((b.import_mw[t].value or 0.0) for t in in_month)
        if before is not None and before.month == month:
            peak = max(peak, before.peak_import_mw)
        return DemandPeakState(month, peak)

    def write(state: DemandPeakState | None, horizon: pd.DatetimeIndex) -> None:
        first = (horizon[0].year, horizon[0].month)
        carried = state.peak_import_mw if state is not None and state.month == first else 0.0
        b.month_to_date_peak_mw.set_value(carried)

    return StateHooks(read, write)


def add_ppa(b: pyo.Block, spec: Ppa, grid: Grid, ctx: ModelContext) -> dict[Stream, StreamTerm]:
    """P3: the block is bought at its fixed price every interval; import is split into the block
    energy used and energy bought at spot, and the unused block is resold at spot.

    import_mw[t] = ppa_used_mw[t] + spot_import_mw[t];  resold[t] = volume - ppa_used_mw[t].
    The split only attributes money between the streams: the objective is
    price × (volume - import) + constant whatever the split, which is why dispatch follows the
    spot price and not the PPA price. So no binary decides it: :func:`settle_ppa_split` puts the
    solution at the canonical split (spot energy only once the block is used up).
    """
    T, dt, price = ctx.intervals, ctx.interval_hours, ctx.price
    volume = spec.volume_mw
    spot_room = max(0.0, grid.import_limit_mw - volume)
    b.ppa_used_mw = pyo.Var(T, bounds=(0, min(volume, grid.import_limit_mw)))
    b.spot_import_mw = pyo.Var(T, bounds=(0, spot_room))
    b.ppa_split = pyo.Constraint(T, rule=_p3_split)
    b.ppa_resold_mw = pyo.Expression(T, rule=lambda b, t: volume - b.ppa_used_mw[t])
    horizon_h = ctx.n_intervals * dt
    b.ppa_block_mwh = pyo.Expression(expr=volume * horizon_h)
    # the block at its fixed price, plus the import adder (wires, fees) on the block energy used
    adder = grid.import_adder_usd_per_mwh
    b.ppa_energy_usd = pyo.Expression(
        expr=-spec.price_usd_per_mwh * volume * horizon_h
        - adder * sum(b.ppa_used_mw[t] * dt for t in T)
    )
    b.ppa_resold_mwh = pyo.Expression(expr=sum(b.ppa_resold_mw[t] * dt for t in T))
    b.power_credits_usd = pyo.Expression(expr=sum(price[t] * b.ppa_resold_mw[t] * dt for t in T))
    return {
        Stream.PPA_ENERGY: StreamTerm(b.ppa_energy_usd, b.ppa_block_mwh),
        Stream.POWER_CREDITS: StreamTerm(b.power_credits_usd, b.ppa_resold_mwh),
    }


def settle_ppa_split(b: pyo.Block, spec: Ppa, ctx: ModelContext) -> None:
    """P3 canonical split of a solved import: ppa_used = min(import, volume), the rest at spot.

    Feasible (same import, within both bounds) and of the same objective, since the objective
    does not depend on the split.
    """
    for t in ctx.intervals:
        imported = b.import_mw[t].value or 0.0
        used = min(imported, spec.volume_mw)
        b.ppa_used_mw[t].set_value(used)
        b.spot_import_mw[t].set_value(imported - used)


def _p3_split(b: pyo.Block, t: int) -> pyo.Expression:
    """P3: import_mw[t] == ppa_used_mw[t] + spot_import_mw[t]"""
    return b.import_mw[t] == b.ppa_used_mw[t] + b.spot_import_mw[t]
