"""The compiled path (dispatch.fast) against Pyomo: the same rows, the same optimum, the same
reported numbers, on every example site, with new data and carried state between re-solves."""

from __future__ import annotations

import datetime as dt

import highspy
import numpy as np
import pandas as pd
import pyomo.environ as pyo
import pytest
from conftest import SITES, fleet, make_inputs, make_site, mining
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from pyomo.core.expr.visitor import identify_mutable_parameters
from pyomo.repn import generate_standard_repn

from dispatch import Inputs, load_inputs, load_site
from dispatch.errors import SolveError
from dispatch.fast import FastModel
from dispatch.inputs import HASHPRICE, PRICE
from dispatch.model.build import BuiltModel, build_model, horizon_shape, load_data
from dispatch.model.extract import extract_result
from dispatch.model.forms import CompileError
from dispatch.model.state import SiteState, copy_solution, read_state, write_state
from dispatch.results import DispatchResult, SolveReport
from dispatch.site import Site
from dispatch.solver import (
    Dispatcher,
    PersistentModel,
    SolveOptions,
    new_solver,
    run_exact,
    solve,
)

FAST = SolveOptions(mip_rel_gap=0.0)
PYOMO = SolveOptions(mip_rel_gap=0.0, interface="pyomo")
EXAMPLES = sorted(SITES.glob("*.yaml"))
# real days with every bundled series (ECRS prices from 2023-06-10, site profiles to 2024); the
# example sites are in America/Chicago, whose DST days (23 or 25 hours) are another model shape
DST_DAYS = {dt.date(2023, 11, 5), dt.date(2024, 3, 10), dt.date(2024, 11, 3)}
real_days = st.dates(dt.date(2023, 6, 10), dt.date(2024, 12, 30)).filter(
    lambda d: d not in DST_DAYS
)
# solves are slow to repeat: no shrinking (a failure reports its first example as found)
few = settings(
    max_examples=3,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)


def dr_site() -> Site:
    """A DR event with a scheduled baseline: its window and baseline weights are data that
    multiply variables (matrix coefficients), and its bounds move in ``refresh``."""
    return make_site(
        grid={"import_limit_mw": 10, "export_limit_mw": 2},
        mining=mining(fleet(containers=3)),
        battery={"power_mw": 1, "energy_mwh": 2, "degradation_usd_per_mwh": 3},
        programs={
            "events": [
                {
                    "name": "peak",
                    "start": "2024-06-03T02:00:00-05:00",
                    "end": "2024-06-03T04:00:00-05:00",
                    "committed_mw": 2,
                    "usd_per_mwh": 500,
                }
            ]
        },
    )


def varied(site: Site, day: dt.date, price_scale: float, price_shift: float, hash_scale: float):
    """The site's real inputs of ``day`` with prices and hashprice moved (what-if data)."""
    frame = load_inputs(site, day).frame.copy()
    if PRICE in frame:
        frame[PRICE] = (frame[PRICE] * price_scale + price_shift).round(2)
    if HASHPRICE in frame:
        frame[HASHPRICE] = (frame[HASHPRICE] * hash_scale).round(2)
    return Inputs.from_frame(site, frame)


def assert_feasible_for_pyomo(built: BuiltModel, tolerance: float = 1e-6) -> None:
    """Every active constraint and variable bound of ``built``, evaluated by Pyomo at the
    variables' values, holds; integer variables are integral; no lazy binary is needed."""
    m = built.model
    for con in m.component_data_objects(pyo.Constraint, active=True, descend_into=True):
        lower, body, upper = con.to_bounded_expression(evaluate_bounds=True)
        value = pyo.value(body)
        slack = tolerance * (1 + abs(value))
        assert lower is None or value >= lower - slack, con.name
        assert upper is None or value <= upper + slack, con.name
    for var in m.component_data_objects(pyo.Var, descend_into=True):
        lower, upper = var.bounds
        assert lower is None or var.value >= lower - tolerance, var.name
        assert upper is None or var.value <= upper + tolerance, var.name
        if var.is_integer():
            assert abs(var.value - round(var.value)) <= tolerance, var.name
    for _, terms in built.blocks:
        if terms.enforce is not None:
            assert terms.enforce(False) == 0  # the solution needs no lazy binary switched on


