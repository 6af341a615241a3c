"""A batch's output folder: Parquet parts per task and a manifest, never half-written, never
mixed with another batch's parts, written by one batch at a time.

Layout (Hive-style partitions, readable with ``pandas.read_parquet(out / "streams")``)::

    OUT/manifest.jsonl                                   the plan, then one JSON line per task event
    OUT/.lock                                            held (flock) while a batch writes
    OUT/schedule/site=<site>/year=<yyyy>/<key>.parquet   one row per interval and case
    OUT/streams/site=<site>/year=<yyyy>/<key>.parquet    one row per day, case and stream
    OUT/days/site=<site>/year=<yyyy>/<key>.parquet       one row per day and case (KPIs)

Each part is written to a hidden temporary file in its folder, flushed to disk and renamed, so a
part is whole or absent (readers skip hidden files). A task's manifest line, with each part's
size and sha256, is appended only after all its parts exist; a task's status is its last line.
``pending`` lines are written for every task before any runs, so the manifest always says which
tasks have not finished. See :mod:`dispatch.batch.manifest` for the lines and the plan.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import socket
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import IO, Any, Literal

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from dispatch.batch.manifest import (
    DATASETS,
    KEY,
    is_plan_entry,
    is_task_entry,
    parse_line,
    plan_differences,
)
from dispatch.batch.tasks import Task
from dispatch.errors import InputError
from dispatch.files import file_sha256, write_atomic

MANIFEST = "manifest.jsonl"
LOCK = ".lock"
Status = Literal["pending", "ok", "failed"]


@dataclass(frozen=True)
class TaskFrames:
    """A finished task's tables (one row per interval / per day and stream / per day)."""

    schedule: pd.DataFrame
    streams: pd.DataFrame
    days: pd.DataFrame

    def by_name(self) -> dict[str, pd.DataFrame]:
        return {"schedule": self.schedule, "streams": self.streams, "days": self.days}


