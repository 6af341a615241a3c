"""DispatchResult: the schedule, the streams table and the KPIs, and their writers.

Stream values are the model's own ``stream_usd`` expressions evaluated at the solution (see
dispatch.model.extract), so the table sums to the objective; KPIs come from the schedule and site.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from dispatch import columns
from dispatch.errors import InputError, expect
from dispatch.files import write_atomic_all
from dispatch.inputs import HASHPRICE
from dispatch.streams import ANCILLARY_STREAMS, Stream

if TYPE_CHECKING:
    from dispatch.site import Site

Format = Literal["csv", "parquet", "json"]


@dataclass(frozen=True)
class SolveReport:
    """How the solve went: status, objective and bound [USD], gap, timings [s]."""

    status: str
    objective_usd: float
    bound_usd: float | None
    mip_gap: float
    solver_seconds: float
    solve_seconds: float
    build_seconds: float
    rebuilt: bool
    rounds: int  # solves needed (lazy binaries switched on between them)


@dataclass(frozen=True)
class Kpis:
    """Headline numbers of one solve. Money in USD, energy in MWh, fractions 0..1.

    ``net_margin_usd`` is the sum of the streams table; ``objective_usd`` is the objective value
    HiGHS reports for the horizon it solved (equal to ``net_margin_usd`` for a plain solve; for a
    kept day of a look-ahead solve it covers the day and its look-ahead).
    """

    net_margin_usd: float
    site_load_mwh: float
    margin_usd_per_mwh: float | None
    hpc_availability_fraction: float | None
    hpc_sla_met: bool | None
    mining_energy_mwh: float
    mining_uptime_fraction: float | None
    mining_curtailed_mwh: float
    realized_hashprice_usd_per_ph_day: float | None
    breakeven_usd_per_mwh: dict[str, float] = field(default_factory=dict)
    ancillary_usd: float = 0.0
    ancillary_usd_per_mining_mwh: float | None = None
    status: str = "optimal"
    objective_usd: float = 0.0
    mip_gap: float = 0.0
    build_seconds: float = 0.0
    solve_seconds: float = 0.0
    solver_seconds: float = 0.0
    total_seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class DispatchResult:
    """Frozen outcome of one solve.

    ``schedule``: one row per interval (tz-aware index), one column per quantity with its unit.
    ``streams``: stream, usd (revenue +, cost −), basis_mwh, usd_per_mwh, kind.
    """

    site_name: str
    schedule: pd.DataFrame
    streams: pd.DataFrame
    kpis: Kpis
    sources: dict[str, str] = field(default_factory=dict)

    def with_total_seconds(self, seconds: float) -> DispatchResult:
        return replace(self, kpis=replace(self.kpis, total_seconds=seconds))

    def write(self, out_dir: str | Path, fmt: Format = "csv") -> list[Path]:
        """Write schedule, streams and KPIs into ``out_dir``: all of them or none (each is
        written to a temporary file, then all are renamed), so a failed write never leaves this
        run's schedule beside another run's KPIs. ``fmt``: csv, parquet or json."""
        if fmt not in ("csv", "parquet", "json"):
            raise InputError(f"format (--format): expected csv, parquet or json, found {fmt!r}")
        expect(out_dir, (str, Path), "out_dir", "a folder path")
        out = Path(out_dir)
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise InputError(f"--out {out}: cannot make the folder ({error.strerror})") from None
        kpis = {"site": self.site_name, **self.kpis.as_dict(), "sources": self.sources}
        schedule = self.schedule.reset_index()
        schedule["interval_start"] = schedule["interval_start"].map(pd.Timestamp.isoformat)
        writes: dict[Path, Callable[[Path], object]] = {}
        if fmt == "json":
            payload = {
                "kpis": kpis,
                "streams": self.streams.astype(object)
                .where(self.streams.notna(), None)
                .to_dict(orient="records"),
                "schedule": schedule.to_dict(orient="records"),
            }
            writes[out / "result.json"] = lambda p: p.write_text(_json(payload))
        elif fmt == "parquet":
            writes[out / "schedule.parquet"] = self.schedule.to_parquet
            writes[out / "streams.parquet"] = lambda p: self.streams.to_parquet(p, index=False)
        else:
            writes[out / "schedule.csv"] = lambda p: schedule.to_csv(p, index=False)
            writes[out / "streams.csv"] = lambda p: self.streams.to_csv(p, index=False)
        if fmt != "json":
            writes[out / "kpis.json"] = lambda p: p.write_text(_json(kpis))
        return write_atomic_all(writes)


def _json(payload: object) -> str:
    def default(value: object) -> object:
        if isinstance(value, np.generic):
            return value.item()
        raise TypeError(f"not JSON serializable: {type(value).__name__}")

    return json.dumps(payload, indent=2, default=default, allow_nan=False) + "\n"


def breakeven_usd_per_mwh(
    hashprice_usd_per_ph_day: Any, efficiency_j_per_th: float, pool_fee_fraction: float
) -> Any:
    """The power price [USD/MWh] at which a container at nominal efficiency earns nothing:
    hashprice [USD/PH/day] × (1 − pool fee) × 1000 / efficiency [PH/s per MW] / 24 [h/day].
    Takes a number or an array of hashprices (one breakeven per value)."""
    return hashprice_usd_per_ph_day * (1 - pool_fee_fraction) * 1000.0 / efficiency_j_per_th / 24.0


def compute_kpis(
    site: Site,
    schedule: Mapping[str, np.ndarray],
    usd: Mapping[str, float],
    dt: float,
    report: SolveReport,
) -> Kpis:
    """KPIs from the schedule's columns (arrays by column name) and each stream's USD."""
    margin = float(np.sum(list(usd.values())))
    n = len(schedule["site_load_mw"])

    def column(name: str) -> np.ndarray:
        return np.asarray(schedule[name], dtype=float)

    site_load_mwh = float(column("site_load_mw").sum() * dt)
    availability = sla_met = None
    if site.hpc is not None:
        # only unserved firm load counts: deferred flexible load (H3) is made up, not lost
        required = float(column("hpc_required_mw").sum())
        unserved = float(column("hpc_unserved_mw").sum())
        availability = 1.0 - unserved / required if required > 0 else 1.0
        sla_met = availability >= site.hpc.sla_availability - 1e-12
    mining_mwh = curtailed = running = slots = ph_days = 0.0
    breakeven = {}
    fee = site.mining.pool_fee_fraction if site.mining else 0.0
    for fleet in site.fleets:
        power = column(columns.mining(fleet.name, "power_mw"))
        mining_mwh += float(power.sum() * dt)
        curtailed += float(np.clip(fleet.capacity_mw - power, 0.0, None).sum() * dt)
        running += float(column(columns.mining(fleet.name, "containers_on")).sum())
        slots += fleet.containers * n
        ph_days += float(column(columns.mining(fleet.name, "hashrate_ph_s")).sum() * dt / 24)
        mean_hashprice = float(column(HASHPRICE).mean())
        breakeven[fleet.name] = breakeven_usd_per_mwh(
            mean_hashprice, fleet.efficiency_j_per_th, fee
        )
    hashprice_usd = usd.get(Stream.MINING_HASHPRICE.value, 0.0)
    ancillary_usd = sum(usd.get(s.value, 0.0) for s in ANCILLARY_STREAMS)
    return Kpis(
        net_margin_usd=margin,
        site_load_mwh=site_load_mwh,
        margin_usd_per_mwh=margin / site_load_mwh if site_load_mwh > 0 else None,
        hpc_availability_fraction=availability,
        hpc_sla_met=sla_met,
        mining_energy_mwh=mining_mwh,
        mining_uptime_fraction=running / slots if slots else None,
        mining_curtailed_mwh=curtailed,
        realized_hashprice_usd_per_ph_day=hashprice_usd / ph_days if ph_days > 0 else None,
        breakeven_usd_per_mwh=breakeven,
        ancillary_usd=ancillary_usd,
        ancillary_usd_per_mining_mwh=ancillary_usd / mining_mwh if mining_mwh > 0 else None,
        status=report.status,
        objective_usd=report.objective_usd,
        mip_gap=report.mip_gap,
        build_seconds=report.build_seconds,
        solve_seconds=report.solve_seconds,
        solver_seconds=report.solver_seconds,
    )
