"""Hashprice scenarios: scale or replace the hashprice series, e.g. the next halving.

A scenario file (YAML) lists scenarios; the first is the reference::

    scenarios:
      - {name: history}                              # the series as it was
      - {name: halving_2028, subsidy_factor: 0.5}    # the block subsidy halved, fees as they were
      - {name: hashprice_x2, hashprice_factor: 2.0}
      - {name: my_view, hashprice_file: my_hashprice.csv}   # any layout --hashprice reads

Each day's hashprice becomes ``hashprice_factor × hashprice × (subsidy_share × subsidy_factor
+ (1 − subsidy_share) × fee_factor)``, with ``subsidy_share`` the block subsidy's share of that
day's miner revenue from the bundled chain data (``hashprice_subsidy_usd_per_th_day`` over
``hashprice_usd_per_th_day``, PROVENANCE.md section 8).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from dispatch.errors import InputError
from dispatch.inputs import HASHPRICE, read_hashprice
from dispatch.inputs.bundled import read_dataset
from dispatch.site import format_validation_error
from dispatch.site.loader import parse_yaml, read_text
from dispatch.sizing.days import History

Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]


class Scenario(BaseModel):
    """One view of hashprice. Factors are dimensionless multipliers (1 = as it was)."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    name: Identifier
    description: str = ""
    hashprice_factor: float = Field(
        default=1.0, gt=0, le=100, description="scales the whole hashprice"
    )
    subsidy_factor: float = Field(
        default=1.0,
        ge=0,
        le=100,
        description="scales the block-subsidy part (0.5: one more halving)",
    )
    fee_factor: float = Field(
        default=1.0, ge=0, le=100, description="scales the transaction-fee part"
    )
    hashprice_file: Path | None = Field(
        default=None,
        description="replace the series by this daily file (any --hashprice layout), relative "
        "to the scenario file",
    )

    @property
    def changes_hashprice(self) -> bool:
        return (
            self.hashprice_file is not None
            or self.hashprice_factor != 1
            or self.subsidy_factor != 1
            or self.fee_factor != 1
        )


class ScenarioFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    scenarios: list[Scenario] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> ScenarioFile:
        names = [s.name for s in self.scenarios]
        if len(set(names)) != len(names):
            raise ValueError(f"scenario names must not repeat, found {names}")
        return self


REFERENCE = Scenario(name="history", description="hashprice as it was")


def load_scenarios(path: str | Path) -> list[Scenario]:
    """Read and validate a scenario file; ``hashprice_file`` paths resolve next to it."""
    path = Path(path)
    data = parse_yaml(read_text(path, "scenario file"), str(path))
    try:
        parsed = ScenarioFile.model_validate(data)
    except ValidationError as error:
        raise InputError(format_validation_error(str(path), error)) from None
    return [
        s.model_copy(update={"hashprice_file": path.parent / s.hashprice_file})
        if s.hashprice_file is not None and not s.hashprice_file.is_absolute()
        else s
        for s in parsed.scenarios
    ]


def subsidy_share(dates: pd.Index) -> np.ndarray:
    """Block subsidy's share of miner revenue (0..1) on each date, from the bundled chain data."""
    chain = read_dataset("btc_hashprice")
    share = (chain["hashprice_subsidy_usd_per_th_day"] / chain["hashprice_usd_per_th_day"]).dropna()
    missing = sorted(set(dates) - set(share.index))
    if missing:
        raise InputError(
            f"scenario: subsidy_factor/fee_factor need the bundled chain data, which has no "
            f"subsidy share for {missing[0]} (covers {share.index.min()} to {share.index.max()})"
        )
    return share.reindex(dates).to_numpy(dtype=float)


def apply_scenario(history: History, scenario: Scenario) -> History:
    """The history with this scenario's hashprice."""
    if not scenario.changes_hashprice:
        return history
    frame = history.inputs.frame.copy()
    if HASHPRICE not in frame.columns:
        raise InputError(
            f"scenario {scenario.name!r} changes hashprice but the site has no mining to use it"
        )
    dates = pd.Index(frame.index.date)
    hashprice = frame[HASHPRICE].to_numpy(dtype=float)
    source = history.inputs.sources.get(HASHPRICE, "")
    if scenario.hashprice_file is not None:
        daily = read_hashprice(scenario.hashprice_file)
        missing = sorted(set(dates) - set(daily.index))
        if missing:
            raise InputError(
                f"scenario {scenario.name!r}: {scenario.hashprice_file} has no hashprice for "
                f"{missing[0]}"
            )
        hashprice = daily.reindex(dates).to_numpy(dtype=float)
        source = str(scenario.hashprice_file)
    if scenario.subsidy_factor != 1 or scenario.fee_factor != 1:
        share = subsidy_share(dates)
        hashprice = hashprice * (
            share * scenario.subsidy_factor + (1.0 - share) * scenario.fee_factor
        )
    frame[HASHPRICE] = hashprice * scenario.hashprice_factor
    sources = {**history.inputs.sources, HASHPRICE: f"{source}, scenario {scenario.name}"}
    return history.with_inputs(replace(history.inputs, frame=frame, sources=sources))
