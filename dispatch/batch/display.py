"""How a batch looks on a terminal: a progress bar while it runs, tables when it ends."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from dispatch.batch.runner import BatchReport, ProgressCallback, TaskRecord
from dispatch.batch.summary import GROUP, Summary
from dispatch.batch.tasks import Task
from dispatch.streams import Stream


@contextmanager
def progress(console: Console, tasks: Sequence[Task]) -> Iterator[ProgressCallback]:
    """A callback for :func:`run_batch` that shows tasks done, days/s and ETA.

    On a terminal: a rich progress bar (its bar counts days, so the ETA weighs long tasks);
    otherwise one line per finished task, for logs.
    """
    total_days = sum(t.days for t in tasks)
    started = time.perf_counter()
    done = {"tasks": 0, "days": 0}

    def rate() -> float:
        elapsed = time.perf_counter() - started
        return done["days"] / elapsed if elapsed > 0 else 0.0

    if not console.is_terminal:

        def log(record: TaskRecord) -> None:
            done["tasks"] += 1
            done["days"] += record.task.days if record.status == "ok" else 0
            console.print(
                f"[{done['tasks']}/{len(tasks)}] {record.task.label}: {record.status}, "
                f"{record.task.days} days in {record.seconds:.1f} s ({rate():.1f} days/s overall)",
                highlight=False,
                soft_wrap=True,
            )

        yield log
        return
    bar = Progress(
        TextColumn("[bold]batch"),
        BarColumn(),
        TextColumn("{task.fields[tasks]} tasks"),
        TextColumn("{task.fields[rate]} days/s"),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
    )
    with bar:
        handle = bar.add_task("batch", total=total_days, tasks=f"0/{len(tasks)}", rate="-")

        def advance(record: TaskRecord) -> None:
            done["tasks"] += 1
            done["days"] += record.task.days if record.status == "ok" else 0
            bar.update(
                handle,
                advance=record.task.days,
                tasks=f"{done['tasks']}/{len(tasks)}",
                rate=f"{rate():.1f}",
            )

        yield advance


def _usd(value: float) -> str:
    return "" if _missing(value) else f"{round(value) + 0:,}"


def _per_mwh(value: float) -> str:
    return "" if _missing(value) else f"{value:,.2f}"


def _percent(value: float, digits: int = 2) -> str:
    return "" if _missing(value) else f"{100 * value:.{digits}f}%"


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def summary_tables(summary: Summary) -> list[Table]:
    """One table per site x price source x settlement point: rows are streams and KPIs, columns
    are years. Forecast mode shows the executed case and the value of perfect foresight."""
    tables = []
    kpis = summary.kpis
    order = {stream.value: i for i, stream in enumerate(Stream)}
    for group, group_kpis in kpis.groupby(GROUP, sort=True):
        site_file, site_name, prices, point = group
        foresight = summary.foresight
        case = "dispatch"
        if not foresight.empty:
            case = foresight["executed_case"].iloc[0]
        rows = group_kpis[group_kpis["case"] == case].set_index("year").sort_index()
        years = list(rows.index)
        title = f"{site_name} ({site_file}): {prices} {point}".strip()
        if case != "dispatch":
            title += f", case {case}"
        table = Table(title=title)
        table.add_column("")
        for year in years:
            table.add_column(str(year), justify="right")
        table.add_row("days", *[str(int(rows.loc[y, "days"])) for y in years])
        streams = summary.streams
        mask = (streams[GROUP] == pd.Series(group, index=GROUP)).all(axis=1) & (
            streams["case"] == case
        )
        by_stream = streams[mask].set_index(["stream", "year"])
        table.add_section()
        for stream in sorted(set(streams.loc[mask, "stream"]), key=lambda s: order.get(s, 99)):
            values = [
                by_stream.loc[(stream, y)] if (stream, y) in by_stream.index else None
                for y in years
            ]
            table.add_row(
                f"{stream} USD", *[_usd(v["usd"]) if v is not None else "" for v in values]
            )
            table.add_row(
                "  USD/MWh", *[_per_mwh(v["usd_per_mwh"]) if v is not None else "" for v in values]
            )
        table.add_section()
        table.add_row("net margin USD", *[_usd(rows.loc[y, "net_margin_usd"]) for y in years])
        table.add_row(
            "  per MWh of site load", *[_per_mwh(rows.loc[y, "margin_usd_per_mwh"]) for y in years]
        )
        table.add_row(
            "mining uptime", *[_percent(rows.loc[y, "mining_uptime_fraction"]) for y in years]
        )
        table.add_row(
            "curtailed mining MWh", *[_usd(rows.loc[y, "mining_curtailed_mwh"]) for y in years]
        )
        table.add_row(
            "HPC availability",
            *[_percent(rows.loc[y, "hpc_availability_fraction"], 4) for y in years],
        )
        if rows["time_limited_days"].sum() > 0:
            table.add_row(
                "days at time limit", *[str(int(rows.loc[y, "time_limited_days"])) for y in years]
            )
        if not foresight.empty:
            mask = (foresight[GROUP] == pd.Series(group, index=GROUP)).all(axis=1)
            values = foresight[mask].set_index("year")
            table.add_section()
            for column, label in (
                ("da_plan_margin_usd", "DA plan at DA prices USD"),
                ("da_schedule_rt_margin_usd", "DA schedule at RT prices USD"),
                ("rt_redispatch_margin_usd", "mining re-dispatched at RT USD"),
                ("perfect_foresight_margin_usd", "perfect foresight at RT USD"),
                ("value_of_perfect_foresight_usd", "value of perfect foresight USD"),
                ("value_of_perfect_foresight_usd_per_mwh", "  per MWh of site load"),
            ):
                if column in values.columns:
                    format_value = _per_mwh if column.endswith("per_mwh") else _usd
                    table.add_row(
                        label,
                        *[
                            format_value(values.loc[y, column]) if y in values.index else ""
                            for y in years
                        ],
                    )
        tables.append(table)
    return tables


def report_lines(report: BatchReport) -> list[str]:
    """The closing lines: counts, days/s, and every task that did not finish, with why."""
    ok, failed = report.with_status("ok"), report.with_status("failed")
    skipped, not_run = report.with_status("skipped"), report.with_status("not_run")
    lines = [
        f"{len(ok)} tasks finished, {len(skipped)} skipped (finished earlier), {len(failed)} "
        f"failed, {len(not_run)} not run; {report.days_solved} days in {report.seconds:.1f} s "
        f"({report.days_per_second:.1f} days/s)"
    ]
    for record in failed:
        reason = (record.error or "").strip().splitlines() or ["(no message)"]
        lines.append(
            f"failed: {record.task.label}: {reason[-1] if len(reason) > 3 else ' '.join(reason)}"
        )
    if report.stopped:
        lines.append(f"stopped: {report.stopped}")
    if failed or not_run or report.stopped:
        lines.append(
            f"the manifest ({report.out_dir / 'manifest.jsonl'}) lists every task that did not "
            "finish; fix the cause and re-run the same command with --resume"
        )
    return lines
