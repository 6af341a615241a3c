"""Every stream and KPI re-derived from the site file and the schedule columns alone.

Nothing here imports the model: each function reads the site spec (``dispatch.site``) and the
physical columns of the schedule (MW, MWh, counts, prices) and recomputes one line of the streams
table as the README's Streams and KPIs sections define it. A wrong expression in a builder (a
missing interval length Δ, a dropped adder, a sum where a mean belongs) therefore shows up as a
difference between the result and these numbers; comparing the result with Pyomo's evaluation of
its own expressions could never show it.

The functions assume an optimal schedule where the documented definition leaves a quantity to the
optimizer: container and unit starts are the count increases (start-up costs make extra starts a
loss), and DR curtailment is as much as the baseline and ``committed_mw`` allow (it is paid).

To add a stream: write ``def <stream>(site, schedule, before) -> Money | None`` (``None`` where the
site does not have the stream) in the order of the README's streams table and register it in
:data:`STREAMS`; ``test_independent.py`` fails for a :class:`~dispatch.streams.Stream` member that
is not registered. KPIs likewise in :func:`kpis` / :data:`SOLVER_KPIS`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dispatch import columns
from dispatch.site import Colocation, MiningFleet, Site
from dispatch.streams import Stream

HOURS_PER_MONTH = 8760.0 / 12.0  # README: a month = 730 h


@dataclass(frozen=True)
class Money:
    """One line of the streams table: signed USD and the MWh (or MW-h) it is measured against."""

    usd: float
    basis_mwh: float


@dataclass(frozen=True)
class Before:
    """State just before the schedule's first interval. Defaults: a fresh single solve (every
    container running, generators off, no month-to-date peak)."""

    containers_on: Mapping[str, int] = field(default_factory=dict)
    generator_on: Mapping[str, int] = field(default_factory=dict)
    month_to_date_peak_mw: float = 0.0


def hours(site: Site) -> float:
    """Δ [h]."""
    return site.interval_minutes / 60.0


def _series(schedule: pd.DataFrame, column: str) -> np.ndarray:
    return schedule[column].to_numpy(dtype=float)


def _sum_mwh(site: Site, mw: np.ndarray) -> float:
    return float(mw.sum() * hours(site))


def _price(schedule: pd.DataFrame) -> np.ndarray:
    return _series(schedule, "price_usd_per_mwh")


def _adder(site: Site) -> float:
    return site.grid.import_adder_usd_per_mwh if site.grid else 0.0


def ppa_split_mw(site: Site, schedule: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(block energy used, energy bought at spot) [MW]: the block is used first (README, P3)."""
    imported = _series(schedule, "grid_import_mw")
    volume = site.grid.ppa.volume_mw if site.grid and site.grid.ppa else 0.0
    used = np.minimum(imported, volume)
    return used, imported - used


def required_hpc_mw(site: Site, schedule: pd.DataFrame) -> np.ndarray:
    """H1: IT load × PUE × utilization (utilization defaults to 1)."""
    assert site.hpc is not None
    utilization = (
        _series(schedule, "hpc_utilization_fraction")
        if "hpc_utilization_fraction" in schedule
        else np.ones(len(schedule))
    )
    return site.hpc.it_load_mw * site.hpc.pue * utilization


def fleet_hashrate_ph_s(fleet: MiningFleet, schedule: pd.DataFrame) -> np.ndarray:
    """M2 at the optimum: n containers sharing power p run at p/n each, on the efficiency curve
    (points joined linearly in power-hashrate space; no curve: flat at the nominal J/TH)."""
    n = _series(schedule, columns.mining(fleet.name, "containers_on"))
    power = _series(schedule, columns.mining(fleet.name, "power_mw"))
    low, high = fleet.power_range_fraction
    curve = fleet.efficiency_curve or (
        [(low, fleet.efficiency_j_per_th)]
        if low == high
        else [(low, fleet.efficiency_j_per_th), (high, fleet.efficiency_j_per_th)]
    )
    mw = np.array([f * fleet.container_mw for f, _ in curve])
    ph_s = mw * 1000.0 / np.array([e for _, e in curve])  # MW × 1e6 W / (J/TH) / 1000 = PH/s
    running = n > 0.5
    per_container_mw = np.where(running, power / np.maximum(n, 1), 0.0)
    per_container = ph_s[0] if len(curve) == 1 else np.interp(per_container_mw, mw, ph_s)
    return np.where(running, n * per_container, 0.0)


