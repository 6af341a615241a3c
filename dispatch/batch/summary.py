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

from dispatch.batch.outputs import OutputDir
from dispatch.files import write_atomic
from dispatch.realtime.cases import BREAKEVEN, CASES, OPERATOR, PERFECT_FORESIGHT

GROUP = ["site_file", "site_name", "prices", "settlement_point"]
BY_YEAR = [*GROUP, "case", "year"]


@dataclass(frozen=True)
class Summary:
    """``streams``: one row per task group, case, year and stream. ``kpis``: one row per task
    group, case and year. ``operator``: operator mode only, one row per task group and period
    (each year, then each month)."""

    streams: pd.DataFrame
    kpis: pd.DataFrame
    operator: pd.DataFrame

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


def operator_summary(days: pd.DataFrame) -> pd.DataFrame:
    """Operator mode: each case's margin per task group and period (every year, then every
    month), how much of perfect foresight the operator keeps, and how it compares with the
    breakeven rule.

    ``operator_share_of_perfect_foresight`` is operator / perfect-foresight margin;
    ``operator_share_of_foresight_gain`` is (operator - breakeven) / (perfect foresight -
    breakeven): the part of what optimizing with hindsight adds over the rule that the
    non-anticipative loop keeps.
    """
    if days.empty or not set(CASES) <= set(days["case"]):
        return pd.DataFrame()
    stamps = pd.DatetimeIndex(pd.to_datetime(days["day"]))
    frames = []
    for period in (stamps.strftime("%Y"), stamps.strftime("%Y-%m")):
        frame = days.assign(period=period)
        margins = frame.pivot_table(
            index=[*GROUP, "period"], columns="case", values="net_margin_usd", aggfunc="sum"
        )
        count = frame.groupby([*GROUP, "period"])["day"].nunique()
        table = pd.DataFrame({"days": count})
        for case in CASES:
            table[f"{case}_margin_usd"] = margins[case]
        frames.append(table)
    table = pd.concat(frames)
    perfect, operator, rule = (
        table[f"{c}_margin_usd"] for c in (PERFECT_FORESIGHT, OPERATOR, BREAKEVEN)
    )
    table["operator_share_of_perfect_foresight"] = _ratio(operator, perfect)
    table["operator_share_of_foresight_gain"] = _ratio(operator - rule, perfect - rule)
    table["operator_minus_breakeven_usd"] = operator - rule
    return table.reset_index()


def summarize(out: OutputDir, keys: Iterable[str]) -> Summary:
    """The summary of the finished tasks among ``keys`` in ``out``."""
    finished = out.finished()
    entries = [finished[key] for key in dict.fromkeys(keys) if key in finished]
    streams = out.read("streams", entries)
    days = out.read("days", entries)
    return Summary(stream_summary(streams), kpi_summary(days), operator_summary(days))


def write_summary(summary: Summary, root: str | Path) -> list[Path]:
    """``summary_<table>.parquet`` and ``.csv`` for each non-empty table, written atomically."""
    written = []
    for name, frame in (
        ("streams", summary.streams),
        ("kpis", summary.kpis),
        ("operator", summary.operator),
    ):
        if frame.empty:
            continue
        for suffix in ("parquet", "csv"):
            path = Path(root) / f"summary_{name}.{suffix}"
            write = frame.to_parquet if suffix == "parquet" else frame.to_csv
            write_atomic(path, partial(write, index=False))
            written.append(path)
    return written
