"""The Monte Carlo under uncertainty on real data: hashprice paths, power-price years, the
dispatched value grid against direct dispatch, reproducibility on every executor, and the
tables a planner reads.

The small cases run the retrofit campus hourly (bundled day-ahead prices) on a few days.
"""

from __future__ import annotations

import datetime as dt
import math
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import SITES

from dispatch.inputs import HPC_UTILIZATION, Inputs
from dispatch.inputs.bundled import read_dataset
from dispatch.site import parse_site
from dispatch.site.business import Uncertainty
from dispatch.sizing import montecarlo
from dispatch.sizing.days import load_history
from dispatch.sizing.economics import CostTerm
from dispatch.sizing.montecarlo import Candidate, price_years
from dispatch.sizing.paths import (
    PH_DAY_BLOCKS,
    Horizon,
    chain,
    daily_hashprice,
    default_halvings,
    draw,
)
from dispatch.sizing.plan import Planning
from dispatch.sizing.progress import Step, quiet
from dispatch.sizing.uncertainty import _recommendation, evaluate_under_uncertainty
from dispatch.sizing.valuegrid import (
    chord_bound,
    dispatch_lines,
    envelope,
    unpriced,
    year_days,
)
from dispatch.solver import Dispatcher, SolveOptions
from dispatch.streams import Stream

OPTIONS = SolveOptions(mip_rel_gap=1e-6, time_limit_s=60)


def campus_data(**sizing) -> dict:
    """The retrofit campus, hourly, its sizing section extended by ``sizing``."""
    data = yaml.safe_load((SITES / "retrofit_campus.yaml").read_text())
    data["interval_minutes"] = 60
    data["sizing"].update(sizing)
    return data


@pytest.fixture(scope="module")
def campus():
    return Planning(parse_site(campus_data(), "campus"))


# --- paths ---------------------------------------------------------------------------------


def test_hashprice_is_derived_like_the_bundled_series_and_halves_with_the_subsidy():
    """With no BTC move, no hashrate growth and fees at f of revenue, hashprice is the last
    bundled day's price x (subsidy + fees) x blocks a PH/s expects a day; the 2028 halving
    halves the subsidy, not the fees."""
    history = chain()
    horizon = Horizon(2026, 4)
    spec = Uncertainty.model_validate({"paths": 2})
    draws = draw(spec, horizon, 1, {}, None)
    days = len(horizon.days(history.last_day))
    flat = type(draws)(
        log_btc=np.zeros((2, days)),
        hashrate_growth=np.zeros(2),
        fee_share=np.array([0.0, 0.2]),
        price_year=draws.price_year,
        capex_unit={},
        gpu_decline=draws.gpu_decline,
        gpu_utilization=draws.gpu_utilization,
        exit_draws=draws.exit_draws,
        renewal_draws=draws.renewal_draws,
    )
    dates, hashprice = daily_hashprice(flat, horizon, default_halvings())
    per_ph_day = history.btc_usd * PH_DAY_BLOCKS / history.difficulty
    subsidy, fees = history.subsidy_btc, history.subsidy_btc * 0.2 / 0.8
    before = dates < pd.Timestamp(default_halvings()[0])
    assert hashprice[0, before] == pytest.approx(per_ph_day * subsidy)
    assert hashprice[0, ~before] == pytest.approx(per_ph_day * subsidy / 2)
    assert hashprice[1, ~before] == pytest.approx(per_ph_day * (subsidy / 2 + fees))
    # the last bundled day, derived with its own fee share, is the bundled hashprice
    data = read_dataset("btc_hashprice")
    last = data.loc[history.last_day]
    share = 1 - last["hashprice_subsidy_usd_per_th_day"] / last["hashprice_usd_per_th_day"]
    assert history.hashprice_usd_per_ph_day(share) == pytest.approx(
        last["hashprice_usd_per_ph_day"], rel=0.02
    )


def test_default_halvings_are_210000_ten_minute_blocks_apart():
    assert default_halvings() == [dt.date(2028, 4, 17), dt.date(2032, 4, 14)]


