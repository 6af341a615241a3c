"""State carried across horizons, and moving a solution between models of the same site.

Every asset that carries state exposes :class:`~dispatch.model.context.StateHooks`; this module
only loops over the blocks that do, so a new asset plugs in without editing it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pyomo.environ as pyo

from dispatch.inputs import HPC_UTILIZATION, Inputs
from dispatch.model.battery import BatteryState
from dispatch.model.build import BuiltModel
from dispatch.model.mining import FleetState
from dispatch.site import Site


@dataclass(frozen=True)
class SiteState:
    """What every stateful asset carries into the next horizon, by block name.

    The values are the builders' own frozen state objects (``BatteryState``, ``FleetState``,
    ``GeneratorState``, ...); ``SiteState()`` or ``None`` is a fresh start.
    """

    assets: Mapping[str, Any] = field(default_factory=dict)

    def get(self, block: str) -> Any:
        return self.assets.get(block)


def state_problems(site: Site, inputs: Inputs, state: SiteState | None) -> list[str]:
    """Carried-in state that no schedule can start from, each problem naming its cause: values
    out of range, or a battery below the H2 ride-through reserve of the first interval by more
    than one interval of charging at full power can restore (the model would be infeasible)."""
    if state is None:
        return []
    problems = []
    battery = state.get("battery")
    if site.battery is not None and isinstance(battery, BatteryState):
        spec = site.battery
        soc = battery.soc_mwh
        if not (math.isfinite(soc) and -1e-9 <= soc <= spec.energy_mwh + 1e-9):
            problems.append(
                f"state: battery soc_mwh = {soc} is outside 0..battery.energy_mwh "
                f"({spec.energy_mwh:g} MWh)"
            )
        else:
            floor = spec.min_soc_fraction * spec.energy_mwh + _ride_through_mwh(site, inputs)
            dt_hours = site.interval_minutes / 60.0
            recharge = math.sqrt(spec.round_trip_efficiency) * spec.power_mw * dt_hours
            if soc + recharge < floor - 1e-6:
                problems.append(
                    f"state: the battery starts at {soc:g} MWh, below what the first interval "
                    f"must hold ({floor:g} MWh: min_soc_fraction x energy_mwh plus the H2 "
                    "ride-through reserve for the HPC load), and one interval of charging at "
                    f"power_mw adds at most {recharge:g} MWh: no schedule can start from it"
                )
    for i, fleet in enumerate(site.fleets):
        carried = state.get(f"mining_{fleet.name}")
        if isinstance(carried, FleetState) and not 0 <= carried.containers_on <= fleet.containers:
            problems.append(
                f"state: mining.fleets[{i}] ({fleet.name}) carries {carried.containers_on} "
                f"containers running, outside 0..{fleet.containers}"
            )
    return problems


def _ride_through_mwh(site: Site, inputs: Inputs) -> float:
    """H2 energy required at the first interval [MWh]: (firm HPC facility load x utilization
    - backup)+ x ride-through time."""
    if site.hpc is None or site.hpc.ride_through_minutes == 0:
        return 0.0
    utilization = (
        float(inputs.frame[HPC_UTILIZATION].iloc[0])
        if HPC_UTILIZATION in inputs.frame.columns
        else 1.0
    )
    load_mw = site.hpc.facility_load_mw * utilization - site.backup_capacity_mw
    return max(0.0, load_mw) * site.hpc.ride_through_minutes / 60.0


def read_state(built: BuiltModel, kept: pd.DatetimeIndex, before: SiteState | None) -> SiteState:
    """The state at the end of the first ``len(kept)`` intervals of ``built``'s solution."""
    before = before or SiteState()
    return SiteState(
        {
            name: terms.state.read(kept, before.get(name))
            for name, terms in built.blocks
            if terms.state is not None
        }
    )


def write_state(built: BuiltModel, state: SiteState | None, horizon: pd.DatetimeIndex) -> None:
    """Carried state into ``built``'s Params (``None``: every asset's fresh-start defaults)."""
    state = state or SiteState()
    for name, terms in built.blocks:
        if terms.state is not None:
            terms.state.write(state.get(name), horizon)


def _variables(built: BuiltModel) -> list[pyo.Var]:
    return list(built.model.component_objects(pyo.Var, descend_into=True))


def copy_solution(source: BuiltModel, target: BuiltModel) -> None:
    """Give ``target``'s variables the values ``source``'s have at the same indices.

    Both models are built from the same site, so their variables come in the same order; the
    target's horizon is the source's or a prefix of it (the kept window of a look-ahead solve).
    """
    pairs = zip(_variables(source), _variables(target), strict=True)
    for from_var, to_var in pairs:
        if from_var.getname(fully_qualified=True) != to_var.getname(fully_qualified=True):
            raise ValueError("models of different sites: variables do not line up")
        for index, data in to_var.items():
            data.set_value(from_var[index].value, skip_validation=True)


def settle_solution(built: BuiltModel) -> None:
    """Put the solution at each block's canonical point (``AssetTerms.settle``)."""
    for _, terms in built.blocks:
        if terms.settle is not None:
            terms.settle()
