"""gridstatus price frames, as the library returns them or as its hosted API serves them.

Two column conventions, both long (one row per interval and location):

* the library (``Ercot().get_spp(...)``, ``get_lmp(...)`` of any ISO): ``Time, Interval Start,
  Interval End, Location, Location Type, Market`` and ``SPP``, or ``LMP`` with its ``Energy,
  Congestion, Loss`` components; timestamps tz-aware (written to CSV with their UTC offset);
* the hosted API / gridstatusio: ``interval_start_utc, interval_end_utc, location, location_type,
  market`` and ``spp`` or ``lmp`` (with ``energy, congestion, loss``).

The site's settlement point is selected by location; the price is ``SPP`` (or the total ``LMP``).
gridstatus itself is never imported: users bring frames or files it produced.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from dispatch.errors import InputError
from dispatch.inputs.align import RowLabel
from dispatch.inputs.table import Table, build_table, numeric, parse_times, select_point

PRICE = "price_usd_per_mwh"


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
    if found.market in rows.columns:
        markets = list(dict.fromkeys(rows[found.market].astype(str)))
        if len(markets) > 1:
            raise InputError(
                f"{path}: holds more than one market for {rows[found.location].iloc[0]} "
                f"({', '.join(markets)}); keep one market per file"
            )
    time_column = next(t for t in found.times if t in rows.columns)
    price_column = next(p for p in found.prices if p in rows.columns)
    times = parse_times(rows[time_column], path=path, row=label, timezone=timezone)
    prices = numeric(rows, price_column, label).rename(PRICE)
    return build_table(times, {PRICE: prices}, path=path, row=label)
