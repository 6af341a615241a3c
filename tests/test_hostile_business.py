"""Hostile business terms (``sizing.colocation``, ``gpu_cloud``, ``schedule``, ``financing``,
``uncertainty``): each is refused by ``dispatch validate`` with one line naming the file and the
field, exit 2, never a traceback, and never handed to the Monte Carlo.

Every damaged file is a real example (``sites/gpu_cloud_campus.yaml`` or
``sites/retrofit_campus.yaml``) with one edit, as in test_hostile_sites.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import SITES
from test_hostile_sites import refused

GPU = (SITES / "gpu_cloud_campus.yaml").read_text()
RETROFIT = (SITES / "retrofit_campus.yaml").read_text()
UNCERTAINTY = "    paths: 1000\n"


def damaged(tmp_path: Path, text: str, old: str, new: str) -> Path:
    assert old in text, old
    path = tmp_path / "site.yaml"
    path.write_text(text.replace(old, new, 1))
    return path


GPU_CASES = [
    # booleans and quoted numbers are not money; absurd magnitudes are named at validation
    (
        "gpu_capex_usd_per_gpu: 40000",
        "gpu_capex_usd_per_gpu: true",
        r"sizing.gpu_cloud.gpu_capex_usd_per_gpu: Input should be a valid number \(found True\)",
    ),
    (
        "gpu_capex_usd_per_gpu: 40000",
        "gpu_capex_usd_per_gpu: '40000'",
        r"sizing.gpu_cloud.gpu_capex_usd_per_gpu: Input should be a valid number \(found '40000'\)",
    ),
    (
        "gpu_capex_usd_per_gpu: 40000",
        "gpu_capex_usd_per_gpu: 1e30",
        r"sizing.gpu_cloud.gpu_capex_usd_per_gpu: Input should be less than or equal to 1000000 "
        r"\(found 1e\+30\)",
    ),
    (
        "gpu_capex_usd_per_gpu: 40000",
        "gpu_capex_usd_per_it_mw: 1e300",
        r"sizing.gpu_cloud.gpu_capex_usd_per_it_mw: Input should be less than or equal to "
        r"1000000000 \(found 1e\+300\)",
    ),
    (
        "opex_usd_per_gpu_hour: 0.1",
        "opex_usd_per_gpu_hour: .inf",
        r"sizing.gpu_cloud.opex_usd_per_gpu_hour: Input should be a finite number \(found inf\)",
    ),
    (
        "opex_usd_per_gpu_hour: 0.1",
        "opex_usd_per_gpu_hour: 5000",
        r"sizing.gpu_cloud.opex_usd_per_gpu_hour: Input should be less than or equal to 1000 "
        r"\(found 5000\)",
    ),
    (
        "refresh_years: 5",
        "refresh_years: 5.5",
        r"sizing.gpu_cloud.refresh_years: Input should be a valid integer \(found 5.5\)",
    ),
    (
        "utilization_fraction: 0.7",
        "utilization_fraction: .nan",
        r"sizing.gpu_cloud.utilization_fraction: Input should be a finite number \(found nan\)",
    ),
    # schedule and financing
    (
        "mining_months: 3}",
        "mining_months: -1}",
        r"sizing.schedule.mining_months: Input should be greater than or equal to 0 \(found -1\)",
    ),
    (
        "mining_months: 3}",
        "mining_months: 1e9}",
        r"sizing.schedule.mining_months: Input should be a valid integer \(found 1000000000.0\)",
    ),
    (
        "debt_rate_fraction: 0.08",
        "debt_rate_fraction: 1",
        r"sizing.financing.debt_rate_fraction: Input should be less than 1 \(found 1\)",
    ),
    (
        "debt_tenor_years: 5",
        "debt_tenor_years: true",
        r"sizing.financing.debt_tenor_years: Input should be a valid integer \(found True\)",
    ),
    # the Monte Carlo's options and ranges
    (
        "paths: 1000",
        "paths: 1000000000",
        r"sizing.uncertainty.paths: Input should be less than or equal to 100000 "
        r"\(found 1000000000\)",
    ),
    (
        UNCERTAINTY,
        UNCERTAINTY + "    seed: 100000000000000000000\n",
        r"sizing.uncertainty.seed: Input should be less than or equal to 9223372036854775807",
    ),
    (
        UNCERTAINTY,
        UNCERTAINTY + "    price_years: [2021, 1850]\n",
        r"sizing.uncertainty.price_years\[1\]: Input should be greater than or equal to 2000 "
        r"\(found 1850\)",
    ),
    (
        UNCERTAINTY,
        UNCERTAINTY + "    halving_dates: [tomorrow]\n",
        r"sizing.uncertainty.halving_dates\[0\]: Input should be a valid date \(found 'tomorrow'\)",
    ),
    (
        "gpu_utilization_fraction: [0.55, 0.85]",
        "gpu_utilization_fraction: [0.55, .nan]",
        r"sizing.uncertainty.gpu_utilization_fraction\[1\]: Input should be a finite number "
        r"\(found nan\)",
    ),
    (
        "gpu_utilization_fraction: [0.55, 0.85]",
        "gpu_utilization_fraction: [0.55, '0.85']",
        r"sizing.uncertainty.gpu_utilization_fraction\[1\]: Input should be a valid number",
    ),
    (
        "gpu_utilization_fraction: [0.55, 0.85]",
        "gpu_utilization_fraction: [0.55]",
        r"sizing.uncertainty.gpu_utilization_fraction: expected \[low, high\], "
        r"found 1 numbers",
    ),
    (
        "gpu_utilization_fraction: [0.55, 0.85]",
        "gpu_utilization_fraction: [0.85, 0.55]",
        r"sizing.uncertainty: gpu_utilization_fraction: expected \[low, high\] with "
        r"0 <= low <= high <= 1, found \[0.85, 0.55\]",
    ),
    (
        "gpu_utilization_fraction: [0.55, 0.85]",
        "gpu_capex_factor: [0.5, 1e30]",
        r"sizing.uncertainty: gpu_capex_factor: expected \[low, high\] with 0 <= low <= high "
        r"<= 10, found \[0.5, 1e\+30\]",
    ),
    (
        UNCERTAINTY,
        UNCERTAINTY + "    hpc_new_build_capex_usd_per_mw: [8.0e6, 1.0e300]\n",
        r"sizing.uncertainty: hpc_new_build_capex_usd_per_mw: expected \[low, high\] with "
        r"0 <= low <= high <= 1e\+09",
    ),
]


@pytest.mark.parametrize(("old", "new", "message"), GPU_CASES)
def test_absurd_gpu_cloud_schedule_financing_and_uncertainty_terms_are_refused(
    tmp_path: Path, old: str, new: str, message: str
):
    line = refused(damaged(tmp_path, GPU, old, new))
    assert re.search(message, line), line


COLOCATION_CASES = [
    (
        "ramp_it_mw_per_month: 5",
        "ramp_it_mw_per_month: 1e308",
        r"sizing.colocation.ramp_it_mw_per_month: Input should be less than or equal to 10000",
    ),
    (
        "escalator_fraction_per_year: 0.03",
        "escalator_fraction_per_year: 3",
        r"sizing.colocation.escalator_fraction_per_year: Input should be less than or equal to 1 "
        r"\(found 3\)",
    ),
    (
        "term_years: 10",
        "term_years: 0",
        r"sizing.colocation.term_years: Input should be greater than or equal to 1 \(found 0\)",
    ),
    (
        "relet_delay_months: 9",
        "relet_delay_months: 100000",
        r"sizing.colocation.relet_delay_months: Input should be less than or equal to 600",
    ),
    (
        "exit_probability_per_year: 0.05",
        "exit_probability_per_year: no",
        r"sizing.colocation.exit_probability_per_year: Input should be a valid number "
        r"\(found False\)",
    ),
]


@pytest.mark.parametrize(("old", "new", "message"), COLOCATION_CASES)
def test_absurd_colocation_terms_are_refused(tmp_path: Path, old: str, new: str, message: str):
    line = refused(damaged(tmp_path, RETROFIT, old, new))
    assert re.search(message, line), line


def test_the_examples_are_valid_as_shipped(tmp_path: Path):
    """The edits above damage otherwise valid files (an unedited copy is accepted)."""
    from typer.testing import CliRunner

    from dispatch.cli import app

    for text in (GPU, RETROFIT):
        path = tmp_path / "site.yaml"
        path.write_text(text)
        assert CliRunner().invoke(app, ["validate", str(path)]).exit_code == 0


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"paths": "100"}, "paths: expected a whole number of paths, found str '100'"),
        ({"paths": True}, "paths: expected a whole number of paths, found bool True"),
        ({"paths": 100, "seed": 1.5}, "seed: expected a whole number, found float 1.5"),
        ({"progress": "print"}, "progress: expected a callable receiving a Step, found str"),
    ],
)
def test_the_api_refuses_monte_carlo_options_of_the_wrong_type(arguments, message):
    from dispatch import size
    from dispatch.errors import ArgumentError

    with pytest.raises(ArgumentError, match=re.escape(message)):
        size(SITES / "retrofit_campus.yaml", "2023", **arguments)
