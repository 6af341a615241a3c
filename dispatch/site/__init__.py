"""The site file: a pydantic v2 schema with units in every field name.

Every model is frozen and forbids unknown keys, so a typo is an error, not a silently ignored
setting. Field checks live on the fields; checks that need several fields are collected by
:func:`semantic_problems` and raised together by :func:`load_site`.
"""

from __future__ import annotations

import itertools
import math
import reprlib
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from dispatch.errors import InputError, expect
from dispatch.site.base import (
    MAX_POWER_MW,
    CostUsdPerMwh,
    Count,
    EnergyMwh,
    Fraction,
    Identifier,
    Label,
    Minutes,
    PenaltyUsdPerMwh,
    PositiveMinutes,
    PowerMw,
    PowerOrZeroMw,
    PriceUsdPerMwh,
    Spec,
    Usd,
)
from dispatch.site.loader import parse_yaml, read_text
from dispatch.site.programs import (
    LOAD_RESOURCE_PRODUCTS,
    AncillaryOffer,
    DrEvent,
    HeatReuse,
    Programs,
    program_problems,
)
from dispatch.site.sizing import Sizing, sizing_problems


class Market(Spec):
    iso: Literal["ERCOT"] = "ERCOT"
    settlement_point: Label = Field(description="price node, e.g. HB_WEST")


class Ppa(Spec):
    """P3: a fixed-price block delivered every interval; unused energy is resold at spot."""

    volume_mw: PowerMw = Field(description="block delivered every interval [MW]")
    price_usd_per_mwh: PriceUsdPerMwh = Field(description="fixed price paid for the whole block")


class CoincidentPeak(Spec):
    """P1: transmission charge on the site's import in the system's coincident peaks (ERCOT 4CP)."""

    usd_per_mw_year: float = Field(
        ge=0, le=10_000_000, description="transmission rate per MW of peak demand"
    )
    peaks_per_year: int = Field(4, ge=1, le=12, description="4 today (4CP); 12CP is proposed")
    months: list[Annotated[int, Field(ge=1, le=12)]] = Field(
        default_factory=lambda: [6, 7, 8, 9],
        description="months that hold one peak each (June-September for ERCOT 4CP)",
    )

    @model_validator(mode="after")
    def _one_peak_per_month(self) -> CoincidentPeak:
        if len(set(self.months)) != len(self.months):
            raise ValueError(f"months must not repeat, found {self.months}")
        if len(self.months) != self.peaks_per_year:
            raise ValueError(
                f"peaks_per_year = {self.peaks_per_year} needs one month per peak, found "
                f"months {self.months}"
            )
        return self

    @property
    def usd_per_mw_peak(self) -> float:
        """Charge per MW of import in one peak interval [USD/MW]."""
        return self.usd_per_mw_year / self.peaks_per_year


class DemandCharge(Spec):
    """P2: monthly charge on the peak import of the month."""

    usd_per_mw_month: float = Field(ge=0, le=1_000_000)


class Grid(Spec):
    import_limit_mw: PowerOrZeroMw
    export_limit_mw: PowerOrZeroMw = 0.0
    import_adder_usd_per_mwh: PriceUsdPerMwh = Field(
        0.0, description="wires, losses and fees paid on every imported MWh on top of the price"
    )
    ppa: Ppa | None = None
    coincident_peak: CoincidentPeak | None = None
    demand_charge: DemandCharge | None = None


class Colocation(Spec):
    """Tenant rents capacity: paid per contracted IT kW per month whatever it draws."""

    kind: Literal["colocation"] = "colocation"
    usd_per_kw_month: float = Field(ge=0, le=10_000)
    power_pass_through: bool = Field(
        False, description="tenant also pays the energy of the HPC facility load at price + adder"
    )


class GpuCloud(Spec):
    """Site sells GPU-hours: paid per GPU-hour actually served."""

    kind: Literal["gpu_cloud"] = "gpu_cloud"
    usd_per_gpu_hour: float = Field(ge=0, le=1_000)
    gpu_count: int = Field(gt=0, le=10_000_000)
    kw_per_gpu: float = Field(
        gt=0, le=100, description="IT kW per GPU including its share of the server"
    )


