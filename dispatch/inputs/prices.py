"""Energy price files by market: which column holds the price, and how a price coarser than the
site's intervals is spread over them.

A price file says which market it cleared in when its layout can: ERCOT's DAM and RTM reports by
their kind, gridstatus frames by their ``Market`` column, tidy files by their price column:

* ``da_price_usd_per_mwh``: day-ahead (ERCOT DAM, hourly, cleared the day before);
* ``rt_price_usd_per_mwh``: real-time (ERCOT RTM, 15-minute settlement point prices);
* ``price_usd_per_mwh``: a price of unstated market.

The market decides how a coarser price meets finer site intervals: a day-ahead price settles
every interval of its hour, so it is held whatever ``--fill`` says (an interpolated day-ahead
price is a price nobody settles at); a real-time price coarser than the site cannot settle its
intervals and is refused unless ``--fill`` is given; a price of unstated market needs ``--fill``.
"""

from __future__ import annotations

import pandas as pd

from dispatch.errors import InputError
from dispatch.inputs.align import Fill, duration
from dispatch.inputs.table import DAY_AHEAD, REAL_TIME, Market, Table

PRICE = "price_usd_per_mwh"
DA_PRICE = "da_price_usd_per_mwh"
RT_PRICE = "rt_price_usd_per_mwh"
PRICE_COLUMNS: dict[str, Market | None] = {PRICE: None, DA_PRICE: DAY_AHEAD, RT_PRICE: REAL_TIME}
"""Tidy price columns and the market each one states."""
BUNDLED_MARKETS: dict[str, Market] = {"ercot_dam_spp": DAY_AHEAD, "ercot_rtm_spp": REAL_TIME}
"""The bundled price data sets and the market each cleared in."""


def tidy_price_market(columns: pd.Index) -> Market | None:
    """The market a tidy file's price column states (``None`` if it states none)."""
    markets = {PRICE_COLUMNS[c] for c in columns if c in PRICE_COLUMNS}
    return markets.pop() if len(markets) == 1 else None


def price_series(table: Table) -> pd.Series:
    """The energy price [USD/MWh] of a price table, whichever price column it uses.

    Raises
    ------
    InputError
        If the table has no price column, or several (one file per market).
    """
    present = [c for c in PRICE_COLUMNS if c in table.frame.columns]
    if len(present) > 1:
        raise InputError(
            f"{table.path}: holds {' and '.join(present)}; keep one price column per file "
            "(one file per market)"
        )
    if not present:
        raise InputError(
            f"{table.path}: no price column ({', '.join(PRICE_COLUMNS)}); columns present: "
            f"{', '.join(map(str, table.frame.columns))}"
        )
    return table.column(present[0]).rename(PRICE)


def price_fill(table: Table, site_step: pd.Timedelta, fill: Fill | None) -> Fill | None:
    """How ``table``'s prices are spread over site intervals of ``site_step``.

    A day-ahead price coarser than the site is held, whatever ``fill`` says (it settles every
    interval of its hour). Otherwise an explicit ``fill`` is kept; without one a real-time price
    coarser than the site is refused, and anything else is left to
    :func:`~dispatch.inputs.align.align`, which refuses coarser data without a ``fill``.
    """
    if table.step <= site_step:
        return fill
    if table.market == DAY_AHEAD:
        return "hold"
    if fill is not None:
        return fill
    if table.market == REAL_TIME:
        raise InputError(
            f"{table.description}: real-time prices step by {duration(table.step)}, coarser "
            f"than the site's {duration(site_step)} intervals, so they cannot settle them; give "
            f"real-time prices at {duration(site_step)} or finer (ERCOT's settle every 15 min), "
            "or pass --fill hold to use these as they are"
        )
    return None
