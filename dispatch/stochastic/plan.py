"""The stochastic day-ahead decision of one day and its tables.

:class:`StochasticDayAhead` keeps one :class:`~dispatch.stochastic.model.ScenarioModel` per day
shape and scenario count. :meth:`StochasticDayAhead.plan` returns a :class:`StochasticPlan`:
the first stage (hourly position and awards), every scenario's settled result, the expected
streams table (the weighted sum of the scenario blocks' own stream expressions; with a risk term
its own ``risk_cvar`` line; the lines sum to HiGHS's objective) and the margin distribution.
With ``in_sample`` it also solves wait-and-see (WS) and the expected-value solution's expected
result (EEV) on the same scenarios: VSS = RP − EEV, EVPI = WS − RP.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from dispatch import columns
from dispatch.inputs import DA_PRICE, Inputs
from dispatch.model.build import horizon_shape
from dispatch.model.extract import extract_result, streams_table
from dispatch.model.state import SiteState
from dispatch.options import SolveOptions
from dispatch.results import DispatchResult, SolveReport
from dispatch.site import Site
from dispatch.solver import Shape, by_shape
from dispatch.stochastic.model import ScenarioModel
from dispatch.stochastic.scenarios import PriceScenarios
from dispatch.stochastic.settings import Risk

RISK_LINE = "risk_cvar"  # the expected streams table's line for −λ·CVaR (not a money stream)


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """Smallest value whose cumulative weight reaches ``q`` (the lower quantile)."""
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    position = int(np.searchsorted(cumulative, q - 1e-12))
    return float(values[order][min(position, len(values) - 1)])


def cvar_of_loss(margins: np.ndarray, weights: np.ndarray, alpha: float) -> float:
    """CVaR_α of the loss −margin [USD]: min_η η + E[(−margin − η)⁺] / (1 − α), exact on a
    discrete distribution (the minimum sits at a support point)."""
    losses = -margins
    return float(
        min(
            eta + weights @ np.maximum(losses - eta, 0.0) / (1.0 - alpha)
            for eta in np.unique(losses)
        )
    )


@dataclass(frozen=True)
class InSample:
    """The scenario model's own VSS and EVPI [USD, objective units]: ``rp`` the stochastic
    optimum, ``ws`` wait-and-see (each scenario its own first stage), ``eev`` the expected
    result of the expected-value problem's first stage (the deterministic plan on the mean
    scenario). ``vss = rp − eev``, ``evpi = ws − rp``."""

    rp_usd: float
    ws_usd: float
    eev_usd: float

    @property
    def vss_usd(self) -> float:
        return self.rp_usd - self.eev_usd

    @property
    def evpi_usd(self) -> float:
        return self.ws_usd - self.rp_usd


@dataclass(frozen=True)
class StochasticPlan:
    """One day's stochastic day-ahead decision and what it expects.

    ``decisions``: the first-stage values in the order of the model's day-ahead decisions (what
    the real-time loop fixes); ``first_stage``: one row per local hour (``hour_start``,
    ``da_price_usd_per_mwh``, ``da_position_mw``, ``<product>_offer_mw``); ``scenarios``: each
    scenario settled at its own prices; ``weights``; ``expected_streams``: stream, usd,
    basis_mwh, usd_per_mwh, kind; ``report``: HiGHS's report of the final solve (objective
    = the expected streams' sum, bound = the relaxation's); ``risk``: the settings used.
    """

    decisions: tuple[float, ...]
    first_stage: pd.DataFrame
    scenarios: tuple[DispatchResult, ...]
    names: tuple[str, ...]
    weights: np.ndarray
    expected_streams: pd.DataFrame
    report: SolveReport
    risk: Risk
    in_sample: InSample | None = None
    seconds: float = 0.0

    @property
    def margins_usd(self) -> np.ndarray:
        return np.array([r.kpis.net_margin_usd for r in self.scenarios])

    @property
    def objective_usd(self) -> float:
        return float(self.expected_streams["usd"].sum())

    def distribution(self) -> dict[str, float]:
        """Expected margin, P5/P50/P95 and CVaR_α of the loss [USD]; tail mean = −CVaR."""
        margins, w = self.margins_usd, self.weights
        cvar = cvar_of_loss(margins, w, self.risk.cvar_alpha)
        return {
            "expected_margin_usd": float(w @ margins),
            "p5_margin_usd": weighted_quantile(margins, w, 0.05),
            "p50_margin_usd": weighted_quantile(margins, w, 0.50),
            "p95_margin_usd": weighted_quantile(margins, w, 0.95),
            "cvar_alpha": self.risk.cvar_alpha,
            "cvar_loss_usd": cvar,
            "tail_mean_margin_usd": -cvar,
            "cvar_weight": self.risk.cvar_weight,
            "objective_usd": self.objective_usd,
            "highs_objective_usd": self.report.objective_usd,
            "bound_usd": math.nan if self.report.bound_usd is None else self.report.bound_usd,
            "gap": self.report.mip_gap,
            "scenarios": float(len(w)),
            "seconds": self.seconds,
        }

    def scenario_streams(self) -> pd.DataFrame:
        """Tidy: scenario, name, weight, then each scenario's streams table."""
        frames = []
        for k, result in enumerate(self.scenarios):
            table = result.streams.copy()
            table.insert(0, "weight", float(self.weights[k]))
            table.insert(0, "name", self.names[k])
            table.insert(0, "scenario", k)
            frames.append(table)
        return pd.concat(frames, ignore_index=True)

    def margins(self) -> pd.DataFrame:
        """scenario, name, weight, margin_usd."""
        return pd.DataFrame(
            {
                "scenario": range(len(self.names)),
                "name": self.names,
                "weight": self.weights,
                "margin_usd": self.margins_usd,
            }
        )


