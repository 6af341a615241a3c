"""Shared helpers: tiny sites built from dicts and inputs built from short price lists."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import independent
import pandas as pd
import pytest
from hypothesis import Phase, settings

from dispatch import Inputs, Site
from dispatch.site import parse_site

SITES = Path(__file__).resolve().parent.parent / "sites"

# benchmarks/mutation.py runs with --hypothesis-profile=mutation: a failing example is enough to
# kill a mutant, so no time is spent shrinking it
settings.register_profile("mutation", phases=[Phase.explicit, Phase.reuse, Phase.generate])


def make_site(**sections: Any) -> Site:
    """A site from keyword sections; defaults: hourly, HB_WEST, Chicago."""
    data = {
        "name": "test site",
        "timezone": "America/Chicago",
        "market": {"settlement_point": "HB_WEST"},
        "interval_minutes": 60,
        **sections,
    }
    return parse_site(data, "test site")


def make_inputs(
    site: Site,
    prices: Sequence[float] | None = None,
    hashprice: float | Sequence[float] | None = None,
    *,
    n: int | None = None,
    start: str = "2024-06-03",
    **columns: Sequence[float] | float,
) -> Inputs:
    """Inputs on the site's intervals from plain lists (one value per interval)."""
    length = n or (len(prices) if prices is not None else 4)
    index = pd.date_range(
        pd.Timestamp(start, tz=site.timezone),
        periods=length,
        freq=f"{site.interval_minutes}min",
        name="interval_start",
    )
    frame = pd.DataFrame(index=index)
    if prices is not None:
        frame["price_usd_per_mwh"] = list(prices)
    if hashprice is not None:
        frame["hashprice_usd_per_ph_day"] = hashprice
    for name, values in columns.items():
        frame[name] = values
    return Inputs.from_frame(site, frame)


def fleet(name: str = "s19", containers: int = 3, **fields: Any) -> dict[str, Any]:
    """A fixed-power fleet of 1 MW containers at 25 J/TH (40 PH/s per MW) unless overridden."""
    return {
        "name": name,
        "containers": containers,
        "container_mw": 1.0,
        "efficiency_j_per_th": 25.0,
        **fields,
    }


def mining(*fleets: dict[str, Any], pool_fee_fraction: float = 0.0) -> dict[str, Any]:
    return {"pool_fee_fraction": pool_fee_fraction, "fleets": list(fleets)}


def balance_residual_mw(schedule: pd.DataFrame) -> pd.Series:
    """Supply minus demand per interval, from the schedule's physical columns."""
    supply = pd.Series(0.0, index=schedule.index)
    demand = pd.Series(0.0, index=schedule.index)
    for column in schedule.columns:
        if column in ("grid_import_mw", "battery_discharge_mw") or (
            column.startswith(("generator_", "renewable_"))
            and column.endswith(("_power_mw", "_output_mw"))
        ):
            supply += schedule[column]
        elif column in ("grid_export_mw", "battery_charge_mw", "hpc_served_mw") or (
            column.startswith("mining_") and column.endswith("_power_mw")
        ):
            demand += schedule[column]
    return supply - demand


@pytest.fixture
def sites_dir() -> Path:
    return SITES


def hand_energy_and_hashing_usd(result, site: Site) -> dict[str, float]:
    """``grid_energy_purchase`` and ``mining_hashprice`` recomputed from the schedule by hand
    (tests/independent.py, which recomputes every stream): an independent check of the streams
    of a kept or settled window, whose carried-in state the other streams would need."""
    money = independent.streams(site, result.schedule)
    return {name: money[name].usd for name in ("grid_energy_purchase", "mining_hashprice")}
