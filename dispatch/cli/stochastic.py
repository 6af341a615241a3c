"""`dispatch run --stochastic`: one day's stochastic day-ahead decision, printed and written."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from rich.table import Table

from dispatch.cli.common import console

if TYPE_CHECKING:
    from dispatch.options import SolveOptions
    from dispatch.stochastic.settings import Risk


def run_stochastic(
    site_file: Path,
    day: dt.date,
    *,
    count: int | None,
    scenarios: Path | None,
    weights: Path | None,
    risk: Risk,
    prices: str | None,
    rt_prices: str | None,
    hashprice: Path | None,
    options: SolveOptions,
    in_sample: bool,
    out: Path | None,
    fmt: str,
) -> None:
    """Solve, print the first stage, the expected streams and the margin distribution."""
    from dispatch.site import load_site
    from dispatch.stochastic.api import stochastic_day_ahead, write_plan

    site = load_site(site_file)
    plan, chosen = stochastic_day_ahead(
        site,
        day,
        scenarios=scenarios if scenarios is not None else (10 if count is None else count),
        weights=weights,
        risk=risk,
        prices=prices or "ercot_dam_spp",
        rt_prices=rt_prices or "ercot_rtm_spp",
        hashprice=hashprice,
        options=options,
        in_sample=in_sample,
    )
    first = Table(title=f"{site.name}: day-ahead decisions for {day} ({chosen.count} scenarios)")
    first.add_column("hour")
    for column in plan.first_stage.columns:
        first.add_column(column, justify="right")
    for hour, row in plan.first_stage.iterrows():
        first.add_row(f"{hour:%H:%M}", *[f"{v:,.1f}" for v in row])
    console.print(first)
    streams = Table(title="expected streams (weighted over the scenarios)")
    for name in ("stream", "USD", "basis MWh", "USD/MWh"):
        streams.add_column(name, justify="left" if name == "stream" else "right")
    for row in plan.expected_streams.itertuples():
        basis = "" if row.basis_mwh != row.basis_mwh else f"{row.basis_mwh:,.1f}"
        per = "" if row.usd_per_mwh != row.usd_per_mwh else f"{row.usd_per_mwh:,.2f}"
        streams.add_row(row.stream, f"{round(row.usd) + 0:,}", basis, per)
    streams.add_section()
    streams.add_row("objective", f"{plan.objective_usd:,.0f}", "", "")
    console.print(streams)
    summary = Table(title="margin distribution over the scenarios", show_header=False)
    summary.add_column("")
    summary.add_column("", justify="right")
    for name, value in plan.distribution().items():
        summary.add_row(name, f"{value:,.4g}" if abs(value) < 1 else f"{value:,.2f}")
    if plan.in_sample is not None:
        summary.add_row("in-sample VSS USD", f"{plan.in_sample.vss_usd:,.2f}")
        summary.add_row("in-sample EVPI USD", f"{plan.in_sample.evpi_usd:,.2f}")
    console.print(summary)
    console.print(f"[dim]scenarios: {chosen.source}[/]", highlight=False)
    if out is not None:
        for path in write_plan(plan, chosen, out, fmt):
            console.print(f"wrote {path}", highlight=False)
