"""Hostile site files: each is refused with one line naming the file and the field or line, exit
2, never a traceback, a hang or a solver asked to handle an absurd number.

Every damaged file is the real example ``sites/west_texas_hybrid_hourly.yaml`` with one edit.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from conftest import SITES
from typer.testing import CliRunner

from dispatch import InputError, load_site
from dispatch.batch.tasks import plan_tasks
from dispatch.cli import app
from dispatch.site.loader import MAX_DEPTH

runner = CliRunner()
HOURLY = (SITES / "west_texas_hybrid_hourly.yaml").read_text()


def damaged(tmp_path: Path, old: str, new: str) -> Path:
    assert old in HOURLY, old
    path = tmp_path / "site.yaml"
    path.write_text(HOURLY.replace(old, new, 1))
    return path


def refused(path: Path) -> str:
    """The one line ``dispatch validate`` prints for ``path``, asserting exit 2 and no traceback."""
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith(f"error: {path}")
    return lines[0]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        # a boolean is not a count, a megawatt or a number of peaks
        (
            "containers: 40",
            "containers: true",
            r"mining.fleets\[0\].containers: Input should be a valid integer \(found True\)",
        ),
        (
            "import_limit_mw: 200",
            "import_limit_mw: yes",
            r"grid.import_limit_mw: Input should be a valid number \(found True\)",
        ),
        # non-finite and absurd magnitudes, named at validation
        (
            "import_limit_mw: 200",
            "import_limit_mw: .inf",
            r"grid.import_limit_mw: Input should be a finite number \(found inf\)",
        ),
        (
            "import_limit_mw: 200",
            "import_limit_mw: .nan",
            r"grid.import_limit_mw: Input should be a finite number \(found nan\)",
        ),
        (
            "import_limit_mw: 200",
            "import_limit_mw: 1e308",
            r"grid.import_limit_mw: Input should be less than or equal to 10000 \(found 1e\+308\)",
        ),
        (
            "containers: 40",
            "containers: 1e30",
            r"mining.fleets\[0\].containers: Input should be a valid integer \(found 1e\+30\)",
        ),
        (
            "containers: 40",
            "containers: 100000000000000000000",
            r"containers: Input should be less than or equal to 10000",
        ),
        (
            "container_mw: 1.9",
            "container_mw: 1.9e9",
            r"container_mw: Input should be less than or equal to 100 ",
        ),
        (
            "energy_mwh: 100",
            "energy_mwh: 1e400",
            r"battery.energy_mwh: Input should be a finite number \(found inf\)",
        ),
        ("it_load_mw: 50", "it_load_mw: -50", r"hpc.it_load_mw: Input should be greater than 0"),
        (
            "usd_per_kw_month: 130",
            "usd_per_kw_month: 130000000",
            r"hpc.contract.usd_per_kw_month: Input should be less than or equal to 10000",
        ),
        (
            "min_off_minutes: 15",
            "min_off_minutes: 1e7",
            r"min_off_minutes: Input should be less than or equal to 10080",
        ),
        # a quoted number is text
        (
            "import_limit_mw: 200",
            'import_limit_mw: "200"',
            r"grid.import_limit_mw: Input should be a valid number \(found '200'\)",
        ),
        # the site's name is one printable line
        (
            "name: West Texas hybrid campus (hourly)",
            'name: "West \\e[31mTexas"',
            r"name: must not contain control characters .*\\x1b",
        ),
        (
            "settlement_point: HB_WEST",
            'settlement_point: "HB_WEST\\nHB_NORTH"',
            r"market.settlement_point: must not contain control characters",
        ),
        # 40 000 containers of 1.9 MW each are within each field's bound, not together
        (
            "containers: 40",
            "containers: 9000",
            r"mining.fleets\[0\]: containers x container_mw = 17,100 MW exceeds the plausible 10,000 MW",
        ),
    ],
    ids=lambda value: value if len(value) < 30 else None,
)
def test_absurd_numbers_and_names_are_refused_naming_the_field(
    tmp_path: Path, old: str, new: str, message: str
):
    assert re.search(message, refused(damaged(tmp_path, old, new)))


def test_a_number_written_1e3_is_the_number_yaml_1_2_says(tmp_path: Path):
    site = load_site(damaged(tmp_path, "import_limit_mw: 200", "import_limit_mw: 2e2"))
    assert site.grid is not None and site.grid.import_limit_mw == 200.0


def test_a_duplicate_key_names_the_key_and_both_lines(tmp_path: Path):
    # line 28 of the example holds the s21 fleet's containers: 40
    path = damaged(tmp_path, "containers: 40\n", "containers: 40\n      containers: 4\n")
    assert refused(path).endswith(
        "line 29 column 7: not valid YAML: duplicate key 'containers' (first on line 28); give "
        "each key once"
    )
    flow = tmp_path / "flow.yaml"
    flow.write_text(HOURLY.replace("HB_WEST}", "HB_WEST, iso: ERCOT}"))
    assert "line 8 column 49: not valid YAML: duplicate key 'iso' (first on line 8)" in refused(
        flow
    )
    top = tmp_path / "top.yaml"
    top.write_text(HOURLY + "\ninterval_minutes: 15\n")
    assert (
        "line 52 column 1: not valid YAML: duplicate key 'interval_minutes' (first on line 9)"
        in refused(top)
    )


def test_merge_keys_may_still_be_overridden(tmp_path: Path):
    path = tmp_path / "merged.yaml"
    path.write_text(
        "name: merged\ntimezone: America/Chicago\nmarket: {settlement_point: HB_WEST}\n"
        "grid: {import_limit_mw: 10}\nmining:\n  fleets:\n"
        "    - &s19 {name: a, containers: 2, container_mw: 1.0, efficiency_j_per_th: 25.0}\n"
        "    - {<<: *s19, name: b, containers: 3}\n"
    )
    assert [(f.name, f.containers) for f in load_site(path).fleets] == [("a", 2), ("b", 3)]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty (blank or only comments)"),
        (b"# a site file\n\n   # nothing else\n", "the file is empty (blank or only comments)"),
        (b"name: Caf\xe9 campus\n", "not UTF-8 text (byte 0xe9 at offset 9); save the site file as UTF-8"),
        ("name: x\n".encode("utf-16"), "not UTF-8 text (byte 0xff at offset 0)"),
        (b"a: " + b"[" * 20_000 + b"]" * 20_000 + b"\n", f"line 1 column {MAX_DEPTH + 3}: not valid YAML: nested more than {MAX_DEPTH} levels deep"),
        (b"{" * 20_000, f"not valid YAML: nested more than {MAX_DEPTH} levels deep"),
        (b"name: x\nhpc:\n" + b"".join(b"  " * i + b"k:\n" for i in range(1, 400)), f"nested more than {MAX_DEPTH} levels deep"),
        (b"name: nothing\ntimezone: America/Chicago\n", "nothing to dispatch: the site has no hpc, mining containers, battery, generators or renewables"),
        (b"- name: a list\n", "expected a mapping of site fields, found list"),
        (b"just text\n", "expected a mapping of site fields, found str"),
        (b"name: x\x00\n", "not valid YAML"),
        (b"name: [unclosed\n", "not valid YAML: "),
        (b"name: !!python/object:os.system x\n", "not valid YAML: could not determine a constructor"),
        (b"x" * (1 << 20) + b"\n", "larger than 1,048,576 bytes; is it a site file?"),
    ],
    ids=[
        "empty", "comments", "latin-1", "utf-16", "20000-deep-flow", "unclosed-deep", "deep-block",
        "nothing-to-dispatch", "list", "scalar", "nul", "unclosed", "python-tag", "huge",
    ],
)  # fmt: skip
def test_unreadable_files_are_one_line_each(tmp_path: Path, content: bytes, message: str):
    path = tmp_path / "site.yaml"
    path.write_bytes(content)
    assert message in refused(path)


def test_a_byte_order_mark_is_fine(tmp_path: Path):
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + HOURLY.encode())
    assert load_site(path).name == load_site(SITES / "west_texas_hybrid_hourly.yaml").name


def test_alias_bombs_are_refused_quickly(tmp_path: Path):
    lines = ["name: lol", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    path = tmp_path / "laughs.yaml"
    path.write_text("\n".join([*lines, "generators: *a9"]) + "\n")
    started = time.perf_counter()
    with pytest.raises(InputError, match=r"generators\[0\]: Input should be a valid dictionary"):
        load_site(path)
    assert time.perf_counter() - started < 20  # 10^10 leaves are never expanded


def test_batch_tasks_read_site_files_the_same_strict_way(tmp_path: Path):
    path = damaged(tmp_path, "containers: 40\n", "containers: 40\n      containers: 4\n")
    with pytest.raises(InputError, match="duplicate key 'containers'"):
        plan_tasks([path], "2023-01-01", "2023-01-01")


def test_scenario_files_refuse_duplicates_and_non_finite_factors(tmp_path: Path):
    from dispatch.sizing.scenarios import load_scenarios

    path = tmp_path / "scenarios.yaml"
    path.write_text("scenarios:\n  - {name: a, hashprice_factor: 2, hashprice_factor: 3}\n")
    with pytest.raises(InputError, match="duplicate key 'hashprice_factor'"):
        load_scenarios(path)
    path.write_text("scenarios:\n  - {name: a, hashprice_factor: .inf}\n")
    with pytest.raises(InputError, match="hashprice_factor: Input should be a finite number"):
        load_scenarios(path)
