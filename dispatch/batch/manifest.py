"""The manifest's lines, read defensively, and the plan a batch folder is made for.

A manifest (``OUT/manifest.jsonl``) holds two kinds of JSON lines:

* a **plan** line, ``{"plan": {...}, "keys": [...], "at": ...}``, written before any task runs:
  what the folder is made for (site files by contents, price sources, settlement points,
  periods, look-ahead, forecast settings, solver options, dispatch version) and the key of every
  task. The last plan line counts. ``--resume`` with another plan is refused, so parts of two
  different batches never mix in one folder (``--discard-superseded`` removes the old parts).
* a **task** line per event, ``{"key", "status", "task", "seconds", "error", "warnings",
  "parts", "at"}`` (``warnings``: the data warnings of the task's run);
  ``parts`` lists every Parquet part with its size and sha256, so a truncated or damaged part
  is detected and its task re-run.

A line that is cut short, not UTF-8, not JSON or not of this shape is skipped, as is a part
whose path is not one this module writes (a manifest names files *inside* its folder only).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from dispatch.batch.tasks import Task, task_identity

DATASETS = ("schedule", "streams", "days")
STATUSES = ("pending", "ok", "failed")
KEY = re.compile(r"^[0-9a-f]{64}$")
SHA256 = KEY
PART = re.compile(
    r"^(?P<dataset>schedule|streams|days)/site=[A-Za-z0-9_.-]+/year=\d{4}/(?P<key>[0-9a-f]{64})"
    r"\.parquet$"
)


def parse_line(raw: bytes) -> dict[str, Any] | None:
    """A manifest line as a dict, or None for one that cannot be read (cut short by a kill,
    not UTF-8, not JSON, nested absurdly deep)."""
    try:
        entry = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return entry if isinstance(entry, dict) else None


def is_task_entry(entry: dict[str, Any]) -> bool:
    """A task line of the expected shape, every part path one this module writes for its key."""
    key, parts = entry.get("key"), entry.get("parts", {})
    if not (isinstance(key, str) and KEY.match(key) and entry.get("status") in STATUSES):
        return False
    if not isinstance(parts, dict) or not set(parts) <= set(DATASETS):
        return False
    for listed in parts.values():
        if not isinstance(listed, list):
            return False
        for part in listed:
            if not (
                isinstance(part, dict)
                and isinstance(part.get("path"), str)
                and (match := PART.match(part["path"])) is not None
                and match["key"] == key
                and isinstance(part.get("bytes"), int)
                and isinstance(part.get("sha256"), str)
                and SHA256.match(part["sha256"])
            ):
                return False
    return True


def is_plan_entry(entry: dict[str, Any]) -> bool:
    keys = entry.get("keys")
    return (
        isinstance(entry.get("plan"), dict)
        and isinstance(keys, list)
        and all(isinstance(k, str) and KEY.match(k) for k in keys)
    )


def plan_record(tasks: Sequence[Task]) -> dict[str, Any]:
    """What a batch of ``tasks`` is made for, and the task keys: every value each part of the
    tasks' identity takes (files by path and contents, periods as ``start..end``)."""
    memo: dict[str, str] = {}
    values: dict[str, set[str]] = {}
    for task in tasks:
        for field, value in _view(task, task_identity(task, memo)).items():
            values.setdefault(field, set()).add(value)
    made_for = {field: sorted(found) for field, found in values.items()}
    return {"plan": made_for, "keys": sorted(task.key for task in tasks)}


def _view(task: Task, identity: dict[str, Any]) -> dict[str, str]:
    """A task's identity as readable text: a file as its path and short sha256."""
    files = {
        "site": (task.site_file, f"sha256:{identity['site']}"),
        "prices": (task.prices, identity["prices"]),
        "settlement_prices": (task.settlement_prices, identity["settlement_prices"]),
        "hashprice": (task.hashprice, identity["hashprice"]),
        "profiles": (task.profiles, identity["profiles"]),
    }
    view = {
        field: json.dumps(value, sort_keys=True)
        for field, value in identity.items()
        if field not in (*files, "start", "end")
    }
    view["period"] = f"{identity['start']}..{identity['end']}"
    for field, (path, digest) in files.items():
        readable = path if digest is None or digest == path else f"{path} ({digest[:19]})"
        view[field] = str(readable)
    return view


def plan_differences(recorded: dict[str, Any], planned: dict[str, Any]) -> list[str]:
    """What differs between two plans, one phrase per field (values shown short)."""
    before, after = recorded.get("plan", {}), planned["plan"]
    differences = []
    for field in sorted(set(before) | set(after)):
        if before.get(field) != after.get(field):
            differences.append(
                f"{field}: was {_short(before.get(field))}, now {_short(after.get(field))}"
            )
    if not differences and sorted(recorded.get("keys", [])) != planned["keys"]:
        differences.append(
            f"tasks: {len(recorded.get('keys', []))} recorded, {len(planned['keys'])} now"
        )
    return differences


def _short(values: object, limit: int = 160) -> str:
    text = ", ".join(map(str, values)) if isinstance(values, list) else str(values)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."
