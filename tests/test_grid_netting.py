"""G2 at a zero import adder: importing and exporting in the same interval is money-neutral, so
HiGHS may return both at once; the schedule reports only the net flow (docs/formulation.md, G2).

Tiny hourly sites with one optimum for the net flow; expected values derived by hand in the
comments (tolerance 1e-6). Each case also solves the model once without the settle steps and
asserts that HiGHS did return simultaneous flows there, so the case keeps exercising the netting.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_inputs, make_site
from independent import mismatches
from physics import violations

from dispatch import Inputs, Site, solve
from dispatch.inputs import DA_PRICE
from dispatch.model.build import build_model
from dispatch.realtime.information import DayAheadForecast
from dispatch.realtime.stages import StageRunner
from dispatch.solver import SolveOptions, new_engine

INTERFACES = ["compiled", "pyomo"]
COLOCATION = {"kind": "colocation", "usd_per_kw_month": 100}
# a 5 MW firm hall under a 20 MW import / 10 MW export connection with no adder; at -10 USD/MWh
# importing 15 and exporting 10 costs exactly what importing 5 does
GRID = {"import_limit_mw": 20, "export_limit_mw": 10, "import_adder_usd_per_mwh": 0}
HALL_5_MW = {"it_load_mw": 5, "pue": 1.0, "contract": COLOCATION}
PRICES = [30.0, -10.0, 30.0, -10.0]


def options(interface: str) -> SolveOptions:
    return SolveOptions(mip_rel_gap=0.0, interface=interface, model_cache=False)


def money(result) -> dict[str, tuple[float, float]]:
    table = result.streams.set_index("stream")
    return {s: (float(table.loc[s, "usd"]), float(table.loc[s, "basis_mwh"])) for s in table.index}


def unsettled_flows(
    site: Site, inputs: Inputs, interface: str, *, two_settlement: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """(import, export) [MW] of one HiGHS solve, before any settle step runs."""
    built = build_model(site, inputs, two_settlement=two_settlement)
    engine = new_engine(built, options(interface))
    engine.solve_once(options(interface), inputs)
    schedule = {name: c for _, terms in built.blocks for name, c in terms.schedule.items()}
    return tuple(  # type: ignore[return-value]
        np.array([v.value for v in schedule[name].values()])
        for name in ("grid_import_mw", "grid_export_mw")
    )


def assert_highs_flows_both_ways(site, inputs, interface, **kwargs) -> None:
    imported, exported = unsettled_flows(site, inputs, interface, **kwargs)
    assert (np.minimum(imported, exported) > 1e-6).any(), (imported, exported)


def assert_net_flows(result, imported: list[float], exported: list[float]) -> None:
    schedule = result.schedule
    assert schedule["grid_import_mw"].tolist() == pytest.approx(imported, abs=1e-6)
    assert schedule["grid_export_mw"].tolist() == pytest.approx(exported, abs=1e-6)
    both = np.minimum(schedule["grid_import_mw"], schedule["grid_export_mw"])
    assert (both <= 1e-9).all()


@pytest.mark.parametrize("interface", INTERFACES)
def test_single_settlement_reports_the_net_flow(interface):
    # The hall takes 5 MW every hour, nothing else moves: import - export = 5. By hand: import
    # 5 MW every hour, export 0; purchase -(30 - 10 + 30 - 10) x 5 = -200 USD on 20 MWh; no sale.
    site = make_site(grid=GRID, hpc=HALL_5_MW)
    inputs = make_inputs(site, PRICES)
    assert_highs_flows_both_ways(site, inputs, interface)
    result = solve(site, inputs, options(interface))
    assert_net_flows(result, [5, 5, 5, 5], [0, 0, 0, 0])
    streams = money(result)
    assert streams["grid_energy_purchase"] == pytest.approx((-200.0, 20.0))
    assert streams["grid_energy_sale"] == pytest.approx((0.0, 0.0), abs=1e-9)
    assert mismatches(site, result) == []  # streams, basis, KPIs, Σ streams = HiGHS objective
    assert violations(site, result.schedule) == []