def assert_same_as_fresh_pyomo(
    site: Site,
    inputs: Inputs,
    state: SiteState | None,
    dispatcher: Dispatcher,
    result: DispatchResult,
) -> None:
    """``result`` (the compiled path's) against a fresh Pyomo build: the same optimum, and its
    schedule and streams are what Pyomo itself reads off a fresh model holding its solution."""
    fresh = solve(site, inputs, PYOMO, state=state)
    assert result.kpis.status == fresh.kpis.status == "optimal"
    assert result.kpis.objective_usd == pytest.approx(fresh.kpis.objective_usd, rel=1e-9, abs=1e-6)
    assert result.streams["usd"].sum() == pytest.approx(
        result.kpis.objective_usd, rel=1e-9, abs=1e-6
    )
    held = build_model(site, inputs)
    write_state(held, state, inputs.index)
    assert dispatcher.built is not None
    copy_solution(dispatcher.built, held)
    assert_feasible_for_pyomo(held)
    assert pyo.value(held.model.margin_usd) == pytest.approx(
        result.kpis.objective_usd, rel=1e-9, abs=1e-6
    )
    read_by_pyomo = extract_result(held, inputs, report_of(result))
    pd.testing.assert_frame_equal(result.schedule, read_by_pyomo.schedule, rtol=1e-9, atol=1e-7)
    pd.testing.assert_frame_equal(result.streams, read_by_pyomo.streams, rtol=1e-9, atol=1e-7)


def report_of(result: DispatchResult) -> SolveReport:
    """The solve report behind ``result``'s KPIs (to read another model with the same KPIs)."""
    k = result.kpis
    return SolveReport(k.status, k.objective_usd, None, k.mip_gap, 0.0, 0.0, 0.0, False, 1)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
@few
@given(
    days=st.tuples(real_days, real_days).filter(lambda d: d[0] != d[1]),
    price_scales=st.tuples(st.floats(0.5, 1.0), st.floats(1.0, 2.0)),
    price_shifts=st.tuples(st.floats(-60.0, 0.0), st.floats(0.0, 40.0)),
    hash_scales=st.tuples(st.floats(0.5, 0.9), st.floats(1.1, 2.0)),
)
def test_compiled_re_solves_equal_a_fresh_pyomo_build(
    path, days, price_scales, price_shifts, hash_scales
):
    # Two days on one compiled model: different prices, a different hashprice and the state
    # the first day ends in carried into the second; each checked against a fresh Pyomo build.
    site = load_site(path)
    dispatcher = Dispatcher(site, FAST)
    state = None
    solved_hashprice = []
    for day, scale, shift, hash_scale in zip(
        days, price_scales, price_shifts, hash_scales, strict=True
    ):
        inputs = varied(site, day, scale, shift, hash_scale)
        result = dispatcher.solve(inputs, state)
        assert_same_as_fresh_pyomo(site, inputs, state, dispatcher, result)
        if HASHPRICE in inputs.frame:
            solved_hashprice.append(inputs.frame[HASHPRICE].mean())
        assert dispatcher.built is not None
        state = read_state(dispatcher.built, inputs.index, state)
    # the second day re-solved the first day's model
    assert dispatcher.models_built + dispatcher.models_from_cache == 1
    if solved_hashprice:
        assert solved_hashprice[0] != solved_hashprice[1]


def random_data(built: BuiltModel, seed: int) -> None:
    """Every mutable Param of ``built`` at a random value in its domain, and some variables
    with new bounds, a new domain or fixed (no meaning intended: what HiGHS holds must agree
    with Pyomo's reading of the model whatever the data and whatever the hooks set)."""
    rng = np.random.default_rng(seed)
    for param in built.model.component_objects(pyo.Param, descend_into=True):
        if param.mutable:
            low, high, step = param.domain.get_interval()
            low, high = max(low if low is not None else -3, -3), min(high or 3, 3)
            for data in param.values():
                value = rng.uniform(low, high)
                data.set_value(round(value) if step == 1 else value)
    for var in built.model.component_data_objects(pyo.Var, descend_into=True):
        var.set_value(float(rng.uniform(-3, 3)), skip_validation=True)
        change = rng.integers(12)
        if change == 0:
            var.fix()
        elif change == 1:
            var.setub(float(rng.uniform(0, 5)))
        elif change == 2:
            var.domain = pyo.Integers if var.domain is pyo.Reals else pyo.Reals


def highs_model(model: FastModel) -> tuple[np.ndarray, highspy.HighsLp]:
    """The constraint matrix (dense) and the LP that HiGHS holds."""
    lp = model.highs.getLp()
    a = lp.a_matrix_
    dense = np.zeros((lp.num_row_, lp.num_col_))
    starts, index, values = np.array(a.start_), np.array(a.index_), np.array(a.value_)
    for k in range(len(starts) - 1):
        span = slice(starts[k], starts[k + 1])
        if a.format_ == highspy.MatrixFormat.kColwise:
            dense[index[span], k] = values[span]
        else:
            dense[k, index[span]] = values[span]
    return dense, lp


