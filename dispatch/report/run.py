"""The page of one solved horizon (`dispatch run --report`).

Headline KPIs; the interval chart (:mod:`dispatch.report.timeline`); money per stream (USD and
USD/MWh); every KPI, formatted; the data sources.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from dispatch.report import fmt
from dispatch.report.page import Card, Section, Table, render, write_page
from dispatch.report.streams import streams_figure, streams_table
from dispatch.report.timeline import timeline_figure

if TYPE_CHECKING:
    from dispatch.results import DispatchResult
    from dispatch.site import Site


def headline(result: DispatchResult, site: Site) -> list[Card]:
    """Net margin, USD/MWh of site load, HPC availability and mining uptime, plus what sold."""
    k = result.kpis
    cards = [
        Card("Net margin", fmt.usd_compact(k.net_margin_usd), "sum of every stream"),
        Card(
            "Margin per MWh of site load",
            fmt.usd_per_mwh(k.margin_usd_per_mwh),
            f"over {fmt.mwh(k.site_load_mwh, 0)} of HPC and mining load",
        ),
    ]
    if site.hpc is not None:
        met = "met" if k.hpc_sla_met else "missed"
        cards.append(
            Card(
                "HPC availability",
                fmt.percent(k.hpc_availability_fraction, 3),
                f"SLA {fmt.percent(site.hpc.sla_availability, 3)}: {met}",
            )
        )
    if site.fleets:
        cards.append(
            Card(
                "Mining uptime",
                fmt.percent(k.mining_uptime_fraction, 1),
                f"container-intervals running; {fmt.mwh(k.mining_curtailed_mwh, 0)} curtailed",
            )
        )
    if site.ancillary_offers:
        cards.append(
            Card(
                "Ancillary revenue",
                fmt.usd_compact(k.ancillary_usd),
                f"{fmt.usd_per_mwh(k.ancillary_usd_per_mining_mwh)} of mining energy",
            )
        )
    return cards


KPI_ROWS: tuple[tuple[str, str, Any], ...] = (
    ("net_margin_usd", "net margin (Σ streams)", fmt.usd),
    ("objective_usd", "objective HiGHS reports", fmt.usd),
    ("site_load_mwh", "site load (HPC served + mining)", fmt.mwh),
    ("margin_usd_per_mwh", "margin per MWh of site load", fmt.usd_per_mwh),
    (
        "hpc_availability_fraction",
        "HPC availability (served / required)",
        lambda v: fmt.percent(v, 3),
    ),
    ("mining_energy_mwh", "mining energy", fmt.mwh),
    ("mining_uptime_fraction", "mining uptime (container-intervals running)", fmt.percent),
    ("mining_curtailed_mwh", "mining curtailed (nominal capacity not used)", fmt.mwh),
    (
        "realized_hashprice_usd_per_ph_day",
        "realized hashprice (net of pool fee)",
        lambda v: fmt.number(v, 2) + (" USD/PH/day" if v is not None else ""),
    ),
    ("ancillary_usd", "ancillary revenue", fmt.usd),
    ("ancillary_usd_per_mining_mwh", "ancillary revenue per MWh mined", fmt.usd_per_mwh),
    ("mip_gap", "MIP gap", lambda v: fmt.number(v * 100, 4) + " %"),
    ("build_seconds", "model build", fmt.seconds),
    ("solve_seconds", "solve (all rounds)", fmt.seconds),
    ("solver_seconds", "of which HiGHS", fmt.seconds),
    ("total_seconds", "total", fmt.seconds),
)


def kpi_table(result: DispatchResult) -> Table:
    """Every KPI with its meaning and a formatted value (breakevens one row per fleet)."""
    k = result.kpis
    rows = [(label, render_value(getattr(k, name))) for name, label, render_value in KPI_ROWS]
    rows.insert(1, ("HPC SLA met", {True: "yes", False: "no", None: fmt.MISSING}[k.hpc_sla_met]))
    for fleet, value in k.breakeven_usd_per_mwh.items():
        rows.append((f"breakeven power price, fleet {fleet}", fmt.usd_per_mwh(value)))
    rows.append(("solve status", k.status))
    return Table(("KPI", "value"), tuple(rows), (False, True))


def _period(result: DispatchResult, site: Site) -> str:
    days = pd.Index(result.schedule.index.tz_convert(site.timezone).date).unique()
    return str(days[0]) if len(days) == 1 else f"{days[0]} to {days[-1]}"


def run_page(
    result: DispatchResult, site: Site, couplings: Mapping[str, np.ndarray] | None = None
) -> str:
    """The page as a string (``couplings``: see :func:`timeline_figure`)."""
    facts = [
        _period(result, site),
        f"time zone {site.timezone}",
        f"{site.interval_minutes}-minute intervals",
    ]
    if site.market is not None:
        facts.append(f"settlement point {site.market.settlement_point}")
    facts.append(f"solve {result.kpis.status}, gap {fmt.number(result.kpis.mip_gap * 100, 4)} %")
    sections = [
        Section(
            "Interval by interval",
            "All rows share the time axis, in the site's local time: drag to zoom into an "
            "hour (every row follows), double-click to zoom out; the hover lists every value "
            "of the interval. Bars are MW held over the interval.",
            figures=(timeline_figure(result, site, couplings),),
        ),
        Section(
            "Money per stream",
            "Revenue is positive, cost negative; USD/MWh divides each stream by its own basis "
            "(the energy or MW-h it is measured against; — where that is zero). The streams sum "
            "to the net margin.",
            tables=(streams_table(result.streams),),
            figures=(streams_figure(result.streams),),
        ),
        Section("KPIs", tables=(kpi_table(result),)),
    ]
    if result.sources:
        rows = tuple((column, source) for column, source in result.sources.items())
        sections.append(Section("Data", tables=(Table(("series", "source"), rows),)))
    return render(result.site_name, facts, headline(result, site), sections)


def write_run_report(
    result: DispatchResult,
    site: Site,
    path: str | Path,
    couplings: Mapping[str, np.ndarray] | None = None,
) -> Path:
    """Write the page of ``result`` to ``path`` atomically; return the path."""
    return write_page(run_page(result, site, couplings), path)
