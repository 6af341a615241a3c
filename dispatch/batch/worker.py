"""What runs on a worker: one task, rolled day by day, turned into tables.

:func:`run_task` never raises for a task's own failure (data that does not cover its period, an
infeasible day, a bug): it returns a failed :class:`TaskOutcome` with the reason, so the batch
records it and carries on.
"""

from __future__ import annotations

import datetime as dt
import time
import traceback
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import pandas as pd

from dispatch import columns
from dispatch.batch.outputs import TaskFrames
from dispatch.batch.rolling import Roller
from dispatch.batch.tasks import Task
from dispatch.errors import InputError, SolveError, input_warnings
from dispatch.inputs import load_inputs
from dispatch.results import DispatchResult
from dispatch.site import Site

DISPATCH = "dispatch"  # the case of a plain rolling run (operator mode has its own cases)


@dataclass(frozen=True)
class TaskOutcome:
    """A task's end: ``ok`` with its tables, or ``failed`` with the reason; with the data
    warnings raised on the way (a worker process cannot print them where the user sees them)."""

    key: str
    status: Literal["ok", "failed"]
    seconds: float
    days: int
    error: str | None = None
    frames: TaskFrames | None = None
    warnings: tuple[str, ...] = ()


def day_kpis(site: Site, result: DispatchResult) -> dict[str, object]:
    """One row of the ``days`` table: the day's KPIs plus the sums that aggregate exactly
    (container-intervals running and available, HPC energy required and served)."""
    schedule, kpis = result.schedule, result.kpis
    dt_hours = site.interval_minutes / 60.0
    running = sum(
        float(schedule[columns.mining(f.name, "containers_on")].sum()) for f in site.fleets
    )
    slots = sum(f.containers for f in site.fleets) * len(schedule)
    hpc = site.hpc is not None
    return {
        "intervals": len(schedule),
        "net_margin_usd": kpis.net_margin_usd,
        "site_load_mwh": kpis.site_load_mwh,
        "margin_usd_per_mwh": np.nan
        if kpis.margin_usd_per_mwh is None
        else kpis.margin_usd_per_mwh,
        "mining_energy_mwh": kpis.mining_energy_mwh,
        "mining_curtailed_mwh": kpis.mining_curtailed_mwh,
        "mining_container_intervals_on": running,
        "mining_container_intervals": float(slots),
        "hpc_required_mwh": float(schedule["hpc_required_mw"].sum() * dt_hours) if hpc else np.nan,
        "hpc_served_mwh": float(schedule["hpc_served_mw"].sum() * dt_hours) if hpc else np.nan,
        "status": kpis.status,
        "mip_gap": kpis.mip_gap,
        "solve_seconds": kpis.solve_seconds,
        "total_seconds": kpis.total_seconds,
    }


Row = tuple[dt.date, str, DispatchResult, Mapping[str, float]]


def task_frames(task: Task, site: Site, results: Iterable[Row]) -> TaskFrames:
    """The schedule, streams and days tables of a task's results, each row naming its task;
    a result's numbers (e.g. the stochastic stage's in-sample values) join its ``days`` row."""
    ids = {
        "task_key": task.key,
        "site_file": task.site_file,
        "site_name": site.name,
        "prices": task.prices_label,
        "settlement_point": task.settlement_point or "",
    }
    listed = list(results)
    days = [
        {"case": case, "day": day, **day_kpis(site, result), **numbers}
        for day, case, result, numbers in listed
    ]
    # one concatenation, then the labels as whole columns: per-day frame edits cost more than
    # the day's solve on an hourly site
    schedule = pd.concat([r.schedule for _, _, r, _ in listed]).reset_index()
    schedule["interval_start"] = schedule["interval_start"].dt.tz_convert("UTC")
    streams = pd.concat([r.streams for _, _, r, _ in listed], ignore_index=True)
    for frame, rows in (
        (schedule, [len(r.schedule) for _, _, r, _ in listed]),
        (streams, [len(r.streams) for _, _, r, _ in listed]),
    ):
        labels = [(d, c) for d, c, _, _ in listed]
        frame.insert(0, "day", np.repeat(np.array([d for d, _ in labels], dtype=object), rows))
        frame.insert(0, "case", np.repeat(np.array([c for _, c in labels], dtype=object), rows))

    def with_ids(frame: pd.DataFrame) -> pd.DataFrame:
        for position, (name, value) in enumerate(ids.items()):
            frame.insert(position, name, value)
        return frame

    return TaskFrames(
        schedule=with_ids(schedule),
        streams=with_ids(streams),
        days=with_ids(pd.DataFrame(days)),
    )


def _results(task: Task, site: Site) -> list[Row]:
    def inputs_at(prices: str | None):
        return load_inputs(
            site,
            task.start,
            task.end,
            prices=prices,
            hashprice=task.hashprice,
            profiles=task.profiles,
            dr_events_outside="inactive",  # a task spans many days; events fall on some
        )

    inputs = inputs_at(task.prices)
    if task.settlement_prices is None:
        roller = Roller(site, task.options, task.lookahead_hours)
        return [(o.day, DISPATCH, o.result, {}) for o in roller.run(inputs)]
    from dispatch.realtime.backtest import roll_operator
    from dispatch.realtime.information import load_operator_inputs, price_forecast

    operator_inputs = load_operator_inputs(
        site, inputs, inputs_at(task.settlement_prices), hashprice=task.hashprice
    )
    forecast = None
    extra = None
    if task.stochastic is not None:
        from dispatch.stochastic.backtest import stochastic_cases

        extra, forecast = stochastic_cases(task, site, operator_inputs)
    days = roll_operator(
        site,
        operator_inputs,
        forecast or price_forecast(task.rt_forecast, site, operator_inputs),
        decision_minutes=task.decision_minutes,
        options=task.options,
        extra=extra,
    )
    return [
        (d.day, case, result, d.extras.get(case, {}))
        for d in days
        for case, result in d.results.items()
    ]


def run_task(task: Task) -> TaskOutcome:
    """Roll the task's site through its period; never raises for the task's own failure. Data
    warnings (:class:`~dispatch.errors.InputWarning`: a hashprice held forward, a price above
    the offer cap) come back in ``warnings``, each once; other warnings are passed on."""
    with input_warnings() as notes:
        outcome = _run_task(task)
    return replace(outcome, warnings=tuple(notes))


def _run_task(task: Task) -> TaskOutcome:
    started = time.perf_counter()
    try:
        site = task.load_site()
        results = _results(task, site)
        frames = task_frames(task, site, results)
    except (InputError, SolveError) as error:
        return TaskOutcome(task.key, "failed", time.perf_counter() - started, 0, error=str(error))
    except Exception as error:  # a bug or the environment: recorded whole, the batch goes on
        text = "".join(traceback.format_exception(error)).strip()
        return TaskOutcome(task.key, "failed", time.perf_counter() - started, 0, error=text)
    seconds = time.perf_counter() - started
    return TaskOutcome(task.key, "ok", seconds, task.days, frames=frames)
