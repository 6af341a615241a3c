"""Time-series inputs on the site's intervals: validated once here, trusted by the model.

Columns (units in the names): ``price_usd_per_mwh``, ``hashprice_usd_per_ph_day``,
``<profile>_capacity_factor`` and ``hpc_utilization_fraction``; for markets and programs
``<product>_usd_per_mw_h``, ``coincident_peak_weight``, ``heat_demand_mw_thermal`` and the DR
event windows ``dr_<event>_active_fraction`` / ``dr_<event>_baseline_fraction`` (see
:mod:`dispatch.inputs.programs`).
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from dispatch.errors import InputError, InputWarning, expect
from dispatch.inputs.align import Fill, align
from dispatch.inputs.bundled import DATASETS, bundled_hashprice, bundled_price, bundled_profile
from dispatch.inputs.checks import check_index, check_timezone, check_values
from dispatch.inputs.detect import read_input
from dispatch.inputs.folder import (
    HPC_UTILIZATION,
    InputsFolder,
    Role,
    folder_files,
    scan_folder,
)
from dispatch.inputs.hashprice import hashprice_on, read_hashprice
from dispatch.inputs.horizon import horizon_index, parse_date
from dispatch.inputs.prices import price_fill, price_series
from dispatch.inputs.programs import (
    COINCIDENT_PEAK_WEIGHT,
    HEAT_DEMAND,
    EventsOutside,
    ancillary_price_column,
    bundled_ancillary,
    dr_active_column,
    event_columns,
    historical_weights,
    historical_weights_source,
    program_columns,
)
from dispatch.inputs.table import Source, source_name
from dispatch.site import CoincidentPeak, Colocation, Site

PRICE = "price_usd_per_mwh"
DA_PRICE = "da_price_usd_per_mwh"  # two-settlement: the DAM price beside the real-time PRICE
HASHPRICE = "hashprice_usd_per_ph_day"


def capacity_factor_column(profile: str) -> str:
    return f"{profile}_capacity_factor"


def required_columns(site: Site) -> list[str]:
    """The series a site's model reads."""
    columns = []
    pass_through = (
        site.hpc is not None
        and isinstance(site.hpc.contract, Colocation)
        and (site.hpc.contract.power_pass_through)
    )
    if site.grid is not None or pass_through:
        columns.append(PRICE)
    if site.mining is not None:
        columns.append(HASHPRICE)
    columns += [capacity_factor_column(r.profile) for r in site.renewables]
    if site.hpc is not None:
        columns.append(HPC_UTILIZATION)
    columns += program_columns(site)
    return list(dict.fromkeys(columns))


def default_price_dataset(site: Site) -> str:
    """Real-time 15-minute prices for sub-hourly sites, day-ahead hourly prices for hourly ones."""
    return "ercot_rtm_spp" if site.interval_minutes < 60 else "ercot_dam_spp"


DataKey = tuple[str, int, str | None]
"""What inputs are made for: the site's time zone, interval [min] and settlement point."""


def data_key(site: Site) -> DataKey:
    point = site.market.settlement_point if site.market is not None else None
    return site.timezone, site.interval_minutes, point


