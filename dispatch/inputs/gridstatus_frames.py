"""gridstatus frames, as the library returns them or as its hosted API serves them.

Price frames follow two column conventions, both long (one row per interval and location):

* the library (``Ercot().get_spp(...)``, ``get_lmp(...)`` of any ISO): ``Time, Interval Start,
  Interval End, Location, Location Type, Market`` and ``SPP``, or ``LMP`` with its ``Energy,
  Congestion, Loss`` components; timestamps tz-aware (written to CSV with their UTC offset);
* the hosted API / gridstatusio: ``interval_start_utc, interval_end_utc, location, location_type,
  market`` and ``spp`` or ``lmp`` (with ``energy, congestion, loss``).

The site's settlement point is selected by location; the price is ``SPP`` (or the total ``LMP``);
the ``Market`` (``DAY_AHEAD_HOURLY``, ``REAL_TIME_15_MIN``, ...) says day-ahead or real-time.

ERCOT day-ahead ancillary clearing prices (``Ercot().get_as_prices(...)``) are wide: ``Time,
Interval Start, Interval End, Market`` and one column per product under its long name
(``Regulation Up``, ``Regulation Down``, ``Responsive Reserves``, ``Non-Spinning Reserves``,
``ERCOT Contingency Reserve Service``); a product not yet launched is empty (ECRS before
2023-06-10) and left out.

gridstatus itself is never imported here: these readers take frames or files it produced.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from dispatch.errors import InputError
from dispatch.inputs.align import RowLabel
from dispatch.inputs.ercot import ancillary_column
from dispatch.inputs.table import (
    DAY_AHEAD,
    REAL_TIME,
    Market,
    Table,
    build_table,
    numeric,
    parse_times,
    select_point,
)

PRICE = "price_usd_per_mwh"
AS_PRODUCTS = {
    "Regulation Up": "REGUP",
    "Regulation Down": "REGDN",
    "Responsive Reserves": "RRS",
    "Non-Spinning Reserves": "NSPIN",
    "ERCOT Contingency Reserve Service": "ECRS",
}
"""gridstatus's long names of ERCOT's ancillary products -> ERCOT's short names."""


@dataclass(frozen=True)
class Convention:
    name: str
    times: tuple[str, ...]  # candidate interval-start columns, best first
    location: str
    location_type: str
    market: str
    prices: tuple[str, ...]  # candidate price columns, best first


CONVENTIONS = (
    Convention(
        "gridstatus",
        ("Interval Start", "Time"),
        "Location",
        "Location Type",
        "Market",
        ("SPP", "LMP"),
    ),
    Convention(
        "gridstatus API",
        ("interval_start_utc",),
        "location",
        "location_type",
        "market",
        ("spp", "lmp"),
    ),
)


def convention(columns: pd.Index) -> Convention | None:
    """The gridstatus convention a frame's columns follow, if any."""
    for c in CONVENTIONS:
        if (
            any(t in columns for t in c.times)
            and c.location in columns
            and any(p in columns for p in c.prices)
        ):
            return c
    return None


def gridstatus_table(
    frame: pd.DataFrame,
    *,
    row: RowLabel,
    path: str,
    settlement_point: str | None,
    timezone: str | None = None,
) -> Table:
    """``price_usd_per_mwh`` at ``settlement_point`` from a gridstatus frame.

    Parameters
    ----------
    frame
        Rows in file order.
    row
        Names file row i in messages.
    path
        The file (or "frame") for messages.
    settlement_point
        Location to select; ``None`` takes a single-location file whole.
    timezone
        IANA zone for naive ``Interval Start`` values (a CSV that lost its offsets).
    """
    found = convention(frame.columns)
    if found is None:
        raise InputError(f"{path}: not a gridstatus price frame")
    rows, label = select_point(
        frame,
        point_column=found.location,
        point=settlement_point,
        path=path,
        row=row,
        type_column=found.location_type,
    )
    market: Market | None = None
    if found.market in rows.columns:
        markets = list(dict.fromkeys(rows[found.market].astype(str)))
        if len(markets) > 1:
            raise InputError(
                f"{path}: holds more than one market for {rows[found.location].iloc[0]} "
                f"({', '.join(markets)}); keep one market per file"
            )
        market = market_of(markets[0])
    time_column = next(t for t in found.times if t in rows.columns)
    price_column = next(p for p in found.prices if p in rows.columns)
    times = parse_times(rows[time_column], path=path, row=label, timezone=timezone)
    prices = numeric(rows, price_column, label).rename(PRICE)
    return replace(build_table(times, {PRICE: prices}, path=path, row=label), market=market)


def market_of(name: str) -> Market | None:
    """``DAY_AHEAD_HOURLY`` -> day-ahead, ``REAL_TIME_15_MIN`` -> real-time (gridstatus's
    ``Markets`` names); other names state no market this package settles."""
    upper = name.strip().upper()
    if upper.startswith("DAY_AHEAD"):
        return DAY_AHEAD
    if upper.startswith("REAL_TIME"):
        return REAL_TIME
    return None


def is_as_frame(columns: pd.Index) -> bool:
    """Whether columns are those of ``Ercot().get_as_prices`` (wide, products by long name)."""
    return "Interval Start" in columns and any(name in columns for name in AS_PRODUCTS)


def gridstatus_as_table(
    frame: pd.DataFrame, *, row: RowLabel, path: str, timezone: str | None = None
) -> Table:
    """``<product>_usd_per_mw_h`` of every product priced in a ``get_as_prices`` frame.

    Parameters
    ----------
    frame
        Rows in file order.
    row
        Names file row i in messages.
    path
        The file (or "frame") for messages.
    timezone
        IANA zone for naive ``Interval Start`` values.

    Each product is checked over the rows that price it (an empty product is left out; one
    priced on some hours only must be priced over a gap-free run of hours).
    """
    times = parse_times(frame["Interval Start"], path=path, row=row, timezone=timezone)
    tables = []
    for name, product in AS_PRODUCTS.items():
        if name not in frame.columns:
            continue
        prices = numeric(frame, name, row)
        keep = np.flatnonzero(prices.notna().to_numpy())
        if keep.size == 0:
            continue

        def label(i: int, keep: np.ndarray = keep) -> str:
            return row(int(keep[i]))

        tables.append(
            build_table(
                times.iloc[keep],
                {ancillary_column(product): prices.iloc[keep]},
                path=path,
                row=label,
            )
        )
    if not tables:
        raise InputError(f"{path}: no ancillary prices in the frame")
    joined = pd.concat([t.frame for t in tables], axis=1).sort_index()
    return Table(joined, tables[0].step, path, market=DAY_AHEAD)
