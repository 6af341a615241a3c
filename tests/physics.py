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
    if g.import_adder_usd_per_mwh <= 0:  # a binary below 0; netted after the solve at 0
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


def _ride_through_mwh(site: Site, c: Checker) -> np.ndarray:
    """H2: energy the HPC's ride-through needs in each interval [MWh]."""
    if site.hpc is None or site.hpc.ride_through_minutes <= 0:
        return np.zeros(len(c.schedule))
    uncovered = np.clip(required_hpc_mw(site, c.schedule) - site.backup_capacity_mw, 0, None)
    return uncovered * site.hpc.ride_through_minutes / 60


def _battery(site: Site, c: Checker) -> None:
    battery = site.battery
    if battery is None:
        return
    eta = math.sqrt(battery.round_trip_efficiency)
    dt = hours(site)
    charge, discharge = c.column("battery_charge_mw"), c.column("battery_discharge_mw")
    drawn = c.column("battery_expected_deployment_mw")  # A4: f × what the battery carries
    soc = c.column("battery_soc_mwh")
    start = battery.initial_soc_fraction * battery.energy_mwh
    expected = start + np.cumsum(eta * charge * dt - (discharge + drawn) * dt / eta)
    c.check("S1", np.abs(soc - expected) <= 1e-5, "soc = soc + η·c·Δ − (d + deployed)·Δ/η")
    floor = battery.min_soc_fraction * battery.energy_mwh
    c.check("S1", (soc >= floor - TOLERANCE) & (soc <= battery.energy_mwh + TOLERANCE), "bounds")
    c.check("S1", np.array([soc[-1] >= start - TOLERANCE]), "ends at its reference SoC")
    c.check("S1", np.minimum(charge, discharge) <= TOLERANCE, "no charge and discharge at once")
    required = _ride_through_mwh(site, c)
    c.check("H2", soc - floor >= required - 1e-5, "stored energy >= ride-through")
    carried = {
        o.product: c.column(columns.reserve_backing(o.product, "battery"))
        for o in site.ancillary_offers
        if columns.reserve_backing(o.product, "battery") in c.schedule
    }
    if carried:
        _a2_replay(site, c, carried, floor + required)


def _a2_replay(
    site: Site, c: Checker, carried: dict[str, np.ndarray], floor_mwh: np.ndarray
) -> None:
    """A2, physically: deploy every award the battery carries in full from any interval, on top
    of the schedule, for each product's sustain time (the battery idle past the horizon): the SoC
    stays above the minimum + ride-through and the output within the power rating. Exact flows:
    a deployment that only cuts charging loses η per MWh, one that discharges 1/η."""
    battery = site.battery
    assert battery is not None
    eta, dt, n = math.sqrt(battery.round_trip_efficiency), hours(site), len(c.schedule)
    lengths = {
        o.product: math.ceil(round(o.sustain_hours * 60) / site.interval_minutes)
        for o in site.ancillary_offers
        if o.product in carried
    }
    charge, discharge = c.column("battery_charge_mw"), c.column("battery_discharge_mw")
    drawn, soc = c.column("battery_expected_deployment_mw"), c.column("battery_soc_mwh")
    short, over = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    for start in range(n):
        level = soc[start - 1] if start else battery.initial_soc_fraction * battery.energy_mwh
        for j in range(max(lengths.values())):
            tau, inside = start + j, start + j < n
            row = min(tau, n - 1)
            deployed = sum(carried[p][start] for p, k in lengths.items() if j < k)
            net = deployed + (discharge[row] - charge[row] if inside else 0.0)
            level -= (net / eta if net >= 0 else net * eta) * dt
            level -= drawn[row] * dt / eta if inside else 0.0
            short[start] |= level < floor_mwh[row] - 1e-5
            over[start] |= net > battery.power_mw + TOLERANCE
    c.check("A2", ~short, "a full deployment keeps the SoC above minimum + ride-through")
    c.check("A2", ~over, "a full deployment stays within the power rating")


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


