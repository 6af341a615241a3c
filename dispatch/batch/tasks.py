"""Batch tasks: site file x price source x settlement point x period, as plain picklable data.

A task carries its site file's contents (a worker on another machine needs no copy of the file)
and a key: the sha256 of everything its result depends on (site file contents, price, hashprice
and profile sources with file contents hashed, settlement point, period, look-ahead, forecast
settings, solver options, the package version). No solver is imported here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from dispatch.distribution import package_version
from dispatch.errors import InputError, expect, expect_items
from dispatch.files import file_sha256
from dispatch.inputs import PRICE, default_price_dataset, required_columns
from dispatch.inputs.bundled import DATASETS, data_path
from dispatch.inputs.detect import read_input
from dispatch.inputs.folder import source_market
from dispatch.inputs.horizon import parse_date
from dispatch.inputs.table import DAY_AHEAD, REAL_TIME
from dispatch.options import SolveOptions
from dispatch.realtime.information import decision_intervals
from dispatch.site import Site, load_site, parse_site_yaml, read_site_text
from dispatch.stochastic.history import check_scenario_file
from dispatch.stochastic.settings import StochasticSettings

Split = Literal["year", "month", "none"]
SPLITS: tuple[Split, ...] = ("year", "month", "none")
OUTPUT_VERSION = 1  # bump when the parts' layout or meaning changes: old keys stop matching
MAX_LOOKAHEAD_HOURS = 168.0
RT_FORECASTS = ("spread", "da", "scenarios")  # built in (scenarios: with --stochastic); else a file


@dataclass(frozen=True)
class Task:
    """One rolling run: a site on one price history over one period (local days, inclusive).

    ``prices``: a bundled data set name or a tidy price file (``None`` when the site buys no
    power). ``settlement_prices``: operator mode (:mod:`dispatch.realtime.backtest`), the
    real-time prices that settle the day, with ``prices`` the day-ahead prices;
    ``decision_minutes`` and ``rt_forecast`` (``spread``, ``da`` or a price file) set its
    real-time loop; ``stochastic`` adds the stochastic day-ahead cases
    (:mod:`dispatch.stochastic.backtest`). ``key``: see the module docstring (set by
    :func:`plan_tasks`).
    """

    site_file: str
    site_yaml: str
    prices: str | None
    settlement_point: str | None
    start: dt.date
    end: dt.date
    hashprice: str | None = None
    profiles: str | None = None
    lookahead_hours: float = 0.0
    options: SolveOptions = field(default_factory=SolveOptions)
    settlement_prices: str | None = None
    decision_minutes: int = 60
    rt_forecast: str = "spread"
    stochastic: StochasticSettings | None = None
    key: str = ""
    partition: str = ""

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def site_label(self) -> str:
        """The site's partition name: set by :func:`plan_tasks` (distinct for two site files of
        the same stem), else the site file's stem, made path-safe."""
        return self.partition or _path_safe(Path(self.site_file).stem)

    @property
    def operator(self) -> bool:
        return self.settlement_prices is not None

    @property
    def prices_label(self) -> str:
        if self.prices is None:
            return "-"
        if self.prices in DATASETS:
            return self.prices
        return Path(self.prices).name

    @property
    def label(self) -> str:
        """Short human-readable name, e.g. ``west_texas_hybrid ercot_dam_spp HB_WEST 2023``."""
        period = (
            str(self.start.year)
            if (self.start, self.end)
            == (dt.date(self.start.year, 1, 1), dt.date(self.start.year, 12, 31))
            else f"{self.start}..{self.end}"
        )
        point = self.settlement_point or "-"
        return f"{self.site_label} {self.prices_label} {point} {period}"

    def load_site(self) -> Site:
        """The site from the carried file contents, at this task's settlement point."""
        site = parse_site_yaml(self.site_yaml, self.site_file)
        if self.settlement_point is not None and site.market is not None:
            market = site.market.model_copy(update={"settlement_point": self.settlement_point})
            site = site.model_copy(update={"market": market})
        return site

    def describe(self) -> dict[str, Any]:
        """JSON-ready fields for the manifest (the site file by path, not contents)."""
        return {
            "label": self.label,
            "site_file": self.site_file,
            "prices": self.prices,
            "settlement_point": self.settlement_point,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "days": self.days,
            "hashprice": self.hashprice,
            "profiles": self.profiles,
            "lookahead_hours": self.lookahead_hours,
            "settlement_prices": self.settlement_prices,
            "decision_minutes": self.decision_minutes,
            "rt_forecast": self.rt_forecast,
            "stochastic": None if self.stochastic is None else self.stochastic.as_dict(),
            "options": self.options.as_dict(),
        }


