"""The two-stage stochastic day: one two-settlement block per scenario, first stage shared.

Every scenario k is a dispatch block built by the asset builders (:func:`build_block`), holding
the day's day-ahead view with scenario k's real-time prices, in the real-time stage (T3 inert,
awards must stay deliverable in every scenario). Each block has its own reserves coupling: which
asset carries how much of each award (A1), the battery's sustain windows (A2), the relay armed
or not (A3) and the expected deployment valued at the scenario's prices (A4) are recourse; the
awards themselves are first stage. Tags (docs/formulation.md):

* **N1 non-anticipativity**: the day-ahead decisions of every block (hourly energy position,
  ancillary awards: ``AssetTerms.day_ahead_decisions``) equal block 0's:
  ``x_k[j] − x_0[j] == link_gap[k, j]`` with ``link_gap`` fixed at 0 (freed for wait-and-see).
* **N2 position rule**: the position buys the expected plan, within ``position_band_mw``:
  ``Σ_k w_k · hedge_gap_k[h] == position_gap[h]``, ``|position_gap[h]| <= band`` (T3 in
  expectation; freed when the first stage is given).
* **V1 CVaR** (Rockafellar–Uryasev), of the loss L_k = −margin_k at level α:
  ``CVaR = η + 1/(1−α) · Σ_k w_k · shortfall_k``, ``shortfall_k >= −margin_k − η``,
  ``shortfall_k >= 0``. Built only in a model for λ > 0 (``cvar``): at λ = 0 the term has no
  weight and V1 always holds (η is free), so its rows (every price of the scenario in each)
  would only be re-sent to HiGHS every day and removed again by its presolve.
* **Objective**: ``Σ_s stream_usd[s] − λ · CVaR`` where the model's ``stream_usd[s] =
  Σ_k w_k · stream_usd_k[s]``: the expected streams (the weighted sums of the blocks' own
  stream expressions) minus the risk term.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pyomo.environ as pyo
from pyomo.core.base.var import VarData

from dispatch.errors import SolveError
from dispatch.fast import FastModel, Reporter
from dispatch.inputs import PRICE, Inputs
from dispatch.model.build import BuiltModel, build_block, horizon_shape, load_data
from dispatch.model.context import Stage
from dispatch.model.extract import Layout
from dispatch.model.state import SiteState, write_state
from dispatch.options import SolveOptions
from dispatch.realtime.stages import fix_at_value
from dispatch.results import SolveReport
from dispatch.site import Site
from dispatch.solver import Engine, PersistentModel, Shape, new_solver, run_exact
from dispatch.stochastic.settings import Risk
from dispatch.streams import Stream

# [s] the recovery MILP's search (every integer but the relays' arming and the battery's idle
# intervals is fixed by then); past it, the incumbent is kept (its gap is reported)
RECOVERY_LIMIT_S = 10.0


class ScenarioModel:
    """The extensive form for ``count`` scenarios of one day shape, with its own HiGHS: the
    compiled arrays (:class:`~dispatch.fast.FastModel`) or Pyomo's persistent interface, as
    ``interface`` says (:class:`~dispatch.options.SolveOptions`).

    Built once per (day shape, count) and re-solved with new data (:meth:`load`). Each
    scenario block's report values (schedule and streams) are read by its own
    :class:`~dispatch.fast.Reporter` (:meth:`report_values`).
    """

    def __init__(
        self,
        site: Site,
        view: Inputs,
        count: int,
        interface: str = "compiled",
        *,
        cvar: bool = True,
    ) -> None:
        self.site, self.count, self.cvar = site, count, cvar
        self.band_mw = 0.0  # N2's band [MW], set with each day's data (load)
        m = pyo.ConcreteModel(name=f"{site.name} scenarios")
        m.scenarios = pyo.RangeSet(0, count - 1)
        m.scenario = pyo.Block(m.scenarios)
        self.blocks: list[BuiltModel] = []
        for k in range(count):
            built = build_block(m.scenario[k], site, view, two_settlement=True)
            m.scenario[k].margin_usd.deactivate()
            self.blocks.append(built)
        self.first_stage = [
            [
                data
                for _, terms in built.blocks
                for var in terms.day_ahead_decisions
                for data in var.values()
            ]
            for built in self.blocks
        ]
        gaps = [
            next(t.hedge_gap_mw for _, t in built.blocks if t.hedge_gap_mw is not None)
            for built in self.blocks
        ]
        self.hedge_gaps = gaps
        m.weight = pyo.Param(m.scenarios, mutable=True, initialize=1.0 / count)
        m.cvar_weight = pyo.Param(mutable=True, initialize=0.0)
        m.tail_factor = pyo.Param(mutable=True, initialize=1.0 / (1 - 0.95))
        n = len(self.first_stage[0])
        m.decisions = pyo.RangeSet(0, n - 1)
        m.link_gap = pyo.Var(pyo.RangeSet(1, count - 1) * m.decisions, bounds=(0.0, 0.0))

        def n1(m: pyo.Block, k: int, j: int) -> pyo.Expression:
            """N1: x_k[j] - x_0[j] == link_gap[k, j]"""
            return self.first_stage[k][j] - self.first_stage[0][j] == m.link_gap[k, j]

        m.nonanticipative = pyo.Constraint(pyo.RangeSet(1, count - 1) * m.decisions, rule=n1)
        hours = self.blocks[0].ctx.hours
        m.hours = pyo.Set(initialize=hours, ordered=True)
        m.position_gap_mw = pyo.Var(m.hours, bounds=(0.0, 0.0))

        def n2(m: pyo.Block, h: int) -> pyo.Expression:
            """N2: Σ_k w_k · hedge_gap_k[h] == position_gap_mw[h]"""
            return sum(m.weight[k] * gaps[k][h] for k in m.scenarios) == m.position_gap_mw[h]

        m.expected_plan_position = pyo.Constraint(m.hours, rule=n2)
        m.margin_usd = pyo.Expression(
            m.scenarios,
            rule=lambda m, k: sum(m.scenario[k].stream_usd[s] for s in m.scenario[k].stream_names),
        )
        if cvar:
            self._add_cvar(m)
        present = [s for s in Stream if any(s in b.streams for b in self.blocks)]
        self.streams = tuple(present)
        m.stream_names = pyo.Set(initialize=[s.value for s in present], ordered=True)

        def expected(component: str):
            def rule(m: pyo.Block, name: str) -> object:
                return sum(
                    m.weight[k] * getattr(m.scenario[k], component)[name] for k in m.scenarios
                )

            return rule

        m.stream_usd = pyo.Expression(m.stream_names, rule=expected("stream_usd"))
        m.stream_basis_mwh = pyo.Expression(m.stream_names, rule=expected("stream_basis_mwh"))
        m.risk_usd = pyo.Expression(expr=-m.cvar_weight * m.cvar_usd if cvar else 0.0)
        m.objective = pyo.Objective(
            expr=sum(m.stream_usd[s] for s in m.stream_names) + m.risk_usd,
            sense=pyo.maximize,
        )
        self.model = m
        terms = tuple(
            (f"scenario {k} {name}", t) for k, b in enumerate(self.blocks) for name, t in b.blocks
        )
        whole = BuiltModel(m, self.blocks[0].ctx, terms, self.streams)
        compiled = interface == "compiled"
        self.engine: Engine = (
            FastModel(whole)
            if compiled
            else PersistentModel(whole, new_solver(fixed_as_bounds=True))
        )
        self.reporters = [Reporter(b, compiled=compiled) for b in self.blocks]
        self._recovered: list[VarData] = []  # what fix_rounded fixed, freed by _release

    @staticmethod
    def _add_cvar(m: pyo.Block) -> None:
        """V1 and the CVaR it defines (``cvar_usd``)."""
        m.value_at_risk_usd = pyo.Var()
        m.shortfall_usd = pyo.Var(m.scenarios, bounds=(0, None))

        def v1(m: pyo.Block, k: int) -> pyo.Expression:
            """V1: shortfall_usd[k] >= -margin_usd[k] - value_at_risk_usd"""
            return m.shortfall_usd[k] >= -m.margin_usd[k] - m.value_at_risk_usd

        m.shortfall_definition = pyo.Constraint(m.scenarios, rule=v1)
        m.cvar_usd = pyo.Expression(
            expr=m.value_at_risk_usd
            + m.tail_factor * sum(m.weight[k] * m.shortfall_usd[k] for k in m.scenarios)
        )

    @property
    def shape(self) -> Shape:
        return self.blocks[0].shape

    def load(
        self,
        view: Inputs,
        prices_usd_per_mwh: np.ndarray,
        weights: np.ndarray,
        state: SiteState | None,
        risk: Risk,
    ) -> list[Inputs]:
        """Write the day's data: block k gets ``view`` with real-time prices
        ``prices_usd_per_mwh[k]``; every block starts from ``state``. Returns the blocks'
        inputs. Every fix of an earlier solve is released."""
        if horizon_shape(view.index) != self.shape:
            raise ValueError("the day does not have the shape this model was built for")
        if risk.cvar_weight > 0 and not self.cvar:
            raise ValueError("a risk term (cvar_weight > 0) needs a model built with cvar=True")
        m = self.model
        inputs = []
        for k, built in enumerate(self.blocks):
            frame = view.frame.copy()
            frame[PRICE] = prices_usd_per_mwh[k]
            own = Inputs(frame, view.sources)
            load_data(built, own)
            write_state(built, state, view.index)
            inputs.append(own)
            m.weight[k].set_value(float(weights[k]))
        self._set_stage(Stage.REAL_TIME)
        m.cvar_weight.set_value(risk.cvar_weight)
        m.tail_factor.set_value(1.0 / (1.0 - risk.cvar_alpha))
        self.band_mw = risk.position_band_mw
        return inputs

    def _set_stage(self, stage: Stage) -> None:
        for built in self.blocks:
            for _, terms in built.blocks:
                if terms.set_stage is not None:
                    terms.set_stage(stage)

    def report_values(self, k: int) -> tuple[Layout, np.ndarray]:
        """Block ``k``'s report values (:class:`~dispatch.model.extract.Layout`) at the
        current solution."""
        return self.reporters[k].evaluate()

    def _release(self) -> None:
        for datas in self.first_stage:
            for data in datas:
                data.unfix()
        self._free_recovered()

    def _free_recovered(self) -> None:
        for data in self._recovered:
            data.unfix()
        self._recovered = []

    def _set_choice(self, *, shared: bool) -> None:
        """First stage chosen: shared by all scenarios (N1, N2) or each scenario's own
        (wait-and-see: N1 off, and each scenario's position within the band of its own plan,
        T3 per scenario: the day-ahead stage with that scenario as a perfect forecast)."""
        band = self.band_mw
        for data in self.model.link_gap.values():
            data.setlb(0.0 if shared else None)
            data.setub(0.0 if shared else None)
        for data in self.model.position_gap_mw.values():
            data.setlb(-band if shared else None)
            data.setub(band if shared else None)
        for gaps in self.hedge_gaps:
            for data in gaps.values():
                data.setlb(None if shared else -band)
                data.setub(None if shared else band)

    def _given_first_stage(self) -> None:
        """The first stage is fixed: N1 and N2 hold trivially and T3 is inert."""
        for data in (*self.model.link_gap.values(), *self.model.position_gap_mw.values()):
            data.setlb(None)
            data.setub(None)
        for gaps in self.hedge_gaps:
            for data in gaps.values():
                data.setlb(None)
                data.setub(None)

    def solve(
        self,
        options: SolveOptions,
        inputs: Inputs,
        *,
        mode: str = "shared",
        decisions: tuple[float, ...] | None = None,
        exact: bool = False,
    ) -> tuple[SolveReport, float | None]:
        """Choose a first stage, then evaluate it: HiGHS's report of the evaluation, and the
        objective of the problem that chose the first stage (None when it was given).

        ``mode``: ``shared`` (the stochastic problem: N1 and N2), ``own`` (wait-and-see: each
        scenario its own first stage, buying its own plan) or ``given`` (``decisions``).
        Evaluation: the first stage fixed in every block, N2 released (once the position is
        bought, real-time operation is free in every scenario), the recourse re-optimized: its
        objective is the first stage's expected margin (− λ·CVaR), the same for every mode.
        Unless ``exact``, the first stage is chosen on the LP relaxation of the scenario blocks
        (no day-ahead decision is integer) and the evaluation (:meth:`_recover`) fixes integers
        near the relaxed solution (``AssetTerms.fix_rounded``: container counts that can draw
        the relaxed power, the relay armed if armed at all, the battery's direction where it
        moves energy) and solves the rest (an LP unless S1 must be enforced somewhere).
        ``exact`` chooses on the MILP and evaluates with every integer free.
        """
        started = time.perf_counter()
        self._release()
        # presolve on: it removes N1's equalities and the fixed columns; on 2023-08-17 (K = 10,
        # loaded machine) HiGHS took 2.0 s (LP) + 1.1 s (recovery) with it, 2.3 + 3.2 s without
        options = replace(options, presolve="on")
        # the relaxation by dual simplex with Dantzig pricing: 1.0-2.2 s of CPU a day against
        # 1.7-2.6 s with HiGHS's default (steepest edge), August 2023 (docs/stochastic.md)
        relaxed = replace(
            options,
            relax_integrality=True,
            highs_options={"simplex_dual_edge_weight_strategy": 0, **options.highs_options},
        )
        integral = replace(  # (HiGHS keeps an option once set: each solve sets its own)
            options,
            highs_options={
                "simplex_dual_edge_weight_strategy": -1,
                **options.highs_options,
                "solve_relaxation": False,
            },
        )
        chosen = None
        if mode == "given":
            assert decisions is not None, "a given first stage needs its decisions"
            for datas in self.first_stage:
                for data, value in zip(datas, decisions, strict=True):
                    data.fix(value)
            self._given_first_stage()
            if not exact:  # the relaxed recourse that integers are recovered from
                self._run(relaxed, inputs, started, rebuilt=False)
        else:
            self._set_choice(shared=mode == "shared")
            choice = self._run(integral if exact else relaxed, inputs, started, rebuilt=False)
            chosen = choice.objective_usd
            for datas in self.first_stage:
                for data in datas:
                    fix_at_value(data)
        self._given_first_stage()
        if exact:
            return self._run(integral, inputs, started, rebuilt=False), chosen
        return self._recover(integral, inputs, started), chosen

    def _run(
        self, options: SolveOptions, inputs: Inputs, started: float, **kw: bool
    ) -> SolveReport:
        """One solve from scratch (HiGHS's presolve, no basis of an earlier solve): on the
        presolved model that is faster than a warm start on the whole one (measured: the
        warm relaxation took 3,000-6,000 iterations and as long as 18,000 cold ones), and the
        first stage never depends on what was solved before (which of equal optima)."""
        self.engine.forget_basis()
        return run_exact(self.engine, options, inputs, started, **kw)

    def _recover(self, options: SolveOptions, inputs: Inputs, started: float) -> SolveReport:
        """The evaluation MILP with integers recovered from the relaxed solution, its search
        capped at ``RECOVERY_LIMIT_S``. Should the recovered integers leave an award
        undeliverable in some scenario, it may fail there (T4, charged as
        ``ancillary_failure``, as in the real-time stage); failing that (or with no integer
        solution within the cap), every integer is freed under the full time limit. On the
        compiled path each of these solves is an LP first (``FastModel.relaxation_first``)."""
        for built in self.blocks:
            for _, terms in built.blocks:
                if terms.fix_rounded is not None:
                    self._recovered += terms.fix_rounded()
        capped = replace(options, time_limit_s=min(options.time_limit_s, RECOVERY_LIMIT_S))
        pyomo = self.engine.solver if isinstance(self.engine, PersistentModel) else None
        if pyomo is not None:
            # only variable bounds changed since the data were pushed: Pyomo need not
            # re-evaluate every Param-dependent coefficient (a third of a day's CPU, profiled)
            pyomo.config.auto_updates.update_parameters = False
        # every integer is fixed now (unless S1 switches battery binaries on): the LP is the
        # MIP, and HiGHS's MIP solver spends 0.1-0.3 s a day on its own presolve and set-up
        # around it (docs/stochastic.md#speed); the MIP runs only if the LP is fractional or
        # not solved (an LP infeasible at 1e-7 may be feasible at the MIP's 1e-6)
        fast = self.engine if isinstance(self.engine, FastModel) else None
        first = fast.relaxation_first if fast is not None else False
        if fast is not None:
            fast.relaxation_first = True
        try:
            return self._run(capped, inputs, started, rebuilt=False)
        except SolveError:
            self._set_stage(Stage.REAL_TIME_FAILING)
            try:
                return self._run(capped, inputs, started, rebuilt=False)
            except SolveError:
                self._free_recovered()
                return self._run(options, inputs, started, rebuilt=False)
            finally:
                self._set_stage(Stage.REAL_TIME)
        finally:
            if fast is not None:
                fast.relaxation_first = first
            if pyomo is not None:
                pyomo.config.auto_updates.update_parameters = True
