"""What sizing returns: cases (a plan's money on one basis), the sweep, scenarios and regret.

Stream values come from the model's own expressions (the optimum on representative days) or
from dispatching the plan (every other case); costs come from :func:`cost_terms`, which is the
objective's own formula. Nothing here re-derives money another way.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dispatch.files import write_atomic
from dispatch.sizing.days import RepresentativeDays
from dispatch.sizing.economics import CostTerm, npv_usd, payback_years
from dispatch.sizing.plan import Plan, Planning
from dispatch.sizing.plot import HeatmapMarks
from dispatch.sizing.scenarios import Scenario
from dispatch.streams import Stream


@dataclass(frozen=True)
class Case:
    """One plan's money per year on one basis, and its NPV.

    ``streams``: stream, usd_per_year, basis_mwh_per_year, usd_per_mwh, kind (operations).
    ``costs``: term, capex_usd, usd_per_year. ``net_usd_per_year`` = operations − fixed O&M −
    annualized capex; ``npv_usd`` its annuity over the analysis years; ``npv_vs_bau_usd`` and
    ``payback_years`` compare with the business-as-usual case on the same basis.
    """

    name: str
    scenario: str
    basis: str
    plan: Plan
    hpc_facility_mw: float
    mining_mw: float
    streams: pd.DataFrame
    costs: pd.DataFrame
    operations_usd_per_year: float
    fixed_om_usd_per_year: float
    annualized_capex_usd_per_year: float
    net_usd_per_year: float
    capex_usd: float
    npv_usd: float
    npv_vs_bau_usd: float | None = None
    payback_years: float | None = None

    def row(self) -> dict[str, Any]:
        plan = self.plan
        return {
            "case": self.name,
            "scenario": self.scenario,
            "basis": self.basis,
            "hpc_it_mw": plan.hpc_it_mw,
            "hpc_new_build_it_mw": plan.hpc_new_build_it_mw,
            "hpc_retrofit_it_mw": plan.hpc_retrofit_it_mw,
            "hpc_facility_mw": self.hpc_facility_mw,
            "mining_mw": self.mining_mw,
            **{f"{f}_containers": n for f, n in plan.containers.items()},
            "battery_power_mw": plan.battery_power_mw,
            "battery_energy_mwh": plan.battery_energy_mwh,
            "capex_usd": self.capex_usd,
            "operations_usd_per_year": self.operations_usd_per_year,
            "fixed_om_usd_per_year": self.fixed_om_usd_per_year,
            "annualized_capex_usd_per_year": self.annualized_capex_usd_per_year,
            "net_usd_per_year": self.net_usd_per_year,
            "npv_usd": self.npv_usd,
            "npv_vs_bau_usd": self.npv_vs_bau_usd,
            "payback_years": self.payback_years,
        }


def make_case(
    planning: Planning,
    name: str,
    scenario: str,
    basis: str,
    plan: Plan,
    streams: pd.DataFrame,
    costs: pd.DataFrame,
    bau: Case | None = None,
) -> Case:
    """A case from its operations streams and cost terms (both per year)."""
    streams = streams.copy()
    basis_mwh = streams["basis_mwh_per_year"].to_numpy(dtype=float)
    usd = streams["usd_per_year"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        streams["usd_per_mwh"] = np.where(np.abs(basis_mwh) > 1e-9, usd / basis_mwh, np.nan)
    streams["kind"] = [Stream(s).kind.value for s in streams["stream"]]
    capex_terms = costs["term"].map(lambda t: CostTerm(t).is_capex)
    operations = float(usd.sum())
    om = float(costs.loc[~capex_terms, "usd_per_year"].sum())
    annualized = float(costs.loc[capex_terms, "usd_per_year"].sum())
    capex = float(costs["capex_usd"].sum())
    net = operations - om - annualized
    npv = npv_usd(planning.spec, net)
    npv_vs_bau = payback = None
    if bau is not None:
        npv_vs_bau = npv - bau.npv_usd
        gain = (operations - om) - (bau.operations_usd_per_year - bau.fixed_om_usd_per_year)
        payback = payback_years(capex, gain)
    return Case(
        name=name,
        scenario=scenario,
        basis=basis,
        plan=plan,
        hpc_facility_mw=plan.hpc_it_mw * planning.pue,
        mining_mw=planning.mining_mw(plan),
        streams=streams,
        costs=costs,
        operations_usd_per_year=operations,
        fixed_om_usd_per_year=om,
        annualized_capex_usd_per_year=annualized,
        net_usd_per_year=net,
        capex_usd=capex,
        npv_usd=npv,
        npv_vs_bau_usd=npv_vs_bau,
        payback_years=payback,
    )


@dataclass(frozen=True)
class ScenarioOutcome:
    """One scenario's optimum and business-as-usual case on the operations basis, and (full
    history basis) its sweep. ``solve`` reports the sizing MILP (representative days)."""

    scenario: Scenario
    optimum: Case
    business_as_usual: Case
    solve: dict[str, Any] = field(default_factory=dict)
    sweep: pd.DataFrame | None = None


@dataclass(frozen=True)
class SizingResult:
    """Everything ``dispatch size`` found.

    ``outcomes``: one per scenario, the reference first. ``checked``: the reference optimum
    and business-as-usual case dispatched over every day of the history (representative-day
    basis only). ``sweep``: the reference scenario's grid dispatched over the history.
    ``regret``: rows "mix chosen for scenario s", columns "scenario t that happens", NPV
    [USD] lost against scenario t's own optimum, plus ``max_regret_usd``.
    """

    site_name: str
    period: str
    basis: str
    outcomes: tuple[ScenarioOutcome, ...]
    representative: RepresentativeDays | None = None
    checked: tuple[Case, ...] = ()
    sweep: pd.DataFrame | None = None
    regret: pd.DataFrame | None = None
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def optimum(self) -> Case:
        """The recommended case: the reference optimum, on the full history when checked."""
        for case in self.checked:
            if case.name == "optimum":
                return case
        return self.outcomes[0].optimum

    @property
    def business_as_usual(self) -> Case:
        for case in self.checked:
            if case.name == "business_as_usual":
                return case
        return self.outcomes[0].business_as_usual

    def cases(self) -> list[Case]:
        cases = [c for o in self.outcomes for c in (o.optimum, o.business_as_usual)]
        return cases + list(self.checked)

    def cases_table(self) -> pd.DataFrame:
        return pd.DataFrame([c.row() for c in self.cases()])

    def streams_table(self) -> pd.DataFrame:
        frames = [
            c.streams.assign(case=c.name, scenario=c.scenario, basis=c.basis) for c in self.cases()
        ]
        columns = ["case", "scenario", "basis", "stream", "usd_per_year", "basis_mwh_per_year"]
        return pd.concat(frames, ignore_index=True)[[*columns, "usd_per_mwh", "kind"]]

    def costs_table(self) -> pd.DataFrame:
        frames = [
            c.costs.assign(case=c.name, scenario=c.scenario, basis=c.basis) for c in self.cases()
        ]
        columns = ["case", "scenario", "basis", "term", "capex_usd", "usd_per_year"]
        return pd.concat(frames, ignore_index=True)[columns]

    def summary(self) -> dict[str, Any]:
        best = self.optimum
        bau = self.business_as_usual
        summary: dict[str, Any] = {
            "site": self.site_name,
            "period": self.period,
            "basis": self.basis,
            "optimum": best.row() | {"plan": best.plan.as_dict()},
            "business_as_usual": bau.row() | {"plan": bau.plan.as_dict()},
            "scenarios": {
                o.scenario.name: {
                    "optimum": o.optimum.row(),
                    "solve": o.solve,
                }
                for o in self.outcomes
            },
            "seconds": self.seconds,
        }
        if self.representative is not None:
            summary["representative_days"] = self.representative.table().to_dict(orient="records")
            summary["representative_means"] = self.representative.means.to_dict(orient="records")
        if self.checked:
            estimate = self.outcomes[0].optimum
            summary["check"] = {
                "estimate_net_usd_per_year": estimate.net_usd_per_year,
                "full_history_net_usd_per_year": best.net_usd_per_year,
                "relative_error": (estimate.net_usd_per_year - best.net_usd_per_year)
                / abs(best.net_usd_per_year)
                if best.net_usd_per_year
                else None,
            }
        return summary

    def write(self, out_dir: str | Path) -> list[Path]:
        """Write the tables (CSV) and ``summary.json`` into ``out_dir``; each file appears whole
        or not at all. The heat maps are in the report (``dispatch.report.write_size_report``)."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        tables = {
            "cases.csv": self.cases_table(),
            "streams.csv": self.streams_table(),
            "costs.csv": self.costs_table(),
        }
        if self.representative is not None:
            tables["representative_days.csv"] = self.representative.table()
            accuracy = self.representative.accuracy.reset_index(names="series")
            tables["representative_accuracy.csv"] = accuracy
        sweeps = [frame.assign(scenario=name) for name, frame in self.sweeps()]
        if sweeps:
            tables["sweep.csv"] = pd.concat(sweeps, ignore_index=True)
        if self.regret is not None:
            tables["regret.csv"] = self.regret.reset_index(names="mix_of")
        written = [_write_csv(out / name, table) for name, table in tables.items()]
        text = json.dumps(_plain(self.summary()), indent=2, allow_nan=False) + "\n"
        written.append(write_atomic(out / "summary.json", _text_writer(text)))
        return written

    def heatmap_marks(self, scenario: str) -> HeatmapMarks:
        """The heat map's title, and the site as it stands and the optimizer's plan in it."""
        title = f"{self.site_name}: NPV, {self.period}, scenario {scenario}"
        outcome = next((o for o in self.outcomes if o.scenario.name == scenario), None)
        if outcome is None:
            return HeatmapMarks(title)
        bau, optimum = outcome.business_as_usual, outcome.optimum
        return HeatmapMarks(
            title,
            as_it_stands=(bau.mining_mw, bau.plan.hpc_it_mw),
            optimum=(optimum.mining_mw, optimum.plan.hpc_it_mw) if outcome.solve else None,
        )

    def sweeps(self) -> list[tuple[str, pd.DataFrame]]:
        """(scenario, sweep table) for every sweep dispatched."""
        found = [(o.scenario.name, o.sweep) for o in self.outcomes if o.sweep is not None]
        if self.sweep is not None:
            found.append((self.outcomes[0].scenario.name, self.sweep))
        return found


def _write_csv(path: Path, table: pd.DataFrame) -> Path:
    def write(temp: Path) -> None:
        table.to_csv(temp, index=False)

    return write_atomic(path, write)


def _text_writer(text: str) -> Callable[[Path], None]:
    def write(temp: Path) -> None:
        temp.write_text(text)

    return write


def _plain(value: Any) -> Any:
    """JSON-safe: numpy scalars to Python, NaN and infinities to None."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