@dataclass(frozen=True)
class Inputs:
    """Series on the site's intervals (tz-aware index in the site's time zone) and their sources.

    ``made_for`` is the :func:`data_key` of the site they were made for (None: not recorded);
    a solve refuses inputs made for another site (another settlement point, zone or interval).
    """

    frame: pd.DataFrame
    sources: Mapping[str, str] = field(default_factory=dict)
    made_for: DataKey | None = None

    def with_frame(self, frame: pd.DataFrame) -> Inputs:
        """The same inputs over another horizon (a slice, a look-ahead mix)."""
        return replace(self, frame=frame)

    @property
    def index(self) -> pd.DatetimeIndex:
        index = self.frame.index
        return index if isinstance(index, pd.DatetimeIndex) else pd.DatetimeIndex(index)

    @classmethod
    def from_frame(
        cls,
        site: Site,
        frame: pd.DataFrame,
        sources: Mapping[str, str] | None = None,
        *,
        dr_events_outside: EventsOutside = "error",
    ) -> Inputs:
        """Check a frame already on the site's intervals (used by tests and the API).

        ``dr_events_outside``: a DR event wholly outside the horizon is an ``"error"`` (a
        single run) or ``"inactive"`` (a batch task or sizing history of many days).
        """
        expect(site, Site, "site", "a Site (from load_site)")
        expect(frame, pd.DataFrame, "frame", "a DataFrame indexed by interval start")
        index = frame.index
        check_index(index, site.interval_minutes)
        frame = frame.copy()
        if site.hpc is not None and HPC_UTILIZATION not in frame.columns:
            frame[HPC_UTILIZATION] = 1.0
        _derive_program_columns(site, frame, dr_events_outside)
        missing = [c for c in required_columns(site) if c not in frame.columns]
        for i, offer in enumerate(site.ancillary_offers):
            if ancillary_price_column(offer.product) in missing:
                raise InputError(
                    f"programs.ancillary[{i}].product: {offer.product} is offered but the inputs "
                    f"have no {ancillary_price_column(offer.product)} series"
                )
        if missing:
            raise InputError(f"inputs: missing series {missing}; present: {list(frame.columns)}")
        check_values(frame, frame.columns)
        frame.index = index.tz_convert(site.timezone).rename("interval_start")
        return cls(frame, dict(sources or {}), data_key(site))


def check_inputs(site: Site, inputs: Inputs) -> None:
    """What a solve checks of its inputs (they may have been edited since they were made): made
    for this site, on its intervals, every series the model reads present, finite and within
    its bounds. Raises :class:`InputError` (:class:`ArgumentError` for a wrong type)."""
    expect(inputs, Inputs, "inputs", "Inputs (from load_inputs)")
    if inputs.made_for is not None and inputs.made_for != data_key(site):
        zone, minutes, point = inputs.made_for
        raise InputError(
            f"inputs: made for a site at {point or 'no settlement point'} ({zone}, {minutes}-min "
            f"intervals), not for {site.name!r} at "
            f"{data_key(site)[2] or 'no settlement point'} ({site.timezone}, "
            f"{site.interval_minutes}-min intervals); load the inputs for this site"
        )
    frame = inputs.frame
    check_index(frame.index, site.interval_minutes, site.timezone)
    read = [*required_columns(site), *(c for c in (HEAT_DEMAND,) if c in frame.columns)]
    missing = [c for c in read if c not in frame.columns]
    if missing:
        raise InputError(f"inputs: missing series {missing} that {site.name!r} needs")
    check_values(frame, read)


def _dr_windows_missing(site: Site, frame: pd.DataFrame) -> bool:
    return any(dr_active_column(e.name) not in frame.columns for e in site.dr_events)


def _derive_program_columns(
    site: Site, frame: pd.DataFrame, dr_events_outside: EventsOutside
) -> None:
    """Fill program series the site file defines: DR event windows from ``programs.events`` and a
    constant heat demand from ``heat_reuse.max_mw_thermal`` (unless the frame carries them: a
    frame that brings its own ``dr_<event>_active_fraction`` sets the window as data)."""
    if _dr_windows_missing(site, frame):
        index = pd.DatetimeIndex(frame.index)
        for column, values in event_columns(site, index, dr_events_outside).items():
            if column not in frame.columns:
                frame[column] = values
    heat = site.heat_reuse
    if heat is not None and HEAT_DEMAND not in frame.columns:
        if heat.max_mw_thermal is None:
            raise InputError(
                f"heat_reuse.max_mw_thermal: no {HEAT_DEMAND} series in the inputs and no "
                "constant heat demand in the site file"
            )
        frame[HEAT_DEMAND] = heat.max_mw_thermal