def test_draws_are_reproducible_within_their_ranges_and_change_with_the_seed():
    spec = Uncertainty.model_validate({"paths": 300, "fee_share_fraction": [0.01, 0.05]})
    horizon = Horizon(2026, 10)
    ranges = {CostTerm.MINING_CAPEX: (3e6, 5e6)}
    one, two = draw(spec, horizon, 4, ranges, None), draw(spec, horizon, 4, ranges, None)
    other = draw(spec, horizon, 4, ranges, None, seed=spec.seed + 1)
    assert np.array_equal(one.log_btc, two.log_btc)
    assert np.array_equal(one.exit_draws, two.exit_draws)
    assert not np.array_equal(one.log_btc, other.log_btc)
    capex = one.capex_unit[CostTerm.MINING_CAPEX]
    assert capex.min() >= 3e6 and capex.max() <= 5e6 and np.ptp(capex) > 1.5e6
    assert one.fee_share.min() >= 0.01 and one.fee_share.max() <= 0.05
    low, high = chain().difficulty_growth
    assert low <= one.hashrate_growth.min() and one.hashrate_growth.max() <= high
    assert set(np.unique(one.price_year)) == {0, 1, 2, 3}
    # the bootstrap draws real daily returns of the bundled history, in blocks
    returns = np.diff(one.log_btc[0, :60])
    assert np.isin(np.round(returns, 12), np.round(chain().log_returns, 12)).all()


# --- price years and the value grid ----------------------------------------------------------


def test_2021_is_dispatched_without_what_the_bundled_data_cannot_price(campus):
    site = campus.upper_site()
    left = unpriced(site, 2021, None, None)
    assert left.products == ("RRS", "NSPIN") and left.coincident_peak
    assert unpriced(site, 2023, None, None).products == ()
    bare = left.apply(site)
    assert bare.ancillary_offers == [] and bare.grid.coincident_peak is None


def test_the_days_of_a_year_keep_winter_storm_uri_whole(campus):
    site = unpriced(campus.upper_site(), 2021, None, None).apply(campus.upper_site())
    history = load_history(site, (2021,))
    days = year_days(history.days(), 4, 5, history.event_columns)
    spikes = sorted(d.date for d in days if d.kind == "spike")
    assert len(spikes) == 5  # the five dearest days are all in Uri's week (day-ahead: 14-18)
    assert all(dt.date(2021, 2, 13) <= d <= dt.date(2021, 2, 20) for d in spikes)
    assert all(d.weight_days == 1 for d in days if d.date in spikes)
    assert sum(d.weight_days for d in days) == 365


def test_price_years_of_the_bundled_data_are_kept_for_the_next_call(campus, monkeypatch):
    """A second Monte Carlo on the same site and day settings re-uses the first one's price
    years (their loading and clustering); other settings or a price file load them anew."""
    loaded: list[tuple[int, int, int]] = []

    def load_year(site, year, n_days, spike_days, **load):
        loaded.append((year, n_days, spike_days))
        return (year, n_days, spike_days, tuple(load.items()))

    monkeypatch.setattr(montecarlo, "price_year", load_year)
    monkeypatch.setattr(montecarlo, "_kept_years", {})
    site = campus.upper_site()
    spec = Uncertainty.model_validate({"price_years": [2022, 2023]})
    steps: list[Step] = []
    first = price_years(site, spec, {}, None, steps.append)
    assert loaded == [(2022, 6, 3), (2023, 6, 3)]
    assert price_years(site, spec, {"prices": None}, None, steps.append) == first
    assert loaded == [(2022, 6, 3), (2023, 6, 3)]  # nothing loaded again
    assert steps[-1].finished and steps[-1].done == 2  # the progress still counts both years
    fewer = spec.model_copy(update={"days_per_year": 4, "price_years": [2023, 2024]})
    price_years(site, fewer, {}, None, quiet)
    assert loaded[2:] == [(2023, 4, 3), (2024, 4, 3)]
    price_years(site, spec, {"prices": "prices.csv"}, None, quiet)  # a user's file: never kept
    price_years(site, spec, {"prices": "prices.csv"}, None, quiet)
    assert loaded[4:] == [(2022, 6, 3), (2023, 6, 3)] * 2
    assert price_years(campus.site, spec, {}, None, quiet) is not None  # another site: loaded
    assert loaded[8:] == [(2022, 6, 3), (2023, 6, 3)]


