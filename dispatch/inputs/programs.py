"""Series of the markets and programs: ancillary prices, coincident-peak weights, heat demand and
demand-response event windows, with their column names (built here, never parsed back).

Coincident peaks for back-tests come from the bundled ERCOT system load (``ercot_wind_solar``,
column ``ercot_load_mw``, hourly): the peak is the hour of highest ERCOT load in each of the
site's coincident-peak months. ERCOT settles 4CP on 15-minute intervals; an hourly series only
tells the hour, so each site interval gets the share of the peak hour it covers as its weight
(1 for an hourly site, 0.25 for each quarter-hour), and the expected charge falls on the site's
mean import over that hour.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Literal

import numpy as np
import pandas as pd

from dispatch.errors import InputError
from dispatch.inputs.bundled import read_dataset
from dispatch.site import CoincidentPeak, DrEvent, Site

COINCIDENT_PEAK_WEIGHT = "coincident_peak_weight"
HEAT_DEMAND = "heat_demand_mw_thermal"
ANCILLARY_DATASET = "ercot_dam_as"
LOAD_DATASET = "ercot_wind_solar"
EventsOutside = Literal["error", "inactive"]
ECRS_LAUNCH = dt.date(2023, 6, 10)


def ancillary_price_column(product: str) -> str:
    """``"RRS"`` -> ``rrs_usd_per_mw_h`` (USD per MW offered per hour)."""
    return f"{product.lower()}_usd_per_mw_h"


def dr_active_column(event: str) -> str:
    """1 in the intervals of DR event ``event``, 0 elsewhere."""
    return f"dr_{event}_active_fraction"


def dr_baseline_column(event: str) -> str:
    """Weight of each interval in the scheduled baseline of ``event`` (sums to 1)."""
    return f"dr_{event}_baseline_fraction"


def program_columns(site: Site) -> list[str]:
    """The program series a site's model reads (derived ones included)."""
    columns = [ancillary_price_column(o.product) for o in site.ancillary_offers]
    if site.grid is not None and site.grid.coincident_peak is not None:
        columns.append(COINCIDENT_PEAK_WEIGHT)
    if site.heat_reuse is not None:
        columns.append(HEAT_DEMAND)
    for event in site.dr_events:
        columns.append(dr_active_column(event.name))
        if event.baseline == "scheduled":
            columns.append(dr_baseline_column(event.name))
    return columns


def event_signal_columns(site: Site) -> list[str]:
    """The program series that mark a few decisive intervals rather than a level: the
    coincident-peak weight and the DR event windows and baseline weights."""
    columns = []
    if site.grid is not None and site.grid.coincident_peak is not None:
        columns.append(COINCIDENT_PEAK_WEIGHT)
    for event in site.dr_events:
        columns.append(dr_active_column(event.name))
        if event.baseline == "scheduled":
            columns.append(dr_baseline_column(event.name))
    return columns


def bundled_ancillary(site: Site, horizon: pd.DatetimeIndex) -> dict[str, pd.Series]:
    """Hourly ERCOT DAM clearing prices of every offered product, held over the site's intervals.

    A product without a price in the horizon (ECRS before its launch on 2023-06-10, any product
    outside 2022-01-01 .. 2025-04-12) is an error naming the offer, never a zero.
    """
    frame = read_dataset(ANCILLARY_DATASET).tz_convert(horizon.tz)
    step = pd.Timedelta(hours=1)
    site_step = pd.Timedelta(minutes=site.interval_minutes)
    start, end = frame.index[0], frame.index[-1] + step
    out: dict[str, pd.Series] = {}
    for i, offer in enumerate(site.ancillary_offers):
        where = f"programs.ancillary[{i}].product"
        if horizon[0] < start or horizon[-1] + site_step > end:
            raise InputError(
                f"{where}: bundled {ANCILLARY_DATASET} covers {start} to {end}; the horizon needs "
                f"{horizon[0]} to {horizon[-1] + site_step} (pass an ancillary price file)"
            )
        values = frame[offer.product].reindex(horizon, method="ffill")
        missing = values.isna()
        if missing.any():
            first = horizon[int(np.argmax(missing.to_numpy()))]
            launch = (
                f" (ERCOT launched ECRS on {ECRS_LAUNCH}; no ECRS before then)"
                if offer.product == "ECRS" and first.date() < ECRS_LAUNCH
                else ""
            )
            raise InputError(
                f"{where}: {offer.product} is offered but has no price at {first}{launch}"
            )
        out[ancillary_price_column(offer.product)] = values.rename(
            ancillary_price_column(offer.product)
        )
    return out


@cache
def historical_peak_hours(months: tuple[int, ...]) -> pd.DatetimeIndex:
    """UTC start of the hour of highest ERCOT load in each ``months`` of each year on file."""
    load = read_dataset(LOAD_DATASET)["ercot_load_mw"].tz_convert("America/Chicago")
    peaks = []
    for key, group in load.groupby([load.index.year, load.index.month]):
        if key[1] in months:
            peaks.append(group.idxmax())
    return pd.DatetimeIndex(peaks).tz_convert("UTC")


