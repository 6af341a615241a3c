"""Daily hashprice in USD/PH/day: from a file in any common unit, or derived from chain data.

Hashprice is what one PH/s of hashrate earns in a day: (block subsidy + fees) x BTC price x the
share of blocks that hashrate expects to find. Accepted daily files (a ``date`` column, one row per
day) hold, in order of preference:

1. ``hashprice_usd_per_ph_day`` (canonical);
2. ``hashprice_usd_per_th_day`` (x 1000);
3. ``hashprice_btc_per_ph_day`` or ``hashprice_btc_per_th_day`` with ``btc_price_usd``;
4. chain data: ``btc_price_usd``, ``difficulty`` and ``fees_btc_per_day`` (or
   ``fees_btc_per_block``), optionally ``hashrate_th_s``, ``block_subsidy_btc`` or ``block_height``.

Derivation (per UTC day; the same formula as the bundled series, PROVENANCE.md section 8)::

    blocks_per_th_day = 86400 * 1e12 / (difficulty * 2**32)     # expected, per TH/s-day
    usd_per_th_day    = price * subsidy * blocks_per_th_day
                      + price * fees_per_day / hashrate_th_s     # or fees_per_block x blocks
    usd_per_ph_day    = 1000 * usd_per_th_day

The subsidy is 50 BTC halved every 210,000 blocks; by date it follows the four halvings so far,
time-weighted on the day a halving happened. A result whose median is off by a factor of 1000
from plausible hashprice is an error that says so.
"""

from __future__ import annotations

import datetime as dt
import warnings

import numpy as np
import pandas as pd

from dispatch.errors import InputError, InputWarning
from dispatch.inputs.table import Source, read_frame, source_name
from dispatch.inputs.tidy import tidy_table

HASHPRICE = "hashprice_usd_per_ph_day"
PLAUSIBLE_USD_PER_PH_DAY = (1.0, 20_000.0)
"""Bounds on the median of a hashprice series: every day since 2016 lies well inside, and a
series in USD/TH/day (x 1/1000) or USD/EH/day (x 1000) falls outside."""
BLOCKS_PER_HALVING = 210_000
HALVINGS_UTC = (  # block height, time of the block that halved the subsidy
    (210_000, pd.Timestamp("2012-11-28 15:24:38", tz="UTC")),
    (420_000, pd.Timestamp("2016-07-09 16:46:13", tz="UTC")),
    (630_000, pd.Timestamp("2020-05-11 19:23:43", tz="UTC")),
    (840_000, pd.Timestamp("2024-04-20 00:09:27", tz="UTC")),
)
SUBSIDY_KNOWN_UNTIL = dt.date(2027, 12, 31)
"""The fifth halving (block 1,050,000) is expected in 2028 on a date nobody knows yet; later days
need ``block_subsidy_btc`` or ``block_height``."""
HOLD_FORWARD_DAYS = 7
"""Days past its last known day that a daily hashprice is held forward (at its last value, with
a warning). Hashprice moves with the BTC price, close to a random walk from one day to the next,
so the last known value is the expected value of the next days; a week covers planning
tomorrow from the value known today, a weekend, and the longest single solve (7 days)."""
SECONDS_PER_DAY = 86_400
TH = 1e12


def subsidy_btc_at_height(height: np.ndarray) -> np.ndarray:
    """Block subsidy [BTC] of blocks at ``height``: 50 BTC halved every 210,000 blocks."""
    halvings = np.asarray(height, dtype=np.int64) // BLOCKS_PER_HALVING
    return np.right_shift(np.int64(5_000_000_000), halvings) / 1e8


def subsidy_btc_on(dates: pd.Index) -> np.ndarray:
    """Mean block subsidy [BTC] over each UTC day, weighted by time on a halving day.

    Raises
    ------
    InputError
        For days after ``SUBSIDY_KNOWN_UNTIL``.
    """
    late = [d for d in dates if d > SUBSIDY_KNOWN_UNTIL]
    if late:
        raise InputError(
            f"the block subsidy on {late[0]} depends on the date of the 2028 halving, which is not "
            "known yet; give block_subsidy_btc or block_height"
        )
    starts = pd.DatetimeIndex(pd.to_datetime(list(dates))).tz_localize("UTC")
    day = pd.Timedelta(days=1)
    epochs = np.zeros(len(starts))  # halvings completed, as a time-weighted fraction of the day
    for _, when in HALVINGS_UTC:
        done = ((starts + day - when) / day).to_numpy().clip(0.0, 1.0)
        epochs += done
    whole = np.floor(epochs)
    part = epochs - whole  # share of the day after a halving that day
    before = 50.0 / 2.0**whole
    return before * (1 - part) + before / 2 * part


