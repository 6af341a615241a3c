"""The interval chart of a run: rows sharing the site's local-time axis (zoom one, all follow).

Price against each fleet's breakeven with the curtailed mining load, the dispatch stack, the
battery's state of charge against its ride-through floor, the ancillary awards by product and
backing, and the upward flexibility each asset offers against the awards.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from dispatch import columns
from dispatch.inputs import HASHPRICE, PRICE
from dispatch.report import fmt
from dispatch.report.page import style, subplots
from dispatch.report.timeaxis import LocalAxis, local_axis
from dispatch.results import breakeven_usd_per_mwh

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from dispatch.results import DispatchResult
    from dispatch.site import Site

GRID, GRID_EXPORT = "#6c757d", "#adb5bd"
BATTERY, BATTERY_CHARGE = "#2a9d8f", "#8ad1c7"
HPC = "#264653"
FLEETS = ("#1d4ed8", "#60a5fa", "#0ea5e9", "#93c5fd", "#3b82f6")
GENERATORS = ("#e76f51", "#f4a261", "#d62828")
RENEWABLES = ("#e9c46a", "#90be6d", "#43aa8b")
PRODUCTS = {"RRS": "#7c3aed", "ECRS": "#db2777", "NSPIN": "#f59e0b", "REGUP": "#10b981"}
CURTAILED = "rgba(220, 38, 38, 0.28)"


def _fleet_colour(i: int) -> str:
    return FLEETS[i % len(FLEETS)]


def _bars(axis: LocalAxis, values: Any, name: str, colour: str, legend: str, **extra: Any) -> Any:
    import plotly.graph_objects as go

    return go.Bar(
        x=axis.labels,
        y=fmt.clean(values),
        name=name,
        marker={"color": colour, "line": {"width": 0}},
        legend=legend,
        hovertemplate="%{y:,.1f} MW",
        **extra,
    )


def _line(axis: LocalAxis, values: Any, name: str, colour: str, legend: str, **extra: Any) -> Any:
    import plotly.graph_objects as go

    line = {"color": colour, "shape": "hvh", "width": 2} | extra.pop("line", {})
    return go.Scatter(
        x=axis.labels,
        y=fmt.clean(values),
        name=name,
        mode="lines",
        line=line,
        legend=legend,
        **extra,
    )


def curtailed_mining_mw(schedule: pd.DataFrame, site: Site) -> pd.Series:
    """Nominal fleet capacity not used [MW] per interval (the ``mining_curtailed_mwh`` KPI's
    per-interval form); over-clocking above nominal does not count against it."""
    curtailed = pd.Series(0.0, index=schedule.index)
    for fleet in site.fleets:
        power = schedule[columns.mining(fleet.name, "power_mw")]
        curtailed += (fleet.capacity_mw - power).clip(lower=0)
    return curtailed


def _price_row(
    figure: go.Figure, row: int, schedule: pd.DataFrame, site: Site, axis: LocalAxis, legend: str
) -> None:
    figure.add_trace(
        _line(
            axis,
            schedule[PRICE],
            "energy price",
            "#111827",
            legend,
            hovertemplate="%{y:,.2f} USD/MWh",
        ),
        row=row,
        col=1,
    )
    fee = site.mining.pool_fee_fraction if site.mining else 0.0
    for i, fleet in enumerate(site.fleets):
        breakeven = breakeven_usd_per_mwh(schedule[HASHPRICE], fleet.efficiency_j_per_th, fee)
        figure.add_trace(
            _line(
                axis,
                breakeven,
                f"{fleet.name} breakeven ({fleet.efficiency_j_per_th:g} J/TH)",
                _fleet_colour(i),
                legend,
                line={"dash": "dash", "width": 1.5},
                hovertemplate="%{y:,.2f} USD/MWh",
            ),
            row=row,
            col=1,
        )
    curtailed = curtailed_mining_mw(schedule, site)
    if site.fleets and (fmt.clean(curtailed) > 0).any():
        figure.add_trace(
            _bars(
                axis,
                curtailed,
                "mining curtailed (MW, right axis)",
                CURTAILED,
                legend,
            ),
            row=row,
            col=1,
            secondary_y=True,
        )
        figure.update_yaxes(
            title_text="curtailed MW",
            tickformat=",~g",
            tickmode="auto",
            rangemode="tozero",
            showgrid=False,
            row=row,
            col=1,
            secondary_y=True,
        )
    else:  # nothing curtailed: no right axis
        figure.update_yaxes(visible=False, row=row, col=1, secondary_y=True)
    figure.update_yaxes(title_text="USD/MWh", tickformat=",.0f", row=row, col=1, secondary_y=False)


def _stack_row(
    figure: go.Figure, row: int, schedule: pd.DataFrame, site: Site, axis: LocalAxis, legend: str
) -> None:
    supply: list[tuple[str, str, str]] = [("grid_import_mw", "grid import", GRID)]
    if site.battery is not None:
        supply.append(("battery_discharge_mw", "battery discharge", BATTERY))
    supply += [
        (columns.generator(g.name, "power_mw"), f"generator {g.name}", GENERATORS[i % 3])
        for i, g in enumerate(site.economic_generators)
    ]
    supply += [
        (columns.renewable(r.name, "output_mw"), f"{r.name} output", RENEWABLES[i % 3])
        for i, r in enumerate(site.renewables)
    ]
    consumption: list[tuple[str, str, str]] = []
    if site.hpc is not None:
        consumption.append(("hpc_served_mw", "HPC served", HPC))
    consumption += [
        (columns.mining(f.name, "power_mw"), f"mining {f.name}", _fleet_colour(i))
        for i, f in enumerate(site.fleets)
    ]
    if site.battery is not None:
        consumption.append(("battery_charge_mw", "battery charge", BATTERY_CHARGE))
    if site.grid is not None and site.grid.export_limit_mw > 0:
        consumption.append(("grid_export_mw", "grid export", GRID_EXPORT))
    for sign, entries in ((1.0, supply), (-1.0, consumption)):
        for column, name, colour in entries:
            if column in schedule:
                figure.add_trace(
                    _bars(axis, sign * schedule[column], name, colour, legend), row=row, col=1
                )
    figure.update_yaxes(title_text="MW (supply +, use −)", tickformat=",.0f", row=row, col=1)


def _battery_row(
    figure: go.Figure, row: int, schedule: pd.DataFrame, site: Site, axis: LocalAxis, legend: str
) -> None:
    battery = site.battery
    assert battery is not None
    minimum = np.full(len(schedule), battery.min_soc_fraction * battery.energy_mwh)
    mwh = "%{y:,.1f} MWh"
    figure.add_trace(
        _line(axis, minimum, "minimum SoC", "#9ca3af", legend, line={"dash": "dot"}),
        row=row,
        col=1,
    )
    floor = minimum
    if columns.RIDE_THROUGH_REQUIRED_MWH in schedule:
        floor = minimum + schedule[columns.RIDE_THROUGH_REQUIRED_MWH].to_numpy()
        figure.add_trace(
            _line(
                axis,
                floor,
                "ride-through floor (H2)",
                "#dc2626",
                legend,
                line={"dash": "dash"},
                hovertemplate=mwh,
            ),
            row=row,
            col=1,
        )
    if columns.RESERVE_STORED_ENERGY_MWH in schedule:
        held = floor + schedule[columns.RESERVE_STORED_ENERGY_MWH].to_numpy()
        figure.add_trace(
            _line(
                axis,
                held,
                "+ energy held for offers (A2)",
                "#f59e0b",
                legend,
                line={"dash": "dash"},
                hovertemplate=mwh,
            ),
            row=row,
            col=1,
        )
    figure.add_trace(
        _line(
            axis,
            schedule["battery_soc_mwh"],
            "state of charge",
            BATTERY,
            legend,
            line={"shape": "linear", "width": 2.5},
            hovertemplate=mwh,
        ),
        row=row,
        col=1,
    )
    figure.update_yaxes(
        title_text="MWh", tickformat=",.0f", range=[0, battery.energy_mwh * 1.05], row=row, col=1
    )


def _awards_row(
    figure: go.Figure, row: int, schedule: pd.DataFrame, site: Site, axis: LocalAxis, legend: str
) -> None:
    for offer in site.ancillary_offers:
        colour = PRODUCTS.get(offer.product, "#6b7280")
        offered = schedule[columns.ancillary(offer.product, "offer_mw")]
        backed_column = columns.ancillary(offer.product, "storage_backed_mw")
        if backed_column not in schedule:  # no storage backs offers (or no couplings read)
            figure.add_trace(
                _bars(axis, offered, f"{offer.product} awarded", colour, legend), row=row, col=1
            )
            continue
        stored = schedule[backed_column]
        figure.add_trace(
            _bars(
                axis,
                stored,
                f"{offer.product} backed by the battery",
                colour,
                legend,
                marker_pattern_shape="/",
                opacity=0.6,
            ),
            row=row,
            col=1,
        )
        figure.add_trace(
            _bars(
                axis,
                offered - stored,
                f"{offer.product} backed by other flexibility",
                colour,
                legend,
            ),
            row=row,
            col=1,
        )
    figure.update_yaxes(title_text="MW awarded", tickformat=",.0f", row=row, col=1)


def _asset_names(site: Site) -> list[str]:
    """The site's blocks as the model names them (the prefix of their schedule columns)."""
    from dispatch.model.build import site_assets

    return [name for name, _ in site_assets(site)]


