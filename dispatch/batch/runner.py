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
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from dispatch.batch.outputs import OutputDir
from dispatch.batch.tasks import Task
from dispatch.batch.worker import TaskOutcome, run_task
from dispatch.distribution import install_hint
from dispatch.errors import InputError

RecordStatus = Literal["ok", "failed", "skipped", "not_run"]


@dataclass(frozen=True)
class TaskRecord:
    """What became of one task in this run (``skipped``: finished by an earlier run)."""

    task: Task
    status: RecordStatus
    seconds: float = 0.0
    error: str | None = None


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


class BatchStopped(RuntimeError):
    """The batch could not record its work (e.g. the output disk is full); nothing written is
    lost and the manifest says which tasks did not finish."""


ProgressCallback = Callable[[TaskRecord], None]


def process_pool(workers: int) -> ProcessPoolExecutor:
    """Local worker processes, started fresh (spawn: no inherited threads or solver state)."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))


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
    except Exception as error:  # the worker died or the task could not be shipped
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
        Address of a Dask scheduler, connected to after the manifest lists every task as
        pending (so an unreachable one leaves a manifest saying no task finished), and how
        long to wait for it [s].
    resume
        Skip tasks the folder's manifest records as finished; without it a folder that
        already holds a batch is refused.
    on_task_done
        Called with each task's record as it ends (progress display).

    A failed task is recorded and the batch carries on. If outputs cannot be written (a full
    disk) the batch stops, keeping everything already written, and the report says why.
    """
    started = time.perf_counter()
    out = OutputDir(out_dir)
    unique = list({task.key: task for task in tasks}.values())
    if out.exists() and not resume:
        raise InputError(
            f"{out.root}: already holds a batch ({out.manifest.name}); pass --resume to continue "
            "it, or choose another folder"
        )
    finished = out.finished() if resume else {}
    if resume:
        out.remove_temporaries()
    records: dict[str, TaskRecord] = {
        t.key: TaskRecord(t, "skipped") for t in unique if t.key in finished
    }
    todo = [t for t in unique if t.key not in finished]
    try:
        for task in todo:
            out.append(task, "pending")
    except OSError as error:
        raise BatchStopped(f"cannot write the manifest in {out.root}: {error}") from None
    with contextlib.ExitStack() as stack:
        pool: Executor | None = executor
        if pool is None and todo and scheduler is not None:
            pool = stack.enter_context(dask_executor(scheduler, scheduler_timeout_s))
        elif pool is None and todo:
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
    if outcome.status == "ok" and outcome.frames is not None:
        parts = out.write_parts(task, outcome.frames)
        out.append(task, "ok", seconds=outcome.seconds, parts=parts)
        return TaskRecord(task, "ok", outcome.seconds)
    out.append(task, "failed", seconds=outcome.seconds, error=outcome.error)
    return TaskRecord(task, "failed", outcome.seconds, outcome.error)
