"""How the long steps of `dispatch size` look: a bar with an ETA per step on a terminal, one
line per finished step in a log."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from dispatch.sizing.progress import Progress as StepCallback
from dispatch.sizing.progress import Step
from dispatch.text import literal


@contextmanager
def step_display(console: Console) -> Iterator[StepCallback]:
    """A progress callback for :func:`dispatch.size` drawing on ``console``; step names are
    literal text on any console (no markup, emoji codes or escape sequences)."""
    if not console.is_terminal:

        def log(step: Step) -> None:
            if step.finished:
                console.print(Text(literal(step.line())), soft_wrap=True)

        yield log
        return
    bars = Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[unit]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
    )
    with bars:
        shown: dict[str, TaskID] = {}

        def draw(step: Step) -> None:
            if step.name not in shown:
                shown[step.name] = bars.add_task(
                    literal(step.name), total=step.total, unit=step.unit
                )
            bars.update(shown[step.name], completed=step.done)

        yield draw