def _backing_row(
    figure: go.Figure, row: int, schedule: pd.DataFrame, site: Site, axis: LocalAxis, legend: str
) -> None:
    colours = {"battery": BATTERY, "hpc": HPC}
    colours |= {f"mining_{f.name}": _fleet_colour(i) for i, f in enumerate(site.fleets)}
    for name in _asset_names(site):
        column = columns.reserve_headroom(name)
        if column in schedule:
            figure.add_trace(
                _bars(
                    axis,
                    schedule[column],
                    name.replace("_", " "),
                    colours.get(name, GENERATORS[0]),
                    legend,
                    opacity=0.55,
                ),
                row=row,
                col=1,
            )
    offers = [columns.ancillary(o.product, "offer_mw") for o in site.ancillary_offers]
    figure.add_trace(
        _line(
            axis,
            schedule[offers].sum(axis=1),
            "total awarded",
            "#111827",
            legend,
            hovertemplate="%{y:,.1f} MW",
        ),
        row=row,
        col=1,
    )
    figure.update_yaxes(title_text="MW upward", tickformat=",.0f", row=row, col=1)


ROWS = (
    ("Price against each fleet's breakeven; mining load curtailed", _price_row, 1.2),
    ("Dispatch stack", _stack_row, 1.4),
    ("Battery state of charge and what it must hold", _battery_row, 1.0),
    ("Ancillary awards by product and backing", _awards_row, 1.0),
    ("Upward flexibility each asset offers against the awards (A1)", _backing_row, 1.0),
)


