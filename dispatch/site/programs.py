"""Site-file sections for markets and programs: ancillary offers (A1), demand-response events
and heat reuse (X1), with their cross-field checks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import AwareDatetime, Field, model_validator

from dispatch.site.base import (
    CostUsdPerMwh,
    Fraction,
    Identifier,
    PenaltyUsdPerMwh,
    PositiveMinutes,
    PowerMw,
    PowerOrZeroMw,
    Spec,
)

if TYPE_CHECKING:
    from dispatch.site import Site


AncillaryProduct = Literal["REGUP", "RRS", "ECRS", "NSPIN"]

DEFAULT_SUSTAIN_MINUTES: dict[str, float] = {
    "REGUP": 60.0,
    "RRS": 60.0,
    "ECRS": 120.0,
    "NSPIN": 240.0,
}
"""How long an energy-limited resource must sustain an award: ERCOT's rules before real-time
co-optimization (NPRR1096: ECRS 2 h, Non-Spin 4 h; RRS and Reg-Up 1 h), which cover the bundled
2022-2025 prices."""

DEFAULT_DEPLOYMENT_FRACTION: dict[str, float] = {
    "RRS": 0.0005,
    "ECRS": 0.004,
    "NSPIN": 0.006,
}
"""Expected share of the awarded MW-h that ERCOT deploys (see the docs, "Reserves"): ECRS about
the share of 2022-2024 quarter-hours in scarcity (real-time hub average >= 1,000 USD/MWh: 0.40 %,
0.67 %, 0.09 %), Non-Spin 1.5 times that (its deployments last 4 h or more), RRS a few hours a
year (Load Resources only on an EEA or under-frequency trip). Reg-Up has no default."""


class AncillaryOffer(Spec):
    """A1: capacity offered hour by hour for one product, paid whether or not deployed; the
    expected deployment is valued from the resources that back it (``ancillary_deployment``)."""

    product: AncillaryProduct
    max_mw: PowerOrZeroMw = Field(description="cap on the offer in every hour")
    sustain_minutes: PositiveMinutes | None = Field(
        None,
        description="energy-limited resources must sustain the offer this long; default RRS 60, "
        "ECRS 120, NSPIN 240, REGUP 60",
    )
    expected_deployment_fraction: Fraction | None = Field(
        None,
        description="expected share of the awarded MW-h that is deployed; default RRS 0.0005, "
        "ECRS 0.004, NSPIN 0.006; REGUP must set it",
    )

    @model_validator(mode="before")
    @classmethod
    def _no_flat_deployment_cost(cls, data: object) -> object:
        if isinstance(data, dict) and "deployment_cost_usd_per_mwh" in data:
            raise ValueError(
                "deployment_cost_usd_per_mwh was removed: a deployment is now valued from what "
                "backs the award (hashprice lost, fuel, battery energy) at each interval's price "
                "(stream ancillary_deployment); keep expected_deployment_fraction and drop it"
            )
        return data

    @model_validator(mode="after")
    def _deployment_known(self) -> AncillaryOffer:
        if self.expected_deployment_fraction is None and (
            self.product not in DEFAULT_DEPLOYMENT_FRACTION
        ):
            raise ValueError(
                f"{self.product} has no default expected_deployment_fraction (regulation is "
                "deployed continuously; set it from your own deployment history)"
            )
        return self

    @property
    def sustain_hours(self) -> float:
        minutes = self.sustain_minutes or DEFAULT_SUSTAIN_MINUTES[self.product]
        return minutes / 60.0

    @property
    def deployment_fraction(self) -> float:
        """Expected share of the awarded MW-h deployed (the site's, or the product default)."""
        if self.expected_deployment_fraction is not None:
            return self.expected_deployment_fraction
        return DEFAULT_DEPLOYMENT_FRACTION[self.product]


class DrEvent(Spec):
    """A demand-response event: paid per MWh curtailed against a baseline, penalised if short."""

    name: Identifier
    start: AwareDatetime = Field(strict=False, description="event start, ISO 8601 with UTC offset")
    end: AwareDatetime = Field(
        strict=False, description="event end (exclusive), ISO 8601 with UTC offset"
    )
    committed_mw: PowerMw = Field(description="curtailment promised below the baseline")
    usd_per_mwh: PenaltyUsdPerMwh = Field(
        description="payment per MWh curtailed, up to committed_mw"
    )
    penalty_usd_per_mwh: PenaltyUsdPerMwh = Field(
        0.0, description="per MWh the curtailment falls short of committed_mw"
    )
    baseline: Literal["scheduled", "fixed"] = Field(
        "scheduled",
        description="scheduled: the site's mean grid import over baseline_minutes before the "
        "event; fixed: baseline_mw",
    )
    baseline_mw: PowerOrZeroMw | None = None
    baseline_minutes: PositiveMinutes = 60.0

    @model_validator(mode="after")
    def _window_and_baseline(self) -> DrEvent:
        if self.end <= self.start:
            raise ValueError(
                f"end {self.end.isoformat()} must be after start {self.start.isoformat()}"
            )
        if self.baseline == "fixed" and self.baseline_mw is None:
            raise ValueError("baseline: fixed needs baseline_mw")
        if self.baseline == "scheduled" and self.baseline_mw is not None:
            raise ValueError("baseline_mw is only used with baseline: fixed")
        return self


class Programs(Spec):
    ancillary: list[AncillaryOffer] = Field(default_factory=list)
    events: list[DrEvent] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> Programs:
        products = [o.product for o in self.ancillary]
        if len(set(products)) != len(products):
            raise ValueError(f"ancillary products must not repeat, found {products}")
        names = [e.name for e in self.events]
        if len(set(names)) != len(names):
            raise ValueError(f"event names must not repeat, found {names}")
        return self


class HeatReuse(Spec):
    """X1: mining waste heat recovered and sold up to a heat demand."""

    recovery_fraction: float = Field(gt=0, le=1, description="heat recovered per MWh of mining")
    price_usd_per_mwh_thermal: CostUsdPerMwh
    max_mw_thermal: PowerMw | None = Field(
        None,
        description="heat demand [MW thermal] when the inputs carry no heat_demand_mw_thermal",
    )


def program_problems(site: Site) -> list[str]:
    """Cross-field checks of the grid tariffs, programs and heat reuse."""
    problems: list[str] = []
    grid = site.grid
    ppa = grid.ppa if grid is not None else None
    if (
        grid is not None
        and ppa is not None
        and grid.export_limit_mw == 0
        and ppa.volume_mw > grid.import_limit_mw + 1e-9
    ):
        problems.append(
            f"grid.ppa.volume_mw = {ppa.volume_mw:g} MW exceeds grid.import_limit_mw = "
            f"{grid.import_limit_mw:g} MW with export_limit_mw = 0: the site could never take "
            "the block"
        )
    if site.ancillary_offers and grid is None:
        problems.append(
            "programs.ancillary: offers are settled with ERCOT (capacity at the clearing price, "
            "deployed energy at the energy price); the site needs a grid connection"
        )
    for i, offer in enumerate(site.ancillary_offers):
        if not _can_carry(site, offer.product):
            problems.append(
                f"programs.ancillary[{i}]: {offer.product} is offered but the site has no mining, "
                "battery, economic generator or flexible HPC load to deliver it"
                + (
                    " (fleets with load_resource: ufr cannot carry regulation)"
                    if site.fleets and offer.product == "REGUP"
                    else ""
                )
            )
    for i, event in enumerate(site.dr_events):
        if grid is None:
            problems.append(
                f"programs.events[{i}]: a demand-response event is measured at the grid meter "
                "but the site has no grid"
            )
        for field, moment in (("start", event.start), ("end", event.end)):
            if moment.second or moment.microsecond or moment.minute % site.interval_minutes:
                problems.append(
                    f"programs.events[{i}].{field}: {moment.isoformat()} is not on an interval "
                    f"boundary (interval_minutes = {site.interval_minutes})"
                )
    if site.heat_reuse is not None and not site.fleets:
        problems.append("heat_reuse: recovers mining heat but the site has no mining fleet")
    return problems


LOAD_RESOURCE_PRODUCTS: dict[str, frozenset[str]] = {
    "controllable": frozenset({"REGUP", "RRS", "ECRS", "NSPIN"}),
    "ufr": frozenset({"RRS", "ECRS", "NSPIN"}),
}
"""Products an ERCOT Load Resource may carry: a Controllable Load Resource (dispatched by SCED)
all of them; a Load Resource on an under-frequency relay RRS (relay trip), ECRS (manual
deployment) and Non-Spin, never regulation."""


def _can_carry(site: Site, product: str) -> bool:
    """Whether anything on the site may carry ``product`` (A1)."""
    fleets = any(product in LOAD_RESOURCE_PRODUCTS[f.load_resource] for f in site.fleets)
    flexible_hpc = site.hpc is not None and site.hpc.flexible_fraction > 0
    return fleets or flexible_hpc or site.battery is not None or bool(site.economic_generators)
