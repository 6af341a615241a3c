"""The process's cache of compiled models (dispatch.cache): a fresh ``solve()`` on a model taken
from the cache gives exactly what a model built for it gives, and a model is re-used only where
the structure is the same."""

from __future__ import annotations

import gc
from dataclasses import replace

import pandas as pd
import pytest
from conftest import SITES

from dispatch import DispatchResult, Site, load_inputs, load_site
from dispatch.cache import MODEL_CACHE, structure_key
from dispatch.model.build import horizon_shape
from dispatch.model.mining import FleetState
from dispatch.model.state import SiteState, read_state
from dispatch.solver import Dispatcher, SolveOptions, solve

CACHED = SolveOptions()
BUILT = SolveOptions(model_cache=False)
CAMPUS = SITES / "west_texas_hybrid.yaml"  # 15-minute: HPC, two fleets (one on a relay), battery
HOURLY = SITES / "west_texas_hybrid_hourly.yaml"


@pytest.fixture(autouse=True)
def empty_cache():
    MODEL_CACHE.clear()
    yield
    MODEL_CACHE.clear()


def assert_same(result: DispatchResult, reference: DispatchResult) -> None:
    """The same optimum, schedule and streams to the last bit (the cached model is handed to
    a new HiGHS with the arrays a new build gives it)."""
    assert result.kpis.status == reference.kpis.status == "optimal"
    assert result.kpis.objective_usd == reference.kpis.objective_usd
    assert result.kpis.mip_gap == reference.kpis.mip_gap
    pd.testing.assert_frame_equal(result.schedule, reference.schedule, check_exact=True)
    pd.testing.assert_frame_equal(result.streams, reference.streams, check_exact=True)


def updated(site: Site, section: str, **fields: object) -> Site:
    part = getattr(site, section)
    return site.model_copy(update={section: part.model_copy(update=fields)})


def test_fresh_solves_on_a_cached_model_equal_new_builds_across_days_and_states():
    # Each solve() takes the model the previous one gave back, with another day's data and
    # another carried state: the battery's SoC a day ended in, then fewer containers running
    # than the fresh default (all), then a fresh start again (the cached model must not keep
    # the state it was last solved from).
    site = load_site(CAMPUS)
    s19 = SiteState({"mining_s19": FleetState(containers_on=12, recent_starts=(), recent_stops=())})
    days = ["2023-08-16", "2023-08-17", "2023-12-05", "2023-07-13"]
    state: SiteState | None = None
    states = []
    for k, day in enumerate(days):
        inputs = load_inputs(site, day)
        dispatcher = Dispatcher(site, CACHED)
        result = dispatcher.solve(inputs, state)
        assert (dispatcher.models_built, dispatcher.models_from_cache) == (k == 0, k > 0)
        built = Dispatcher(site, BUILT)
        assert_same(result, built.solve(inputs, state))
        assert dispatcher.built is not None and built.built is not None
        end = read_state(dispatcher.built, inputs.index, state)
        assert end == read_state(built.built, inputs.index, state)
        states.append(state)
        state = {0: end, 1: s19, 2: None}.get(k)
        del dispatcher  # gives its model back
    assert MODEL_CACHE.taken == len(days) - 1
    # the carried states were not the fresh start, and they changed the day they were given to
    battery = states[1].get("battery") if states[1] else None
    assert battery is not None and battery.soc_mwh != pytest.approx(50.0)
    inputs = load_inputs(site, days[2])
    assert solve(site, inputs, BUILT).kpis.objective_usd != pytest.approx(
        solve(site, inputs, BUILT, s19).kpis.objective_usd
    )


@pytest.mark.parametrize(
    "change",
    [
        lambda s: updated(s, "battery", power_mw=35.0),  # a constant in S1 and A1 rows
        lambda s: updated(  # one container fewer: a bound and M1/M3 coefficients
            s, "mining", fleets=[s.fleets[0].model_copy(update={"containers": 39}), *s.fleets[1:]]
        ),
        lambda s: updated(s, "grid", import_adder_usd_per_mwh=9.0),  # a cost coefficient
        lambda s: updated(s, "hpc", ride_through_minutes=20),  # H2 right-hand side
    ],
    ids=["battery_power", "containers", "import_adder", "ride_through"],
)
def test_sites_that_differ_in_a_structural_field_never_share_a_model(change):
    site = load_site(HOURLY)
    other = change(site)
    assert other != site
    inputs = load_inputs(site, "2023-08-17")
    solve(site, inputs)  # its model goes into the cache
    assert len(MODEL_CACHE) == 1
    dispatcher = Dispatcher(other, CACHED)
    result = dispatcher.solve(inputs)
    assert (dispatcher.models_built, dispatcher.models_from_cache) == (1, 0)
    assert_same(result, solve(other, inputs, BUILT))
    assert result.kpis.objective_usd != solve(site, inputs, BUILT).kpis.objective_usd


