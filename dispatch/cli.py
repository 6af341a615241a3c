"""The `dispatch` command: parse, call the API, print, write, exit codes.

User mistakes (InputError) print one message and exit 2; a solve with no usable schedule exits 1.
Pyomo is imported only by commands that solve, so `--help`, `validate` and `schema` stay fast.
"""

from __future__ import annotations

import json
import sys
import warnings
from collections.abc import Callable
from enum import StrEnum
from functools import wraps
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from dispatch.errors import InputError, InputWarning, SolveError

DEFAULT_DAY = "2023-08-17"  # the August 2023 heat wave: HB_WEST real-time peaked at 5,237 USD/MWh
MAX_DAYS_PER_SOLVE = 7

app = typer.Typer(
    help="Dispatch a flexible-load site (HPC + bitcoin mining + battery + gensets) on real prices.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
errors = Console(stderr=True)


class OutputFormat(StrEnum):
    csv = "csv"
    parquet = "parquet"
    json = "json"


class FillChoice(StrEnum):
    hold = "hold"
    interpolate = "interpolate"


class SplitChoice(StrEnum):
    year = "year"
    month = "month"
    none = "none"


def user_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn user mistakes into one message and exit code 2 (never a traceback); print data
    warnings (InputWarning) as one line each."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        caught: list[warnings.WarningMessage] = []
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", InputWarning)
                return command(*args, **kwargs)
        except InputError as error:
            errors.print(
                f"[bold red]error:[/] {error}", highlight=False, soft_wrap=True, emoji=False
            )
            raise typer.Exit(2) from None
        except SolveError as error:
            errors.print(f"[bold red]no schedule:[/] {error}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None
        finally:
            for caught_warning in caught:
                if issubclass(caught_warning.category, InputWarning):
                    message = f"[bold yellow]warning:[/] {caught_warning.message}"
                    errors.print(message, highlight=False, soft_wrap=True)
                else:
                    warnings.warn_explicit(
                        caught_warning.message,
                        caught_warning.category,
                        caught_warning.filename,
                        caught_warning.lineno,
                    )

    return wrapper


SiteArg = Annotated[Path, typer.Argument(help="site file (YAML)", show_default=False)]


@app.command()
@user_errors
def run(
    site_file: SiteArg,
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
        bool, typer.Option(help="also write report.html (charts; needs the [report] extra)")
    ] = False,
) -> None:
    """Solve one horizon and print the streams table and KPIs (default day: 2023-08-17)."""
    from dispatch import load_inputs, load_site
    from dispatch.inputs.horizon import parse_date
    from dispatch.solver import SolveOptions, solve

    if report and out is None:
        raise InputError("--report: needs --out DIR to write report.html into")
    if day is not None and (start is not None or end is not None):
        raise InputError("--day: use either --day or --start/--end, not both")
    first = parse_date(day or start or DEFAULT_DAY, "--day" if day else "--start")
    last = parse_date(end, "--end") if end is not None else first
    if (last - first).days + 1 > MAX_DAYS_PER_SOLVE:
        raise InputError(
            f"--start/--end: {(last - first).days + 1} days in one solve; at most "
            f"{MAX_DAYS_PER_SOLVE} (run longer periods day by day with `dispatch batch`)"
        )
    site = load_site(site_file)
    inputs = load_inputs(
        site,
        first,
        last,
        prices=prices,
        hashprice=hashprice,
        profiles=profiles,
        ancillary=ancillary,
        peaks=peaks,
        fill=fill.value if fill is not None else None,
        timezone=timezone,
    )
    result = solve(site, inputs, SolveOptions(mip_rel_gap=mip_gap, time_limit_s=time_limit))
    _print_result(result, first, last)
    if out is not None:
        for path in result.write(out, fmt.value):
            console.print(f"wrote {path}", highlight=False)
    if report and out is not None:
        from dispatch.report import write_report

        console.print(f"wrote {write_report(result, site, out / 'report.html')}", highlight=False)


@app.command()
@user_errors
def batch(
    site_files: Annotated[list[Path], typer.Argument(help="site files (YAML)", show_default=False)],
    start: Annotated[str, typer.Option(help="first local day YYYY-MM-DD", show_default=False)],
    end: Annotated[
        str, typer.Option(help="last local day YYYY-MM-DD (inclusive)", show_default=False)
    ],
    out: Annotated[
        Path, typer.Option(help="folder for parts, manifest and summary", show_default=False)
    ],
    prices: Annotated[
        list[str] | None,
        typer.Option(
            help="bundled data set (ercot_dam_spp, ercot_rtm_spp) or tidy price file; repeat "
            "for several [default: each site's default; ercot_dam_spp with --forecast]"
        ),
    ] = None,
    settlement_point: Annotated[
        list[str] | None,
        typer.Option(
            help="settlement point of bundled prices; repeat for several [default: each site's own]"
        ),
    ] = None,
    workers: Annotated[
        int | None, typer.Option(help="local worker processes [default: one per CPU]")
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option(help="address of a Dask scheduler, e.g. tcp://host:8786")
    ] = None,
    scheduler_timeout: Annotated[
        float, typer.Option(help="seconds to wait for the Dask scheduler")
    ] = 10.0,
    resume: Annotated[bool, typer.Option(help="skip tasks OUT records as finished")] = False,
    lookahead_hours: Annotated[
        float, typer.Option(help="hours solved past each day and then discarded")
    ] = 0.0,
    split: Annotated[
        SplitChoice, typer.Option(help="one task per year, per month, or per whole period")
    ] = SplitChoice.year,
    forecast: Annotated[
        bool, typer.Option(help="schedule on --prices, settle at --rt-prices")
    ] = False,
    rt_prices: Annotated[
        str | None,
        typer.Option(help="forecast mode: real-time prices [default: ercot_rtm_spp]"),
    ] = None,
    redispatch_mining: Annotated[
        bool, typer.Option(help="forecast mode: re-dispatch mining at real-time prices")
    ] = False,
    hashprice: Annotated[Path | None, typer.Option(help="tidy daily hashprice file")] = None,
    profiles: Annotated[
        Path | None, typer.Option(help="tidy file of capacity factors / HPC utilization")
    ] = None,
    mip_gap: Annotated[float, typer.Option(help="relative MIP gap")] = 1e-4,
    time_limit: Annotated[float, typer.Option(help="solver time limit per day [s]")] = 60.0,
) -> None:
    """Roll sites day by day over price histories; write Parquet parts, a manifest, a summary.

    Exit code 0: every task finished; 1: some failed or the batch stopped (the manifest says
    which; re-run with --resume); 2: a mistake in the command or a site file.
    """
    from dispatch.batch.display import progress, report_lines, summary_tables
    from dispatch.batch.outputs import OutputDir
    from dispatch.batch.runner import BatchStopped, run_batch
    from dispatch.batch.summary import summarize, write_summary
    from dispatch.batch.tasks import plan_tasks
    from dispatch.options import SolveOptions

    if workers is not None and scheduler is not None:
        raise InputError("--workers and --scheduler: use one (local processes or a Dask cluster)")
    if workers is not None and workers < 1:
        raise InputError(f"--workers: expected at least 1, found {workers}")
    if not forecast and (rt_prices is not None or redispatch_mining):
        raise InputError("--rt-prices and --redispatch-mining apply with --forecast only")
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: exists and is not a folder")
    tasks = plan_tasks(
        site_files,
        start,
        end,
        prices=prices or (["ercot_dam_spp"] if forecast else []),
        settlement_points=settlement_point or [],
        split=split.value,
        hashprice=hashprice,
        profiles=profiles,
        lookahead_hours=lookahead_hours,
        options=SolveOptions(mip_rel_gap=mip_gap, time_limit_s=time_limit, threads=1),
        settlement_prices=(rt_prices or "ercot_rtm_spp") if forecast else None,
        redispatch_mining=redispatch_mining,
    )
    where = f"Dask scheduler {scheduler}" if scheduler else f"{workers or 'one per CPU'} workers"
    errors.print(
        f"{len(tasks)} tasks, {sum(t.days for t in tasks)} site-days on {where}", highlight=False
    )
    try:
        with progress(errors, tasks) as on_task_done:
            report = run_batch(
                tasks,
                out,
                workers=workers,
                scheduler=scheduler,
                scheduler_timeout_s=scheduler_timeout,
                resume=resume,
                on_task_done=on_task_done,
            )
    except BatchStopped as error:
        errors.print(f"[bold red]stopped:[/] {error}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        errors.print("interrupted: finished tasks are kept; re-run with --resume", highlight=False)
        raise typer.Exit(130) from None
    summary = summarize(OutputDir(out), [t.key for t in tasks])
    for table in summary_tables(summary):
        console.print(table)
    if not report.stopped:
        try:
            for path in write_summary(summary, out):
                console.print(f"wrote {path}", highlight=False)
        except OSError as error:
            errors.print(f"[bold red]error:[/] cannot write the summary: {error}", highlight=False)
            raise typer.Exit(1) from None
    for line in report_lines(report):
        (console if report.complete else errors).print(line, highlight=False, soft_wrap=True)
    if not report.complete:
        raise typer.Exit(1)


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
        Path | None, typer.Option(help="hashprice scenario file (YAML, README: Sizing)")
    ] = None,
    check: Annotated[
        bool,
        typer.Option(help="dispatch the optimum and the site as it stands over every day"),
    ] = True,
    workers: Annotated[int, typer.Option(help="processes for sweep points and checks")] = 1,
    out: Annotated[Path | None, typer.Option(help="folder for tables, summary, heat map")] = None,
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
    mip_gap: Annotated[float, typer.Option(help="relative MIP gap per dispatched day")] = 1e-4,
    time_limit: Annotated[float, typer.Option(help="time limit per dispatched day [s]")] = 60.0,
    sizing_gap: Annotated[float, typer.Option(help="relative MIP gap of the sizing MILP")] = 1e-4,
    sizing_time_limit: Annotated[
        float, typer.Option(help="time limit of the sizing MILP [s]")
    ] = 600.0,
) -> None:
    """Size HPC vs mining MW over real price history: optimum, NPV, sweep, scenarios."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from dispatch.sizing import size as size_site
    from dispatch.sizing import tables
    from dispatch.sizing.evaluate import parse_axis
    from dispatch.solver import SolveOptions

    if full_year and representative_days is not None:
        raise InputError("--full-year: use either --representative-days or --full-year, not both")
    if workers < 1:
        raise InputError(f"--workers: expected at least 1, found {workers}")
    # spawn: workers import a clean interpreter instead of forking one that holds HiGHS state
    spawn = multiprocessing.get_context("spawn")
    executor = ProcessPoolExecutor(workers, mp_context=spawn) if workers > 1 else None
    try:
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
            representative_days=representative_days or 12,
            full_year=full_year,
            hpc_it_mw=parse_axis(hpc_mw, "--hpc-mw") if hpc_mw is not None else None,
            mining_mw=parse_axis(mining_mw, "--mining-mw") if mining_mw is not None else None,
            scenarios=scenario,
            check=check,
            dispatch_options=SolveOptions(mip_rel_gap=mip_gap, time_limit_s=time_limit),
            sizing_options=SolveOptions(mip_rel_gap=sizing_gap, time_limit_s=sizing_time_limit),
            executor=executor,
            progress=lambda message: errors.print(f"[dim]{message}[/]", highlight=False),
        )
    finally:
        if executor is not None:
            executor.shutdown()
    representative = tables.representative_table(result)
    if representative is not None:
        console.print(representative)
    console.print(tables.cases_table(result))
    console.print(tables.streams_table(result))
    if len(result.outcomes) > 1:
        console.print(tables.scenarios_table(result))
    for outcome in result.outcomes:
        if outcome.sweep is not None:
            console.print(tables.sweep_table(outcome.sweep, outcome.scenario.name))
    if result.sweep is not None:
        console.print(tables.sweep_table(result.sweep, result.outcomes[0].scenario.name))
    if result.regret is not None:
        console.print(tables.regret_table(result.regret))
    timings = ", ".join(f"{k} {v:.1f} s" for k, v in result.seconds.items())
    console.print(f"[dim]seconds: {timings}[/]", highlight=False)
    if out is not None:
        for path in result.write(out):
            console.print(f"wrote {path}", highlight=False)


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
    console.print(summary, highlight=False, soft_wrap=True)


@app.command()
def schema() -> None:
    """Print the JSON Schema of the site file."""
    from dispatch.site import site_json_schema

    sys.stdout.write(json.dumps(site_json_schema(), indent=2) + "\n")


data_app = typer.Typer(
    help="Bundled real data sets: list them (no arguments) or export one as a tidy file.",
    invoke_without_command=True,
    no_args_is_help=False,
)
app.add_typer(data_app, name="data")


@data_app.callback()
def data(context: typer.Context) -> None:
    """List the bundled real data sets (coverage, interval, unit, source), or export one."""
    if context.invoked_subcommand is None:
        _list_data()


@data_app.command("export")
@user_errors
def data_export(
    name: Annotated[str, typer.Argument(help="bundled data set (see `dispatch data`)")],
    out: Annotated[Path, typer.Option(help="file to write: .csv or .parquet")],
    settlement_point: Annotated[
        str | None, typer.Option(help="price node, e.g. HB_WEST (price data sets only)")
    ] = None,
    start: Annotated[str | None, typer.Option(help="first local day YYYY-MM-DD")] = None,
    end: Annotated[str | None, typer.Option(help="last local day YYYY-MM-DD (inclusive)")] = None,
    timezone: Annotated[
        str, typer.Option(help="time zone of the days and of the written offsets")
    ] = "America/Chicago",
) -> None:
    """Write a bundled data set as a tidy file that --prices/--hashprice/--profiles read back."""
    from dispatch.inputs.export import tidy_export, write_tidy
    from dispatch.inputs.horizon import parse_date

    first = parse_date(start, "--start") if start is not None else None
    last = parse_date(end, "--end") if end is not None else None
    frame, left_out = tidy_export(
        name, settlement_point=settlement_point, start=first, end=last, timezone=timezone
    )
    path = write_tidy(frame, out)
    columns = ", ".join(map(str, frame.columns[1:]))
    console.print(f"wrote {path}: {len(frame)} rows; {columns}", highlight=False)
    if left_out:
        console.print(
            f"left out (not priced over the whole period): {', '.join(left_out)}", highlight=False
        )


def _list_data() -> None:
    from dispatch.inputs.bundled import DATASETS, read_dataset

    table = Table(title="bundled data (dispatch/data, provenance in PROVENANCE.md)")
    for column in ("name", "interval", "unit", "coverage", "what", "source"):
        table.add_column(column, no_wrap=column in ("name", "interval"))
    for dataset in DATASETS.values():
        index = read_dataset(dataset.name).index
        table.add_row(
            dataset.name,
            dataset.interval,
            dataset.unit,
            f"{index[0]} to {index[-1]}",
            dataset.description,
            dataset.source,
        )
    console.print(table)


def _print_result(result: Any, first: Any, last: Any) -> None:
    period = f"{first}" if first == last else f"{first} to {last}"
    table = Table(title=f"{result.site_name}: streams, {period}")
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
    console.print(table)
    kpis = Table(title="KPIs", show_header=False)
    kpis.add_column("kpi")
    kpis.add_column("value", justify="right")
    for name, value in result.kpis.as_dict().items():
        kpis.add_row(name, _format(value))
    console.print(kpis)
    for column, source in result.sources.items():
        console.print(f"[dim]{column}: {source}[/]", highlight=False)


def _format(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {_format(v)}" for k, v in value.items())
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1 else f"{value:,.2f}"
    return str(value)
