"""The page of a batch (`dispatch batch --report`), read back from its output folder.

One section per site × prices × settlement point: the yearly KPIs and streams (the batch
summary's own exact aggregation), monthly stacked streams in USD and per MWh of site load, the
curtailment heat map (local hour of day × day), the price duration curve against each fleet's
breakeven, and, when the batch holds more than one case (a forecast or operator back-test), every
case's margin side by side. Cases are read from the data, never listed here, so new back-test
cases appear without a change to this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from dispatch import columns
from dispatch.batch.outputs import OutputDir
from dispatch.batch.summary import kpi_summary, stream_summary
from dispatch.inputs import DA_PRICE, HASHPRICE, PRICE
from dispatch.report import fmt
from dispatch.report.page import Card, Section, Table, plotly, render, style, write_page
from dispatch.results import breakeven_usd_per_mwh

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from dispatch.batch.tasks import Task
    from dispatch.site import Site

MAX_GROUPS = 24  # sections drawn in full; beyond, the page lists the groups in its table only
STREAM_COLOURS = (
    "#2f855a", "#1d4ed8", "#7c3aed", "#db2777", "#f59e0b", "#10b981", "#0ea5e9", "#c53030",
    "#6b7280", "#e76f51", "#264653", "#a16207", "#9333ea", "#be123c", "#15803d", "#0369a1",
)  # fmt: skip


@dataclass(frozen=True)
class Group:
    """One site on one price history at one settlement point: its tables and its site."""

    site: Site
    label: str
    streams: pd.DataFrame
    days: pd.DataFrame
    schedule: pd.DataFrame

    @property
    def cases(self) -> list[str]:
        """Cases in the order the batch wrote them."""
        return list(dict.fromkeys(self.days["case"]))


def _case_menu(figure: go.Figure, cases: list[str], trace_cases: list[str]) -> None:
    """A drop-down choosing the case the figure shows (only when there is a choice)."""
    for trace, case in zip(figure.data, trace_cases, strict=True):
        trace.visible = case == cases[0]
    if len(cases) < 2:
        return
    buttons = [
        {
            "label": case,
            "method": "update",
            "args": [{"visible": [c == case for c in trace_cases]}],
        }
        for case in cases
    ]
    figure.update_layout(
        updatemenus=[{"buttons": buttons, "x": 1, "xanchor": "right", "y": 1.22, "yanchor": "top"}]
    )


def _month(days: pd.Series) -> pd.Series:
    return pd.to_datetime(days).dt.strftime("%Y-%m")


def monthly_streams_figure(group: Group, per_mwh: bool) -> go.Figure:
    """Stacked streams per month: USD, or USD per MWh of site load (they stack to the margin)."""
    go = plotly()
    figure = go.Figure()
    trace_cases: list[str] = []
    streams = group.streams.assign(month=_month(group.streams["day"]))
    load = group.days.assign(month=_month(group.days["day"]))
    load = load.groupby(["case", "month"])["site_load_mwh"].sum()
    order = list(dict.fromkeys(streams["stream"]))
    largest = streams.groupby(["case", "month", "stream"])["usd"].sum().abs().max()
    scale = 1e6 if not per_mwh and largest >= 1e6 else 1
    unit = "USD/MWh of site load" if per_mwh else ("M USD" if scale == 1e6 else "USD")
    for case in group.cases:
        table = streams[streams["case"] == case]
        monthly = table.pivot_table(index="month", columns="stream", values="usd", aggfunc="sum")
        divisor = load.loc[case].reindex(monthly.index) if per_mwh else scale
        for i, stream in enumerate(s for s in order if s in monthly.columns):
            values = monthly[stream] / divisor
            if not np.any(np.abs(fmt.clean(values)) > 0):
                continue
            text = [
                fmt.usd_per_mwh(v) if per_mwh else fmt.usd(v * scale) for v in values.to_numpy()
            ]
            figure.add_trace(
                go.Bar(
                    x=list(monthly.index),
                    y=fmt.clean(values),
                    name=stream,
                    marker_color=STREAM_COLOURS[i % len(STREAM_COLOURS)],
                    hovertext=text,
                    hoverinfo="text+name",
                )
            )
            trace_cases.append(case)
        net = monthly.sum(axis=1) / divisor
        figure.add_trace(
            go.Scatter(
                x=list(monthly.index),
                y=fmt.clean(net),
                name="net margin",
                mode="lines+markers",
                line={"color": "#111827", "width": 2},
                hovertext=[fmt.usd_per_mwh(v) if per_mwh else fmt.usd(v * scale) for v in net],
                hoverinfo="text+name",
            )
        )
        trace_cases.append(case)
    _case_menu(figure, group.cases, trace_cases)
    figure.update_layout(barmode="relative", hovermode="x unified", legend={"traceorder": "normal"})
    figure.update_yaxes(title_text=unit, tickformat=",.2f" if scale == 1e6 else ",.0f")
    figure.update_xaxes(title_text="month", type="category")
    what = "per MWh of site load" if per_mwh else "USD"
    return style(figure, 460, f"Streams per month, {what}")


def curtailment_figure(group: Group) -> go.Figure | None:
    """Share of nominal mining capacity not used, local hour of day × day (one case shown)."""
    site = group.site
    if not site.fleets:
        return None
    go = plotly()
    figure = go.Figure()
    capacity = sum(f.capacity_mw for f in site.fleets)
    trace_cases = []
    for case in group.cases:
        schedule = group.schedule[group.schedule["case"] == case]
        local = pd.DatetimeIndex(schedule["interval_start"]).tz_convert(site.timezone)
        curtailed = sum(
            (f.capacity_mw - schedule[columns.mining(f.name, "power_mw")]).clip(lower=0)
            for f in site.fleets
        )
        frame = pd.DataFrame(
            {"day": local.date, "hour": local.hour, "share": np.asarray(curtailed) / capacity}
        )
        grid = frame.pivot_table(index="hour", columns="day", values="share", aggfunc="mean")
        grid = grid.reindex(range(24))
        figure.add_trace(
            go.Heatmap(
                x=[str(d) for d in grid.columns],
                y=list(grid.index),
                z=fmt.clean(grid.to_numpy() * 100),
                zmin=0,
                zmax=100,
                colorscale="Reds",
                colorbar={"title": {"text": "% curtailed"}, "ticksuffix": " %"},
                hovertemplate="%{x} %{y}:00<br>%{z:.1f} % of nominal mining capacity idle"
                "<extra></extra>",
                name=case,
            )
        )
        trace_cases.append(case)
    _case_menu(figure, group.cases, trace_cases)
    figure.update_yaxes(
        title_text=f"local hour ({site.timezone})", tickvals=list(range(0, 24, 3)), dtick=3
    )
    figure.update_xaxes(title_text="day", type="date")
    return style(figure, 400, "Mining capacity idle, by local hour and day")


def _price_curves(group: Group) -> list[tuple[str, np.ndarray]]:
    """(name, prices sorted high to low): the day-ahead price an operator back-test planned on
    and the price each case settled at; cases settled at the same prices share one curve."""
    curves: dict[str, list[tuple[str, np.ndarray]]] = {}
    for column, label in ((DA_PRICE, "day-ahead price"), (PRICE, "price")):
        if column not in group.schedule:
            continue
        for case in group.cases:
            prices = group.schedule.loc[group.schedule["case"] == case, column]
            ordered = np.sort(prices.to_numpy(dtype=float))[::-1]
            found = curves.setdefault(label, [])
            if not any(len(ordered) == len(s) and np.array_equal(ordered, s) for _, s in found):
                found.append((case, ordered))
    if DA_PRICE in group.schedule and "price" in curves:
        curves["real-time price"] = curves.pop("price")
    return [
        (label if len(found) == 1 else f"{label} ({case})", ordered)
        for label, found in curves.items()
        for case, ordered in found
    ]


def duration_figure(group: Group) -> go.Figure | None:
    """The prices sorted high to low (day-ahead and real-time in an operator back-test) against
    each fleet's breakeven (mean over the period; the hover gives the daily range)."""
    if PRICE not in group.schedule:
        return None
    go = plotly()
    figure = go.Figure()
    curves = _price_curves(group)
    seen = [ordered for _, ordered in curves]
    for name, ordered in curves:
        share = (np.arange(len(ordered)) + 0.5) / len(ordered) * 100
        figure.add_trace(
            go.Scatter(
                x=fmt.clean(share),
                y=fmt.clean(ordered),
                name=name,
                mode="lines",
                hovertemplate="%{y:,.2f} USD/MWh or more in %{x:.1f} % of intervals",
            )
        )
    site = group.site
    fee = site.mining.pool_fee_fraction if site.mining else 0.0
    hashprice = group.schedule[HASHPRICE].to_numpy(dtype=float)
    breakevens: list[float] = []
    for fleet in site.fleets:
        daily = breakeven_usd_per_mwh(hashprice, fleet.efficiency_j_per_th, fee)
        mean = float(np.mean(daily))
        breakevens.append(mean)
        figure.add_trace(
            go.Scatter(
                x=[0, 100],
                y=[mean, mean],
                mode="lines",
                line={"dash": "dash"},
                name=f"{fleet.name} breakeven ({fleet.efficiency_j_per_th:g} J/TH)",
                hovertemplate=f"mean {fmt.usd_per_mwh(mean)}; daily "
                f"{fmt.number(daily.min(), 2)} to {fmt.number(daily.max(), 2)}<extra></extra>",
            )
        )
    figure.update_xaxes(title_text="% of intervals at or above the price", ticksuffix=" %")
    # the default view shows the body of the curve and the breakevens; the rare spikes are one
    # double-click (autoscale) away and named in the title
    body = max(float(np.percentile(s, 99)) for s in seen)
    top = max([body, *breakevens]) * 1.3
    low = min(0.0, min(float(s.min()) for s in seen) * 1.1)
    figure.update_yaxes(title_text="USD/MWh", tickformat=",.0f", range=[low, top])
    peak = max(float(s.max()) for s in seen)
    title = (
        f"Price duration against breakevens (peak {fmt.usd_per_mwh(peak)}: double-click to see it)"
    )
    return style(figure, 420, title if peak > top else "Price duration against breakevens")