def _increases(counts: np.ndarray, before: float) -> np.ndarray:
    return np.clip(np.diff(counts, prepend=before), 0, None)


def _mining_mw(site: Site, schedule: pd.DataFrame) -> np.ndarray:
    total = np.zeros(len(schedule))
    for fleet in site.fleets:
        total += _series(schedule, columns.mining(fleet.name, "power_mw"))
    return total


def _generator_mw(site: Site, schedule: pd.DataFrame) -> np.ndarray:
    total = np.zeros(len(schedule))
    for g in site.economic_generators:
        total += _series(schedule, columns.generator(g.name, "power_mw"))
    return total


# --- streams, in the order of the README's streams table ------------------------------------------


def hpc_contract(site: Site, schedule: pd.DataFrame, before: Before) -> Money | None:
    if site.hpc is None:
        return None
    served_mwh = _sum_mwh(site, _series(schedule, "hpc_served_mw"))
    contract = site.hpc.contract
    if isinstance(contract, Colocation):
        horizon_h = len(schedule) * hours(site)
        usd = contract.usd_per_kw_month * site.hpc.it_load_mw * 1000 * horizon_h / HOURS_PER_MONTH
    else:
        gpu_hours = served_mwh * 1000 / (contract.kw_per_gpu * site.hpc.pue)
        usd = contract.usd_per_gpu_hour * gpu_hours
    return Money(usd, served_mwh)


def hpc_power_pass_through(site: Site, schedule: pd.DataFrame, before: Before) -> Money | None:
    hpc = site.hpc
    if hpc is None or not (
        isinstance(hpc.contract, Colocation) and hpc.contract.power_pass_through
    ):
        return None
    served = _series(schedule, "hpc_served_mw")
    usd = ((_price(schedule) + _adder(site)) * served).sum() * hours(site)
    return Money(float(usd), _sum_mwh(site, served))


def hpc_sla_penalty(site: Site, schedule: pd.DataFrame, before: Before) -> Money | None:
    if site.hpc is None:
        return None
    unserved_mwh = _sum_mwh(site, _series(schedule, "hpc_unserved_mw"))
    return Money(-site.hpc.sla_penalty_usd_per_mwh * unserved_mwh, unserved_mwh)


def hpc_deferral(site: Site, schedule: pd.DataFrame, before: Before) -> Money | None:
    if site.hpc is None or site.hpc.flexible_fraction == 0:
        return None
    deferred_mwh = _sum_mwh(site, _series(schedule, "hpc_deferred_mw"))
    return Money(-site.hpc.deferral_cost_usd_per_mwh * deferred_mwh, deferred_mwh)


def mining_hashprice(site: Site, schedule: pd.DataFrame, before: Before) -> Money | None:
    if not site.fleets:
        return None
    assert site.mining is not None
    hashprice = _series(schedule, "hashprice_usd_per_ph_day")
    ph_days = sum(fleet_hashrate_ph_s(f, schedule) for f in site.fleets) * hours(site) / 24
    usd = (hashprice * ph_days).sum() * (1 - site.mining.pool_fee_fraction)
    return Money(float(usd), _sum_mwh(site, _mining_mw(site, schedule)))


