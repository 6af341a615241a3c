"""What the operator knows when: the day-ahead view of a day and the real-time price forecasts.

* **Day-ahead (the day before, DAM closes 10:00 CPT)**: day-ahead energy and ancillary prices of
  the day (cleared), the hashprice of the day before (:func:`previous_day_hashprice`), and
  coincident-peak weights from ERCOT load of the days before (:func:`forecast_peak_weights`).
* **Real time, decision time k** (interval position in the day): the real-time prices of the
  intervals strictly before k, and a :class:`PriceForecast` for intervals k.. (default: the
  day-ahead price). The day-ahead view of everything else stays as it was.
* **Settlement**: the realized day (real-time prices, the realized coincident peaks, the day's
  realized hashprice) prices what was done; it never feeds a decision.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from dispatch.errors import InputError
from dispatch.inputs import DA_PRICE, HASHPRICE, PRICE, Inputs
from dispatch.inputs.programs import COINCIDENT_PEAK_WEIGHT
from dispatch.site import CoincidentPeak, Site

# Peak-risk rule (P1 in operator mode): a day is a peak-risk day when the day before reached
# RISK_FRACTION of the month's highest load so far; its weight goes to the hours in which the
# day before was within HOUR_BAND_FRACTION of its own maximum.
RISK_FRACTION = 0.95
HOUR_BAND_FRACTION = 0.98


class PriceForecast(Protocol):
    """A real-time price forecast for the rest of a day, from what is known at decision time.

    ``rest_of_day(k, known_rt, day_ahead)`` returns prices [USD/MWh] for intervals k..n-1 of the
    day, given ``known_rt`` (the real-time prices of intervals 0..k-1, nothing later) and the
    day's day-ahead view ``day_ahead``. Scenario forecasts (stochastic dispatch) plug in here.
    """

    def rest_of_day(self, k: int, known_rt: np.ndarray, day_ahead: Inputs) -> np.ndarray: ...


@dataclass(frozen=True)
class DayAheadForecast:
    """The day-ahead price of each remaining interval (the default)."""

    def rest_of_day(self, k: int, known_rt: np.ndarray, day_ahead: Inputs) -> np.ndarray:
        return day_ahead.frame[DA_PRICE].to_numpy(dtype=float)[k:]


@dataclass(frozen=True)
class SpreadForecast:
    """The day-ahead price plus the latest known real-time spread, decaying: for t >= k,
    ``da[t] + (rt[k-1] - da[k-1]) × 0.5 ** ((t - k + 1) × Δ / half_life_hours)`` (the day-ahead
    price at k = 0, when no real-time price of the day is known yet).

    The real-time minus day-ahead spread at ERCOT hubs is persistent over a few hours: at HB_WEST
    in 2022 (before any back-test period here) its autocorrelation is 0.91 at 15 minutes, 0.73
    at 1 h and 0.48 at 2 h, an AR(1) with a half-life near 2 h, the default.
    """

    half_life_hours: float = 2.0

    def rest_of_day(self, k: int, known_rt: np.ndarray, day_ahead: Inputs) -> np.ndarray:
        da = day_ahead.frame[DA_PRICE].to_numpy(dtype=float)
        if k == 0:
            return da
        step_h = (day_ahead.index[1] - day_ahead.index[0]) / pd.Timedelta(hours=1)
        ahead_h = np.arange(1, len(da) - k + 1) * step_h
        spread = known_rt[k - 1] - da[k - 1]
        return da[k:] + spread * 0.5 ** (ahead_h / self.half_life_hours)


@dataclass(frozen=True)
class HindsightForecast:
    """The realized real-time prices: perfect foresight, the labelled upper bound. Never the
    information of a decision an operator could make."""

    realized: Inputs

    def rest_of_day(self, k: int, known_rt: np.ndarray, day_ahead: Inputs) -> np.ndarray:
        return self.realized.frame[PRICE].to_numpy(dtype=float)[k:]


@dataclass(frozen=True)
class SeriesForecast:
    """A user's forecast [USD/MWh] by interval start (issued before the day; not revised)."""

    prices: pd.Series
    source: str

    def rest_of_day(self, k: int, known_rt: np.ndarray, day_ahead: Inputs) -> np.ndarray:
        index = day_ahead.index[k:]
        values = self.prices.reindex(index.tz_convert("UTC"))
        if values.isna().any():
            missing = index[int(np.argmax(values.isna().to_numpy()))]
            raise InputError(f"{self.source}: the forecast has no price for {missing}")
        return values.to_numpy(dtype=float)


