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

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from dispatch import columns
from dispatch.inputs import DA_PRICE, Inputs
from dispatch.model.build import BuiltModel, horizon_shape
from dispatch.model.extract import extract_result, streams_table
from dispatch.model.state import SiteState
from dispatch.options import SolveOptions
from dispatch.results import SolveReport
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
    ``da_price_usd_per_mwh``, ``da_position_mw``, ``<product>_offer_mw``); ``streams``: each
    scenario's streams table (its block's own stream expressions at the solution);
    ``expected_streams``: stream, usd, basis_mwh, usd_per_mwh, kind — the weighted sum of
    ``streams``, with the risk term as its own ``risk_cvar`` line when λ > 0: the lines sum to
    the objective; ``report``: HiGHS's report of the evaluation (its objective, MIP gap);
    ``choice_objective_usd``: the objective of the problem that chose the first stage (the LP
    relaxation under N1 and N2 unless exact: no bound on the evaluation, which frees N2);
    ``schedules``: each scenario's schedule when asked for.
    """

    decisions: tuple[float, ...]
    first_stage: pd.DataFrame
    streams: tuple[pd.DataFrame, ...]
    names: tuple[str, ...]
    weights: np.ndarray
    expected_streams: pd.DataFrame
    report: SolveReport
    risk: Risk
    schedules: tuple[pd.DataFrame, ...] = ()
    choice_objective_usd: float | None = None
    in_sample: InSample | None = None
    seconds: float = 0.0

    @property
    def margins_usd(self) -> np.ndarray:
        """Each scenario's margin [USD]: the sum of its streams."""
        return np.array([float(table["usd"].sum()) for table in self.streams])

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
            "choice_objective_usd": np.nan
            if self.choice_objective_usd is None
            else self.choice_objective_usd,
            "gap": self.report.mip_gap,
            "scenarios": float(len(w)),
            "seconds": self.seconds,
        }

    def scenario_streams(self) -> pd.DataFrame:
        """Tidy: scenario, name, weight, then each scenario's streams table."""
        frames = []
        for k, streams in enumerate(self.streams):
            table = streams.copy()
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
        model, new = by_shape(
            self._models,  # type: ignore[arg-type]
            key,  # type: ignore[arg-type]
            lambda: ScenarioModel(
                self.site, view, count, self.options.interface, cvar=self.risk.cvar_weight > 0
            ),
        )
        self.models_built += new
        return model

    def plan(
        self,
        view: Inputs,
        scenarios: PriceScenarios,
        state: SiteState | None = None,
        *,
        in_sample: bool = False,
        schedules: bool = False,
    ) -> StochasticPlan:
        """The stochastic first stage of the day of ``view`` (its day-ahead view: DA prices,
        forecast peaks, yesterday's hashprice) under ``scenarios``, from the planned ``state``;
        ``schedules``: also read every scenario's schedule."""
        started = time.perf_counter()
        model = self.model(view, scenarios.count)
        blocks = model.load(view, scenarios.prices_usd_per_mwh, scenarios.weights, state, self.risk)
        report, chosen = model.solve(self.options, view, exact=self.exact)
        plan = self._read(model, blocks, scenarios, report, schedules)
        plan = replace(plan, choice_objective_usd=chosen)
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
        schedules: bool,
    ) -> StochasticPlan:
        values = [model.report_values(k) for k in range(len(model.blocks))]
        streams = tuple(
            streams_table(layout, y[len(y) - 2 * len(layout.streams) :]) for layout, y in values
        )
        expected = expected_streams_table(streams, scenarios.weights)
        risk_usd = float(pyo.value(model.model.risk_usd))
        if self.risk.cvar_weight > 0:
            line = {"stream": RISK_LINE, "usd": risk_usd, "kind": "risk"}
            expected = pd.concat([expected, pd.DataFrame([line])], ignore_index=True)
        read = (
            tuple(
                extract_result(built, inputs, report, value).schedule
                for built, inputs, value in zip(model.blocks, blocks, values, strict=True)
            )
            if schedules
            else ()
        )
        return StochasticPlan(
            decisions=tuple(float(d.value) for d in model.first_stage[0]),
            first_stage=first_stage_table(self.site, model.blocks[0], blocks[0]),
            streams=streams,
            names=scenarios.names,
            weights=scenarios.weights.copy(),
            expected_streams=expected,
            report=report,
            risk=self.risk,
            schedules=read,
        )


def expected_streams_table(streams: Sequence[pd.DataFrame], weights: np.ndarray) -> pd.DataFrame:
    """Σ_k w_k × each scenario's streams table (USD and basis MWh), stream by stream; a stream
    a scenario lacks counts 0 there. The same numbers as the objective's ``stream_usd``."""
    frames = [
        t.assign(usd=t["usd"] * w, basis_mwh=t["basis_mwh"] * w)
        for t, w in zip(streams, weights, strict=True)
    ]
    table = pd.concat(frames).groupby(["stream", "kind"], sort=False)[["usd", "basis_mwh"]].sum()
    table = table.reset_index()
    basis = table["basis_mwh"].where(table["basis_mwh"].abs() > 1e-9)
    table["usd_per_mwh"] = table["usd"] / basis
    return table[["stream", "usd", "basis_mwh", "usd_per_mwh", "kind"]]


def first_stage_table(site: Site, built: BuiltModel, inputs: Inputs) -> pd.DataFrame:
    """One row per local hour of the day-ahead decisions of ``built`` (held over the hour's
    intervals), beside the hour's DA price."""
    names = ["da_position_mw"] + [
        columns.ancillary(o.product, "offer_mw") for o in site.ancillary_offers
    ]
    components = {n: c for _, t in built.blocks for n, c in t.schedule.items() if n in names}
    index = inputs.index
    hour_start = index - pd.to_timedelta(index.minute, unit="min")
    first = np.flatnonzero(~pd.Index(hour_start.asi8).duplicated())
    table = pd.DataFrame(
        {DA_PRICE: inputs.frame[DA_PRICE].to_numpy(dtype=float)[first]},
        index=pd.DatetimeIndex(hour_start[first], name="hour_start"),
    )
    for name in names:
        if name in components:
            table[name] = [float(pyo.value(components[name][int(t)])) + 0.0 for t in first]
    return table
