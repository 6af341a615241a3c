"""Real public data shipped with the package (see dispatch/data/PROVENANCE.md).

Files are kept byte-for-byte as copied (their sha256 sums are in dispatch/data/SHA256SUMS);
this module only reads them into frames indexed by UTC interval start (or by date for daily data).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from importlib import resources

import pandas as pd

from dispatch.errors import InputError


@dataclass(frozen=True)
class Dataset:
    name: str
    files: tuple[str, ...]
    interval: str
    unit: str
    description: str
    source: str
    time_column: str = "interval_start_utc"
    served: tuple[str, ...] | None = None  # the columns the inputs read (None: all of them)

    @property
    def daily(self) -> bool:
        return self.time_column == "date_utc"


DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in (
        Dataset(
            "ercot_dam_spp",
            ("ercot_dam_spp_hourly_hubs_lz_2021_2025.csv",),
            "1h",
            "USD/MWh",
            "ERCOT day-ahead settlement point prices, 7 hubs + 8 load zones",
            "ERCOT NP4-180-ER via KushKod04/totalenergies_price_forecasting",
        ),
        Dataset(
            "ercot_rtm_spp",
            tuple(f"ercot_rtm_spp_15min_hubs_{y}.csv" for y in range(2021, 2026)),
            "15min",
            "USD/MWh",
            "ERCOT real-time 15-minute settlement point prices at the hubs",
            "ERCOT NP6-785-ER / NP6-905-CD via gridstatus, MickB74/eighty760-Home",
        ),
        Dataset(
            "ercot_dam_as",
            ("ercot_dam_as_mcpc_hourly_2022_2025.csv",),
            "1h",
            "USD/MW-h",
            "ERCOT day-ahead ancillary clearing prices (REGUP, REGDN, RRS, NSPIN, ECRS)",
            "ERCOT NP4-181-ER via KushKod04/totalenergies_price_forecasting",
        ),
        Dataset(
            "btc_hashprice",
            ("btc_mining_daily_2020_2025.csv",),
            "1d",
            "USD/PH/day",
            "Bitcoin daily price, difficulty, fees and derived hashprice (UTC days)",
            "blockchain.com, Yahoo Finance, CCAF; derivation in PROVENANCE.md section 8",
            time_column="date_utc",
            served=("hashprice_usd_per_ph_day",),
        ),
        Dataset(
            "ercot_wind_solar",
            ("ercot_systemwide_wind_solar_hourly_2022_2024.csv",),
            "1h",
            "fraction / MW",
            "ERCOT system-wide wind and solar capacity factors and ERCOT load",
            "ERCOT hourly wind/solar workbooks via KushKod04/totalenergies_price_forecasting",
            served=("solar_cf", "wind_cf", "ercot_load_mw"),
        ),
        Dataset(
            "roscoe_profiles",
            ("site_profile_roscoe_tx_era5_model_2023_2024.csv",),
            "1h",
            "fraction",
            "Modelled solar and wind output at Roscoe TX from ERA5 weather (crude, third party)",
            "Open-Meteo ERA5 via MickB74/eighty760-Home",
            time_column="timestamp_utc",
            served=("solar_norm_output", "wind_norm_output"),
        ),
    )
}

# Renewable profile name in a site file -> (dataset, column). Site files name the profile; the
# inputs column is <profile>_capacity_factor.
PROFILES: dict[str, tuple[str, str]] = {
    "solar": ("ercot_wind_solar", "solar_cf"),
    "wind": ("ercot_wind_solar", "wind_cf"),
    "roscoe_solar": ("roscoe_profiles", "solar_norm_output"),
    "roscoe_wind": ("roscoe_profiles", "wind_norm_output"),
}


COVERAGE_TIMEZONE = "America/Chicago"
"""Zone of the local days :func:`local_day_coverage` reports: ERCOT's, where the data are."""


def data_path(file: str) -> str:
    return str(resources.files("dispatch") / "data" / file)


@cache
def _read(name: str) -> pd.DataFrame:
    dataset = DATASETS[name]
    frames = [pd.read_csv(data_path(f)) for f in dataset.files]
    frame = pd.concat(frames, ignore_index=True)
    if dataset.daily:
        frame.index = pd.Index(pd.to_datetime(frame.pop(dataset.time_column)).dt.date, name="date")
    else:
        times = pd.to_datetime(frame.pop(dataset.time_column), utc=True)
        frame.index = pd.DatetimeIndex(times, name="interval_start")
    return frame.drop(columns=["interval_start_local"], errors="ignore")


def read_dataset(name: str) -> pd.DataFrame:
    """A bundled data set as a frame (a copy; the cached original stays untouched)."""
    if name not in DATASETS:
        raise InputError(f"unknown bundled data set {name!r}; available: {sorted(DATASETS)}")
    return _read(name).copy()


def bundled_price(name: str, settlement_point: str) -> pd.Series:
    """Energy price at one settlement point [USD/MWh], indexed by UTC interval start."""
    frame = read_dataset(name)
    if settlement_point not in frame.columns:
        raise InputError(
            f"market.settlement_point: {settlement_point!r} is not in bundled {name}; "
            f"points present: {', '.join(frame.columns)}"
        )
    return frame[settlement_point].rename("price_usd_per_mwh")


def bundled_hashprice() -> pd.Series:
    """Daily hashprice [USD/PH/day] indexed by date (the UTC day, used as the site's local day).

    Every day with a value is served: 2020-04-13 (the first day with a fee sample) onwards.
    """
    return read_dataset("btc_hashprice")["hashprice_usd_per_ph_day"].dropna()


def bundled_profile(profile: str) -> pd.Series:
    """Capacity factor 0..1 of a bundled renewable profile, indexed by UTC interval start."""
    if profile not in PROFILES:
        raise InputError(
            f"renewables.profile: no bundled profile {profile!r}; bundled profiles: "
            f"{sorted(PROFILES)} (or pass a profile file)"
        )
    name, column = PROFILES[profile]
    return read_dataset(name)[column].rename(f"{profile}_capacity_factor")


def local_day_coverage(
    name: str, column: str, timezone: str = COVERAGE_TIMEZONE
) -> tuple[dt.date, dt.date] | None:
    """First and last local day of ``timezone`` that ``column`` of a bundled data set covers
    whole: the days a site in that zone can run on it (None: not one whole day).

    Daily data (hashprice) cover their dates, as they are applied to the site's local day of
    the same date. Bundled series are gap-free between their first and last value (vetted once,
    PROVENANCE.md), so the span is the coverage.
    """
    dataset = DATASETS[name]
    values = read_dataset(name)[column].dropna()
    if values.empty:
        return None
    if dataset.daily:
        return values.index[0], values.index[-1]
    index = pd.DatetimeIndex(values.index).tz_convert(timezone)
    data_end = index[-1] + pd.Timedelta(dataset.interval)

    def midnight(day: dt.date) -> pd.Timestamp:
        return pd.Timestamp(day).tz_localize(timezone, ambiguous=True, nonexistent="shift_forward")

    first = index[0].date()
    if midnight(first) < index[0]:
        first += dt.timedelta(days=1)
    last = data_end.date()
    if midnight(last + dt.timedelta(days=1)) > data_end:
        last -= dt.timedelta(days=1)
    return (first, last) if first <= last else None


def served_columns(name: str) -> list[str]:
    """The columns of a bundled data set that inputs are read from."""
    dataset = DATASETS[name]
    return list(dataset.served) if dataset.served is not None else list(read_dataset(name).columns)
