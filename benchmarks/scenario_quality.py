"""How good are the ``spread`` scenarios as a forecast? Each day's scenario distribution
against the realized real-time prices of that day (read only to score, never to build).

Run ``python benchmarks/scenario_quality.py --help``. For every day of the period it builds the
candidate days (:func:`candidate_days`, history strictly before the day), reduces them by
:func:`forward_selection` as the stochastic stage does, and scores per interval, averaged over
the day [USD/MWh]: the continuous ranked probability score (CRPS, lower is better) of the kept
days (``reduced``, what the model uses), of the probability-weighted mean of the candidates each
kept day represents (``cluster_mean``), of the kept days centred on the DA price
(``centred``), of every candidate unreduced (``all``) and of the DA price alone (``da``, a point
forecast: its CRPS is its absolute error); the absolute error of the scenarios' mean
(``mae_reduced``) and the heaviest scenario's probability (``max_weight``). Prints the mean and
median over the days.

The upper tail, which prices a curtailment option: for each threshold X of ``--tails``, the
price excess above X summed over the day, Σ_t (p_t − X)⁺ × Δ [USD/MWh × h: what 1 MW curtailed
whenever the price is above X would save], as the scenarios expect it (``tail_X_reduced``, and
unreduced ``tail_X_all``) and as realized (``tail_X_realized``). Prints the period's sums.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from dispatch import load_site
from dispatch.stochastic.history import load_price_history
from dispatch.stochastic.scenarios import ScenarioMethod, candidate_days, forward_selection

ROOT = Path(__file__).resolve().parent.parent


def crps(points: np.ndarray, weights: np.ndarray, realized: np.ndarray) -> float:
    """Mean over intervals of E|X − y| − ½ E|X − X'| for the discrete distribution."""
    spread = np.abs(points - realized[None, :])
    pairs = np.abs(points[:, None, :] - points[None, :, :])
    inner = np.einsum("i,j,ijt->t", weights, weights, pairs)
    return float((weights @ spread - 0.5 * inner).mean())


def excess(points: np.ndarray, threshold: float, step_h: float) -> np.ndarray:
    """Σ_t (p_t − threshold)⁺ × Δ of each row of ``points`` [USD/MWh × h]."""
    return np.maximum(points - threshold, 0.0).sum(axis=1) * step_h


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", default=str(ROOT / "sites" / "west_texas_hybrid.yaml"))
    parser.add_argument("--start", default="2023-06-10")
    parser.add_argument("--end", default="2023-12-31")
    parser.add_argument("--scenarios", type=int, default=10)
    parser.add_argument(
        "--tails",
        default="100,300,1000",
        help="thresholds X [USD/MWh] of the tail excess Σ (p − X)⁺ × Δ, comma-separated",
    )
    args = parser.parse_args()
    tails = [float(x) for x in args.tails.split(",")]
    site = load_site(args.site)
    step_h = site.interval_minutes / 60.0
    first, last = dt.date.fromisoformat(args.start), dt.date.fromisoformat(args.end)
    history = load_price_history(site, first, last)
    spreads, method = history.clock_spreads(), ScenarioMethod(count=args.scenarios)
    da, rt = history.da_usd_per_mwh, history.rt_usd_per_mwh
    rows = []
    for day in pd.date_range(first, last).date:
        known = spreads.before(day)
        candidates = candidate_days(day, known.index, method)
        day_da = da[da.index.date == day].to_numpy(float)
        realized = rt[rt.index.date == day].to_numpy(float)
        index = pd.DatetimeIndex(da[da.index.date == day].index)
        clock = pd.MultiIndex.from_arrays([index.hour, index.minute])
        table = known.loc[list(candidates["day"])]
        table = table.reindex(columns=table.columns.union(clock.unique())).sort_index(axis=1)
        table = table.ffill(axis=1)
        points = day_da[None, :] + table.to_numpy(float)[:, table.columns.get_indexer(clock)]
        p = candidates["probability"].to_numpy(float)
        picked, w = forward_selection(points, p, method.count)
        kept = points[picked]
        squared = (points**2).sum(axis=1)
        distance = squared[:, None] + squared[None, :] - 2 * points @ points.T
        owner = np.argmin(distance[:, picked], axis=1)
        means = np.array(
            [p[owner == j] @ points[owner == j] / p[owner == j].sum() for j in range(len(picked))]
        )
        centred = kept - (w @ kept)[None, :] + day_da[None, :]
        rows.append(
            {
                "day": day,
                "reduced": crps(kept, w, realized),
                "cluster_mean": crps(means, w, realized),
                "centred": crps(centred, w, realized),
                "all": crps(points, p, realized),
                "da": float(np.abs(day_da - realized).mean()),
                "mae_reduced": float(np.abs(w @ kept - realized).mean()),
                "max_weight": float(w.max()),
            }
        )
        for x in tails:
            rows[-1] |= {
                f"tail_{x:g}_reduced": float(w @ excess(kept, x, step_h)),
                f"tail_{x:g}_all": float(p @ excess(points, x, step_h)),
                f"tail_{x:g}_realized": float(excess(realized[None, :], x, step_h)[0]),
            }
    frame = pd.DataFrame(rows).set_index("day")
    print(f"{len(frame)} days, {args.start}..{args.end}, K = {args.scenarios}")
    scores = frame[[c for c in frame.columns if not c.startswith("tail_")]]
    print(scores.agg(["mean", "median"]).T.round(3).to_string())
    print(f"days with one scenario above 50 %: {(frame['max_weight'] > 0.5).sum()}")
    tail_columns = [c for c in frame.columns if c.startswith("tail_")]
    print("tail excess Σ (p − X)⁺ × Δ over the period [USD/MWh × h]:")
    print(frame[tail_columns].sum().round(1).to_string())


if __name__ == "__main__":
    main()
