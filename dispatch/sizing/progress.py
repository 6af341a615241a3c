"""Progress of the long steps of sizing (sweep, check, Monte Carlo), for a callback.

A callback receives a :class:`Step` when a step starts (``done`` 0), after each unit of work
and when it ends (``done == total``). The command line draws a bar with an ETA on a terminal and
prints one line per finished step in a log; the API passes the steps to any callable.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    """``done`` of ``total`` ``unit`` of the step ``name`` after ``seconds`` [s]."""

    name: str
    done: int
    total: int
    unit: str
    seconds: float

    @property
    def finished(self) -> bool:
        return self.done >= self.total

    def line(self) -> str:
        """One line for a log: ``"sweep: 20/20 points in 284.1 s"``."""
        return f"{self.name}: {self.done}/{self.total} {self.unit} in {self.seconds:.1f} s"


Progress = Callable[[Step], None]


def quiet(step: Step) -> None:
    """A callback that ignores every step."""


class Tracker:
    """Reports one step to ``progress``: started on creation, ``advance`` per unit."""

    def __init__(self, progress: Progress, name: str, total: int, unit: str) -> None:
        self.progress, self.name, self.total, self.unit = progress, name, total, unit
        self.done = 0
        self.started = time.perf_counter()
        progress(Step(name, 0, total, unit, 0.0))

    def advance(self, units: int = 1) -> None:
        self.done += units
        seconds = time.perf_counter() - self.started
        self.progress(Step(self.name, self.done, self.total, self.unit, seconds))

    def finish(self) -> None:
        """Report the step done (if the units did not already)."""
        if self.done < self.total:
            self.advance(self.total - self.done)
