"""Solver settings: a plain frozen value (no solver import), so tasks can carry it anywhere."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from dispatch.errors import InputError


@dataclass(frozen=True)
class SolveOptions:
    """Solver settings. ``mip_rel_gap`` relative; ``time_limit_s`` per solve [s]."""

    mip_rel_gap: float = 1e-4
    time_limit_s: float = 60.0
    threads: int = 1
    relax_integrality: bool = False
    presolve: str = "choose"

    def __post_init__(self) -> None:
        if not 0 <= self.mip_rel_gap < 1:
            raise InputError(f"mip_rel_gap: expected 0 <= gap < 1, found {self.mip_rel_gap}")
        if self.time_limit_s <= 0:
            raise InputError(f"time_limit_s: expected > 0, found {self.time_limit_s}")
        if self.threads < 1:
            raise InputError(f"threads: expected >= 1, found {self.threads}")
        if self.presolve not in ("choose", "on", "off"):
            raise InputError(f"presolve: expected choose, on or off, found {self.presolve!r}")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
