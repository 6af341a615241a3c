"""Every stream and KPI recomputed from the site file and the schedule alone (tests/independent.py)
and every documented constraint checked on the schedule (tests/physics.py), on generated sites
with every asset, program and tariff, at 15-minute and hourly intervals, efficiencies below 1.

The example sites get the same checks on real stress days in test_examples.py.
"""

from __future__ import annotations

import dataclasses
from collections import Counter

import numpy as np
import pytest
from conftest import fleet, make_inputs, make_site, mining
from hypothesis import HealthCheck, event, given, settings
from independent import SOLVER_KPIS, STREAMS, kpis, mismatches, streams
from physics import violations
from site_strategies import cases

from dispatch import solve
from dispatch.results import Kpis
from dispatch.solver import SolveOptions
from dispatch.streams import Stream

EXACT = SolveOptions(mip_rel_gap=0.0)


def test_every_stream_has_an_independent_recomputation():
    # a new stream fails here until tests/independent.py recomputes it
    assert set(STREAMS) == set(Stream)


def test_every_kpi_is_recomputed_or_reports_the_solve():
    # a new KPI fails here until tests/independent.py recomputes it (or it reports the solve)
    site = make_site(grid={"import_limit_mw": 5}, mining=mining(fleet(containers=2)))
    result = solve(site, make_inputs(site, [20, 30], 40.0))
    recomputed = kpis(site, result.schedule, streams(site, result.schedule))
    fields = {f.name for f in dataclasses.fields(Kpis)}
    assert set(recomputed) == fields - SOLVER_KPIS
    assert fields > SOLVER_KPIS


FEATURES = {
    "negative price",
    "offer backed by the battery",
    "battery discharges",
    "DR curtailment",
    "HPC work deferred",
    "PPA block resold",
    "generator runs",
    "import in a coincident peak",
    "containers stop and restart",
}


def _features(case, result) -> list[str]:
    """The interesting things an example made happen (counted, and asserted below)."""
    site, schedule = case.site, result.schedule
    seen = []
    if (schedule["price_usd_per_mwh"] < 0).any():
        seen.append("negative price")
    offers = [c for c in schedule if c.endswith("_backed_by_battery_mw")]
    if offers and (schedule[offers].to_numpy() > 1e-6).any():
        seen.append("offer backed by the battery")
    if site.battery is not None and (schedule["battery_discharge_mw"] > 1e-6).any():
        seen.append("battery discharges")
    if site.dr_events and (schedule["dr_peak_curtailed_mw"].abs() > 1e-6).any():
        seen.append("DR curtailment")
    if "hpc_deferred_mw" in schedule and (schedule["hpc_deferred_mw"] > 1e-6).any():
        seen.append("HPC work deferred")
    if "ppa_resold_mw" in schedule and (schedule["ppa_resold_mw"] > 1e-6).any():
        seen.append("PPA block resold")
    if "generator_recip_on" in schedule and schedule["generator_recip_on"].sum() > 0:
        seen.append("generator runs")
    if (
        site.grid.coincident_peak
        and (schedule["coincident_peak_weight"] * schedule["grid_import_mw"]).sum() > 1e-6
    ):
        seen.append("import in a coincident peak")
    counts = [schedule[f"mining_{f.name}_containers_on"].to_numpy() for f in site.fleets]
    if any(np.diff(c).min(initial=0) < 0 and np.diff(c).max(initial=0) > 0 for c in counts):
        seen.append("containers stop and restart")
    for feature in seen:
        event(feature)
    return seen


@pytest.mark.parametrize("interval_minutes", [15, 60])
def test_generated_sites_match_the_independent_recomputation(interval_minutes):
    seen: Counter[str] = Counter()

    @settings(
        max_examples=12,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(case=cases(interval_minutes))
    def check(case):
        result = solve(case.site, case.inputs, EXACT)
        assert mismatches(case.site, result) == []
        assert violations(case.site, result.schedule) == []
        seen.update(_features(case, result))

    check()
    # the generator made the cases that exercise the claim (derandomized: the same every run)
    assert set(seen) >= FEATURES, seen
