"""Rolling horizon: consecutive local days of one site, state carried from day to day.

Each day solves its own intervals plus an optional look-ahead (e.g. 24 h more: solve 48 h, keep
24 h), keeps the day, and carries the state at the day's end into the next solve. A day's result
(schedule, streams, KPIs) is the kept window only; with a look-ahead its streams are the model's
own stream expressions evaluated on a model of the kept window's shape holding the look-ahead
solution's values, so money is counted once, by the same expressions the objective sums.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dispatch.errors import InputError
from dispatch.fast import Reporter
from dispatch.inputs import Inputs
from dispatch.inputs.programs import dr_active_column, dr_baseline_column
from dispatch.model.build import BuiltModel, build_model, horizon_shape, load_data
from dispatch.model.extract import Layout, extract_result
from dispatch.model.state import (
    SiteState,
    copy_solution,
    read_state,
    settle_solution,
    write_state,
)
from dispatch.options import SolveOptions
from dispatch.results import DispatchResult, SolveReport
from dispatch.site import Site
from dispatch.solver import Dispatcher, Shape, by_shape, evaluate_with


@dataclass(frozen=True)
class Window:
    """One day of a period: positions into the period's intervals.

    The day is ``start .. start + kept - 1``; the solve runs ``start .. stop - 1`` (the day plus
    its look-ahead, which never reaches past the period's last interval).
    """

    day: dt.date
    start: int
    kept: int
    stop: int


def day_windows(index: pd.DatetimeIndex, lookahead_hours: float = 0.0) -> list[Window]:
    """The local days of ``index`` with their look-ahead horizons.

    ``lookahead_hours`` is absolute time, so around DST a 24 h look-ahead ends an hour before or
    after the next local midnight.
    """
    if lookahead_hours < 0:
        raise ValueError("lookahead_hours must be >= 0")
    dates = np.array(index.date)
    starts = np.flatnonzero(np.r_[True, dates[1:] != dates[:-1]])
    ends = np.r_[starts[1:], len(index)]
    # (index.searchsorted, not asi8: the look-ahead and the index may differ in time unit)
    stops = index.searchsorted(index[ends - 1] + pd.Timedelta(hours=lookahead_hours), "right")
    windows = []
    for first, end, stop in zip(starts, ends, stops, strict=True):
        windows.append(Window(dates[first], int(first), int(end - first), int(max(stop, end))))
    return windows


def slice_inputs(inputs: Inputs, start: int, stop: int) -> Inputs:
    """Intervals ``start .. stop - 1`` of already validated inputs."""
    return inputs.with_frame(inputs.frame.iloc[start:stop])


@dataclass(frozen=True)
class DayOutcome:
    """One kept day: its result and the state it hands to the next day."""

    day: dt.date
    result: DispatchResult
    state: SiteState


class Evaluator:
    """Models of kept-window shapes, never solved: they hold a solution's values for the kept
    intervals and evaluate the model's own expressions on them, at the kept inputs (compiled
    to arrays unless ``options.interface`` is "pyomo")."""

    def __init__(self, site: Site, options: SolveOptions | None = None) -> None:
        self.site = site
        self.compiled = (options or SolveOptions()).interface == "compiled"
        self._models: dict[Shape, Reporter] = {}

    def hold(self, source: BuiltModel, inputs: Inputs, state: SiteState | None) -> BuiltModel:
        """A kept-window model with ``source``'s values, ``inputs`` and carried-in ``state``."""
        reporter, new = by_shape(
            self._models,
            horizon_shape(inputs.index),
            lambda: Reporter(build_model(self.site, inputs), compiled=self.compiled),
        )
        target = reporter.built
        if not new:
            load_data(target, inputs)
        write_state(target, state, inputs.index)
        copy_solution(source, target)
        settle_solution(target)  # e.g. the kept day's own demand peak, not the look-ahead's
        return target

    def evaluate(self, held: BuiltModel) -> tuple[Layout, np.ndarray]:
        """The report values of a model :meth:`hold` returned."""
        return evaluate_with(self._models.values(), held)


