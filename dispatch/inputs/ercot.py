"""ERCOT's own report files: hour-ending Central Prevailing Time, DST flags, long layouts.

Forms read (headers matched ignoring spaces, underscores and case, so the historical workbook
headers ``Delivery Date`` and the MIS CSV headers ``DeliveryDate`` are the same column):

* DAM settlement point prices (NP4-190-CD, NP4-180-ER): ``DeliveryDate, HourEnding,
  SettlementPoint, SettlementPointPrice`` with ``DSTFlag`` or ``Repeated Hour Flag``;
* RTM 15-minute settlement point prices (NP6-905-CD, NP6-785-ER): ``DeliveryDate, DeliveryHour,
  DeliveryInterval, SettlementPointName, SettlementPointType, SettlementPointPrice`` with the flag;
* DAM ancillary clearing prices, MCPC (NP4-188-CD): ``DeliveryDate, HourEnding, AncillaryType,
  MCPC`` with the flag, or the historical wide layout (NP4-181-ER) ``Delivery Date, Hour Ending,
  Repeated Hour Flag, REGDN, REGUP, RRS, NSPIN, ECRS``.

Hour ending h (``01:00`` .. ``24:00``) of day d starts at d + (h - 1) hours Central Prevailing
Time; interval i (1..4) of delivery hour h starts 15 (i - 1) minutes later. On the fall-back day
the hour 01:00-02:00 comes twice: the row flagged ``Y`` (or ``True``) is the second (CST) one,
the reading gridstatus also uses. On the
spring-forward day there is no hour ending 03:00 (02:00-03:00 does not exist), and a file that
has one is refused.
"""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pandas as pd

from dispatch.errors import InputError
from dispatch.inputs.align import RowLabel
from dispatch.inputs.table import (
    DAY_AHEAD,
    REAL_TIME,
    Table,
    build_table,
    numeric,
    select_point,
)

CPT = "America/Chicago"
REPEATED_FLAGS = frozenset({"Y", "TRUE"})  # some ERCOT API extracts carry the flag as a boolean
PRICE = "price_usd_per_mwh"
AS_PRODUCTS = frozenset(
    {"REGUP", "REGDN", "RRS", "NSPIN", "ECRS", "RRSPFR", "RRSFFR", "RRSUFR", "ECRSS", "ECRSM"}
)
_TIME_KEYS = frozenset(
    {
        "deliverydate",
        "hourending",
        "deliveryhour",
        "deliveryinterval",
        "repeatedhourflag",
        "dstflag",
    }
)


def _key(column: object) -> str:
    return re.sub(r"[\s_]", "", str(column)).lower()


def ancillary_column(product: str) -> str:
    """``RRS`` -> ``rrs_usd_per_mw_h``: the inputs column of a product's clearing price."""
    return f"{product.strip().lower()}_usd_per_mw_h"


def report_kind(columns: pd.Index) -> str | None:
    """``dam_spp``, ``rtm_spp``, ``dam_mcpc`` or ``dam_mcpc_wide``; ``None`` if not ERCOT's."""
    keys = {_key(c) for c in columns}
    if "deliverydate" not in keys:
        return None
    points = bool({"settlementpoint", "settlementpointname"} & keys)
    if {"deliveryhour", "deliveryinterval", "settlementpointprice"} <= keys and points:
        return "rtm_spp"
    if {"hourending", "settlementpointprice"} <= keys and points:
        return "dam_spp"
    if {"hourending", "ancillarytype", "mcpc"} <= keys:
        return "dam_mcpc"
    others = {str(c).strip().upper() for c in columns if _key(c) not in _TIME_KEYS}
    if "hourending" in keys and others and others <= AS_PRODUCTS:
        return "dam_mcpc_wide"
    return None


