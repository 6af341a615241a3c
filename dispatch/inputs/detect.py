"""One entry point for series files: the format is recognised from the file's columns.

Detection rule, first match wins:

1. a ``DeliveryDate`` / ``Delivery Date`` column -> an ERCOT report (DAM or RTM settlement point
   prices, DAM ancillary clearing prices), see :mod:`dispatch.inputs.ercot`;
2. ``Interval Start`` (or ``Time``) + ``Location`` + ``SPP``/``LMP``, or ``interval_start_utc`` +
   ``location`` + ``spp``/``lmp`` -> a gridstatus price frame
   (:mod:`~dispatch.inputs.gridstatus_frames`);
3. ``Interval Start`` + a product's long name (``Regulation Up``, ...) -> gridstatus's ERCOT
   ancillary prices (``Ercot().get_as_prices``);
4. ``interval_start`` or ``date`` -> a tidy file, see :mod:`dispatch.inputs.tidy`.

Anything else is an error that lists the layouts understood and the columns found.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from dispatch.errors import InputError
from dispatch.inputs.ercot import ercot_table, report_kind
from dispatch.inputs.gridstatus_frames import (
    convention,
    gridstatus_as_table,
    gridstatus_table,
    is_as_frame,
)
from dispatch.inputs.table import Source, Table, read_frame, source_name
from dispatch.inputs.tidy import is_tidy, tidy_table

FORMAT_NAMES = {
    "dam_spp": "ERCOT DAM settlement point prices",
    "rtm_spp": "ERCOT RTM settlement point prices",
    "dam_mcpc": "ERCOT DAM ancillary clearing prices",
    "dam_mcpc_wide": "ERCOT DAM ancillary clearing prices",
}
GRIDSTATUS_AS = "gridstatus ancillary prices"


def detect_format(columns: pd.Index) -> str:
    """A short name of the layout of a file with these columns.

    Raises
    ------
    InputError
        If no reader understands the columns (the message lists the layouts).
    """
    kind = report_kind(columns)
    if kind is not None:
        return FORMAT_NAMES[kind]
    found = convention(columns)
    if found is not None:
        return found.name
    if is_as_frame(columns):
        return GRIDSTATUS_AS
    if is_tidy(columns):
        return "tidy"
    raise InputError(
        "unrecognised layout: expected a tidy file (interval_start or date + columns named by "
        "quantity and unit), a gridstatus frame (Interval Start, Location, SPP/LMP, or "
        "interval_start_utc, location, spp/lmp; or Interval Start and ancillary products such as "
        "Regulation Up) or an ERCOT report (DeliveryDate, HourEnding or "
        f"DeliveryHour, ...); found columns {[str(c) for c in columns]}"
    )


def read_input(
    source: Source, *, settlement_point: str | None = None, timezone: str | None = None
) -> Table:
    """Read a series file of any supported layout into a validated :class:`Table`.

    Parameters
    ----------
    source
        CSV (optionally zipped) or Parquet path, or a frame (e.g. straight from gridstatus).
    settlement_point
        Location to select from long price files (ERCOT reports, gridstatus frames).
    timezone
        IANA zone of naive timestamps in tidy and gridstatus files (ERCOT reports are always
        Central Prevailing Time).

    Returns
    -------
    Table
        Columns named by quantity and unit (``price_usd_per_mwh``, ``rrs_usd_per_mw_h``, ...),
        indexed by UTC interval start or by date; ``kind`` names the layout detected.
    """
    frame, row = read_frame(source)
    path = source_name(source)
    try:
        kind = detect_format(frame.columns)
    except InputError as error:
        raise InputError(f"{path}: {error}") from None
    if kind.startswith("ERCOT"):
        table = ercot_table(frame, row=row, path=path, settlement_point=settlement_point)
    elif kind == GRIDSTATUS_AS:
        table = gridstatus_as_table(frame, row=row, path=path, timezone=timezone)
    elif kind.startswith("gridstatus"):
        table = gridstatus_table(
            frame, row=row, path=path, settlement_point=settlement_point, timezone=timezone
        )
    else:
        table = tidy_table(frame, row=row, path=path, timezone=timezone)
    return replace(table, kind=kind)
