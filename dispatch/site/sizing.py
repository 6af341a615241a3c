"""The ``sizing:`` section of a site file: which capacities are decisions, and what they cost.

The rest of the site file is the site **as it stands** (the business-as-usual case): its HPC hall,
mining fleets and battery exist and cost no capex. The sizing section says how far each may
change and at what price. Every model here is frozen and forbids unknown keys, like the site
schema; cross-field checks against the site are collected by :func:`sizing_problems`.

Default costs are mid-points of the market ranges documented in docs/planning.md (``Default
costs``, with what they rest on): HPC new build 8-11 M USD/MW IT, HPC retrofit of a mining hall
1.5-3 M USD/MW IT, mining build 3-5 M USD/MW. Lives and fixed O&M defaults are our assumptions.
This module imports no solver: ``dispatch validate`` and ``dispatch schema`` stay fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from pydantic import Field, model_validator

from dispatch.site.base import (
    MAX_ENERGY_MWH,
    CapexUsd,
    Count,
    Identifier,
    PowerMw,
    PowerOrZeroMw,
    Spec,
)

if TYPE_CHECKING:
    from dispatch.site import Site

LifeYears = Annotated[int, Field(ge=1, le=60)]

# Market ranges (docs/planning.md, Default costs: sources); the defaults are their mid-points.
HPC_NEW_BUILD_USD_PER_MW_RANGE = (8.0e6, 11.0e6)
HPC_RETROFIT_USD_PER_MW_RANGE = (1.5e6, 3.0e6)
MINING_BUILD_USD_PER_MW_RANGE = (3.0e6, 5.0e6)


def _mid(bounds: tuple[float, float]) -> float:
    return (bounds[0] + bounds[1]) / 2.0


class HpcRoute(Spec):
    """One way of adding HPC IT capacity: its capex, life and an optional cap."""

    capex_usd_per_mw: CapexUsd = Field(description="overnight capex per MW of IT load added")
    life_years: LifeYears = Field(20, description="capital recovery period of this capex")
    max_it_mw: PowerOrZeroMw | None = Field(
        None, description="at most this much IT MW through this route (default: no cap)"
    )


class HpcSizing(Spec):
    """HPC IT MW as a decision. The site file's ``hpc`` section describes the hall (PUE,
    contract, SLA, ride-through); its ``it_load_mw`` is what exists today unless
    ``existing_it_mw`` says otherwise (0: the hall is planned, nothing is built yet)."""

    max_it_mw: PowerOrZeroMw = Field(description="largest total IT load, existing included [MW]")
    existing_it_mw: PowerOrZeroMw | None = Field(
        None, description="IT MW in place today (default: hpc.it_load_mw); never retired"
    )
    block_it_mw: PowerMw | None = Field(
        None,
        description="each route adds HPC in whole blocks of this IT size (default: continuous)",
    )
    fixed_om_usd_per_mw_year: CapexUsd = Field(
        150_000.0, description="fixed O&M per installed IT MW, existing and new (assumption)"
    )
    new_build: HpcRoute = Field(
        default_factory=lambda: HpcRoute(
            capex_usd_per_mw=_mid(HPC_NEW_BUILD_USD_PER_MW_RANGE), life_years=20, max_it_mw=None
        ),
        description="a new hall under the interconnection",
    )
    retrofit: HpcRoute = Field(
        default_factory=lambda: HpcRoute(
            capex_usd_per_mw=_mid(HPC_RETROFIT_USD_PER_MW_RANGE), life_years=20, max_it_mw=None
        ),
        description="converting the power of retired mining containers into HPC facility load",
    )


class FleetSizing(Spec):
    """Containers of one fleet of the site file as a decision (existing ones kept at no capex,
    new ones at the mining build capex)."""

    name: Identifier = Field(description="a fleet of mining.fleets")
    min_containers: Count = 0
    max_containers: Count | None = Field(
        None, description="largest count, existing included (default: the existing count)"
    )

    @model_validator(mode="after")
    def _ordered(self) -> FleetSizing:
        if self.max_containers is not None and self.min_containers > self.max_containers:
            raise ValueError(
                f"min_containers {self.min_containers} exceeds max_containers {self.max_containers}"
            )
        return self


class MiningSizing(Spec):
    """Containers per fleet as decisions; fleets not listed stay as they stand."""

    capex_usd_per_mw: CapexUsd = Field(
        _mid(MINING_BUILD_USD_PER_MW_RANGE),
        description="overnight capex per MW of new container capacity (nominal power)",
    )
    life_years: LifeYears = 5
    fixed_om_usd_per_mw_year: CapexUsd = Field(
        40_000.0, description="fixed O&M per installed container MW (assumption)"
    )
    fleets: list[FleetSizing] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> MiningSizing:
        names = [f.name for f in self.fleets]
        if len(set(names)) != len(names):
            raise ValueError(f"fleet names must not repeat, found {names}")
        return self


class BatterySizing(Spec):
    """Battery power and energy as decisions (the site file's ``battery`` section gives
    efficiency, SoC limits and what exists today)."""

    max_power_mw: PowerOrZeroMw
    max_energy_mwh: float = Field(ge=0, le=MAX_ENERGY_MWH)
    capex_usd_per_mw: CapexUsd = Field(
        300_000.0, description="power-related capex (inverters, interconnection; assumption)"
    )
    capex_usd_per_mwh: CapexUsd = Field(
        250_000.0, description="energy-related capex (cells, racks; assumption)"
    )
    life_years: LifeYears = 15
    fixed_om_usd_per_mw_year: CapexUsd = Field(10_000.0, description="assumption")


class Sizing(Spec):
    """What the planner may change, and the money that decides it."""

    discount_rate_fraction: float = Field(
        0.10, ge=0, lt=1, description="real discount rate for capital recovery and NPV"
    )
    analysis_years: int = Field(10, ge=1, le=50, description="NPV horizon")
    max_site_load_mw: PowerMw | None = Field(
        None,
        description="HPC facility MW + nominal mining MW may not exceed this (the fixed "
        "interconnection to split; default grid.import_limit_mw + economic generators)",
    )
    hpc: HpcSizing | None = None
    mining: MiningSizing | None = None
    battery: BatterySizing | None = None


def sizing_problems(site: Site) -> list[str]:
    """Cross-field checks of ``site.sizing`` against the site as it stands."""
    spec = site.sizing
    if spec is None:
        return []
    problems: list[str] = []
    if spec.hpc is None and spec.mining is None and spec.battery is None:
        problems.append("sizing: nothing to size; give sizing.hpc, sizing.mining or sizing.battery")
    if site.grid is not None and site.grid.demand_charge is not None:
        problems.append(
            "grid.demand_charge: sizing dispatches each day on its own, so a monthly demand "
            "charge would be paid once a day (about 30 times over); remove it from the site "
            "file you size (4CP, grid.coincident_peak, is fine)"
        )
    if spec.hpc is not None:
        if site.hpc is None:
            problems.append(
                "sizing.hpc: the site file needs an hpc section describing the hall to build "
                "(pue, contract, SLA); set sizing.hpc.existing_it_mw: 0 if none exists yet"
            )
        else:
            existing = existing_hpc_it_mw(site)
            if existing > spec.hpc.max_it_mw + 1e-9:
                problems.append(
                    f"sizing.hpc.max_it_mw = {spec.hpc.max_it_mw:g} MW is below the existing "
                    f"{existing:g} MW IT (existing HPC is never retired)"
                )
    if spec.mining is not None:
        fleets = {f.name: f for f in site.fleets}
        for i, fleet in enumerate(spec.mining.fleets):
            if fleet.name not in fleets:
                problems.append(
                    f"sizing.mining.fleets[{i}].name: no fleet {fleet.name!r} in mining.fleets "
                    f"(fleets: {sorted(fleets)})"
                )
                continue
            existing = fleets[fleet.name].containers
            largest = fleet.max_containers if fleet.max_containers is not None else existing
            if fleet.min_containers > largest:
                problems.append(
                    f"sizing.mining.fleets[{i}].min_containers = {fleet.min_containers} exceeds "
                    f"the largest count {largest} (max_containers, default the existing count)"
                )
    if spec.battery is not None:
        battery = site.battery
        if battery is None:
            problems.append(
                "sizing.battery: the site file needs a battery section (efficiency, SoC limits); "
                "its power_mw and energy_mwh are what exists today"
            )
        elif (
            spec.battery.max_power_mw < battery.power_mw
            or spec.battery.max_energy_mwh < battery.energy_mwh
        ):
            problems.append(
                f"sizing.battery: max_power_mw {spec.battery.max_power_mw:g} / max_energy_mwh "
                f"{spec.battery.max_energy_mwh:g} are below the existing battery "
                f"{battery.power_mw:g} MW / {battery.energy_mwh:g} MWh"
            )
    return problems


def existing_hpc_it_mw(site: Site) -> float:
    """HPC IT MW in place today [MW]: ``sizing.hpc.existing_it_mw`` or ``hpc.it_load_mw``."""
    if site.hpc is None:
        return 0.0
    spec = site.sizing.hpc if site.sizing is not None else None
    if spec is not None and spec.existing_it_mw is not None:
        return spec.existing_it_mw
    return site.hpc.it_load_mw