@pytest.mark.parametrize("path", [*EXAMPLES, None], ids=lambda p: p.stem if p else "dr_event")
@settings(few, max_examples=2)
@given(seed=st.integers(0, 2**32 - 1))
def test_what_highs_holds_equals_pyomos_own_reading_of_the_model(path, seed):
    # Solve once (the model as built), then move every Param and some variables at random and
    # push the changes: HiGHS's copy of the model must be Pyomo's reading of the model now.
    site = load_site(path) if path else dr_site()
    inputs = load_inputs(site, "2023-08-17") if path else make_inputs(site, [20] * 5, 36.0)
    model = FastModel(build_model(site, inputs))
    model.solve_once(FAST, inputs)
    random_data(model.built, seed)
    model.push()
    matrix, lp = highs_model(model)
    compiled = model.compiled
    column = {id(v): j for j, v in enumerate(compiled.columns)}
    free = np.array([not v.fixed for v in compiled.columns])
    for i, con in enumerate(compiled.rows):
        low, body, high = con.to_bounded_expression(evaluate_bounds=True)
        repn = generate_standard_repn(body, compute_values=True, quadratic=False)
        expected = np.zeros(compiled.n_columns)
        for coef, var in zip(repn.linear_coefs, repn.linear_vars, strict=True):
            expected[column[id(var)]] += coef
        # Pyomo reads a fixed variable as its value (the body's constant)
        assert matrix[i, free] == pytest.approx(expected[free], abs=1e-9), con.name
        # Pyomo keeps the body's constant in the body, HiGHS's row in its bounds
        constant = pyo.value(repn.constant)
        fixed_part = sum(  # fixed variables are columns held by their bounds in HiGHS
            matrix[i, j] * v.value for j, v in enumerate(compiled.columns) if v.fixed
        )
        lower = -np.inf if low is None else low - constant + fixed_part
        upper = np.inf if high is None else high - constant + fixed_part
        assert lp.row_lower_[i] == pytest.approx(lower), con.name
        assert lp.row_upper_[i] == pytest.approx(upper), con.name
    for j, var in enumerate(compiled.columns):
        lower, upper = (var.value, var.value) if var.fixed else var.bounds
        assert lp.col_lower_[j] == (-np.inf if lower is None else pytest.approx(lower)), var.name
        assert lp.col_upper_[j] == (np.inf if upper is None else pytest.approx(upper)), var.name
        # an integer fixed at a whole number stays an integer column (held by its bounds), as
        # Pyomo passes it; fixed at a fraction, a continuous one
        integer = var.is_integer() and (not var.fixed or float(var.value).is_integer())
        assert (lp.integrality_[j] == highspy.HighsVarType.kInteger) == integer, var.name
    x = np.array([v.value for v in compiled.columns])
    objective = model.built.model.margin_usd
    assert np.array(lp.col_cost_) @ x + lp.offset_ == pytest.approx(pyo.value(objective))
    reported = compiled.outputs.evaluate(compiled.symbols.values(), x)
    assert reported == pytest.approx([pyo.value(e) for e in model.layout.expressions], abs=1e-9)
    if path is None:  # the interesting case: data that multiplies variables
        assert len(compiled.matrix.coefficients.varying) > 0


def test_dr_windows_move_coefficients_and_bounds_on_the_compiled_model():
    site = dr_site()
    dispatcher = Dispatcher(site, FAST)
    windows = [
        ([0, 0, 1, 1, 0], [0, 1, 0, 0, 0]),
        ([0, 0, 0, 1, 0], [0, 0, 1, 0, 0]),
        ([0, 1, 1, 1, 1], [1, 0, 0, 0, 0]),
    ]
    for k, (active, baseline) in enumerate(windows):
        inputs = make_inputs(
            site,
            [20, -5, 60, 90, 20][k:] + [20, -5, 60, 90, 20][:k],
            36.0 + 10 * k,
            start="2024-06-04",
            dr_peak_active_fraction=active,
            dr_peak_baseline_fraction=baseline,
        )
        result = dispatcher.solve(inputs)
        assert_same_as_fresh_pyomo(site, inputs, None, dispatcher, result)
    assert dispatcher.models_built + dispatcher.models_from_cache == 1