def derive_usd_per_ph_day(
    btc_price_usd: pd.Series,
    difficulty: pd.Series,
    *,
    subsidy_btc: pd.Series | np.ndarray,
    fees_btc_per_day: pd.Series | None = None,
    fees_btc_per_block: pd.Series | None = None,
    hashrate_th_s: pd.Series | None = None,
) -> pd.Series:
    """Hashprice [USD/PH/day] from chain data.

    Parameters
    ----------
    btc_price_usd
        BTC price [USD/BTC].
    difficulty
        Mining difficulty [-].
    subsidy_btc
        Block subsidy [BTC/block].
    fees_btc_per_day, fees_btc_per_block
        Transaction fees paid to miners [BTC/day] or [BTC/block]; one of them.
    hashrate_th_s
        Network hashrate [TH/s]; with ``fees_btc_per_day`` it shares the day's fees exactly,
        without it fees are shared by expected blocks (144 a day).
    """
    blocks_per_th_day = SECONDS_PER_DAY * TH / (difficulty * 2.0**32)
    usd_per_th_day = btc_price_usd * subsidy_btc * blocks_per_th_day
    if fees_btc_per_block is not None:
        usd_per_th_day += btc_price_usd * fees_btc_per_block * blocks_per_th_day
    elif fees_btc_per_day is not None and hashrate_th_s is not None:
        usd_per_th_day += btc_price_usd * fees_btc_per_day / hashrate_th_s
    elif fees_btc_per_day is not None:
        usd_per_th_day += btc_price_usd * fees_btc_per_day / 144 * blocks_per_th_day
    else:
        raise InputError("hashprice derivation needs fees_btc_per_day or fees_btc_per_block")
    return (1000 * usd_per_th_day).rename(HASHPRICE)


FEE_COLUMNS = ("fees_btc_per_block", "fees_btc_per_day")
CHAIN_DATA = "btc_price_usd, difficulty and fees"
OPTIONAL_CHAIN_COLUMNS = ("hashrate_th_s", "block_subsidy_btc", "block_height")
ACCEPTED = (
    "hashprice_usd_per_ph_day; hashprice_usd_per_th_day; hashprice_btc_per_ph_day or "
    "hashprice_btc_per_th_day with btc_price_usd; or btc_price_usd, difficulty and "
    "fees_btc_per_day (or fees_btc_per_block)"
)


def hashprice_form(columns: pd.Index) -> str | None:
    """Which accepted hashprice form a daily file's columns hold, best first (``None``: none).

    The canonical column name, ``hashprice_usd_per_th_day``, ``hashprice_btc_per_ph_day`` or
    ``hashprice_btc_per_th_day`` (each with ``btc_price_usd``), or :data:`CHAIN_DATA`.
    """
    present = set(columns)
    for name in (HASHPRICE, "hashprice_usd_per_th_day"):
        if name in present:
            return name
    if "btc_price_usd" in present:
        for name in ("hashprice_btc_per_ph_day", "hashprice_btc_per_th_day"):
            if name in present:
                return name
        if "difficulty" in present and present & set(FEE_COLUMNS):
            return CHAIN_DATA
    return None


def read_hashprice(source: Source) -> pd.Series:
    """Daily hashprice [USD/PH/day] indexed by date, from a file in any accepted unit.

    Parameters
    ----------
    source
        Daily CSV or Parquet file (``date`` column), or a frame.
    """
    frame, row = read_frame(source)
    path = source_name(source)
    if "date" not in frame.columns:
        raise InputError(
            f"{path}: hashprice is daily: expected a 'date' column (YYYY-MM-DD), "
            f"found columns {list(frame.columns)}"
        )
    present = set(frame.columns)

    def read(*names: str) -> pd.DataFrame:
        return tidy_table(frame, row=row, path=path, columns=list(names)).frame

    given = hashprice_form(frame.columns)
    if given == HASHPRICE:
        usd = read(HASHPRICE)[HASHPRICE]
    elif given == "hashprice_usd_per_th_day":
        usd = 1000 * read(given)[given]
    elif given in ("hashprice_btc_per_ph_day", "hashprice_btc_per_th_day"):
        data = read(given, "btc_price_usd")
        per_ph = 1.0 if given.endswith("_ph_day") else 1000.0
        usd = per_ph * data[given] * data["btc_price_usd"]
    elif given == CHAIN_DATA:
        fees = next(c for c in FEE_COLUMNS if c in present)
        optional = [c for c in OPTIONAL_CHAIN_COLUMNS if c in present]
        usd = _derive(read("btc_price_usd", "difficulty", fees, *optional))
    else:
        raise InputError(
            f"{path}: no hashprice columns; expected one of: {ACCEPTED}. "
            f"Found columns {list(frame.columns)}"
        )
    usd = usd.rename(HASHPRICE)
    _check_magnitude(usd, given=given, path=path)
    return usd


