"""Where scenarios come from: the price history on the site's intervals, or a user's file.

A scenario file (a forecast vendor's) is tidy: ``interval_start`` (ISO 8601 with offset or Z),
``scenario`` (a label), ``price_usd_per_mwh`` and ``weight`` (the scenario's probability,
repeated on its rows), or no ``weight`` column and a weights table ``scenario,weight`` beside it
(neither: equal weights). It may cover many days; each local day's scenarios are its own, and
their weights must sum to 1 on every day. The intervals must be the site's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from dispatch.errors import InputError
from dispatch.inputs import DA_PRICE, Inputs, raw_prices
from dispatch.inputs.align import align
from dispatch.inputs.horizon import horizon_index
from dispatch.site import Site
from dispatch.stochastic.scenarios import (
    PriceHistory,
    PriceScenarios,
    ScenarioMethod,
    SpreadTable,
    spread_scenarios,
)

WEIGHT_TOLERANCE = 1e-6
HISTORY_YEARS = 4  # same-season days are looked for this many years back at most


def load_price_history(
    site: Site,
    first: dt.date,
    last: dt.date,
    *,
    da_prices: str | Path | None = "ercot_dam_spp",
    rt_prices: str | Path | None = "ercot_rtm_spp",
    timezone: str | None = None,
) -> PriceHistory:
    """Day-ahead and real-time prices on the site's intervals from up to ``HISTORY_YEARS``
    years before ``first`` (as far back as both series reach) to ``last``."""
    da = raw_prices(site, da_prices, fill="hold", timezone=timezone)
    rt = raw_prices(site, rt_prices, fill="hold", timezone=timezone)
    tz = site.timezone
    reach = max(da.series.index[0], rt.series.index[0]).tz_convert(tz)
    start = reach.date() + dt.timedelta(days=1 if reach.time() != dt.time(0) else 0)
    start = max(start, first.replace(year=first.year - HISTORY_YEARS, day=min(first.day, 28)))
    ends = min(da.series.index[-1] + da.step, rt.series.index[-1] + rt.step).tz_convert(tz)
    last = min(last, ends.date() - dt.timedelta(days=1))  # whole local days only
    if start > last:
        raise InputError(f"{da.source}, {rt.source}: no price history before {last}")
    horizon = horizon_index(tz, site.interval_minutes, start, last)
    da_series = align(da.series, da.step, horizon, name="da_price", source=da.source, fill="hold")
    rt_series = align(rt.series, rt.step, horizon, name="rt_price", source=rt.source, fill="hold")
    return PriceHistory(da_series, rt_series, f"{da.source} / {rt.source}")


@dataclass(frozen=True)
class HistoryScenarios:
    """Scenarios of each day by the ``spread`` method from a price history."""

    spreads: SpreadTable
    method: ScenarioMethod

    def day(self, view: Inputs) -> PriceScenarios:
        """The scenarios of the day whose day-ahead view is ``view``."""
        day = view.index[0].date()
        return spread_scenarios(self.spreads, day, view.frame[DA_PRICE], self.method)


@dataclass(frozen=True)
class ScenarioFile:
    """A user's scenarios: tidy rows (UTC ``interval_start``, ``scenario``, ``weight``,
    ``price_usd_per_mwh``) and the file's name for messages."""

    rows: pd.DataFrame
    path: str

    def day(self, view: Inputs) -> PriceScenarios:
        """The scenarios of the day whose day-ahead view is ``view``."""
        index = view.index
        utc = index.tz_convert("UTC")
        rows = self.rows[self.rows["interval_start"].isin(utc)]
        if rows.empty:
            raise InputError(f"{self.path}: no scenario covers {index[0].date()}")
        names = tuple(dict.fromkeys(rows["scenario"]))
        prices = np.empty((len(names), len(index)))
        weights = np.empty(len(names))
        for k, name in enumerate(names):
            own = rows[rows["scenario"] == name].set_index("interval_start")
            series = own["price_usd_per_mwh"].reindex(utc)
            if series.isna().any():
                missing = index[int(np.argmax(series.isna().to_numpy()))]
                raise InputError(
                    f"{self.path}: scenario {name!r} does not cover the day {index[0].date()} "
                    f"(no price at {missing})"
                )
            prices[k] = series.to_numpy(float)
            weights[k] = float(own["weight"].iloc[0])
        total = weights.sum()
        if abs(total - 1.0) > WEIGHT_TOLERANCE:
            raise InputError(
                f"{self.path}: the weights of the scenarios of {index[0].date()} sum to "
                f"{total:.6g}, expected 1"
            )
        return PriceScenarios(index, prices, weights / total, names, self.path)


def check_scenario_file(
    path: Path, site: Site, first: dt.date, last: dt.date, weights: Path | None = None
) -> None:
    """Every local day ``first..last`` of ``site`` has scenarios in the file (weights summing
    to 1, every interval covered): checked before a back-test starts."""
    scenarios = read_scenario_file(path, site, weights=weights)
    index = horizon_index(site.timezone, site.interval_minutes, first, last)
    for day in sorted(set(index.date)):
        own = index[index.date == day]
        scenarios.day(Inputs(pd.DataFrame(index=own)))


