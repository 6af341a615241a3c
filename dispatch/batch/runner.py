"""Run tasks on any ``concurrent.futures.Executor``; record every outcome; resume where left.

The default executor is a local process pool (one HiGHS thread per worker, set by the tasks'
solver options). A Dask cluster works the same through ``distributed.Client.get_executor()``
(see :func:`dask_executor`). Workers return tables; this process, the only writer, writes each
finished task's parts atomically and then its manifest line.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import (
    BrokenExecutor,
    Executor,
    Future,
    ProcessPoolExecutor,
    as_completed,
)
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from dispatch.batch.manifest import plan_record
from dispatch.batch.outputs import OutputDir
from dispatch.batch.tasks import Task
from dispatch.batch.worker import TaskOutcome, run_task
from dispatch.distribution import install_hint
from dispatch.errors import BatchStopped, InputError, expect, expect_items

RecordStatus = Literal["ok", "failed", "skipped", "not_run"]


@dataclass(frozen=True)
class TaskRecord:
    """What became of one task in this run (``skipped``: finished by an earlier run), and the
    data warnings its run raised."""

    task: Task
    status: RecordStatus
    seconds: float = 0.0
    error: str | None = None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class BatchReport:
    """A batch run: every task's record, wall time [s], and why it stopped early, if it did."""

    out_dir: Path
    records: tuple[TaskRecord, ...]
    seconds: float
    stopped: str | None = None

    def with_status(self, *statuses: RecordStatus) -> list[TaskRecord]:
        return [r for r in self.records if r.status in statuses]

    @property
    def days_solved(self) -> int:
        """Days solved by this run (tasks finished now, not skipped ones)."""
        return sum(r.task.days for r in self.with_status("ok"))

    @property
    def days_per_second(self) -> float:
        return self.days_solved / self.seconds if self.seconds > 0 else 0.0

    @property
    def complete(self) -> bool:
        """Every task finished, now or by an earlier run."""
        return self.stopped is None and all(r.status in ("ok", "skipped") for r in self.records)


class PoolBroken(BatchStopped):
    """The worker pool broke (its processes died); no task can run on it."""


ProgressCallback = Callable[[TaskRecord], None]


def process_pool(workers: int) -> ProcessPoolExecutor:
    """Local worker processes, started fresh (spawn: no inherited threads or solver state).

    Each worker exits once this process is gone, so a ``dispatch batch`` or ``dispatch size``
    stopped by SIGTERM or SIGKILL (no clean-up runs then) leaves no worker solving on.
    """
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=exit_with_parent,
        initargs=(os.getpid(),),
    )


