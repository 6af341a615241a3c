"""The sizing MILP on tiny cases with an answer worked out by hand.

The toy site: 10 MW of interconnection at a flat 40 USD/MWh. An HPC hall (PUE 1, colocation
100 USD/kW-month, nothing built yet) may be retrofitted into the halls of ten existing 1 MW
containers (25 J/TH: 40 PH/s per MW), or built new at three times the cost. Per MW and year,
with a retrofit at 1 M USD/MW over 10 years at 10 % (capital recovery factor 0.162745):

* HPC:    100 x 1000 x 12 - 40 x 8760 - 162,745 = 12e5 - 350,400 - 162,745 = 686,855 USD
* mining: hashprice x 40 x 365 - 350,400 = 525,600 USD at 60 USD/PH/day; 1,401,600 at 120.

So at 60 USD/PH/day the optimizer fills the firm 10 MW with HPC; at 120 mining takes it back.
"""

from __future__ import annotations

import pyomo.environ as pyo
import pytest
from conftest import fleet, make_inputs, make_site, mining
from pyomo.contrib.solver.solvers.highs import Highs

from dispatch.errors import InputError, InputWarning
from dispatch.site import parse_site
from dispatch.site.business import GpuCloudTerms
from dispatch.sizing.days import split_days
from dispatch.sizing.economics import capital_recovery_factor
from dispatch.sizing.evaluate import costs_of, dispatch_plan, net_values
from dispatch.sizing.model import build_sizing_model, optimize
from dispatch.sizing.plan import Planning
from dispatch.solver import SolveOptions

OPTIONS = SolveOptions(mip_rel_gap=1e-9, time_limit_s=60)
DAYS = 2
N_YEARS = DAYS / 365.0
CRF = capital_recovery_factor(0.10, 10)


def toy_site(retrofit_usd_per_mw: float = 1e6, **sections):
    data = {
        "grid": {"import_limit_mw": 10},
        "hpc": {
            "it_load_mw": 1,
            "pue": 1.0,
            "contract": {"kind": "colocation", "usd_per_kw_month": 100},
        },
        "mining": mining(fleet("s19", 10)),
        "sizing": {
            "discount_rate_fraction": 0.10,
            "hpc": {
                "max_it_mw": 10,
                "existing_it_mw": 0,
                "fixed_om_usd_per_mw_year": 0,
                "retrofit": {"capex_usd_per_mw": retrofit_usd_per_mw, "life_years": 10},
                "new_build": {"capex_usd_per_mw": 3 * retrofit_usd_per_mw, "life_years": 10},
            },
            "mining": {"fixed_om_usd_per_mw_year": 0, "fleets": [{"name": "s19"}]},
        },
    }
    data.update(sections)
    return make_site(**data)


def load_site_text(site, sizing_extra):
    """Validate ``site`` as a site file whose sizing section gains ``sizing_extra``."""
    data = site.model_dump(mode="json", exclude_none=True)
    data["sizing"].update(sizing_extra)
    return parse_site(data, "site.yaml")


def toy_days(site, hashprice: float = 60.0, prices=None):
    inputs = make_inputs(site, prices or [40.0] * 24 * DAYS, hashprice)
    return split_days(inputs)


def test_hpc_fills_the_firm_capacity_when_its_margin_beats_mining():
    planning = Planning(toy_site())
    solution = optimize(planning, toy_days(planning.site), N_YEARS, OPTIONS)
    assert solution.status == "optimal"
    plan = solution.plan
    assert plan.hpc_it_mw == pytest.approx(10.0)
    assert plan.hpc_retrofit_it_mw == pytest.approx(10.0)  # cheaper or equal: the halls exist
    assert plan.containers == {"s19": 0}
    expected = 12e6 - 40 * 10 * 8760 - 10 * 1e6 * CRF
    assert solution.objective_usd_per_year == pytest.approx(expected, rel=1e-7)
    streams = dict(zip(solution.streams["stream"], solution.streams["usd_per_year"], strict=True))
    assert streams["hpc_contract"] == pytest.approx(12e6, rel=1e-9)
    assert streams["grid_energy_purchase"] == pytest.approx(-40 * 10 * 8760, rel=1e-9)
    costs = dict(zip(solution.costs["term"], solution.costs["usd_per_year"], strict=True))
    assert costs["hpc_retrofit_capex"] + costs["hpc_new_build_capex"] == pytest.approx(10e6 * CRF)
    capex = dict(zip(solution.costs["term"], solution.costs["capex_usd"], strict=True))
    assert capex["hpc_retrofit_capex"] == pytest.approx(10 * 1e6)  # 10 MW x 1 M USD/MW, up front
    assert capex["hpc_new_build_capex"] == capex["mining_capex"] == 0