def test_another_settlement_point_shares_the_model_and_gets_its_own_result():
    # The market only picks the prices; the model is the same, its data are not.
    site = load_site(HOURLY)
    north = updated(site, "market", settlement_point="HB_NORTH")
    solve(site, load_inputs(site, "2023-08-17"))
    inputs = load_inputs(north, "2023-08-17")
    dispatcher = Dispatcher(north, CACHED)
    result = dispatcher.solve(inputs)
    assert dispatcher.models_from_cache == 1
    assert_same(result, solve(north, inputs, BUILT))
    west = solve(site, load_inputs(site, "2023-08-17"), BUILT)
    assert result.kpis.objective_usd != pytest.approx(west.kpis.objective_usd)


def test_another_horizon_shape_never_shares_a_model():
    # 2023-11-05 has 25 local hours (DST ends); 2023-08-17 and 2023-08-18 have 24
    site = load_site(HOURLY)
    solve(site, load_inputs(site, "2023-08-17"))
    dispatcher = Dispatcher(site, CACHED)
    long_day = load_inputs(site, "2023-11-05")
    assert len(long_day.index) == 25
    assert_same(dispatcher.solve(long_day), solve(site, long_day, BUILT))
    assert (dispatcher.models_built, dispatcher.models_from_cache) == (1, 0)
    two_days = load_inputs(site, "2023-08-17", "2023-08-18")
    assert_same(dispatcher.solve(two_days), solve(site, two_days, BUILT))
    assert (dispatcher.models_built, dispatcher.models_from_cache) == (2, 0)


def test_the_key_holds_what_the_structure_depends_on_and_nothing_passed_per_solve():
    site = load_site(HOURLY)
    inputs = load_inputs(site, "2023-08-17")
    columns, shape = tuple(inputs.frame.columns), horizon_shape(inputs.index)
    key = structure_key(site, CACHED, columns, shape)
    # passed to HiGHS before every solve, or data: the same model
    for options in (
        SolveOptions(mip_rel_gap=1e-2, time_limit_s=5.0, presolve="on", relax_integrality=True),
        BUILT,
    ):
        assert structure_key(site, options, columns, shape) == key
    # each of these changes what is built, compiled or kept on the HiGHS instance
    assert structure_key(site, CACHED, columns[:-1], shape) != key
    assert structure_key(site, CACHED, columns, shape, two_settlement=True) != key
    for options in (
        SolveOptions(highs_options={"mip_heuristic_effort": 0.1}),
        SolveOptions(warm_start=True),
        SolveOptions(relaxation_first=True),
    ):
        assert structure_key(site, options, columns, shape) != key
    assert structure_key(site.model_copy(update={"name": "x"}), CACHED, columns, shape) != key


def test_a_model_is_lent_to_one_live_dispatcher_at_a_time():
    site = load_site(HOURLY)
    first = Dispatcher(site, CACHED)
    first.solve(load_inputs(site, "2023-08-16"))
    second = Dispatcher(site, CACHED)
    second.solve(load_inputs(site, "2023-08-17"))
    assert second.models_built == 1  # the first dispatcher still holds its model
    assert first.built is not second.built
    del first, second
    gc.collect()
    assert len(MODEL_CACHE) == 1  # one idle model per structure
    third = Dispatcher(site, CACHED)
    third.solve(load_inputs(site, "2023-08-18"))
    assert third.models_from_cache == 1
    assert len(MODEL_CACHE) == 0


@pytest.mark.parametrize(
    "options", [BUILT, SolveOptions(interface="pyomo")], ids=["cache_off", "pyomo"]
)
def test_the_cache_is_off_by_option_and_for_pyomos_interface(options):
    site = load_site(HOURLY)
    inputs = load_inputs(site, "2023-08-17")
    solve(site, inputs, options)
    assert len(MODEL_CACHE) == 0
    solve(site, inputs)
    dispatcher = Dispatcher(site, options)
    dispatcher.solve(inputs)
    assert (dispatcher.models_built, dispatcher.models_from_cache) == (1, 0)


def test_the_cache_keeps_at_most_its_size(monkeypatch):
    monkeypatch.setattr(MODEL_CACHE, "max_models", 2)
    site = load_site(HOURLY)
    for day in ("2023-08-17", "2023-11-05", "2024-03-10"):  # 24, 25 and 23 hours
        solve(site, load_inputs(site, day))
    assert len(MODEL_CACHE) == 2
    dispatcher = Dispatcher(site, CACHED)
    dispatcher.solve(load_inputs(site, "2023-08-18"))
    assert dispatcher.models_built == 1  # the least recently given back went first


def test_an_lp_on_a_cached_model_starts_as_on_a_new_build():
    # HiGHS re-solves an LP from its last basis and may end at another vertex of the same
    # optimal face (the 15-minute campus's relaxation of 2023-12-05 after two August days did,
    # by 247 MW of schedule): taken from the cache, a model goes to a new HiGHS instance and
    # ends where a new build ends.
    site = load_site(CAMPUS)
    relaxed = SolveOptions(relax_integrality=True)
    for day in ("2023-08-16", "2023-08-17", "2023-12-05"):
        inputs = load_inputs(site, day)
        dispatcher = Dispatcher(site, relaxed)
        result = dispatcher.solve(inputs)
        assert_same(result, solve(site, inputs, replace(relaxed, model_cache=False)))
        del dispatcher
    assert MODEL_CACHE.taken == 2
