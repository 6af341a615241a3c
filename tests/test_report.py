"""Reports (issue 16): formatted numbers, a local-time axis that draws DST days whole, and charts
whose data say what the model holds (the ride-through floor, the backing of every award, each
fleet's breakeven), checked against values derived by hand from the site file."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import SITES
from typer.testing import CliRunner

from dispatch import columns, load_inputs, load_site, solve
from dispatch.cli import app
from dispatch.model.extract import coupling_columns
from dispatch.report import fmt
from dispatch.report.run import run_page
from dispatch.report.timeaxis import local_axis
from dispatch.report.timeline import curtailed_mining_mw, timeline_figure
from dispatch.solver import Dispatcher

runner = CliRunner()
CAMPUS = SITES / "west_texas_hybrid.yaml"


# --- numbers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "decimals", "text"),
    [
        (-70019.53260884002, 0, "\u221270,020"),
        (-0.0, 2, "0.00"),
        (-0.004, 2, "0.00"),  # rounds to zero: no sign
        (1234567.891, 2, "1,234,567.89"),
        (float("nan"), 2, "\u2014"),
        (None, 0, "\u2014"),
    ],
)
def test_numbers_have_separators_and_never_print_nan_or_negative_zero(value, decimals, text):
    assert fmt.number(value, decimals) == text


def test_money_and_shares_name_their_unit():
    assert fmt.usd_compact(-70019.53) == "\u221270,020 USD"
    assert fmt.usd_compact(182_578_905.0) == "182.58 M USD"
    assert fmt.usd_per_mwh(float("nan")) == "\u2014"  # no basis: no unit either
    assert fmt.percent(0.99995, 3) == "99.995 %"
    assert fmt.clean([-0.0, -1e-12, 2.5]).tolist() == [0.0, 0.0, 2.5]
    assert str(fmt.clean([-1e-12])[0]) == "0.0"


# --- the local-time axis ------------------------------------------------------------------------


def _day(day: str, minutes: int = 15) -> pd.DatetimeIndex:
    start = pd.Timestamp(day, tz="America/Chicago")
    end = (pd.Timestamp(day) + pd.Timedelta(days=1)).tz_localize("America/Chicago")
    return pd.date_range(start.tz_convert("UTC"), end.tz_convert("UTC"), freq=f"{minutes}min",
                         inclusive="left").tz_convert("America/Chicago")  # fmt: skip


def test_a_fall_back_day_is_drawn_with_its_25_hours():
    axis = local_axis(_day("2023-11-05"), "America/Chicago")
    assert len(axis.labels) == len(set(axis.labels)) == 100  # the repeated hour is not folded
    assert "Sun 05 Nov 01:15 CDT" in axis.labels and "Sun 05 Nov 01:15 CST" in axis.labels
    assert "01:00 CST" in axis.ticktext  # the clock change is a tick of its own
    assert "05 Nov has 25 hours" in axis.title
    assert set(axis.tickvals) <= set(axis.labels)


def test_a_spring_forward_day_is_drawn_with_its_23_hours():
    axis = local_axis(_day("2024-03-10"), "America/Chicago")
    assert len(axis.labels) == 92
    assert not any(" 02:" in label for label in axis.labels)  # the skipped hour does not exist
    assert "03:00 CDT" in axis.ticktext
    assert "10 Mar has 23 hours" in axis.title


def test_an_ordinary_day_names_its_zone_and_offset():
    axis = local_axis(_day("2023-08-17", 60), "America/Chicago")
    assert axis.title == "local time, America/Chicago (CDT, UTC\u221205:00)"
    assert axis.ticktext[0] == "00:00<br>Thu 17 Aug"
    assert len(axis.tickvals) == 12  # every second hour


# --- the run page's data ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def campus():
    """The campus on 2023-08-17, with what its couplings (H2, A1) hold."""
    site = load_site(CAMPUS)
    dispatcher = Dispatcher(site)
    result = dispatcher.solve(load_inputs(site, "2023-08-17"))
    assert dispatcher.built is not None
    return site, result, coupling_columns(dispatcher.built)


def _traces(figure, name: str):
    return [t for t in figure.data if t.name == name]


def test_the_ride_through_floor_is_min_soc_plus_hpc_load_times_ride_through(campus):
    site, result, couplings = campus
    figure = timeline_figure(result, site, couplings)
    (floor,) = _traces(figure, "ride-through floor (H2)")
    # by hand from the site file: 5 % of 100 MWh, plus 50 MW IT x PUE 1.25 for 10 minutes
    assert np.allclose(floor.y, 0.05 * 100 + 50 * 1.25 * 10 / 60)
    (soc,) = _traces(figure, "state of charge")
    assert (np.asarray(soc.y) >= np.asarray(floor.y) - 1e-6).all()


def test_every_award_is_split_into_what_the_battery_and_the_rest_back(campus):
    site, result, couplings = campus
    schedule = result.schedule.join(pd.DataFrame(couplings, index=result.schedule.index))
    figure = timeline_figure(result, site, couplings)
    battery_headroom = schedule[columns.reserve_headroom("battery")]
    free = sum(schedule[columns.reserve_headroom(f"mining_{f.name}")] for f in site.fleets)
    backed_total = 0.0
    for offer in site.ancillary_offers:
        (stored,) = _traces(figure, f"{offer.product} backed by the battery")
        (other,) = _traces(figure, f"{offer.product} backed by other flexibility")
        offered = schedule[columns.ancillary(offer.product, "offer_mw")].to_numpy()
        assert np.allclose(np.asarray(stored.y) + np.asarray(other.y), offered, atol=1e-5)
        assert (np.asarray(other.y) >= -1e-5).all()  # A1: the battery backs part of this offer
        backed_total = backed_total + np.asarray(stored.y)
    # A1 read back: the battery backs no more than its headroom, and the rest of the awards fit
    # in the running mining load (every container can trip)
    assert (backed_total <= battery_headroom.to_numpy() + 1e-5).all()
    awarded = sum(schedule[columns.ancillary(o.product, "offer_mw")] for o in site.ancillary_offers)
    assert ((awarded - backed_total) <= free + 1e-5).all()
    assert backed_total.max() > 1  # the evening's ECRS is battery-backed: the split is real
    # the stored energy the awards hold above the floor, by hand (A2): at each quarter-hour τ,
    # the most that a full deployment of what the battery carries, started in the first quarter
    # s of an hour whose window still runs at τ, has drawn by τ through the discharge
    # efficiency sqrt(0.88): Σ_a 0.25 h × min(τ - s + 1, K_a) × backed_a / sqrt(0.88), with K =
    # 4, 8, 16 quarter-hours for RRS (1 h), ECRS (2 h), Non-Spin (4 h); a window past midnight
    # counts its whole K_a at the day's last quarter-hour
    lengths = {"RRS": 4, "ECRS": 8, "NSPIN": 16}
    carried = {
        o.product: np.asarray(_traces(figure, f"{o.product} backed by the battery")[0].y)
        for o in site.ancillary_offers
    }
    held = np.zeros(96)
    for start in range(0, 96, 4):
        for tau in range(start, min(start + 3 + 15, 95) + 1):
            past_end = tau == 95 and start + 3 + 15 > 95
            drawn = sum(
                0.25 * (k if past_end else min(tau - start + 1, k)) * carried[p][start]
                for p, k in lengths.items()
            )
            held[tau] = max(held[tau], drawn / np.sqrt(0.88))
    assert held.max() > 1
    assert np.allclose(held, schedule[columns.RESERVE_STORED_ENERGY_MWH], atol=1e-4)
    (soc,) = _traces(figure, "state of charge")
    (floor,) = _traces(figure, "+ energy held for offers (A2)")
    assert (np.asarray(soc.y) >= np.asarray(floor.y) - 1e-6).all()  # A2 holds every interval
    assert np.allclose(free, sum(schedule[columns.mining(f.name, "power_mw")] for f in site.fleets))


def test_breakevens_and_curtailment_come_from_the_fleets(campus):
    site, result, couplings = campus
    figure = timeline_figure(result, site, couplings)
    hashprice = result.schedule["hashprice_usd_per_ph_day"].iloc[0]
    # by hand: hashprice x (1 - 2 % pool fee) x 1000 / 17.5 J/TH / 24 h
    (s21,) = _traces(figure, "s21 breakeven (17.5 J/TH)")
    assert np.allclose(s21.y, hashprice * 0.98 * 1000 / 17.5 / 24)
    curtailed = curtailed_mining_mw(result.schedule, site)
    dt_hours = site.interval_minutes / 60
    assert curtailed.sum() * dt_hours == pytest.approx(result.kpis.mining_curtailed_mwh)


def test_every_row_of_the_timeline_has_traces_and_one_bar_per_interval(campus):
    site, result, couplings = campus
    figure = timeline_figure(result, site, couplings)
    legends = {t.legend for t in figure.data}
    assert legends == {"legend", "legend2", "legend3", "legend4", "legend5"}
    assert all(len(t.x) == 96 for t in figure.data)


# --- the run page ---------------------------------------------------------------------------------


def _visible_text(page: str) -> str:
    """The page without scripts (plotly.js and the figures' data): what a reader sees."""
    return re.sub(r"<script.*?</script>", "", page, flags=re.S)


def test_run_report_is_one_self_contained_page_with_formatted_numbers(tmp_path: Path):
    result = runner.invoke(app, ["run", str(CAMPUS), "--out", str(tmp_path), "--report"])
    assert result.exit_code == 0, result.output
    page = (tmp_path / "report.html").read_text()
    assert "<script src" not in page and "<link" not in page  # nothing fetched: works offline
    assert page.count("<script>") == 1 + 2  # plotly.js once, then the two figures
    text = _visible_text(page)
    for raw in ("NaN", "nan", "-0.00", "\u22120.00", "e+0", "1e6", "{'"):
        assert raw not in text, raw
    kpis = json.loads((tmp_path / "kpis.json").read_text())
    assert fmt.usd_compact(kpis["net_margin_usd"]) in text
    assert fmt.usd_per_mwh(kpis["breakeven_usd_per_mwh"]["s21"]) in text


@pytest.mark.parametrize("site_file", sorted(SITES.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_example_site_gets_a_report(site_file: Path):
    site = load_site(site_file)
    result = solve(site, load_inputs(site, "2023-08-17"))
    page = run_page(result, site)
    assert result.site_name in page
    figure = timeline_figure(result, site)
    assert figure.data and all(len(t.x) == len(result.schedule) for t in figure.data)


def test_report_without_out_is_a_user_error():
    result = runner.invoke(app, ["run", str(SITES / "hpc_only.yaml"), "--report"])
    assert result.exit_code == 2
    assert "--report: needs --out DIR" in result.output
