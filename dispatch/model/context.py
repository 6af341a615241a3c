"""What every builder receives (:class:`ModelContext`) and what it hands back (:class:`AssetTerms`).

Time-series data live in mutable Pyomo Params owned by the context, so a built model can be
re-solved with new data (same horizon shape) without being rebuilt.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pyomo.environ as pyo

from dispatch.site import Site
from dispatch.streams import Stream


@dataclass(frozen=True)
class ModelContext:
    """Horizon shape and data handles shared by all builders.

    ``intervals`` is the Pyomo set of interval positions 0..n-1; ``interval_hours`` is Δ [h].
    ``day_of_interval[t]`` numbers the local calendar days of the horizon (0, 1, ...).
    Data Params are ``None`` where the site does not use the series.
    """

    site: Site
    intervals: pyo.Set
    interval_hours: float
    day_of_interval: tuple[int, ...]
    price_usd_per_mwh: pyo.Param | None
    hashprice_usd_per_ph_day: pyo.Param | None
    hpc_utilization_fraction: pyo.Param | None
    capacity_factor: Mapping[str, pyo.Param]

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
    def utilization(self) -> pyo.Param:
        assert self.hpc_utilization_fraction is not None, "validated: HPC sites have utilization"
        return self.hpc_utilization_fraction


@dataclass(frozen=True)
class StreamTerm:
    """One block's contribution to a stream: signed USD and the MWh it is measured against."""

    usd: pyo.Expression
    basis_mwh: pyo.Expression


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
    ``refresh`` re-applies data-dependent structure (e.g. which intervals need a binary) after
    new data is loaded into the context's Params.
    ``state`` reads and writes what the asset carries across horizons (None: nothing).
    ``real_time_flexible`` marks assets whose decisions can change at interval notice when a
    day-ahead schedule is re-dispatched on real-time prices (mining; the grid, which balances).
    """

    net_injection_mw: pyo.Expression
    load_mw: pyo.Expression | None = None
    streams: Mapping[Stream, StreamTerm] = field(default_factory=dict)
    schedule: Mapping[str, pyo.Component] = field(default_factory=dict)
    stored_energy_above_min_mwh: pyo.Expression | None = None
    ride_through_required_mwh: pyo.Expression | None = None
    refresh: Callable[[], None] | None = None
    state: StateHooks | None = None
    real_time_flexible: bool = False
