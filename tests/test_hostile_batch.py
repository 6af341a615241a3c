"""Batch folders that cannot mix: a folder is made for one plan, its parts are checked against
the manifest, the manifest cannot point outside the folder, one batch writes a folder at a time,
and a broken worker pool raises instead of recording every task as failed.

The tiny hourly site of test_batch on bundled ERCOT day-ahead prices keeps every run short.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from concurrent.futures import Executor, Future
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pandas as pd
import pytest
from test_batch import TINY_SITE, InlineExecutor, last_status

from dispatch.batch.outputs import OutputDir
from dispatch.batch.runner import PoolBroken, run_batch
from dispatch.batch.tasks import plan_tasks
from dispatch.errors import BatchStopped, InputError


@pytest.fixture
def site_file(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY_SITE)
    return path


def days_of(out: Path) -> list[str]:
    return sorted(pd.read_parquet(out / "days")["day"].astype(str))


def plan(site_file: Path, **changes):
    arguments = {"split": "month", **changes}
    start, end = arguments.pop("start", "2023-01-30"), arguments.pop("end", "2023-02-02")
    return plan_tasks([site_file], start, end, **arguments)


def test_resume_with_a_changed_site_file_is_refused_then_discards_superseded_parts(
    site_file: Path, tmp_path: Path
):
    out = tmp_path / "out"
    assert run_batch(plan(site_file), out, executor=InlineExecutor()).complete
    site_file.write_text(TINY_SITE.replace("containers: 3", "containers: 4"))
    changed = plan(site_file)
    with pytest.raises(InputError, match=r"holds another batch: site: was .*tiny.yaml \(sha256:"):
        run_batch(changed, out, executor=InlineExecutor(), resume=True)
    assert days_of(out) == ["2023-01-30", "2023-01-31", "2023-02-01", "2023-02-02"]  # untouched
    report = run_batch(
        changed, out, executor=InlineExecutor(), resume=True, discard_superseded=True
    )
    assert [r.status for r in report.records] == ["ok", "ok"]
    days = pd.read_parquet(out / "days")
    assert sorted(days["day"].astype(str)) == [
        "2023-01-30",
        "2023-01-31",
        "2023-02-01",
        "2023-02-02",
    ]
    assert set(days["task_key"]) == {t.key for t in changed}  # the old parts are gone, not mixed
    again = run_batch(changed, out, executor=InlineExecutor(), resume=True)
    assert [r.status for r in again.records] == ["skipped", "skipped"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"end": "2023-02-03"}, r"period: was 2023-01-30..2023-01-31, 2023-02-01..2023-02-02, now "),
        ({"lookahead_hours": 12}, r"lookahead_hours: was 0.0, now 12.0"),
        ({"split": "none"}, r"period: was .*, now 2023-01-30..2023-02-02"),
        ({"settlement_points": ["HB_NORTH"]}, r"settlement_point: was \"HB_WEST\", now \"HB_NORTH\""),
    ],
)  # fmt: skip
def test_resume_with_other_options_or_period_is_refused_naming_what_changed(
    site_file: Path, tmp_path: Path, changes, message
):
    out = tmp_path / "out"
    run_batch(plan(site_file), out, executor=InlineExecutor())
    with pytest.raises(InputError, match=message):
        run_batch(plan(site_file, **changes), out, executor=InlineExecutor(), resume=True)


def test_options_are_part_of_the_plan(site_file: Path, tmp_path: Path):
    from dispatch.options import SolveOptions

    out = tmp_path / "out"
    run_batch(plan(site_file), out, executor=InlineExecutor())
    looser = plan(site_file, options=SolveOptions(mip_rel_gap=1e-2))
    with pytest.raises(InputError, match=r"options: was .*\"mip_rel_gap\": 0.0001.*, now .*0.01"):
        run_batch(looser, out, executor=InlineExecutor(), resume=True)


def test_a_truncated_or_altered_part_is_detected_and_its_task_rerun(
    site_file: Path, tmp_path: Path
):
    out = tmp_path / "out"
    tasks = plan(site_file)
    run_batch(tasks, out, executor=InlineExecutor())
    entries = OutputDir(out).last_entries()
    first = out / entries[tasks[0].key]["parts"]["schedule"][0]["path"]
    first.write_bytes(first.read_bytes()[:100])  # cut short
    second = out / entries[tasks[1].key]["parts"]["days"][0]["path"]
    data = bytearray(second.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, one byte flipped
    second.write_bytes(bytes(data))
    report = run_batch(tasks, out, executor=InlineExecutor(), resume=True)
    assert [r.status for r in report.records] == ["ok", "ok"]  # both re-run, none skipped
    assert days_of(out) == ["2023-01-30", "2023-01-31", "2023-02-01", "2023-02-02"]


def test_manifest_parts_must_lie_inside_the_folder(site_file: Path, tmp_path: Path):
    out = tmp_path / "out"
    tasks = plan(site_file)
    run_batch(tasks, out, executor=InlineExecutor())
    outside = tmp_path / "precious.parquet"
    outside.write_bytes(b"not ours")
    manifest = OutputDir(out)
    entry = manifest.last_entries()[tasks[0].key]
    for escape in ("../precious.parquet", f"schedule/site=tiny/year=2023/../../../{outside.name}"):
        forged = {**entry, "parts": {"days": [{"path": escape, "bytes": 8, "sha256": "0" * 64}]}}
        with open(manifest.manifest, "a") as handle:
            handle.write(json.dumps(forged) + "\n")
        # a line naming a file outside is not a line: the task's last valid line stands
        assert manifest.finished()[tasks[0].key]["parts"] == entry["parts"]
    # a part replaced by a symlink that leads out of the folder is not trusted either, even to a
    # byte-for-byte copy (same size and sha256 as recorded)
    link = out / entry["parts"]["days"][0]["path"]
    copy = tmp_path / "copy.parquet"
    copy.write_bytes(link.read_bytes())
    link.unlink()
    link.symlink_to(copy)
    report = run_batch(tasks, out, executor=InlineExecutor(), resume=True)
    assert [r.status for r in report.records] == ["ok", "skipped"]
    assert outside.read_bytes() == b"not ours"
    assert not link.is_symlink()  # replaced by the re-run part


@pytest.mark.parametrize("trap", ["name-too-long", "symlink-loop"])
def test_a_part_path_that_cannot_be_looked_up_re_runs_its_task(
    site_file: Path, tmp_path: Path, trap: str
):
    out = tmp_path / "out"
    tasks = plan(site_file)
    run_batch(tasks, out, executor=InlineExecutor())
    manifest = OutputDir(out)
    entry = manifest.last_entries()[tasks[0].key]
    part = entry["parts"]["days"][0]
    if trap == "name-too-long":  # a hand-edited line: a folder name longer than a file system takes
        path = f"days/site={'x' * 300}/year=2023/{tasks[0].key}.parquet"
        forged = {**entry, "parts": {**entry["parts"], "days": [{**part, "path": path}]}}
        with open(manifest.manifest, "a") as handle:
            handle.write(json.dumps(forged) + "\n")
    else:  # the part replaced by a symlink to itself
        (out / part["path"]).unlink()
        (out / part["path"]).symlink_to(out / part["path"])
    report = run_batch(tasks, out, executor=InlineExecutor(), resume=True)
    assert [r.status for r in report.records] == ["ok", "skipped"]
    assert days_of(out) == ["2023-01-30", "2023-01-31", "2023-02-01", "2023-02-02"]


@pytest.mark.parametrize(
    "junk",
    [
        b"\xff\xfe\x00 not utf-8 \x80\x81\n",
        b"[" * 100_000 + b"\n",
        b'{"key": "' + b"a" * 64 + b'", "status": 3, "parts": []}\n',
        b'{"key": 1' + b"0" * 5000 + b', "status": "ok"}\n',
        b'{"key": "' + b"0" * 64 + b'", "status": "ok", "parts": {"days": ["/etc/passwd"]}}\n',
    ],
    ids=["not-utf8", "deep", "wrong-shape", "huge-int", "old-format-path"],
)
def test_undecodable_manifest_lines_are_skipped(site_file: Path, tmp_path: Path, junk: bytes):
    out = tmp_path / "out"
    tasks = plan(site_file)
    run_batch(tasks, out, executor=InlineExecutor())
    with open(out / "manifest.jsonl", "ab") as handle:
        handle.write(junk)
    assert sorted(last_status(out).values()) == ["ok", "ok"]
    report = run_batch(tasks, out, executor=InlineExecutor(), resume=True)
    assert [r.status for r in report.records] == ["skipped", "skipped"]


def test_two_sites_with_the_same_stem_land_in_distinct_partitions(tmp_path: Path):
    for folder, containers in (("east", 3), ("west", 5)):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "campus.yaml").write_text(
            TINY_SITE.replace("containers: 3", f"containers: {containers}")
        )
    files = [tmp_path / "east" / "campus.yaml", tmp_path / "west" / "campus.yaml"]
    tasks = plan_tasks(files, "2023-01-30", "2023-01-30")
    assert [t.site_label for t in tasks] == ["east_campus", "west_campus"]
    out = tmp_path / "out"
    run_batch(tasks, out, executor=InlineExecutor())
    assert sorted(p.name for p in (out / "days").iterdir()) == [
        "site=east_campus",
        "site=west_campus",
    ]
    for task in tasks:
        part = pd.read_parquet(out / "days" / f"site={task.site_label}")
        assert set(part["site_file"]) == {task.site_file}


def test_one_batch_at_a_time_writes_a_folder(site_file: Path, tmp_path: Path):
    out = tmp_path / "out"
    held = pytest.raises(InputError, match=r"another batch is writing this folder \(pid ")
    with OutputDir(out).locked(), held:  # another batch holds the folder
        run_batch(plan(site_file), out, executor=InlineExecutor())
    assert not (out / "manifest.jsonl").exists()
    assert run_batch(plan(site_file), out, executor=InlineExecutor()).complete  # released


def test_a_folder_with_stray_parts_and_no_manifest_is_refused(site_file: Path, tmp_path: Path):
    out = tmp_path / "out"
    run_batch(plan(site_file), out, executor=InlineExecutor())
    (out / "manifest.jsonl").unlink()
    other = plan(site_file, end="2023-02-01")
    with pytest.raises(InputError, match=r"holds parts of 3 file\(s\) of tasks this batch"):
        run_batch(other, out, executor=InlineExecutor(), resume=True)


def test_an_unreachable_scheduler_leaves_an_existing_folder_as_it_was(
    site_file: Path, tmp_path: Path
):
    pytest.importorskip("distributed")
    out = tmp_path / "out"
    tasks = plan(site_file)
    run_batch(tasks[:1], out, executor=InlineExecutor())
    before = (out / "manifest.jsonl").read_bytes()
    with pytest.raises(InputError, match="cannot reach the Dask scheduler"):
        run_batch(tasks[:1], out, scheduler="tcp://127.0.0.1:9", scheduler_timeout_s=0.5, resume=True)  # fmt: skip
    assert (out / "manifest.jsonl").read_bytes() == before


class BrokenPool(Executor):
    """Every submitted task fails as a dead process pool's do."""

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[override]
        future: Future = Future()
        future.set_exception(BrokenProcessPool("a child process terminated abruptly"))
        return future


