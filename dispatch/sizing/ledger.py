"""A plan's yearly money on every Monte Carlo path: operations from real dispatch, the HPC
business, O&M, capex when spent, and its funding.

Operations of analysis year k on a path (USD/year, per dispatch stream) come from the value
grid (:mod:`dispatch.sizing.valuegrid`) at that year's power-price year and hashprice::

    operations = site − before × deployment + occupancy / usual occupancy × hall

``site`` is the plan's mining, battery and grid dispatched with the HPC hall empty;
``deployment`` what the added containers and battery add to it (the plan without them
dispatched too); ``hall`` what the HPC hall adds at its usual occupancy (the plan dispatched so:
all of its IT load for a lease, the sold share for a GPU cloud), scaled in proportion to the
occupancy of the year; ``before`` the share of the year's months before the added equipment runs and
``occupancy`` the year's mean share of the installed IT load drawing power
(:mod:`dispatch.sizing.timeline`). The dispatch's own ``hpc_contract`` stream is replaced by the
business's: lease rent or GPU-hours sold. Everything else follows
:mod:`dispatch.sizing.cashflow`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dispatch.site import GpuCloud
from dispatch.site.business import ColocationTerms
from dispatch.sizing.cashflow import Capex, Finance, Purchase, capex, fund, renewed
from dispatch.sizing.economics import CostTerm
from dispatch.sizing.paths import Draws, Horizon
from dispatch.sizing.plan import Plan, Planning
from dispatch.sizing.timeline import (
    HOURS_PER_MONTH,
    MONTHS_PER_YEAR,
    Tranche,
    energized_it_mw,
    gpu_hour_revenue_usd,
    in_service,
    lease,
    yearly,
)
from dispatch.streams import Stream


@dataclass(frozen=True)
class Build:
    """What a plan builds and when (the same on every path)."""

    tranches: tuple[Tranche, ...]  # HPC IT: existing (month 0), retrofit, new build
    installed_it_mw: float
    deploy_month: int  # added containers and battery run from here (0: nothing added)
    adds_equipment: bool
    kept_mining_mw: float  # containers running from month 0 (kept and unsized fleets)
    added_mining_mw: float
    battery_power_mw: float  # as it stands
    added_battery_power_mw: float
    purchases: tuple[Purchase, ...]


def build_of(planning: Planning, plan: Plan, n_months: int) -> Build:
    """The plan's tranches, deployment month and purchases (renewals and GPU refreshes
    included) over ``n_months``."""
    spec, schedule = planning.spec, planning.spec.schedule
    sizes = planning.sizes(plan)
    tranches = tuple(
        t
        for t in (
            Tranche(planning.existing_hpc_it_mw, 0),
            Tranche(plan.hpc_retrofit_it_mw, schedule.retrofit_months),
            Tranche(plan.hpc_new_build_it_mw, schedule.new_build_months),
        )
        if t.it_mw > 0
    )
    adds_mining = sizes.mining_added_mw > 0
    adds_battery = sizes.battery_added_power_mw > 0 or sizes.battery_added_energy_mwh > 0
    deploy = max(
        schedule.mining_months if adds_mining else 0,
        schedule.battery_months if adds_battery else 0,
    )
    purchases: list[Purchase] = []

    def buy(term: CostTerm, quantity: float, months: int, ready: int, life_years: int) -> None:
        if quantity > 0:
            first = Purchase(term, quantity, 0, months, ready, life_years * MONTHS_PER_YEAR)
            purchases.extend(renewed(first, n_months))

    if spec.hpc is not None:
        routes = spec.hpc
        buy(
            CostTerm.HPC_RETROFIT_CAPEX,
            plan.hpc_retrofit_it_mw,
            schedule.retrofit_months,
            schedule.retrofit_months,
            routes.retrofit.life_years,
        )
        buy(
            CostTerm.HPC_NEW_BUILD_CAPEX,
            plan.hpc_new_build_it_mw,
            schedule.new_build_months,
            schedule.new_build_months,
            routes.new_build.life_years,
        )
    if spec.mining is not None:
        buy(
            CostTerm.MINING_CAPEX,
            sizes.mining_added_mw,
            schedule.mining_months,
            deploy,
            spec.mining.life_years,
        )
    if spec.battery is not None and adds_battery:  # a lump sum in USD (unit cost 1)
        lump_usd = (
            spec.battery.capex_usd_per_mw * sizes.battery_added_power_mw
            + spec.battery.capex_usd_per_mwh * sizes.battery_added_energy_mwh
        )
        buy(
            CostTerm.BATTERY_CAPEX,
            lump_usd,
            schedule.battery_months,
            deploy,
            spec.battery.life_years,
        )
    gpu = planning.gpu_cloud
    if gpu is not None:
        refresh = gpu.refresh_years * MONTHS_PER_YEAR
        for tranche in tranches:  # existing GPUs are there; they are refreshed like new ones
            first = tranche.month if tranche.month > 0 else refresh
            if first < n_months:
                start = Purchase(CostTerm.GPU_CAPEX, tranche.it_mw, first, 0, first, refresh)
                purchases.extend(renewed(start, n_months))
    return Build(
        tranches=tranches,
        installed_it_mw=plan.hpc_it_mw,
        deploy_month=deploy,
        adds_equipment=adds_mining or adds_battery,
        kept_mining_mw=sizes.mining_mw - sizes.mining_added_mw,
        added_mining_mw=sizes.mining_added_mw,
        battery_power_mw=sizes.battery_power_mw - sizes.battery_added_power_mw,
        added_battery_power_mw=sizes.battery_added_power_mw,
        purchases=tuple(purchases),
    )


@dataclass(frozen=True)
class Operations:
    """A plan's dispatched value per path, year and stream [paths, years, streams] (USD/year):
    ``site`` (hall empty, everything else in service), ``deployment`` (what the added
    equipment adds to it) and ``hall`` (what the hall adds at ``hall_occupancy``, the share of
    its IT load it was dispatched with). ``streams`` names the last axis."""

    streams: tuple[Stream, ...]
    site: np.ndarray
    deployment: np.ndarray
    hall: np.ndarray
    hall_occupancy: float = 1.0


@dataclass(frozen=True)
class Ledger:
    """A plan's yearly money on every path: ``items`` [paths, years] USD (signed), by name
    (dispatch streams, ``hpc_contract`` from the business, O&M and capex terms), the funding,
    and the occupancy and tenant exits behind them."""

    items: dict[str, np.ndarray]
    finance: Finance
    occupancy: np.ndarray  # [paths, years] mean share of installed IT drawing power
    exits: np.ndarray  # [paths] tenant exits


def unit_costs(draws: Draws) -> dict[CostTerm, np.ndarray]:
    """USD per unit of each capex term on every path (the battery's purchase is in USD)."""
    units = dict(draws.capex_unit)
    units[CostTerm.BATTERY_CAPEX] = np.ones(draws.n_paths)
    return units


def ledger(
    planning: Planning,
    plan: Plan,
    horizon: Horizon,
    draws: Draws,
    operations: Operations,
) -> Ledger:
    """The plan's money on every path of ``draws`` (see the module docstring)."""
    spec = planning.spec
    n_paths, n_months = draws.n_paths, horizon.n_months
    build = build_of(planning, plan, n_months)
    energized = energized_it_mw(build.tranches, n_months)
    items: dict[str, np.ndarray] = {}
    hpc = planning.site.hpc
    occupied = np.zeros((n_paths, n_months))
    exits = np.zeros(n_paths, dtype=int)
    if hpc is not None and build.installed_it_mw > 0:
        contract = hpc.contract
        if isinstance(contract, GpuCloud):
            terms = planning.gpu_cloud
            assert terms is not None, "Planning defaults the terms of a GPU cloud"
            revenue = gpu_hour_revenue_usd(
                build.tranches,
                contract.kw_per_gpu,
                contract.usd_per_gpu_hour,
                terms.refresh_years,
                draws.gpu_decline,
                draws.gpu_utilization,
                n_months,
            )
            occupied = draws.gpu_utilization[:, None] * energized[None, :]
            gpus = energized * 1000.0 / contract.kw_per_gpu
            items[CostTerm.GPU_OPEX.value] = yearly(
                np.broadcast_to(
                    -terms.opex_usd_per_gpu_hour * gpus * HOURS_PER_MONTH, occupied.shape
                )
            )
        else:
            terms_colo = spec.colocation or ColocationTerms.model_validate({})
            tenant = lease(
                energized,
                planning.existing_hpc_it_mw,
                terms_colo,
                draws.exit_draws,
                draws.renewal_draws,
            )
            revenue = tenant.leased_it_mw * 1000.0 * contract.usd_per_kw_month * tenant.rent_factor
            occupied, exits = tenant.leased_it_mw, tenant.exits
        items[Stream.HPC_CONTRACT.value] = yearly(revenue)
    occupancy = yearly(occupied) / MONTHS_PER_YEAR / max(build.installed_it_mw, 1e-12)
    before = (
        yearly(1.0 - in_service(build.deploy_month, n_months))[None, :] / MONTHS_PER_YEAR
        if build.adds_equipment
        else np.zeros((1, horizon.n_years))
    )
    values = (
        operations.site
        - before[:, :, None] * operations.deployment
        + (occupancy / operations.hall_occupancy)[:, :, None] * operations.hall
    )
    for i, stream in enumerate(operations.streams):
        if stream is not Stream.HPC_CONTRACT:
            items[stream.value] = values[:, :, i]
    deployed = in_service(build.deploy_month, n_months)
    if spec.hpc is not None:
        items[CostTerm.HPC_FIXED_OM.value] = yearly(
            np.broadcast_to(
                -spec.hpc.fixed_om_usd_per_mw_year / 12 * energized, (n_paths, n_months)
            )
        )
    if spec.mining is not None:
        mining_mw = build.kept_mining_mw + build.added_mining_mw * deployed
        items[CostTerm.MINING_FIXED_OM.value] = yearly(
            np.broadcast_to(
                -spec.mining.fixed_om_usd_per_mw_year / 12 * mining_mw, (n_paths, n_months)
            )
        )
    if spec.battery is not None:
        power_mw = build.battery_power_mw + build.added_battery_power_mw * deployed
        items[CostTerm.BATTERY_FIXED_OM.value] = yearly(
            np.broadcast_to(
                -spec.battery.fixed_om_usd_per_mw_year / 12 * power_mw, (n_paths, n_months)
            )
        )
    ebitda = sum(items.values(), start=np.zeros((n_paths, horizon.n_years)))
    spent: Capex = capex(list(build.purchases), unit_costs(draws), n_paths, n_months)
    for term, values_usd in spent.by_term.items():
        items[term.value] = values_usd
    capex_usd = sum(spent.by_term.values(), start=np.zeros((n_paths, horizon.n_years)))
    terminal = (
        spent.book_value if spec.financing.terminal_value == "book_value" else np.zeros(n_paths)
    )
    finance = fund(ebitda, capex_usd, spent.depreciation, terminal, spec.financing)
    return Ledger(items, finance, occupancy, exits)