def comparison_figure(group: Group) -> go.Figure | None:
    """Every case's net margin per month (only when the batch holds several cases)."""
    if len(group.cases) < 2:
        return None
    go = plotly()
    days = group.days.assign(month=_month(group.days["day"]))
    monthly = days.pivot_table(
        index="month", columns="case", values="net_margin_usd", aggfunc="sum"
    )
    figure = go.Figure()
    for case in group.cases:
        figure.add_trace(
            go.Bar(
                x=list(monthly.index),
                y=fmt.clean(monthly[case] / 1e6),
                name=case,
                hovertext=[fmt.usd(v) for v in monthly[case]],
                hoverinfo="text+name",
            )
        )
    figure.update_layout(barmode="group", hovermode="x unified")
    figure.update_yaxes(title_text="net margin, M USD", tickformat=",.2f")
    figure.update_xaxes(title_text="month", type="category")
    return style(figure, 400, "Net margin per month, every case")


def _years_table(group: Group) -> Table:
    kpis = kpi_summary(group.days)
    rows = tuple(
        (
            str(row.case),
            str(row.year),
            fmt.number(row.days),
            fmt.usd(row.net_margin_usd),
            fmt.usd_per_mwh(row.margin_usd_per_mwh),
            fmt.percent(row.mining_uptime_fraction, 1),
            fmt.mwh(row.mining_curtailed_mwh, 0),
            fmt.percent(row.hpc_availability_fraction, 3),
        )
        for row in kpis.itertuples(index=False)
    )
    return Table(
        ("case", "year", "days", "net margin", "per MWh of site load", "mining uptime",
         "mining curtailed", "HPC availability"),
        rows,
        (False, False, True, True, True, True, True, True),
    )  # fmt: skip