def read_scenario_file(
    path: Path, site: Site, *, weights: Path | None = None, timezone: str | None = None
) -> ScenarioFile:
    """Read and check a scenario file (module docstring); errors name the file."""
    frame = _read_table(path)
    name = str(path)
    needed = {"interval_start", "scenario", "price_usd_per_mwh"}
    missing = needed - set(frame.columns)
    if missing:
        raise InputError(
            f"{name}: expected columns interval_start, scenario, price_usd_per_mwh "
            f"(and weight), missing {', '.join(sorted(missing))}"
        )
    times = pd.to_datetime(frame["interval_start"], errors="coerce", utc=False, format="ISO8601")
    if times.isna().any():
        i = int(times.isna().to_numpy().argmax())
        raise InputError(f"{name} line {i + 2}: unreadable interval_start")
    if getattr(times.dt, "tz", None) is None:
        if timezone is None:
            raise InputError(f"{name}: interval_start has no UTC offset; pass --timezone")
        times = times.dt.tz_localize(timezone, ambiguous="infer")
    rows = pd.DataFrame(
        {
            "interval_start": times.dt.tz_convert("UTC"),
            "scenario": frame["scenario"].astype(str),
            "price_usd_per_mwh": pd.to_numeric(frame["price_usd_per_mwh"], errors="coerce"),
        }
    )
    if rows["price_usd_per_mwh"].isna().any():
        i = int(rows["price_usd_per_mwh"].isna().to_numpy().argmax())
        raise InputError(f"{name} line {i + 2}: price_usd_per_mwh is missing or not a number")
    rows["weight"] = _weights(frame, rows, name, weights)
    if rows.duplicated(["interval_start", "scenario"]).any():
        i = int(rows.duplicated(["interval_start", "scenario"]).to_numpy().argmax())
        raise InputError(f"{name} line {i + 2}: a second price for this scenario and interval")
    step = pd.Timedelta(minutes=site.interval_minutes)
    first = rows.groupby("scenario")["interval_start"].transform("min")
    off = (rows["interval_start"] - first) % step != pd.Timedelta(0)
    steps = rows.sort_values("interval_start").groupby("scenario")["interval_start"].diff()
    if off.any() or (steps.dropna() != step).any():
        found = steps.dropna().mode()
        found_text = (
            f"{int(found.iloc[0] / pd.Timedelta(minutes=1))} minutes" if len(found) else "?"
        )
        raise InputError(
            f"{name}: intervals do not match the site: expected {site.interval_minutes}-minute "
            f"intervals, found {found_text}"
        )
    return ScenarioFile(rows, name)


def _read_table(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise InputError(f"{path}: no such scenario file")
    try:
        if path.suffix.lower() == ".parquet":
            return pd.read_parquet(path)
        return pd.read_csv(path)
    except (ValueError, OSError) as error:
        raise InputError(f"{path}: cannot read the scenario file ({error})") from None


def _weights(frame: pd.DataFrame, rows: pd.DataFrame, name: str, table: Path | None) -> pd.Series:
    """Each row's scenario weight: the ``weight`` column, the weights table, or equal."""
    if "weight" in frame.columns:
        if table is not None:
            raise InputError(f"{name}: has a weight column and a weights table was given too")
        values = pd.to_numeric(frame["weight"], errors="coerce")
        source = name
    elif table is not None:
        weights = _read_table(table)
        if {"scenario", "weight"} - set(weights.columns):
            raise InputError(f"{table}: expected columns scenario, weight")
        mapping = weights.set_index(weights["scenario"].astype(str))["weight"]
        values = rows["scenario"].map(pd.to_numeric(mapping, errors="coerce"))
        source = str(table)
    else:
        counts = rows.groupby("interval_start")["scenario"].transform("count")
        return 1.0 / counts
    if values.isna().any() or (values < 0).any():
        i = int((values.isna() | (values < 0)).to_numpy().argmax())
        raise InputError(
            f"{source}: weight of scenario {rows['scenario'].iloc[i]!r} is missing or negative"
        )
    spread = values.groupby(rows["scenario"]).nunique()
    if (spread > 1).any():
        raise InputError(
            f"{source}: scenario {spread.idxmax()!r} has more than one weight (one per scenario)"
        )
    return values.astype(float)


@dataclass
class ScenarioMeanForecast:
    """The real-time loop's forecast of the rest of the day: the scenarios' probability-weighted
    mean price (issued the day before, not revised). ``source`` is a
    :class:`HistoryScenarios` or :class:`ScenarioFile`."""

    source: HistoryScenarios | ScenarioFile
    _means: dict[pd.Timestamp, np.ndarray] = field(default_factory=dict)  # the current day's

    def rest_of_day(self, k: int, known_rt: np.ndarray, day_ahead: Inputs) -> np.ndarray:
        first = day_ahead.index[0]
        if first not in self._means:
            self._means.clear()
            self._means[first] = self.source.day(day_ahead).mean_usd_per_mwh()
        return self._means[first][k:]