def load_inputs(
    site: Site,
    start: str | dt.date,
    end: str | dt.date | None = None,
    *,
    inputs: str | Path | None = None,
    prices: str | Path | pd.DataFrame | None = None,
    hashprice: Source | None = None,
    profiles: Source | None = None,
    ancillary: Source | None = None,
    peaks: Source | None = None,
    fill: Fill | None = None,
    timezone: str | None = None,
    dr_events_outside: EventsOutside = "error",
) -> Inputs:
    """Inputs for local days ``start``..``end`` (inclusive) at the site's interval.

    ``inputs`` is a folder of input files, each found by its columns
    (:mod:`dispatch.inputs.folder`); a file option below overrides the folder's file for its
    series, and a series the folder does not give comes from bundled data as without it.

    ``prices`` is the name of a bundled data set (default: real-time for sub-hourly sites,
    day-ahead for hourly ones) or a price file of any layout :func:`read_input` recognises
    (tidy, gridstatus, ERCOT report; CSV or Parquet) or a frame, taken at the site's settlement
    point. ``hashprice`` is a daily file in any unit :func:`read_hashprice` accepts (default:
    bundled); a day up to :data:`~dispatch.inputs.hashprice.HOLD_FORWARD_DAYS` after its last
    takes the last value, with a warning. ``profiles`` is a tidy file with
    ``<profile>_capacity_factor`` and optionally ``hpc_utilization_fraction`` and
    ``heat_demand_mw_thermal`` columns (default: bundled profiles, utilization 1, heat demand
    ``heat_reuse.max_mw_thermal``). ``ancillary`` is a file with ``<product>_usd_per_mw_h``
    columns, tidy, an ERCOT DAM MCPC report or a gridstatus ``get_as_prices`` frame (default:
    bundled ERCOT DAM clearing prices); hourly products are held over sub-hour intervals.
    ``peaks`` is a tidy file with ``coincident_peak_weight`` (probability that each interval is a
    coincident-peak interval; default: the real ERCOT peaks of 2022-2024).

    ``fill`` says how data coarser than the site's interval is spread over it: ``"hold"`` or
    ``"interpolate"``. Bundled data is held unless told otherwise; so are day-ahead prices
    (they settle the whole hour); any other user file coarser than the site's interval needs
    an explicit choice, and real-time prices coarser than the site are refused without one.
    ``timezone`` locates naive timestamps in files.

    Raises
    ------
    InputError
        With every problem found, one line each: files that cannot be read or are not
        recognised, two files giving one series, series that do not cover the horizon.
    """
    expect(site, Site, "site", "a Site (from load_site)")
    _expect_sources(inputs, prices, hashprice, profiles, ancillary, peaks)
    if fill not in (None, "hold", "interpolate"):
        raise InputError(f"fill (--fill): expected 'hold' or 'interpolate', found {fill!r}")
    if timezone is not None:
        check_timezone(timezone)
    first = parse_date(start, "--start")
    last = parse_date(end, "--end") if end is not None else first
    horizon = horizon_index(site.timezone, site.interval_minutes, first, last)
    needed = required_columns(site)
    unused = (
        ("--prices", prices, PRICE, "it has no grid to price"),
        ("--hashprice", hashprice, HASHPRICE, "it has no mining"),
    )
    for option, given, column, why in unused:
        if given is not None and column not in needed:
            warnings.warn(f"{option}: ignored, {why}", InputWarning, stacklevel=2)
    problems: list[str] = []
    if inputs is not None:
        options: dict[Role, Source | None] = {
            "prices": prices,
            "hashprice": hashprice,
            "profiles": profiles,
            "ancillary": ancillary,
            "peaks": peaks,
        }
        unset = [role for role in _roles_read(site) if options[role] is None]
        found, problems = folder_files(inputs, unset)
        prices = prices if prices is not None else found.get("prices")
        hashprice = hashprice if hashprice is not None else found.get("hashprice")
        profiles = profiles if profiles is not None else found.get("profiles")
        ancillary = ancillary if ancillary is not None else found.get("ancillary")
        peaks = peaks if peaks is not None else found.get("peaks")
    columns: dict[str, pd.Series] = {}
    sources: dict[str, str] = {}

    def attempt(load: Callable[[], Mapping[str, pd.Series]]) -> None:
        try:
            columns.update(load())
        except InputError as error:
            problems.append(str(error))

    if PRICE in needed:
        attempt(lambda: _price_series(site, horizon, prices, fill, timezone, sources))
    if HASHPRICE in needed:
        attempt(lambda: _hashprice_series(horizon, hashprice, sources))
    attempt(lambda: _profile_series(site, horizon, profiles, fill, timezone, sources, problems))
    if site.ancillary_offers:
        attempt(lambda: _ancillary_series(site, horizon, ancillary, timezone, sources))
    spec = site.grid.coincident_peak if site.grid is not None else None
    if spec is not None:
        attempt(lambda: _peak_series(spec, horizon, peaks, fill, timezone, sources))
    if problems:
        raise InputError("\n".join(dict.fromkeys(problems)))
    frame = pd.DataFrame(columns, index=horizon)
    return Inputs.from_frame(site, frame, sources, dr_events_outside=dr_events_outside)


