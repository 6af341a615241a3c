"""`dispatch run`, `validate` and `schema`: one horizon, one site file."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from dispatch.cli.common import (
    DEFAULT_DAY,
    MAX_DAYS_PER_SOLVE,
    FillChoice,
    OutputFormat,
    SiteArg,
    app,
    console,
    errors,
    literal,
    say,
    show,
    styled,
    user_errors,
)
from dispatch.errors import InputError


@app.command()
@user_errors
def run(
    site_file: SiteArg,
    inputs: Annotated[
        Path | None,
        typer.Option(
            help="folder of input files, each found by its columns (prices, ancillary prices, "
            "hashprice, coincident-peak weights, profiles); a file option overrides its file"
        ),
    ] = None,
    prices: Annotated[
        str | None,
        typer.Option(
            help="price file (tidy, gridstatus or ERCOT report, CSV or Parquet; the layout is "
            "recognised from its columns), or a bundled data set: ercot_rtm_spp, ercot_dam_spp"
        ),
    ] = None,
    hashprice: Annotated[
        Path | None,
        typer.Option(help="daily hashprice file (USD/PH/day, USD/TH/day, BTC, or chain data)"),
    ] = None,
    profiles: Annotated[
        Path | None,
        typer.Option(help="tidy file of capacity factors / HPC utilization / heat demand"),
    ] = None,
    ancillary: Annotated[
        Path | None,
        typer.Option(
            help="ancillary prices: tidy <product>_usd_per_mw_h or an ERCOT DAM MCPC file "
            "(default: bundled ERCOT DAM)"
        ),
    ] = None,
    peaks: Annotated[
        Path | None,
        typer.Option(help="tidy file of coincident_peak_weight (default: real ERCOT 4CP)"),
    ] = None,
    fill: Annotated[
        FillChoice | None,
        typer.Option(
            help="spread data coarser than the site's interval: hold each value, or interpolate "
            "(required for such user files; bundled data is held)"
        ),
    ] = None,
    timezone: Annotated[
        str | None,
        typer.Option(help="IANA time zone of naive timestamps in input files (else refused)"),
    ] = None,
    day: Annotated[str | None, typer.Option(help="local day YYYY-MM-DD")] = None,
    start: Annotated[str | None, typer.Option(help="first local day YYYY-MM-DD")] = None,
    end: Annotated[str | None, typer.Option(help="last local day YYYY-MM-DD (inclusive)")] = None,
    out: Annotated[Path | None, typer.Option(help="folder for schedule, streams, KPIs")] = None,
    fmt: Annotated[OutputFormat, typer.Option("--format", help="output format")] = OutputFormat.csv,
    mip_gap: Annotated[float, typer.Option(help="relative MIP gap")] = 1e-4,
    time_limit: Annotated[float, typer.Option(help="solver time limit [s]")] = 60.0,
    report: Annotated[
        bool,
        typer.Option(help="also write report.html, an interactive page (needs the [report] extra)"),
    ] = False,
) -> None:
    """Solve one horizon and print the streams table and KPIs (default day: 2023-08-17)."""
    from dispatch import load_inputs, load_site
    from dispatch.inputs.horizon import parse_date
    from dispatch.shortfall import hpc_shortfall
    from dispatch.solver import Dispatcher, SolveOptions

    if report and out is None:
        raise InputError("--report: needs --out DIR to write report.html into")
    if report:
        from dispatch.report.page import plotly

        plotly()  # a missing extra is said before the solve, not after
    if out is not None and out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: is a file, expected a folder for the outputs")
    if day is not None and (start is not None or end is not None):
        raise InputError("--day: use either --day or --start/--end, not both")
    if end is not None and start is None:
        raise InputError("--end: needs --start (the first day); for one day use --day")
    if day is not None:
        first = parse_date(day, "--day")
    else:
        first = parse_date(start if start is not None else DEFAULT_DAY, "--start")
    last = parse_date(end, "--end") if end is not None else first
    if (last - first).days + 1 > MAX_DAYS_PER_SOLVE:
        raise InputError(
            f"--start/--end: {(last - first).days + 1} days in one solve; at most "
            f"{MAX_DAYS_PER_SOLVE} (run longer periods day by day with `dispatch batch`)"
        )
    site = load_site(site_file)
    loaded = load_inputs(
        site,
        first,
        last,
        inputs=inputs,
        prices=prices,
        hashprice=hashprice,
        profiles=profiles,
        ancillary=ancillary,
        peaks=peaks,
        fill=fill.value if fill is not None else None,
        timezone=timezone,
    )
    dispatcher = Dispatcher(site, SolveOptions(mip_rel_gap=mip_gap, time_limit_s=time_limit))
    result = dispatcher.solve(loaded)
    _print_result(result, first, last)
    shortfall = hpc_shortfall(site, result.schedule)
    if shortfall is not None:
        errors.print(styled("warning:", "bold yellow", shortfall), soft_wrap=True)
    if out is not None:
        for path in result.write(out, fmt.value):
            say(console, f"wrote {path}")
    if report and out is not None:
        from dispatch.model.extract import coupling_columns
        from dispatch.report import write_run_report

        assert dispatcher.built is not None  # solved above
        couplings = coupling_columns(dispatcher.built)
        say(console, f"wrote {write_run_report(result, site, out / 'report.html', couplings)}")


@app.command()
@user_errors
def validate(site_file: SiteArg) -> None:
    """Check a site file; print what it contains or every problem found."""
    from dispatch.site import load_site

    site = load_site(site_file)
    parts = []
    if site.hpc:
        parts.append(f"HPC {site.hpc.it_load_mw:g} MW IT x PUE {site.hpc.pue:g}")
    for fleet in site.fleets:
        parts.append(f"fleet {fleet.name} {fleet.containers} x {fleet.container_mw:g} MW")
    if site.battery:
        parts.append(f"battery {site.battery.power_mw:g} MW / {site.battery.energy_mwh:g} MWh")
    parts += [f"generator {g.name} {g.capacity_mw:g} MW ({g.role})" for g in site.generators]
    parts += [f"renewable {r.name} {r.capacity_mw:g} MW" for r in site.renewables]
    parts += [f"{o.product} offers up to {o.max_mw:g} MW" for o in site.ancillary_offers]
    parts += [f"DR event {e.name}" for e in site.dr_events]
    if site.heat_reuse:
        parts.append("heat reuse")
    if site.sizing:
        parts.append("sizing section (dispatch size)")
    summary = f"{site_file}: valid site {site.name!r}: " + "; ".join(parts)
    say(console, summary)


@app.command()
def schema() -> None:
    """Print the JSON Schema of the site file."""
    from dispatch.site import site_json_schema

    sys.stdout.write(json.dumps(site_json_schema(), indent=2) + "\n")


def _print_result(result: Any, first: Any, last: Any) -> None:
    period = f"{first}" if first == last else f"{first} to {last}"
    table = Table(title=literal(f"{result.site_name}: streams, {period}"))
    table.add_column("stream")
    for column in ("USD", "basis MWh", "USD/MWh"):
        table.add_column(column, justify="right")
    table.add_column("kind")
    for row in result.streams.itertuples():
        per_mwh = "" if row.usd_per_mwh != row.usd_per_mwh else f"{row.usd_per_mwh:,.2f}"
        usd, basis = round(row.usd) + 0, round(row.basis_mwh, 1) + 0.0  # no "-0" for a zero
        table.add_row(row.stream, f"{usd:,}", f"{basis:,.1f}", per_mwh, row.kind)
    table.add_section()
    table.add_row("net margin", f"{result.kpis.net_margin_usd:,.0f}", "", "", "")
    show(console, table)
    kpis = Table(title="KPIs", show_header=False)
    kpis.add_column("kpi")
    kpis.add_column("value", justify="right")
    for name, value in result.kpis.as_dict().items():
        kpis.add_row(name, _format(value))
    show(console, kpis)
    for column, source in result.sources.items():
        console.print(Text(literal(f"{column}: {source}"), style="dim"), soft_wrap=True)


def _format(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {_format(v)}" for k, v in value.items())
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1 else f"{value:,.2f}"
    return str(value)
