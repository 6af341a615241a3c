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


class AncillaryOffer(Spec):
    """A1: capacity offered hour by hour for one product, paid whether or not deployed."""

    product: AncillaryProduct
    max_mw: PowerOrZeroMw = Field(description="cap on the offer in every hour")
    sustain_minutes: PositiveMinutes | None = Field(
        None,
        description="energy-limited resources must sustain the offer this long; default RRS 60, "
        "ECRS 120, NSPIN 240, REGUP 60",
    )
    expected_deployment_fraction: Fraction = Field(
        0.0, description="expected share of the offered MW-h actually deployed"
    )
    deployment_cost_usd_per_mwh: PenaltyUsdPerMwh = Field(
        0.0,
        description="what one deployed MWh costs the site (the mining margin curtailed); priced "
        "on the expected deployment",
    )

    @property
    def sustain_hours(self) -> float:
        minutes = self.sustain_minutes or DEFAULT_SUSTAIN_MINUTES[self.product]
        return minutes / 60.0


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
    can_back = bool(site.fleets or site.battery or site.economic_generators) or (
        site.hpc is not None and site.hpc.flexible_fraction > 0
    )
    for i, offer in enumerate(site.ancillary_offers):
        if not can_back:
            problems.append(
                f"programs.ancillary[{i}]: {offer.product} is offered but the site has no mining, "
                "battery, economic generator or flexible HPC load to deliver it"
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