def _expect_sources(inputs: object, prices: object, *files: object) -> None:
    """Raise :class:`ArgumentError` for a source of the wrong type (a number where a file is)."""
    if inputs is not None:
        expect(inputs, (str, Path), "inputs", "a folder path (str or Path)")
    if prices is not None:
        expect(
            prices,
            (str, Path, pd.DataFrame),
            "prices",
            "a data set name, a file path or a DataFrame",
        )
    for name, given in zip(("hashprice", "profiles", "ancillary", "peaks"), files, strict=True):
        if given is not None:
            expect(given, (str, Path, pd.DataFrame), name, "a file path or a DataFrame")


def _roles_read(site: Site) -> list[Role]:
    """The series of an inputs folder that ``site`` reads."""
    needed = required_columns(site)
    roles: list[Role] = []
    if PRICE in needed:
        roles.append("prices")
    if HASHPRICE in needed:
        roles.append("hashprice")
    if site.renewables or site.hpc is not None or site.heat_reuse is not None:
        roles.append("profiles")
    if site.ancillary_offers:
        roles.append("ancillary")
    if site.grid is not None and site.grid.coincident_peak is not None:
        roles.append("peaks")
    return roles


@dataclass(frozen=True)
class RawPrices:
    """A price series at its own step before alignment [USD/MWh], its source and the fill that
    spreads it over finer site intervals."""

    series: pd.Series
    step: pd.Timedelta
    source: str
    fill: Fill | None


def raw_prices(
    site: Site,
    prices: str | Path | pd.DataFrame | None,
    fill: Fill | None = None,
    timezone: str | None = None,
) -> RawPrices:
    """The energy prices :func:`load_inputs` reads (a bundled data set at the site's settlement
    point, or a price file), before alignment to a horizon."""
    point = site.market.settlement_point if site.market is not None else None
    if prices is None or (isinstance(prices, str) and prices in DATASETS):
        dataset = str(prices) if prices is not None else default_price_dataset(site)
        if point is None:
            raise InputError("market.settlement_point: the site needs prices but names no node")
        step = pd.Timedelta(DATASETS[dataset].interval)
        return RawPrices(
            bundled_price(dataset, point), step, f"bundled {dataset} {point}", fill or "hold"
        )
    table = read_input(prices, settlement_point=point, timezone=timezone)
    site_step = pd.Timedelta(minutes=site.interval_minutes)
    how = price_fill(table, site_step, fill)
    return RawPrices(price_series(table), table.step, table.description, how)


def _price_series(
    site: Site,
    horizon: pd.DatetimeIndex,
    prices: str | Path | pd.DataFrame | None,
    fill: Fill | None,
    timezone: str | None,
    sources: dict[str, str],
) -> dict[str, pd.Series]:
    """The energy price from a bundled data set or a file, on the horizon."""
    raw = raw_prices(site, prices, fill, timezone)
    sources[PRICE] = raw.source
    return {
        PRICE: align(raw.series, raw.step, horizon, name=PRICE, source=raw.source, fill=raw.fill)
    }


def _hashprice_series(
    horizon: pd.DatetimeIndex, hashprice: Source | None, sources: dict[str, str]
) -> dict[str, pd.Series]:
    if hashprice is None:
        daily, source = bundled_hashprice(), "bundled btc_hashprice"
    else:
        daily, source = read_hashprice(hashprice), source_name(hashprice)
    sources[HASHPRICE] = source
    return {HASHPRICE: hashprice_on(horizon, daily, source)}