def test_a_broken_pool_raises_and_keeps_tasks_pending(site_file: Path, tmp_path: Path):
    out = tmp_path / "out"
    tasks = plan(site_file)
    with pytest.raises(PoolBroken, match=r"under `if __name__ == \"__main__\":`"):
        run_batch(tasks, out, executor=BrokenPool())
    assert issubclass(PoolBroken, BatchStopped)
    assert sorted(last_status(out).values()) == ["pending", "pending"]  # none recorded failed


def test_a_script_without_the_main_guard_raises_instead_of_reporting_failures(
    site_file: Path, tmp_path: Path
):
    script = tmp_path / "unguarded.py"
    script.write_text(
        textwrap.dedent(
            f"""
            from dispatch import plan_tasks, run_batch
            tasks = plan_tasks([{str(site_file)!r}], "2023-01-30", "2023-01-30")
            report = run_batch(tasks, {str(tmp_path / "out")!r}, workers=1)
            print("complete", report.complete)
            """
        )
    )
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=300,
        cwd=tmp_path, env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )  # fmt: skip
    assert done.returncode != 0
    assert "complete" not in done.stdout  # never a report with complete False and exit 0
    assert "PoolBroken: the worker pool broke" in done.stderr
    assert 'call run_batch under `if __name__ == "__main__":`' in done.stderr