class Roller:
    """Rolls one site through a period: one persistent model per horizon shape, state carried.

    ``run`` is the whole loop; ``solve`` and ``keep`` are its two steps.
    """

    def __init__(
        self, site: Site, options: SolveOptions | None = None, lookahead_hours: float = 0.0
    ) -> None:
        self.site = site
        self.lookahead_hours = lookahead_hours
        self.dispatcher = Dispatcher(site, options)
        self.evaluator = Evaluator(site, options)

    def run(self, inputs: Inputs, state: SiteState | None = None) -> Iterator[DayOutcome]:
        """Every local day of ``inputs`` in order, each starting from the previous day's end."""
        for window in day_windows(inputs.index, self.lookahead_hours):
            started = time.perf_counter()
            horizon = slice_inputs(inputs, window.start, window.stop)
            built, report = self.solve_horizon(horizon, state)
            kept = horizon
            if window.stop != window.start + window.kept:  # a look-ahead: keep the day only
                kept = slice_inputs(inputs, window.start, window.start + window.kept)
            result, state = self.keep(built, report, kept, state, same_inputs=True)
            yield DayOutcome(
                window.day, result.with_total_seconds(time.perf_counter() - started), state
            )

    def solve(
        self, inputs: Inputs, window: Window, state: SiteState | None
    ) -> tuple[BuiltModel, SolveReport]:
        """Solve the window's horizon (day + look-ahead) from ``state``."""
        return self.solve_horizon(slice_inputs(inputs, window.start, window.stop), state)

    def solve_horizon(
        self, horizon: Inputs, state: SiteState | None
    ) -> tuple[BuiltModel, SolveReport]:
        """Solve the inputs of one window's horizon from ``state``."""
        _check_dr_baselines(self.site, horizon)
        return self.dispatcher.solve_model(horizon, state)

    def keep(
        self,
        solved: BuiltModel,
        report: SolveReport,
        kept: Inputs,
        state: SiteState | None,
        *,
        same_inputs: bool,
        evaluate: Callable[[BuiltModel], tuple[Layout, np.ndarray]] | None = None,
    ) -> tuple[DispatchResult, SiteState]:
        """The kept window's result at ``kept`` inputs, and the state at its end.

        ``same_inputs`` says ``kept`` are the inputs ``solved`` was solved with; if so and there
        is no look-ahead, the solved model is read directly, through ``evaluate`` (default: this
        roller's dispatcher, which solved it).
        """
        if same_inputs and solved.ctx.n_intervals == len(kept.index):
            model, values = solved, (evaluate or self.dispatcher.evaluate)(solved)
        else:
            model = self.evaluator.hold(solved, kept, state)
            values = self.evaluator.evaluate(model)
        result = extract_result(model, kept, report, values)
        return result, read_state(model, kept.index, state)


def _check_dr_baselines(site: Site, horizon: Inputs) -> None:
    """A scheduled DR baseline is measured inside the solve; a rolling window that holds an
    event but not its whole baseline window would measure it against nothing."""
    for i, event in enumerate(site.dr_events):
        if event.baseline != "scheduled":
            continue
        active = horizon.frame[dr_active_column(event.name)].to_numpy()
        weights = horizon.frame[dr_baseline_column(event.name)].to_numpy()
        if active.any() and weights.sum() < 1 - 1e-9:
            raise InputError(
                f"programs.events[{i}].baseline_minutes: the scheduled baseline of "
                f"{event.name} starts before the day that holds the event; a rolling run solves "
                "one local day at a time, so keep the baseline window inside that day or use "
                "baseline: fixed"
            )


def roll(
    site: Site,
    inputs: Inputs,
    options: SolveOptions | None = None,
    *,
    lookahead_hours: float = 0.0,
    state: SiteState | None = None,
) -> list[DayOutcome]:
    """Solve every local day of ``inputs`` in order, carrying state (see :class:`Roller`)."""
    return list(Roller(site, options, lookahead_hours).run(inputs, state))
