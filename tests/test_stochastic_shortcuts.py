"""The stochastic stage's speed shortcuts give the answers of the plain formulation.

* V1 (the CVaR rows) is built only for λ > 0: at λ = 0 a model without it chooses the same first
  stage and evaluates it to the same objective as one with it.
* The evaluation with the recovered integers is solved as an LP first (FastModel's relaxation
  first) and as a MIP only where that LP is fractional: the same evaluation as the MIP, both when
  every integer is fixed (the LP is taken) and when some stay free (the MIP runs).

On the campus, 2023-08-17 (real DAM prices), three history scenarios.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from test_cli import HYBRID
from test_two_settlement import EXACT

from dispatch import load_inputs, load_site
from dispatch.fast import FastModel
from dispatch.realtime.information import load_operator_inputs
from dispatch.stochastic.history import HistoryScenarios, load_price_history
from dispatch.stochastic.model import ScenarioModel
from dispatch.stochastic.plan import StochasticDayAhead
from dispatch.stochastic.scenarios import ScenarioMethod
from dispatch.stochastic.settings import Risk

DAY = "2023-08-17"


@pytest.fixture(scope="module")
def campus_day():
    import datetime as dt

    site = load_site(HYBRID)
    day = dt.date.fromisoformat(DAY)
    inputs = load_inputs(site, day, day, prices="ercot_dam_spp")
    view = load_operator_inputs(site, inputs, inputs).day_ahead
    history = load_price_history(site, day, day - dt.timedelta(days=1))
    scenarios = HistoryScenarios(history.clock_spreads(), ScenarioMethod(count=3)).day(view)
    return site, view, scenarios


def test_no_cvar_rows_at_lambda_zero_chooses_and_evaluates_as_with_them(campus_day):
    site, view, scenarios = campus_day
    risk = Risk()  # λ = 0
    results = []
    for cvar in (False, True):
        model = ScenarioModel(site, view, scenarios.count, cvar=cvar)
        assert (model.model.component("shortfall_definition") is not None) == cvar
        model.load(view, scenarios.prices_usd_per_mwh, scenarios.weights, None, risk)
        report, chosen = model.solve(EXACT, view)
        decisions = np.array([d.value for d in model.first_stage[0]])
        results.append((report.objective_usd, chosen, decisions))
    (without, chosen_without, first_without), (with_, chosen_with, first_with) = results
    assert chosen_without == pytest.approx(chosen_with, rel=1e-9)
    assert without == pytest.approx(with_, rel=1e-9)
    np.testing.assert_allclose(first_without, first_with, atol=1e-6)


def test_a_risk_term_needs_the_cvar_rows(campus_day):
    site, view, scenarios = campus_day
    model = ScenarioModel(site, view, scenarios.count, cvar=False)
    with pytest.raises(ValueError, match="cvar=True"):
        model.load(view, scenarios.prices_usd_per_mwh, scenarios.weights, None, Risk(0.5))


def _leave_containers_free(planner: StochasticDayAhead, view, count: int) -> None:
    """Scenario 0's s21 fleet keeps its container counts free in the evaluation."""
    model = planner.model(view, count)
    built = model.blocks[0]
    terms = dict(built.blocks)["mining_s21"]
    original = terms.fix_rounded
    assert original is not None

    def free_again() -> list:
        for data in original():
            data.unfix()
        return []

    blocks = tuple(
        (name, replace(t, fix_rounded=free_again) if name == "mining_s21" else t)
        for name, t in built.blocks
    )
    model.blocks[0] = replace(built, blocks=blocks)


@pytest.mark.parametrize("free_integers", [False, True])
def test_the_evaluation_as_an_lp_first_equals_the_evaluation_as_a_mip(
    campus_day, monkeypatch, free_integers: bool
):
    site, view, scenarios = campus_day
    verdicts: list[bool] = []
    check = FastModel._relaxation_is_integral

    def spy(self: FastModel, options) -> bool:
        verdicts.append(check(self, options))
        return verdicts[-1]

    plans = []
    for lp_first in (True, False):
        if not lp_first:  # every relaxation "fractional": the evaluation is the MIP
            monkeypatch.setattr(FastModel, "_relaxation_is_integral", lambda self, o: False)
        else:
            monkeypatch.setattr(FastModel, "_relaxation_is_integral", spy)
        planner = StochasticDayAhead(site, EXACT)
        if free_integers:
            _leave_containers_free(planner, view, scenarios.count)
        plans.append(planner.plan(view, scenarios, schedules=True))
    lp, mip = plans
    assert lp.decisions == pytest.approx(mip.decisions, abs=1e-9)  # the same first stage
    assert lp.report.objective_usd == pytest.approx(mip.report.objective_usd, rel=1e-9)
    assert lp.objective_usd == pytest.approx(lp.report.objective_usd, rel=1e-9)
    for schedule in lp.schedules:
        counts = schedule["mining_s21_containers_on"].to_numpy()
        np.testing.assert_allclose(counts, np.round(counts), atol=1e-6)
    # the interesting case occurred: the LP was taken (all fixed) or refused (some free)
    assert verdicts == [not free_integers]
