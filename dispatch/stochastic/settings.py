"""Settings of the stochastic day-ahead stage: plain frozen values (no solver import), so batch
tasks can carry them anywhere."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from dispatch.errors import InputError


@dataclass(frozen=True)
class Risk:
    """How the first stage is chosen: maximize mean margin − ``cvar_weight`` (λ) × CVaR at
    ``cvar_alpha`` (α) of the loss (−margin) [USD]; the day-ahead position may leave the
    expected plan by ``position_band_mw`` [MW] in each hour (0: it buys the expected plan)."""

    cvar_weight: float = 0.0
    cvar_alpha: float = 0.95
    position_band_mw: float = 0.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.cvar_weight) and self.cvar_weight >= 0):
            raise InputError(f"--cvar-weight: expected >= 0, found {self.cvar_weight:g}")
        if not 0 <= self.cvar_alpha < 1:
            raise InputError(f"--cvar-alpha: expected 0 <= alpha < 1, found {self.cvar_alpha:g}")
        if not (math.isfinite(self.position_band_mw) and self.position_band_mw >= 0):
            raise InputError(f"--position-band-mw: expected >= 0, found {self.position_band_mw:g}")


@dataclass(frozen=True)
class StochasticSettings:
    """The stochastic stage of a back-test: ``count`` scenarios by the ``spread`` method, or
    those of ``scenarios_file`` (with ``weights_file``); ``in_sample``: also solve wait-and-see
    and the expected-value solution each day (VSS and EVPI on the scenario model)."""

    count: int = 10
    risk: Risk = field(default_factory=Risk)
    scenarios_file: str | None = None
    weights_file: str | None = None
    in_sample: bool = True

    def __post_init__(self) -> None:
        if self.count < 1:
            raise InputError(f"--stochastic: expected at least 1 scenario, found {self.count}")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
