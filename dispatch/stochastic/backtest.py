"""The stochastic day-ahead stage in the operator's back-test, beside the other cases.

Two cases join the operator back-test (:func:`dispatch.realtime.backtest.roll_operator`):

* ``stochastic``: the stochastic first stage (:class:`StochasticDayAhead`, from the state the
  deterministic plan of the day before ends in, as the operator's day-ahead stage) then the same
  non-anticipative real-time loop as ``operator``, with the same forecast, from its own state.
  ``stochastic − operator`` is the realized value of the stochastic solution.
* ``perfect_information``: the day-ahead stage solved knowing the day's real-time prices,
  realized peaks and hashprice (wait-and-see on the realized day), executed as planned.
  ``perfect_information − stochastic`` is the realized value of perfect information.

The stochastic case's row of the ``days`` table also carries the scenario model's in-sample
numbers (``in_sample_rp_usd``, ``in_sample_ws_usd``, ``in_sample_eev_usd``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dispatch.batch.tasks import Task
from dispatch.inputs import Inputs
from dispatch.model.state import SiteState
from dispatch.options import SolveOptions
from dispatch.realtime.information import (
    HindsightForecast,
    OperatorInputs,
    PriceForecast,
    decision_intervals,
)
from dispatch.realtime.stages import StageRunner
from dispatch.results import DispatchResult
from dispatch.site import Site
from dispatch.stochastic.history import (
    HistoryScenarios,
    ScenarioFile,
    ScenarioMeanForecast,
    load_price_history,
    read_scenario_file,
)
from dispatch.stochastic.plan import StochasticDayAhead
from dispatch.stochastic.scenarios import ScenarioMethod
from dispatch.stochastic.settings import Risk
from dispatch.stochastic.summary import PERFECT_INFORMATION, STOCHASTIC


@dataclass
class StochasticCases:
    """The two cases of one task, each with its own carried state."""

    site: Site
    scenarios: HistoryScenarios | ScenarioFile
    risk: Risk
    options: SolveOptions
    period: int
    in_sample: bool = True
    planner: StochasticDayAhead = field(init=False)
    loop: StageRunner = field(init=False)
    states: dict[str, SiteState | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.planner = StochasticDayAhead(self.site, self.options, self.risk)
        self.loop = StageRunner(self.site, self.options)

    def day(
        self,
        view: Inputs,
        realized: Inputs,
        plan_state: SiteState | None,
        forecast: PriceForecast,
    ) -> tuple[dict[str, DispatchResult], dict[str, float]]:
        """Both cases of one day, and the in-sample numbers of the stochastic case."""
        scenarios = self.scenarios.day(view)
        plan = self.planner.plan(view, scenarios, plan_state, in_sample=self.in_sample)
        result, self.states[STOCHASTIC] = self.loop.real_time(
            view, realized, self.states.get(STOCHASTIC), plan, forecast, self.period
        )
        hindsight = self.loop.day_ahead(
            realized, realized, self.states.get(PERFECT_INFORMATION), HindsightForecast(realized)
        )
        self.states[PERFECT_INFORMATION] = hindsight.end_state
        extra = plan.distribution()
        numbers = {
            "scenarios": extra["scenarios"],
            "expected_margin_usd": extra["expected_margin_usd"],
            "p5_margin_usd": extra["p5_margin_usd"],
            "stochastic_gap": extra["gap"],
            "stochastic_seconds": plan.seconds,
        }
        if plan.in_sample is not None:
            numbers |= {
                "in_sample_rp_usd": plan.in_sample.rp_usd,
                "in_sample_ws_usd": plan.in_sample.ws_usd,
                "in_sample_eev_usd": plan.in_sample.eev_usd,
            }
        return {STOCHASTIC: result, PERFECT_INFORMATION: hindsight.settled}, numbers


def stochastic_cases(
    task: Task, site: Site, inputs: OperatorInputs
) -> tuple[StochasticCases, PriceForecast | None]:
    """A batch task's stochastic cases, and the loop's forecast when it is the scenario mean
    (``--rt-forecast scenarios``; None: the task's own forecast)."""
    settings = task.stochastic
    assert settings is not None, "a stochastic task"
    source: HistoryScenarios | ScenarioFile
    if settings.scenarios_file is not None:
        weights = Path(settings.weights_file) if settings.weights_file else None
        source = read_scenario_file(Path(settings.scenarios_file), site, weights=weights)
    else:
        history = load_price_history(
            site,
            task.start,
            task.end,
            da_prices=task.prices,
            rt_prices=task.settlement_prices,
        )
        source = HistoryScenarios(history.clock_spreads(), ScenarioMethod(count=settings.count))
    period = decision_intervals(site, task.decision_minutes)
    cases = StochasticCases(
        site, source, settings.risk, task.options, period, in_sample=settings.in_sample
    )
    forecast = ScenarioMeanForecast(source) if task.rt_forecast == "scenarios" else None
    return cases, forecast