def ercot_table(
    frame: pd.DataFrame, *, row: RowLabel, path: str, settlement_point: str | None
) -> Table:
    """Prices from an ERCOT report: ``price_usd_per_mwh`` at ``settlement_point`` for SPP
    reports, ``<product>_usd_per_mw_h`` for every product of an MCPC report.

    Parameters
    ----------
    frame
        Rows in file order.
    row
        Names file row i in messages.
    path
        The file (or "frame") for messages.
    settlement_point
        Settlement point to select from an SPP report (``None``: a single-point file whole).
    """
    kind = report_kind(frame.columns)
    names = {_key(c): c for c in frame.columns}
    if kind in ("dam_spp", "rtm_spp"):
        point_column = names.get("settlementpointname") or names["settlementpoint"]
        rows, label = select_point(
            frame,
            point_column=point_column,
            point=settlement_point,
            path=path,
            row=row,
            type_column=names.get("settlementpointtype"),
        )
        times, ambiguous = interval_starts(rows, names, label, quarter=kind == "rtm_spp")
        prices = numeric(rows, names["settlementpointprice"], label)
        _check_repeated_hour(times, ambiguous, label, names)
        table = build_table(times, {PRICE: prices}, path=path, row=label)
        return replace(table, market=DAY_AHEAD if kind == "dam_spp" else REAL_TIME)
    if kind == "dam_mcpc":
        products = frame[names["ancillarytype"]].astype(str).str.strip().str.upper()
        values = numeric(frame, names["mcpc"], row)
        series = {p: ((products == p).to_numpy(), values) for p in dict.fromkeys(products)}
        return _products_table(frame, names, series, row=row, path=path)
    if kind == "dam_mcpc_wide":
        series = {}
        for column in (c for c in frame.columns if _key(c) not in _TIME_KEYS):
            prices = numeric(frame, column, row)
            if prices.notna().any():  # a product not yet launched (ECRS before 2023-06-10)
                series[str(column).strip().upper()] = (prices.notna().to_numpy(), prices)
        return _products_table(frame, names, series, row=row, path=path)
    raise InputError(f"{path}: not an ERCOT report layout")


def _products_table(
    frame: pd.DataFrame,
    names: dict[str, str],
    series: dict[str, tuple[np.ndarray, pd.Series]],
    *,
    row: RowLabel,
    path: str,
) -> Table:
    """One column per ancillary product, each checked over its own rows (product -> rows of
    the file that price it, prices in file order)."""
    tables = []
    for product, (mask, prices) in series.items():
        keep = np.flatnonzero(mask)
        rows = frame.iloc[keep].reset_index(drop=True)

        def label(i: int, keep: np.ndarray = keep) -> str:
            return row(int(keep[i]))

        times, ambiguous = interval_starts(rows, names, label, quarter=False)
        _check_repeated_hour(times, ambiguous, label, names)
        price = prices.iloc[keep].reset_index(drop=True)
        tables.append(build_table(times, {ancillary_column(product): price}, path=path, row=label))
    if not tables:
        raise InputError(f"{path}: no ancillary prices in the file")
    joined = pd.concat([t.frame for t in tables], axis=1).sort_index()
    return Table(joined, tables[0].step, path)


