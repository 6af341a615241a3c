"""Which inputs move NPV most: each input's draws ranked (a key per path), the tornado (one
input at its P10 and P90 path, every other at its median path) and the inputs table."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from dispatch.sizing.economics import CostTerm
from dispatch.sizing.montecarlo import Candidate, Grid, Setup, Sites, bau_ledger, score
from dispatch.sizing.paths import DrawKind, chain, yearly_hashprice
from dispatch.sizing.plan import Planning
from dispatch.sizing.risk import percentile_paths
from dispatch.sizing.timeline import MONTHS_PER_YEAR, monthly_hazard

BAU = "business_as_usual"


def inputs_table(planning: Planning, setup: Setup) -> pd.DataFrame:
    """What each input's draws look like: P10, P50, P90 over the paths, and where it comes
    from."""
    keys = input_keys(planning, setup)
    rows = []
    for kind, (values, unit, source) in keys.items():
        rows.append(
            {
                "input": kind.value,
                "year": None,
                "unit": unit,
                "p10": float(np.percentile(values, 10)),
                "p50": float(np.percentile(values, 50)),
                "p90": float(np.percentile(values, 90)),
                "source": source,
            }
        )
    hashprice = setup.hashprice
    for k in range(setup.horizon.n_years):
        rows.append(
            {
                "input": "hashprice",
                "year": setup.horizon.first_year + k,
                "unit": "USD/PH/day",
                "p10": float(np.percentile(hashprice[:, k], 10)),
                "p50": float(np.percentile(hashprice[:, k], 50)),
                "p90": float(np.percentile(hashprice[:, k], 90)),
                "source": "derived: BTC price x (subsidy + fees) / difficulty",
            }
        )
    return pd.DataFrame(rows)


def input_keys(
    planning: Planning, setup: Setup
) -> dict[DrawKind | CostTerm, tuple[np.ndarray, str, str]]:
    """Per input: the value that ranks the paths (for the tornado), its unit and source."""
    draws, horizon = setup.draws, setup.horizon
    history = chain()
    offset = (pd.Timestamp(horizon.first_year, 1, 1).date() - history.last_day).days - 1
    btc = history.btc_usd * np.exp(draws.log_btc[:, offset:].mean(axis=1))
    prices = np.array([y.mean_price_usd_per_mwh for y in setup.years])
    keys: dict[DrawKind | CostTerm, tuple[np.ndarray, str, str]] = {
        DrawKind.BTC_PRICE: (
            btc,
            "USD (geometric mean)",
            "bundled BTC log-returns, block bootstrap",
        ),
        DrawKind.HASHRATE_GROWTH: (draws.hashrate_growth, "fraction/year", "range"),
        DrawKind.FEE_SHARE: (draws.fee_share, "fraction", "range"),
        DrawKind.PRICE_YEARS: (
            prices[draws.price_year].mean(axis=1),
            "USD/MWh (mean of the drawn years)",
            f"bundled years {', '.join(str(y.year) for y in setup.years)}",
        ),
    }
    for term, values in draws.capex_unit.items():
        keys[term] = (values, "USD/MW", "range")
    if planning.gpu_cloud is not None:
        keys[DrawKind.GPU_DECLINE] = (draws.gpu_decline, "fraction/year", "range")
        keys[DrawKind.GPU_UTILIZATION] = (draws.gpu_utilization, "fraction", "range")
    hpc = planning.site.hpc
    if hpc is not None and hpc.contract.kind == "colocation" and planning.spec.colocation:
        terms = planning.spec.colocation
        shocks = (draws.exit_draws < monthly_hazard(terms.exit_probability_per_year)).sum(axis=1)
        ends = np.arange(
            terms.term_years * MONTHS_PER_YEAR, horizon.n_months, terms.term_years * MONTHS_PER_YEAR
        )
        shocks = shocks + (draws.renewal_draws[:, ends] >= terms.renewal_probability_fraction).sum(
            axis=1
        )
        keys[DrawKind.TENANT] = (
            shocks.astype(float),
            "exit draws",
            "exit and renewal probabilities",
        )
    return keys


def tornado(
    planning: Planning,
    grid: Grid,
    with_sites: Sequence[tuple[Candidate, Sites]],
    bau_sites: Sites,
) -> pd.DataFrame:
    """Per candidate and input: NPV vs as it stands with that input at its P10 and P90 path and
    every other input at its median path."""
    setup = grid.setup
    keys = {k: v for k, v in input_keys(planning, setup).items() if np.ptp(v[0]) > 0}
    picks = {kind: percentile_paths(values) for kind, (values, _, _) in keys.items()}
    kinds = list(picks)
    n = 1 + 2 * len(kinds)
    rows_of = {kind: np.full(n, picks[kind][1]) for kind in kinds}
    for i, kind in enumerate(kinds):
        rows_of[kind][1 + 2 * i] = picks[kind][0]
        rows_of[kind][2 + 2 * i] = picks[kind][2]
    draws = setup.draws.combine(np.zeros(n, dtype=int), rows_of)
    hashprice = yearly_hashprice(draws, setup.horizon, list(setup.halvings))
    bau = bau_ledger(planning, grid, bau_sites, draws, hashprice)
    rows = []
    for candidate, sites in with_sites:
        if candidate.name == BAU:
            continue
        scored = score(planning, grid, candidate, sites, bau, draws, hashprice)
        gain = scored.npv_vs_bau_usd
        for i, kind in enumerate(kinds):
            values, unit, _ = keys[kind]
            low, _, high = picks[kind]
            rows.append(
                {
                    "candidate": candidate.name,
                    "input": kind.value,
                    "unit": unit,
                    "input_p10": float(values[low]),
                    "input_p90": float(values[high]),
                    "npv_at_p10_usd": float(gain[1 + 2 * i]),
                    "npv_at_p90_usd": float(gain[2 + 2 * i]),
                    "npv_base_usd": float(gain[0]),
                    "swing_usd": float(abs(gain[2 + 2 * i] - gain[1 + 2 * i])),
                }
            )
    table = pd.DataFrame(
        rows,
        columns=[
            "candidate",
            "input",
            "unit",
            "input_p10",
            "input_p90",
            "npv_at_p10_usd",
            "npv_at_p90_usd",
            "npv_base_usd",
            "swing_usd",
        ],
    )
    return table.sort_values(["candidate", "swing_usd"], ascending=[True, False], ignore_index=True)