def _source_identity(source: str | None, memo: dict[str, str]) -> str | None:
    """A bundled data set by name; a file by its contents (hashed once per ``memo``)."""
    if source is None or source in DATASETS:
        return source
    if source not in memo:
        memo[source] = f"sha256:{file_sha256(source)}"
    return memo[source]


def task_identity(task: Task, memo: dict[str, str] | None = None) -> dict[str, Any]:
    """Everything the task's result depends on: files by their contents' sha256.

    ``memo`` caches file hashes across the tasks of one plan (files are read once per plan).
    """
    memo = {} if memo is None else memo
    identity: dict[str, Any] = {
        "output_version": OUTPUT_VERSION,
        "dispatch": package_version(),
        "site": hashlib.sha256(task.site_yaml.encode()).hexdigest(),
        "prices": _source_identity(task.prices, memo),
        "settlement_prices": _source_identity(task.settlement_prices, memo),
        "hashprice": _source_identity(task.hashprice, memo),
        "profiles": _source_identity(task.profiles, memo),
        "settlement_point": task.settlement_point,
        "start": task.start.isoformat(),
        "end": task.end.isoformat(),
        "lookahead_hours": task.lookahead_hours,
        "decision_minutes": task.decision_minutes,
        "rt_forecast": _source_identity(task.rt_forecast, memo)
        if task.rt_forecast not in RT_FORECASTS
        else task.rt_forecast,
        # the model cache changes how fast a task runs, never what it computes
        "options": {k: v for k, v in task.options.as_dict().items() if k != "model_cache"},
    }
    if task.stochastic is not None:  # absent otherwise: keys of earlier batches still match
        settings = task.stochastic.as_dict()
        for name in ("scenarios_file", "weights_file"):
            settings[name] = _source_identity(settings[name], memo)
        identity["stochastic"] = settings
    return identity


def task_key(task: Task, memo: dict[str, str] | None = None) -> str:
    """sha256 (hex) of :func:`task_identity`."""
    identity = task_identity(task, memo)
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()


def _path_safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip(".") or "site"


def site_partitions(site_files: Sequence[str | Path]) -> dict[str, str]:
    """A distinct partition name per site file: its stem, or, for different files that share a
    stem (``a/campus.yaml``, ``b/campus.yaml``), the stem after as many parent folders as tell
    them apart (``a_campus``, ``b_campus``); a numbered suffix where even that does not."""
    resolved = {str(f): Path(f).resolve() for f in site_files}
    files = sorted(set(resolved.values()))

    def named(path: Path, depth: int) -> str:
        folders = path.parent.parts[1:]  # without the root
        return _path_safe("_".join([*folders[len(folders) - depth :], path.stem]))

    labels = {path: named(path, 0) for path in files}
    for stem in {label for label in labels.values() if list(labels.values()).count(label) > 1}:
        clash = [path for path in files if labels[path] == stem]
        for depth in range(1, max(len(path.parts) for path in clash)):
            if len({named(path, depth) for path in clash}) == len(clash):
                break
        labels.update({path: named(path, depth) for path in clash})
    taken: set[str] = set()
    for path in files:  # still equal (a stem that equals another's folder_stem): number it
        unique, n = labels[path], 1
        while unique in taken:
            n += 1
            unique = f"{labels[path]}_{n}"
        labels[path] = unique
        taken.add(unique)
    return {name: labels[path] for name, path in resolved.items()}


def split_period(start: dt.date, end: dt.date, split: Split) -> list[tuple[dt.date, dt.date]]:
    """Consecutive (first, last) day ranges covering ``start..end``: per calendar year, per
    month, or the whole period."""
    if split == "none":
        return [(start, end)]
    periods = []
    first = start
    while first <= end:
        if split == "year":
            boundary = dt.date(first.year + 1, 1, 1)
        else:
            boundary = (pd.Timestamp(first) + pd.offsets.MonthBegin(1)).date()
        last = min(end, boundary - dt.timedelta(days=1))
        periods.append((first, last))
        first = last + dt.timedelta(days=1)
    return periods


@cache
def _dataset_points(name: str) -> tuple[str, ...]:
    """The settlement points (columns) of a bundled price data set, from its header only."""
    header = pd.read_csv(data_path(DATASETS[name].files[0]), nrows=0)
    return tuple(c for c in header.columns if not c.startswith("interval_start"))


def _check_source(source: str, what: str) -> None:
    if source not in DATASETS and not Path(source).is_file():
        raise InputError(
            f"{what}: {source!r} is neither a bundled price data set "
            f"({', '.join(n for n in DATASETS if n.startswith('ercot_') and 'spp' in n)}) "
            "nor a file"
        )