def interval_starts(
    rows: pd.DataFrame, names: dict[str, str], row: RowLabel, *, quarter: bool
) -> tuple[pd.Series, np.ndarray]:
    """UTC interval starts of ERCOT rows, and which local starts fall in the repeated hour.

    Parameters
    ----------
    rows
        Rows of one series in file order.
    names
        Normalised header -> actual column name.
    row
        Names row i in messages.
    quarter
        Rows carry a ``DeliveryInterval`` (1..4, 15 minutes each) within a ``DeliveryHour``.
    """
    dates = _delivery_dates(rows[names["deliverydate"]], row, names["deliverydate"])
    hour_column = names.get("hourending", names.get("deliveryhour", ""))
    hours = _integers(rows[hour_column], row, hour_column, low=1, high=24)
    naive = dates + pd.to_timedelta(hours - 1, unit="h")
    if quarter:
        interval_column = names["deliveryinterval"]
        intervals = _integers(rows[interval_column], row, interval_column, low=1, high=4)
        naive = naive + pd.to_timedelta((intervals - 1) * 15, unit="min")
    flag_column = names.get("repeatedhourflag", names.get("dstflag"))
    if flag_column is None:
        repeated = np.zeros(len(rows), dtype=bool)
    else:
        flags = rows[flag_column].astype(str).str.strip().str.upper()
        repeated = flags.isin(REPEATED_FLAGS).to_numpy()
    ambiguous = naive.dt.tz_localize(CPT, ambiguous="NaT", nonexistent="shift_forward").isna()
    local = naive.dt.tz_localize(CPT, ambiguous=~repeated, nonexistent="NaT")
    if local.isna().any():
        i = int(local.isna().idxmax())
        raise InputError(
            f"{row(i)}: {_label(dates.iloc[i], hours.iloc[i])} does not exist in Central "
            "Prevailing Time (the spring-forward day skips 02:00-03:00); the day has 23 hours"
        )
    wrong_flag = repeated & ~ambiguous.to_numpy()
    if wrong_flag.any():
        i = int(np.argmax(wrong_flag))
        raise InputError(
            f"{row(i)}: {flag_column} = Y on {_label(dates.iloc[i], hours.iloc[i])}, which is "
            "not the repeated fall-back hour"
        )
    return local.dt.tz_convert("UTC"), ambiguous.to_numpy()


def _check_repeated_hour(
    times: pd.Series, ambiguous: np.ndarray, row: RowLabel, names: dict[str, str]
) -> None:
    twice = (times.duplicated() & ambiguous).to_numpy()
    if twice.any():
        i = int(np.argmax(twice))
        flag = names.get("repeatedhourflag", names.get("dstflag", "DSTFlag"))
        local = times.iloc[i].tz_convert(CPT)
        raise InputError(
            f"{row(i)}: the fall-back hour starting {local:%Y-%m-%d %H:%M} appears twice without "
            f"its second (CST) occurrence flagged Y in {flag}"
        )


def _label(date: pd.Timestamp, hour: int) -> str:
    return f"hour ending {hour:02d}:00 of {date:%Y-%m-%d}"


def _delivery_dates(raw: pd.Series, row: RowLabel, name: str) -> pd.Series:
    """ERCOT delivery dates: ``MM/DD/YYYY`` as published, or ISO ``YYYY-MM-DD``."""
    if pd.api.types.is_datetime64_any_dtype(raw.dtype):
        return raw.dt.tz_localize(None).dt.normalize() if raw.dt.tz else raw.dt.normalize()
    text = raw.astype(str).str.strip()
    for fmt in ("%m/%d/%Y", "%Y-%m-%d"):
        parsed = pd.to_datetime(text, format=fmt, errors="coerce")
        if parsed.notna().all():
            return parsed
    parsed = pd.to_datetime(text, format="%m/%d/%Y", errors="coerce")
    i = int(parsed.isna().idxmax())
    raise InputError(f"{row(i)}: {name} {raw.iloc[i]!r} is not a date (MM/DD/YYYY)")


def _integers(raw: pd.Series, row: RowLabel, name: str, *, low: int, high: int) -> pd.Series:
    """Hours (``01:00``, ``24:00`` or ``7``) or interval numbers as integers in low..high."""
    digits = raw.astype(str).str.strip().str.extract(r"^(\d{1,2})(?::00)?$")[0]
    numbers = pd.to_numeric(digits, errors="coerce")
    bad = numbers.isna() | (numbers < low) | (numbers > high)
    if bad.any():
        i = int(bad.idxmax())
        raise InputError(f"{row(i)}: {name} {raw.iloc[i]!r} is not a number in {low}..{high}")
    return numbers.astype(int)
