"""Time-series inputs on the site's intervals: validated once here, trusted by the model.

Columns (units in the names): ``price_usd_per_mwh``, ``hashprice_usd_per_ph_day``,
``<profile>_capacity_factor`` and ``hpc_utilization_fraction``; for markets and programs
``<product>_usd_per_mw_h``, ``coincident_peak_weight``, ``heat_demand_mw_thermal`` and the DR
event windows ``dr_<event>_active_fraction`` / ``dr_<event>_baseline_fraction`` (see
:mod:`dispatch.inputs.programs`).
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from dispatch.errors import InputError, InputWarning
from dispatch.inputs.align import Fill, align
from dispatch.inputs.bundled import DATASETS, bundled_hashprice, bundled_price, bundled_profile
from dispatch.inputs.detect import read_input
from dispatch.inputs.hashprice import read_hashprice
from dispatch.inputs.horizon import horizon_index, parse_date
from dispatch.inputs.programs import (
    COINCIDENT_PEAK_WEIGHT,
    HEAT_DEMAND,
    EventsOutside,
    ancillary_price_column,
    bundled_ancillary,
    dr_active_column,
    event_columns,
    historical_weights,
    program_columns,
)
from dispatch.inputs.table import Source, Table
from dispatch.site import Colocation, Site

PRICE = "price_usd_per_mwh"
HASHPRICE = "hashprice_usd_per_ph_day"
HPC_UTILIZATION = "hpc_utilization_fraction"


def capacity_factor_column(profile: str) -> str:
    return f"{profile}_capacity_factor"


def required_columns(site: Site) -> list[str]:
    """The series a site's model reads."""
    columns = []
    pass_through = (
        site.hpc is not None
        and isinstance(site.hpc.contract, Colocation)
        and (site.hpc.contract.power_pass_through)
    )
    if site.grid is not None or pass_through:
        columns.append(PRICE)
    if site.mining is not None:
        columns.append(HASHPRICE)
    columns += [capacity_factor_column(r.profile) for r in site.renewables]
    if site.hpc is not None:
        columns.append(HPC_UTILIZATION)
    columns += program_columns(site)
    return list(dict.fromkeys(columns))


def default_price_dataset(site: Site) -> str:
    """Real-time 15-minute prices for sub-hourly sites, day-ahead hourly prices for hourly ones."""
    return "ercot_rtm_spp" if site.interval_minutes < 60 else "ercot_dam_spp"


@dataclass(frozen=True)
class Inputs:
    """Series on the site's intervals (tz-aware index in the site's time zone) and their sources."""

    frame: pd.DataFrame
    sources: Mapping[str, str] = field(default_factory=dict)

    @property
    def index(self) -> pd.DatetimeIndex:
        index = self.frame.index
        return index if isinstance(index, pd.DatetimeIndex) else pd.DatetimeIndex(index)

    @classmethod
    def from_frame(
        cls,
        site: Site,
        frame: pd.DataFrame,
        sources: Mapping[str, str] | None = None,
        *,
        dr_events_outside: EventsOutside = "error",
    ) -> Inputs:
        """Check a frame already on the site's intervals (used by tests and the API).

        ``dr_events_outside``: a DR event wholly outside the horizon is an ``"error"`` (a
        single run) or ``"inactive"`` (a batch task or sizing history of many days).
        """
        index = frame.index
        if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
            raise InputError("inputs: index must be tz-aware interval starts")
        if len(index) < 1:
            raise InputError("inputs: the horizon has no intervals")
        off = index[1:] - index[:-1] != pd.Timedelta(minutes=site.interval_minutes)
        if off.any():
            i = int(np.argmax(off)) + 1
            raise InputError(
                f"inputs: interval starting {index[i]} does not follow {index[i - 1]} by "
                f"interval_minutes = {site.interval_minutes}"
            )
        frame = frame.copy()
        if site.hpc is not None and HPC_UTILIZATION not in frame.columns:
            frame[HPC_UTILIZATION] = 1.0
        _derive_program_columns(site, frame, dr_events_outside)
        missing = [c for c in required_columns(site) if c not in frame.columns]
        for i, offer in enumerate(site.ancillary_offers):
            if ancillary_price_column(offer.product) in missing:
                raise InputError(
                    f"programs.ancillary[{i}].product: {offer.product} is offered but the inputs "
                    f"have no {ancillary_price_column(offer.product)} series"
                )
        if missing:
            raise InputError(f"inputs: missing series {missing}; present: {list(frame.columns)}")
        for column in frame.columns:
            values = frame[column].to_numpy(dtype=float)
            if np.isnan(values).any():
                i = int(np.argmax(np.isnan(values)))
                raise InputError(f"inputs: {column} is NaN at {index[i]}")
            if column.endswith(("_capacity_factor", "_fraction", COINCIDENT_PEAK_WEIGHT)) and (
                (values < 0).any() or (values > 1).any()
            ):
                i = int(np.argmax((values < 0) | (values > 1)))
                raise InputError(
                    f"inputs: {column} must lie in 0..1, found {values[i]:g} at {index[i]}"
                )
        frame.index = index.tz_convert(site.timezone).rename("interval_start")
        return cls(frame, dict(sources or {}))


