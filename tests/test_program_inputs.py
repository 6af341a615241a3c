"""Bad program inputs: one clear message naming the field (exit 2 from the CLI)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import SITES, fleet, make_inputs, make_site, mining
from test_site import with_change
from typer.testing import CliRunner

from dispatch import InputError, load_inputs, load_site
from dispatch.cli import app
from dispatch.site import parse_site

runner = CliRunner()


def test_offer_for_a_product_without_prices_names_the_offer():
    site = make_site(
        grid={"import_limit_mw": 10},
        mining=mining(fleet()),
        programs={
            "ancillary": [
                {"product": "RRS", "max_mw": 5},
                {"product": "REGUP", "max_mw": 5, "expected_deployment_fraction": 0.1},
            ]
        },
    )
    with pytest.raises(InputError) as caught:
        make_inputs(site, [20, 20], 36.0, rrs_usd_per_mw_h=[5, 5])
    assert str(caught.value) == (
        "programs.ancillary[1].product: REGUP is offered but the inputs have no "
        "regup_usd_per_mw_h series"
    )


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (
            "grid.ppa",
            {"volume_mw": 250, "price_usd_per_mwh": 30},
            "grid.ppa.volume_mw = 250 MW exceeds grid.import_limit_mw = 200 MW with "
            "export_limit_mw = 0",
        ),
        (
            "grid.coincident_peak",
            {"usd_per_mw_year": 60000, "peaks_per_year": 12},
            "peaks_per_year = 12 needs one month per peak",
        ),
        (
            "programs.ancillary.0.product",
            "REGDN",
            "programs.ancillary[0].product: Input should be 'REGUP', 'RRS', 'ECRS' or 'NSPIN'",
        ),
        (
            "programs.ancillary.1.product",
            "RRS",
            "ancillary products must not repeat",
        ),
        (
            "heat_reuse",
            {"recovery_fraction": 0.8, "price_usd_per_mwh_thermal": 20, "max_mw": 4},
            "heat_reuse.max_mw: unknown key",
        ),
    ],
)
def test_program_mistakes_name_the_field(path, value, message):
    data = with_change("grid.export_limit_mw", 0)
    data["grid"]["ppa"] = None
    data["heat_reuse"] = None
    *parents, last = path.split(".")
    node = data
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    node[int(last) if last.isdigit() else last] = value
    with pytest.raises(InputError) as caught:
        parse_site(data, "site.yaml")
    assert message in str(caught.value)


def test_dr_event_checks():
    event = {
        "name": "e1",
        "start": "2024-06-03T02:10:00-05:00",
        "end": "2024-06-03T03:00:00-05:00",
        "committed_mw": 1,
        "usd_per_mwh": 100,
    }
    with pytest.raises(InputError, match=r"programs.events\[0\].start: .* not on an interval"):
        make_site(grid={"import_limit_mw": 5}, mining=mining(fleet()), programs={"events": [event]})
    fixed = {**event, "start": "2024-06-03T02:00:00-05:00", "baseline": "fixed"}
    with pytest.raises(
        InputError, match=r"programs.events\[0\]: baseline: fixed needs baseline_mw"
    ):
        make_site(grid={"import_limit_mw": 5}, mining=mining(fleet()), programs={"events": [fixed]})
    naive = {**event, "start": "2024-06-03T02:00:00"}
    with pytest.raises(InputError, match=r"programs.events\[0\].start: Input should have timezone"):
        make_site(grid={"import_limit_mw": 5}, mining=mining(fleet()), programs={"events": [naive]})


def test_coincident_peak_month_outside_the_bundled_load_needs_a_weights_file(tmp_path: Path):
    site = make_site(
        grid={"import_limit_mw": 5, "coincident_peak": {"usd_per_mw_year": 60000}},
        mining=mining(fleet()),
    )
    with pytest.raises(InputError, match=r"grid\.coincident_peak: no historical peaks"):
        load_inputs(site, "2021-07-01")
    assert (load_inputs(site, "2021-02-01").frame["coincident_peak_weight"] == 0).all()
    # a weights file coarser than the site needs --fill, like every series; held, an hourly
    # probability is split evenly over a 15-minute site's quarter-hours
    quarter = site.model_copy(update={"interval_minutes": 15})
    hours = pd.date_range("2021-07-01T05:00Z", periods=24, freq="h")
    weights = tmp_path / "cp.csv"
    pd.DataFrame(
        {
            "interval_start": hours.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "coincident_peak_weight": [0.0] * 17 + [0.4] + [0.0] * 6,
        }
    ).to_csv(weights, index=False)
    with pytest.raises(
        InputError,
        match=r"coincident_peak_weight steps by 1 h, coarser than the site's 15 min intervals; "
        "choose how to fill them",
    ):
        load_inputs(quarter, "2021-07-01", peaks=weights)
    frame = load_inputs(quarter, "2021-07-01", peaks=weights, fill="hold").frame
    assert frame["coincident_peak_weight"].sum() == pytest.approx(0.4)
    assert frame["coincident_peak_weight"].max() == pytest.approx(0.1)


def test_cli_exits_2_for_ecrs_before_launch(tmp_path: Path):
    result = runner.invoke(
        app, ["run", str(SITES / "west_texas_hybrid.yaml"), "--day", "2023-05-01"]
    )
    assert result.exit_code == 2
    assert "programs.ancillary[1].product: ECRS is offered but has no price" in result.output
    assert "Traceback" not in result.output


def test_cli_runs_the_ppa_site_with_an_ancillary_price_file(tmp_path: Path):
    site = tmp_path / "site.yaml"
    site.write_text(
        (SITES / "ppa_power_credits.yaml").read_text()
        + "programs:\n  ancillary:\n"
        + "    - {product: REGUP, max_mw: 20, expected_deployment_fraction: 0.1}\n"
    )
    hours = pd.date_range("2023-05-09T05:00Z", periods=24, freq="h")
    prices = tmp_path / "as.csv"
    pd.DataFrame(
        {"interval_start": hours.strftime("%Y-%m-%dT%H:%M:%SZ"), "regup_usd_per_mw_h": 12.5}
    ).to_csv(prices, index=False)
    result = runner.invoke(
        app, ["run", str(site), "--day", "2023-05-09", "--ancillary", str(prices)]
    )
    assert result.exit_code == 0, result.output
    assert "ancillary_regup" in result.output


def test_an_ercot_mcpc_report_feeds_the_ancillary_offers(tmp_path: Path):
    from real_files import ercot_mcpc

    site = load_site(SITES / "west_texas_hybrid.yaml")
    report = tmp_path / "DAMASMCPC.csv"
    ercot_mcpc("2023-08-17").to_csv(report, index=False)
    from_report = load_inputs(site, "2023-08-17", ancillary=report)
    bundled = load_inputs(site, "2023-08-17")
    for column in ("rrs_usd_per_mw_h", "ecrs_usd_per_mw_h", "nspin_usd_per_mw_h"):
        assert from_report.frame[column].tolist() == bundled.frame[column].tolist()
    assert from_report.sources["rrs_usd_per_mw_h"] != bundled.sources["rrs_usd_per_mw_h"]