def mining_startups(site: Site, schedule: pd.DataFrame, before: Before) -> Money | None:
    if not site.fleets:
        return None
    usd = 0.0
    for fleet in site.fleets:
        counts = _series(schedule, columns.mining(fleet.name, "containers_on"))
        running_before = before.containers_on.get(fleet.name, fleet.containers)
        usd -= fleet.startup_cost_usd * _increases(counts, running_before).sum()
    return Money(usd, _sum_mwh(site, _mining_mw(site, schedule)))


def heat_sales(site: Site, schedule: pd.DataFrame, before: Before) -> Money | None:
    if site.heat_reuse is None:
        return None
    sold_mwh = _sum_mwh(site, _series(schedule, "heat_sold_mw_thermal"))
    return Money(site.heat_reuse.price_usd_per_mwh_thermal * sold_mwh, sold_mwh)


def _ancillary(product: str) -> Callable[[Site, pd.DataFrame, Before], Money | None]:
    def stream(site: Site, schedule: pd.DataFrame, before: Before) -> Money | None:
        offers = [o for o in site.ancillary_offers if o.product == product]
        if not offers:
            return None
        mw = _series(schedule, columns.ancillary(product, "offer_mw"))
        price = _series(schedule, f"{product.lower()}_usd_per_mw_h")
        return Money(float((price * mw).sum() * hours(site)), _sum_mwh(site, mw))

    return stream


def lost_value_usd_per_mwh(site: Site, schedule: pd.DataFrame) -> dict[str, np.ndarray]:
    """A4: what each block that may carry reserves gives up per MWh deployed: a container's
    hashprice at nominal efficiency net of the pool fee, a generator's fuel, the battery's
    degradation, and for deferred HPC work its deferral cost plus the energy bought back later
    (at the same interval's price)."""
    n = len(schedule)
    found = {}
    fee = site.mining.pool_fee_fraction if site.mining else 0.0
    for fleet in site.fleets:
        hashprice = _series(schedule, "hashprice_usd_per_ph_day")
        found[f"mining_{fleet.name}"] = (
            hashprice * 1000 / fleet.efficiency_j_per_th / 24 * (1 - fee)
        )
    if site.hpc is not None:
        found["hpc"] = site.hpc.deferral_cost_usd_per_mwh + _price(schedule)
    for g in site.economic_generators:
        found[f"generator_{g.name}"] = np.full(
            n, g.heat_rate_mmbtu_per_mwh * g.fuel_price_usd_per_mmbtu
        )
    if site.battery is not None:
        found["battery"] = np.full(n, site.battery.degradation_usd_per_mwh)
    return found


def ancillary_deployment(site: Site, schedule: pd.DataFrame, before: Before) -> Money | None:
    """A4: each block delivers f_a × the part of award a it carries (a relay fleet's RRS: f × its
    whole trip) and earns the price less its lost value per MWh."""
    if not site.ancillary_offers:
        return None
    usd = mwh = 0.0
    for block, lost in lost_value_usd_per_mwh(site, schedule).items():
        for offer in site.ancillary_offers:
            name = columns.reserve_backing(offer.product, block)
            if name not in schedule:
                continue
            carried = _series(schedule, name)
            trip = f"{block}_rrs_trip_mw"
            if offer.product == "RRS" and trip in schedule:
                carried = _series(schedule, trip)  # the relay drops the whole fleet
            delivered = offer.deployment_fraction * carried
            usd += float((delivered * (_price(schedule) - lost)).sum() * hours(site))
            mwh += _sum_mwh(site, delivered)
    return Money(usd, mwh)


def dr_curtailment_mw(site: Site, schedule: pd.DataFrame) -> dict[str, tuple[np.ndarray, float]]:
    """Per event: curtailment [MW] per interval and the baseline [MW], from the metered import
    (grid import − export) and the event as the site file sets it: scheduled baseline = mean
    metered import over ``baseline_minutes`` before the start; curtailment = min(committed,
    baseline − metered) inside [start, end), 0 outside."""
    metered = _series(schedule, "grid_import_mw") - _series(schedule, "grid_export_mw")
    starts = schedule.index
    events = {}
    for event in site.dr_events:
        active = (starts >= event.start) & (starts < event.end)
        if event.baseline == "fixed":
            assert event.baseline_mw is not None
            baseline = event.baseline_mw
        else:
            window_start = event.start - pd.Timedelta(minutes=event.baseline_minutes)
            window = (starts >= window_start) & (starts < event.start)
            baseline = float(metered[window].mean())
        curtailed = np.where(active, np.minimum(event.committed_mw, baseline - metered), 0.0)
        events[event.name] = (curtailed, baseline)
    return events