def _dr_windows_missing(site: Site, frame: pd.DataFrame) -> bool:
    return any(dr_active_column(e.name) not in frame.columns for e in site.dr_events)


def _derive_program_columns(
    site: Site, frame: pd.DataFrame, dr_events_outside: EventsOutside
) -> None:
    """Fill program series the site file defines: DR event windows from ``programs.events`` and a
    constant heat demand from ``heat_reuse.max_mw_thermal`` (unless the frame carries them: a
    frame that brings its own ``dr_<event>_active_fraction`` sets the window as data)."""
    if _dr_windows_missing(site, frame):
        index = pd.DatetimeIndex(frame.index)
        for column, values in event_columns(site, index, dr_events_outside).items():
            if column not in frame.columns:
                frame[column] = values
    heat = site.heat_reuse
    if heat is not None and HEAT_DEMAND not in frame.columns:
        if heat.max_mw_thermal is None:
            raise InputError(
                f"heat_reuse.max_mw_thermal: no {HEAT_DEMAND} series in the inputs and no "
                "constant heat demand in the site file"
            )
        frame[HEAT_DEMAND] = heat.max_mw_thermal


def _daily_series(
    horizon: pd.DatetimeIndex, column: str, daily: pd.Series, source: str
) -> pd.Series:
    days = pd.Index(horizon.date)
    missing = sorted(set(days) - set(daily.index))
    if missing:
        raise InputError(
            f"{source}: {column} has no value for {missing[0]} "
            f"(covers {min(daily.index)} to {max(daily.index)})"
        )
    return pd.Series(daily.reindex(days).to_numpy(), index=horizon, name=column)


def load_inputs(
    site: Site,
    start: str | dt.date,
    end: str | dt.date | None = None,
    *,
    prices: str | Path | pd.DataFrame | None = None,
    hashprice: Source | None = None,
    profiles: Source | None = None,
    ancillary: Source | None = None,
    peaks: Source | None = None,
    fill: Fill | None = None,
    timezone: str | None = None,
    dr_events_outside: EventsOutside = "error",
) -> Inputs:
    """Inputs for local days ``start``..``end`` (inclusive) at the site's interval.

    ``prices`` is the name of a bundled data set (default: real-time for sub-hourly sites,
    day-ahead for hourly ones) or a price file of any layout :func:`read_input` recognises
    (tidy, gridstatus, ERCOT report; CSV or Parquet) or a frame, taken at the site's settlement
    point. ``hashprice`` is a daily file in any unit :func:`read_hashprice` accepts (default:
    bundled). ``profiles`` is a tidy file with ``<profile>_capacity_factor`` and optionally
    ``hpc_utilization_fraction`` and ``heat_demand_mw_thermal`` columns (default: bundled
    profiles, utilization 1, heat demand ``heat_reuse.max_mw_thermal``). ``ancillary`` is a file
    with ``<product>_usd_per_mw_h`` columns, tidy or an ERCOT DAM MCPC report (default: bundled
    ERCOT DAM clearing prices); hourly products are held over sub-hour intervals. ``peaks`` is a
    tidy file with ``coincident_peak_weight`` (probability that each interval is a coincident-peak
    interval; default: the real ERCOT peaks of 2022-2024).

    ``fill`` says how data coarser than the site's interval is spread over it: ``"hold"`` or
    ``"interpolate"``. Bundled data is held unless told otherwise; a user file coarser than the
    site's interval needs an explicit choice. ``timezone`` locates naive timestamps in files.
    """
    first = parse_date(start, "--start")
    last = parse_date(end, "--end") if end is not None else first
    horizon = horizon_index(site.timezone, site.interval_minutes, first, last)
    columns: dict[str, pd.Series] = {}
    sources: dict[str, str] = {}
    needed = required_columns(site)
    unused = (
        ("--prices", prices, PRICE, "it has no grid to price"),
        ("--hashprice", hashprice, HASHPRICE, "it has no mining"),
    )
    for option, given, column, why in unused:
        if given is not None and column not in needed:
            warnings.warn(f"{option}: ignored, {why}", InputWarning, stacklevel=2)
    bundled_fill: Fill = fill or "hold"
    price_fill: Fill | None
    profile_fill: Fill | None
    if PRICE in needed:
        if prices is None or (isinstance(prices, str) and prices in DATASETS):
            dataset = str(prices) if prices is not None else default_price_dataset(site)
            if site.market is None:
                raise InputError("market.settlement_point: the site needs prices but names no node")
            node = site.market.settlement_point
            series = bundled_price(dataset, node)
            step = pd.Timedelta(DATASETS[dataset].interval)
            sources[PRICE], price_fill = f"bundled {dataset} {node}", bundled_fill
        else:
            point = site.market.settlement_point if site.market is not None else None
            price_table = read_input(prices, settlement_point=point, timezone=timezone)
            series, step = price_table.column(PRICE), price_table.step
            sources[PRICE], price_fill = price_table.description, fill
        columns[PRICE] = align(
            series, step, horizon, name=PRICE, source=sources[PRICE], fill=price_fill
        )
    if HASHPRICE in needed:
        if hashprice is None:
            daily, sources[HASHPRICE] = bundled_hashprice(), "bundled btc_hashprice"
        else:
            name = "frame" if isinstance(hashprice, pd.DataFrame) else str(hashprice)
            daily, sources[HASHPRICE] = read_hashprice(hashprice), name
        columns[HASHPRICE] = _daily_series(horizon, HASHPRICE, daily, sources[HASHPRICE])
    profile_table: Table | None = None
    if profiles is not None:
        profile_table = read_input(profiles, timezone=timezone)
    for profile in dict.fromkeys(r.profile for r in site.renewables):
        column = capacity_factor_column(profile)
        if profile_table is not None and column in profile_table.frame.columns:
            series, step, sources[column] = (
                profile_table.frame[column],
                profile_table.step,
                profile_table.path,
            )
            profile_fill = fill
        else:
            series, step = bundled_profile(profile), pd.Timedelta("1h")
            sources[column], profile_fill = f"bundled profile {profile}", bundled_fill
        columns[column] = align(
            series, step, horizon, name=column, source=sources[column], fill=profile_fill
        )
    optional = [HEAT_DEMAND] + ([HPC_UTILIZATION] if site.hpc is not None else [])
    for column in optional:  # series with a default, taken from the profiles file when there
        if profile_table is not None and column in profile_table.frame.columns:
            sources[column] = profile_table.path
            columns[column] = align(
                profile_table.frame[column],
                profile_table.step,
                horizon,
                name=column,
                source=profile_table.path,
                fill=fill,
            )
    columns.update(_market_series(site, horizon, ancillary, peaks, sources, timezone))
    frame = pd.DataFrame(columns, index=horizon)
    return Inputs.from_frame(site, frame, sources, dr_events_outside=dr_events_outside)


