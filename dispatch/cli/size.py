"""`dispatch size`: HPC vs mining MW over real price history."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from dispatch.cli.common import (
    FillChoice,
    SiteArg,
    app,
    console,
    errors,
    literal,
    say,
    show,
    user_errors,
)
from dispatch.errors import InputError


@app.command()
@user_errors
def size(
    site_file: SiteArg,
    years: Annotated[
        str | None,
        typer.Option(help="history: local calendar years YEAR or FIRST:LAST (default 2023)"),
    ] = None,
    start: Annotated[
        str | None, typer.Option(help="or: first local day YYYY-MM-DD of the history")
    ] = None,
    end: Annotated[str | None, typer.Option(help="last local day YYYY-MM-DD (inclusive)")] = None,
    hpc_mw: Annotated[
        str | None,
        typer.Option("--hpc-mw", help="sweep axis: installed HPC IT MW as MIN:MAX:STEP"),
    ] = None,
    mining_mw: Annotated[
        str | None,
        typer.Option("--mining-mw", help="sweep axis: nominal mining MW as MIN:MAX:STEP"),
    ] = None,
    representative_days: Annotated[
        int | None,
        typer.Option(
            help="days tsam chooses for the sizing MILP (default 12); 4CP and DR event days "
            "are added on top"
        ),
    ] = None,
    full_year: Annotated[
        bool,
        typer.Option(
            "--full-year",
            help="score every sweep point over every day of the history; the optimum is the "
            "best point (needs --hpc-mw and --mining-mw)",
        ),
    ] = False,
    scenario: Annotated[
        Path | None, typer.Option(help="hashprice scenario file (YAML, docs/planning.md)")
    ] = None,
    check: Annotated[
        bool,
        typer.Option(help="dispatch the optimum and the site as it stands over every day"),
    ] = True,
    workers: Annotated[int, typer.Option(help="processes for sweep points and checks")] = 1,
    out: Annotated[Path | None, typer.Option(help="folder for tables and summary")] = None,
    report: Annotated[
        bool,
        typer.Option(help="also write report.html: plan vs as it stands, NPV heat maps (--out)"),
    ] = False,
    prices: Annotated[
        str | None, typer.Option(help="price file or bundled data set (as for `run`)")
    ] = None,
    hashprice: Annotated[Path | None, typer.Option(help="daily hashprice file")] = None,
    ancillary: Annotated[Path | None, typer.Option(help="ancillary price file")] = None,
    peaks: Annotated[Path | None, typer.Option(help="coincident-peak weights file")] = None,
    fill: Annotated[
        FillChoice | None, typer.Option(help="spread coarse user data: hold or interpolate")
    ] = None,
    timezone: Annotated[
        str | None, typer.Option(help="IANA time zone of naive timestamps in input files")
    ] = None,
    paths: Annotated[
        int | None,
        typer.Option(
            help="Monte Carlo paths under uncertainty (0: none; default: the site file's "
            "sizing.uncertainty.paths if it has that section)"
        ),
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="seed of the Monte Carlo paths (default: the site file's)")
    ] = None,
    mip_gap: Annotated[float, typer.Option(help="relative MIP gap per dispatched day")] = 1e-4,
    time_limit: Annotated[float, typer.Option(help="time limit per dispatched day [s]")] = 60.0,
    sizing_gap: Annotated[float, typer.Option(help="relative MIP gap of the sizing MILP")] = 1e-4,
    sizing_time_limit: Annotated[
        float, typer.Option(help="time limit of the sizing MILP [s]")
    ] = 600.0,
) -> None:
    """Size HPC vs mining MW over real price history: optimum, NPV, sweep, scenarios, and the
    NPV distribution of each candidate under uncertainty (--paths)."""
    from dispatch.batch.runner import process_pool
    from dispatch.cli.steps import step_display
    from dispatch.sizing import size as size_site
    from dispatch.sizing import tables
    from dispatch.sizing.api import DEFAULT_REPRESENTATIVE_DAYS
    from dispatch.sizing.evaluate import parse_axis
    from dispatch.solver import SolveOptions

    if full_year and representative_days is not None:
        raise InputError("--full-year: use either --representative-days or --full-year, not both")
    if workers < 1:
        raise InputError(f"--workers: expected at least 1, found {workers}")
    if report and out is None:
        raise InputError("--report: needs --out DIR to write report.html into")
    if report:
        from dispatch.report.page import plotly

        plotly()  # a missing extra is said before the sizing runs, not after
    executor = process_pool(workers) if workers > 1 else None
    try:
        with step_display(errors) as progress:
            result = size_site(
                site_file,
                years,
                start=start,
                end=end,
                prices=prices,
                hashprice=hashprice,
                ancillary=ancillary,
                peaks=peaks,
                fill=fill.value if fill is not None else None,
                timezone=timezone,
                representative_days=(
                    DEFAULT_REPRESENTATIVE_DAYS
                    if representative_days is None
                    else representative_days
                ),
                full_year=full_year,
                hpc_it_mw=parse_axis(hpc_mw, "--hpc-mw") if hpc_mw is not None else None,
                mining_mw=parse_axis(mining_mw, "--mining-mw") if mining_mw is not None else None,
                scenarios=scenario,
                check=check,
                dispatch_options=SolveOptions(mip_rel_gap=mip_gap, time_limit_s=time_limit),
                sizing_options=SolveOptions(mip_rel_gap=sizing_gap, time_limit_s=sizing_time_limit),
                executor=executor,
                progress=progress,
                paths=paths,
                seed=seed,
            )
    finally:
        if executor is not None:
            executor.shutdown()
    representative = tables.representative_table(result)
    if representative is not None:
        show(console, representative)
    show(console, tables.cases_table(result))
    show(console, tables.streams_table(result))
    if len(result.outcomes) > 1:
        show(console, tables.scenarios_table(result))
    for outcome in result.outcomes:
        if outcome.sweep is not None:
            show(console, tables.sweep_table(outcome.sweep, outcome.scenario.name))
    if result.sweep is not None:
        show(console, tables.sweep_table(result.sweep, result.outcomes[0].scenario.name))
    if result.regret is not None:
        show(console, tables.regret_table(result.regret))
    if result.uncertainty is not None:
        show(console, tables.uncertainty_table(result.uncertainty))
        show(console, tables.tornado_table(result.uncertainty))
        show(console, tables.price_years_table(result.uncertainty))
    timings = ", ".join(f"{k} {v:.1f} s" for k, v in result.seconds.items())
    console.print(Text(f"seconds: {timings}", style="dim"))
    if out is not None:
        for path in result.write(out):
            say(console, f"wrote {path}")
    if report and out is not None:
        from dispatch.report import write_size_report

        say(console, f"wrote {write_size_report(result, out / 'report.html')}")
    console.print(Text.assemble(("recommendation: ", "bold"), literal(result.recommendation)))