def test_when_hashprice_doubles_mining_takes_the_capacity_back():
    planning = Planning(toy_site())
    solution = optimize(planning, toy_days(planning.site, hashprice=120.0), N_YEARS, OPTIONS)
    assert solution.plan.hpc_it_mw == pytest.approx(0.0, abs=1e-6)
    assert solution.plan.containers == {"s19": 10}
    expected = 120 * 40 * 365 * 10 - 40 * 10 * 8760
    assert solution.objective_usd_per_year == pytest.approx(expected, rel=1e-7)


def test_higher_hpc_capex_never_increases_hpc_mw():
    hpc_mw = []
    for capex in (0.5e6, 1.5e6, 1.9e6, 2.1e6, 4e6):
        planning = Planning(toy_site(capex))
        hpc_mw.append(optimize(planning, toy_days(planning.site), N_YEARS, OPTIONS).plan.hpc_it_mw)
    # the switch is where capex x CRF = 686,855 + 162,745 - 525,600: 1.991 M USD/MW (retrofit)
    assert hpc_mw == pytest.approx([10, 10, 10, 0, 0], abs=1e-6)


def test_the_optimizer_scores_its_plan_as_dispatching_that_plan_does():
    """Same builders, same days: the sizing objective equals the dispatched plan's net value."""
    planning = Planning(toy_site(1.7e6))
    prices = [25.0, 30, 35, 60, 90, 250, 40, 20] * 3 * DAYS
    days = toy_days(planning.site, hashprice=75.0, prices=prices)
    solution = optimize(planning, days, N_YEARS, OPTIONS)
    operations = dispatch_plan(planning.site_for(solution.plan), days, N_YEARS, OPTIONS)
    net = net_values(planning, solution.plan, operations.usd_per_year)
    assert net["net_usd_per_year"] == pytest.approx(solution.objective_usd_per_year, rel=1e-7)
    assert costs_of(planning, solution.plan)["usd_per_year"].sum() == pytest.approx(
        solution.costs["usd_per_year"].sum()
    )


def test_sizing_keeps_the_hpc_ride_through_h2():
    """A 4 MWh battery that starts each day half full, with a 60-minute ride-through, carries at
    most 2 MW of HPC facility load (the reserve must be there from the first interval, as the
    site file requires), however profitable HPC is."""
    battery = {
        "power_mw": 5,
        "energy_mwh": 4,
        "round_trip_efficiency": 0.88,
        "initial_soc_fraction": 0.5,
    }
    hpc = {
        "it_load_mw": 1,
        "pue": 1.0,
        "contract": {"kind": "colocation", "usd_per_kw_month": 100},
        "ride_through_minutes": 60,
    }
    planning = Planning(toy_site(0.1e6, battery=battery, hpc=hpc))
    solution = optimize(planning, toy_days(planning.site), N_YEARS, OPTIONS)
    assert solution.plan.hpc_it_mw == pytest.approx(2.0, abs=1e-6)
    site = planning.site_for(solution.plan)  # a valid site: raises otherwise
    operations = dispatch_plan(site, toy_days(site), N_YEARS, OPTIONS)
    unserved = operations.streams.set_index("stream").loc["hpc_sla_penalty", "usd_per_year"]
    assert unserved == 0


def test_the_battery_is_sized_when_it_pays():
    battery = {"power_mw": 1, "energy_mwh": 1, "round_trip_efficiency": 0.9}
    prices = [10.0, 10, 10, 10, 300, 300] * 4 * DAYS
    for capex_usd_per_mwh, built in ((1_000.0, True), (50e6, False)):
        sizing = toy_site().sizing.model_dump()
        sizing["battery"] = {
            "max_power_mw": 4,
            "max_energy_mwh": 8,
            "capex_usd_per_mw": 1_000,
            "capex_usd_per_mwh": capex_usd_per_mwh,
            "fixed_om_usd_per_mw_year": 0,
        }
        planning = Planning(toy_site(battery=battery, sizing=sizing))
        plan = optimize(planning, toy_days(planning.site, prices=prices), N_YEARS, OPTIONS).plan
        added = (plan.battery_power_mw - 1, plan.battery_energy_mwh - 1)
        if built:  # arbitrage 10 -> 300 USD/MWh pays for cheap storage
            assert added[0] > 0.5 and added[1] > 2
        else:  # the battery as it stands, nothing added
            assert added == pytest.approx((0, 0), abs=1e-6)
        assert plan.battery_power_mw <= 4 + 1e-6 and plan.battery_energy_mwh <= 8 + 1e-6