@pytest.fixture(scope="module")
def heat_wave(campus):
    """Four August 2023 days (the heat wave) at hourly day-ahead prices."""
    history = load_history(
        campus.upper_site(), start=dt.date(2023, 8, 14), end=dt.date(2023, 8, 17)
    )
    return history.days()


def test_the_envelope_is_a_dispatched_value_below_direct_dispatch_and_within_its_bound(
    campus, heat_wave
):
    """Dispatched at 20, 40 and 80 USD/PH/day, the envelope at 30 and 60 is the value of a real
    schedule, so at most what dispatching at 30 and 60 directly earns, and at least that less
    the chord bound; measured: 0.9 % and 0.35 % below, bounds 2.4 % and 0.7 %."""
    site = campus.site_without_hall(campus.business_as_usual())
    weights = np.ones(len(heat_wave))
    levels = np.array([20.0, 40.0, 80.0])
    grid = dispatch_lines(site, heat_wave, levels, OPTIONS)
    between = np.array([30.0, 60.0])
    direct = dispatch_lines(site, heat_wave, between, OPTIONS)
    truth = weights @ direct.usd.sum(axis=-1)
    estimate = envelope(grid.usd, grid.streams, weights, levels, between).sum(axis=1)
    bound = chord_bound(grid.usd, weights, levels, between)
    tolerance = 1e-5 * np.abs(truth)  # the MIP gap of each solve
    assert (estimate <= truth + tolerance).all()
    assert (truth <= bound + tolerance).all()
    assert (np.abs(truth - estimate) <= 0.02 * np.abs(truth)).all()
    # at a level the envelope is the dispatch itself
    at_levels = envelope(grid.usd, grid.streams, weights, levels, levels).sum(axis=1)
    assert at_levels == pytest.approx(weights @ grid.usd.sum(axis=-1), rel=1e-9)


def test_the_hall_adds_what_dispatching_it_does_and_scales_with_occupancy(campus, heat_wave):
    """A 60 MW IT plan: the hall's money (plan with the hall full minus hall empty) changes by
    under 4 % from 20 to 80 USD/PH/day (so one level serves), and half a hall is worth half the
    hall to within 10 % of it on these heat-wave days (measured 4.4 %: the freed ride-through
    energy is worth most in the spikes); empty and full are dispatched, never interpolated."""
    plan = campus.grid_plan(60, 57)
    empty, full = campus.site_without_hall(plan), campus.site_for(plan)
    levels = np.array([20.0, 80.0])
    weights = np.ones(len(heat_wave))
    without, whole = (
        dispatch_lines(empty, heat_wave, levels, OPTIONS),
        dispatch_lines(full, heat_wave, levels, OPTIONS),
    )
    streams = tuple(s for s in whole.streams if s is not Stream.HPC_CONTRACT)
    hall = weights @ (whole.on(streams) - without.on(streams)).sum(axis=-1)
    assert abs(hall[1] - hall[0]) <= 0.04 * abs(hall[0])
    dispatcher = Dispatcher(full, OPTIONS)
    half = 0.0
    for day in heat_wave:
        frame = day.inputs.frame.assign(hashprice_usd_per_ph_day=20.0)
        frame[HPC_UTILIZATION] = 0.5
        result = dispatcher.solve(Inputs(frame, day.inputs.sources))
        half += result.streams.loc[result.streams["stream"] != "hpc_contract", "usd"].sum()
    estimate = weights @ without.on(streams)[:, 0, :].sum(axis=-1) + 0.5 * hall[0]
    assert abs(half - estimate) <= 0.10 * abs(hall[0])


# --- the whole Monte Carlo ----------------------------------------------------------------------


SMALL = {
    "paths": 60,
    "price_years": [2022, 2023],
    "days_per_year": 1,
    "spike_days_per_year": 1,
    "hashprice_levels": 2,
}