class Hpc(Spec):
    it_load_mw: PowerMw
    pue: float = Field(1.2, ge=1.0, le=3.0, description="facility load = IT load x PUE")
    contract: Annotated[Colocation | GpuCloud, Field(discriminator="kind")]
    sla_availability: float = Field(0.9999, gt=0, le=1)
    sla_penalty_usd_per_mwh: PenaltyUsdPerMwh = 20_000.0
    ride_through_minutes: Minutes = Field(
        0.0,
        description="battery energy held back to carry the HPC facility load through a grid loss",
    )
    flexible_fraction: Fraction = Field(
        0.0,
        description="share of the IT load that may be deferred (AI training); off by default",
    )
    flexible_window_minutes: PositiveMinutes = Field(
        240.0, description="deferred work is made up within consecutive windows of this length"
    )
    deferral_cost_usd_per_mwh: CostUsdPerMwh = Field(
        0.0, description="cost of deferring one MWh of flexible HPC facility load"
    )

    @property
    def facility_load_mw(self) -> float:
        return self.it_load_mw * self.pue

    @model_validator(mode="after")
    def _gpu_count_matches_it_load(self) -> Hpc:
        if isinstance(self.contract, GpuCloud):
            gpu_mw = self.contract.gpu_count * self.contract.kw_per_gpu / 1000.0
            if not math.isclose(gpu_mw, self.it_load_mw, rel_tol=0.01):
                raise ValueError(
                    f"contract.gpu_count x kw_per_gpu = {gpu_mw:g} MW must equal it_load_mw = "
                    f"{self.it_load_mw:g} MW (within 1%)"
                )
        return self


PowerFraction = Annotated[float, Field(gt=0, le=2)]
JoulesPerTh = Annotated[float, Field(gt=0, le=10_000)]
CurvePoint = Annotated[tuple[PowerFraction, JoulesPerTh], Field(strict=False)]  # YAML: a list


class MiningFleet(Spec):
    name: Identifier
    containers: Count
    container_mw: float = Field(gt=0, le=100)
    efficiency_j_per_th: JoulesPerTh = Field(description="at nominal power (power fraction 1.0)")
    power_range_fraction: tuple[PowerFraction, PowerFraction] = Field(
        (1.0, 1.0),
        strict=False,  # YAML gives a list
        description="firmware under/over-clock envelope as fractions of container_mw",
    )
    efficiency_curve: list[CurvePoint] | None = Field(
        None, description="[power fraction, J/TH] points; hashrate must be concave in power"
    )
    startup_cost_usd: Usd = 0.0
    min_on_minutes: Minutes = 0.0
    min_off_minutes: Minutes = 0.0
    load_resource: Literal["controllable", "ufr"] = Field(
        "controllable",
        description="how the fleet is registered with ERCOT: controllable (a Controllable Load "
        "Resource dispatched by SCED: every product, up to what it consumes) or ufr (a Load "
        "Resource on an under-frequency relay: RRS, ECRS, Non-Spin; an RRS trip drops the "
        "whole fleet)",
    )

    @field_validator("power_range_fraction")
    @classmethod
    def _ordered_range(cls, value: tuple[float, float]) -> tuple[float, float]:
        low, high = value
        if low > high or high > 2.0:
            raise ValueError(f"expected 0 < low <= high <= 2, found [{low}, {high}]")
        return value

    @model_validator(mode="after")
    def _curve_is_usable(self) -> MiningFleet:
        points = self.curve_points()
        fractions = [f for f, _ in points]
        if any(b <= a for a, b in itertools.pairwise(fractions)):
            raise ValueError(
                f"efficiency_curve fractions must increase strictly, found {fractions}"
            )
        low, high = self.power_range_fraction
        if fractions[0] > low + 1e-9 or fractions[-1] < high - 1e-9:
            raise ValueError(
                f"efficiency_curve covers [{fractions[0]}, {fractions[-1]}] but "
                f"power_range_fraction is [{low}, {high}]"
            )
        if self.efficiency_curve is not None and fractions[0] <= 1.0 <= fractions[-1]:
            nominal = _interpolate(points, 1.0)
            if not math.isclose(nominal, self.efficiency_j_per_th, rel_tol=0.01):
                raise ValueError(
                    f"efficiency_curve gives {nominal:.3g} J/TH at power fraction 1.0 but "
                    f"efficiency_j_per_th is {self.efficiency_j_per_th:g}"
                )
        slopes = [
            (h1 - h0) / (f1 - f0)
            for (f0, h0), (f1, h1) in zip(
                self.hashrate_points(), self.hashrate_points()[1:], strict=False
            )
        ]
        if any(s1 > s0 * (1 + 1e-9) + 1e-12 for s0, s1 in itertools.pairwise(slopes)):
            raise ValueError(
                "efficiency_curve must give a concave hashrate-vs-power curve (J/TH may not fall "
                "faster than power rises)"
            )
        return self

    def curve_points(self) -> list[tuple[float, float]]:
        """[(power fraction, J/TH)]; a flat curve at the nominal efficiency if none is given."""
        if self.efficiency_curve is not None:
            return [(float(f), float(e)) for f, e in self.efficiency_curve]
        low, high = self.power_range_fraction
        if low == high:
            return [(low, self.efficiency_j_per_th)]
        return [(low, self.efficiency_j_per_th), (high, self.efficiency_j_per_th)]

    def hashrate_points(self) -> list[tuple[float, float]]:
        """[(power fraction, PH/s per container)] along the efficiency curve."""
        # MW * 1e6 W / (J/TH) = TH/s; / 1000 = PH/s
        return [(f, f * self.container_mw * 1000.0 / e) for f, e in self.curve_points()]

    @property
    def capacity_mw(self) -> float:
        return self.containers * self.container_mw

    @property
    def ancillary_products(self) -> frozenset[str]:
        """A1: the products the fleet may carry as an ERCOT Load Resource."""
        return LOAD_RESOURCE_PRODUCTS[self.load_resource]