def forecast_peak_weights(
    spec: CoincidentPeak, horizon: pd.DatetimeIndex, load_mw: pd.Series
) -> pd.Series:
    """Coincident-peak weight of each interval of ``horizon`` from ERCOT load of earlier days.

    For each local day D in a coincident-peak month: D is a peak-risk day when the highest hourly
    ERCOT load of D-1 is at least ``RISK_FRACTION`` of the highest load of the month's days before
    D (the first day of a month is always a risk day). On a risk day the weight 1 is shared by the
    clock hours in which D-1's load was within ``HOUR_BAND_FRACTION`` of D-1's maximum (ERCOT's
    summer peak hour repeats from day to day); each interval gets its hour's share times the part
    of the hour it covers. Only load before D is read. The weights are a curtailment signal, not
    the realized peak: settlement charges the realized peaks.

    ``load_mw``: hourly ERCOT load [MW] by UTC hour start (bundled ``ercot_wind_solar``).
    """
    tz = "America/Chicago"  # ERCOT's clock: days and hours of the 4CP
    load = load_mw.tz_convert(tz)
    local = horizon.tz_convert(tz)
    weights = np.zeros(len(horizon))
    step_h = (horizon[1] - horizon[0]) / pd.Timedelta(hours=1) if len(horizon) > 1 else 1.0
    for day in sorted(set(local.date)):
        if day.month not in spec.months:
            continue
        before = day - dt.timedelta(days=1)
        yesterday = load[load.index.date == before]
        if yesterday.empty:
            raise InputError(
                f"grid.coincident_peak: operator mode forecasts the peak of {day} from ERCOT load "
                f"of {before}, which the bundled load data does not cover (2022-2024)"
            )
        month_start = day.replace(day=1)
        so_far = load[(load.index.date >= month_start) & (load.index.date < day)]
        if not so_far.empty and yesterday.max() < RISK_FRACTION * so_far.max():
            continue
        hot = yesterday[yesterday >= HOUR_BAND_FRACTION * yesterday.max()]
        share = 1.0 / len(hot)
        for start in hot.index:
            inside = (local.date == day) & (local.hour == start.hour)
            weights[inside] += share * step_h
    return pd.Series(weights, index=horizon, name=COINCIDENT_PEAK_WEIGHT)


def previous_day_hashprice(daily: pd.Series, horizon: pd.DatetimeIndex, source: str) -> np.ndarray:
    """The hashprice of the local day before each interval's day [USD/PH/day] (known then)."""
    dates = [day - dt.timedelta(days=1) for day in horizon.date]
    values = daily.reindex(dates)
    if values.isna().any():
        missing = dates[int(np.argmax(values.isna().to_numpy()))]
        raise InputError(f"{source}: no hashprice for {missing}, the day before the period")
    return values.to_numpy(dtype=float)


@dataclass(frozen=True)
class OperatorInputs:
    """A period's inputs for the operator: ``realized`` (settles) and ``day_ahead`` (decides).

    Both carry ``price_usd_per_mwh`` and ``da_price_usd_per_mwh``. In ``realized`` the price is
    the real-time price and the coincident-peak weight and hashprice are the realized ones; in
    ``day_ahead`` the price is the day-ahead forecast of the real-time price and the weight and
    hashprice are what :func:`forecast_peak_weights` and :func:`previous_day_hashprice` know.
    """

    realized: Inputs
    day_ahead: Inputs


