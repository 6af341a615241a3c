"""Assemble the model: data Params, one block per asset, balance, reserves, objective.

Adding an asset type means one spec class, one builder and one line in :func:`site_assets`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from dispatch.inputs import (
    COINCIDENT_PEAK_WEIGHT,
    DA_PRICE,
    HASHPRICE,
    HEAT_DEMAND,
    HPC_UTILIZATION,
    PRICE,
    Inputs,
    ancillary_price_column,
    capacity_factor_column,
)
from dispatch.inputs.programs import dr_active_column, dr_baseline_column
from dispatch.model.balance import build_balance, build_heat_recovery, build_ride_through
from dispatch.model.battery import build_battery
from dispatch.model.context import AssetTerms, ModelContext, SizedCapacities
from dispatch.model.generators import build_generator
from dispatch.model.grid import build_grid
from dispatch.model.heat import build_heat_reuse
from dispatch.model.hpc import build_hpc
from dispatch.model.mining import build_mining_fleet
from dispatch.model.objective import build_objective
from dispatch.model.programs import build_ancillary_offer, build_dr_event
from dispatch.model.renewables import build_renewable
from dispatch.model.reserves import build_dr_measurement, build_reserves
from dispatch.site import Site
from dispatch.streams import Stream

Builder = Callable[[pyo.Block, ModelContext], AssetTerms]


def _bind(builder: Callable[..., AssetTerms], spec: object, **extra: object) -> Builder:
    """A builder with its spec (and any extra settings) bound: ``(block, ctx) -> AssetTerms``."""
    return lambda block, ctx: builder(block, spec, ctx, **extra)


def site_assets(site: Site) -> list[tuple[str, Builder]]:
    """(block name, builder) for every asset the site has, in a fixed order."""
    assets: list[tuple[str, Builder]] = []
    if site.grid is not None:
        assets.append(("grid", _bind(build_grid, site.grid)))
    if site.hpc is not None:
        assets.append(("hpc", _bind(build_hpc, site.hpc)))
    for fleet in site.fleets:
        fee = site.mining.pool_fee_fraction if site.mining else 0.0
        build = _bind(build_mining_fleet, fleet, pool_fee_fraction=fee)
        assets.append((f"mining_{fleet.name}", build))
    if site.battery is not None:
        assets.append(("battery", _bind(build_battery, site.battery)))
    for generator in site.economic_generators:
        assets.append((f"generator_{generator.name}", _bind(build_generator, generator)))
    for renewable in site.renewables:
        assets.append((f"renewable_{renewable.name}", _bind(build_renewable, renewable)))
    for offer in site.ancillary_offers:
        assets.append((f"ancillary_{offer.product.lower()}", _bind(build_ancillary_offer, offer)))
    for event in site.dr_events:
        assets.append((f"dr_{event.name}", _bind(build_dr_event, event)))
    if site.heat_reuse is not None:
        assets.append(("heat_reuse", _bind(build_heat_reuse, site.heat_reuse)))
    return assets


NS_PER_S = 1_000_000_000
NS_PER_DAY = 86_400 * NS_PER_S


def _wall_ns(index: pd.DatetimeIndex) -> np.ndarray:
    """Local wall-clock time of each interval start [ns since the epoch, as if it were UTC]."""
    return index.tz_localize(None).as_unit("ns").asi8


def day_numbers(index: pd.DatetimeIndex) -> tuple[int, ...]:
    """Local calendar day of each interval, numbered 0, 1, ... from the horizon's first day."""
    return _days(_wall_ns(index))


def hour_numbers(index: pd.DatetimeIndex) -> tuple[int, ...]:
    """Local clock hour of each interval, numbered 0, 1, ... (a repeated DST hour counts twice)."""
    return _hours(index, _wall_ns(index))


def month_numbers(index: pd.DatetimeIndex) -> tuple[int, ...]:
    """Local calendar month of each interval, numbered 0, 1, ... from the horizon's first month."""
    return _months(_wall_ns(index))


def horizon_shape(index: pd.DatetimeIndex) -> tuple[tuple[int, ...], ...]:
    """Days, hours and months of a horizon: models of equal shape re-solve each other's data."""
    wall = _wall_ns(index)
    return _days(wall), _hours(index, wall), _months(wall)


def _days(wall: np.ndarray) -> tuple[int, ...]:
    days = wall // NS_PER_DAY
    return tuple((days - days[0]).tolist())


