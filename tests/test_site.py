"""Site files: the examples validate; every kind of mistake gets one message naming the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from conftest import SITES

from dispatch import InputError, load_site
from dispatch.site import parse_site, site_json_schema

BASE = yaml.safe_load((SITES / "west_texas_hybrid.yaml").read_text())


def with_change(path: str, value: object) -> dict:
    """BASE with one dotted path (list items by index) set to ``value``."""
    data = json.loads(json.dumps(BASE))
    *parents, last = path.split(".")
    node = data
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return data


@pytest.mark.parametrize("path", sorted(SITES.glob("*.yaml")), ids=lambda p: p.name)
def test_example_sites_validate(path: Path):
    assert load_site(path).name


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("grid.import_limt_mw", 10, "grid.import_limt_mw: unknown key"),
        (
            "grid.import_limit_mw",
            -5,
            "grid.import_limit_mw: Input should be greater than or equal to 0 (found -5)",
        ),
        ("hpc.pue", 0.9, "hpc.pue: Input should be greater than or equal to 1 (found 0.9)"),
        ("mining.pool_fee_fraction", 1.5, "mining.pool_fee_fraction: Input should be less than 1"),
        (
            "battery.min_soc_fraction",
            -0.1,
            "battery.min_soc_fraction: Input should be greater than or equal to 0",
        ),
        (
            "mining.fleets.0.containers",
            2.5,
            "mining.fleets[0].containers: Input should be a valid integer",
        ),
        ("mining.fleets.0.power_range_fraction", [1.1, 0.6], "expected 0 < low <= high <= 2"),
        (
            "mining.fleets.1.name",
            "s21",
            "names of fleets, generators and renewables must be unique",
        ),
        ("interval_minutes", 10, "interval_minutes: Input should be 5, 15, 30 or 60 (found 10)"),
        ("timezone", "America/Houston", "unknown IANA time zone 'America/Houston'"),
        ("hpc.it_load_mw", 400, "the HPC load could never be served"),
        (
            "hpc.ride_through_minutes",
            120,
            "hpc.ride_through_minutes needs 125 MWh of battery energy",
        ),
    ],
)
def test_mistakes_name_the_field(path, value, message):
    with pytest.raises(InputError) as caught:
        parse_site(with_change(path, value), "site.yaml")
    assert message in str(caught.value)
    assert str(caught.value).startswith("site.yaml: ")


def test_non_concave_efficiency_curve_is_refused():
    data = with_change("mining.fleets.0.efficiency_curve", [[0.6, 15.2], [1.0, 17.5], [1.1, 17.0]])
    with pytest.raises(InputError, match="concave hashrate-vs-power"):
        parse_site(data, "site.yaml")


def test_gpu_cloud_must_match_the_it_load():
    contract = {"kind": "gpu_cloud", "usd_per_gpu_hour": 2.1, "gpu_count": 1000, "kw_per_gpu": 1.4}
    with pytest.raises(
        InputError, match=r"gpu_count x kw_per_gpu = 1.4 MW must equal it_load_mw = 50"
    ):
        parse_site(with_change("hpc.contract", contract), "site.yaml")


def test_several_problems_are_reported_together():
    data = with_change("hpc.pue", 0.5)
    data["battery"]["power_mw"] = -1
    with pytest.raises(InputError) as caught:
        parse_site(data, "site.yaml")
    assert "hpc.pue" in str(caught.value) and "battery.power_mw" in str(caught.value)


def test_missing_and_unreadable_files(tmp_path: Path):
    with pytest.raises(InputError, match="cannot read site file"):
        load_site(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    with pytest.raises(InputError, match="not valid YAML"):
        load_site(bad)


def test_json_schema_names_units_and_forbids_unknown_keys():
    schema = site_json_schema()
    assert schema["additionalProperties"] is False
    grid = schema["$defs"]["Grid"]
    assert "import_limit_mw" in grid["properties"] and grid["additionalProperties"] is False
