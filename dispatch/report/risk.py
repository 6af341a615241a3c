"""The Monte Carlo on the sizing page (`dispatch size --paths N --report`).

Each builder returns ``None`` when the result carries no Monte Carlo, so the sections appear only
with ``--paths`` (or a ``sizing.uncertainty`` section). They draw the tidy tables of
:class:`~dispatch.sizing.uncertainty.UncertaintyResult` (the ``mc_*.csv`` files), nothing else:
the NPV distribution per candidate, the mean-vs-CVaR frontier, the tornado of the recommended
plan and its mean yearly cash flows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from dispatch.report import fmt
from dispatch.report.page import Card, Section, Table, plotly, style

if TYPE_CHECKING:
    from dispatch.sizing.results import SizingResult
    from dispatch.sizing.uncertainty import UncertaintyResult

BAU = "business_as_usual"
MAX_CANDIDATES = 12  # rows of the table and boxes of the chart; every candidate is in mc_*.csv
RECOMMENDED, OTHER, FRONTIER = "#1d4ed8", "#9ca3af", "#f59e0b"


def _shown(found: UncertaintyResult) -> pd.DataFrame:
    """The best candidates by the recommendation's criterion, the site as it stands always."""
    ranked = found.summary.sort_values("objective_usd", ascending=False)
    shown = ranked.head(MAX_CANDIDATES)
    if not shown["candidate"].eq(BAU).any():
        shown = pd.concat([shown, ranked[ranked["candidate"] == BAU]])
    return shown


def _value(value: float) -> str:
    """An input's value: ``199,400`` or ``0.0718``."""
    return fmt.number(value, 0) if abs(value) >= 1000 else f"{value:.3g}"


def _musd(value: float) -> str:
    return fmt.number(value / 1e6, 1)


def uncertainty_card(result: SizingResult) -> Card | None:
    """The recommendation under uncertainty, as a headline card."""
    found = result.uncertainty
    if found is None:
        return None
    row = found.summary.loc[found.summary["candidate"] == found.recommended].iloc[0]
    return Card(
        "Under uncertainty: NPV P50 / P10",
        f"{_musd(row.p50_npv_vs_bau_usd)} / {_musd(row.p10_npv_vs_bau_usd)} M USD",
        f"{row.description}, against as it stands, {found.settings['paths']} paths",
    )


def npv_distribution(result: SizingResult) -> Section | None:
    """Statistics of NPV against the site as it stands per candidate, and their spread."""
    found = result.uncertainty
    if found is None:
        return None
    go = plotly()
    settings = found.settings
    shown = _shown(found)
    years = ", ".join(str(y) for y in found.price_years["price_year"])
    rows = tuple(
        (
            (">" if r.recommended else "") + ("*" if r.efficient else ""),
            str(r.description),
            _musd(r.mean_npv_vs_bau_usd),
            _musd(r.p10_npv_vs_bau_usd),
            _musd(r.p50_npv_vs_bau_usd),
            _musd(r.p90_npv_vs_bau_usd),
            _musd(r.cvar_npv_vs_bau_usd),
            fmt.percent(r.probability_of_loss, 0) if r.candidate != BAU else "",
            fmt.number(r.p50_payback_years, 1) if r.candidate != BAU else "",
            fmt.percent(r.p50_irr_fraction, 1) if r.candidate != BAU else "",
            fmt.number(r.p10_min_dscr, 2),
        )
        for r in shown.itertuples()
    )
    cvar = f"CVaR {settings['cvar_fraction']:.0%}"
    table = Table(
        ("", "plan", "mean", "P10", "P50", "P90", cvar, "P(loss)", "payback P50, years",
         "IRR P50", "min DSCR P10"),
        rows,
        (False, False, *(True,) * 9),
        caption="NPV against the site as it stands [M USD]; > recommended, * on the frontier",
    )  # fmt: skip
    paths = found.paths[found.paths["candidate"].isin(shown["candidate"])]
    names = dict(zip(shown["candidate"], shown["description"], strict=True))
    figure = go.Figure()
    for candidate in shown["candidate"]:
        values = paths.loc[paths["candidate"] == candidate, "npv_vs_bau_usd"] / 1e6
        recommended = candidate == found.recommended
        figure.add_trace(
            go.Box(
                x=fmt.clean(values),
                name=str(names[candidate]),
                orientation="h",
                boxpoints=False,
                marker_color=RECOMMENDED if recommended else OTHER,
                showlegend=False,
            )
        )
    figure.update_xaxes(title_text="NPV against the site as it stands [M USD]", tickformat=",.0f")
    figure.update_yaxes(autorange="reversed", automargin=True)
    style(figure, 140 + 34 * len(shown), f"NPV over {settings['paths']} paths")
    return Section(
        "NPV under uncertainty",
        f"{found.recommendation}. Each plan is scored on the same {settings['paths']} paths "
        f"(seed {settings['seed']}, {settings['first_year']}-{settings['last_year']}): BTC "
        "price, network hashrate, fee share and halvings; a power-price year per analysis year "
        f"from {years}; tenant exits; capex draws. "
        "The recommendation maximizes (1 − w) × mean + w × CVaR of NPV against the site as it "
        f"stands (w = {settings['cvar_weight_fraction']:g}).",
        tables=(table,),
        figures=(figure,),
    )


