"""The streams table and chart: USD per stream and USD per MWh of its own basis."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from dispatch.report import fmt
from dispatch.report.page import Table, plotly, style, subplots
from dispatch.streams import Stream

if TYPE_CHECKING:
    import plotly.graph_objects as go

REVENUE, COST = "#2f855a", "#c53030"


def basis_of(stream: str) -> str:
    """What a stream's MWh measure, from the stream list (empty for a name it does not know)."""
    try:
        return Stream(stream).basis
    except ValueError:
        return ""


def streams_table(streams: pd.DataFrame, usd: str = "usd", basis: str = "basis_mwh") -> Table:
    """stream, kind, USD, basis MWh, USD/MWh and what the basis is, with a total line."""
    rows = []
    for row in streams.itertuples(index=False):
        values = row._asdict()
        rows.append(
            (
                values["stream"],
                values["kind"],
                fmt.number(values[usd]),
                fmt.number(values[basis], 1),
                fmt.number(values["usd_per_mwh"], 2),
                basis_of(values["stream"]),
            )
        )
    rows.append(("net margin", "", fmt.number(float(streams[usd].sum())), "", "", ""))
    return Table(
        ("stream", "kind", "USD", "basis MWh", "USD/MWh", "basis"),
        tuple(rows),
        (False, False, True, True, True, False),
    )


def streams_figure(
    streams: pd.DataFrame, usd: str = "usd", basis: str = "basis_mwh", title: str = "USD"
) -> go.Figure:
    """Two bar charts side by side, one row per stream: USD, and USD per MWh of its basis."""
    go = plotly()
    figure = subplots(
        rows=1,
        cols=2,
        shared_yaxes=True,
        horizontal_spacing=0.04,
        subplot_titles=(title, "USD per MWh of the stream's basis"),
    )
    names = list(streams["stream"])
    money = fmt.clean(streams[usd])
    per_mwh = fmt.clean(streams["usd_per_mwh"])
    colours = [REVENUE if v >= 0 else COST for v in money]
    hover = [
        f"{fmt.usd(u)}<br>{fmt.mwh(b)} of {basis_of(s) or 'basis'}<br>{fmt.usd_per_mwh(p)}"
        for s, u, b, p in zip(
            names, streams[usd], streams[basis], streams["usd_per_mwh"], strict=True
        )
    ]
    figure.add_trace(
        go.Bar(
            y=names,
            x=money,
            orientation="h",
            marker_color=colours,
            name=title,
            hovertext=hover,
            hoverinfo="text+y",
            showlegend=False,
        ),
        row=1,
        col=1,
    )
    figure.add_trace(
        go.Bar(
            y=names,
            x=per_mwh,
            orientation="h",
            marker_color=colours,
            name="USD/MWh",
            hovertext=hover,
            hoverinfo="text+y",
            showlegend=False,
        ),
        row=1,
        col=2,
    )
    figure.update_xaxes(tickformat=",.0f", zeroline=True, zerolinecolor="#111827")
    figure.update_yaxes(autorange="reversed")
    return style(figure, 90 + 26 * len(names))
