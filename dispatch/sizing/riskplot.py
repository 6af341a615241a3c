"""The Monte Carlo as two pictures (matplotlib, ``[report]`` extra): the mean-vs-CVaR frontier
over the candidate mixes and the tornado of the recommended plan. They draw plain tables
(``mc_frontier.csv``, ``mc_tornado.csv`` rows), nothing else."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from dispatch.errors import InputError


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - depends on the installed extras
        raise InputError(
            "the Monte Carlo plots need matplotlib: pip install 'dispatch[report]'"
        ) from None
    return plt


def frontier_plot(frontier: pd.DataFrame, recommended: str, title: str, path: Path) -> None:
    """Mean against CVaR of NPV against the site as it stands [M USD], one point per candidate;
    the efficient ones joined, the recommended one circled."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 5.5))
    mean = frontier["mean_npv_vs_bau_usd"] / 1e6
    tail = frontier["cvar_npv_vs_bau_usd"] / 1e6
    ax.scatter(tail, mean, s=18, color="0.55", label="candidate")
    efficient = frontier[frontier["efficient"]].sort_values("cvar_npv_vs_bau_usd")
    ax.plot(
        efficient["cvar_npv_vs_bau_usd"] / 1e6,
        efficient["mean_npv_vs_bau_usd"] / 1e6,
        "o-",
        color="tab:blue",
        label="frontier",
    )
    chosen = frontier[frontier["candidate"] == recommended]
    ax.plot(
        chosen["cvar_npv_vs_bau_usd"] / 1e6,
        chosen["mean_npv_vs_bau_usd"] / 1e6,
        "o",
        ms=14,
        mfc="none",
        mec="red",
        mew=2,
        label=f"recommended: {recommended}",
    )
    ax.axhline(0.0, color="0.3", lw=0.8)
    ax.axvline(0.0, color="0.3", lw=0.8)
    ax.set_xlabel("CVaR of NPV against the site as it stands [M USD]")
    ax.set_ylabel("mean NPV against the site as it stands [M USD]")
    ax.set_title(title)
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=110)
    plt.close(fig)


def tornado_plot(tornado: pd.DataFrame, candidate: str, title: str, path: Path) -> None:
    """NPV against the site as it stands [M USD] with each input at its P10 and its P90 path,
    the others at their median paths; the widest swing on top."""
    plt = _pyplot()
    rows = tornado[tornado["candidate"] == candidate].sort_values("swing_usd")
    fig, ax = plt.subplots(figsize=(7.5, 0.45 * max(len(rows), 3) + 1.5))
    base = float(rows["npv_base_usd"].iloc[0]) / 1e6 if len(rows) else 0.0
    for i, row in enumerate(rows.itertuples()):
        for value, colour in ((row.npv_at_p10_usd, "tab:orange"), (row.npv_at_p90_usd, "tab:blue")):
            ax.barh(i, value / 1e6 - base, left=base, color=colour, height=0.6)
    ax.set_yticks(range(len(rows)), [str(v) for v in rows["input"]])
    ax.axvline(base, color="0.2", lw=1)
    ax.barh([], [], color="tab:orange", label="input at its P10 path")
    ax.barh([], [], color="tab:blue", label="input at its P90 path")
    ax.set_xlabel("NPV against the site as it stands [M USD]")
    ax.set_title(title)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=110)
    plt.close(fig)
