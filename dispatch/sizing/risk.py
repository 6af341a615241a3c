"""Statistics a planner reads off an NPV distribution: quantiles, CVaR, probability of loss, the
mean-vs-CVaR frontier and the paths a tornado swings between. Pure numpy."""

from __future__ import annotations

import math

import numpy as np

QUANTILES = {"p10": 10.0, "p50": 50.0, "p90": 90.0}


def cvar(values: np.ndarray, fraction: float) -> float:
    """Conditional value at risk [same unit]: the mean of the lowest ``fraction`` of the values
    (at least one), i.e. the expected outcome in the worst ``fraction`` of paths."""
    count = max(1, math.ceil(fraction * len(values) - 1e-9))
    return float(np.sort(values)[:count].mean())


def summarize(values: np.ndarray, fraction: float) -> dict[str, float]:
    """Mean, P10, P50, P90, CVaR at ``fraction`` and probability of a loss (value < 0)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        names = ["mean", *QUANTILES, "cvar", "probability_of_loss"]
        return dict.fromkeys(names, math.nan)
    out = {"mean": float(finite.mean())}
    out.update({name: float(np.percentile(finite, q)) for name, q in QUANTILES.items()})
    out["cvar"] = cvar(finite, fraction)
    out["probability_of_loss"] = float((finite < 0).mean())
    return out


def efficient(mean: np.ndarray, tail: np.ndarray) -> np.ndarray:
    """True where no other option has a mean and a CVaR at least as high, one of them higher
    (the mean-vs-CVaR frontier)."""
    keep = np.ones(len(mean), dtype=bool)
    for i in range(len(mean)):
        dominated = (mean >= mean[i]) & (tail >= tail[i]) & ((mean > mean[i]) | (tail > tail[i]))
        keep[i] = not dominated.any()
    return keep


def percentile_paths(key: np.ndarray) -> tuple[int, int, int]:
    """The paths at the 10th, 50th and 90th percentile of ``key`` [paths] (nearest rank)."""
    order = np.argsort(key, kind="stable")
    last = len(key) - 1
    low, mid, high = (int(order[round(q * last)]) for q in (0.1, 0.5, 0.9))
    return low, mid, high


def signed_musd(usd: float) -> str:
    """USD as signed millions with one decimal: ``+49.1``, ``−344.7`` (a true minus sign)."""
    return f"{usd / 1e6:+,.1f}".replace("-", "\N{MINUS SIGN}")
