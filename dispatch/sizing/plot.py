"""The sweep as a heat map: NPV over HPC IT MW x mining MW (matplotlib, ``[report]`` extra)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from dispatch.distribution import install_hint
from dispatch.errors import InputError

Point = tuple[float, float]  # (mining [MW nominal], HPC [MW IT])


@dataclass(frozen=True)
class HeatmapMarks:
    """What the heat map marks besides the sweep: its title, the site as it stands and the
    optimizer's plan (None where there is none)."""

    title: str
    as_it_stands: Point | None = None
    optimum: Point | None = None


def sweep_heatmap(sweep: pd.DataFrame, marks: HeatmapMarks, path: Path) -> None:
    """NPV [M USD] of every grid point (grey where the plan is not allowed), the sweep's best
    point (star), the optimizer's plan (circle) and the site as it stands (square)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - depends on the installed extras
        raise InputError(f"the sweep heat map needs matplotlib: {install_hint('report')}") from None
    hpc = sorted(sweep["hpc_it_mw"].unique())
    mining = sorted(sweep["mining_mw"].unique())
    npv = sweep.pivot_table(index="hpc_it_mw", columns="mining_mw", values="npv_usd", dropna=False)
    grid = npv.reindex(index=hpc, columns=mining).to_numpy(dtype=float) / 1e6
    fig, ax = plt.subplots(figsize=(7.5, 6.0))
    ax.set_facecolor("0.85")  # points a plan may not take stay grey
    x_edges, y_edges = _edges(mining), _edges(hpc)
    mesh = ax.pcolormesh(x_edges, y_edges, np.ma.masked_invalid(grid), cmap="viridis")
    fig.colorbar(mesh, ax=ax, label="NPV [M USD]")
    if grid.size <= 144:
        for (row, column), value in np.ndenumerate(grid):
            label = "—" if np.isnan(value) else f"{value:,.0f}"
            ax.text(
                mining[column],
                hpc[row],
                label,
                ha="center",
                va="center",
                fontsize=7,
                color="black" if np.isnan(value) else "white",
            )
    feasible = sweep[sweep["feasible"]]
    if not feasible.empty:
        best = feasible.loc[feasible["npv_usd"].idxmax()]
        ax.plot(
            best["mining_mw"],
            best["hpc_it_mw"],
            "*",
            color="white",
            ms=18,
            mec="black",
            label=f"sweep best {best['npv_usd'] / 1e6:,.0f} M USD",
        )
    if marks.as_it_stands is not None:
        x, y = marks.as_it_stands
        ax.plot(x, y, "s", color="orange", ms=11, mec="black", label="as it stands")
    if marks.optimum is not None:
        x, y = marks.optimum
        ax.plot(x, y, "o", color="red", ms=6, mec="white", label="optimizer (representative days)")
    points = [line.get_xydata() for line in ax.get_lines()]
    if points:  # keep markers off the grid (e.g. the optimizer's exact mix) inside the frame
        xy = np.vstack(points)
        pad_x, pad_y = (x_edges[-1] - x_edges[0]) * 0.03, (y_edges[-1] - y_edges[0]) * 0.03
        ax.set_xlim(
            min(x_edges[0], xy[:, 0].min() - pad_x), max(x_edges[-1], xy[:, 0].max() + pad_x)
        )
        ax.set_ylim(
            min(y_edges[0], xy[:, 1].min() - pad_y), max(y_edges[-1], xy[:, 1].max() + pad_y)
        )
    ax.set_xlabel("mining [MW nominal]")
    ax.set_ylabel("HPC [MW IT]")
    ax.set_title(marks.title, parse_math=False)  # a name's '$' is not math
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=3, fontsize=8, frameon=False)
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=110)
    plt.close(fig)


def _edges(values: list[float]) -> np.ndarray:
    """Cell edges halfway between grid values (uneven grids too; one value: a unit cell)."""
    centers = np.asarray(values, dtype=float)
    if len(centers) == 1:
        return np.array([centers[0] - 0.5, centers[0] + 0.5])
    middle = (centers[1:] + centers[:-1]) / 2
    return np.concatenate(
        [[centers[0] - (middle[0] - centers[0])], middle, [centers[-1] + centers[-1] - middle[-1]]]
    )
