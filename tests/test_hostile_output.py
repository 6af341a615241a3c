"""Terminal output: what a user typed (a site name, a file name, a key in a site file) prints as
literal text, never as Rich markup, a hyperlink or a raw control sequence; tables in a log keep
every column whole."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from conftest import SITES
from rich.table import Table
from test_batch import TINY_SITE
from typer.testing import CliRunner

from dispatch.cli import app
from dispatch.cli.common import literal, plain_console, show

runner = CliRunner()
MARKUP_NAME = "campus [/] [bold]x[/bold] [link=https://example.com]click[/link] :warning:"


def test_literal_escapes_control_characters_and_keeps_lines():
    assert literal("a\x1b[31mred\x07\x9b2J") == "a\\x1b[31mred\\x07\\x9b2J"
    assert literal("two\nlines\tand a tab") == "two\nlines\tand a tab"


def test_a_site_name_with_markup_prints_as_typed(tmp_path: Path):
    path = tmp_path / "site.yaml"
    path.write_text(
        (SITES / "west_texas_hybrid_hourly.yaml")
        .read_text()
        .replace("name: West Texas hybrid campus (hourly)", f"name: '{MARKUP_NAME}'")
    )
    validated = runner.invoke(app, ["validate", str(path)])
    assert validated.exit_code == 0, validated.output
    assert f"valid site '{MARKUP_NAME}'" in validated.output
    ran = runner.invoke(app, ["run", str(path), "--day", "2023-08-17"])
    assert ran.exit_code == 0, ran.output
    title = " ".join(ran.output.split("┏")[0].split())  # the title, as wrapped over the table
    assert title == f"{MARKUP_NAME}: streams, 2023-08-17"
    assert "\x1b" not in ran.output  # no style, no hyperlink (OSC 8) reaches a log


def test_a_batch_of_a_site_named_with_markup_finishes_and_resumes(tmp_path: Path):
    site = tmp_path / "[red]tiny[x].yaml"
    site.write_text(TINY_SITE.replace("name: tiny batch site", "name: 'campus [/]'"))
    arguments = [
        "batch", str(site), "--start", "2023-01-30", "--end", "2023-01-31",
        "--out", str(tmp_path / "out"), "--workers", "1",
    ]  # fmt: skip
    first = runner.invoke(app, arguments)
    assert first.exit_code == 0, first.output
    title = f"campus [/] ({site}): ercot_dam_spp HB_WEST"  # wrapped over the narrow table
    assert "".join(title.split()) in "".join(first.output.split())
    resumed = runner.invoke(app, [*arguments, "--resume"])
    assert resumed.exit_code == 0, resumed.output
    assert "1 skipped (finished earlier)" in resumed.output


@pytest.mark.parametrize("command", ["validate", "run"])
def test_control_characters_in_a_file_name_are_shown_escaped(tmp_path: Path, command: str):
    path = tmp_path / "evil\x1b[2J\x1b]8;;https://example.com\x07name.yaml"
    result = runner.invoke(app, [command, str(path)])
    assert result.exit_code == 2
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert f"{literal(path)}: cannot read site file" in result.output
    assert "evil\\x1b[2J\\x1b]8;;https:/example.com\\x07name.yaml" in literal(path)


def test_a_key_with_control_characters_in_a_site_file_is_shown_escaped(tmp_path: Path):
    path = tmp_path / "site.yaml"
    path.write_text(
        (SITES / "hpc_only.yaml").read_text() + '"\\e[31mgrid\\e[0m": {import_limit_mw: 1}\n'
    )
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert "\x1b" not in result.output
    assert "\\x1b[31mgrid\\x1b[0m: unknown key" in result.output


def test_tables_in_a_log_are_not_cut_to_80_columns():
    # a summary table of a batch over 2021-2025: a label column and five years of money
    table = Table(title="campus (sites/campus.yaml): ercot_dam_spp HB_WEST")
    table.add_column("")
    years = [str(year) for year in range(2021, 2026)]
    for year in years:
        table.add_column(year, justify="right")
    table.add_row("mining_hashprice USD", *["123,456,789,012"] * 5)
    log = io.StringIO()
    show(plain_console(file=log), table)  # a file is not a terminal
    lines = log.getvalue().splitlines()
    assert max(len(line) for line in lines) > 80 and "…" not in log.getvalue()
    assert sum("123,456,789,012" in line for line in lines) == 1
    assert all(year in next(line for line in lines if "2021" in line) for year in years)
    on_terminal = io.StringIO()
    show(plain_console(file=on_terminal, force_terminal=True, width=80), table)
    visible = re.sub(r"\x1b\[[0-9;]*m", "", on_terminal.getvalue())
    assert max(len(line) for line in visible.splitlines()) <= 80  # a terminal: its width


def test_dispatch_data_in_a_log_keeps_whole_lines():
    result = runner.invoke(app, ["data"])
    assert result.exit_code == 0
    assert "…" not in result.output
    assert "ERCOT day-ahead settlement point prices, 7 hubs + 8 load zones" in result.output