class Mining(Spec):
    pool_fee_fraction: float = Field(0.02, ge=0, lt=1)
    fleets: list[MiningFleet] = Field(min_length=1)


class Battery(Spec):
    power_mw: PowerMw
    energy_mwh: EnergyMwh
    round_trip_efficiency: float = Field(0.88, gt=0, le=1)
    min_soc_fraction: float = Field(0.0, ge=0, lt=1)
    initial_soc_fraction: Fraction = 0.5
    degradation_usd_per_mwh: CostUsdPerMwh = Field(0.0, description="per MWh discharged")

    @model_validator(mode="after")
    def _initial_above_minimum(self) -> Battery:
        if self.initial_soc_fraction < self.min_soc_fraction:
            raise ValueError(
                f"initial_soc_fraction {self.initial_soc_fraction} is below "
                f"min_soc_fraction {self.min_soc_fraction}"
            )
        return self


class Generator(Spec):
    name: Identifier
    capacity_mw: PowerMw
    min_stable_fraction: Fraction = 0.0
    heat_rate_mmbtu_per_mwh: float = Field(gt=0, le=100)
    fuel_price_usd_per_mmbtu: float = Field(ge=0, le=10_000)
    startup_cost_usd: Usd = 0.0
    min_up_minutes: Minutes = 0.0
    min_down_minutes: Minutes = 0.0
    ramp_mw_per_minute: PowerMw | None = None
    fuel_limit_mmbtu_per_day: float | None = Field(None, ge=0, le=100_000_000)
    role: Literal["economic", "backup"] = Field(
        "economic",
        description="economic units are dispatched on price; backup units are held for outages "
        "and only count toward the HPC ride-through (H2)",
    )


class Renewable(Spec):
    name: Identifier
    capacity_mw: PowerMw
    profile: Identifier = Field(description="inputs column <profile>_capacity_factor")


class Site(Spec):
    name: Label
    timezone: str = "America/Chicago"
    market: Market | None = Field(None, description="price node; required with a grid connection")
    interval_minutes: Literal[5, 15, 30, 60] = 15
    grid: Grid | None = None
    hpc: Hpc | None = None
    mining: Mining | None = None
    battery: Battery | None = None
    generators: list[Generator] = Field(default_factory=list)
    renewables: list[Renewable] = Field(default_factory=list)
    programs: Programs | None = None
    heat_reuse: HeatReuse | None = None
    sizing: Sizing | None = Field(
        None, description="capacities `dispatch size` may change, and their costs"
    )

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {value!r}") from None
        return value

    @property
    def fleets(self) -> list[MiningFleet]:
        return list(self.mining.fleets) if self.mining else []

    @property
    def ancillary_offers(self) -> list[AncillaryOffer]:
        return list(self.programs.ancillary) if self.programs else []

    @property
    def dr_events(self) -> list[DrEvent]:
        return list(self.programs.events) if self.programs else []

    @property
    def economic_generators(self) -> list[Generator]:
        return [g for g in self.generators if g.role == "economic"]

    @property
    def backup_capacity_mw(self) -> float:
        return sum(g.capacity_mw for g in self.generators if g.role == "backup")

    def ride_through_energy_mwh(self) -> float:
        """H2 energy the battery must hold above its minimum [MWh] at full HPC load."""
        if self.hpc is None or self.hpc.ride_through_minutes == 0:
            return 0.0
        uncovered_mw = max(0.0, self.hpc.facility_load_mw - self.backup_capacity_mw)
        return uncovered_mw * self.hpc.ride_through_minutes / 60.0