def test_fixing_the_past_equals_a_fresh_build_with_those_variables_fixed():
    # A real-time step: the site ran until 16:00 on the schedule planned from day-ahead prices;
    # the rest of the day re-solves at real-time prices (realized for the past). The compiled
    # model holds the past by column bounds; the reference is a fresh Pyomo build with the same
    # variables fixed. The plan is HiGHS's MIP start for the re-solve (it stays feasible).
    site = load_site(SITES / "west_texas_hybrid.yaml")
    day_ahead = load_inputs(site, "2023-08-17", prices="ercot_dam_spp")
    model = FastModel(build_model(site, day_ahead), warm_start=True)
    run_exact(model, FAST, day_ahead, 0.0, rebuilt=True)
    k = 64  # 16:00: before the evening's real-time spike
    past = model.columns_before(k)
    assert model.solution is not None
    held_at = model.solution[past]
    now = load_inputs(site, "2023-08-17")  # real-time prices
    load_data(model.built, now)
    model.fix(past, held_at)
    report = run_exact(model, FAST, now, 0.0, rebuilt=False)
    assert model.solution[past] == pytest.approx(held_at, abs=1e-9)

    reference = build_model(site, now)
    columns = list(reference.model.component_data_objects(pyo.Var, descend_into=True))
    for j, value in zip(past, held_at, strict=True):
        columns[j].domain = pyo.Reals  # held as a plain number, as the compiled path holds it
        columns[j].fix(value)
    reference_report = run_exact(
        PersistentModel(reference, new_solver()), PYOMO, now, 0.0, rebuilt=True
    )
    assert report.objective_usd == pytest.approx(reference_report.objective_usd, rel=1e-9)
    assert report.objective_usd != pytest.approx(
        run_exact(FastModel(build_model(site, now)), FAST, now, 0.0, rebuilt=True).objective_usd,
        rel=1e-6,
    )  # the past was really held: free, the day would have run differently

    model.unfix()
    freed = run_exact(model, FAST, now, 0.0, rebuilt=False)
    assert freed.objective_usd == pytest.approx(
        solve(site, now, PYOMO).kpis.objective_usd, rel=1e-9
    )


def test_a_nonlinear_constraint_is_refused_by_name():
    site = dr_site()
    built = build_model(site, make_inputs(site, [20] * 5, 36.0))
    m = built.model
    m.bilinear = pyo.Constraint(expr=m.grid.import_mw[0] * m.grid.export_mw[0] <= 1)
    with pytest.raises(CompileError, match=r"constraint bilinear: a product of two variables"):
        FastModel(built)


def test_a_structure_the_compiler_does_not_read_is_refused():
    site = dr_site()
    built = build_model(site, make_inputs(site, [20] * 5, 36.0))
    m = built.model
    m.one_of = pyo.SOSConstraint(var=m.grid.import_mw, sos=1)
    with pytest.raises(
        CompileError, match=r"one_of: a SOSConstraint is not read by the compiled model"
    ):
        FastModel(built)


@pytest.mark.parametrize(
    "zone", ["America/Chicago", "Europe/Oslo", "Asia/Kolkata", "Australia/Adelaide"]
)
@pytest.mark.parametrize(
    ("start", "minutes"),
    [
        ("2023-11-04 18:00", 15),
        ("2023-03-11 20:00", 15),
        ("2023-10-28 22:00", 60),
        ("2023-03-31", 30),
    ],
)
def test_horizon_shape_numbers_local_days_hours_and_months_as_the_calendar_does(
    zone, start, minutes
):
    # Read timestamp by timestamp from Python's own calendar (local wall time), against the
    # vectorized numbering the persistent models are keyed by (DST changes, half-hour zones).
    index = pd.date_range(pd.Timestamp(start, tz=zone), periods=200, freq=f"{minutes}min")
    local = [t.to_pydatetime() for t in index]

    def numbered(keys):
        first_seen = {}
        return tuple(first_seen.setdefault(k, len(first_seen)) for k in keys)

    days = tuple((t.date() - local[0].date()).days for t in local)
    hours = numbered(t.astimezone(dt.UTC) - dt.timedelta(minutes=t.minute) for t in local)
    months = numbered((t.year, t.month) for t in local)
    assert horizon_shape(index) == (days, hours, months)