GPU_HALL = {
    "it_load_mw": 1,
    "pue": 1.0,
    "contract": {
        "kind": "gpu_cloud",
        "usd_per_gpu_hour": 2.0,
        "gpu_count": 1000,
        "kw_per_gpu": 1.0,
    },
}


def gpu_site(gpu_cloud=None):
    site = toy_site(hpc=GPU_HALL)
    if gpu_cloud is None:
        return site
    sizing = site.sizing.model_copy(update={"gpu_cloud": GpuCloudTerms.model_validate(gpu_cloud)})
    return site.model_copy(update={"sizing": sizing})


def test_a_gpu_cloud_contract_is_paid_per_gpu_hour_served_on_the_sized_hall():
    """GPU cloud at 2 USD/GPU-hour, 1 kW per GPU, PUE 1, GPUs stated free (capex 0, no price
    decline, no opex): 2,000 USD per MWh served, far above mining, so HPC takes the 10 MW;
    revenue 2 x 1000 x 10 x 8760 a year."""
    free = {
        "gpu_capex_usd_per_gpu": 0,
        "price_decline_fraction_per_year": 0,
        "opex_usd_per_gpu_hour": 0,
    }
    planning = Planning(gpu_site(free))
    solution = optimize(planning, toy_days(planning.site), N_YEARS, OPTIONS)
    assert solution.plan.hpc_it_mw == pytest.approx(10.0)
    streams = dict(zip(solution.streams["stream"], solution.streams["usd_per_year"], strict=True))
    assert streams["hpc_contract"] == pytest.approx(2.0 * 1000 * 10 * 8760, rel=1e-9)
    site = planning.site_for(solution.plan)  # the GPU count follows the hall
    assert site.hpc.contract.gpu_count == 10_000


def test_a_gpu_hall_that_is_not_sized_buys_no_gpus():
    """Only the fleet is sized: the 1 MW GPU hall stands as it is, so no GPU is bought and the
    GPU opex is paid on its 1 MW (0.1 USD/GPU-hour x 1000 GPUs x 8760 h = 876,000 USD a year).
    Per year: 2 USD x 1000 GPU-hours x 8760 = 17,520,000 USD contract; nine containers mine the
    other 9 MW (60 x 40 x 365 = 876,000 USD per MW, the tenth retired: the 10 MW connection is
    full); energy 10 MW x 40 USD/MWh x 8760 h = 3,504,000 USD."""
    terms = {
        "gpu_capex_usd_per_gpu": 40_000,
        "price_decline_fraction_per_year": 0,
        "opex_usd_per_gpu_hour": 0.1,
    }
    sizing = {
        "discount_rate_fraction": 0.10,
        "mining": {"fixed_om_usd_per_mw_year": 0, "fleets": [{"name": "s19"}]},
        "gpu_cloud": terms,
    }
    planning = Planning(toy_site(hpc=GPU_HALL, sizing=sizing))
    solution = optimize(planning, toy_days(planning.site), N_YEARS, OPTIONS)
    assert solution.plan.hpc_it_mw == 1 and solution.plan.containers == {"s19": 9}
    costs = solution.costs.set_index("term")
    assert costs.loc["gpu_capex"].tolist() == [0, 0]  # capex_usd, usd_per_year
    assert costs.loc["gpu_opex", "usd_per_year"] == pytest.approx(876_000)
    expected = 17_520_000 + 9 * 876_000 - 3_504_000 - 876_000
    assert solution.objective_usd_per_year == pytest.approx(expected, rel=1e-9)


