"""The README's constraints restated on a schedule: what a feasible schedule must satisfy,
checked from the site file and the schedule's physical columns (never the model).

:func:`violations` lists every constraint a schedule breaks, each naming its tag, the interval
and the numbers. A constraint dropped or loosened in a builder shows here whenever the optimizer
takes advantage of it; a constraint made too tight needs a known-answer test instead.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from independent import (
    Before,
    dr_curtailment_mw,
    fleet_hashrate_ph_s,
    hours,
    ppa_split_mw,
    required_hpc_mw,
)

from dispatch import columns
from dispatch.site import Site

TOLERANCE = 1e-6  # MW, MWh, PH/s


def _at(schedule: pd.DataFrame, mask: np.ndarray) -> str:
    where = np.flatnonzero(mask)
    return f"{len(where)} interval(s), first {schedule.index[where[0]]}"


class Checker:
    """Collects violations: ``check(tag, holds_per_interval, detail)``."""

    def __init__(self, schedule: pd.DataFrame) -> None:
        self.schedule = schedule
        self.found: list[str] = []

    def check(self, tag: str, holds: np.ndarray, detail: str) -> None:
        broken = ~np.asarray(holds, dtype=bool)
        if broken.any():
            self.found.append(f"{tag}: {detail} broken in {_at(self.schedule, broken)}")

    def column(self, name: str) -> np.ndarray:
        return self.schedule[name].to_numpy(dtype=float)


def violations(site: Site, schedule: pd.DataFrame, before: Before | None = None) -> list[str]:
    """Every documented constraint the schedule breaks (empty: feasible)."""
    before = before or Before()
    c = Checker(schedule)
    _grid(site, c)
    _hpc(site, c)
    _mining(site, c, before)
    _battery(site, c)
    _generators(site, c, before)
    _programs(site, c)
    _balance(site, c)
    return c.found


def _grid(site: Site, c: Checker) -> None:
    if site.grid is None:
        return
    imported, exported = c.column("grid_import_mw"), c.column("grid_export_mw")
    g = site.grid
    c.check("G1", imported <= g.import_limit_mw + TOLERANCE, "import <= import_limit_mw")
    c.check("G1", exported <= g.export_limit_mw + TOLERANCE, "export <= export_limit_mw")
    if g.import_adder_usd_per_mwh < 0:
        c.check("G2", np.minimum(imported, exported) <= TOLERANCE, "no import and export at once")
    if g.ppa is not None:
        used, _ = ppa_split_mw(site, c.schedule)
        c.check("P3", np.abs(c.column("ppa_used_mw") - used) <= TOLERANCE, "used = min(import, V)")


def _hpc(site: Site, c: Checker) -> None:
    if site.hpc is None:
        return
    required = required_hpc_mw(site, c.schedule)
    c.check("H1", np.abs(c.column("hpc_required_mw") - required) <= TOLERANCE, "required load")
    served, unserved = c.column("hpc_served_mw"), c.column("hpc_unserved_mw")
    shifted = np.zeros(len(required))
    if site.hpc.flexible_fraction > 0:
        deferred, made_up = c.column("hpc_deferred_mw"), c.column("hpc_made_up_mw")
        shifted = made_up - deferred
        share = site.hpc.flexible_fraction
        c.check("H3", deferred <= share * required + TOLERANCE, "deferred <= share x required")
        c.check("H3", served <= site.hpc.facility_load_mw + TOLERANCE, "served <= facility")
        # windows of flexible_window_minutes counted from each local midnight
        width = max(1, math.ceil(round(site.hpc.flexible_window_minutes) / site.interval_minutes))
        frame = pd.DataFrame({"deferred": deferred, "made_up": made_up}, index=c.schedule.index)
        day = pd.Index(c.schedule.index.date)
        position = frame.groupby(day).cumcount().to_numpy()
        window = pd.MultiIndex.from_arrays([day, position // width])
        sums = frame.groupby(window).sum()
        balanced = np.abs(sums["deferred"] - sums["made_up"]).to_numpy() <= TOLERANCE
        if not balanced.all():
            c.found.append(f"H3: deferred != made up in windows {list(sums.index[~balanced])}")
    c.check("H1", np.abs(served + unserved - required - shifted) <= TOLERANCE, "served+unserved")


def _mining(site: Site, c: Checker, before: Before) -> None:
    for fleet in site.fleets:
        n = c.column(columns.mining(fleet.name, "containers_on"))
        power = c.column(columns.mining(fleet.name, "power_mw"))
        low, high = fleet.power_range_fraction
        mw = fleet.container_mw
        c.check("M1", (n >= -TOLERANCE) & (n <= fleet.containers + TOLERANCE), "0 <= n <= N")
        c.check("M1", power >= low * mw * n - TOLERANCE, f"{fleet.name} power >= lo·P·n")
        c.check("M1", power <= high * mw * n + TOLERANCE, f"{fleet.name} power <= hi·P·n")
        hashrate = c.column(columns.mining(fleet.name, "hashrate_ph_s"))
        expected = fleet_hashrate_ph_s(fleet, c.schedule)
        c.check("M2", np.abs(hashrate - expected) <= 1e-6 * (1 + expected), "hashrate on curve")
        starts = np.clip(
            np.diff(n, prepend=before.containers_on.get(fleet.name, fleet.containers)), 0, None
        )
        stops = np.clip(
            -np.diff(n, prepend=before.containers_on.get(fleet.name, fleet.containers)), 0, None
        )
        dt_minutes = site.interval_minutes
        if fleet.min_on_minutes > 0:
            window = max(1, math.ceil(round(fleet.min_on_minutes) / dt_minutes))
            recent = pd.Series(starts).rolling(window, min_periods=1).sum().to_numpy()
            c.check("M3", n >= recent - TOLERANCE, f"{fleet.name} min-on {window} intervals")
        if fleet.min_off_minutes > 0:
            window = max(1, math.ceil(round(fleet.min_off_minutes) / dt_minutes))
            recent = pd.Series(stops).rolling(window, min_periods=1).sum().to_numpy()
            c.check(
                "M3",
                fleet.containers - n >= recent - TOLERANCE,
                f"{fleet.name} min-off {window} intervals",
            )


def _battery(site: Site, c: Checker) -> None:
    battery = site.battery
    if battery is None:
        return
    eta = math.sqrt(battery.round_trip_efficiency)
    dt = hours(site)
    charge, discharge = c.column("battery_charge_mw"), c.column("battery_discharge_mw")
    soc = c.column("battery_soc_mwh")
    start = battery.initial_soc_fraction * battery.energy_mwh
    expected = start + np.cumsum(eta * charge * dt - discharge * dt / eta)
    c.check("S1", np.abs(soc - expected) <= 1e-5, "soc = soc + η·c·Δ − d·Δ/η")
    floor = battery.min_soc_fraction * battery.energy_mwh
    c.check("S1", (soc >= floor - TOLERANCE) & (soc <= battery.energy_mwh + TOLERANCE), "bounds")
    c.check("S1", np.array([soc[-1] >= start - TOLERANCE]), "ends at its reference SoC")
    c.check("S1", np.minimum(charge, discharge) <= TOLERANCE, "no charge and discharge at once")
    # H2 + A1: energy above the minimum holds the ride-through and what backed offers sustain
    required = np.zeros(len(soc))
    if site.hpc is not None and site.hpc.ride_through_minutes > 0:
        uncovered = np.clip(required_hpc_mw(site, c.schedule) - site.backup_capacity_mw, 0, None)
        required = uncovered * site.hpc.ride_through_minutes / 60
    for offer in site.ancillary_offers:
        backed = c.column(columns.ancillary(offer.product, "storage_backed_mw"))
        required = required + backed * offer.sustain_hours / eta
    c.check("H2", soc - floor >= required - 1e-5, "stored energy >= ride-through + sustain")


def _generators(site: Site, c: Checker, before: Before) -> None:
    dt = hours(site)
    for g in site.economic_generators:
        on = c.column(columns.generator(g.name, "on"))
        power = c.column(columns.generator(g.name, "power_mw"))
        c.check("U1", power <= g.capacity_mw * on + TOLERANCE, f"{g.name} power <= cap·on")
        c.check("U1", power >= g.min_stable_fraction * g.capacity_mw * on - TOLERANCE, "min stable")
        fuel = c.column(columns.generator(g.name, "fuel_mmbtu"))
        c.check("U1", np.abs(fuel - g.heat_rate_mmbtu_per_mwh * power * dt) <= 1e-6, "fuel")
        was_on = before.generator_on.get(g.name, 0)
        starts = np.clip(np.diff(on, prepend=was_on), 0, None)
        stops = np.clip(-np.diff(on, prepend=was_on), 0, None)
        for minutes, events, state, what in (
            (g.min_up_minutes, starts, on, "min up"),
            (g.min_down_minutes, stops, 1 - on, "min down"),
        ):
            if minutes > 0:
                window = max(1, math.ceil(round(minutes) / site.interval_minutes))
                recent = pd.Series(events).rolling(window, min_periods=1).sum().to_numpy()
                c.check("U1", state >= recent - TOLERANCE, f"{g.name} {what} {window} intervals")
        if g.ramp_mw_per_minute is not None:
            ramp = g.ramp_mw_per_minute * site.interval_minutes
            step = np.diff(power, prepend=0.0)
            c.check("U1", step <= ramp + g.capacity_mw * starts + TOLERANCE, f"{g.name} ramp up")
            c.check("U1", -step <= ramp + g.capacity_mw * stops + TOLERANCE, f"{g.name} ramp down")
        if g.fuel_limit_mmbtu_per_day is not None:
            daily = pd.Series(fuel).groupby(pd.Index(c.schedule.index.date)).sum().to_numpy()
            c.check("U1", daily <= g.fuel_limit_mmbtu_per_day + 1e-6, f"{g.name} fuel budget")


def _headroom_mw(site: Site, c: Checker) -> tuple[np.ndarray, np.ndarray]:
    """A1 upward flexibility: (mining + flexible HPC + generators, battery)."""
    free = np.zeros(len(c.schedule))
    for fleet in site.fleets:
        free += c.column(columns.mining(fleet.name, "power_mw"))
    if site.hpc is not None and site.hpc.flexible_fraction > 0:
        share = site.hpc.flexible_fraction * required_hpc_mw(site, c.schedule)
        free += share - c.column("hpc_deferred_mw") + c.column("hpc_made_up_mw")
    for g in site.economic_generators:
        on = c.column(columns.generator(g.name, "on"))
        free += g.capacity_mw * on - c.column(columns.generator(g.name, "power_mw"))
    battery = np.zeros(len(c.schedule))
    if site.battery is not None:
        charge, discharge = c.column("battery_charge_mw"), c.column("battery_discharge_mw")
        battery = site.battery.power_mw - discharge + charge
    return free, battery


def _programs(site: Site, c: Checker) -> None:
    offers = site.ancillary_offers
    if offers:
        free, battery = _headroom_mw(site, c)
        total = np.zeros(len(c.schedule))
        backed = np.zeros(len(c.schedule))
        hour = c.schedule.index.floor("h")
        for offer in offers:
            mw = c.column(columns.ancillary(offer.product, "offer_mw"))
            part = (
                c.column(columns.ancillary(offer.product, "storage_backed_mw"))
                if site.battery is not None  # the only energy-limited asset
                else np.zeros(len(mw))
            )
            c.check("A1", (mw >= -TOLERANCE) & (mw <= offer.max_mw + TOLERANCE), "0..max_mw")
            spread = pd.Series(mw).groupby(hour.asi8).transform(lambda s: s.max() - s.min())
            c.check("A1", spread.to_numpy() <= TOLERANCE, f"{offer.product} constant per hour")
            c.check("A1", (part >= -TOLERANCE) & (part <= mw + TOLERANCE), "backed <= offer")
            total += mw
            backed += part
        c.check("A1", backed <= battery + TOLERANCE, "backed <= battery power − d + c")
        c.check("A1", total <= free + backed + TOLERANCE, "offers <= headroom")
    if site.heat_reuse is not None:
        heat = c.column("heat_sold_mw_thermal")
        mining_mw = sum(c.column(columns.mining(f.name, "power_mw")) for f in site.fleets)
        demand = (
            c.column("heat_demand_mw_thermal")
            if "heat_demand_mw_thermal" in c.schedule
            else site.heat_reuse.max_mw_thermal
        )
        c.check("X1", heat <= site.heat_reuse.recovery_fraction * mining_mw + TOLERANCE, "heat")
        c.check("X1", heat <= demand + TOLERANCE, "heat <= demand")
    for event in site.dr_events:
        curtailed, _ = dr_curtailment_mw(site, c.schedule)[event.name]
        reported = c.column(columns.dr_event(event.name, "curtailed_mw"))
        c.check("DR", np.abs(reported - curtailed) <= 1e-5, f"{event.name} curtailment")


def _balance(site: Site, c: Checker) -> None:
    supply = np.zeros(len(c.schedule))
    demand = np.zeros(len(c.schedule))
    if site.grid is not None:
        supply += c.column("grid_import_mw")
        demand += c.column("grid_export_mw")
    if site.battery is not None:
        supply += c.column("battery_discharge_mw")
        demand += c.column("battery_charge_mw")
    for g in site.economic_generators:
        supply += c.column(columns.generator(g.name, "power_mw"))
    for r in site.renewables:
        output = c.column(columns.renewable(r.name, "output_mw"))
        available = r.capacity_mw * c.column(f"{r.profile}_capacity_factor")
        c.check("R1", output <= available + TOLERANCE, f"{r.name} output <= capacity × profile")
        supply += output
    if site.hpc is not None:
        demand += c.column("hpc_served_mw")
    for fleet in site.fleets:
        demand += c.column(columns.mining(fleet.name, "power_mw"))
    c.check("B1", np.abs(supply - demand) <= 1e-5, "supply = demand")
    load = c.column("site_load_mw")
    expected = sum(c.column(columns.mining(f.name, "power_mw")) for f in site.fleets) + (
        c.column("hpc_served_mw") if site.hpc is not None else 0.0
    )
    c.check("KPI", np.abs(load - expected) <= TOLERANCE, "site_load_mw = HPC served + mining")