def small_planning() -> Planning:
    data = campus_data(
        uncertainty=SMALL,
        colocation={"ramp_it_mw_per_month": 10, "exit_probability_per_year": 0.1},
        financing={"debt_fraction": 0.5, "debt_tenor_years": 5},
    )
    del data["grid"]["coincident_peak"]  # no pinned 4CP days: two days a year
    return Planning(parse_site(data, "small campus"))


def run(planning: Planning, executor=None):
    candidates = [Candidate("retrofit 60", planning.grid_plan(60, 57))]
    return evaluate_under_uncertainty(planning, candidates, options=OPTIONS, executor=executor)


@pytest.fixture(scope="module")
def small():
    planning = small_planning()
    return planning, run(planning)


@pytest.mark.slow
def test_the_monte_carlo_is_the_same_on_processes_and_on_dask(small, monkeypatch):
    """Seeded draws and a deterministic grid: the same tables on 2 processes and on a Dask
    LocalCluster as in a plain loop (workers import Pyomo and tsam: a minute or two). The price
    years kept from the plain loop are dropped, so the workers load and cluster them too."""
    distributed = pytest.importorskip("distributed")
    planning, serial = small
    spawn = multiprocessing.get_context("spawn")
    monkeypatch.setattr(montecarlo, "_kept_years", {})
    with ProcessPoolExecutor(2, mp_context=spawn) as pool:
        pooled = run(planning, pool)
    monkeypatch.setattr(montecarlo, "_kept_years", {})
    with (
        # a free port for the scheduler's HTTP server (None still takes 8787, which another
        # test run on the machine may hold: "Cluster failed to start")
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        clustered = run(planning, client.get_executor())
    for other in (pooled, clustered):
        pd.testing.assert_frame_equal(other.paths, serial.paths, rtol=1e-9)
        pd.testing.assert_frame_equal(other.summary, serial.summary, rtol=1e-9)


def test_a_planner_reads_distributions_a_frontier_a_tornado_and_a_recommendation(small):
    planning, found = small
    summary = found.summary.set_index("candidate")
    bau, retrofit = summary.loc["business_as_usual"], summary.loc["retrofit 60"]
    assert bau["mean_npv_vs_bau_usd"] == 0 and bau["probability_of_loss"] == 0
    assert (
        retrofit["p10_npv_vs_bau_usd"]
        <= retrofit["p50_npv_vs_bau_usd"]
        <= retrofit["p90_npv_vs_bau_usd"]
    )
    assert retrofit["cvar_npv_vs_bau_usd"] <= retrofit["p10_npv_vs_bau_usd"]
    paths = found.paths[found.paths["candidate"] == "retrofit 60"]
    worst = np.sort(paths["npv_vs_bau_usd"].to_numpy())[:3]  # CVaR 5 % of 60 paths: 3 paths
    assert retrofit["cvar_npv_vs_bau_usd"] == pytest.approx(worst.mean())
    assert retrofit["probability_of_loss"] == pytest.approx((paths["npv_vs_bau_usd"] < 0).mean())
    assert summary["recommended"].sum() == 1 and summary["efficient"].any()
    expected = (
        "keep the site as it stands"
        if found.recommended == "business_as_usual"
        else planning.describe(planning.grid_plan(60, 57))
    )
    assert found.recommendation.startswith(expected)
    inputs = set(found.tornado["input"])
    assert {"btc_price", "network_hashrate_growth", "tenant_exits", "hpc_retrofit_capex"} <= inputs
    assert (found.tornado["swing_usd"].diff().dropna() <= 1e-6).all()  # largest first
    assert set(found.distribution["statistic"]) >= {
        "mean",
        "p10",
        "p50",
        "p90",
        "cvar",
        "probability_of_loss",
    }
    cash = found.cash_flows
    assert set(cash["year"]) == set(range(2026, 2036))
    first = cash[(cash["candidate"] == "retrofit 60") & (cash["year"] == 2026)].set_index("item")
    operating = first.loc[first["kind"].isin(["operations", "opex"]), "usd"].sum()
    assert operating == pytest.approx(first.loc["ebitda", "usd"], rel=1e-9)
    assert found.price_years["price_year"].tolist() == [2022, 2023]
    assert found.settings["paths"] == 60


def test_the_size_page_draws_the_monte_carlo_from_its_tables(small):
    """The report's sections show what the tables hold: every path's NPV in the boxes, the
    recommended plan ringed where its mean and CVaR are, the tornado's bars ending at the NPVs
    of the P10 and P90 paths, the cash flows' project line; none without a Monte Carlo."""
    from types import SimpleNamespace

    from dispatch.report.risk import cash_flows, frontier, npv_distribution, tornado

    _, found = small
    result = SimpleNamespace(uncertainty=found)
    boxes = {t.name: np.sort(np.asarray(t.x)) for t in npv_distribution(result).figures[0].data}
    for row in found.summary.itertuples():
        npv = found.paths.loc[found.paths["candidate"] == row.candidate, "npv_vs_bau_usd"]
        assert np.allclose(boxes[row.description], np.sort(npv.to_numpy()) / 1e6, atol=1e-6)
    weight = found.settings["cvar_weight_fraction"]
    table = found.summary
    objective = (1 - weight) * table["mean_npv_vs_bau_usd"] + weight * table["cvar_npv_vs_bau_usd"]
    best = table.loc[objective.idxmax()]
    ring = next(t for t in frontier(result).figures[0].data if t.name == "recommended")
    assert ring.x[0] == pytest.approx(best["cvar_npv_vs_bau_usd"] / 1e6, abs=1e-6)
    assert ring.y[0] == pytest.approx(best["mean_npv_vs_bau_usd"] / 1e6, abs=1e-6)
    rows = found.tornado[found.tornado["candidate"] == found.tornado_subject]
    bars = {t.name: t for t in tornado(result).figures[0].data}
    ends = np.asarray(bars["input at its P10 path"].x) + bars["input at its P10 path"].base
    assert np.allclose(np.sort(ends), np.sort(rows["npv_at_p10_usd"].to_numpy()) / 1e6, atol=1e-6)
    lines = {t.name: t for t in cash_flows(result).figures[0].data}
    flows = found.cash_flows
    project = flows[
        (flows["candidate"] == found.tornado_subject) & (flows["item"] == "project_cash")
    ]
    assert np.allclose(lines["project cash"].y, project["usd"].to_numpy() / 1e6, atol=1e-6)
    nothing = SimpleNamespace(uncertainty=None)
    assert all(
        build(nothing) is None for build in (npv_distribution, frontier, tornado, cash_flows)
    )


@pytest.mark.parametrize(
    ("weight", "chosen_on"),
    [(0.0, "best expected NPV +12.0 M USD"), (0.25, "best 75% expected NPV + 25% CVaR +4.0 M USD")],
)
def test_the_recommendation_says_what_the_plan_was_chosen_on(weight, chosen_on):
    # A plan whose mean is carried by its upper tail: P50 and P10 below zero. The line must say
    # the figure it won on (mean 12, CVaR -20: 0.75 x 12 + 0.25 x -20 = 4), not only P50/P10.
    summary = pd.DataFrame(
        {
            "candidate": ["business_as_usual", "mining"],
            "description": ["the site as it stands", "add 5 s21"],
            "mean_npv_vs_bau_usd": [0.0, 12e6],
            "cvar_npv_vs_bau_usd": [0.0, -20e6],
            "p50_npv_vs_bau_usd": [0.0, -3e6],
            "p10_npv_vs_bau_usd": [0.0, -9e6],
            "p50_payback_years": [math.nan, 7.3],
        }
    )
    summary["objective_usd"] = (1 - weight) * summary["mean_npv_vs_bau_usd"] + weight * summary[
        "cvar_npv_vs_bau_usd"
    ]
    assert _recommendation(summary, "mining", weight) == (
        f"add 5 s21: {chosen_on}; NPV P50 \N{MINUS SIGN}3.0 M USD, P10 \N{MINUS SIGN}9.0 M USD, "
        "payback 7.3 years"
    )
