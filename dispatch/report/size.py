"""The page of a sizing run (`dispatch size --report`).

The chosen plan against business as usual (the site as it stands), the NPV surface of every sweep
with its blank cells explained, the scenarios and their regret, and the representative days'
check against the full history. The page is a list of sections built by :data:`SECTIONS`: each
builder returns ``None`` when the result holds nothing for it, so a section appears only with
its data. A new analysis (e.g. NPV distributions or a tornado) is one more builder in the list.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from dispatch.report import fmt
from dispatch.report.page import Card, Section, Table, plotly, render, style, write_page
from dispatch.sizing.plot import sweep_heatmap

if TYPE_CHECKING:
    from dispatch.sizing.results import Case, SizingResult


def _plan_text(case: Case) -> str:
    """``HPC 20 MW IT; mining 123.5 MW (s21 35, s19 30); battery 30 MW / 60 MWh``."""
    plan = case.plan
    fleets = ", ".join(f"{name} {count}" for name, count in plan.containers.items())
    text = f"HPC {fmt.number(plan.hpc_it_mw, 1)} MW IT; mining {fmt.number(case.mining_mw, 1)} MW"
    text += f" ({fleets})" if fleets else ""
    if plan.battery_power_mw or plan.battery_energy_mwh:
        text += (
            f"; battery {fmt.number(plan.battery_power_mw, 1)} MW / "
            f"{fmt.number(plan.battery_energy_mwh, 1)} MWh"
        )
    return text


def headline(result: SizingResult) -> list[Card]:
    best, bau = result.optimum, result.business_as_usual
    plan = best.plan
    cards = [
        Card(
            "Chosen plan",
            f"{fmt.number(plan.hpc_it_mw, 1)} MW IT + {fmt.number(best.mining_mw, 1)} MW mining",
            f"HPC + mining; {best.basis}",
        ),
        Card("NPV", fmt.usd_compact(best.npv_usd), f"as it stands {fmt.usd_compact(bau.npv_usd)}"),
        Card(
            "NPV against business as usual",
            fmt.usd_compact(best.npv_vs_bau_usd),
            f"capex {fmt.usd_compact(best.capex_usd)}",
        ),
        Card(
            "Payback",
            fmt.number(best.payback_years, 1)
            + (" years" if best.payback_years is not None else ""),
            "capex over the yearly gain in operations − O&M",
        ),
        Card("Net per year", fmt.usd_compact(best.net_usd_per_year), "operations − O&M − capex"),
    ]
    return cards


def _money_rows(case: Case) -> dict[str, float]:
    """USD per year by stream, then the cost terms (signed: costs negative)."""
    rows = {str(r.stream): float(r.usd_per_year) for r in case.streams.itertuples(index=False)}
    rows["fixed O&M"] = -case.fixed_om_usd_per_year
    rows["annualized capex"] = -case.annualized_capex_usd_per_year
    return rows


def plan_vs_bau(result: SizingResult) -> Section:
    """The chosen plan and the site as it stands, line by line, on the headline's basis."""
    go = plotly()
    best, bau = result.optimum, result.business_as_usual
    lines = [
        ("plan", _plan_text(best), _plan_text(bau)),
        ("HPC new build, MW IT", fmt.number(best.plan.hpc_new_build_it_mw, 1),
         fmt.number(bau.plan.hpc_new_build_it_mw, 1)),
        ("HPC retrofit, MW IT", fmt.number(best.plan.hpc_retrofit_it_mw, 1),
         fmt.number(bau.plan.hpc_retrofit_it_mw, 1)),
        ("capex", fmt.usd(best.capex_usd), fmt.usd(bau.capex_usd)),
        ("operations per year", fmt.usd(best.operations_usd_per_year),
         fmt.usd(bau.operations_usd_per_year)),
        ("fixed O&M per year", fmt.usd(-best.fixed_om_usd_per_year),
         fmt.usd(-bau.fixed_om_usd_per_year)),
        ("annualized capex per year", fmt.usd(-best.annualized_capex_usd_per_year),
         fmt.usd(-bau.annualized_capex_usd_per_year)),
        ("net per year", fmt.usd(best.net_usd_per_year), fmt.usd(bau.net_usd_per_year)),
        ("NPV", fmt.usd(best.npv_usd), fmt.usd(bau.npv_usd)),
        ("NPV against business as usual", fmt.usd(best.npv_vs_bau_usd), ""),
        ("payback", fmt.number(best.payback_years, 1) + " years"
         if best.payback_years is not None else fmt.MISSING, ""),
    ]  # fmt: skip
    table = Table(("", "chosen plan", "as it stands"), tuple(lines), (False, True, True))
    money = {"chosen plan": _money_rows(best), "as it stands": _money_rows(bau)}
    names = [  # lines that are zero in both cases say nothing in a chart (the table has them)
        n
        for n in dict.fromkeys(n for rows in money.values() for n in rows)
        if any(abs(rows.get(n, 0.0)) >= 0.5 for rows in money.values())
    ]
    figure = go.Figure()
    for (label, rows), colour in zip(money.items(), ("#1d4ed8", "#9ca3af"), strict=True):
        values = [rows.get(n, 0.0) for n in names]
        figure.add_trace(
            go.Bar(
                y=names,
                x=fmt.clean([v / 1e6 for v in values]),
                orientation="h",
                name=label,
                marker_color=colour,
                hovertext=[fmt.usd(v) + " per year" for v in values],
                hoverinfo="text+name",
            )
        )
    figure.update_layout(barmode="group")
    figure.update_xaxes(title_text="M USD per year", tickformat=",.1f", zerolinecolor="#111827")
    figure.update_yaxes(autorange="reversed")
    style(figure, 120 + 44 * len(names), "Money per year: chosen plan and as it stands")
    return Section(
        "Chosen plan against business as usual",
        f"Both on the same basis ({best.basis}); streams are the dispatch's own, costs the "
        "sizing objective's (capex × capital recovery factor, fixed O&M on everything installed).",
        tables=(table,),
        figures=(figure,),
    )