@pytest.mark.parametrize("path", [*EXAMPLES, None], ids=lambda p: p.stem if p else "dr_event")
def test_every_param_pyomo_finds_in_the_model_is_mapped(path):
    # Pyomo's own search for mutable Params, through every active constraint, the objective
    # and every reported expression, against the compiled model's symbols: a Param the mapping
    # missed fails here. (Variable bounds are re-read from the variables at every solve.)
    site = load_site(path) if path else dr_site()
    inputs = load_inputs(site, "2023-08-17") if path else make_inputs(site, [20] * 5, 36.0)
    model = FastModel(build_model(site, inputs))
    m = model.built.model
    expressions = [c.expr for c in m.component_data_objects(pyo.Constraint, active=True)]
    expressions += [o.expr for o in m.component_data_objects(pyo.Objective, active=True)]
    expressions += list(model.layout.expressions)
    found = {id(p): p for e in expressions for p in identify_mutable_parameters(e)}
    mapped = {id(s) for s in model.compiled.symbols.sources}
    missed = sorted(p.name for key, p in found.items() if key not in mapped)
    assert missed == []
    assert len(found) > 20  # the search does see the data


def test_a_power_of_data_is_a_coefficient_that_follows_its_param():
    # A coefficient sqrt(price) (a power of a Param: neither a polynomial nor a variable) must
    # be read as a symbol of its own and re-evaluated when the Param changes: 20 -> 49 gives 7.
    site = dr_site()
    built = build_model(site, make_inputs(site, [20] * 5, 36.0))
    m = built.model
    m.powered = pyo.Constraint(expr=m.price_usd_per_mwh[0] ** 0.5 * m.grid.import_mw[0] <= 1000)
    model = FastModel(built)
    model.solve_once(FAST, make_inputs(site, [20] * 5, 36.0))
    row = list(model.compiled.rows).index(m.powered)
    column = [id(v) for v in model.compiled.columns].index(id(m.grid.import_mw[0]))
    assert highs_model(model)[0][row, column] == pytest.approx(20**0.5)
    m.price_usd_per_mwh[0] = 49.0
    model.push()
    assert highs_model(model)[0][row, column] == pytest.approx(7.0)


@pytest.mark.parametrize("user", [None, True], ids=["default", "user_on"])
def test_feasibility_jump_is_off_unless_the_user_turns_it_on(user):
    # HIGHS_DEFAULTS switches HiGHS's root heuristic off for dispatch days; the user's
    # highs_options win over it, on both interfaces
    site = dr_site()
    inputs = make_inputs(site, [20, -5, 60, 90, 20], 36.0)
    extra = {} if user is None else {"mip_heuristic_run_feasibility_jump": user}
    expected = bool(user)
    model = FastModel(build_model(site, inputs))
    model.solve_once(SolveOptions(highs_options=extra), inputs)
    assert model.highs.getOptionValue("mip_heuristic_run_feasibility_jump")[1] is expected
    solver = new_solver()
    built = build_model(site, inputs)
    run_exact(
        PersistentModel(built, solver),
        SolveOptions(interface="pyomo", highs_options=extra),
        inputs,
        0.0,
        rebuilt=True,
    )
    highs = solver._solver_model
    assert highs.getOptionValue("mip_heuristic_run_feasibility_jump")[1] is expected


def test_a_past_held_a_tolerance_off_its_balance_solves_with_slack_as_a_last_resort():
    # A past held at a solve's values meets its rows only within HiGHS's tolerance; a balance
    # row whose columns are all held can end up just past it (2023-08-02 in the operator
    # back-test: 1.07e-7 MW). Here one held import is moved 5e-6 MW off its balance (HiGHS
    # accepts 1e-6 on this day's scaling, refuses 2e-6).
    site = load_site(SITES / "west_texas_hybrid.yaml")
    day = load_inputs(site, "2023-08-17", prices="ercot_dam_spp")
    model = FastModel(build_model(site, day))
    run_exact(model, FAST, day, 0.0, rebuilt=True)
    past = model.columns_before(8)
    assert model.solution is not None
    held_at = model.solution[past].copy()
    names = [model.compiled.columns[j].name for j in past]
    held_at[names.index("grid.import_mw[0]")] += 5e-6
    model.fix(past, held_at)
    with pytest.raises(SolveError, match="no feasible schedule"):
        run_exact(model, FAST, day, 0.0, rebuilt=False)

    model.fixed_slack = True
    report = run_exact(model, FAST, day, 0.0, rebuilt=False)
    assert np.array_equal(model.solution[past], held_at)  # reported as held, to the bit
    by_hand = float(model.compiled.cost.values(model.compiled.symbols.values()) @ model.solution)
    by_hand += float(model.compiled.offset.values(model.compiled.symbols.values())[0])
    assert report.objective_usd == by_hand  # the money of the schedule as reported

    held_at[names.index("grid.import_mw[0]")] += 1.0  # really infeasible: stays so
    model.fix(past, held_at)
    with pytest.raises(SolveError, match="no feasible schedule"):
        run_exact(model, FAST, day, 0.0, rebuilt=False)
