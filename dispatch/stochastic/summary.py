"""The stochastic back-test's tables, from the batch's ``days`` table (no solver imported).

Definitions (per day, summed over a period; all USD):

* **in-sample** (on the day's scenario model, objective units: expected margin − λ·CVaR):
  ``VSS = RP − EEV`` and ``EVPI = WS − RP``, where RP is the stochastic optimum, WS the
  wait-and-see value (each scenario with its own first stage) and EEV the scenario model's value
  of the expected-value problem's first stage (the plan on the mean scenario).
* **realized** (at the true real-time prices, the loop running after each first stage):
  ``VSS = stochastic − operator`` (the same loop after the stochastic and after the deterministic
  day-ahead stage) and ``EVPI = perfect_information − stochastic``.
"""

from __future__ import annotations

import pandas as pd

from dispatch.realtime.cases import BREAKEVEN, OPERATOR, PERFECT_FORESIGHT

STOCHASTIC = "stochastic"
PERFECT_INFORMATION = "perfect_information"
STOCHASTIC_CASES = (STOCHASTIC, PERFECT_INFORMATION)
GROUP = ["site_file", "site_name", "prices", "settlement_point"]
IN_SAMPLE = ("in_sample_rp_usd", "in_sample_ws_usd", "in_sample_eev_usd")
WORST_DAYS = 5


def stochastic_summary(days: pd.DataFrame) -> pd.DataFrame:
    """Per task group and period (each year, then each month): every case's margin, realized
    and in-sample VSS and EVPI (module docstring) and the largest relaxation gap."""
    if days.empty or STOCHASTIC not in set(days["case"]):
        return pd.DataFrame()
    stamps = pd.DatetimeIndex(pd.to_datetime(days["day"]))
    frames = []
    cases = [PERFECT_INFORMATION, PERFECT_FORESIGHT, STOCHASTIC, OPERATOR, BREAKEVEN]
    for period in (stamps.strftime("%Y"), stamps.strftime("%Y-%m")):
        frame = days.assign(period=period)
        keys = [*GROUP, "period"]
        margins = frame.pivot_table(
            index=keys, columns="case", values="net_margin_usd", aggfunc="sum"
        )
        table = pd.DataFrame({"days": frame.groupby(keys)["day"].nunique()})
        for case in cases:
            table[f"{case}_margin_usd"] = margins[case]
        table["realized_vss_usd"] = margins[STOCHASTIC] - margins[OPERATOR]
        table["realized_evpi_usd"] = margins[PERFECT_INFORMATION] - margins[STOCHASTIC]
        own = frame[frame["case"] == STOCHASTIC]
        if set(IN_SAMPLE) <= set(own.columns):
            sums = own.groupby(keys)[list(IN_SAMPLE)].sum()
            table["in_sample_vss_usd"] = sums["in_sample_rp_usd"] - sums["in_sample_eev_usd"]
            table["in_sample_evpi_usd"] = sums["in_sample_ws_usd"] - sums["in_sample_rp_usd"]
        table["max_stochastic_gap"] = own.groupby(keys)["stochastic_gap"].max()
        frames.append(table)
    return pd.concat(frames).reset_index()


def worst_days(days: pd.DataFrame, count: int = WORST_DAYS) -> pd.DataFrame:
    """The ``count`` days with the lowest realized stochastic margin per task group, with the
    other cases' margins on those days."""
    if days.empty or STOCHASTIC not in set(days["case"]):
        return pd.DataFrame()
    margins = days.pivot_table(
        index=[*GROUP, "day"], columns="case", values="net_margin_usd", aggfunc="sum"
    )
    margins.columns = [f"{c}_margin_usd" for c in margins.columns]
    margins = margins.reset_index()
    ordered = margins.sort_values(f"{STOCHASTIC}_margin_usd", kind="stable")
    return ordered.groupby(GROUP, sort=False).head(count).reset_index(drop=True)