def _streams_table(group: Group) -> Table:
    table = stream_summary(group.streams)
    rows = tuple(
        (
            str(row.case),
            str(row.year),
            str(row.stream),
            fmt.number(row.usd),
            fmt.number(row.basis_mwh, 0),
            fmt.number(row.usd_per_mwh, 2),
        )
        for row in table.itertuples(index=False)
        if abs(row.usd) >= 0.5 or abs(row.basis_mwh) >= 0.05
    )
    return Table(
        ("case", "year", "stream", "USD", "basis MWh", "USD/MWh"),
        rows,
        (False, False, False, True, True, True),
    )


def group_section(group: Group) -> Section:
    """The section of one site × prices × settlement point."""
    figures: list[Any] = [monthly_streams_figure(group, per_mwh=False)]
    figures.append(monthly_streams_figure(group, per_mwh=True))
    figures += [f for f in (curtailment_figure(group), duration_figure(group)) if f is not None]
    cases = len(group.cases)
    intro = (
        "Monthly streams in USD, then per MWh of site load (HPC served + mining), which stack to "
        "the margin per MWh; the share of mining capacity idle by local hour and day; the price "
        "duration curve against each fleet's breakeven (mean over the period)."
    )
    if cases > 1:
        intro += f" The batch holds {cases} cases: the menu above a chart picks the one it shows."
    subsections = []
    comparison = comparison_figure(group)
    if comparison is not None:
        subsections.append(
            Section(
                "Cases side by side",
                "Net margin of every case per month, each from the state its own schedule reached.",
                figures=(comparison,),
            )
        )
    return Section(
        group.label,
        intro,
        tables=(_years_table(group), _streams_table(group)),
        figures=tuple(figures),
        subsections=tuple(subsections),
    )


