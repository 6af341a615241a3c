"""The sweep as a heat map: NPV over HPC IT MW x mining MW (plotly, the ``[report]`` extra).

Ticks sit on the grid's own values (a 19 MW step reads 19, 38, 57, ...), every cell prints its
NPV, cells a plan may not take stay grey and name their reason on hover, and the marks outline a
cell (or ring a point off the grid) instead of covering the value printed in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from dispatch.distribution import install_hint
from dispatch.errors import InputError

if TYPE_CHECKING:
    import plotly.graph_objects as go

Point = tuple[float, float]  # (mining [MW nominal], HPC [MW IT])
BLANK = "#d9dde3"  # cells a plan may not take


@dataclass(frozen=True)
class HeatmapMarks:
    """What the heat map marks besides the sweep: its title, the site as it stands and the
    optimizer's plan (None where there is none)."""

    title: str
    as_it_stands: Point | None = None
    optimum: Point | None = None


def _edges(values: list[float]) -> np.ndarray:
    """Cell edges halfway between grid values (uneven grids too; one value: a unit cell)."""
    centers = np.asarray(values, dtype=float)
    if len(centers) == 1:
        return np.array([centers[0] - 0.5, centers[0] + 0.5])
    middle = (centers[1:] + centers[:-1]) / 2
    return np.concatenate(
        [[centers[0] - (middle[0] - centers[0])], middle, [centers[-1] + centers[-1] - middle[-1]]]
    )


def _cell(x: float, y: float, mining: list[float], hpc: list[float]) -> dict[str, float] | None:
    """The edges of the grid cell whose centre is (x, y), or None when (x, y) is off the grid."""
    if x not in mining or y not in hpc:
        return None
    x_edges, y_edges = _edges(mining), _edges(hpc)
    i, j = mining.index(x), hpc.index(y)
    return {"x0": x_edges[i], "x1": x_edges[i + 1], "y0": y_edges[j], "y1": y_edges[j + 1]}


def _label(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def sweep_heatmap(sweep: pd.DataFrame, marks: HeatmapMarks) -> go.Figure:
    """NPV [M USD] of every grid point, the sweep's best point and the site as it stands
    outlined, the optimizer's plan ringed (it may lie between grid points)."""
    try:
        import plotly.graph_objects as go
    except ImportError:  # pragma: no cover - depends on the installed extras
        raise InputError(f"the sweep heat map needs plotly: {install_hint('report')}") from None
    hpc = sorted(float(v) for v in sweep["hpc_it_mw"].unique())
    mining = sorted(float(v) for v in sweep["mining_mw"].unique())
    frame = sweep.set_index(["hpc_it_mw", "mining_mw"])
    npv = np.full((len(hpc), len(mining)), np.nan)
    text = np.full((len(hpc), len(mining)), "", dtype=object)
    hover = np.full((len(hpc), len(mining)), "", dtype=object)
    for (row, y), (column, x) in ((r, c) for r in enumerate(hpc) for c in enumerate(mining)):
        point = frame.loc[(y, x)]
        where = f"HPC {_label(y)} MW IT, mining {_label(x)} MW"
        if bool(point["feasible"]):
            npv[row, column] = float(point["npv_usd"]) / 1e6 + 0.0
            text[row, column] = f"{npv[row, column]:,.1f}"
            hover[row, column] = f"{where}<br>NPV {npv[row, column]:,.2f} M USD"
        else:
            text[row, column] = "not allowed"
            hover[row, column] = f"{where}<br>not allowed: {point['problem']}"
    figure = go.Figure(
        go.Heatmap(
            x=mining,
            y=hpc,
            z=npv,
            text=text,
            texttemplate="%{text}<br> <br> ",  # the value sits above the cell's centre,
            # clear of the ring that marks a plan at (or near) the centre
            textfont={"size": 11},
            hovertext=hover,
            hoverinfo="text",
            colorscale="Viridis",
            colorbar={"title": {"text": "NPV, M USD"}, "tickformat": ",.0f"},
            name="NPV",
            showlegend=False,
        )
    )
    feasible = sweep[sweep["feasible"]]
    outlines: list[tuple[Point, str, dict[str, Any]]] = []
    if not feasible.empty:
        best = feasible.loc[feasible["npv_usd"].idxmax()]
        outlines.append(
            (
                (float(best["mining_mw"]), float(best["hpc_it_mw"])),
                f"sweep best ({best['npv_usd'] / 1e6:,.1f} M USD)",
                {"color": "#22d3ee", "width": 4},
            )
        )
    if marks.as_it_stands is not None:
        outlines.append((marks.as_it_stands, "as it stands", {"color": "#f97316", "width": 3}))
    for inset, (point, name, line) in enumerate(outlines):
        cell = _cell(point[0], point[1], mining, hpc)
        if cell is not None:  # the second outline sits inside the first: both stay visible
            width, height = cell["x1"] - cell["x0"], cell["y1"] - cell["y0"]
            cell = {
                "x0": cell["x0"] + 0.06 * inset * width,
                "x1": cell["x1"] - 0.06 * inset * width,
                "y0": cell["y0"] + 0.1 * inset * height,
                "y1": cell["y1"] - 0.1 * inset * height,
            }
            figure.add_shape(type="rect", **cell, line=line, name=name, showlegend=True)
        else:  # a plan between grid points: ringed where it lies
            figure.add_trace(_ring(go, point, name, line["color"]))
    if marks.optimum is not None:
        figure.add_trace(_ring(go, marks.optimum, "optimizer (representative days)", "#dc2626"))
    x_edges, y_edges = _edges(mining), _edges(hpc)
    xs = [*x_edges, *(p[0] for p in (marks.optimum, marks.as_it_stands) if p)]
    ys = [*y_edges, *(p[1] for p in (marks.optimum, marks.as_it_stands) if p)]
    pad_x, pad_y = (max(xs) - min(xs)) * 0.03, (max(ys) - min(ys)) * 0.03
    figure.update_xaxes(
        title_text="mining [MW nominal]",
        tickvals=mining,
        ticktext=[_label(v) for v in mining],
        range=[min(xs) - pad_x, max(xs) + pad_x],
        showgrid=False,
        zeroline=False,
    )
    figure.update_yaxes(
        title_text="HPC [MW IT]",
        tickvals=hpc,
        ticktext=[_label(v) for v in hpc],
        range=[min(ys) - pad_y, max(ys) + pad_y],
        showgrid=False,
        zeroline=False,
    )
    figure.update_layout(
        title={"text": marks.title, "x": 0, "xanchor": "left"},
        plot_bgcolor=BLANK,
        height=max(420, 60 * len(hpc) + 220),
        legend={"orientation": "h", "y": -0.18, "x": 0},
        template="plotly_white",
    )
    figure.update_layout(plot_bgcolor=BLANK)
    return figure


def _ring(go: Any, point: Point, name: str, colour: str) -> go.Scatter:
    """An open ring at the plan's position, below the NPV printed in a cell."""
    return go.Scatter(
        x=[point[0]],
        y=[point[1]],
        mode="markers",
        marker={"symbol": "circle-open", "size": 18, "line": {"width": 3, "color": colour}},
        name=name,
        hovertemplate=f"{name}: mining %{{x:,.1f}} MW, HPC %{{y:,.1f}} MW IT<extra></extra>",
    )
