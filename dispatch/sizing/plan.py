"""A plan (one mix of capacities), the site as it stands, and a plan turned into a site.

:class:`Planning` holds the site file (with its ``sizing`` section) and answers, without a
solver: what exists today (the business-as-usual plan), the largest site the sizing model is
built on, the concrete site of a plan, whether a plan is allowed, and the plan of a sweep grid
point.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from dispatch.errors import InputError
from dispatch.site import GpuCloud, Site, semantic_problems
from dispatch.site.sizing import Sizing, existing_hpc_it_mw
from dispatch.sizing.economics import Sizes

TOLERANCE_MW = 1e-6


@dataclass(frozen=True)
class Plan:
    """One mix of capacities.

    ``hpc_it_mw`` is the installed HPC IT load [MW], existing included; of the part added,
    ``hpc_new_build_it_mw`` is a new hall and ``hpc_retrofit_it_mw`` converted mining halls.
    ``containers_kept`` are existing containers kept and ``containers_added`` new ones, per
    fleet (every fleet of the site). Battery power [MW] and energy [MWh] are installed totals.
    """

    hpc_it_mw: float
    hpc_new_build_it_mw: float
    hpc_retrofit_it_mw: float
    containers_kept: Mapping[str, int]
    containers_added: Mapping[str, int]
    battery_power_mw: float = 0.0
    battery_energy_mwh: float = 0.0

    @property
    def containers(self) -> dict[str, int]:
        """Installed containers per fleet."""
        return {f: self.containers_kept[f] + self.containers_added[f] for f in self.containers_kept}

    def as_dict(self) -> dict[str, object]:
        return {
            "hpc_it_mw": self.hpc_it_mw,
            "hpc_new_build_it_mw": self.hpc_new_build_it_mw,
            "hpc_retrofit_it_mw": self.hpc_retrofit_it_mw,
            "containers": self.containers,
            "containers_kept": dict(self.containers_kept),
            "containers_added": dict(self.containers_added),
            "battery_power_mw": self.battery_power_mw,
            "battery_energy_mwh": self.battery_energy_mwh,
        }


@dataclass(frozen=True)
class FleetRange:
    """What may happen to one fleet: containers in [min, max]; ``existing`` kept at no capex."""

    existing: int
    minimum: int
    maximum: int
    container_mw: float
    efficiency_j_per_th: float

    @property
    def sized(self) -> bool:
        return not (self.minimum == self.maximum == self.existing)


@dataclass(frozen=True)
class Planning:
    """The site as it stands plus its sizing section; everything sizing needs without a solver."""

    site: Site
    fleets: Mapping[str, FleetRange] = field(init=False)

    def __post_init__(self) -> None:
        if self.site.sizing is None:
            raise InputError(
                f"site {self.site.name!r}: no sizing section; `dispatch size` needs one saying "
                "which capacities may change (docs/planning.md)"
            )
        sized = {f.name: f for f in self.spec.mining.fleets} if self.spec.mining else {}
        fleets = {}
        for fleet in self.site.fleets:
            spec = sized.get(fleet.name)
            low = spec.min_containers if spec else fleet.containers
            high = (
                fleet.containers
                if spec is None or spec.max_containers is None
                else (spec.max_containers)
            )
            fleets[fleet.name] = FleetRange(
                fleet.containers, low, high, fleet.container_mw, fleet.efficiency_j_per_th
            )
        object.__setattr__(self, "fleets", fleets)

    @property
    def spec(self) -> Sizing:
        assert self.site.sizing is not None, "checked in __post_init__"
        return self.site.sizing

    @property
    def pue(self) -> float:
        return self.site.hpc.pue if self.site.hpc else 1.0

    @property
    def existing_hpc_it_mw(self) -> float:
        return existing_hpc_it_mw(self.site)

    @property
    def max_hpc_it_mw(self) -> float:
        return self.spec.hpc.max_it_mw if self.spec.hpc else self.existing_hpc_it_mw

    @property
    def firm_supply_mw(self) -> float:
        """Grid import limit + economic generators [MW]: what firm HPC load may rely on."""
        grid_mw = self.site.grid.import_limit_mw if self.site.grid else 0.0
        return grid_mw + sum(g.capacity_mw for g in self.site.economic_generators)

    @property
    def max_site_load_mw(self) -> float:
        return self.spec.max_site_load_mw or self.firm_supply_mw

    def battery_range(self) -> tuple[tuple[float, float], tuple[float, float]] | None:
        """((existing MW, max MW), (existing MWh, max MWh)) when the battery is sized."""
        battery, spec = self.site.battery, self.spec.battery
        if battery is None or spec is None:
            return None
        return (battery.power_mw, spec.max_power_mw), (battery.energy_mwh, spec.max_energy_mwh)

    def business_as_usual(self) -> Plan:
        """The site as it stands: nothing built, nothing retired."""
        battery = self.site.battery
        return Plan(
            hpc_it_mw=self.existing_hpc_it_mw,
            hpc_new_build_it_mw=0.0,
            hpc_retrofit_it_mw=0.0,
            containers_kept={f: r.existing for f, r in self.fleets.items()},
            containers_added={f: 0 for f in self.fleets},
            battery_power_mw=battery.power_mw if battery else 0.0,
            battery_energy_mwh=battery.energy_mwh if battery else 0.0,
        )

    def mining_mw(self, plan: Plan) -> float:
        """Installed nominal mining MW of a plan."""
        return sum(n * self.fleets[f].container_mw for f, n in plan.containers.items())

    def retired_mw(self, plan: Plan) -> float:
        """Nominal MW of existing containers a plan retires (hall power free for retrofit)."""
        return sum(
            (r.existing - plan.containers_kept[f]) * r.container_mw for f, r in self.fleets.items()
        )

    def sizes(self, plan: Plan) -> Sizes:
        """The capacities money depends on, as numbers."""
        battery = self.site.battery
        return Sizes(
            hpc_new_build_it_mw=plan.hpc_new_build_it_mw,
            hpc_retrofit_it_mw=plan.hpc_retrofit_it_mw,
            hpc_it_mw=plan.hpc_it_mw,
            mining_added_mw=sum(
                n * self.fleets[f].container_mw for f, n in plan.containers_added.items()
            ),
            mining_mw=self.mining_mw(plan),
            battery_added_power_mw=plan.battery_power_mw - (battery.power_mw if battery else 0),
            battery_added_energy_mwh=plan.battery_energy_mwh
            - (battery.energy_mwh if battery else 0),
            battery_power_mw=plan.battery_power_mw,
        )

    def upper_site(self) -> Site:
        """The site at the largest sizes allowed: the sizing model's bounds (not validated)."""
        battery_range = self.battery_range()
        power_mw, energy_mwh = self._battery_as_is()
        plan = Plan(
            hpc_it_mw=self.max_hpc_it_mw,
            hpc_new_build_it_mw=0.0,
            hpc_retrofit_it_mw=0.0,
            containers_kept={f: 0 for f in self.fleets},
            containers_added={f: r.maximum for f, r in self.fleets.items()},
            battery_power_mw=battery_range[0][1] if battery_range else power_mw,
            battery_energy_mwh=battery_range[1][1] if battery_range else energy_mwh,
        )
        return self._site_of(plan)

    def site_for(self, plan: Plan) -> Site:
        """The concrete site of a plan; an InputError if the plan breaks a rule of the site."""
        problems = self.problems(plan)
        site = self._site_of(plan)
        problems += semantic_problems(site)
        if problems:
            raise InputError(
                f"site {self.site.name!r}, plan {plan.as_dict()}: " + "; ".join(problems)
            )
        return site

    def _site_of(self, plan: Plan) -> Site:
        updates: dict[str, object] = {"sizing": None}
        hpc = self.site.hpc
        if hpc is not None:
            hpc_update: dict[str, object] = {"it_load_mw": plan.hpc_it_mw}
            if isinstance(hpc.contract, GpuCloud):
                gpus = max(1, round(plan.hpc_it_mw * 1000.0 / hpc.contract.kw_per_gpu))
                hpc_update["contract"] = hpc.contract.model_copy(update={"gpu_count": gpus})
            updates["hpc"] = hpc.model_copy(update=hpc_update) if plan.hpc_it_mw > 0 else None
        if self.site.mining is not None:
            fleets = [
                f.model_copy(update={"containers": plan.containers[f.name]})
                for f in self.site.mining.fleets
            ]
            updates["mining"] = self.site.mining.model_copy(update={"fleets": fleets})
        battery = self.site.battery
        if battery is not None:
            updates["battery"] = (
                battery.model_copy(
                    update={
                        "power_mw": plan.battery_power_mw,
                        "energy_mwh": plan.battery_energy_mwh,
                    }
                )
                if plan.battery_power_mw > 0 and plan.battery_energy_mwh > 0
                else None
            )
        return self.site.model_copy(update=updates)

    def problems(self, plan: Plan) -> list[str]:
        """Every sizing rule a plan breaks (empty when the sizing model could choose it)."""
        found: list[str] = []
        tol = TOLERANCE_MW
        added = plan.hpc_new_build_it_mw + plan.hpc_retrofit_it_mw
        if abs(plan.hpc_it_mw - self.existing_hpc_it_mw - added) > tol:
            found.append(
                f"HPC {plan.hpc_it_mw:g} MW IT is not the existing {self.existing_hpc_it_mw:g} "
                f"MW plus {added:g} MW added"
            )
        if plan.hpc_it_mw > self.max_hpc_it_mw + tol:
            found.append(f"HPC {plan.hpc_it_mw:g} MW IT exceeds max_it_mw {self.max_hpc_it_mw:g}")
        hpc = self.spec.hpc
        if hpc is None and added > tol:
            found.append("HPC is not sized (no sizing.hpc) but the plan adds some")
        if hpc is not None:
            for name, route, mw in (
                ("new_build", hpc.new_build, plan.hpc_new_build_it_mw),
                ("retrofit", hpc.retrofit, plan.hpc_retrofit_it_mw),
            ):
                if mw < -tol or (route.max_it_mw is not None and mw > route.max_it_mw + tol):
                    found.append(f"HPC {name} {mw:g} MW IT outside [0, {route.max_it_mw}]")
            if hpc.block_it_mw is not None:
                for name, mw in (
                    ("new build", plan.hpc_new_build_it_mw),
                    ("retrofit", plan.hpc_retrofit_it_mw),
                ):
                    blocks = mw / hpc.block_it_mw
                    if abs(blocks - round(blocks)) > 1e-6:
                        found.append(
                            f"HPC {name} {mw:g} MW IT is not a whole number of "
                            f"{hpc.block_it_mw:g} MW blocks"
                        )
        if plan.hpc_retrofit_it_mw * self.pue > self.retired_mw(plan) + tol:
            found.append(
                f"retrofit {plan.hpc_retrofit_it_mw:g} MW IT × PUE {self.pue:g} exceeds the "
                f"{self.retired_mw(plan):g} MW of retired mining containers"
            )
        for name, r in self.fleets.items():
            kept, new = plan.containers_kept[name], plan.containers_added[name]
            if not (0 <= kept <= r.existing and new >= 0 and r.minimum <= kept + new <= r.maximum):
                found.append(
                    f"fleet {name}: {kept} kept + {new} added outside "
                    f"[{r.minimum}, {r.maximum}] (existing {r.existing})"
                )
        load_mw = plan.hpc_it_mw * self.pue + self.mining_mw(plan)
        if load_mw > self.max_site_load_mw + tol:
            found.append(
                f"HPC facility + mining = {load_mw:g} MW exceeds the site load limit "
                f"{self.max_site_load_mw:g} MW (sizing.max_site_load_mw)"
            )
        if plan.hpc_it_mw * self.pue > self.firm_supply_mw + tol:
            found.append(
                f"HPC facility {plan.hpc_it_mw * self.pue:g} MW exceeds the firm supply "
                f"{self.firm_supply_mw:g} MW (grid import + economic generators)"
            )
        battery_range = self.battery_range()
        if battery_range is not None:
            (p0, p1), (e0, e1) = battery_range
            if not (p0 - tol <= plan.battery_power_mw <= p1 + tol) or not (
                e0 - tol <= plan.battery_energy_mwh <= e1 + tol
            ):
                found.append(
                    f"battery {plan.battery_power_mw:g} MW / {plan.battery_energy_mwh:g} MWh "
                    f"outside [{p0:g}, {p1:g}] MW, [{e0:g}, {e1:g}] MWh"
                )
        return found

    def grid_plan(self, hpc_it_mw: float, mining_mw: float) -> Plan:
        """The plan of one sweep point: ``hpc_it_mw`` installed HPC IT [MW], about ``mining_mw``
        nominal mining [MW] (whole containers, at most that much).

        Rule: existing containers are kept most efficient first, then new ones are added most
        efficient first; the HPC added beyond what exists is retrofitted into the halls of the
        retired containers as far as they reach (in whole blocks), the rest is new build. The
        battery stays as it stands. Violations are left for :meth:`problems` to report.
        """
        kept = {f: 0 for f in self.fleets}
        added = {f: 0 for f in self.fleets}
        remaining = mining_mw
        for name, r in self.fleets.items():  # fleets that are not sized stay as they are
            if not r.sized:
                kept[name] = r.existing
                remaining -= r.existing * r.container_mw
        by_efficiency = sorted(
            (name for name, r in self.fleets.items() if r.sized),
            key=lambda name: self.fleets[name].efficiency_j_per_th,
        )
        for name in by_efficiency:
            r = self.fleets[name]
            kept[name] = _whole(remaining, r.container_mw, min(r.existing, r.maximum))
            remaining -= kept[name] * r.container_mw
        for name in by_efficiency:
            r = self.fleets[name]
            added[name] = _whole(remaining, r.container_mw, r.maximum - kept[name])
            remaining -= added[name] * r.container_mw
        plan = Plan(hpc_it_mw, 0.0, 0.0, kept, added, *self._battery_as_is())
        hpc_added = hpc_it_mw - self.existing_hpc_it_mw
        retrofit = max(0.0, min(hpc_added, self.retired_mw(plan) / self.pue))
        hpc = self.spec.hpc
        if hpc is not None and hpc.retrofit.max_it_mw is not None:
            retrofit = min(retrofit, hpc.retrofit.max_it_mw)
        if hpc is not None and hpc.block_it_mw is not None:  # whole halls converted
            retrofit = math.floor(retrofit / hpc.block_it_mw + 1e-9) * hpc.block_it_mw
        return Plan(hpc_it_mw, hpc_added - retrofit, retrofit, kept, added, *self._battery_as_is())

    def _battery_as_is(self) -> tuple[float, float]:
        battery = self.site.battery
        return (battery.power_mw, battery.energy_mwh) if battery else (0.0, 0.0)


def _whole(mw: float, container_mw: float, most: int) -> int:
    """Whole containers of ``container_mw`` that fit in ``mw``, at most ``most``."""
    if mw <= 0 or most <= 0:
        return 0
    return min(most, math.floor(mw / container_mw + 1e-9))
