"""`dispatch run --report`: one self-contained HTML page with the three charts."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import SITES
from typer.testing import CliRunner

from dispatch.cli import app

runner = CliRunner()


def test_report_embeds_stack_price_and_stream_charts(tmp_path: Path):
    result = runner.invoke(
        app, ["run", str(SITES / "west_texas_hybrid.yaml"), "--out", str(tmp_path), "--report"]
    )
    assert result.exit_code == 0, result.output
    page = (tmp_path / "report.html").read_text()
    assert len(re.findall(r'src="data:image/png;base64,[A-Za-z0-9+/=]{1000,}"', page)) == 3
    assert "mining_hashprice" in page and "net_margin_usd" in page


def test_report_without_out_is_a_user_error():
    result = runner.invoke(app, ["run", str(SITES / "hpc_only.yaml"), "--report"])
    assert result.exit_code == 2
    assert "--report: needs --out DIR" in result.output
