"""`dispatch batch`: many days, sites and price histories, resumable."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dispatch.cli.common import (
    SplitChoice,
    app,
    console,
    errors,
    say,
    show,
    styled,
    user_errors,
)
from dispatch.errors import InputError


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
            "for several [default: each site's default; ercot_dam_spp with --operator]"
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
    discard_superseded: Annotated[
        bool,
        typer.Option(
            help="with --resume, when OUT was made for other tasks (a changed site file, "
            "period, price source or option): remove their parts and run these"
        ),
    ] = False,
    lookahead_hours: Annotated[
        float, typer.Option(help="hours solved past each day and then discarded")
    ] = 0.0,
    split: Annotated[
        SplitChoice, typer.Option(help="one task per year, per month, or per whole period")
    ] = SplitChoice.year,
    operator: Annotated[
        bool,
        typer.Option(
            help="back-test the operator's day: two-settlement on --prices (day-ahead) and "
            "--rt-prices, a real-time loop that never sees the future, perfect foresight and "
            "the breakeven rule beside it"
        ),
    ] = False,
    rt_prices: Annotated[
        str | None,
        typer.Option(help="operator mode: real-time prices [default: ercot_rtm_spp]"),
    ] = None,
    decision_minutes: Annotated[
        int, typer.Option(help="operator mode: minutes between real-time re-solves")
    ] = 60,
    rt_forecast: Annotated[
        str,
        typer.Option(
            help="operator mode: real-time price forecast for the rest of the day: spread "
            "(day-ahead price plus the latest real-time spread, decaying), da, or a price file"
        ),
    ] = "spread",
    stochastic: Annotated[
        int | None,
        typer.Option(
            help="operator mode: also run the stochastic day-ahead stage on this many price "
            "scenarios (from the history before each day) and perfect information"
        ),
    ] = None,
    scenarios: Annotated[
        Path | None,
        typer.Option(help="with --stochastic: a scenario file instead of history scenarios"),
    ] = None,
    scenario_weights: Annotated[
        Path | None, typer.Option(help="weights table (scenario, weight) for --scenarios")
    ] = None,
    cvar_weight: Annotated[
        float, typer.Option(help="with --stochastic: λ in mean − λ·CVaR of the margin")
    ] = 0.0,
    cvar_alpha: Annotated[float, typer.Option(help="with --stochastic: CVaR level α")] = 0.95,
    position_band_mw: Annotated[
        float,
        typer.Option(help="with --stochastic: MW the position may leave the expected plan"),
    ] = 0.0,
    in_sample: Annotated[
        bool,
        typer.Option(help="with --stochastic: also solve wait-and-see and EEV (in-sample VSS)"),
    ] = True,
    hashprice: Annotated[Path | None, typer.Option(help="tidy daily hashprice file")] = None,
    profiles: Annotated[
        Path | None, typer.Option(help="tidy file of capacity factors / HPC utilization")
    ] = None,
    mip_gap: Annotated[float, typer.Option(help="relative MIP gap")] = 1e-4,
    time_limit: Annotated[float, typer.Option(help="solver time limit per day [s]")] = 60.0,
    relaxation_first: Annotated[
        bool,
        typer.Option(
            help="solve each day's LP relaxation first (from the last basis) and the MIP only "
            "where it is fractional: ~2x faster on the hourly campus, ~30% slower on the "
            "15-minute one (docs/performance.md)"
        ),
    ] = False,
    report: Annotated[
        bool, typer.Option(help="also write report.html: monthly streams, curtailment, prices")
    ] = False,
) -> None:
    """Roll sites day by day over price histories; write Parquet parts, a manifest, a summary.

    Exit code 0: every task finished; 1: some failed or the batch stopped (the manifest says
    which; re-run with --resume); 2: a mistake in the command or a site file.
    """
    from dispatch.batch.display import progress, report_lines, summary_tables, warning_lines
    from dispatch.batch.outputs import OutputDir
    from dispatch.batch.runner import BatchStopped, run_batch
    from dispatch.batch.summary import summarize, write_summary
    from dispatch.batch.tasks import plan_tasks
    from dispatch.options import SolveOptions

    if workers is not None and scheduler is not None:
        raise InputError("--workers and --scheduler: use one (local processes or a Dask cluster)")
    if workers is not None and workers < 1:
        raise InputError(f"--workers: expected at least 1, found {workers}")
    if not operator and (
        rt_prices is not None or decision_minutes != 60 or rt_forecast != "spread"
    ):
        raise InputError(
            "--rt-prices, --decision-minutes and --rt-forecast apply with --operator only"
        )
    settings = None
    if stochastic is not None:
        from dispatch.stochastic.settings import Risk, StochasticSettings

        risk = Risk(cvar_weight, cvar_alpha, position_band_mw)
        settings = StochasticSettings(
            stochastic,
            risk,
            None if scenarios is None else str(scenarios),
            None if scenario_weights is None else str(scenario_weights),
            in_sample,
        )
    elif scenarios is not None or scenario_weights is not None:
        raise InputError("--scenarios and --scenario-weights apply with --stochastic only")
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: exists and is not a folder")
    if report:
        from dispatch.report.page import plotly

        plotly()  # a missing extra is said before the batch runs, not after
    tasks = plan_tasks(
        site_files,
        start,
        end,
        prices=prices or [],  # operator mode defaults to ercot_dam_spp
        settlement_points=settlement_point or [],
        split=split.value,
        hashprice=hashprice,
        profiles=profiles,
        lookahead_hours=lookahead_hours,
        # the real-time loop re-solves with most columns fixed: HiGHS presolve removes them
        # (measured: HiGHS time -56 % on the campus's loop); a day solve is faster without it
        options=SolveOptions(
            mip_rel_gap=mip_gap,
            time_limit_s=time_limit,
            threads=1,
            presolve="on" if operator else "off",
            relaxation_first=relaxation_first,
        ),
        settlement_prices=(rt_prices or "ercot_rtm_spp") if operator else None,
        decision_minutes=decision_minutes,
        rt_forecast=rt_forecast,
        stochastic=settings,
    )
    where = f"Dask scheduler {scheduler}" if scheduler else f"{workers or 'one per CPU'} workers"
    say(errors, f"{len(tasks)} tasks, {sum(t.days for t in tasks)} site-days on {where}")
    try:
        with progress(errors, tasks) as on_task_done:
            outcome = run_batch(
                tasks,
                out,
                workers=workers,
                scheduler=scheduler,
                scheduler_timeout_s=scheduler_timeout,
                resume=resume,
                discard_superseded=discard_superseded,
                on_task_done=on_task_done,
            )
    except BatchStopped as error:
        errors.print(styled("stopped:", "bold red", error), soft_wrap=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        say(errors, "interrupted: finished tasks are kept; re-run with --resume")
        raise typer.Exit(130) from None
    summary = summarize(OutputDir(out), [t.key for t in tasks])
    for table in summary_tables(summary):
        show(console, table)
    if not outcome.stopped:
        try:
            for path in write_summary(summary, out):
                say(console, f"wrote {path}")
        except OSError as error:
            errors.print(styled("error:", "bold red", f"cannot write the summary: {error}"))
            raise typer.Exit(1) from None
    if report and not outcome.stopped:
        from dispatch.report import write_batch_report

        page = write_batch_report(out, tasks, out / "report.html")
        say(console, f"wrote {page}")
    for line in warning_lines(outcome):
        say(errors, line)
    for line in report_lines(outcome):
        say(console if outcome.complete else errors, line)
    if not outcome.complete:
        raise typer.Exit(1)
