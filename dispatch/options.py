"""Solver settings: a plain frozen value (no solver import), so tasks can carry it anywhere."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from dispatch.errors import InputError, expect

# HiGHS settings the dispatch engines use unless ``SolveOptions.highs_options`` says otherwise
HIGHS_DEFAULTS: Mapping[str, bool | int | float | str] = {
    # Feasibility jump, a primal heuristic HiGHS runs at the root of a MIP. A dispatch day is
    # solved at the root node (36 days of 2023 on the 15-minute campus: every one, its LP
    # relaxation within 1e-7 of the optimum), so it only costs time: HiGHS CPU -34 % there and
    # -60 % on the hourly campus, every optimum unchanged (docs/performance.md)
    "mip_heuristic_run_feasibility_jump": False,
}


@dataclass(frozen=True)
class SolveOptions:
    """Solver settings. ``mip_rel_gap`` relative; ``time_limit_s`` per solve [s].

    ``highs_options`` passes further HiGHS options by their HiGHS names (e.g.
    ``{"mip_heuristic_effort": 0.1}``); an unknown name or a value HiGHS refuses is an
    InputError. They override :data:`HIGHS_DEFAULTS` (:attr:`highs_settings`).
    """

    mip_rel_gap: float = 1e-4
    time_limit_s: float = 60.0
    threads: int = 1
    relax_integrality: bool = False
    # HiGHS presolve off: on the 2023 benchmark (west_texas_hybrid, 365 days) it cut HiGHS time
    # by 24 % and the year by 18 % with every day still optimal to 1e-4; on the mostly-LP example
    # sites it costs a few ms a day. "choose" restores HiGHS's own default.
    presolve: str = "off"
    highs_options: Mapping[str, bool | int | float | str] = field(default_factory=dict)
    # "compiled": the model is built with Pyomo once per horizon shape, compiled to arrays and
    # re-solved through highspy directly (dispatch.fast); "pyomo": Pyomo's persistent HiGHS
    # interface, the reference the compiled path is tested against.
    interface: str = "compiled"
    # compiled only: the previous solution as HiGHS's MIP start. Measured without a gain, from
    # one day to the next and in the real-time loop (docs/performance.md#mip-start)
    warm_start: bool = False
    # compiled only: solve the LP relaxation first (HiGHS re-uses the last basis, no presolve)
    # and the MIP only if that relaxation is fractional. It pays where relaxations are mostly
    # integral and re-solves differ little: the real-time loop's steps (docs/performance.md)
    relaxation_first: bool = False
    # compiled only: a model built and compiled in this process is kept when its dispatcher is
    # done with it and re-used by the next dispatcher (a new ``solve()``) of the same structure,
    # which only loads its data and state (dispatch.cache). False: every dispatcher builds
    model_cache: bool = True

    def __post_init__(self) -> None:
        expect(self.mip_rel_gap, (int, float), "mip_rel_gap", "a number")
        expect(self.time_limit_s, (int, float), "time_limit_s", "a number of seconds")
        expect(self.threads, int, "threads", "a whole number")
        expect(self.relax_integrality, bool, "relax_integrality", "True or False")
        expect(self.presolve, str, "presolve", "'choose', 'on' or 'off'")
        expect(self.warm_start, bool, "warm_start", "True or False")
        expect(self.relaxation_first, bool, "relaxation_first", "True or False")
        expect(self.model_cache, bool, "model_cache", "True or False")
        expect(self.highs_options, Mapping, "highs_options", "a mapping of HiGHS option names")
        if not (math.isfinite(self.mip_rel_gap) and 0 <= self.mip_rel_gap < 1):
            raise InputError(
                f"mip_rel_gap (--mip-gap): expected 0 <= gap < 1, found {self.mip_rel_gap}"
            )
        if not (math.isfinite(self.time_limit_s) and self.time_limit_s > 0):
            raise InputError(
                "time_limit_s (--time-limit): expected a finite number of seconds > 0, found "
                f"{self.time_limit_s}"
            )
        if self.threads < 1:
            raise InputError(f"threads: expected >= 1, found {self.threads}")
        if self.presolve not in ("choose", "on", "off"):
            raise InputError(f"presolve: expected choose, on or off, found {self.presolve!r}")
        if self.interface not in ("compiled", "pyomo"):
            raise InputError(f"interface: expected compiled or pyomo, found {self.interface!r}")
        if self.warm_start and self.interface != "compiled":
            raise InputError("warm_start: a MIP start needs interface compiled")
        if self.relaxation_first and self.interface != "compiled":
            raise InputError("relaxation_first: the relaxation first needs interface compiled")
        if self.highs_options:
            import highspy  # only when options need checking: keeps this module solver-free

            probe = highspy.Highs()
            probe.setOptionValue("output_flag", False)
            for name, value in self.highs_options.items():
                if probe.setOptionValue(name, value) != highspy.HighsStatus.kOk:
                    raise InputError(
                        f"highs_options: HiGHS refuses option {name!r} = {value!r} "
                        "(unknown name, wrong type or out of range)"
                    )

    @property
    def highs_settings(self) -> dict[str, bool | int | float | str]:
        """:data:`HIGHS_DEFAULTS` with ``highs_options`` over them: what the engines pass."""
        return {**HIGHS_DEFAULTS, **self.highs_options}

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