def historical_peaks_table(months: tuple[int, ...] = (6, 7, 8, 9)) -> pd.DataFrame:
    """The derived coincident peaks with the ERCOT load in each (for documentation and tests)."""
    load = read_dataset(LOAD_DATASET)["ercot_load_mw"]
    hours = historical_peak_hours(months)
    return pd.DataFrame(
        {"ercot_load_mw": load.reindex(hours).to_numpy()},
        index=hours.tz_convert("America/Chicago").rename("peak_hour_start"),
    )


def historical_weights(spec: CoincidentPeak, horizon: pd.DatetimeIndex) -> pd.Series:
    """Coincident-peak weight of each interval from the real peaks of the bundled load data.

    Days outside the coincident-peak months carry weight 0 (no peak can fall there); a day in a
    peak month outside the bundled years 2022-2024 is an error (pass a weights file).
    """
    load_index = read_dataset(LOAD_DATASET).index
    first_day = load_index[0].tz_convert("America/Chicago").date()
    last_day = load_index[-1].tz_convert("America/Chicago").date()
    local = horizon.tz_convert("America/Chicago")
    in_months = np.isin(local.month, spec.months)
    outside = in_months & ((local.date < first_day) | (local.date > last_day))
    if outside.any():
        when = horizon[int(np.argmax(outside))]
        raise InputError(
            f"grid.coincident_peak: no historical peaks for {when} (the bundled ERCOT load covers "
            f"{first_day} to {last_day}); pass a {COINCIDENT_PEAK_WEIGHT} file"
        )
    peaks = historical_peak_hours(tuple(sorted(spec.months))).as_unit("ns")
    starts = horizon.tz_convert("UTC").as_unit("ns")
    step = starts[1] - starts[0] if len(starts) > 1 else pd.Timedelta(horizon.freq)
    hour = pd.Timedelta(hours=1)
    weights = np.zeros(len(starts))
    for peak in peaks:
        overlap_start = np.maximum(starts.asi8, peak.value)
        overlap_end = np.minimum((starts + step).asi8, (peak + hour).value)
        weights += np.clip(overlap_end - overlap_start, 0, None) / hour.value
    return pd.Series(weights, index=horizon, name=COINCIDENT_PEAK_WEIGHT)


def historical_weights_source(spec: CoincidentPeak, horizon: pd.DatetimeIndex) -> str:
    """What :func:`historical_weights` rests on over ``horizon`` (for ``Inputs.sources``)."""
    local = horizon.tz_convert("America/Chicago")
    if not np.isin(local.month, spec.months).any():
        months = ", ".join(str(m) for m in spec.months)
        return f"none: the days lie outside the coincident-peak months ({months})"
    return "historical peaks of bundled ercot_wind_solar load"


def event_columns(
    site: Site, index: pd.DatetimeIndex, outside: EventsOutside = "error"
) -> dict[str, np.ndarray]:
    """Active flags and baseline weights of the site's DR events on ``index``.

    An event (or the baseline window of a scheduled baseline) that is not wholly inside the
    horizon is an error naming the event; with ``outside="inactive"`` (batch tasks and sizing
    histories, which cover many days) an event wholly outside the horizon is simply inactive,
    while one that straddles its edge is still an error.
    """
    if len(index) == 0:
        return {}
    step = pd.Timedelta(minutes=site.interval_minutes)
    first, end = index[0], index[-1] + step
    starts = index.tz_convert("UTC")
    out: dict[str, np.ndarray] = {}
    for i, event in enumerate(site.dr_events):
        start, stop = pd.Timestamp(event.start), pd.Timestamp(event.end)
        if outside == "inactive" and (stop <= first or start >= end):
            out[dr_active_column(event.name)] = np.zeros(len(index))
            if event.baseline == "scheduled":
                out[dr_baseline_column(event.name)] = np.zeros(len(index))
            continue
        if start < first or stop > end:
            raise InputError(
                f"programs.events[{i}] ({event.name}): {start.isoformat()} to {stop.isoformat()} "
                f"is outside the horizon {first.isoformat()} to {end.isoformat()}"
            )
        out[dr_active_column(event.name)] = ((starts >= start) & (starts < stop)).astype(float)
        if event.baseline == "scheduled":
            out[dr_baseline_column(event.name)] = _baseline_weights(event, i, starts, first)
    return out


def _baseline_weights(
    event: DrEvent, i: int, starts: pd.DatetimeIndex, first: pd.Timestamp
) -> np.ndarray:
    start = pd.Timestamp(event.start)
    window_start = start - pd.Timedelta(minutes=event.baseline_minutes)
    if window_start < first:
        raise InputError(
            f"programs.events[{i}].baseline_minutes: the scheduled baseline needs "
            f"{event.baseline_minutes:g} minutes before {start.isoformat()} inside the horizon, "
            f"which starts {first.isoformat()}"
        )
    inside = ((starts >= window_start) & (starts < start)).astype(float)
    if inside.sum() == 0:
        raise InputError(
            f"programs.events[{i}].baseline_minutes: {event.baseline_minutes:g} minutes holds no "
            "whole interval"
        )
    return inside / inside.sum()