def test_the_solve_options_reach_the_sizing_solver(monkeypatch: pytest.MonkeyPatch, capfd):
    # the sizing MILP has its own HiGHS: the gap, presolve and the user's HiGHS options (as
    # `dispatch size --sizing-gap` passes them) reach it, and its log stays off the terminal
    made: list[Highs] = []

    def recording_highs() -> Highs:
        made.append(Highs())
        return made[-1]

    monkeypatch.setattr("dispatch.sizing.model.Highs", recording_highs)
    options = SolveOptions(
        mip_rel_gap=0.05, presolve="on", highs_options={"mip_heuristic_effort": 0.2}
    )
    planning = Planning(toy_site())
    solution = optimize(planning, toy_days(planning.site), N_YEARS, options)
    assert solution.status == "optimal"
    highs = made[0]._solver_model  # the highspy model behind Pyomo's interface
    names = ("mip_rel_gap", "presolve", "mip_heuristic_effort", "output_flag")
    assert {name: highs.getOptionValue(name)[1] for name in names} == {
        "mip_rel_gap": 0.05,
        "presolve": "on",
        "mip_heuristic_effort": 0.2,
        "output_flag": False,
    }
    assert capfd.readouterr().out == ""


def test_a_gpu_cloud_without_its_terms_is_warned_and_pays_for_its_gpus():
    """No sizing.gpu_cloud: a warning, and the default GPU economics (40,000 USD per GPU over a
    5-year refresh at 10 %, GPU-hours at 2 USD x the mean of 0.8^age over ages 0-4 = 0.67232,
    opex 0.1 USD per GPU-hour). Per MW IT and year (1,000 GPUs):
    11,779,046 revenue - 10,551,899 GPU capex - 876,000 opex - 350,400 energy - 162,745
    retrofit = -161,998 USD, below mining's 525,600: the hall stays empty. Free GPUs filled it."""
    with pytest.warns(InputWarning, match="sizing.gpu_cloud: not given"):
        planning = Planning(gpu_site())
    assert planning.gpu_price_factor == pytest.approx((1 + 0.8 + 0.64 + 0.512 + 0.4096) / 5)
    costs = planning.gpu_costs
    assert costs.capex_usd_per_it_mw == pytest.approx(40e6)
    assert costs.opex_usd_per_it_mw_year == pytest.approx(876_000)
    solution = optimize(planning, toy_days(planning.site), N_YEARS, OPTIONS)
    assert solution.plan.hpc_it_mw == pytest.approx(0.0, abs=1e-6)
    assert solution.plan.containers == {"s19": 10}
    hall = planning.grid_plan(10, 0)
    terms = costs_of(planning, hall).set_index("term")
    assert terms.loc["gpu_capex", "capex_usd"] == pytest.approx(10 * 40e6)
    assert terms.loc["gpu_capex", "usd_per_year"] == pytest.approx(
        10 * 40e6 * capital_recovery_factor(0.10, 5)
    )
    assert terms.loc["gpu_opex", "usd_per_year"] == pytest.approx(10 * 876_000)


def test_gpu_cloud_terms_without_a_capex_are_refused():
    with pytest.raises(InputError, match="gpu_capex_usd_per_gpu and gpu_capex_usd_per_it_mw"):
        load_site_text(gpu_site(), {"gpu_cloud": {"refresh_years": 5}})


def test_sized_days_keep_the_battery_from_charging_and_discharging_at_once():
    # At -50 USD/MWh a full battery that must end full can earn by charging and discharging at
    # once (burning energy as a heater) unless exclusivity holds. The day blocks get the lazy
    # exclusivity of dispatch: the optimum equals the model with the binary everywhere.
    battery = {
        "power_mw": 1,
        "energy_mwh": 1,
        "round_trip_efficiency": 0.81,
        "initial_soc_fraction": 1.0,
    }
    site = toy_site(battery=battery, mining=mining(fleet("s19", 1)), grid={"import_limit_mw": 30})
    planning = Planning(site)
    days = toy_days(planning.site, prices=[-50.0] * 24 * DAYS)
    lazy = optimize(planning, days, N_YEARS, OPTIONS).objective_usd_per_year
    m, _, terms = build_sizing_model(planning, days, N_YEARS)
    for term in terms:
        if term.enforce is not None:
            term.enforce(True)
    Highs().solve(m, rel_gap=1e-9, solver_options={"presolve": "off"})
    assert lazy == pytest.approx(pyo.value(m.net_usd_per_year), rel=1e-7)
