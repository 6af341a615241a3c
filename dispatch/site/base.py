"""Building blocks of every site-file section: frozen models that refuse unknown keys, and the
unit-carrying field types with their plausible bounds.

Numbers are strict: a boolean is not a count or a megawatt, a quoted ``"5"`` is not a number,
and ``.inf`` / ``.nan`` are refused. Every number has an upper bound far above any real site
(documented on the site-file page, "Plausible bounds"), so a unit slip or a typo (``1e30``
containers, ``1e308`` MW) is refused at validation naming its field, never handed to the
solver, where it would read as "unbounded" or overflow.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

MAX_POWER_MW = 10_000.0
"""10 GW: several times the largest campus planned; ERCOT's whole peak load is ~85 GW."""
MAX_ENERGY_MWH = 100_000.0
"""10 hours of :data:`MAX_POWER_MW`."""
MAX_MINUTES = 7 * 24 * 60.0
"""A week: every duration of a site file (min up/down, ride-through, windows) is shorter."""
MAX_CONTAINERS = 10_000
"""Containers per fleet: 19 GW of 1.9 MW containers."""
MIN_PRICE_USD_PER_MWH = -5_000.0
MAX_PRICE_USD_PER_MWH = 20_000.0
"""Prices in the site file (a PPA, an import adder) within the bounds of price files."""
MAX_COST_USD_PER_MWH = 20_000.0
"""Costs and values per MWh (degradation, deferral, heat): a price's bound."""
MAX_PENALTY_USD_PER_MWH = 1_000_000.0
"""Penalties and payments per MWh (SLA credits, DR): 50 x the default SLA penalty."""
MAX_USD = 10_000_000.0
"""One-off costs (a start-up): 10 M USD."""
MAX_CAPEX_USD_PER_UNIT = 1_000_000_000.0
"""Capex per MW or MWh, fixed O&M per MW-year: 100 x the dearest HPC build."""
MAX_NAME_LENGTH = 200


def _printable(text: str) -> str:
    if any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in text):  # C0, DEL, C1
        raise ValueError("must not contain control characters (escape sequences, line breaks)")
    return text


Label = Annotated[str, Field(min_length=1, max_length=MAX_NAME_LENGTH), AfterValidator(_printable)]
"""Free text a person reads (the site's name, a settlement point): one printable line."""
Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]
Fraction = Annotated[float, Field(ge=0, le=1)]
PowerMw = Annotated[float, Field(gt=0, le=MAX_POWER_MW)]
PowerOrZeroMw = Annotated[float, Field(ge=0, le=MAX_POWER_MW)]
EnergyMwh = Annotated[float, Field(gt=0, le=MAX_ENERGY_MWH)]
Minutes = Annotated[float, Field(ge=0, le=MAX_MINUTES)]
PositiveMinutes = Annotated[float, Field(gt=0, le=MAX_MINUTES)]
Count = Annotated[int, Field(ge=0, le=MAX_CONTAINERS)]
PriceUsdPerMwh = Annotated[float, Field(ge=MIN_PRICE_USD_PER_MWH, le=MAX_PRICE_USD_PER_MWH)]
CostUsdPerMwh = Annotated[float, Field(ge=0, le=MAX_COST_USD_PER_MWH)]
PenaltyUsdPerMwh = Annotated[float, Field(ge=0, le=MAX_PENALTY_USD_PER_MWH)]
Usd = Annotated[float, Field(ge=0, le=MAX_USD)]
CapexUsd = Annotated[float, Field(ge=0, le=MAX_CAPEX_USD_PER_UNIT)]


class Spec(BaseModel):
    """Base of every site-file section: frozen, unknown keys rejected, numbers strict and
    finite."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)