def npv_surfaces(result: SizingResult) -> Section | None:
    """One heat map per sweep, with the cells a plan may not take listed with their reason."""
    sweeps = result.sweeps()
    if not sweeps:
        return None
    parts = []
    for scenario, frame in sweeps:
        figure = sweep_heatmap(frame, result.heatmap_marks(scenario))
        blank = frame[~frame["feasible"]]
        tables: tuple[Table, ...] = ()
        if not blank.empty:
            rows = tuple(
                (fmt.number(r.hpc_it_mw, 1), fmt.number(r.mining_mw, 1), str(r.problem))
                for r in blank.itertuples(index=False)
            )
            tables = (
                Table(
                    ("HPC MW IT", "mining MW", "why the plan is not allowed"),
                    rows,
                    (True, True, False),
                    caption="Grey cells",
                    collapsed=True,
                ),
            )
        parts.append(Section(f"Scenario {scenario}", tables=tables, figures=(figure,)))
    return Section(
        "NPV over HPC and mining MW",
        "Each cell is one plan dispatched over every day of the history; the value printed is "
        "its NPV in M USD. Grey cells are plans the site may not take (hover a cell, or open "
        "the list, for the reason). Outlined: the sweep's best cell and the site as it stands; "
        "ringed: the optimizer's plan, which may lie between grid points.",
        subsections=tuple(parts),
    )


def scenarios(result: SizingResult) -> Section | None:
    """Each scenario's optimum, and the regret of each mix under each scenario."""
    if len(result.outcomes) < 2:
        return None
    rows = tuple(
        (
            o.scenario.name,
            _plan_text(o.optimum),
            fmt.usd(o.optimum.npv_usd),
            fmt.usd(o.optimum.npv_vs_bau_usd),
        )
        for o in result.outcomes
    )
    tables = [
        Table(
            ("scenario", "optimum", "NPV", "against as it stands"),
            rows,
            (False, False, True, True),
            caption=f"Optimum per scenario ({result.outcomes[0].optimum.basis})",
        )
    ]
    if result.regret is not None:
        regret: pd.DataFrame = result.regret
        tables.append(
            Table(
                ("mix chosen for \\ happens", *(_regret_column(c) for c in regret.columns)),
                tuple(
                    (str(index), *(fmt.usd(float(v)) for v in row))
                    for index, row in regret.iterrows()
                ),
                (False, *(True,) * len(regret.columns)),
                caption="Regret: NPV lost against the best mix of the scenario that happens",
            )
        )
    return Section("Hashprice scenarios", tables=tuple(tables))


def _regret_column(name: object) -> str:
    return "worst case" if name == "max_regret_usd" else str(name)


def representative_check(result: SizingResult) -> Section | None:
    """How the representative days' estimate compares with dispatching the whole history."""
    if result.representative is None or not result.checked:
        return None
    estimate, full = result.outcomes[0].optimum, result.optimum
    error = (estimate.net_usd_per_year - full.net_usd_per_year) / abs(full.net_usd_per_year)
    rows = (
        ("net per year, representative days", fmt.usd(estimate.net_usd_per_year)),
        ("net per year, full history", fmt.usd(full.net_usd_per_year)),
        ("estimate against the history", fmt.percent(error, 2)),
        ("days chosen / in the history",
         f"{len(result.representative.days)} / {result.representative.n_history_days}"),
    )  # fmt: skip
    return Section(
        "Representative days against the full history",
        tables=(Table(("", "value"), rows, (False, True)),),
    )


SECTIONS: tuple[Callable[[SizingResult], Section | None], ...] = (
    plan_vs_bau,
    npv_surfaces,
    scenarios,
    representative_check,
)


def size_page(result: SizingResult) -> str:
    """The page as a string."""
    facts = [result.period, result.basis]
    sections = [s for build in SECTIONS if (s := build(result)) is not None]
    return render(f"{result.site_name}: sizing", facts, headline(result), sections)


def write_size_report(result: SizingResult, path: str | Path) -> Path:
    """Write the page of ``result`` to ``path`` atomically; return the path."""
    return write_page(size_page(result), path)