def _derive(data: pd.DataFrame) -> pd.Series:
    if "block_subsidy_btc" in data:
        subsidy = data["block_subsidy_btc"].to_numpy()
    elif "block_height" in data:
        subsidy = subsidy_btc_at_height(data["block_height"].to_numpy())
    else:
        subsidy = subsidy_btc_on(data.index)
    return derive_usd_per_ph_day(
        data["btc_price_usd"],
        data["difficulty"],
        subsidy_btc=subsidy,
        fees_btc_per_day=data.get("fees_btc_per_day"),
        fees_btc_per_block=data.get("fees_btc_per_block"),
        hashrate_th_s=data.get("hashrate_th_s"),
    )


def _check_magnitude(usd: pd.Series, *, given: str, path: str) -> None:
    low, high = PLAUSIBLE_USD_PER_PH_DAY
    median = float(usd.median())
    if not low <= median <= high:
        hint = "check the units of the columns"
        if median < low and low <= median * 1000 <= high:
            hint = "it looks 1000 times too small: " + (
                "values in USD/TH/day belong in hashprice_usd_per_th_day"
                if given == HASHPRICE
                else "check the unit in the column names"
            )
        elif median > high and low <= median / 1000 <= high:
            hint = "it looks 1000 times too large: " + (
                "values in USD/PH/day belong in hashprice_usd_per_ph_day"
                if given == "hashprice_usd_per_th_day"
                else "check the unit in the column names"
            )
        shown = f"{median:,.2f}" if median >= 1 else f"{median:.4g}"
        raise InputError(
            f"{path}: hashprice from {given} has median {shown} USD/PH/day, outside the "
            f"plausible {low:,.0f}..{high:,.0f} USD/PH/day; {hint}"
        )
    bad = usd <= 0
    if bad.any():
        day = usd.index[int(np.argmax(bad.to_numpy()))]
        raise InputError(f"{path}: hashprice on {day} is {usd[day]:g} USD/PH/day, expected > 0")


def hashprice_on(horizon: pd.DatetimeIndex, daily: pd.Series, source: str) -> pd.Series:
    """Daily hashprice [USD/PH/day] on the intervals of ``horizon``, held over each local day.

    Days after the last day of ``daily`` take its last value for up to
    :data:`HOLD_FORWARD_DAYS` days (what is known when tomorrow is planned is today's value at
    best), with an :class:`~dispatch.errors.InputWarning` saying which day's value is used.

    Parameters
    ----------
    horizon
        Interval starts, tz-aware in the site's zone (their local dates are the days).
    daily
        Hashprice [USD/PH/day] indexed by date, one row per day without gaps.
    source
        Where ``daily`` came from, for messages.

    Raises
    ------
    InputError
        For a day before the first of ``daily``, or more than :data:`HOLD_FORWARD_DAYS` after
        its last.
    """
    days = pd.Index(horizon.date)
    first, last = min(daily.index), max(daily.index)
    values = daily.reindex(days)
    later = sorted({d for d in days if d > last})
    if later:
        ahead = (later[-1] - last).days
        if ahead > HOLD_FORWARD_DAYS:
            raise InputError(
                f"{source}: {HASHPRICE} has no value for {later[-1]}: its last day is {last}, "
                f"{ahead} days earlier, and a last known value is held forward {HOLD_FORWARD_DAYS} "
                f"days at most; add a row for {later[-1] - dt.timedelta(days=HOLD_FORWARD_DAYS)} "
                "or later (today's hashprice when planning tomorrow)"
            )
        span = str(later[0]) if len(later) == 1 else f"{later[0]} to {later[-1]}"
        warnings.warn(
            f"{source}: {HASHPRICE} for {span} is {last}'s {daily[last]:,.2f} USD/PH/day held "
            f"forward (the last value known, {ahead} day{'s' if ahead > 1 else ''} before)",
            InputWarning,
            stacklevel=3,
        )
        values[days > last] = daily[last]
    missing = values.isna().to_numpy()
    if missing.any():
        raise InputError(
            f"{source}: {HASHPRICE} has no value for {days[int(np.argmax(missing))]} "
            f"(covers {first} to {last})"
        )
    return pd.Series(values.to_numpy(dtype=float), index=horizon, name=HASHPRICE)
