"""ERCOT two-settlement of the grid connection (T1, T2): a helper of the grid builder.

The site's *market position* in interval t is what it takes from the market at its settlement
point, buy positive: ``market_net_mw[t] = import_mw[t] - export_mw[t] - ppa_volume_mw``. The PPA
block is supply delivered at the node (a bilateral trade), so the market sees the site net of it:
an unused block is sold, which is what single settlement calls power credits.

* **T1 day-ahead position**: one number per local clock hour, ``da_position_mw[h]`` (buy
  positive, sell negative), settled at the DAM settlement point price:
  ``da_energy = -Σ_t da_price[t] × da_position_mw[h(t)] × Δ``.
* **T2 real-time deviation**: the metered market position minus the day-ahead position, settled
  at the real-time price of each interval:
  ``rt_deviation = -Σ_t price[t] × (market_net_mw[t] - da_position_mw[h(t)]) × Δ``.
* **T3 hedge rule**: the day-ahead stage buys its own plan,
  ``da_position_mw[h] = mean_{t in h} market_net_mw[t] + hedge_gap_mw[h]`` with the gap fixed at
  0 (bounds). The real-time stage fixes the position (bounds) and frees the gap, which makes T3
  inert. Both stages are the same model: only variable bounds change between them, so a
  persistent solver re-solves one model per day shape.

What does not move to the market: the import adder (wires, losses, fees) is a charge on metered
import (``grid_import_adder`` on the energy beyond the PPA block; ``ppa_energy`` keeps the adder
on the block energy used, as in single settlement); coincident peak (P1) and demand charge (P2)
are transmission and distribution tariffs on the metered import, unchanged.

With real-time prices equal to day-ahead prices the two settlements give the same money:
da_energy + rt_deviation = -Σ price × market_net × Δ = grid_energy_purchase + grid_energy_sale +
power_credits (their price parts) + the constant PPA block term, with the adder unchanged.
"""

from __future__ import annotations

import pyomo.environ as pyo

from dispatch.model.context import ModelContext, Stage, StreamTerm
from dispatch.site import Grid
from dispatch.streams import Stream


def add_two_settlement(b: pyo.Block, spec: Grid, ctx: ModelContext) -> dict[Stream, StreamTerm]:
    """T1-T3 on the grid block ``b`` (which holds ``import_mw``, ``export_mw`` and
    ``spot_import_mwh``, the import beyond the PPA block); returns the ``da_energy``,
    ``rt_deviation`` and ``grid_import_adder`` stream terms."""
    T, dt = ctx.intervals, ctx.interval_hours
    rt_price, da_price = ctx.price, ctx.da_price
    ppa_mw = spec.ppa.volume_mw if spec.ppa is not None else 0.0
    hour = ctx.hour_of_interval
    b.hours = pyo.Set(initialize=ctx.hours, ordered=True)
    b.market_net_mw = pyo.Expression(T, rule=lambda b, t: b.import_mw[t] - b.export_mw[t] - ppa_mw)
    # T1: -(export_limit + ppa) <= da_position_mw[h] <= import_limit - ppa
    b.da_position_mw = pyo.Var(
        b.hours, bounds=(-(spec.export_limit_mw + ppa_mw), spec.import_limit_mw - ppa_mw)
    )
    b.hedge_gap_mw = pyo.Var(b.hours, bounds=(0.0, 0.0))
    members = {h: [t for t in T if hour[t] == h] for h in ctx.hours}

    def hedge(b: pyo.Block, h: int) -> pyo.Expression:
        """T3: da_position_mw[h] == mean_{t in h} market_net_mw[t] + hedge_gap_mw[h]"""
        mean = sum(b.market_net_mw[t] for t in members[h]) / len(members[h])
        return b.da_position_mw[h] == mean + b.hedge_gap_mw[h]

    b.position_from_plan = pyo.Constraint(b.hours, rule=hedge)
    b.da_position_interval_mw = pyo.Expression(T, rule=lambda b, t: b.da_position_mw[hour[t]])
    b.rt_deviation_mw = pyo.Expression(
        T, rule=lambda b, t: b.market_net_mw[t] - b.da_position_mw[hour[t]]
    )
    b.da_energy_mwh = pyo.Expression(expr=sum(b.da_position_interval_mw[t] * dt for t in T))
    b.rt_deviation_mwh = pyo.Expression(expr=sum(b.rt_deviation_mw[t] * dt for t in T))
    b.da_energy_usd = pyo.Expression(
        expr=-sum(da_price[t] * b.da_position_interval_mw[t] * dt for t in T)
    )
    b.rt_deviation_usd = pyo.Expression(
        expr=-sum(rt_price[t] * b.rt_deviation_mw[t] * dt for t in T)
    )
    adder = spec.import_adder_usd_per_mwh
    b.import_adder_usd = pyo.Expression(expr=-adder * b.spot_import_mwh)
    return {
        Stream.DA_ENERGY: StreamTerm(b.da_energy_usd, b.da_energy_mwh),
        Stream.RT_DEVIATION: StreamTerm(b.rt_deviation_usd, b.rt_deviation_mwh),
        Stream.GRID_IMPORT_ADDER: StreamTerm(b.import_adder_usd, b.spot_import_mwh),
    }


def set_grid_stage(b: pyo.Block, stage: Stage) -> None:
    """T3 holds in the day-ahead stage only: the real-time stage frees the hedge gap."""
    day_ahead = stage is Stage.DAY_AHEAD
    for h in b.hours:
        b.hedge_gap_mw[h].setlb(0.0 if day_ahead else None)
        b.hedge_gap_mw[h].setub(0.0 if day_ahead else None)