def _market_series(
    site: Site,
    horizon: pd.DatetimeIndex,
    ancillary: Source | None,
    peaks: Source | None,
    sources: dict[str, str],
    timezone: str | None,
) -> dict[str, pd.Series]:
    """Ancillary prices (held over sub-hour intervals) and coincident-peak weights (split over
    sub-hour intervals: a weight is the probability that the interval is the peak)."""
    columns: dict[str, pd.Series] = {}
    if site.ancillary_offers:
        if ancillary is None:
            columns.update(bundled_ancillary(site, horizon))
            for column in columns:
                sources[column] = "bundled ercot_dam_as"
        else:
            table = read_input(ancillary, timezone=timezone)
            for i, offer in enumerate(site.ancillary_offers):
                column = ancillary_price_column(offer.product)
                if column not in table.frame.columns:
                    raise InputError(
                        f"programs.ancillary[{i}].product: {offer.product} is offered but "
                        f"{table.path} has no {column} column"
                    )
                columns[column] = align(
                    table.frame[column],
                    table.step,
                    horizon,
                    name=column,
                    source=table.description,
                    fill="hold",  # an hourly product's price holds over its hour
                )
                sources[column] = table.description
    spec = site.grid.coincident_peak if site.grid is not None else None
    if spec is not None:
        if peaks is None:
            columns[COINCIDENT_PEAK_WEIGHT] = historical_weights(spec, horizon)
            sources[COINCIDENT_PEAK_WEIGHT] = "historical peaks of bundled ercot_wind_solar load"
        else:
            table = read_input(peaks, timezone=timezone)
            site_step = pd.Timedelta(minutes=site.interval_minutes)
            weights = align(
                table.column(COINCIDENT_PEAK_WEIGHT),
                table.step,
                horizon,
                name=COINCIDENT_PEAK_WEIGHT,
                source=table.description,
                fill="hold",
            )
            # probabilities add: a finer file sums into the interval, a coarser one is split
            columns[COINCIDENT_PEAK_WEIGHT] = weights * (site_step / table.step)
            sources[COINCIDENT_PEAK_WEIGHT] = table.description
    return columns


__all__ = [
    "COINCIDENT_PEAK_WEIGHT",
    "HASHPRICE",
    "HEAT_DEMAND",
    "HPC_UTILIZATION",
    "PRICE",
    "Inputs",
    "ancillary_price_column",
    "load_inputs",
    "read_hashprice",
    "read_input",
    "required_columns",
]