def _profile_series(
    site: Site,
    horizon: pd.DatetimeIndex,
    profiles: Source | None,
    fill: Fill | None,
    timezone: str | None,
    sources: dict[str, str],
    problems: list[str],
) -> dict[str, pd.Series]:
    """Capacity factors (from the profiles file, else bundled) and the series with a default
    (HPC utilization, heat demand) when the profiles file has them; each problem recorded."""
    table = read_input(profiles, timezone=timezone) if profiles is not None else None
    columns: dict[str, pd.Series] = {}
    for profile in dict.fromkeys(r.profile for r in site.renewables):
        column = capacity_factor_column(profile)
        try:
            if table is not None and column in table.frame.columns:
                series, step, source = table.frame[column], table.step, table.path
                profile_fill = fill
            else:
                series, step = bundled_profile(profile), pd.Timedelta("1h")
                source, profile_fill = f"bundled profile {profile}", fill or "hold"
            columns[column] = align(
                series, step, horizon, name=column, source=source, fill=profile_fill
            )
            sources[column] = source
        except InputError as error:
            problems.append(str(error))
    optional = [HEAT_DEMAND] + ([HPC_UTILIZATION] if site.hpc is not None else [])
    for column in optional:  # series with a default, taken from the profiles file when there
        if table is not None and column in table.frame.columns:
            try:
                columns[column] = align(
                    table.frame[column],
                    table.step,
                    horizon,
                    name=column,
                    source=table.path,
                    fill=fill,
                )
                sources[column] = table.path
            except InputError as error:
                problems.append(str(error))
    return columns


def _ancillary_series(
    site: Site,
    horizon: pd.DatetimeIndex,
    ancillary: Source | None,
    timezone: str | None,
    sources: dict[str, str],
) -> dict[str, pd.Series]:
    """Ancillary prices of every offered product, held over sub-hour intervals."""
    columns: dict[str, pd.Series] = {}
    if ancillary is None:
        columns.update(bundled_ancillary(site, horizon))
        for column in columns:
            sources[column] = "bundled ercot_dam_as"
        return columns
    table = read_input(ancillary, timezone=timezone)
    for i, offer in enumerate(site.ancillary_offers):
        column = ancillary_price_column(offer.product)
        if column not in table.frame.columns:
            raise InputError(
                f"programs.ancillary[{i}].product: {offer.product} is offered but "
                f"{table.path} has no {column} column"
            )
        columns[column] = align(
            table.frame[column],
            table.step,
            horizon,
            name=column,
            source=table.description,
            fill="hold",  # an hourly product's price holds over its hour
        )
        sources[column] = table.description
    return columns


def _peak_series(
    spec: CoincidentPeak,
    horizon: pd.DatetimeIndex,
    peaks: Source | None,
    fill: Fill | None,
    timezone: str | None,
    sources: dict[str, str],
) -> dict[str, pd.Series]:
    """Coincident-peak weights (a weight is the probability that the interval is the peak). A
    file coarser than the site needs ``fill``, as every series does: its weight per unit of
    time is held (or interpolated) and times the site's interval, so an hour's probability is
    split over its quarter-hours; a finer file sums into each interval."""
    if peaks is None:
        sources[COINCIDENT_PEAK_WEIGHT] = historical_weights_source(spec, horizon)
        return {COINCIDENT_PEAK_WEIGHT: historical_weights(spec, horizon)}
    table = read_input(peaks, timezone=timezone)
    site_step = horizon[1] - horizon[0]
    held = align(
        table.column(COINCIDENT_PEAK_WEIGHT),
        table.step,
        horizon,
        name=COINCIDENT_PEAK_WEIGHT,
        source=table.description,
        fill=fill,
    )
    sources[COINCIDENT_PEAK_WEIGHT] = table.description
    # probabilities add: a finer file sums into the interval, a coarser one is split
    return {COINCIDENT_PEAK_WEIGHT: held * (site_step / table.step)}


__all__ = [
    "COINCIDENT_PEAK_WEIGHT",
    "HASHPRICE",
    "HEAT_DEMAND",
    "HPC_UTILIZATION",
    "PRICE",
    "Inputs",
    "InputsFolder",
    "ancillary_price_column",
    "check_inputs",
    "load_inputs",
    "read_hashprice",
    "read_input",
    "required_columns",
    "scan_folder",
]
