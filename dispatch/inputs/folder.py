"""An inputs folder: the files a site needs, each found by its columns.

Every data file in the folder (``.csv``, a zipped CSV ``.zip``, ``.parquet``, in any case;
hidden files and other suffixes are skipped) is classified from its header alone into the series
it can give:

* ``prices``: a tidy file with ``price_usd_per_mwh``, ``da_price_usd_per_mwh`` or
  ``rt_price_usd_per_mwh``, an ERCOT DAM or RTM settlement point price report, or a gridstatus
  price frame;
* ``ancillary``: a tidy file with ``<product>_usd_per_mw_h`` columns, an ERCOT DAM ancillary
  clearing price report (MCPC), or gridstatus's ``get_as_prices`` frame;
* ``hashprice``: a daily file (``date``) in any form :func:`~dispatch.inputs.read_hashprice`
  accepts;
* ``peaks``: a tidy file with ``coincident_peak_weight``;
* ``profiles``: a tidy file with ``<profile>_capacity_factor``, ``hpc_utilization_fraction`` or
  ``heat_demand_mw_thermal``.

A tidy file may give several series (one wide file with prices and capacity factors). A data
file that gives none, or cannot be read, is a problem; so are two files that give the same
series when the site needs it (the message lists them: keep one, or choose with the option).
The folder's files are read by the same readers as the ``--prices``/``--hashprice``/... files.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeAlias

import pandas as pd

from dispatch.errors import InputError
from dispatch.inputs.ercot import report_kind
from dispatch.inputs.gridstatus_frames import convention, is_as_frame, market_of
from dispatch.inputs.hashprice import hashprice_form
from dispatch.inputs.prices import BUNDLED_MARKETS, PRICE_COLUMNS, tidy_price_market
from dispatch.inputs.programs import COINCIDENT_PEAK_WEIGHT, HEAT_DEMAND
from dispatch.inputs.table import DAY_AHEAD, REAL_TIME, Market, is_parquet

Role: TypeAlias = Literal["prices", "ancillary", "hashprice", "peaks", "profiles"]
ROLES: tuple[Role, ...] = ("prices", "ancillary", "hashprice", "peaks", "profiles")
OPTION: dict[Role, str] = {role: f"--{role}" for role in ROLES}
"""The command-line option that gives each series as one file (and overrides the folder)."""
DATA_SUFFIXES = (".csv", ".zip", ".parquet")
HPC_UTILIZATION = "hpc_utilization_fraction"


@dataclass(frozen=True)
class FolderFile:
    """A data file of an inputs folder, the series it gives and, for prices, their market."""

    path: Path
    roles: tuple[Role, ...]
    market: Market | None = None

    @property
    def label(self) -> str:
        return self.path.name if self.market is None else f"{self.path.name} ({self.market})"


@dataclass(frozen=True)
class InputsFolder:
    """The data files of a folder, classified, and the files that could not be."""

    path: Path
    files: tuple[FolderFile, ...]
    problems: tuple[str, ...] = ()

    def candidates(self, role: Role) -> list[FolderFile]:
        return [f for f in self.files if role in f.roles]

    def choose(self, role: Role) -> Path | None:
        """The one file that gives ``role`` (``None`` if none does).

        Raises
        ------
        InputError
            If several do, listing them.
        """
        found = self.candidates(role)
        if len(found) > 1:
            names = ", ".join(f.label for f in found)
            markets = {f.market for f in found}
            why = (
                "; a run is priced at one market: choose with --prices FILE"
                if role == "prices" and {DAY_AHEAD, REAL_TIME} <= markets
                else f"; keep one in the folder, or choose with {OPTION[role]} FILE"
            )
            raise InputError(f"{self.path}: {len(found)} files give {role}: {names}{why}")
        return found[0].path if found else None


def folder_files(folder: str | Path, roles: Iterable[Role]) -> tuple[dict[Role, Path], list[str]]:
    """The one file of ``folder`` that gives each of ``roles``, and every problem found
    (unreadable or unrecognised files, several files for one of ``roles``)."""
    scanned = scan_folder(folder)
    problems = list(scanned.problems)
    files: dict[Role, Path] = {}
    for role in roles:
        try:
            path = scanned.choose(role)
        except InputError as error:
            problems.append(str(error))
            continue
        if path is not None:
            files[role] = path
    return files, problems


def scan_folder(folder: str | Path) -> InputsFolder:
    """Classify the data files of ``folder`` by the series their columns give.

    Raises
    ------
    InputError
        If ``folder`` is not a folder.
    """
    path = Path(folder)
    if not path.is_dir():
        what = "is a file" if path.exists() else "does not exist"
        raise InputError(f"--inputs {path}: {what}, expected a folder of input files")
    files: list[FolderFile] = []
    problems: list[str] = []
    for file in sorted(path.iterdir()):
        data = file.suffix.lower() in DATA_SUFFIXES
        if file.name.startswith(".") or not file.is_file() or not data:
            continue
        try:
            columns = read_header(file)
        except InputError as error:
            problems.append(str(error))
            continue
        roles = roles_of(columns)
        if not roles:
            problems.append(
                f"{file}: gives none of the series an inputs folder holds ({', '.join(ROLES)}); "
                f"columns found: {', '.join(map(str, columns))}"
            )
            continue
        market = _market(file, columns) if "prices" in roles else None
        files.append(FolderFile(file, roles, market))
    return InputsFolder(path, tuple(files), tuple(problems))


def read_header(path: Path) -> pd.Index:
    """The column names of a CSV (zipped or not) or Parquet file, without reading its rows."""
    try:
        if is_parquet(path):
            import pyarrow.parquet as pq

            return pd.Index(pq.read_schema(path).names)
        return pd.read_csv(path, nrows=0, skipinitialspace=True).columns
    except (OSError, ValueError) as error:
        kind = "Parquet" if is_parquet(path) else "CSV"
        raise InputError(f"{path}: cannot read as {kind}: {error}") from None


def roles_of(columns: pd.Index) -> tuple[Role, ...]:
    """The series a file with these columns gives (empty: none)."""
    kind = report_kind(columns)
    if kind is not None:
        return ("prices",) if kind in ("dam_spp", "rtm_spp") else ("ancillary",)
    if convention(columns) is not None:
        return ("prices",)
    if is_as_frame(columns):
        return ("ancillary",)
    names = [str(c) for c in columns]
    if "interval_start" not in names:
        return ("hashprice",) if "date" in names and hashprice_form(columns) else ()
    roles: list[Role] = []
    if any(c in PRICE_COLUMNS for c in names):
        roles.append("prices")
    if any(c.endswith("_usd_per_mw_h") for c in names):
        roles.append("ancillary")
    if COINCIDENT_PEAK_WEIGHT in names:
        roles.append("peaks")
    if any(c.endswith("_capacity_factor") or c in (HPC_UTILIZATION, HEAT_DEMAND) for c in names):
        roles.append("profiles")
    return tuple(roles)


def source_market(source: str | Path) -> Market | None:
    """The market a price source states: a bundled data set by its name, a price file by its
    layout (read from its header, and a gridstatus frame's first ``Market``); ``None`` when it
    states none.

    Raises
    ------
    InputError
        If the file cannot be read.
    """
    if str(source) in BUNDLED_MARKETS:
        return BUNDLED_MARKETS[str(source)]
    path = Path(source)
    columns = read_header(path)
    return _market(path, columns) if "prices" in roles_of(columns) else None


def _market(path: Path, columns: pd.Index) -> Market | None:
    """The market a price file states: by its ERCOT report kind, its gridstatus ``Market``
    column (the first row's) or its tidy price column."""
    kind = report_kind(columns)
    if kind is not None:
        return DAY_AHEAD if kind == "dam_spp" else REAL_TIME
    found = convention(columns)
    if found is None:
        return tidy_price_market(columns)
    if found.market not in columns:
        return None
    try:
        if is_parquet(path):
            first = pd.read_parquet(path, columns=[found.market]).head(1)
        else:
            first = pd.read_csv(path, usecols=[found.market], nrows=1, skipinitialspace=True)
    except (OSError, ValueError):
        return None  # the reader names the problem when the file is read
    return market_of(str(first.iloc[0, 0])) if len(first) else None
