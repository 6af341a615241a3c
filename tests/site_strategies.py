"""Hypothesis strategies for whole sites: every asset type, program and tariff, on 15-minute or
hourly intervals, with efficiencies below 1, and inputs that make the features matter (negative
prices, price spikes, ancillary prices above the mining margin, a DR event inside the horizon).

A drawn case is a valid site (the site file's own checks pass) with tiny capacities, so each
solve takes a fraction of a second.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
from conftest import make_inputs, make_site
from hypothesis import strategies as st

from dispatch import Inputs, Site

START = "2024-06-03"  # a Monday in June (CDT): coincident-peak month
money = st.floats(-60, 600).map(lambda p: round(p, 2))


@dataclass(frozen=True)
class Case:
    site: Site
    inputs: Inputs

    def __repr__(self) -> str:  # hypothesis prints failing examples
        site = self.site.model_dump(exclude_defaults=True, mode="json")
        return f"Case(site={site!r},\n inputs={self.inputs.frame.to_dict(orient='list')!r})"


def _often(draw: st.DrawFn) -> bool:
    """True in two draws of three: most examples have most features."""
    return draw(st.integers(0, 2)) > 0


def _prices(draw: st.DrawFn, n: int) -> list[float]:
    """Energy prices that visit negative values and spikes in most examples."""
    base = draw(st.lists(money, min_size=n, max_size=n))
    if draw(st.booleans()):
        base[draw(st.integers(0, n - 1))] = draw(st.floats(-80, -5).map(lambda p: round(p, 2)))
    if draw(st.booleans()):
        base[draw(st.integers(0, n - 1))] = draw(st.floats(300, 3000).map(lambda p: round(p, 2)))
    return base


def _hourly(draw: st.DrawFn, values: st.SearchStrategy[float], hours: int, per_hour: int):
    return [
        v for v in draw(st.lists(values, min_size=hours, max_size=hours)) for _ in range(per_hour)
    ]


@st.composite
def cases(draw: st.DrawFn, interval_minutes: int) -> Case:
    per_hour = 60 // interval_minutes
    hours = draw(st.integers(3, 4) if interval_minutes < 60 else st.integers(4, 7))
    n = hours * per_hour
    index = pd.date_range(
        pd.Timestamp(START, tz="America/Chicago"), periods=n, freq=f"{interval_minutes}min"
    )
    sections: dict[str, Any] = {"interval_minutes": interval_minutes}
    columns: dict[str, Any] = {}

    fleets = [
        {
            "name": "a",
            "containers": draw(st.integers(2, 5)),
            "container_mw": 1.0,
            "efficiency_j_per_th": 25.0,
            "power_range_fraction": [0.6, 1.1],
            "efficiency_curve": [[0.6, 22.0], [1.0, 25.0], [1.1, 27.0]],
            "startup_cost_usd": draw(st.sampled_from([0.0, 3.0])),
            "min_on_minutes": draw(st.sampled_from([0, 60, 120])),
        }
    ]
    if _often(draw):
        fleets.append(
            {
                "name": "b",
                "containers": draw(st.integers(1, 3)),
                "container_mw": 0.5,
                "efficiency_j_per_th": 32.0,
                "startup_cost_usd": 2.0,
                "min_off_minutes": draw(st.sampled_from([0, 60, 120])),
                # A3: an under-frequency relay trips the whole fleet on an RRS deployment
                "load_resource": draw(st.sampled_from(["controllable", "ufr"])),
            }
        )
    sections["mining"] = {"pool_fee_fraction": draw(st.sampled_from([0.0, 0.02])), "fleets": fleets}
    mining_mw = sum(f["containers"] * f["container_mw"] * 1.1 for f in fleets)

    facility_mw = 0.0
    if _often(draw):
        it_mw, pue = draw(st.sampled_from([2.0, 3.0])), draw(st.sampled_from([1.15, 1.3]))
        facility_mw = it_mw * pue
        contract = draw(
            st.sampled_from(
                [
                    {"kind": "colocation", "usd_per_kw_month": 120, "power_pass_through": True},
                    {"kind": "colocation", "usd_per_kw_month": 120},
                    {
                        "kind": "gpu_cloud",
                        "usd_per_gpu_hour": 2.0,
                        "gpu_count": int(it_mw * 1000),
                        "kw_per_gpu": 1.0,
                    },
                ]
            )
        )
        hpc: dict[str, Any] = {"it_load_mw": it_mw, "pue": pue, "contract": contract}
        if _often(draw):
            hpc |= {
                "flexible_fraction": draw(st.sampled_from([0.1, 0.3])),
                "flexible_window_minutes": draw(st.sampled_from([60, 120])),
                "deferral_cost_usd_per_mwh": 5.0,
            }
        sections["hpc"] = hpc
        columns["hpc_utilization_fraction"] = _hourly(
            draw, st.sampled_from([0.7, 0.9, 1.0]), hours, per_hour
        )

    battery = None
    if _often(draw) or facility_mw:
        power = draw(st.sampled_from([1.0, 2.0]))
        battery = {
            "power_mw": power,
            "energy_mwh": power * draw(st.sampled_from([2.0, 3.0])),
            "round_trip_efficiency": draw(st.sampled_from([0.72, 0.81, 0.9])),
            "min_soc_fraction": 0.1,
            "initial_soc_fraction": draw(st.sampled_from([0.5, 0.9])),
            "degradation_usd_per_mwh": draw(st.sampled_from([0.0, 4.0])),
        }
        sections["battery"] = battery
        if facility_mw:
            above_min = (battery["initial_soc_fraction"] - 0.1) * battery["energy_mwh"]
            fits = int(above_min * 60 / facility_mw * 0.8)
            sections["hpc"]["ride_through_minutes"] = draw(st.sampled_from([0, min(10, fits)]))

    generators = []
    if _often(draw):
        generators.append(
            {
                "name": "recip",
                "capacity_mw": 2.0,
                "min_stable_fraction": 0.3,
                "heat_rate_mmbtu_per_mwh": 9.0,
                "fuel_price_usd_per_mmbtu": draw(st.sampled_from([3.0, 8.0])),
                "startup_cost_usd": 20.0,
                "min_up_minutes": draw(st.sampled_from([0, 120])),
                "min_down_minutes": draw(st.sampled_from([0, 60])),
                "ramp_mw_per_minute": draw(st.sampled_from([None, 0.01, 0.02])),
            }
        )
        sections["generators"] = generators

    if _often(draw):
        sections["renewables"] = [{"name": "pv", "capacity_mw": 3.0, "profile": "solar"}]
        columns["solar_capacity_factor"] = _hourly(
            draw, st.sampled_from([0.0, 0.4, 0.9]), hours, per_hour
        )

    # the grid: tight enough that the import limit binds sometimes (negative prices, spikes)
    grid: dict[str, Any] = {
        "import_limit_mw": round(
            facility_mw + draw(st.sampled_from([0.5, 0.4 * mining_mw, mining_mw + 3])), 2
        ),
        "export_limit_mw": draw(st.sampled_from([0.0, 3.0])),
        "import_adder_usd_per_mwh": draw(st.sampled_from([-2.0, 0.0, 2.5])),
    }
    if _often(draw):
        grid["ppa"] = {"volume_mw": min(2.0, grid["import_limit_mw"]), "price_usd_per_mwh": 30.0}
    if draw(st.integers(0, 2)):  # two cases in three
        grid["coincident_peak"] = {"usd_per_mw_year": draw(st.sampled_from([400.0, 40_000.0]))}
        weight = draw(st.sampled_from([0.25, 1.0])) / per_hour
        peak_hour = draw(st.integers(0, hours - 1))
        columns["coincident_peak_weight"] = [
            weight if t // per_hour == peak_hour else 0.0 for t in range(n)
        ]
    if _often(draw):
        grid["demand_charge"] = {"usd_per_mw_month": draw(st.sampled_from([100.0, 2000.0]))}
    sections["grid"] = grid

    programs: dict[str, Any] = {}
    products = draw(st.lists(st.sampled_from(["RRS", "ECRS", "NSPIN"]), max_size=2, unique=True))
    if products:
        programs["ancillary"] = [
            {
                "product": p,
                "max_mw": draw(st.sampled_from([2.0, 6.0])),
                "expected_deployment_fraction": draw(st.sampled_from([0.0, 0.05])),
            }
            for p in products
        ]
        for p in products:
            columns[f"{p.lower()}_usd_per_mw_h"] = _hourly(
                draw, st.floats(0, 300).map(lambda v: round(v, 2)), hours, per_hour
            )
    if _often(draw):
        first = draw(st.integers(2 if interval_minutes == 60 else 1, hours - 1))
        event: dict[str, Any] = {
            "name": "peak",
            "start": index[first * per_hour].isoformat(),
            "end": (index[first * per_hour] + pd.Timedelta(hours=1)).isoformat(),
            "committed_mw": draw(st.sampled_from([1.0, 2.0])),
            "usd_per_mwh": 500.0,
            "penalty_usd_per_mwh": 100.0,
        }
        if draw(st.booleans()):
            event["baseline_minutes"] = 2 * interval_minutes  # a mean of two intervals
        else:
            event |= {"baseline": "fixed", "baseline_mw": 3.0}
        programs["events"] = [event]
    if programs:
        sections["programs"] = programs
    if _often(draw):
        sections["heat_reuse"] = {
            "recovery_fraction": 0.6,
            "price_usd_per_mwh_thermal": 25.0,
            "max_mw_thermal": 1.5,
        }

    site = make_site(**sections)
    hashprice = draw(st.floats(30, 90).map(lambda h: round(h, 2)))
    inputs = make_inputs(site, _prices(draw, n), hashprice, **columns)
    return Case(site, inputs)