def _task_groups(out: OutputDir, tasks: Sequence[Task]) -> dict[tuple[str, str, str], list[Task]]:
    """The finished tasks of ``tasks``, by site file × prices × settlement point."""
    finished = out.finished()
    groups: dict[tuple[str, str, str], list[Task]] = {}
    for task in tasks:
        if task.key in finished:
            key = (task.site_file, task.prices_label, task.settlement_point or "")
            groups.setdefault(key, []).append(task)
    return groups


def load_groups(out_dir: str | Path, tasks: Sequence[Task]) -> list[Group]:
    """The finished tasks of ``tasks`` in ``out_dir``, one group per site × prices × point (the
    first :data:`MAX_GROUPS` of them)."""
    out = OutputDir(out_dir)
    finished = out.finished()
    groups = []
    for (_, prices, point), members in list(_task_groups(out, tasks).items())[:MAX_GROUPS]:
        site = members[0].load_site()
        entries = [finished[key] for key in dict.fromkeys(t.key for t in members)]
        label = f"{site.name} · {prices} · {point or 'no settlement point'}"
        groups.append(
            Group(
                site,
                label,
                out.read("streams", entries),
                out.read("days", entries),
                out.read("schedule", entries),
            )
        )
    return groups


def batch_page(out_dir: str | Path, tasks: Sequence[Task]) -> str:
    """The page of the batch in ``out_dir`` (its finished tasks among ``tasks``)."""
    out = OutputDir(out_dir)
    groups = load_groups(out_dir, tasks)
    total = len(_task_groups(out, tasks))
    keys = {t.key for t in tasks}
    finished = keys & set(out.finished())
    facts = [f"{len(finished)} of {len(keys)} tasks finished", str(out_dir)]
    if total > len(groups):
        facts.append(f"the first {len(groups)} of {total} groups drawn (the summary has all)")
    cards = [
        Card("Groups", fmt.number(total), "site × prices × settlement point"),
        Card("Site-days", fmt.number(sum(g.days["day"].nunique() for g in groups)), "kept"),
    ]
    if len(groups) == 1 and len(groups[0].cases) == 1:
        margin = float(groups[0].days["net_margin_usd"].sum())
        cards.append(Card("Net margin", fmt.usd_compact(margin), "the whole period"))
    return render("Batch report", facts, cards, [group_section(g) for g in groups])


def write_batch_report(out_dir: str | Path, tasks: Sequence[Task], path: str | Path) -> Path:
    """Write the page of the batch in ``out_dir`` to ``path`` atomically; return the path."""
    return write_page(batch_page(out_dir, tasks), path)