def frontier(result: SizingResult) -> Section | None:
    """Mean against CVaR of NPV, one point per candidate, the efficient ones joined."""
    found = result.uncertainty
    if found is None:
        return None
    go = plotly()
    table = found.summary
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(
            x=fmt.clean(table["cvar_npv_vs_bau_usd"] / 1e6),
            y=fmt.clean(table["mean_npv_vs_bau_usd"] / 1e6),
            mode="markers",
            name="candidate",
            marker={"color": OTHER, "size": 8},
            hovertext=table["description"],
            hoverinfo="text+x+y",
        )
    )
    best = table[table["efficient"]].sort_values("cvar_npv_vs_bau_usd")
    figure.add_trace(
        go.Scatter(
            x=fmt.clean(best["cvar_npv_vs_bau_usd"] / 1e6),
            y=fmt.clean(best["mean_npv_vs_bau_usd"] / 1e6),
            mode="lines+markers",
            name="frontier",
            line={"color": FRONTIER},
            hovertext=best["description"],
            hoverinfo="text+x+y",
        )
    )
    chosen = table[table["recommended"]]
    figure.add_trace(
        go.Scatter(
            x=fmt.clean(chosen["cvar_npv_vs_bau_usd"] / 1e6),
            y=fmt.clean(chosen["mean_npv_vs_bau_usd"] / 1e6),
            mode="markers",
            name="recommended",
            marker={
                "size": 18,
                "color": "rgba(0,0,0,0)",
                "line": {"color": RECOMMENDED, "width": 3},
            },
            hovertext=chosen["description"],
            hoverinfo="text+x+y",
        )
    )
    cvar = f"CVaR {found.settings['cvar_fraction']:.0%}"
    figure.update_xaxes(title_text=f"{cvar} of NPV against as it stands [M USD]", zeroline=True)
    figure.update_yaxes(title_text="mean NPV against as it stands [M USD]", zeroline=True)
    style(figure, 460, "Mean against tail: every candidate")
    return Section(
        "Mean against CVaR",
        f"A plan is on the frontier when no other has both a higher mean and a higher {cvar} "
        "(the mean of its worst paths). Plans to the right lose less when things go badly.",
        figures=(figure,),
    )


