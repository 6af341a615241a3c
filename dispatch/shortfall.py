"""Why HPC load went unserved: the limits that bound where it was shed.

H1 lets the model leave HPC load unserved at the SLA penalty when no supply is left. The streams
show the penalty; this says *which* limit left no supply (a daily fuel budget used up, generators
at capacity, the grid at its import limit, the battery down to its floor), reading the schedule
and the site file only (no solver), each limit named by its site-file field.
"""

from __future__ import annotations

import pandas as pd

from dispatch import columns
from dispatch.site import Site

TOLERANCE = 1e-6  # relative: a quantity within this of its limit is at the limit


def _at(value: pd.Series, limit: float) -> pd.Series:
    return value >= limit - TOLERANCE * max(1.0, abs(limit))


def binding_limits(site: Site, schedule: pd.DataFrame) -> list[str]:
    """The limits at which supply stood in the intervals where HPC load was unserved, one
    phrase each (empty when the HPC was served in full)."""
    if site.hpc is None or "hpc_unserved_mw" not in schedule.columns:
        return []
    shed = schedule["hpc_unserved_mw"] > TOLERANCE
    if not shed.any():
        return []
    where = schedule[shed]
    count = f"of {int(shed.sum())} interval(s) with load shed"
    limits = []
    if site.grid is None:
        limits.append("no grid connection")
    elif _at(where["grid_import_mw"], site.grid.import_limit_mw).any():
        n = int(_at(where["grid_import_mw"], site.grid.import_limit_mw).sum())
        limits.append(f"grid.import_limit_mw = {site.grid.import_limit_mw:g} MW (in {n} {count})")
    days = pd.Index(pd.DatetimeIndex(schedule.index).date)
    for i, unit in enumerate(site.generators):
        if unit.role != "economic":
            continue
        field = f"generators[{i}]"
        power = where[columns.generator(unit.name, "power_mw")]
        if _at(power, unit.capacity_mw).any():
            n = int(_at(power, unit.capacity_mw).sum())
            limits.append(
                f"{field}.capacity_mw = {unit.capacity_mw:g} MW ({unit.name}, in {n} {count})"
            )
        budget = unit.fuel_limit_mmbtu_per_day
        if budget is not None:
            fuel = schedule[columns.generator(unit.name, "fuel_mmbtu")].groupby(days).sum()
            shed_days = sorted(set(days[shed.to_numpy()]))
            spent = [d for d in shed_days if fuel[d] >= budget - TOLERANCE * max(1.0, budget)]
            if spent:
                listed = ", ".join(map(str, spent[:3])) + (" ..." if len(spent) > 3 else "")
                limits.append(
                    f"{field}.fuel_limit_mmbtu_per_day = {budget:g} MMBtu ({unit.name} burned all "
                    f"of it on {listed})"
                )
    battery = site.battery
    if battery is not None:
        floor = battery.min_soc_fraction * battery.energy_mwh + site.ride_through_energy_mwh()
        low = where["battery_soc_mwh"] <= floor + TOLERANCE * max(1.0, floor)
        if low.any():
            reserve = " + the H2 ride-through reserve" if site.ride_through_energy_mwh() else ""
            limits.append(
                f"battery at its floor: min_soc_fraction{reserve} ({floor:g} MWh, in "
                f"{int(low.sum())} {count})"
            )
        if _at(where["battery_discharge_mw"], battery.power_mw).any():
            limits.append(f"battery.power_mw = {battery.power_mw:g} MW")
    for i, plant in enumerate(site.renewables):
        output = where[columns.renewable(plant.name, "output_mw")]
        if (output > TOLERANCE).any():
            limits.append(f"renewables[{i}] ({plant.name}) at capacity x capacity factor")
    return limits or [
        "no grid, generator, battery or renewable limit (check generator ramp and min up/down "
        "times)"
    ]


def hpc_shortfall(site: Site, schedule: pd.DataFrame) -> str | None:
    """One line: HPC energy unserved and the limits that bound it; None when fully served."""
    limits = binding_limits(site, schedule)
    if not limits:
        return None
    unserved_mwh = float(schedule["hpc_unserved_mw"].sum()) * site.interval_minutes / 60.0
    return (
        f"HPC load unserved: {unserved_mwh:,.3f} MWh (paid at hpc.sla_penalty_usd_per_mwh); "
        f"supply was bound by {'; '.join(limits)}"
    )
