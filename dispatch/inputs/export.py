"""Bundled data sets out as tidy files: the very layout ``--prices``/``--hashprice``/``--profiles``
read back, so an export is a starting point for a user's own data.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from dispatch.errors import InputError
from dispatch.files import write_atomic
from dispatch.inputs.bundled import DATASETS, PROFILES, bundled_price, read_dataset
from dispatch.inputs.checks import check_timezone
from dispatch.inputs.ercot import ancillary_column
from dispatch.inputs.prices import DA_PRICE, RT_PRICE

PRICE_DATASETS = {"ercot_dam_spp": DA_PRICE, "ercot_rtm_spp": RT_PRICE}
"""Bundled price sets and the tidy column that states their market."""


def tidy_export(
    name: str,
    *,
    settlement_point: str | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    timezone: str = "America/Chicago",
) -> tuple[pd.DataFrame, list[str]]:
    """A bundled data set as a tidy frame, and the columns left out (products not priced over
    the whole period, such as ECRS before its launch on 2023-06-10).

    Parameters
    ----------
    name
        Bundled data set (``dispatch data`` lists them).
    settlement_point
        Price node; required for price data sets, refused for the others.
    start, end
        First and last local day (inclusive) in ``timezone``; dates of daily sets. Default: all.
    timezone
        IANA zone of the days and of the written offsets (``interval_start`` keeps the instant).

    Returns
    -------
    frame, left_out
        ``interval_start`` (ISO 8601 with offset) or ``date``, then columns named by quantity and
        unit: ``da_price_usd_per_mwh`` or ``rt_price_usd_per_mwh`` (prices, their market
        stated); ``<product>_usd_per_mw_h``; ``hashprice_usd_per_ph_day``;
        ``<profile>_capacity_factor``.
    """
    if name not in DATASETS:
        raise InputError(f"unknown bundled data set {name!r}; available: {sorted(DATASETS)}")
    check_timezone(timezone)
    if name in PRICE_DATASETS:
        points = list(read_dataset(name).columns)
        if settlement_point not in points:
            found = "none given" if settlement_point is None else f"found {settlement_point!r}"
            raise InputError(
                f"--settlement-point: {name} needs one of {', '.join(points)} ({found})"
            )
    elif settlement_point is not None:
        raise InputError(f"--settlement-point: {name} has no settlement points")
    if start is not None and end is not None and end < start:
        raise InputError(f"--end {end} is before --start {start}")
    if name in PRICE_DATASETS and settlement_point is not None:
        frame = bundled_price(name, settlement_point).rename(PRICE_DATASETS[name]).to_frame()
    elif name == "ercot_dam_as":
        raw = read_dataset(name)
        frame = raw.rename(columns={c: ancillary_column(c) for c in raw.columns})
    elif name == "btc_hashprice":
        frame = read_dataset(name)[["hashprice_usd_per_ph_day"]].dropna()
    else:
        raw = read_dataset(name)
        frame = pd.DataFrame(
            {
                f"{profile}_capacity_factor": raw[column]
                for profile, (dataset, column) in PROFILES.items()
                if dataset == name
            }
        )
    frame = _period(frame, start, end, timezone, daily=DATASETS[name].daily, name=name)
    complete = frame.notna().all()
    left_out = [str(c) for c in frame.columns[~complete]]
    frame = frame.loc[:, complete]
    if DATASETS[name].daily:
        out = frame.reset_index()
        out["date"] = out["date"].map(dt.date.isoformat)
        return out, left_out
    local = pd.DatetimeIndex(frame.index).tz_convert(timezone)
    out = frame.reset_index(drop=True)
    out.insert(0, "interval_start", [t.isoformat() for t in local])
    return out, left_out


def _period(
    frame: pd.DataFrame,
    start: dt.date | None,
    end: dt.date | None,
    timezone: str,
    *,
    daily: bool,
    name: str,
) -> pd.DataFrame:
    if daily:
        keep = pd.Series(True, index=frame.index)
        if start is not None:
            keep &= frame.index >= start
        if end is not None:
            keep &= frame.index <= end
    else:
        index = pd.DatetimeIndex(frame.index)
        keep = pd.Series(True, index=frame.index)
        if start is not None:
            keep &= index >= pd.Timestamp(start).tz_localize(timezone)
        if end is not None:
            keep &= index < pd.Timestamp(end + dt.timedelta(days=1)).tz_localize(timezone)
    chosen = frame[keep.to_numpy()]
    if chosen.empty:
        raise InputError(
            f"--start/--end: {name} covers {frame.index[0]} to {frame.index[-1]}; nothing in "
            f"{start or 'the start'} to {end or 'the end'}"
        )
    return chosen


def write_tidy(frame: pd.DataFrame, out: str | Path) -> Path:
    """Write a tidy frame as CSV (or Parquet for a ``.parquet`` name), whole or not at all."""
    path = Path(out)
    if path.suffix not in (".csv", ".parquet"):
        raise InputError(f"--out: {path} should end in .csv or .parquet")
    if not path.parent.is_dir():
        raise InputError(f"--out: folder {path.parent} does not exist")
    if path.suffix == ".parquet":
        return write_atomic(path, lambda p: frame.to_parquet(p, index=False))
    return write_atomic(path, lambda p: frame.to_csv(p, index=False))
