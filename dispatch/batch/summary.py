"""Per task and per year: USD and USD/MWh per stream, and the KPIs, from the written parts.

The summary reads the parts of finished tasks (so a resumed batch summarizes all its tasks,
including those finished by an earlier run) and aggregates exactly: money and energy are summed,
ratios are ratios of sums (uptime = container-intervals running / available, HPC availability =
energy served / required, USD/MWh = USD / basis MWh).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pandas as pd

from dispatch.batch.forecast import DA_PLAN, DA_SCHEDULE_RT, PERFECT_FORESIGHT, RT_REDISPATCH
from dispatch.batch.outputs import OutputDir
from dispatch.files import write_atomic

GROUP = ["site_file", "site_name", "prices", "settlement_point"]
BY_YEAR = [*GROUP, "case", "year"]


@dataclass(frozen=True)
class Summary:
    """``streams``: one row per task group, case, year and stream. ``kpis``: one row per task
    group, case and year. ``foresight``: forecast mode only, one row per task group and year."""

    streams: pd.DataFrame
    kpis: pd.DataFrame
    foresight: pd.DataFrame

    @property
    def empty(self) -> bool:
        return self.kpis.empty


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    return (numerator / denominator.where(denominator.abs() > 1e-9)).astype(float)


def stream_summary(streams: pd.DataFrame) -> pd.DataFrame:
    """USD, basis MWh and USD/MWh per task group, case, year and stream."""
    if streams.empty:
        return pd.DataFrame(columns=[*BY_YEAR, "stream", "kind", "usd", "basis_mwh", "usd_per_mwh"])
    frame = streams.assign(year=pd.DatetimeIndex(pd.to_datetime(streams["day"])).year)
    grouped = frame.groupby([*BY_YEAR, "stream", "kind"], sort=False, dropna=False)
    table = grouped[["usd", "basis_mwh"]].sum().reset_index()
    table["usd_per_mwh"] = _ratio(table["usd"], table["basis_mwh"])
    return table.sort_values(BY_YEAR, kind="stable").reset_index(drop=True)


def kpi_summary(days: pd.DataFrame) -> pd.DataFrame:
    """KPIs per task group, case and year from the ``days`` table."""
    if days.empty:
        return pd.DataFrame(columns=[*BY_YEAR, "days", "net_margin_usd"])
    frame = days.assign(
        year=pd.DatetimeIndex(pd.to_datetime(days["day"])).year,
        time_limited=(days["status"] != "optimal").astype(int),
    )
    sums = frame.groupby(BY_YEAR, sort=False, dropna=False).agg(
        days=("day", "nunique"),
        net_margin_usd=("net_margin_usd", "sum"),
        site_load_mwh=("site_load_mwh", "sum"),
        mining_energy_mwh=("mining_energy_mwh", "sum"),
        mining_curtailed_mwh=("mining_curtailed_mwh", "sum"),
        on=("mining_container_intervals_on", "sum"),
        slots=("mining_container_intervals", "sum"),
        served=("hpc_served_mwh", "sum"),
        required=("hpc_required_mwh", "sum"),
        time_limited_days=("time_limited", "sum"),
        max_mip_gap=("mip_gap", "max"),
        solve_seconds=("solve_seconds", "sum"),
    )
    sums = sums.reset_index()
    sums["margin_usd_per_mwh"] = _ratio(sums["net_margin_usd"], sums["site_load_mwh"])
    sums["mining_uptime_fraction"] = _ratio(sums.pop("on"), sums.pop("slots"))
    sums["hpc_availability_fraction"] = _ratio(sums.pop("served"), sums.pop("required"))
    return sums.sort_values(BY_YEAR, kind="stable").reset_index(drop=True)


def foresight_summary(kpis: pd.DataFrame) -> pd.DataFrame:
    """Forecast mode: margins of each case and the value of perfect foresight per year."""
    if kpis.empty or PERFECT_FORESIGHT not in set(kpis["case"]):
        return pd.DataFrame()
    keys = [*GROUP, "year"]
    margins = kpis.pivot_table(
        index=keys, columns="case", values="net_margin_usd", aggfunc="sum", dropna=False
    )
    load = kpis.pivot_table(index=keys, columns="case", values="site_load_mwh", aggfunc="sum")
    days = kpis.pivot_table(index=keys, columns="case", values="days", aggfunc="max")
    executed = RT_REDISPATCH if RT_REDISPATCH in margins.columns else DA_SCHEDULE_RT
    table = pd.DataFrame(
        {
            "days": days[PERFECT_FORESIGHT],
            "da_plan_margin_usd": margins[DA_PLAN],
            "da_schedule_rt_margin_usd": margins[DA_SCHEDULE_RT],
            "executed_case": executed,
            "executed_margin_usd": margins[executed],
            "perfect_foresight_margin_usd": margins[PERFECT_FORESIGHT],
        }
    )
    if RT_REDISPATCH in margins.columns:
        table.insert(3, "rt_redispatch_margin_usd", margins[RT_REDISPATCH])
    value = table["perfect_foresight_margin_usd"] - table["executed_margin_usd"]
    table["value_of_perfect_foresight_usd"] = value
    table["value_of_perfect_foresight_usd_per_mwh"] = _ratio(value, load[executed])
    return table.reset_index()


def summarize(out: OutputDir, keys: Iterable[str]) -> Summary:
    """The summary of the finished tasks among ``keys`` in ``out``."""
    finished = out.finished()
    entries = [finished[key] for key in dict.fromkeys(keys) if key in finished]
    streams = out.read("streams", entries)
    kpis = kpi_summary(out.read("days", entries))
    return Summary(stream_summary(streams), kpis, foresight_summary(kpis))


def write_summary(summary: Summary, root: str | Path) -> list[Path]:
    """``summary_<table>.parquet`` and ``.csv`` for each non-empty table, written atomically."""
    written = []
    for name, frame in (
        ("streams", summary.streams),
        ("kpis", summary.kpis),
        ("foresight", summary.foresight),
    ):
        if frame.empty:
            continue
        for suffix in ("parquet", "csv"):
            path = Path(root) / f"summary_{name}.{suffix}"
            write = frame.to_parquet if suffix == "parquet" else frame.to_csv
            write_atomic(path, partial(write, index=False))
            written.append(path)
    return written
