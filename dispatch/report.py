"""An HTML page for one result: dispatch stack, price vs mining load, revenue per stream.

Needs matplotlib (the ``[report]`` extra); imported only when a report is asked for. Charts are
embedded as PNG data, so the page is one self-contained file.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from dispatch import columns
from dispatch.distribution import install_hint
from dispatch.errors import InputError
from dispatch.files import write_atomic

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from dispatch.results import DispatchResult
    from dispatch.site import Site

SUPPLY_COLUMNS = ("grid_import_mw", "battery_discharge_mw")
DEMAND_COLUMNS = ("hpc_served_mw", "battery_charge_mw", "grid_export_mw")


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise InputError(f"--report needs matplotlib: {install_hint('report')}") from None
    return plt


def _png(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _mining_columns(site: Site) -> list[str]:
    return [columns.mining(f.name, "power_mw") for f in site.fleets]


def stack_chart(result: DispatchResult, site: Site) -> Figure:
    """Supply (positive) and consumption (negative) per interval [MW]."""
    plt = _pyplot()
    schedule = result.schedule
    supply = {c: schedule[c] for c in SUPPLY_COLUMNS if c in schedule}
    supply.update(
        {
            c: schedule[c]
            for g in site.economic_generators
            if (c := columns.generator(g.name, "power_mw")) in schedule
        }
    )
    supply.update(
        {
            c: schedule[c]
            for r in site.renewables
            if (c := columns.renewable(r.name, "output_mw")) in schedule
        }
    )
    demand = {c: -schedule[c] for c in DEMAND_COLUMNS if c in schedule}
    demand.update({c: -schedule[c] for c in _mining_columns(site)})
    figure, axis = plt.subplots(figsize=(10, 4))
    x = schedule.index.tz_localize(None)
    for series_set in (supply, demand):
        if series_set:
            frame = pd.DataFrame(series_set)
            axis.stackplot(x, frame.T.to_numpy(), labels=list(frame.columns), step="post")
    axis.axhline(0, color="black", linewidth=0.6)
    axis.set_ylabel("MW (supply +, consumption −)")
    axis.set_title("Dispatch stack")
    axis.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    return figure


def price_chart(result: DispatchResult, site: Site) -> Figure:
    """Energy price [USD/MWh] against total mining load [MW]."""
    plt = _pyplot()
    schedule = result.schedule
    figure, price_axis = plt.subplots(figsize=(10, 3.5))
    x = schedule.index.tz_localize(None)
    if "price_usd_per_mwh" in schedule:
        price_axis.step(x, schedule["price_usd_per_mwh"], where="post", color="tab:red")
    price_axis.set_ylabel("price USD/MWh", color="tab:red")
    mining_axis = price_axis.twinx()
    mining_mw = schedule[_mining_columns(site)].sum(axis=1)
    mining_axis.fill_between(x, mining_mw, step="post", alpha=0.3, color="tab:blue")
    mining_axis.set_ylabel("mining load MW", color="tab:blue")
    price_axis.set_title("Price vs mining load")
    return figure


def streams_chart(result: DispatchResult, site: Site) -> Figure:
    """USD per stream, revenue positive and cost negative."""
    plt = _pyplot()
    streams = result.streams
    figure, axis = plt.subplots(figsize=(8, 0.4 * len(streams) + 1.2))
    colours = ["tab:green" if usd >= 0 else "tab:red" for usd in streams["usd"]]
    axis.barh(streams["stream"], streams["usd"], color=colours)
    axis.axvline(0, color="black", linewidth=0.6)
    axis.invert_yaxis()
    axis.set_xlabel("USD")
    axis.set_title("Revenue and cost per stream")
    return figure


def render_html(result: DispatchResult, site: Site) -> str:
    """The whole page as a string."""
    plt = _pyplot()
    charts = []
    for make in (stack_chart, price_chart, streams_chart):
        figure = make(result, site)
        charts.append(_png(figure))
        plt.close(figure)
    table = result.streams.to_html(index=False, float_format=lambda v: f"{v:,.2f}")
    kpis = "".join(
        f"<tr><th>{html.escape(name)}</th><td>{html.escape(str(value))}</td></tr>"
        for name, value in result.kpis.as_dict().items()
    )
    images = "".join(f'<img alt="chart" src="data:image/png;base64,{png}">' for png in charts)
    period = f"{result.schedule.index[0]} to {result.schedule.index[-1]}"
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(result.site_name)}</title>"
        "<style>body{font-family:sans-serif;max-width:1100px;margin:auto}"
        "table{border-collapse:collapse}td,th{padding:2px 8px;border-bottom:1px solid #ddd;"
        "text-align:right}img{display:block;margin:1em 0;max-width:100%}</style></head><body>"
        f"<h1>{html.escape(result.site_name)}</h1><p>{html.escape(period)}</p>"
        f"<h2>Streams</h2>{table}<h2>KPIs</h2><table>{kpis}</table>{images}</body></html>\n"
    )


def write_report(result: DispatchResult, site: Site, path: str | Path) -> Path:
    """Write the page atomically; return its path."""
    page = render_html(result, site)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    return write_atomic(target, lambda p: p.write_text(page))