def timeline_figure(
    result: DispatchResult, site: Site, couplings: Mapping[str, np.ndarray] | None = None
) -> go.Figure:
    """Every interval chart in one figure, rows sharing the local-time axis. ``couplings``
    (:func:`dispatch.model.extract.coupling_columns` of the solved model) adds the ride-through
    floor, the backing of each award and each asset's upward flexibility."""
    schedule = result.schedule
    if couplings:
        schedule = schedule.join(pd.DataFrame(dict(couplings), index=schedule.index))
    backing = any(columns.reserve_headroom(name) in schedule for name in _asset_names(site))
    rows = [
        entry
        for entry in ROWS
        if (entry[1] is not _battery_row or site.battery is not None)
        and (entry[1] is not _awards_row or site.ancillary_offers)
        and (entry[1] is not _backing_row or backing)
        and (entry[1] is not _price_row or PRICE in schedule)
    ]
    heights = [h for _, _, h in rows]
    figure = subplots(
        rows=len(rows),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.045,
        row_heights=[h / sum(heights) for h in heights],
        subplot_titles=[title for title, _, _ in rows],
        specs=[[{"secondary_y": draw is _price_row}] for _, draw, _ in rows],
    )
    axis = local_axis(result.schedule.index, site.timezone)
    for row, (_, draw, _) in enumerate(rows, start=1):
        draw(figure, row, schedule, site, axis, _legend(row))
    figure.update_xaxes(
        type="category",
        tickmode="array",
        tickvals=list(axis.tickvals),
        ticktext=list(axis.ticktext),
        tickangle=0,
        showgrid=True,
    )
    figure.update_xaxes(title_text=axis.title, row=len(rows), col=1)
    height = int(260 * sum(heights)) + 120
    style(figure, height)
    figure.update_layout(
        barmode="relative",
        bargap=0,
        hovermode="x unified",
        margin={"r": 260},
    )
    _place_legends(figure, rows)
    return figure


def _legend(row: int) -> str:
    """Plotly's name of the legend of a row: ``legend``, ``legend2``, ..."""
    return "legend" if row == 1 else f"legend{row}"


def _place_legends(figure: go.Figure, rows: list[tuple[str, Any, float]]) -> None:
    """One legend beside each row, at the row's height."""
    for row in range(1, len(rows) + 1):
        domain = figure.get_subplot(row, 1).yaxis.domain
        figure.update_layout(
            {
                _legend(row): {
                    "x": 1.02,
                    "y": domain[1],
                    "yanchor": "top",
                    "xanchor": "left",
                    "font": {"size": 11},
                    "tracegroupgap": 2,
                }
            }
        )