@dataclass
class StochasticDayAhead:
    """Solves days' stochastic day-ahead stage; one model per (day shape, scenario count)."""

    site: Site
    options: SolveOptions
    risk: Risk = field(default_factory=Risk)
    exact: bool = False
    models_built: int = 0
    _models: dict[tuple[Shape, int], ScenarioModel] = field(default_factory=dict)

    def model(self, view: Inputs, count: int) -> ScenarioModel:
        """The scenario model of ``view``'s day shape for ``count`` scenarios (built once)."""
        key = (horizon_shape(view.index), count)
        model, new = by_shape(self._models, key, lambda: ScenarioModel(self.site, view, count))  # type: ignore[arg-type]
        self.models_built += new
        return model

    def plan(
        self,
        view: Inputs,
        scenarios: PriceScenarios,
        state: SiteState | None = None,
        *,
        in_sample: bool = False,
    ) -> StochasticPlan:
        """The stochastic first stage of the day of ``view`` (its day-ahead view: DA prices,
        forecast peaks, yesterday's hashprice) under ``scenarios``, from the planned ``state``."""
        started = time.perf_counter()
        model = self.model(view, scenarios.count)
        blocks = model.load(view, scenarios.prices_usd_per_mwh, scenarios.weights, state, self.risk)
        report, _ = model.solve(self.options, view, exact=self.exact)
        decisions = tuple(float(d.value) for d in model.first_stage[0])
        plan = self._read(model, blocks, scenarios, report, decisions)
        if in_sample:
            rp = report.objective_usd
            ws, _ = model.solve(self.options, view, mode="own", exact=self.exact)
            eev = self._eev(view, scenarios, state, model)
            plan = replace(plan, in_sample=InSample(rp, ws.objective_usd, eev))
        return replace(plan, seconds=time.perf_counter() - started)

    def _eev(
        self, view: Inputs, scenarios: PriceScenarios, state: SiteState | None, model: ScenarioModel
    ) -> float:
        """The expected-value problem (one scenario: the mean prices) chooses a first stage;
        the scenario model evaluates it."""
        mean = self.model(view, 1)
        mean.load(view, scenarios.mean_usd_per_mwh()[None, :], np.ones(1), state, self.risk)
        mean.solve(self.options, view, exact=self.exact)
        decisions = tuple(float(d.value) for d in mean.first_stage[0])
        model.load(view, scenarios.prices_usd_per_mwh, scenarios.weights, state, self.risk)
        report, _ = model.solve(self.options, view, mode="given", decisions=decisions)
        return report.objective_usd

    def _read(
        self,
        model: ScenarioModel,
        blocks: list[Inputs],
        scenarios: PriceScenarios,
        report: SolveReport,
        decisions: tuple[float, ...],
    ) -> StochasticPlan:
        results = tuple(
            extract_result(built, inputs, report)
            for built, inputs in zip(model.blocks, blocks, strict=True)
        )
        expected = expected_streams_table(model)
        return StochasticPlan(
            decisions=decisions,
            first_stage=first_stage_table(self.site, results[0].schedule),
            scenarios=results,
            names=scenarios.names,
            weights=scenarios.weights.copy(),
            expected_streams=expected,
            report=report,
            risk=self.risk,
        )


def expected_streams_table(model: ScenarioModel) -> pd.DataFrame:
    """Evaluate the objective's own expected-stream expressions (and its risk term)."""
    m = model.model
    table = streams_table(m, model.streams)
    if pyo.value(m.cvar_weight) > 0:
        risk = {
            "stream": RISK_LINE,
            "usd": float(pyo.value(m.risk_usd)),
            "basis_mwh": math.nan,
            "usd_per_mwh": math.nan,
            "kind": "risk",
        }
        table = pd.concat([table, pd.DataFrame([risk])], ignore_index=True)
    return table


def first_stage_table(site: Site, schedule: pd.DataFrame) -> pd.DataFrame:
    """One row per local hour of the day-ahead decisions (held over the hour's intervals)."""
    names = [DA_PRICE, "da_position_mw"] + [
        columns.ancillary(o.product, "offer_mw") for o in site.ancillary_offers
    ]
    present = [n for n in names if n in schedule.columns]
    index = pd.DatetimeIndex(schedule.index)
    hour_start = index - pd.to_timedelta(index.minute, unit="min")
    first = ~pd.Index(hour_start.asi8).duplicated()
    table = schedule.loc[first, present].copy()
    table.index = pd.DatetimeIndex(hour_start[first], name="hour_start")
    return table