def semantic_problems(site: Site) -> list[str]:
    """Cross-field checks: every problem found, each naming its fields, expected vs found."""
    problems: list[str] = []
    if not _dispatchable(site):
        problems.append(
            "nothing to dispatch: the site has no hpc, mining containers, battery, generators "
            "or renewables"
        )
    for i, fleet in enumerate(site.fleets):
        if fleet.capacity_mw > MAX_POWER_MW:
            problems.append(
                f"mining.fleets[{i}]: containers x container_mw = {fleet.capacity_mw:,.0f} MW "
                f"exceeds the plausible {MAX_POWER_MW:,.0f} MW of one fleet"
            )
    if site.grid is not None and site.market is None:
        problems.append("grid: a grid connection needs market.settlement_point to price it")
    names = [f.name for f in site.fleets] + [g.name for g in site.generators]
    names += [r.name for r in site.renewables]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        problems.append(f"names of fleets, generators and renewables must be unique: {duplicated}")
    import_mw = site.grid.import_limit_mw if site.grid else 0.0
    economic_mw = sum(g.capacity_mw for g in site.economic_generators)
    if site.hpc is not None and site.hpc.facility_load_mw > import_mw + economic_mw + 1e-9:
        problems.append(
            f"hpc.it_load_mw x pue = {site.hpc.facility_load_mw:g} MW exceeds the firm supply: "
            f"grid.import_limit_mw {import_mw:g} MW + economic generators {economic_mw:g} MW; "
            "the HPC load could never be served"
        )
    ride_through_mwh = site.ride_through_energy_mwh()
    if ride_through_mwh > 0:
        battery = site.battery
        usable_mwh = battery.energy_mwh * (1 - battery.min_soc_fraction) if battery else 0.0
        if usable_mwh + 1e-9 < ride_through_mwh:
            problems.append(
                f"hpc.ride_through_minutes needs {ride_through_mwh:g} MWh of battery energy above "
                f"its minimum, found {usable_mwh:g} MWh "
                "(battery.energy_mwh x (1 - min_soc_fraction))"
            )
        elif battery and battery.initial_soc_fraction * battery.energy_mwh < (
            battery.min_soc_fraction * battery.energy_mwh + ride_through_mwh - 1e-9
        ):
            problems.append(
                f"battery.initial_soc_fraction {battery.initial_soc_fraction} leaves less than the "
                f"{ride_through_mwh:g} MWh hpc ride-through reserve above the minimum"
            )
    problems += program_problems(site)
    problems += sizing_problems(site)
    return problems


def _dispatchable(site: Site) -> bool:
    """Whether the site has anything to decide: a load, a store or a source beside the grid
    (containers sizing may add count too)."""
    sized = site.sizing is not None and site.sizing.mining is not None
    running = any(f.containers > 0 for f in site.fleets) or (bool(site.fleets) and sized)
    return bool(site.hpc or running or site.battery or site.generators or site.renewables)


def _interpolate(points: list[tuple[float, float]], x: float) -> float:
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        if x0 <= x <= x1:
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    return points[0][1]


def _field_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part not in ("colocation", "gpu_cloud"):
            path += f".{part}" if path else str(part)
    return path or "(top level)"


_SHORT = reprlib.Repr()  # a found value is shown short (a 1 MB name is not echoed whole)
_SHORT.maxstring = _SHORT.maxother = 80


def format_validation_error(source: str, error: ValidationError) -> str:
    """One readable message per pydantic error: file, field path, what was wrong, what was found."""
    lines = []
    for item in error.errors():
        found = item.get("input")
        shown = "" if isinstance(found, dict | list) else f" (found {_SHORT.repr(found)})"
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown key"
        lines.append(f"{source}: {_field_path(item['loc'])}: {message}{shown}")
    return "\n".join(lines)


def parse_site(data: object, source: str = "<site>") -> Site:
    """Validate already-parsed site data; raise :class:`InputError` naming every problem."""
    if not isinstance(data, dict):
        raise InputError(
            f"{source}: expected a mapping of site fields, found {type(data).__name__}"
        )
    try:
        site = Site.model_validate(data)
    except ValidationError as error:
        raise InputError(format_validation_error(source, error)) from None
    problems = semantic_problems(site)
    if problems:
        raise InputError("\n".join(f"{source}: {p}" for p in problems))
    return site


def read_site_text(path: str | Path) -> str:
    """A site file's text (UTF-8, bounded size; see :mod:`dispatch.site.loader`)."""
    return read_text(path, "site file")


def parse_site_yaml(text: str, source: str = "<site>") -> Site:
    """Validate a site file's YAML text (duplicate keys and deep nesting refused)."""
    return parse_site(parse_yaml(text, source), source)


def load_site(path: str | Path) -> Site:
    """Read and validate a YAML site file."""
    expect(path, (str, Path), "path", "a site file path (str or Path)")
    return parse_site_yaml(read_site_text(path), str(path))


def site_json_schema() -> dict:
    """JSON Schema of the site file, for editors and `dispatch schema`."""
    return Site.model_json_schema()
