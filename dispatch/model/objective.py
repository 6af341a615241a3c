"""The objective: the sum of every block's stream terms, and nothing else."""

from __future__ import annotations

from collections.abc import Sequence

import pyomo.environ as pyo

from dispatch.model.context import AssetTerms
from dispatch.streams import Stream


def build_objective(m: pyo.Block, terms: Sequence[AssetTerms]) -> list[Stream]:
    """``m.stream_usd[s]`` and ``m.stream_basis_mwh[s]`` per stream present; maximize Σ USD.

    The streams table evaluates these very expressions, so it sums to the objective by
    construction (and a test checks it).
    """
    present = [s for s in Stream if any(s in term.streams for term in terms)]
    m.stream_names = pyo.Set(initialize=[s.value for s in present], ordered=True)

    def usd(m: pyo.Block, name: str) -> pyo.Expression:
        return sum(term.streams[Stream(name)].usd for term in terms if Stream(name) in term.streams)

    def basis(m: pyo.Block, name: str) -> pyo.Expression:
        stream = Stream(name)
        return sum(term.streams[stream].basis_mwh for term in terms if stream in term.streams)

    m.stream_usd = pyo.Expression(m.stream_names, rule=usd)
    m.stream_basis_mwh = pyo.Expression(m.stream_names, rule=basis)
    m.margin_usd = pyo.Objective(
        expr=sum(m.stream_usd[name] for name in m.stream_names), sense=pyo.maximize
    )
    return present
