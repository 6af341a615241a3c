"""What every builder receives (:class:`ModelContext`) and what it hands back (:class:`AssetTerms`).

Time-series data live in mutable Pyomo Params owned by the context, so a built model can be
re-solved with new data (same horizon shape) without being rebuilt.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import pandas as pd
import pyomo.environ as pyo
from pyomo.core.base.var import VarData

from dispatch.site import Site
from dispatch.streams import Stream


@dataclass(frozen=True)
class SizedCapacities:
    """Capacities that are decisions (sizing), as Pyomo Vars or expressions of a sizing block.

    In dispatch there is none (``ModelContext.sized`` is None) and every builder reads its
    capacity from the site file, so dispatch models are unchanged. In sizing the site file holds
    the largest size allowed (the builders' bounds stay valid big-Ms) and a builder whose capacity
    is listed here adds an explicit ``<= capacity`` constraint (tag SZ).

    ``hpc_it_mw`` [MW IT]; ``containers[fleet name]`` [containers]; ``battery`` is (power [MW],
    energy [MWh]).
    """

    hpc_it_mw: pyo.Expression | None = None
    containers: Mapping[str, pyo.Expression] = field(default_factory=dict)
    battery: tuple[pyo.Expression, pyo.Expression] | None = None


@dataclass(frozen=True)
class ModelContext:
    """Horizon shape and data handles shared by all builders.

    ``intervals`` is the Pyomo set of interval positions 0..n-1; ``interval_hours`` is Δ [h].
    ``day_of_interval[t]`` numbers the local calendar days of the horizon (0, 1, ...),
    ``hour_of_interval[t]`` its local clock hours and ``month_of_interval[t]`` its calendar months.
    Data Params are ``None`` (or absent from a mapping) where the site does not use the series.
    ``sized`` holds the capacities that are decisions when the model is part of a sizing model.
    ``da_price_usd_per_mwh`` is present in two-settlement models only (then ``price`` is the
    real-time price that settles deviations).
    """

    site: Site
    intervals: pyo.Set
    interval_hours: float
    day_of_interval: tuple[int, ...]
    price_usd_per_mwh: pyo.Param | None
    hashprice_usd_per_ph_day: pyo.Param | None
    hpc_utilization_fraction: pyo.Param | None
    capacity_factor: Mapping[str, pyo.Param]
    hour_of_interval: tuple[int, ...] = ()
    month_of_interval: tuple[int, ...] = ()
    ancillary_price_usd_per_mw_h: Mapping[str, pyo.Param] = field(default_factory=dict)
    coincident_peak_weight: pyo.Param | None = None
    heat_demand_mw_thermal: pyo.Param | None = None
    dr_active_fraction: Mapping[str, pyo.Param] = field(default_factory=dict)
    dr_baseline_fraction: Mapping[str, pyo.Param] = field(default_factory=dict)
    sized: SizedCapacities | None = None
    da_price_usd_per_mwh: pyo.Param | None = None

    @property
    def two_settlement(self) -> bool:
        """Energy settles as ERCOT does: an hourly day-ahead position at ``da_price`` and the
        deviation at ``price`` (the real-time price); see :mod:`dispatch.model.settlement`."""
        return self.da_price_usd_per_mwh is not None

    @property
    def da_price(self) -> pyo.Param:
        """Day-ahead price [USD/MWh], held over each hour's intervals (two-settlement only)."""
        assert self.da_price_usd_per_mwh is not None, "two-settlement models carry DA prices"
        return self.da_price_usd_per_mwh

    @property
    def n_intervals(self) -> int:
        return len(self.day_of_interval)

    @property
    def interval_minutes(self) -> int:
        return self.site.interval_minutes

    def intervals_for(self, minutes: float) -> int:
        """Whole intervals needed to cover ``minutes`` (at least 1)."""
        return max(1, -(-round(minutes) // self.interval_minutes))

    @property
    def price(self) -> pyo.Param:
        """Energy price [USD/MWh]; present whenever a builder that reads it is built."""
        assert self.price_usd_per_mwh is not None, "inputs were validated to carry prices"
        return self.price_usd_per_mwh

    @property
    def hashprice(self) -> pyo.Param:
        assert self.hashprice_usd_per_ph_day is not None, "validated: mining sites have hashprice"
        return self.hashprice_usd_per_ph_day

    @property
    def hours(self) -> list[int]:
        """The horizon's local clock hours, numbered 0, 1, ..."""
        return sorted(set(self.hour_of_interval))

    @property
    def months(self) -> list[int]:
        return sorted(set(self.month_of_interval))

    @property
    def utilization(self) -> pyo.Param:
        assert self.hpc_utilization_fraction is not None, "validated: HPC sites have utilization"
        return self.hpc_utilization_fraction


class Stage(Enum):
    """Which stage of two-settlement a model is solved for (:mod:`dispatch.model.settlement`).

    ``DAY_AHEAD``: the position follows the plan (T3) and awards must be deliverable (A1).
    ``REAL_TIME``: day-ahead decisions are fixed by the caller, the position no longer follows
    the plan. ``REAL_TIME_FAILING``: as ``REAL_TIME``, and awards that cannot be held may fail
    (charged as ``ancillary_failure``): the last resort when a real state makes them undeliverable.
    """

    DAY_AHEAD = "day_ahead"
    REAL_TIME = "real_time"
    REAL_TIME_FAILING = "real_time_failing"


@dataclass(frozen=True)
class StreamTerm:
    """One block's contribution to a stream: signed USD and the MWh it is measured against."""

    usd: pyo.Expression
    basis_mwh: pyo.Expression


@dataclass(frozen=True)
class ReserveOffer:
    """A1: MW of one ancillary product offered in each interval, how long an energy-limited
    resource backing it must sustain it [h], and the expected share of the awarded MW-h that is
    deployed (A4)."""

    product: str
    offer_mw: pyo.Expression
    sustain_hours: float
    deployment_fraction: float


@dataclass(frozen=True)
class ReserveSupport:
    """What a block can deliver when ancillary offers are deployed (A1-A4).

    ``headroom_mw[t]``: upward flexibility it can deliver at once (load it can shed, discharge or
    output it can add). ``products``: the products it may carry (None: all). An energy-limited
    block gives ``energy_mwh_per_mwh`` (stored MWh drawn per MWh delivered; A2 sustain windows)
    with ``power_rating_mw`` (what it can deliver past the horizon, where it is taken as idle)
    and ``deployed_mw[t]``, a named expression in its own energy balance (0 as built) that the
    coupling sets to the expected deployment it carries [MW]. ``lost_value_usd_per_mwh[t]`` is
    what it gives up per MWh delivered on deployment besides the energy (hashprice, fuel,
    degradation, deferral; the energy itself is credited at the price).
    ``product_headroom_mw[product][t]`` caps what it may carry of one product (e.g. RRS only
    while a relay is armed); ``trip_mw[product][t]`` is what it delivers when that product is
    deployed if not its share of the award (a relay trip drops the whole running load).
    """

    headroom_mw: pyo.Expression
    products: frozenset[str] | None = None
    energy_mwh_per_mwh: float | None = None
    power_rating_mw: pyo.Expression | float | None = None
    deployed_mw: pyo.Expression | None = None
    lost_value_usd_per_mwh: pyo.Expression | float = 0.0
    product_headroom_mw: Mapping[str, pyo.Expression] = field(default_factory=dict)
    trip_mw: Mapping[str, pyo.Expression] = field(default_factory=dict)

    def carries(self, product: str) -> bool:
        return self.products is None or product in self.products


@dataclass(frozen=True)
class DrClaim:
    """A DR event as a block claims it: curtailment [MW] per interval, measured by the coupling
    against ``baseline_mw`` (a Var: fixed, or defined from ``baseline_fraction`` weights of the
    metered import) in the intervals where ``active_fraction`` is 1."""

    curtailed_mw: pyo.Var
    active_fraction: pyo.Param
    baseline_mw: pyo.Var
    baseline_fraction: pyo.Param | None


@dataclass(frozen=True)
class StateHooks:
    """How an asset carries its state from one horizon to the next (rolling horizons).

    ``read(kept, before)`` returns the asset's state at the end of the first ``len(kept)``
    intervals of the solved horizon; ``kept`` holds those intervals' starts and ``before`` is
    the state that was carried into the horizon (``None`` for a fresh start), for histories that
    reach back past the kept window. ``write(state, horizon)`` puts such a state into the block's
    carried-state Params before a solve over ``horizon`` (its interval starts); ``None`` restores
    the builder's fresh-start defaults. A state is a small frozen, picklable value owned by the
    builder (e.g. :class:`dispatch.model.battery.BatteryState`); the roller never looks inside.
    """

    read: Callable[[pd.DatetimeIndex, Any], Any]
    write: Callable[[Any, pd.DatetimeIndex], None]


@dataclass(frozen=True)
class AssetTerms:
    """What a builder exposes; the balance, reserves and objective sum these and name no asset.

    ``net_injection_mw[t]`` is positive when the asset supplies the site bus, negative when it
    consumes. ``load_mw`` is the part that counts as site load (HPC, mining) for per-MWh KPIs.
    ``schedule`` maps output column names (units in the name) to indexed components.
    ``refresh`` re-applies data-dependent structure after new data is loaded into the
    context's Params. ``enforce`` makes binary the relaxed variables a solution needs (a physical
    rule the relaxed solution breaks; every one of them when ``everywhere``) and returns how
    many it switched: the solver re-solves until none is needed. ``settle`` moves a solution to
    the canonical point of its optimal face where the objective is indifferent (e.g. which MWh
    count as PPA energy and which as spot), so reported streams do not depend on the solver's
    path.

    Markets and programs: ``reserve`` is what a block can deliver when ancillary offers are
    deployed (:class:`ReserveSupport`: mining load it can shed, battery discharge headroom,
    online generator headroom, flexible HPC load). ``reserve_offers`` are the offers a program
    block makes.
    ``metered_import_mw[t]`` is what the grid meter sees (DR events are measured on it);
    ``dr_claims`` are the events a program block claims. ``waste_heat_mw_thermal[t]`` is heat a
    block rejects; ``heat_drawn_mw_thermal[t]`` is waste heat a block takes (X1).
    ``state`` reads and writes what the asset carries across horizons (None: nothing).

    Two-settlement (models built with ``two_settlement``): ``day_ahead_decisions`` are the
    block's variables decided the day before (the hourly energy position, the ancillary awards),
    which the real-time stage holds fixed; ``set_stage`` sets the bounds a :class:`Stage` needs.
    ``hedge_gap_mw[h]`` is the day-ahead position minus the plan's mean market position in
    hour h (T3; 0 in the day-ahead stage): a scenario model bounds its expectation instead.

    ``fix_rounded`` recovers integers from a relaxed solution (scenario models): it fixes the
    block's integer decisions (container counts, the battery's direction) at values that keep
    the relaxed solution's continuous decisions feasible where such values exist, or close to
    it, and returns the variables it fixed (the caller frees them again).
    """

    net_injection_mw: pyo.Expression
    load_mw: pyo.Expression | None = None
    streams: Mapping[Stream, StreamTerm] = field(default_factory=dict)
    schedule: Mapping[str, pyo.Component] = field(default_factory=dict)
    stored_energy_above_min_mwh: pyo.Expression | None = None
    ride_through_required_mwh: pyo.Expression | None = None
    refresh: Callable[[], None] | None = None
    enforce: Callable[[bool], int] | None = None
    settle: Callable[[], None] | None = None
    reserve: ReserveSupport | None = None
    reserve_offers: tuple[ReserveOffer, ...] = ()
    metered_import_mw: pyo.Expression | None = None
    dr_claims: tuple[DrClaim, ...] = ()
    waste_heat_mw_thermal: pyo.Expression | None = None
    heat_drawn_mw_thermal: pyo.Expression | None = None
    state: StateHooks | None = None
    day_ahead_decisions: tuple[pyo.Var, ...] = ()
    set_stage: Callable[[Stage], None] | None = None
    hedge_gap_mw: pyo.Var | None = None
    fix_rounded: Callable[[], list[VarData]] | None = None