def exit_with_parent(parent_pid: int, poll_s: float = 0.5) -> None:
    """Start a daemon thread that ends this (worker) process once ``parent_pid`` has exited
    (the worker is then re-parented, so its parent id changes)."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(poll_s)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


@contextlib.contextmanager
def dask_executor(address: str, timeout_s: float = 10.0) -> Iterator[Executor]:
    """An executor on an existing Dask distributed cluster (needs the ``[dask]`` extra).

    Raises :class:`InputError` when ``distributed`` is missing or the scheduler cannot be
    reached within ``timeout_s``.
    """
    try:
        from distributed import Client
    except ImportError:
        raise InputError(f"--scheduler needs Dask distributed: {install_hint('dask')}") from None
    _check_address(address)
    try:
        client = Client(address, timeout=f"{timeout_s}s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as error:
        raise InputError(
            f"--scheduler {address}: cannot reach the Dask scheduler ({error})"
        ) from None
    try:
        yield client.get_executor()
    finally:
        client.close()


def _check_address(address: str) -> None:
    """Refuse a malformed address before a Client exists (a half-built one complains at exit)."""
    from distributed.comm.addressing import parse_address, parse_host_port
    from distributed.comm.registry import get_backend

    try:
        scheme, location = parse_address(address)
        get_backend(scheme)
        if scheme in ("tcp", "tls"):
            parse_host_port(location)
    except ValueError as error:
        raise InputError(
            f"--scheduler {address}: not a Dask scheduler address ({error}); expected e.g. "
            "tcp://10.0.0.5:8786"
        ) from None


def _outcome(future: Future[TaskOutcome], task: Task) -> TaskOutcome:
    try:
        return future.result()
    except BrokenExecutor as error:  # every worker is gone: no task can run here
        raise PoolBroken(
            f"the worker pool broke ({type(error).__name__}: {error}); in a script, call "
            'run_batch under `if __name__ == "__main__":` (workers start fresh and import the '
            "script), and check that workers are not killed (memory); finished tasks are kept, "
            "re-run with --resume"
        ) from None
    except Exception as error:  # the task could not be shipped or its result not returned
        return TaskOutcome(task.key, "failed", 0.0, 0, error=f"{type(error).__name__}: {error}")


def run_batch(
    tasks: Sequence[Task],
    out_dir: str | Path,
    *,
    executor: Executor | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    scheduler_timeout_s: float = 10.0,
    resume: bool = False,
    discard_superseded: bool = False,
    on_task_done: ProgressCallback | None = None,
) -> BatchReport:
    """Run ``tasks`` and write their parts and manifest into ``out_dir``.

    Parameters
    ----------
    executor
        Any ``concurrent.futures.Executor``, left open (e.g. a Dask client's
        ``get_executor()``).
    workers
        Without ``executor`` or ``scheduler``: processes of the local pool (default: one per
        CPU), shut down at the end.
    scheduler, scheduler_timeout_s
        Address of a Dask scheduler, and how long to wait for it [s]. It is connected to
        before anything is written: an unreachable one leaves the folder as it was.
    resume
        Skip tasks the folder's manifest records as finished whose parts are intact (size and
        sha256 as recorded); without it a folder that already holds a batch is refused. The
        folder must have been made for the same tasks (the manifest's plan).
    discard_superseded
        With ``resume``: a folder made for other tasks (a changed site file, period, price
        source or option) is taken over: the parts of tasks not planned now are removed first.
    on_task_done
        Called with each task's record as it ends (progress display).

    A failed task is recorded and the batch carries on. If outputs cannot be written (a full
    disk) the batch stops, keeping everything already written, and the report says why. A
    folder another batch is writing (its lock is held) is refused. Raises :class:`PoolBroken`
    (a :class:`BatchStopped`) when the worker pool breaks.
    """
    started = time.perf_counter()
    tasks = expect_items(tasks, Task, "tasks", "Task (from plan_tasks)")
    if executor is not None:
        expect(executor, Executor, "executor", "a concurrent.futures.Executor")
    if workers is not None:
        expect(workers, int, "workers", "a whole number of processes")
        if workers < 1:
            raise InputError(f"workers (--workers): expected at least 1, found {workers}")
    if discard_superseded and not resume:
        raise InputError("--discard-superseded: applies with --resume only")
    out = OutputDir(out_dir)
    if out.root.exists() and not out.root.is_dir():
        raise InputError(f"{out.root}: exists and is not a folder")
    unique = list({task.key: task for task in tasks}.values())
    plan = plan_record(unique)
    refusal = out.refusal(plan, resume=resume, discard=discard_superseded)
    if refusal is not None:  # checked before connecting: a mistake costs no cluster round trip
        raise InputError(refusal)
    with contextlib.ExitStack() as stack:
        pool: Executor | None = executor
        if pool is None and scheduler is not None:  # before the folder is touched
            pool = stack.enter_context(dask_executor(scheduler, scheduler_timeout_s))
        stack.enter_context(out.locked())
        refusal = out.refusal(plan, resume=resume, discard=discard_superseded)  # under the lock
        if refusal is not None:
            raise InputError(refusal)
        if resume:
            out.remove_temporaries()
        if discard_superseded:
            out.discard_superseded(set(plan["keys"]))
        finished = out.finished(checksums=True) if resume else {}
        records: dict[str, TaskRecord] = {
            t.key: TaskRecord(t, "skipped") for t in unique if t.key in finished
        }
        todo = [t for t in unique if t.key not in finished]
        try:
            recorded = out.plan()
            if recorded is None or (recorded["plan"], recorded["keys"]) != (
                plan["plan"],
                plan["keys"],
            ):
                out.append_plan(plan)
            for task in todo:
                out.append(task, "pending")
        except OSError as error:
            raise BatchStopped(f"cannot write the manifest in {out.root}: {error}") from None
        if pool is None and todo:
            pool = process_pool(max(1, min(workers or os.cpu_count() or 1, len(todo))))
            stack.callback(pool.shutdown, wait=True, cancel_futures=True)
        stopped = _run(out, todo, pool, records, on_task_done)
    ordered = tuple(records.get(t.key, TaskRecord(t, "not_run")) for t in unique)
    return BatchReport(out.root, ordered, time.perf_counter() - started, stopped)


def _run(
    out: OutputDir,
    todo: list[Task],
    pool: Executor | None,
    records: dict[str, TaskRecord],
    on_task_done: ProgressCallback | None,
) -> str | None:
    """Submit, collect, record; return why the run stopped early (None: it did not)."""
    futures: dict[Future[TaskOutcome], Task] = {}
    stopped = None
    try:
        # longest first, so the batch does not end waiting on one long task
        for task in sorted(todo, key=lambda t: -t.days):
            assert pool is not None
            futures[pool.submit(run_task, task)] = task
        for future in as_completed(futures):
            task = futures[future]
            outcome = _outcome(future, task)
            try:
                record = _record(out, task, outcome)
            except OSError as error:
                stopped = f"cannot write to {out.root}: {error}"
                with contextlib.suppress(OSError):
                    out.append(task, "failed", seconds=outcome.seconds, error=stopped)
                records[task.key] = TaskRecord(task, "failed", outcome.seconds, stopped)
                break
            records[task.key] = record
            if on_task_done is not None:
                on_task_done(record)
    finally:
        for future in futures:
            future.cancel()
    return stopped


def _record(out: OutputDir, task: Task, outcome: TaskOutcome) -> TaskRecord:
    """Write a finished task's parts, then its manifest line (raises OSError if it cannot)."""
    notes = outcome.warnings
    if outcome.status == "ok" and outcome.frames is not None:
        parts = out.write_parts(task, outcome.frames)
        out.append(task, "ok", seconds=outcome.seconds, parts=parts, warnings=notes)
        return TaskRecord(task, "ok", outcome.seconds, warnings=notes)
    out.append(task, "failed", seconds=outcome.seconds, error=outcome.error, warnings=notes)
    return TaskRecord(task, "failed", outcome.seconds, outcome.error, notes)