def _check_operator_markets(prices: Sequence[str], settlement_prices: str) -> None:
    """Operator mode commits the day-ahead stage on day-ahead prices and runs and settles the
    real-time loop on real-time prices: a source that states the other market is refused, never
    used in the wrong role."""
    for source in prices:
        if source_market(source) == REAL_TIME:
            raise InputError(
                f"--prices {source}: real-time prices; operator mode commits the day-ahead stage "
                "on day-ahead prices (ercot_dam_spp or a day-ahead file) and runs the real-time "
                "loop on --rt-prices; a day-ahead stage on real-time prices would know them in "
                "advance"
            )
    if source_market(settlement_prices) == DAY_AHEAD:
        raise InputError(
            f"--rt-prices {settlement_prices}: day-ahead prices; operator mode runs and settles "
            "the real-time loop at real-time prices (ercot_rtm_spp or a real-time file)"
        )


def _points_for(source: str, requested: Sequence[str], site: Site, what: str) -> list[str | None]:
    if source not in DATASETS:
        return [None]  # a price file is one price history
    points: list[str] = list(requested)
    if not points:
        if site.market is None:
            raise InputError(
                f"{what}: the site names no market.settlement_point; pass --settlement-point"
            )
        points = [site.market.settlement_point]
    available = _dataset_points(source)
    for point in points:
        if point not in available:
            raise InputError(
                f"{what}: settlement point {point!r} is not in bundled {source}; "
                f"points present: {', '.join(available)}"
            )
    return list(points)


def _check_operator(
    site_files: Sequence[str | Path],
    decision_minutes: int,
    rt_forecast: str,
    lookahead: float,
    rt_prices: str,
    period: tuple[dt.date, dt.date],
) -> None:
    """Operator mode's own settings and files, checked before any task runs: the real-time
    prices must be as fine as every site's interval, a forecast file must cover the period."""
    if lookahead:
        raise InputError(
            "--lookahead-hours: operator mode decides one day at a time (the day-ahead market "
            "clears one day); drop --lookahead-hours"
        )
    if rt_forecast not in RT_FORECASTS and not Path(rt_forecast).is_file():
        raise InputError(
            f"--rt-forecast: expected {' or '.join(RT_FORECASTS)} or a price file, "
            f"found {rt_forecast!r}"
        )
    sites = [load_site(site_file) for site_file in site_files]
    point = next((s.market.settlement_point for s in sites if s.market is not None), None)
    for site in sites:
        decision_intervals(site, decision_minutes)
    if rt_prices not in DATASETS:
        table = read_input(rt_prices, settlement_point=point)
        for site_file, site in zip(site_files, sites, strict=True):
            if table.step > pd.Timedelta(minutes=site.interval_minutes):
                raise InputError(
                    f"--rt-prices {rt_prices}: real-time prices every {table.step} are coarser "
                    f"than {site_file}'s {site.interval_minutes}-minute intervals; real-time "
                    "deviations settle on the site's intervals"
                )
    if rt_forecast not in RT_FORECASTS:
        table = read_input(rt_forecast, settlement_point=point)
        for site in sites:
            first = pd.Timestamp(period[0]).tz_localize(site.timezone)
            end = pd.Timestamp(period[1] + dt.timedelta(days=1)).tz_localize(site.timezone)
            starts = table.frame.index
            if starts.min() > first or starts.max() + table.step < end:
                raise InputError(
                    f"--rt-forecast {rt_forecast}: covers {starts.min()} to "
                    f"{starts.max() + table.step}; the period needs {first} to {end}"
                )