def tornado(result: SizingResult) -> Section | None:
    """NPV of one plan with each input at its P10 and its P90 path, the widest on top."""
    found = result.uncertainty
    if found is None or found.tornado.empty:
        return None
    go = plotly()
    subject = found.tornado_subject
    rows = found.tornado[found.tornado["candidate"] == subject].sort_values(
        "swing_usd", ascending=False
    )
    if rows.empty:
        return None
    base = float(rows["npv_base_usd"].iloc[0]) / 1e6
    labels = [
        f"{r.input} ({_value(r.input_p10)} … {_value(r.input_p90)} {r.unit})"
        for r in rows.itertuples()
    ]
    figure = go.Figure()
    for column, name, colour in (
        ("npv_at_p10_usd", "input at its P10 path", "#f97316"),
        ("npv_at_p90_usd", "input at its P90 path", RECOMMENDED),
    ):
        figure.add_trace(
            go.Bar(
                y=labels,
                x=fmt.clean(rows[column] / 1e6 - base),
                base=base,
                orientation="h",
                name=name,
                marker_color=colour,
                hovertext=[fmt.usd_compact(v) for v in rows[column]],
                hoverinfo="text+name",
            )
        )
    figure.update_layout(barmode="overlay")
    figure.update_xaxes(title_text="NPV against as it stands [M USD]", tickformat=",.0f")
    figure.update_yaxes(autorange="reversed", automargin=True)
    style(figure, 140 + 40 * len(rows), "Tornado")
    name = found.summary.loc[found.summary["candidate"] == subject, "description"].iloc[0]
    return Section(
        f"What moves the NPV of {name}",
        f"Each bar moves one input to the path where it sits at its P10 or P90 while every other "
        f"input stays on its median path (NPV {_musd(base * 1e6)} M USD); the widest on top.",
        figures=(figure,),
    )


def cash_flows(result: SizingResult) -> Section | None:
    """The tornado subject's mean yearly cash flows over the paths, by item."""
    found = result.uncertainty
    if found is None:
        return None
    go = plotly()
    from plotly.colors import qualitative

    subject = found.tornado_subject
    flows = found.cash_flows[found.cash_flows["candidate"] == subject]
    parts = flows[flows["kind"].isin(["operations", "opex", "capex"])]
    parts = parts.groupby("item").filter(lambda g: (g["usd"].abs() >= 0.5).any())
    figure = go.Figure()
    palette = qualitative.Dark24
    for i, (item, rows) in enumerate(parts.groupby("item", sort=False)):
        figure.add_trace(
            go.Bar(
                x=rows["year"],
                y=fmt.clean(rows["usd"] / 1e6),
                name=str(item),
                marker_color=palette[i % len(palette)],
            )
        )
    for item, colour in (("project_cash", "#111827"), ("equity_cash", "#16a34a")):
        rows = flows[flows["item"] == item]
        figure.add_trace(
            go.Scatter(
                x=rows["year"],
                y=fmt.clean(rows["usd"] / 1e6),
                mode="lines+markers",
                name=item.replace("_", " "),
                line={"color": colour},
            )
        )
    figure.update_layout(barmode="relative")
    figure.update_xaxes(title_text="year", dtick=1)
    figure.update_yaxes(title_text="M USD (mean over the paths)", tickformat=",.1f")
    style(figure, 480, "Yearly cash flows")
    years = found.price_years
    table = Table(
        ("price year", "days dispatched", "mean price", "left out"),
        tuple(
            (
                str(r.price_year),
                str(r.days),
                fmt.usd_per_mwh(r.mean_price_usd_per_mwh),
                str(r.left_out),
            )
            for r in years.itertuples()
        ),
        (True, True, True, False),
        caption="Power-price years the analysis years draw from",
    )
    name = found.summary.loc[found.summary["candidate"] == subject, "description"].iloc[0]
    return Section(
        f"Cash flows of {name}",
        "Means over the paths: revenue by stream "
        "from the dispatch grid, O&M and capex when spent; project cash after tax and terminal "
        "value, equity cash after debt service (every item per year in mc_cash_flows.csv).",
        tables=(table,),
        figures=(figure,),
    )
