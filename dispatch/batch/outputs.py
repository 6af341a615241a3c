"""A batch's output folder: Parquet parts per task and a manifest, never half-written.

Layout (Hive-style partitions, readable with ``pandas.read_parquet(out / "streams")``)::

    OUT/manifest.jsonl                                   one JSON line per task event
    OUT/schedule/site=<site>/year=<yyyy>/<key>.parquet   one row per interval and case
    OUT/streams/site=<site>/year=<yyyy>/<key>.parquet    one row per day, case and stream
    OUT/days/site=<site>/year=<yyyy>/<key>.parquet       one row per day and case (KPIs)

Each part is written to a hidden temporary file in its folder, flushed to disk and renamed, so a
part is whole or absent (readers skip hidden files). A task's manifest line is appended only after
all its parts exist; a task's status is its last line. ``pending`` lines are written for every
task before any runs, so the manifest always says which tasks have not finished.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from dispatch.batch.tasks import Task
from dispatch.files import write_atomic

MANIFEST = "manifest.jsonl"
DATASETS = ("schedule", "streams", "days")
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
    """The folder of one batch: its parts and its manifest."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.manifest = self.root / MANIFEST

    def exists(self) -> bool:
        return self.manifest.exists()

    def entries(self) -> Iterator[dict[str, Any]]:
        """Manifest lines in order; a line cut short by a crash is skipped."""
        if not self.manifest.exists():
            return
        with open(self.manifest, encoding="utf-8") as handle:
            for line in handle:
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(entry, dict) and "key" in entry and "status" in entry:
                    yield entry

    def last_entries(self) -> dict[str, dict[str, Any]]:
        """Each task's latest line, by key."""
        return {entry["key"]: entry for entry in self.entries()}

    def finished(self) -> dict[str, dict[str, Any]]:
        """Tasks whose latest line is ``ok`` and whose parts are all on disk."""
        return {
            key: entry
            for key, entry in self.last_entries().items()
            if entry["status"] == "ok"
            and all((self.root / p).is_file() for paths in entry["parts"].values() for p in paths)
        }

    def append(
        self,
        task: Task,
        status: Status,
        *,
        seconds: float = 0.0,
        error: str | None = None,
        parts: dict[str, list[str]] | None = None,
    ) -> None:
        """Append one line and flush it to disk before returning."""
        entry = {
            "key": task.key,
            "status": status,
            "task": task.describe(),
            "seconds": round(seconds, 3),
            "error": error,
            "parts": parts or {},
            "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
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

    def write_parts(self, task: Task, frames: TaskFrames) -> dict[str, list[str]]:
        """Write every dataset's part per year; return their paths relative to the folder."""
        written: dict[str, list[str]] = {}
        for dataset, frame in frames.by_name().items():
            written[dataset] = []
            years = pd.DatetimeIndex(pd.to_datetime(frame["day"])).year
            for year in sorted(set(years)):
                part = frame[years == year].reset_index(drop=True)
                table = pa.Table.from_pandas(part, preserve_index=False)
                path = self.part_path(dataset, task, int(year))
                path.parent.mkdir(parents=True, exist_ok=True)
                write_atomic(path, partial(pq.write_table, table), durable=True)
                written[dataset].append(str(path.relative_to(self.root)))
        return written

    def remove_temporaries(self) -> int:
        """Delete temporary part files a killed run left behind; return how many."""
        removed = 0
        for dataset in DATASETS:
            for path in (self.root / dataset).glob("site=*/year=*/.*.parquet.*.tmp"):
                path.unlink(missing_ok=True)
                removed += 1
        return removed

    def read(self, dataset: str, entries: list[dict[str, Any]]) -> pd.DataFrame:
        """One dataset's rows of the given finished tasks."""
        frames = [
            pd.read_parquet(self.root / part)
            for entry in entries
            for part in entry["parts"].get(dataset, [])
        ]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