def dr_events(site: Site, schedule: pd.DataFrame, before: Before) -> Money | None:
    if not site.dr_events:
        return None
    usd = basis = 0.0
    curtailment = dr_curtailment_mw(site, schedule)
    for event in site.dr_events:
        curtailed, _ = curtailment[event.name]
        active = (schedule.index >= event.start) & (schedule.index < event.end)
        shortfall = np.where(active, np.clip(event.committed_mw - curtailed, 0, None), 0.0)
        usd += (event.usd_per_mwh * curtailed - event.penalty_usd_per_mwh * shortfall).sum()
        basis += curtailed.sum()
    return Money(usd * hours(site), basis * hours(site))


def two_settlement(schedule: pd.DataFrame) -> bool:
    """A two-settlement result (T1-T4) carries its day-ahead position."""
    return "da_position_mw" in schedule


def ancillary_failure(site: Site, schedule: pd.DataFrame, before: Before) -> Money | None:
    """T4: each product's failed MW-h charged back at its own clearing price."""
    if not two_settlement(schedule) or not site.ancillary_offers:
        return None
    usd = basis = 0.0
    for offer in site.ancillary_offers:
        failed = _series(schedule, columns.ancillary(offer.product, "failed_mw"))
        price = _series(schedule, f"{offer.product.lower()}_usd_per_mw_h")
        usd -= float((price * failed).sum() * hours(site))
        basis += _sum_mwh(site, failed)
    return Money(usd, basis)


def grid_energy_purchase(site: Site, schedule: pd.DataFrame, before: Before) -> Money | None:
    if site.grid is None or two_settlement(schedule):
        return None
    _, spot = ppa_split_mw(site, schedule)
    usd = -((_price(schedule) + _adder(site)) * spot).sum() * hours(site)
    return Money(float(usd), _sum_mwh(site, spot))


def grid_energy_sale(site: Site, schedule: pd.DataFrame, before: Before) -> Money | None:
    if site.grid is None or site.grid.export_limit_mw == 0 or two_settlement(schedule):
        return None
    export = _series(schedule, "grid_export_mw")
    return Money(float((_price(schedule) * export).sum() * hours(site)), _sum_mwh(site, export))


def ppa_energy(site: Site, schedule: pd.DataFrame, before: Before) -> Money | None:
    if site.grid is None or site.grid.ppa is None:
        return None
    ppa = site.grid.ppa
    block_mwh = ppa.volume_mw * len(schedule) * hours(site)
    used, _ = ppa_split_mw(site, schedule)
    usd = -ppa.price_usd_per_mwh * block_mwh - _adder(site) * _sum_mwh(site, used)
    return Money(usd, block_mwh)


def power_credits(site: Site, schedule: pd.DataFrame, before: Before) -> Money | None:
    if site.grid is None or site.grid.ppa is None or two_settlement(schedule):
        return None
    used, _ = ppa_split_mw(site, schedule)
    resold = site.grid.ppa.volume_mw - used
    return Money(float((_price(schedule) * resold).sum() * hours(site)), _sum_mwh(site, resold))


def grid_import_adder(site: Site, schedule: pd.DataFrame, before: Before) -> Money | None:
    """Two-settlement: the adder on the energy imported beyond the PPA block (the block's own
    adder stays in ppa_energy)."""
    if site.grid is None or not two_settlement(schedule):
        return None
    _, spot = ppa_split_mw(site, schedule)
    return Money(-_adder(site) * _sum_mwh(site, spot), _sum_mwh(site, spot))