def _headroom_by_block(site: Site, c: Checker) -> dict[str, np.ndarray]:
    """A1 upward flexibility of each block that may carry reserves [MW]."""
    found = {}
    for fleet in site.fleets:
        found[f"mining_{fleet.name}"] = c.column(columns.mining(fleet.name, "power_mw"))
    if site.hpc is not None and site.hpc.flexible_fraction > 0:
        share = site.hpc.flexible_fraction * required_hpc_mw(site, c.schedule)
        found["hpc"] = share - c.column("hpc_deferred_mw") + c.column("hpc_made_up_mw")
    for g in site.economic_generators:
        on = c.column(columns.generator(g.name, "on"))
        power = c.column(columns.generator(g.name, "power_mw"))
        found[f"generator_{g.name}"] = g.capacity_mw * on - power
    if site.battery is not None:
        charge, discharge = c.column("battery_charge_mw"), c.column("battery_discharge_mw")
        found["battery"] = site.battery.power_mw - discharge + charge
    return found


def _programs(site: Site, c: Checker) -> None:
    offers = site.ancillary_offers
    if offers:
        headroom = _headroom_by_block(site, c)
        carried = {block: np.zeros(len(c.schedule)) for block in headroom}
        hour = c.schedule.index.floor("h")
        for offer in offers:
            mw = c.column(columns.ancillary(offer.product, "offer_mw"))
            failed_column = columns.ancillary(offer.product, "failed_mw")
            failed = c.column(failed_column) if failed_column in c.schedule else 0 * mw
            c.check("A1", (mw >= -TOLERANCE) & (mw <= offer.max_mw + TOLERANCE), "0..max_mw")
            spread = pd.Series(mw).groupby(hour.asi8).transform(lambda s: s.max() - s.min())
            c.check("A1", spread.to_numpy() <= TOLERANCE, f"{offer.product} constant per hour")
            c.check("T4", (failed >= -TOLERANCE) & (failed <= mw + TOLERANCE), "0..award")
            split = np.zeros(len(mw))
            for block in headroom:
                name = columns.reserve_backing(offer.product, block)
                if name not in c.schedule:
                    continue
                part = c.column(name)
                c.check("A1", part >= -TOLERANCE, f"{name} >= 0")
                split += part
                carried[block] += part
            # A1: every delivered MW is carried by some block
            c.check("A1", np.abs(split - (mw - failed)) <= 1e-5, f"{offer.product} split")
        for block, mw in carried.items():
            c.check("A1", mw <= headroom[block] + TOLERANCE, f"{block} carries <= its headroom")
        _relays(site, c)
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


def _relays(site: Site, c: Checker) -> None:
    """A3: a fleet on an under-frequency relay trips its whole running load when armed, carries
    RRS only while armed and never carries regulation."""
    for fleet in site.fleets:
        if fleet.load_resource != "ufr":
            continue
        block = f"mining_{fleet.name}"
        regulation = columns.reserve_backing("REGUP", block)
        if regulation in c.schedule:
            c.check("A3", c.column(regulation) <= TOLERANCE, f"{fleet.name} carries no REGUP")
        armed_column = columns.mining(fleet.name, "rrs_relay_armed")
        if armed_column not in c.schedule:
            continue
        armed = c.column(armed_column)
        power = c.column(columns.mining(fleet.name, "power_mw"))
        trip = c.column(columns.mining(fleet.name, "rrs_trip_mw"))
        c.check("A3", np.abs(trip - power * armed) <= 1e-5, f"{fleet.name} trip = load × armed")
        days = pd.Series(armed).groupby(c.schedule.index.tz_convert(site.timezone).date)
        c.check("A3", (days.transform("nunique") == 1).to_numpy(), "armed per local day")
        rrs = columns.reserve_backing("RRS", block)
        if rrs in c.schedule:
            c.check("A3", (c.column(rrs) <= TOLERANCE) | (armed > 0.5), "RRS only while armed")