def operator_inputs(
    real_time: Inputs,
    day_ahead_prices: Inputs,
    *,
    peak: CoincidentPeak | None,
    load_mw: pd.Series | None,
    daily_hashprice: pd.Series | None,
    hashprice_source: str = "hashprice",
) -> OperatorInputs:
    """Join real-time and day-ahead inputs of one period (same intervals) into what settles and
    what is known day-ahead. ``peak``/``load_mw``: the site's coincident peak and ERCOT load (for
    the forecast weights); ``daily_hashprice``: the daily series the inputs were read from."""
    if not real_time.index.equals(day_ahead_prices.index):
        raise InputError("operator mode: day-ahead and real-time inputs cover different intervals")
    realized = real_time.frame.copy()
    realized[DA_PRICE] = day_ahead_prices.frame[PRICE].to_numpy(dtype=float)
    known = realized.copy()
    known[PRICE] = realized[DA_PRICE]
    if peak is not None and COINCIDENT_PEAK_WEIGHT in known.columns:
        assert load_mw is not None, "a coincident-peak site needs ERCOT load"
        known[COINCIDENT_PEAK_WEIGHT] = forecast_peak_weights(peak, real_time.index, load_mw)
    if daily_hashprice is not None and HASHPRICE in known.columns:
        known[HASHPRICE] = previous_day_hashprice(
            daily_hashprice, real_time.index, hashprice_source
        )
    sources = {**real_time.sources, DA_PRICE: day_ahead_prices.sources.get(PRICE, "day-ahead")}
    return OperatorInputs(Inputs(realized, sources), Inputs(known, sources))


def decision_intervals(site: Site, decision_minutes: int) -> int:
    """Intervals per decision period; the period must be whole intervals and divide the day."""
    if decision_minutes <= 0 or decision_minutes % site.interval_minutes:
        raise InputError(
            f"--decision-minutes: expected a positive multiple of the site's interval_minutes "
            f"= {site.interval_minutes}, found {decision_minutes}"
        )
    if (24 * 60) % decision_minutes:
        raise InputError(
            f"--decision-minutes: {decision_minutes} does not divide the 1440-minute day "
            "(e.g. 15, 30, 60, 120, 240)"
        )
    return decision_minutes // site.interval_minutes


def load_operator_inputs(
    site: Site, day_ahead_prices: Inputs, real_time: Inputs, *, hashprice: str | None = None
) -> OperatorInputs:
    """:func:`operator_inputs` with the bundled ERCOT load (coincident-peak sites) and the
    daily hashprice the inputs were read from (``hashprice`` file, else bundled)."""
    from dispatch.inputs.bundled import bundled_hashprice, read_dataset
    from dispatch.inputs.hashprice import read_hashprice
    from dispatch.inputs.programs import LOAD_DATASET

    peak = site.grid.coincident_peak if site.grid is not None else None
    load_mw = read_dataset(LOAD_DATASET)["ercot_load_mw"] if peak is not None else None
    daily = None
    if site.mining is not None:
        daily = bundled_hashprice() if hashprice is None else read_hashprice(hashprice)
    return operator_inputs(
        real_time,
        day_ahead_prices,
        peak=peak,
        load_mw=load_mw,
        daily_hashprice=daily,
        hashprice_source=hashprice or "bundled btc_hashprice",
    )


def price_forecast(name: str, site: Site, inputs: OperatorInputs) -> PriceForecast:
    """``spread`` (:class:`SpreadForecast`), ``da`` (:class:`DayAheadForecast`) or a price file
    covering the period (any layout ``--prices`` accepts; hourly values are held)."""
    if name == "spread":
        return SpreadForecast()
    if name == "da":
        return DayAheadForecast()
    from dispatch.inputs import load_inputs

    index = inputs.realized.index
    try:
        frame = load_inputs(site, index[0].date(), index[-1].date(), prices=name, fill="hold").frame
    except InputError as error:
        raise InputError(f"--rt-forecast {name}: {error}") from None
    return SeriesForecast(_utc(frame[PRICE]), name)


def _utc(series: pd.Series) -> pd.Series:
    return series.set_axis(pd.DatetimeIndex(series.index).tz_convert("UTC"))