def _market_net_mw(site: Site, schedule: pd.DataFrame) -> np.ndarray:
    """T1: what the site takes from the market, buy positive: import − export − PPA block."""
    assert site.grid is not None
    volume = site.grid.ppa.volume_mw if site.grid.ppa else 0.0
    return _series(schedule, "grid_import_mw") - _series(schedule, "grid_export_mw") - volume


def _da_position_mw(site: Site, schedule: pd.DataFrame) -> np.ndarray:
    """T1/T3: the position is one number per local clock hour."""
    position = pd.Series(_series(schedule, "da_position_mw"), index=schedule.index)
    local = schedule.index.tz_convert(site.timezone) if schedule.index.tz else schedule.index
    hourly = position.groupby(local.floor("h").asi8).transform("first")
    return hourly.to_numpy(dtype=float)


def da_energy(site: Site, schedule: pd.DataFrame, before: Before) -> Money | None:
    """T1: the hourly position settled at the DAM price."""
    if site.grid is None or not two_settlement(schedule):
        return None
    position = _da_position_mw(site, schedule)
    usd = -(_series(schedule, "da_price_usd_per_mwh") * position).sum() * hours(site)
    return Money(float(usd), _sum_mwh(site, position))


def rt_deviation(site: Site, schedule: pd.DataFrame, before: Before) -> Money | None:
    """T2: metered market position minus the day-ahead position, at the real-time price."""
    if site.grid is None or not two_settlement(schedule):
        return None
    deviation = _market_net_mw(site, schedule) - _da_position_mw(site, schedule)
    usd = -(_price(schedule) * deviation).sum() * hours(site)
    return Money(float(usd), _sum_mwh(site, deviation))


def coincident_peak(site: Site, schedule: pd.DataFrame, before: Before) -> Money | None:
    """P1: weights are the probability that an interval is a peak interval (a quarter-hour of an
    hourly peak carries 0.25), so the charge is Σ weight × USD/MW per peak × import: no Δ."""
    if site.grid is None or site.grid.coincident_peak is None:
        return None
    cp = site.grid.coincident_peak
    imported = _series(schedule, "grid_import_mw")
    weight = _series(schedule, "coincident_peak_weight")
    usd = -(weight * imported).sum() * cp.usd_per_mw_year / cp.peaks_per_year
    return Money(float(usd), _sum_mwh(site, imported))


def demand_charge(site: Site, schedule: pd.DataFrame, before: Before) -> Money | None:
    if site.grid is None or site.grid.demand_charge is None:
        return None
    imported = pd.Series(_series(schedule, "grid_import_mw"), index=schedule.index)
    months = imported.groupby([schedule.index.year, schedule.index.month], sort=True).max()
    peaks = months.to_numpy().copy()
    peaks[0] = max(peaks[0], before.month_to_date_peak_mw)
    increase = peaks.sum() - before.month_to_date_peak_mw
    usd = -site.grid.demand_charge.usd_per_mw_month * increase
    return Money(float(usd), _sum_mwh(site, imported.to_numpy()))


def fuel(site: Site, schedule: pd.DataFrame, before: Before) -> Money | None:
    if not site.economic_generators:
        return None
    usd = 0.0
    for g in site.economic_generators:
        power = _series(schedule, columns.generator(g.name, "power_mw"))
        usd -= g.heat_rate_mmbtu_per_mwh * g.fuel_price_usd_per_mmbtu * _sum_mwh(site, power)
    return Money(usd, _sum_mwh(site, _generator_mw(site, schedule)))


def generator_startups(site: Site, schedule: pd.DataFrame, before: Before) -> Money | None:
    if not site.economic_generators:
        return None
    usd = 0.0
    for g in site.economic_generators:
        on = _series(schedule, columns.generator(g.name, "on"))
        usd -= g.startup_cost_usd * _increases(on, before.generator_on.get(g.name, 0)).sum()
    return Money(usd, _sum_mwh(site, _generator_mw(site, schedule)))


