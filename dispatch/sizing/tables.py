"""A sizing result as rich tables for the terminal (the CLI prints them; files are CSV/JSON)."""

from __future__ import annotations

import math

import pandas as pd
from rich.table import Table
from rich.text import Text

from dispatch.sizing.results import Case, SizingResult


def _musd(value: float | None, decimals: int = 2) -> str:
    """USD as M USD ('' when missing)."""
    if value is None or not math.isfinite(value):
        return ""
    return f"{round(value / 1e6, decimals) + 0.0:,.{decimals}f}"


def _plan_text(case: Case) -> tuple[str, str, str]:
    plan = case.plan
    hpc = f"{plan.hpc_it_mw:g} MW IT"
    if plan.hpc_new_build_it_mw or plan.hpc_retrofit_it_mw:
        hpc += f" (+{plan.hpc_retrofit_it_mw:g} retrofit, +{plan.hpc_new_build_it_mw:g} new)"
    fleets = ", ".join(f"{f} {n}" for f, n in plan.containers.items())
    mining = f"{case.mining_mw:g} MW ({fleets})" if fleets else "none"
    battery = f"{plan.battery_power_mw:g} MW / {plan.battery_energy_mwh:g} MWh"
    return hpc, mining, battery


def cases_table(result: SizingResult) -> Table:
    """The reference scenario's optimum beside the site as it stands, on each basis: one
    column per case, money in M USD and M USD/year."""
    reference = result.outcomes[0]
    cases = [reference.optimum, reference.business_as_usual, *result.checked]
    table = Table(
        title=f"{result.site_name}: sizing over {result.period}, scenario "
        f"{reference.scenario.name} (money in M USD)"
    )
    table.add_column("", no_wrap=True)
    for case in cases:
        name = "optimum" if case.name == "optimum" else "as it stands"
        table.add_column(f"{name}\n{case.basis}", justify="right")
    plans = [_plan_text(c) for c in cases]
    rows = [(label, [p[k] for p in plans]) for k, label in enumerate(("HPC", "mining", "battery"))]
    money = [
        ("capex", [_musd(c.capex_usd) for c in cases]),
        ("operations / yr", [_musd(c.operations_usd_per_year) for c in cases]),
        ("fixed O&M / yr", [_musd(c.fixed_om_usd_per_year) for c in cases]),
        ("annualized capex / yr", [_musd(c.annualized_capex_usd_per_year) for c in cases]),
        ("net / yr", [_musd(c.net_usd_per_year) for c in cases]),
        ("NPV", [_musd(c.npv_usd) for c in cases]),
        ("NPV vs as it stands", [_musd(c.npv_vs_bau_usd) for c in cases]),
        ("payback years", [_years(c) for c in cases]),
    ]
    for label, values in rows + money:
        table.add_row(label, *values)
    return table


def scenarios_table(result: SizingResult) -> Table:
    """Each scenario's optimum on the operations basis [M USD]."""
    table = Table(title="optimum per hashprice scenario (money in M USD)")
    for column in ("scenario", "HPC", "mining", "basis"):
        table.add_column(column)
    for column in ("NPV", "NPV vs as it stands"):
        table.add_column(column, justify="right")
    for outcome in result.outcomes:
        case = outcome.optimum
        hpc, mining, _ = _plan_text(case)
        table.add_row(
            outcome.scenario.name,
            hpc,
            mining,
            case.basis,
            _musd(case.npv_usd),
            _musd(case.npv_vs_bau_usd),
        )
    return table


def _years(case: Case) -> str:
    if case.name == "business_as_usual":
        return ""
    return "never" if case.payback_years is None else f"{case.payback_years:.1f}"


def streams_table(result: SizingResult) -> Table:
    """Annual margin by stream of the recommended optimum beside the site as it stands."""
    best, bau = result.optimum, result.business_as_usual
    table = Table(title=f"margin by stream per year ({best.basis}; M USD, MWh, USD/MWh)")
    table.add_column("stream", no_wrap=True)
    for column in ("optimum", "MWh", "USD/MWh", "as it stands", "USD/MWh "):
        table.add_column(column, justify="right")
    merged = best.streams.merge(bau.streams, on="stream", how="outer", suffixes=("", "_bau"))
    for row in merged.itertuples():
        table.add_row(
            str(row.stream),
            _number(row.usd_per_year / 1e6, 3),
            _number(row.basis_mwh_per_year),
            _number(row.usd_per_mwh, 2),
            _number(row.usd_per_year_bau / 1e6, 3),
            _number(row.usd_per_mwh_bau, 2),
        )
    table.add_section()
    table.add_row(
        "operations",
        _musd(best.operations_usd_per_year, 3),
        "",
        "",
        _musd(bau.operations_usd_per_year, 3),
        "",
    )
    bau_costs = dict(zip(bau.costs["term"], bau.costs["usd_per_year"], strict=True))
    for row in best.costs.itertuples():
        table.add_row(
            str(row.term),
            _musd(-row.usd_per_year, 3),
            "",
            "",
            _musd(-bau_costs.get(row.term, 0.0), 3),
            "",
        )
    table.add_row(
        "net", _musd(best.net_usd_per_year, 3), "", "", _musd(bau.net_usd_per_year, 3), ""
    )
    return table


def sweep_table(sweep: pd.DataFrame, scenario: str) -> Table:
    """NPV [M USD] per grid point: HPC IT MW down, mining MW across ('—': not allowed)."""
    table = Table(
        title=f"sweep NPV [M USD], scenario {scenario} (rows HPC MW IT, columns mining MW)"
    )
    mining = sorted(sweep["mining_mw"].unique())
    table.add_column("HPC \\ mining")
    for value in mining:
        table.add_column(f"{value:g}", justify="right")
    best = sweep.loc[sweep["npv_usd"].idxmax()] if sweep["feasible"].any() else None
    for hpc in sorted(sweep["hpc_it_mw"].unique()):
        cells: list[str | Text] = []
        for value in mining:
            point = sweep[(sweep["hpc_it_mw"] == hpc) & (sweep["mining_mw"] == value)].iloc[0]
            text = "—" if not point["feasible"] else _musd(point["npv_usd"])
            if best is not None and point.name == best.name:
                cells.append(Text(f"{text}*", style="bold"))
                continue
            cells.append(text)
        table.add_row(f"{hpc:g}", *cells)
    return table


def regret_table(regret: pd.DataFrame) -> Table:
    """NPV lost [M USD] by the mix chosen for a scenario (row) when another happens (column)."""
    table = Table(title="regret [M USD]: mix chosen for (row) when (column) happens")
    table.add_column("mix of")
    for column in regret.columns:
        table.add_column(str(column), justify="right")
    for name, row in regret.iterrows():
        table.add_row(str(name), *(_musd(v) for v in row))
    return table


def representative_table(result: SizingResult) -> Table | None:
    rep = result.representative
    if rep is None:
        return None
    table = Table(title=f"{len(rep.days)} representative days of {rep.n_history_days}")
    for column in ("date", "weight days", "kind"):
        table.add_column(column, justify="right" if column == "weight days" else "left")
    for row in rep.table().itertuples():
        table.add_row(row.date, f"{row.weight_days:g}", row.kind)
    table.add_section()
    for row in rep.means.itertuples():
        table.add_row(
            f"mean {row.series}",
            f"{row.relative_error:+.1%}",
            f"{row.representative_mean:,.2f} vs {row.history_mean:,.2f}",
        )
    return table


def _number(value: float, decimals: int = 0) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    return f"{round(value, decimals) + 0.0:,.{decimals}f}"