def plan_tasks(
    site_files: Sequence[str | Path],
    start: str | dt.date,
    end: str | dt.date,
    *,
    prices: Sequence[str] = (),
    settlement_points: Sequence[str] = (),
    split: Split = "year",
    hashprice: str | Path | None = None,
    profiles: str | Path | None = None,
    lookahead_hours: float = 0.0,
    options: SolveOptions | None = None,
    settlement_prices: str | None = None,
    decision_minutes: int = 60,
    rt_forecast: str = "spread",
    stochastic: StochasticSettings | None = None,
) -> list[Task]:
    """Every task of a batch: sites x price sources x settlement points x periods.

    ``prices`` default to each site's default data set (real-time for sub-hourly sites,
    day-ahead for hourly ones); ``settlement_points`` default to each site's own and apply to
    bundled data sets only. ``settlement_prices`` turns on operator mode (day-ahead stage on
    ``prices``, default ``ercot_dam_spp``; real-time loop and settlement on these; see
    :class:`Task`; a source stating the other market is refused). Raises :class:`InputError` for
    anything a user must fix before running. ``stochastic`` (operator mode only) adds the
    stochastic day-ahead cases.
    """
    site_files = expect_items(site_files, (str, Path), "site_files", "site file paths")
    prices = expect_items(prices, (str, Path), "prices", "data set names or price files")
    prices = [str(p) for p in prices]
    settlement_points = expect_items(settlement_points, str, "settlement_points", "node names")
    expect(lookahead_hours, (int, float), "lookahead_hours", "a number of hours")
    expect(decision_minutes, int, "decision_minutes", "whole minutes")
    expect(rt_forecast, (str, Path), "rt_forecast", "'spread', 'da' or a price file")
    rt_forecast = str(rt_forecast)
    if options is not None:
        expect(options, SolveOptions, "options", "SolveOptions")
    if stochastic is not None:
        expect(stochastic, StochasticSettings, "stochastic", "StochasticSettings")
    first, last = parse_date(start, "--start"), parse_date(end, "--end")
    if last < first:
        raise InputError(f"--end {last} is before --start {first}")
    if split not in SPLITS:
        raise InputError(f"--split: expected one of {', '.join(SPLITS)}, found {split!r}")
    if not 0 <= lookahead_hours <= MAX_LOOKAHEAD_HOURS:
        raise InputError(
            f"--lookahead-hours: expected 0 to {MAX_LOOKAHEAD_HOURS:g}, found {lookahead_hours:g}"
        )
    if not site_files:
        raise InputError("no site file given")
    options = options or SolveOptions()
    for source, what in ((hashprice, "--hashprice"), (profiles, "--profiles")):
        if source is not None and not Path(source).is_file():
            raise InputError(f"{what}: {source}: file not found")
    if settlement_prices is not None and not prices:
        prices = ["ercot_dam_spp"]  # the day-ahead stage commits on day-ahead prices
    for source in (*prices, *([settlement_prices] if settlement_prices else [])):
        _check_source(source, "--prices" if source in prices else "--rt-prices")
    if settlement_prices is not None:
        _check_operator_markets(prices, settlement_prices)
        _check_operator(
            site_files,
            decision_minutes,
            rt_forecast,
            lookahead_hours,
            settlement_prices,
            (first, last),
        )
    if stochastic is not None and settlement_prices is None:
        raise InputError("--stochastic: applies with --operator only (it runs beside the loop)")
    if rt_forecast == "scenarios" and stochastic is None:
        raise InputError("--rt-forecast scenarios: needs --stochastic (the scenarios to average)")
    if stochastic is not None:
        for name in (stochastic.scenarios_file, stochastic.weights_file):
            if name is not None and not Path(name).is_file():
                raise InputError(f"--scenarios: {name}: file not found")
        if stochastic.scenarios_file is not None:
            weights = Path(stochastic.weights_file) if stochastic.weights_file else None
            for site_file in site_files:
                check_scenario_file(
                    Path(stochastic.scenarios_file), load_site(site_file), first, last, weights
                )
    if settlement_points and not any(p in DATASETS for p in prices or DATASETS):
        raise InputError(
            "--settlement-point applies to bundled data sets; --prices names only files"
        )
    tasks = []
    memo: dict[str, str] = {}  # file hashes, read once per plan
    # the task carries exactly the text validated here; every file is read before the partition
    # names resolve its path (a file that cannot be read, e.g. a symlink loop, is named)
    texts = {str(site_file): read_site_text(site_file) for site_file in site_files}
    partitions = site_partitions(site_files)
    for site_file in site_files:
        text = texts[str(site_file)]
        site = parse_site_yaml(text, str(site_file))
        priced = PRICE in required_columns(site)
        if not priced and settlement_prices is not None:
            raise InputError(
                f"{site_file}: the site buys and sells no power; operator mode needs prices"
            )
        sources: list[str | None] = list(prices) or [default_price_dataset(site)]
        if not priced:
            sources = [None]
        for source in sources:
            points = (
                [None]
                if source is None
                else _points_for(source, settlement_points, site, str(site_file))
            )
            for point in points:
                if point is not None and settlement_prices is not None:
                    _points_for(settlement_prices, [point], site, "--rt-prices")
                for period_start, period_end in split_period(first, last, split):
                    task = Task(
                        site_file=str(site_file),
                        site_yaml=text,
                        prices=source,
                        settlement_point=point if site.market is not None else None,
                        start=period_start,
                        end=period_end,
                        hashprice=None if hashprice is None else str(hashprice),
                        profiles=None if profiles is None else str(profiles),
                        lookahead_hours=float(lookahead_hours),
                        options=options,
                        settlement_prices=settlement_prices,
                        decision_minutes=decision_minutes,
                        rt_forecast=rt_forecast,
                        stochastic=stochastic,
                        partition=partitions[str(site_file)],
                    )
                    tasks.append(replace(task, key=task_key(task, memo)))
    return list({task.key: task for task in tasks}.values())
