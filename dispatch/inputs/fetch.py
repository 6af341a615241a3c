"""ERCOT's published inputs for one operating day, pulled with gridstatus and written as the tidy
files an inputs folder holds (``dispatch fetch``; the ``[fetch]`` extra).

What is known when (ERCOT, Central Prevailing Time): the day-ahead market for day D clears on
D - 1 (bids close 10:00, results about 13:30), so from then on D's hourly day-ahead settlement
point prices and ancillary clearing prices (MCPC) are known; D's 15-minute real-time prices are
known only as D runs, and wholly once it has ended. Hashprice has no free public source with a
stable API: the operator gives today's value (``hashprice=``), dated D - 1, the day the plan is
made; :func:`~dispatch.inputs.hashprice.hashprice_on` then holds it over D with a warning.

Every frame gridstatus returns goes through the readers every input file goes through
(:func:`~dispatch.inputs.read_input`: layout, settlement point, market, gaps, plausible values),
then is cut to the day (:func:`~dispatch.inputs.align.align`, which refuses a day not wholly
covered). Only when everything asked for is in hand are the files written, all or none
(temporary names, then renames).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from dispatch.distribution import install_hint
from dispatch.errors import InputError
from dispatch.files import write_atomic_all
from dispatch.inputs.align import align
from dispatch.inputs.detect import read_input
from dispatch.inputs.hashprice import HASHPRICE, PLAUSIBLE_USD_PER_PH_DAY
from dispatch.inputs.horizon import horizon_index
from dispatch.inputs.prices import DA_PRICE, RT_PRICE, price_series
from dispatch.inputs.table import DAY_AHEAD, REAL_TIME, Market, Table

CPT = "America/Chicago"
DA_FILE = "da_prices.csv"
RT_FILE = "rt_prices.csv"
ANCILLARY_FILE = "ancillary.csv"
HASHPRICE_FILE = "hashprice.csv"


class ErcotSource(Protocol):
    """Where ERCOT's published prices come from; each method returns ``None`` when ERCOT has
    not published the data (yet) and raises ``OSError`` when it cannot be reached."""

    def day_ahead_spp(self, day: dt.date) -> pd.DataFrame | None:
        """Hourly DAM settlement point prices of ``day`` at every point (a ``get_spp`` frame)."""
        ...

    def real_time_spp(self, day: dt.date) -> pd.DataFrame | None:
        """15-minute RTM settlement point prices of ``day`` at every point (``get_spp``)."""
        ...

    def day_ahead_as_prices(self, day: dt.date) -> pd.DataFrame | None:
        """Hourly DAM ancillary clearing prices of ``day`` (a ``get_as_prices`` frame)."""
        ...


class Gridstatus:
    """ERCOT through the gridstatus library: ``Ercot().get_spp(day, market=...)`` and
    ``Ercot().get_as_prices(day)``. Prices come for every settlement point (gridstatus reads
    ERCOT's whole report either way), so the reader picks the node and an unknown one is an
    error listing the nodes present.

    Raises
    ------
    InputError
        If gridstatus is not installed (naming the extra to install).
    """

    def __init__(self) -> None:
        try:
            import gridstatus
        except ImportError:
            raise InputError(
                f"fetch: needs the gridstatus library: {install_hint('fetch')}"
            ) from None
        self._gridstatus: Any = gridstatus
        self._ercot: Any = gridstatus.Ercot()

    def day_ahead_spp(self, day: dt.date) -> pd.DataFrame | None:
        market = self._gridstatus.Markets.DAY_AHEAD_HOURLY
        return self._call(self._ercot.get_spp, day.isoformat(), market=market)

    def real_time_spp(self, day: dt.date) -> pd.DataFrame | None:
        market = self._gridstatus.Markets.REAL_TIME_15_MIN
        return self._call(self._ercot.get_spp, day.isoformat(), market=market)

    def day_ahead_as_prices(self, day: dt.date) -> pd.DataFrame | None:
        return self._call(self._ercot.get_as_prices, day.isoformat())

    def _call(self, method: Callable[..., pd.DataFrame], *args: Any, **kwargs: Any) -> Any:
        """``None`` for no data; a network failure as it is (an ``OSError``); any other
        failure inside gridstatus (an ERCOT format it does not know) as one line."""
        try:
            return method(*args, **kwargs)
        except self._gridstatus.NoDataFoundException:
            return None
        except OSError:
            raise
        except Exception as error:
            raise InputError(
                f"fetch: gridstatus Ercot.{method.__name__}({args[0]}) failed: "
                f"{type(error).__name__}: {error}"
            ) from None


@dataclass(frozen=True)
class Fetched:
    """What :func:`fetch_day` wrote, and one note per input it did not (and why)."""

    written: tuple[Path, ...] = ()
    notes: tuple[str, ...] = ()


def fetch_day(
    day: dt.date,
    settlement_point: str,
    out: str | Path,
    *,
    hashprice_usd_per_ph_day: float | None = None,
    source: ErcotSource | None = None,
    now: pd.Timestamp | None = None,
) -> Fetched:
    """Pull ERCOT's prices for local day ``day`` and write them as tidy files into ``out``.

    Writes ``da_prices.csv`` (``interval_start``, ``da_price_usd_per_mwh``: hourly DAM SPP at
    ``settlement_point``), ``ancillary.csv`` (``<product>_usd_per_mw_h``: hourly DAM MCPC of
    every product priced that day), ``rt_prices.csv`` (``rt_price_usd_per_mwh``, 15-minute RTM
    SPP) once the day has ended, and ``hashprice.csv`` (``date``, ``hashprice_usd_per_ph_day``)
    when ``hashprice_usd_per_ph_day`` gives today's value, dated the day before ``day``.

    Parameters
    ----------
    day
        The operating day (a local day in Central Prevailing Time).
    settlement_point
        ERCOT settlement point (hub, load zone or resource node), e.g. ``HB_WEST``.
    out
        Folder to write into (created if missing).
    hashprice_usd_per_ph_day
        Today's hashprice [USD/PH/day], as a pool or a hashprice index shows it.
    source
        Where the prices come from (default: :class:`Gridstatus`).
    now
        The present, tz-aware (default: the clock); real-time prices are pulled only for a day
        that has ended.

    Raises
    ------
    InputError
        If ERCOT cannot be reached, has not published the day-ahead results for ``day``, or
        returns data that does not cover the day; nothing is written then.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: is a file, expected a folder for the input files")
    hashprice = None
    if hashprice_usd_per_ph_day is not None:
        hashprice = _hashprice_frame(day - dt.timedelta(days=1), hashprice_usd_per_ph_day)
    source = source if source is not None else Gridstatus()
    now = now if now is not None else pd.Timestamp.now(tz=CPT)
    hours = horizon_index(CPT, 60, day, day)
    point = settlement_point
    cleared = f"ERCOT DAM for {day}, cleared {day - dt.timedelta(days=1)}"
    files: dict[str, pd.DataFrame] = {}
    notes: list[str] = []

    what = f"{cleared}: day-ahead prices at {point}"
    frame = _pull(f"day-ahead prices at {point}", day, lambda: source.day_ahead_spp(day))
    table = _read(frame, what, point, DAY_AHEAD)
    files[DA_FILE] = _tidy({DA_PRICE: _cut(price_series(table), table, hours, DA_PRICE, what)})

    what = f"{cleared}: ancillary clearing prices"
    frame = _pull("ancillary clearing prices", day, lambda: source.day_ahead_as_prices(day))
    table = _read(frame, what, None, DAY_AHEAD)
    files[ANCILLARY_FILE] = _tidy(
        {c: _cut(table.frame[c].dropna(), table, hours, c, what) for c in table.frame}
    )

    real_time = _real_time(source, day, point, now)
    if isinstance(real_time, str):
        notes.append(f"{RT_FILE}: {real_time}")
    else:
        files[RT_FILE] = real_time

    if hashprice is not None:
        files[HASHPRICE_FILE] = hashprice
    elif (out / HASHPRICE_FILE).exists():
        notes.append(f"{HASHPRICE_FILE}: kept the one in {out} (--hashprice replaces it)")
    else:
        notes.append(
            f"{HASHPRICE_FILE}: not fetched (no free public source with a stable API): give "
            "today's with --hashprice USD_PER_PH_DAY (from your pool or a hashprice index), or "
            f"write {out / HASHPRICE_FILE} (date,{HASHPRICE})"
        )
    out.mkdir(parents=True, exist_ok=True)
    written = write_atomic_all(
        {out / name: partial(frame.to_csv, index=False) for name, frame in files.items()}
    )
    return Fetched(tuple(written), tuple(notes))


def _real_time(
    source: ErcotSource, day: dt.date, point: str, now: pd.Timestamp
) -> pd.DataFrame | str:
    """The day's 15-minute real-time prices as a tidy frame, or why there are none."""
    quarters = horizon_index(CPT, 15, day, day)
    end = quarters[-1] + pd.Timedelta(minutes=15)
    if now < end:
        return (
            f"not fetched: {day} ends {end:%Y-%m-%d %H:%M %Z}, and real-time prices are "
            "published as it runs (fetch again once it has ended, to settle or back-test it)"
        )
    try:
        frame = _pull(f"real-time prices at {point}", day, lambda: source.real_time_spp(day))
    except Unpublished as missing:
        return f"not written: {missing}"
    what = f"ERCOT RTM for {day}: real-time prices at {point}"
    table = _read(frame, what, point, REAL_TIME)
    try:
        return _tidy({RT_PRICE: _cut(price_series(table), table, quarters, RT_PRICE, what)})
    except InputError as partial:  # published up to some interval of the day so far
        return f"not written, the day is not wholly published: {partial}"


class Unpublished(InputError):
    """ERCOT has not published the data asked for (yet)."""


def _pull(what: str, day: dt.date, call: Callable[[], pd.DataFrame | None]) -> pd.DataFrame:
    """Call the source: a network failure becomes one line, no data :class:`Unpublished`."""
    try:
        frame = call()
    except OSError as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise InputError(f"fetch: cannot reach ERCOT for {what} on {day}: {reason}") from None
    if frame is None or frame.empty:
        raise Unpublished(
            f"fetch: ERCOT has not published {what} for {day} (the day-ahead market for {day} "
            f"clears on {day - dt.timedelta(days=1)}, results about 13:30 CPT; real-time prices "
            "as the day runs)"
        )
    return frame


def _read(frame: pd.DataFrame, what: str, settlement_point: str | None, market: Market) -> Table:
    """A pulled frame through the readers every input file goes through."""
    try:
        table = read_input(frame, settlement_point=settlement_point)
    except InputError as error:
        raise InputError(f"fetch: {what}: {error}") from None
    if table.market not in (market, None):
        raise InputError(f"fetch: {what}: the frame holds {table.market} prices")
    return table


def _cut(
    series: pd.Series, table: Table, horizon: pd.DatetimeIndex, name: str, what: str
) -> pd.Series:
    """``series`` on exactly the day's intervals (refused unless it covers all of them)."""
    return align(series, table.step, horizon, name=name, source=f"fetch: {what}", fill=None)


def _tidy(columns: dict[str, pd.Series]) -> pd.DataFrame:
    """A tidy frame: ``interval_start`` with its local offset, then the columns."""
    index = pd.DatetimeIndex(next(iter(columns.values())).index)
    frame = pd.DataFrame({name: series.to_numpy() for name, series in columns.items()})
    frame.insert(0, "interval_start", [t.isoformat() for t in index])
    return frame


def _hashprice_frame(date: dt.date, usd_per_ph_day: float) -> pd.DataFrame:
    """One daily row, within the bounds every hashprice file is held to."""
    low, high = PLAUSIBLE_USD_PER_PH_DAY
    if not low <= usd_per_ph_day <= high:  # also refuses NaN
        raise InputError(
            f"--hashprice: {usd_per_ph_day:g} USD/PH/day is outside the plausible "
            f"{low:,.0f}..{high:,.0f} USD/PH/day (a value in USD/TH/day is 1000 times smaller)"
        )
    return pd.DataFrame({"date": [date.isoformat()], HASHPRICE: [usd_per_ph_day]})