class OutputDir:
    """The folder of one batch: its plan, its parts and its manifest."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.manifest = self.root / MANIFEST

    def exists(self) -> bool:
        return self.manifest.exists()

    def _lines(self) -> Iterator[dict[str, Any]]:
        if not self.manifest.is_file():
            return
        with open(self.manifest, "rb") as handle:
            for raw in handle:
                entry = parse_line(raw)
                if entry is not None:
                    yield entry

    def entries(self) -> Iterator[dict[str, Any]]:
        """Task lines in order; a line cut short, undecodable or of another shape is skipped."""
        return (entry for entry in self._lines() if is_task_entry(entry))

    def plan(self) -> dict[str, Any] | None:
        """The last plan line: what the folder is made for (None: none readable)."""
        plans = [entry for entry in self._lines() if is_plan_entry(entry)]
        return plans[-1] if plans else None

    def last_entries(self) -> dict[str, dict[str, Any]]:
        """Each task's latest line, by key."""
        return {entry["key"]: entry for entry in self.entries()}

    def finished(self, *, checksums: bool = False) -> dict[str, dict[str, Any]]:
        """Tasks whose latest line is ``ok`` and whose parts are all on disk, inside the folder,
        of the size recorded (and, with ``checksums``, of the sha256 recorded)."""
        return {
            key: entry
            for key, entry in self.last_entries().items()
            if entry["status"] == "ok"
            and all(
                self._intact(part, checksums) for parts in entry["parts"].values() for part in parts
            )
        }

    def _inside(self, relative: str) -> Path | None:
        """The part's path if it resolves inside the folder (no symlink leads out)."""
        path = self.root / relative
        try:
            path.resolve(strict=True).relative_to(self.root.resolve(strict=True))
        except (OSError, RuntimeError, ValueError):  # RuntimeError: a symlink loop (Python < 3.13)
            return None
        return path

    def _intact(self, part: dict[str, Any], checksums: bool) -> bool:
        path = self._inside(part["path"])
        if path is None or not path.is_file() or path.stat().st_size != part["bytes"]:
            return False
        return not checksums or file_sha256(path) == part["sha256"]

    def append(
        self,
        task: Task,
        status: Status,
        *,
        seconds: float = 0.0,
        error: str | None = None,
        parts: dict[str, list[dict[str, Any]]] | None = None,
        warnings: tuple[str, ...] = (),
    ) -> None:
        """Append one task line and flush it to disk before returning."""
        self._append_line(
            {
                "key": task.key,
                "status": status,
                "task": task.describe(),
                "seconds": round(seconds, 3),
                "error": error,
                "warnings": list(warnings),
                "parts": parts or {},
                "at": _now(),
            }
        )

    def append_plan(self, plan: dict[str, Any]) -> None:
        """Record what the folder is made for (see :func:`~dispatch.batch.manifest.plan_record`)."""
        self._append_line({**plan, "at": _now()})

    def _append_line(self, entry: dict[str, Any]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        line = json.dumps(entry, allow_nan=False) + "\n"
        if self._ends_mid_line():
            line = "\n" + line  # a killed run cut its last line short: never extend it
        with open(self.manifest, "a", encoding="utf-8") as handle:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())

    def _ends_mid_line(self) -> bool:
        try:
            with open(self.manifest, "rb") as handle:
                handle.seek(0, os.SEEK_END)
                if handle.tell() == 0:
                    return False
                handle.seek(-1, os.SEEK_END)
                return handle.read(1) != b"\n"
        except FileNotFoundError:
            return False

    def part_path(self, dataset: str, task: Task, year: int) -> Path:
        return (
            self.root / dataset / f"site={task.site_label}" / f"year={year}" / f"{task.key}.parquet"
        )

    def write_parts(self, task: Task, frames: TaskFrames) -> dict[str, list[dict[str, Any]]]:
        """Write every dataset's part per year; return each part's path (relative to the
        folder), size [bytes] and sha256, as written to disk."""
        written: dict[str, list[dict[str, Any]]] = {}
        for dataset, frame in frames.by_name().items():
            written[dataset] = []
            years = pd.DatetimeIndex(pd.to_datetime(frame["day"])).year
            for year in sorted(set(years)):
                part = frame[years == year].reset_index(drop=True)
                table = pa.Table.from_pandas(part, preserve_index=False)
                path = self.part_path(dataset, task, int(year))
                path.parent.mkdir(parents=True, exist_ok=True)
                write_atomic(path, partial(pq.write_table, table), durable=True)
                written[dataset].append(
                    {
                        "path": path.relative_to(self.root).as_posix(),
                        "bytes": path.stat().st_size,
                        "sha256": file_sha256(path),
                    }
                )
        return written

    def remove_temporaries(self) -> int:
        """Delete temporary part files a killed run left behind; return how many."""
        removed = 0
        for dataset in DATASETS:
            for path in (self.root / dataset).glob("site=*/year=*/.*.parquet.*.tmp"):
                path.unlink(missing_ok=True)
                removed += 1
        return removed

    def part_files(self) -> Iterator[tuple[str, Path]]:
        """(task key, path) of every part file in the dataset folders, whatever the manifest
        says (symlinked folders are not followed)."""
        for dataset in DATASETS:
            for folder, _, names in os.walk(self.root / dataset):
                for name in names:
                    key = name.removesuffix(".parquet")
                    if name.endswith(".parquet") and KEY.match(key):
                        yield key, Path(folder) / name

    def superseded(self, keys: set[str]) -> list[Path]:
        """Part files of tasks not among ``keys``: another batch's work."""
        return [path for key, path in self.part_files() if key not in keys]

    def refusal(self, plan: dict[str, Any], *, resume: bool, discard: bool) -> str | None:
        """Why a batch of ``plan`` may not write here (None: it may). A folder holding a batch
        needs ``resume``; a folder made for another plan, or holding parts of tasks not in
        this one, also needs ``discard`` (which removes them)."""
        recorded = self.plan()
        if self.exists() and not resume:
            return (
                f"{self.root}: already holds a batch ({MANIFEST}); pass --resume to continue it, "
                "or choose another folder"
            )
        superseded = self.superseded(set(plan["keys"]))
        if discard:
            return None
        if self.exists() and recorded is None:
            why = "a batch made by an older dispatch (its manifest records no plan)"
        elif recorded is not None and plan_differences(recorded, plan):
            why = "another batch: " + "; ".join(plan_differences(recorded, plan))
        elif superseded:
            why = f"parts of {len(superseded)} file(s) of tasks this batch does not plan"
        else:
            return None
        return (
            f"{self.root}: holds {why}; re-run with the arguments it was made with, choose "
            "another --out, or pass --resume --discard-superseded to remove the parts this batch "
            "does not plan"
        )

    def discard_superseded(self, keys: set[str]) -> int:
        """Remove the part files of tasks not among ``keys``; return how many."""
        removed = self.superseded(keys)
        for path in removed:
            path.unlink(missing_ok=True)
        return len(removed)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the folder's lock (``OUT/.lock``, an advisory flock the system releases when
        the process ends, however it ends); refuse when another batch holds it."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / LOCK, "a+", encoding="utf-8") as handle:
            if not _try_lock(handle):
                handle.seek(0)
                holder = handle.read().strip() or "another process"
                raise InputError(
                    f"{self.root}: another batch is writing this folder ({holder}); wait for it "
                    "to end or choose another --out"
                )
            handle.seek(0)
            handle.truncate()
            handle.write(f"pid {os.getpid()} on {socket.gethostname()} since {_now()}\n")
            handle.flush()
            yield

    def read(self, dataset: str, entries: list[dict[str, Any]]) -> pd.DataFrame:
        """One dataset's rows of the given finished tasks."""
        frames = [
            pd.read_parquet(self.root / part["path"])
            for entry in entries
            for part in entry["parts"].get(dataset, [])
        ]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _try_lock(handle: IO[str]) -> bool:
    """Take an exclusive lock on ``handle`` without waiting; False if another process has it.
    The lock goes with the open file: closing it (or the process ending) releases it."""
    if sys.platform == "win32":
        import msvcrt

        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True
