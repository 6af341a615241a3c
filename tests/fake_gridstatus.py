"""A stand-in for the gridstatus library that serves one day of real ERCOT prices (cut from the
bundled data) in gridstatus's documented layouts, published as ERCOT publishes them: the
day-ahead results from 13:30 CPT the day before, real-time intervals once they have ended.

Installed with ``monkeypatch.setitem(sys.modules, "gridstatus", fake_gridstatus(day, now))``;
``module.calls`` records every call (method, date, keyword arguments).
"""

from __future__ import annotations

import types
from enum import StrEnum
from typing import Any

import pandas as pd
from real_files import gridstatus_as_prices, gridstatus_spp

CPT = "America/Chicago"
POINTS = ("HB_WEST", "HB_NORTH", "HB_HOUSTON")


class Markets(StrEnum):
    """The two members of gridstatus.Markets that ERCOT's get_spp serves."""

    REAL_TIME_15_MIN = "REAL_TIME_15_MIN"
    DAY_AHEAD_HOURLY = "DAY_AHEAD_HOURLY"


class NoDataFoundException(Exception):
    """gridstatus's "no document published" error."""


def fake_gridstatus(day: str, now: pd.Timestamp) -> types.ModuleType:
    """A ``gridstatus`` module whose ``Ercot`` knows ``day`` as ERCOT did at ``now``."""
    day_ahead = gridstatus_spp(day, POINTS, dataset="ercot_dam_spp")
    real_time = gridstatus_spp(day, POINTS, dataset="ercot_rtm_spp")
    ancillary = gridstatus_as_prices(day)
    published = pd.Timestamp(day, tz=CPT) - pd.Timedelta(hours=10, minutes=30)  # 13:30 before
    calls: list[tuple[str, str, dict[str, Any]]] = []

    class Ercot:
        def get_spp(
            self,
            date: str,
            end: str | None = None,
            market: Markets | None = None,
            locations: Any = "ALL",
            location_type: str = "ALL",
            verbose: bool = False,
        ) -> pd.DataFrame:
            calls.append(("get_spp", date, {"market": market, "locations": locations}))
            if date != day or market is None:
                raise NoDataFoundException(f"no documents for {date}")
            if market == Markets.DAY_AHEAD_HOURLY:
                if now < published:
                    raise NoDataFoundException("DAM not yet published")
                frame = day_ahead
            else:
                frame = real_time[real_time["Interval End"] <= now]
                if frame.empty:
                    raise NoDataFoundException("no RTM interval published yet")
            if locations != "ALL":
                frame = frame[frame["Location"].isin(locations)]
            return frame.reset_index(drop=True)

        def get_as_prices(
            self, date: str, end: str | None = None, verbose: bool = False
        ) -> pd.DataFrame:
            calls.append(("get_as_prices", date, {}))
            if date != day or now < published:
                raise NoDataFoundException("DAM not yet published")
            return ancillary.copy()

    module = types.ModuleType("gridstatus")
    module.Ercot = Ercot  # type: ignore[attr-defined]
    module.Markets = Markets  # type: ignore[attr-defined]
    module.NoDataFoundException = NoDataFoundException  # type: ignore[attr-defined]
    module.calls = calls  # type: ignore[attr-defined]
    return module
