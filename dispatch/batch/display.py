"""How a batch looks on a terminal: a progress bar while it runs, tables when it ends."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from dispatch.batch.runner import BatchReport, ProgressCallback, TaskRecord
from dispatch.batch.summary import GROUP, Summary
from dispatch.batch.tasks import Task
from dispatch.realtime.cases import OPERATOR
from dispatch.streams import Stream
from dispatch.text import literal


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
            line = (
                f"[{done['tasks']}/{len(tasks)}] {record.task.label}: {record.status}, "
                f"{record.task.days} days in {record.seconds:.1f} s ({rate():.1f} days/s overall)"
            )
            console.print(Text(literal(line)), soft_wrap=True)

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


def _whole(value: float) -> str:
    return "" if _missing(value) else f"{round(value) + 0:,}"


def _per_mwh(value: float) -> str:
    return "" if _missing(value) else f"{value:,.2f}"


def _percent(value: float, digits: int = 2) -> str:
    return "" if _missing(value) else f"{100 * value:.{digits}f}%"


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _of_group(frame: pd.DataFrame, group: tuple) -> pd.DataFrame:
    return frame[(frame[GROUP] == pd.Series(group, index=GROUP)).all(axis=1)]


def _stream_rows(table: Table, streams: pd.DataFrame, years: list[int]) -> None:
    order = {stream.value: i for i, stream in enumerate(Stream)}
    by_stream = streams.set_index(["stream", "year"])
    for stream in sorted(set(streams["stream"]), key=lambda s: order.get(s, len(order))):
        cells = [
            by_stream.loc[(stream, y)] if (stream, y) in by_stream.index else None for y in years
        ]
        table.add_row(f"{stream} USD", *["" if c is None else _whole(c["usd"]) for c in cells])
        table.add_row(
            "  USD/MWh", *["" if c is None else _per_mwh(c["usd_per_mwh"]) for c in cells]
        )


def _kpi_rows(table: Table, kpis: pd.DataFrame, years: list[int]) -> None:
    def row(label: str, column: str, show: Callable[[float], str]) -> None:
        table.add_row(label, *[show(kpis.loc[y, column]) for y in years])

    row("net margin USD", "net_margin_usd", _whole)
    row("  per MWh of site load", "margin_usd_per_mwh", _per_mwh)
    row("mining uptime", "mining_uptime_fraction", _percent)
    row("curtailed mining MWh", "mining_curtailed_mwh", _whole)
    row("HPC availability", "hpc_availability_fraction", lambda v: _percent(v, 4))
    if kpis["time_limited_days"].sum() > 0:
        row("days at time limit", "time_limited_days", _whole)


OPERATOR_COLUMNS = (
    ("perfect_foresight_margin_usd", "perfect foresight (upper bound) USD", "_whole"),
    ("da_plan_rt_margin_usd", "DA plan at RT USD", "_whole"),
    ("operator_margin_usd", "operator loop USD", "_whole"),
    ("breakeven_margin_usd", "breakeven rule USD", "_whole"),
    ("operator_share_of_perfect_foresight", "operator / perfect", "_percent"),
    ("operator_share_of_foresight_gain", "share of foresight gain over rule", "_percent"),
)


def operator_tables(summary: Summary) -> list[Table]:
    """Operator mode: per site x prices x point, each case's margin by year and by month."""
    tables: list[Table] = []
    if summary.operator.empty:
        return tables
    formats = {"_whole": _whole, "_percent": _percent}
    for group, rows in summary.operator.groupby(GROUP, sort=True):
        site_file, site_name, prices, point = group
        table = Table(title=f"{site_name} ({site_file}): {prices} {point}, operator back-test")
        table.add_column("period")
        table.add_column("days", justify="right")
        for _, label, _ in OPERATOR_COLUMNS:
            table.add_column(label, justify="right")
        for _, row in rows.iterrows():
            shown = [formats[f](row[column]) for column, _, f in OPERATOR_COLUMNS]
            table.add_row(str(row["period"]), _whole(row["days"]), *shown)
        tables.append(table)
    return tables


def summary_tables(summary: Summary) -> list[Table]:
    """One table per site x price source x settlement point: rows are streams and KPIs, columns
    are years (operator mode: the operator case), then operator mode's comparison tables."""
    case = "dispatch" if summary.operator.empty else OPERATOR
    tables = []
    for group, group_kpis in summary.kpis.groupby(GROUP, sort=True):
        site_file, site_name, prices, point = group
        kpis = group_kpis[group_kpis["case"] == case].set_index("year").sort_index()
        years = [int(y) for y in kpis.index]
        title = literal(f"{site_name} ({site_file}): {prices} {point}".strip())
        table = Table(title=title if case == "dispatch" else f"{title}, case {case}")
        table.add_column("")
        for year in years:
            table.add_column(str(year), justify="right")
        table.add_row("days", *[_whole(kpis.loc[y, "days"]) for y in years])
        table.add_section()
        streams = _of_group(summary.streams, group)
        _stream_rows(table, streams[streams["case"] == case], years)
        table.add_section()
        _kpi_rows(table, kpis, years)
        tables.append(table)
    return [*tables, *operator_tables(summary)]


def warning_lines(report: BatchReport) -> list[str]:
    """One line per data warning a task run now raised (a hashprice held forward, a price
    above the offer cap), naming the task."""
    return [
        f"warning: {record.task.label}: {warning}"
        for record in report.records
        for warning in record.warnings
    ]


def report_lines(report: BatchReport) -> list[str]:
    """The closing lines: counts, days/s, and every task that did not finish, with why."""
    ok, failed = report.with_status("ok"), report.with_status("failed")
    skipped, not_run = report.with_status("skipped"), report.with_status("not_run")
    lines = [
        f"tasks: {len(ok)} finished, {len(skipped)} skipped (finished earlier), {len(failed)} "
        f"failed, {len(not_run)} not run; {report.days_solved} days solved in "
        f"{report.seconds:.1f} s ({report.days_per_second:.1f} days/s)"
    ]
    for record in failed:
        reason = (record.error or "").strip().splitlines() or ["(no message)"]
        if len(reason) > 3:  # a traceback: its last line, the whole of it is in the manifest
            reason = [reason[-1], "(traceback in the manifest)"]
        lines.append(f"failed: {record.task.label}: {' '.join(reason)}")
    if report.stopped:
        lines.append(f"stopped: {report.stopped}")
    if failed or not_run or report.stopped:
        lines.append(
            f"the manifest ({report.out_dir / 'manifest.jsonl'}) lists every task that did not "
            "finish; fix the cause and re-run the same command with --resume"
        )
    return lines