def battery_degradation(site: Site, schedule: pd.DataFrame, before: Before) -> Money | None:
    if site.battery is None:
        return None
    discharge_mwh = _sum_mwh(site, _series(schedule, "battery_discharge_mw"))
    return Money(-site.battery.degradation_usd_per_mwh * discharge_mwh, discharge_mwh)


STREAMS: dict[Stream, Callable[[Site, pd.DataFrame, Before], Money | None]] = {
    Stream.HPC_CONTRACT: hpc_contract,
    Stream.HPC_POWER_PASS_THROUGH: hpc_power_pass_through,
    Stream.HPC_SLA_PENALTY: hpc_sla_penalty,
    Stream.HPC_DEFERRAL: hpc_deferral,
    Stream.MINING_HASHPRICE: mining_hashprice,
    Stream.MINING_STARTUPS: mining_startups,
    Stream.HEAT_SALES: heat_sales,
    Stream.ANCILLARY_REGUP: _ancillary("REGUP"),
    Stream.ANCILLARY_RRS: _ancillary("RRS"),
    Stream.ANCILLARY_ECRS: _ancillary("ECRS"),
    Stream.ANCILLARY_NSPIN: _ancillary("NSPIN"),
    Stream.ANCILLARY_DEPLOYMENT: ancillary_deployment,
    Stream.ANCILLARY_FAILURE: ancillary_failure,
    Stream.DR_EVENTS: dr_events,
    Stream.GRID_ENERGY_PURCHASE: grid_energy_purchase,
    Stream.GRID_ENERGY_SALE: grid_energy_sale,
    Stream.PPA_ENERGY: ppa_energy,
    Stream.POWER_CREDITS: power_credits,
    Stream.GRID_IMPORT_ADDER: grid_import_adder,
    Stream.DA_ENERGY: da_energy,
    Stream.RT_DEVIATION: rt_deviation,
    Stream.COINCIDENT_PEAK: coincident_peak,
    Stream.DEMAND_CHARGE: demand_charge,
    Stream.FUEL: fuel,
    Stream.GENERATOR_STARTUPS: generator_startups,
    Stream.BATTERY_DEGRADATION: battery_degradation,
}


def streams(site: Site, schedule: pd.DataFrame, before: Before | None = None) -> dict[str, Money]:
    """Every stream the site has, recomputed, by stream name."""
    before = before or Before()
    table = {}
    for stream, recompute in STREAMS.items():
        money = recompute(site, schedule, before)
        if money is not None:
            table[stream.value] = money
    return table


# --- KPIs ------------------------------------------------------------------------------------------

SOLVER_KPIS = frozenset(
    {
        "status",
        "objective_usd",
        "mip_gap",
        "build_seconds",
        "solve_seconds",
        "solver_seconds",
        "total_seconds",
    }
)
"""KPIs that report the solve itself (checked elsewhere against HiGHS), not the schedule."""


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator > 0 else None


