"""State carried across horizons, and moving a solution between models of the same site.

Every asset that carries state exposes :class:`~dispatch.model.context.StateHooks`; this module
only loops over the blocks that do, so a new asset plugs in without editing it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pyomo.environ as pyo

from dispatch.model.build import BuiltModel


@dataclass(frozen=True)
class SiteState:
    """What every stateful asset carries into the next horizon, by block name.

    The values are the builders' own frozen state objects (``BatteryState``, ``FleetState``,
    ``GeneratorState``, ...); ``SiteState()`` or ``None`` is a fresh start.
    """

    assets: Mapping[str, Any] = field(default_factory=dict)

    def get(self, block: str) -> Any:
        return self.assets.get(block)


def read_state(built: BuiltModel, kept: pd.DatetimeIndex, before: SiteState | None) -> SiteState:
    """The state at the end of the first ``len(kept)`` intervals of ``built``'s solution."""
    before = before or SiteState()
    return SiteState(
        {
            name: terms.state.read(kept, before.get(name))
            for name, terms in built.blocks
            if terms.state is not None
        }
    )


def write_state(built: BuiltModel, state: SiteState | None, horizon: pd.DatetimeIndex) -> None:
    """Carried state into ``built``'s Params (``None``: every asset's fresh-start defaults)."""
    state = state or SiteState()
    for name, terms in built.blocks:
        if terms.state is not None:
            terms.state.write(state.get(name), horizon)


def _variables(built: BuiltModel) -> list[pyo.Var]:
    return list(built.model.component_objects(pyo.Var, descend_into=True))


def copy_solution(source: BuiltModel, target: BuiltModel) -> None:
    """Give ``target``'s variables the values ``source``'s have at the same indices.

    Both models are built from the same site, so their variables come in the same order; the
    target's horizon is the source's or a prefix of it (the kept window of a look-ahead solve).
    """
    pairs = zip(_variables(source), _variables(target), strict=True)
    for from_var, to_var in pairs:
        if from_var.getname(fully_qualified=True) != to_var.getname(fully_qualified=True):
            raise ValueError("models of different sites: variables do not line up")
        for index, data in to_var.items():
            data.set_value(from_var[index].value, skip_validation=True)


def settle_solution(built: BuiltModel) -> None:
    """Put the solution at each block's canonical point (``AssetTerms.settle``)."""
    for _, terms in built.blocks:
        if terms.settle is not None:
            terms.settle()