def _hours(index: pd.DatetimeIndex, wall: np.ndarray) -> tuple[int, ...]:
    into_hour_ns = (wall // NS_PER_S % 3600) * NS_PER_S  # local minutes and seconds
    return _runs(index.as_unit("ns").asi8 - into_hour_ns)  # each hour's start (UTC)


def _months(wall: np.ndarray) -> tuple[int, ...]:
    return _runs(wall.astype("datetime64[ns]").astype("datetime64[M]").astype(np.int64))


def _runs(values: np.ndarray) -> tuple[int, ...]:
    """0, 1, ... numbering the runs of equal values (time-ordered values never come back)."""
    return tuple(np.concatenate([[0], np.cumsum(values[1:] != values[:-1])]).tolist())


@dataclass(frozen=True)
class BuiltModel:
    """A built Pyomo model (or one day block of a sizing model) with its context, the blocks'
    terms, the streams present and the schedule columns of the site-wide couplings."""

    model: pyo.Block
    ctx: ModelContext
    blocks: tuple[tuple[str, AssetTerms], ...]
    streams: tuple[Stream, ...]
    schedule: Mapping[str, pyo.Component] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[tuple[int, ...], ...]:
        """Models with the same shape can be re-solved with each other's data."""
        return self.ctx.day_of_interval, self.ctx.hour_of_interval, self.ctx.month_of_interval


def build_model(site: Site, inputs: Inputs, *, two_settlement: bool = False) -> BuiltModel:
    """Build the dispatch MILP for ``site`` over the horizon of ``inputs``; load its data.

    ``two_settlement``: energy settles as a day-ahead position and real-time deviations
    (:mod:`dispatch.model.settlement`); ``inputs`` then carry ``da_price_usd_per_mwh`` beside
    the real-time ``price_usd_per_mwh``.
    """
    return build_block(
        pyo.ConcreteModel(name=site.name), site, inputs, two_settlement=two_settlement
    )


def build_block(
    m: pyo.Block,
    site: Site,
    inputs: Inputs,
    sized: SizedCapacities | None = None,
    *,
    two_settlement: bool = False,
) -> BuiltModel:
    """Build the dispatch of ``site`` over ``inputs`` into the block ``m`` and load its data.

    ``sized`` (sizing only) makes some capacities decisions of an enclosing sizing model; the
    site then holds their upper bounds. The block carries its own ``margin_usd`` objective,
    which an enclosing model deactivates to sum the blocks' ``stream_usd`` itself.
    ``two_settlement``: see :func:`build_model`.
    """
    index = inputs.index
    m.intervals = pyo.Set(initialize=range(len(index)), ordered=True)

    def series(column: str) -> pyo.Param | None:
        if column not in inputs.frame.columns:
            return None
        param = pyo.Param(m.intervals, mutable=True, initialize=0.0)
        m.add_component(column, param)
        return param

    def required(column: str) -> pyo.Param:
        param = series(column)
        assert param is not None, f"validated: the inputs carry {column}"
        return param

    ctx = ModelContext(
        site=site,
        intervals=m.intervals,
        interval_hours=site.interval_minutes / 60.0,
        day_of_interval=day_numbers(index),
        price_usd_per_mwh=series(PRICE),
        hashprice_usd_per_ph_day=series(HASHPRICE),
        hpc_utilization_fraction=series(HPC_UTILIZATION),
        capacity_factor={
            r.profile: series(capacity_factor_column(r.profile)) for r in site.renewables
        },
        hour_of_interval=hour_numbers(index),
        month_of_interval=month_numbers(index),
        ancillary_price_usd_per_mw_h={
            o.product: required(ancillary_price_column(o.product)) for o in site.ancillary_offers
        },
        coincident_peak_weight=series(COINCIDENT_PEAK_WEIGHT),
        heat_demand_mw_thermal=series(HEAT_DEMAND),
        dr_active_fraction={e.name: required(dr_active_column(e.name)) for e in site.dr_events},
        dr_baseline_fraction={
            e.name: required(dr_baseline_column(e.name))
            for e in site.dr_events
            if e.baseline == "scheduled"
        },
        sized=sized,
        da_price_usd_per_mwh=required(DA_PRICE) if two_settlement else None,
    )
    blocks = []
    for name, build in site_assets(site):
        block = pyo.Block()
        m.add_component(name, block)
        blocks.append((name, build(block, ctx)))
    terms = [t for _, t in blocks]
    build_balance(m, terms, ctx)
    build_ride_through(m, terms, ctx)
    build_dr_measurement(m, terms, ctx)
    build_heat_recovery(m, terms, ctx)
    reserves = build_reserves(m, blocks, ctx)
    if reserves is not None:
        blocks.append(("reserves", reserves))
    streams = build_objective(m, [t for _, t in blocks])
    built = BuiltModel(m, ctx, tuple(blocks), tuple(streams))
    load_data(built, inputs)
    return built


def load_data(
    built: BuiltModel, inputs: Inputs, shape: tuple[tuple[int, ...], ...] | None = None
) -> None:
    """Write ``inputs`` into the model's data Params and re-apply data-dependent structure.

    ``shape`` is the horizon shape of ``inputs`` if the caller has it already."""
    if (shape or horizon_shape(inputs.index)) != built.shape:
        raise ValueError("inputs do not have the horizon shape this model was built for")
    m = built.model
    table = inputs.frame.to_numpy(dtype=float)
    for k, column in enumerate(inputs.frame.columns):
        param = m.component(column)
        if isinstance(param, pyo.Param):  # a data column (another column may share a block's name)
            # validated inputs: written straight into the Param's data
            param.store_values(dict(enumerate(table[:, k].tolist())), check=False)
    for _, terms in built.blocks:
        if terms.refresh is not None:
            terms.refresh()