def kpis(site: Site, schedule: pd.DataFrame, money: Mapping[str, Money]) -> dict[str, object]:
    """The README's KPIs from the schedule, the site file and the recomputed streams."""
    dt = hours(site)
    margin = sum(m.usd for m in money.values())
    mining_mwh = _sum_mwh(site, _mining_mw(site, schedule))
    hpc_mwh = _sum_mwh(site, _series(schedule, "hpc_served_mw")) if site.hpc else 0.0
    site_load_mwh = hpc_mwh + mining_mwh
    availability = sla_met = None
    if site.hpc is not None:
        required = required_hpc_mw(site, schedule).sum()
        unserved = _series(schedule, "hpc_unserved_mw").sum()
        availability = 1.0 - unserved / required if required > 0 else 1.0
        sla_met = availability >= site.hpc.sla_availability - 1e-12
    running = curtailed_mwh = ph_days = 0.0
    breakeven = {}
    fee = site.mining.pool_fee_fraction if site.mining else 0.0
    hashprice = schedule["hashprice_usd_per_ph_day"] if site.fleets else None
    for fleet in site.fleets:
        power = _series(schedule, columns.mining(fleet.name, "power_mw"))
        running += _series(schedule, columns.mining(fleet.name, "containers_on")).sum()
        nominal_mw = fleet.containers * fleet.container_mw
        curtailed_mwh += float(np.clip(nominal_mw - power, 0, None).sum() * dt)
        ph_days += float(fleet_hashrate_ph_s(fleet, schedule).sum() * dt / 24)
        assert hashprice is not None
        breakeven[fleet.name] = (
            float(hashprice.mean()) * (1 - fee) * 1000 / fleet.efficiency_j_per_th / 24
        )
    slots = sum(f.containers for f in site.fleets) * len(schedule)
    ancillary_usd = sum(m.usd for name, m in money.items() if name.startswith("ancillary_"))
    hashing = money.get(Stream.MINING_HASHPRICE.value)
    return {
        "net_margin_usd": margin,
        "site_load_mwh": site_load_mwh,
        "margin_usd_per_mwh": _ratio(margin, site_load_mwh),
        "hpc_availability_fraction": availability,
        "hpc_sla_met": sla_met,
        "mining_energy_mwh": mining_mwh,
        "mining_uptime_fraction": _ratio(running, slots),
        "mining_curtailed_mwh": curtailed_mwh,
        "realized_hashprice_usd_per_ph_day": _ratio(hashing.usd, ph_days) if hashing else None,
        "breakeven_usd_per_mwh": breakeven,
        "ancillary_usd": ancillary_usd,
        "ancillary_usd_per_mining_mwh": _ratio(ancillary_usd, mining_mwh),
    }


# --- comparison -------------------------------------------------------------------------------------


def mismatches(
    site: Site, result, before: Before | None = None, *, objective: bool = True
) -> list[str]:
    """Where ``result`` (a DispatchResult) differs from the recomputation: streams present, USD
    and basis of each, every schedule KPI, and (``objective``) Σ streams against the objective
    HiGHS reported. Relative tolerance 1e-7, absolute 1e-4 USD / MWh."""
    money = streams(site, result.schedule, before)
    found = []
    table = result.streams.set_index("stream")
    if set(table.index) != set(money):
        found.append(f"streams present {sorted(table.index)}, expected {sorted(money)}")
    for name, expected in money.items():
        if name not in table.index:
            continue
        for field_name, value in (("usd", expected.usd), ("basis_mwh", expected.basis_mwh)):
            reported = float(table.loc[name, field_name])
            if not _close(reported, value):
                found.append(f"{name}.{field_name} = {reported!r}, recomputed {value!r}")
    expected_kpis = kpis(site, result.schedule, money)
    reported_kpis = result.kpis.as_dict()
    for name, value in expected_kpis.items():
        if not _same(reported_kpis[name], value):
            found.append(f"kpis.{name} = {reported_kpis[name]!r}, recomputed {value!r}")
    if objective:
        margin = expected_kpis["net_margin_usd"]
        assert isinstance(margin, float)
        if not _close(result.kpis.objective_usd, margin):
            found.append(f"HiGHS objective {result.kpis.objective_usd!r}, Σ streams {margin!r}")
    return found


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-7, abs_tol=1e-4) or (math.isnan(a) and math.isnan(b))


def _same(reported: object, expected: object) -> bool:
    if isinstance(expected, dict):
        return (
            isinstance(reported, dict)
            and reported.keys() == expected.keys()
            and all(_same(reported[k], v) for k, v in expected.items())
        )
    if expected is None or isinstance(expected, bool):
        return reported == expected
    return isinstance(reported, float | int) and _close(float(reported), float(expected))
