"""Cash flows of a plan recomputed by hand: one year of a small retrofit, the funding over three
years, a tenant who leaves, GPUs that age and are refreshed, and the measures (NPV, IRR,
payback, DSCR). Pure numpy, no solver: operations come in as known numbers."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import fleet, make_site, mining

from dispatch.site.business import ColocationTerms, Financing
from dispatch.sizing.cashflow import Purchase, capex, fund, irr, npv, payback_years, renewed
from dispatch.sizing.economics import CostTerm, capital_recovery_factor
from dispatch.sizing.ledger import Operations, ledger
from dispatch.sizing.paths import Draws, Horizon
from dispatch.sizing.plan import Planning
from dispatch.sizing.timeline import Tranche, gpu_hour_revenue_usd, lease
from dispatch.streams import Stream


def one_year_site():
    return make_site(
        grid={"import_limit_mw": 10},
        hpc={
            "it_load_mw": 1,
            "pue": 1.0,
            "contract": {"kind": "colocation", "usd_per_kw_month": 100},
        },
        mining=mining(fleet("s19", 10)),
        sizing={
            "discount_rate_fraction": 0.10,
            "analysis_years": 1,
            "hpc": {
                "max_it_mw": 10,
                "retrofit": {"capex_usd_per_mw": 1e6, "life_years": 10},
                "new_build": {"capex_usd_per_mw": 3e6, "life_years": 10, "max_it_mw": 0},
            },
            "mining": {"fleets": [{"name": "s19"}]},
            "schedule": {"retrofit_months": 3},
            "colocation": {"ramp_it_mw_per_month": 1},
            "financing": {
                "debt_fraction": 0.5,
                "debt_rate_fraction": 0.10,
                "debt_tenor_years": 1,
                "tax_rate_fraction": 0.2,
            },
        },
    )


def one_path_draws(n_months: int) -> Draws:
    return Draws(
        log_btc=np.zeros((1, 1)),
        hashrate_growth=np.zeros(1),
        fee_share=np.zeros(1),
        price_year=np.zeros((1, n_months // 12), dtype=int),
        capex_unit={
            CostTerm.HPC_RETROFIT_CAPEX: np.array([1e6]),
            CostTerm.HPC_NEW_BUILD_CAPEX: np.array([3e6]),
            CostTerm.MINING_CAPEX: np.array([4e6]),
        },
        gpu_decline=np.zeros(1),
        gpu_utilization=np.ones(1),
        exit_draws=np.full((1, n_months), 0.5),
        renewal_draws=np.full((1, n_months), 0.5),
    )


def test_one_year_of_a_retrofit_recomputed_by_hand():
    """1 MW IT leased today at 100 USD/kW-month; 2 of 10 one-MW containers retired at month 0
    and their hall retrofitted (1 M USD/MW, 3 months, 10-year life) into 2 MW IT, which the
    tenant takes at 1 MW a month. Dispatch (given): mining 1,000,000, grid -300,000 with the hall
    empty, and a full 3 MW hall adds -200,000 of grid energy a year.

    Leased MW-months: 1 x 3 (months 0-2) + 2 (month 3) + 3 x 8 = 29 -> rent 2,900,000;
    occupancy 29 / 12 / 3; grid -300,000 + 29/36 x -200,000; HPC O&M 150,000/12 x (1 x 3 + 3 x 9)
    = 375,000; mining O&M 40,000 x 8 MW = 320,000; capex 2,000,000 in months 0-2, depreciated
    from month 3: 9/120 x 2 M = 150,000, book value 111/120 x 2 M = 1,850,000 at the end.
    Half the capex is borrowed in year 1 and still owed at the horizon (the balloon)."""
    planning = Planning(one_year_site())
    plan = planning.grid_plan(3, 8)
    assert (plan.hpc_retrofit_it_mw, plan.containers["s19"]) == (2, 8)
    streams = (Stream.MINING_HASHPRICE, Stream.GRID_ENERGY_PURCHASE)
    operations = Operations(
        streams,
        site=np.array([[[1_000_000.0, -300_000.0]]]),
        deployment=np.zeros((1, 1, 2)),
        hall=np.array([[[0.0, -200_000.0]]]),
    )
    money = ledger(planning, plan, Horizon(2026, 1), one_path_draws(12), operations)
    items = {k: float(v[0, 0]) for k, v in money.items.items()}
    grid = -300_000 + 29 / 36 * -200_000
    assert items["hpc_contract"] == pytest.approx(2_900_000)
    assert items["mining_hashprice"] == pytest.approx(1_000_000)
    assert items["grid_energy_purchase"] == pytest.approx(grid)
    assert items["hpc_fixed_om"] == pytest.approx(-375_000)
    assert items["mining_fixed_om"] == pytest.approx(-320_000)
    assert items["hpc_retrofit_capex"] == pytest.approx(-2_000_000)
    ebitda = 2_900_000 + 1_000_000 + grid - 375_000 - 320_000
    tax = 0.2 * (ebitda - 150_000)
    finance = money.finance
    assert finance.ebitda[0, 0] == pytest.approx(ebitda)
    assert finance.project_tax[0, 0] == pytest.approx(tax)
    assert finance.terminal_value[0, 0] == pytest.approx(1_850_000)
    assert finance.draws[0, 0] == pytest.approx(1_000_000)
    assert finance.balloon[0, 0] == pytest.approx(1_000_000)
    project = ebitda - 2_000_000 - tax + 1_850_000
    assert finance.project_cash[0, 0] == pytest.approx(project)
    assert finance.equity_cash[0, 0] == pytest.approx(project + 1_000_000 - 1_000_000)
    assert npv(finance.project_cash, 0.10)[0] == pytest.approx(project / 1.1)
    assert money.occupancy[0, 0] == pytest.approx(29 / 36)


def test_funding_over_three_years_by_hand():
    """EBITDA 100 a year, capex 200 in year 1 (half borrowed at 10 % over 2 years: payments of
    100 x CRF = 57.619 in years 2 and 3), depreciation 20 a year, terminal value 140."""
    ebitda = np.array([[100.0, 100.0, 100.0]])
    spent = np.array([[-200.0, 0.0, 0.0]])
    depreciation = np.full((1, 3), 20.0)
    financing = Financing.model_validate(
        {
            "debt_fraction": 0.5,
            "debt_rate_fraction": 0.1,
            "debt_tenor_years": 2,
            "tax_rate_fraction": 0.25,
        }
    )
    finance = fund(ebitda, spent, depreciation, np.array([140.0]), financing)
    payment = 100 * capital_recovery_factor(0.1, 2)
    assert payment == pytest.approx(57.6190476)
    assert finance.interest[0] == pytest.approx([0, 10, 10 - 0.1 * (payment - 10)])
    assert finance.debt_service[0] == pytest.approx([0, payment, payment])
    assert finance.balloon[0] == pytest.approx([0, 0, 0], abs=1e-9)
    assert finance.project_tax[0] == pytest.approx([20, 20, 20])
    interest = finance.interest[0]
    assert finance.equity_tax[0] == pytest.approx(0.25 * (80 - interest))
    assert finance.equity_cash[0] == pytest.approx(
        [
            100 - 200 + 100 - 20,
            100 - payment - finance.equity_tax[0, 1],
            100 - payment - finance.equity_tax[0, 2] + 140,
        ]
    )
    # year 3 pays less interest, so more tax: its DSCR is the lower one
    assert finance.min_dscr()[0] == pytest.approx((100 - finance.equity_tax[0, 2]) / payment)
    assert finance.equity_tax[0, 2] == pytest.approx(0.25 * (80 - 0.1 * (200 / 2 - (payment - 10))))


def test_losses_are_carried_forward_before_tax_is_paid():
    finance = fund(
        np.array([[-50.0, 100.0, 100.0]]),
        np.zeros((1, 3)),
        np.zeros((1, 3)),
        np.zeros(1),
        Financing.model_validate({"tax_rate_fraction": 0.25}),
    )
    assert finance.project_tax[0] == pytest.approx([0, 12.5, 25])


def test_npv_irr_and_payback_by_hand():
    cash = np.array([[-100.0, 121.0], [-100.0, 0.0], [10.0, 10.0]])
    assert irr(cash)[0] == pytest.approx(0.21, abs=1e-8)  # -100/(1+r) + 121/(1+r)^2 = 0
    assert np.isnan(irr(cash)[1:]).all()  # never returns; never invests
    assert npv(cash, 0.1)[0] == pytest.approx(-100 / 1.1 + 121 / 1.21)
    paid = payback_years(np.array([[-200.0, 100.0, 150.0], [-1.0, 0.0, 0.0], [5.0, 5.0, 5.0]]))
    assert paid[0] == pytest.approx(2 + 100 / 150)
    assert np.isnan(paid[1]) and paid[2] == 0.0


def test_a_purchase_is_renewed_when_its_life_ends_inside_the_horizon():
    first = Purchase(CostTerm.MINING_CAPEX, 2.0, 0, 3, 3, 60)
    purchases = renewed(first, 120)
    assert [(p.spend_start, p.in_service) for p in purchases] == [(0, 3), (63, 63)]
    spent = capex(purchases, {CostTerm.MINING_CAPEX: np.array([4e6])}, 1, 120)
    assert spent.by_term[CostTerm.MINING_CAPEX][0, 0] == pytest.approx(-8e6)
    assert spent.by_term[CostTerm.MINING_CAPEX][0, 5] == pytest.approx(-8e6)  # month 63: year 6
    assert spent.book_value[0] == pytest.approx(8e6 * (63 + 60 - 120) / 60)
    assert spent.depreciation.sum() == pytest.approx(8e6 + 8e6 * 57 / 60)


def test_a_tenant_who_does_not_renew_leaves_the_hall_empty_then_a_cheaper_one_ramps_in():
    """2 MW leased, 1-year terms, 5 % escalator. At month 12 the renewal draw 0.7 >= 0.5: the
    tenant leaves; the hall is empty 3 months; from month 15 a new tenant pays the last rent
    (1.05) less 20 % = 0.84, ramping 1 MW a month, and renews at month 27 (draw 0.1), its rent
    escalated to 0.882 from month 27. A second path loses its tenant mid-term, in month 5."""
    terms = ColocationTerms.model_validate(
        {
            "term_years": 1,
            "escalator_fraction_per_year": 0.05,
            "ramp_it_mw_per_month": 1,
            "exit_probability_per_year": 0.1,
            "renewal_probability_fraction": 0.5,
            "relet_delay_months": 3,
            "relet_discount_fraction": 0.2,
        }
    )
    n = 36
    exits = np.full((2, n), 0.9)
    exits[1, 5] = 0.0  # below the monthly hazard
    renewals = np.full((2, n), 0.1)
    renewals[0, 12] = 0.7
    found = lease(np.full(n, 2.0), 2.0, terms, exits, renewals)
    leased, factor = found.leased_it_mw[0], found.rent_factor[0]
    assert leased[:12] == pytest.approx([2] * 12)
    assert leased[12:15] == pytest.approx([0, 0, 0])
    assert leased[15:18] == pytest.approx([1, 2, 2])
    assert factor[:12] == pytest.approx([1] * 12)
    assert factor[15:27] == pytest.approx([0.84] * 12)
    assert factor[27:] == pytest.approx([0.84 * 1.05] * 9)
    assert found.exits.tolist() == [1, 1]
    assert found.leased_it_mw[1, 5:8] == pytest.approx([0, 0, 0])
    assert found.rent_factor[1, 8] == pytest.approx(0.8)  # no anniversary yet: 1 x (1 - 0.2)


def test_gpu_hours_sell_for_less_as_the_gpus_age_and_full_price_after_a_refresh():
    """1 MW IT at 1 kW per GPU: 1,000 GPUs x 730 h a month x 80 % sold x 2 USD x 0.9^age;
    the GPUs are replaced every 2 years."""
    revenue = gpu_hour_revenue_usd(
        (Tranche(1.0, 0),), 1.0, 2.0, 2, np.array([0.1]), np.array([0.8]), 48
    )[0]
    month = 1000 * 730 * 0.8 * 2.0
    assert revenue[0] == pytest.approx(month)
    assert revenue[12] == pytest.approx(month * 0.9)
    assert revenue[24] == pytest.approx(month)  # refreshed
    assert revenue[47] == pytest.approx(month * 0.9)
