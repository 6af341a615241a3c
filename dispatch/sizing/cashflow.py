"""Yearly cash flows: capex when spent, depreciation and book value, debt, taxes, and the
measures a planner reads (NPV, IRR, payback, DSCR).

Pure numpy, every array ``[paths, years]`` (USD, revenue positive, cost negative). Conventions
(docs/uncertainty.md, Time and Funding):

* **Timing.** Year k (1..N) collects its twelve months; its cash is discounted as if paid at its
  end, by (1 + r)^-k.
* **Capex** of a purchase is spent evenly over its construction months (all in its first month
  when it has none); it is in service from ``in_service`` and depreciates straight-line over
  its life from then. A purchase whose life ends inside the horizon is bought again then.
* **Terminal value** (``book_value``): the undepreciated cost of what is in service at the end
  of year N, received in year N. Existing assets are sunk: no capex, no book value.
* **Debt.** ``debt_fraction`` of each year's capex is drawn that year and repaid as a level
  annuity over ``debt_tenor_years`` from the next year; what is still owed at the horizon is
  repaid in year N (a balloon). Interest is paid on the balance at the start of each year.
* **Taxes** (``tax_rate_fraction``): on EBITDA − depreciation (project) or EBITDA −
  depreciation − interest (equity), losses carried forward; the terminal value is not taxed.
* **Project cash** = EBITDA + capex (negative) − project tax (+ terminal value in year N);
  **equity cash** = EBITDA + capex + draws − debt service − equity tax (+ terminal value −
  balloon in year N); **DSCR** = (EBITDA − equity tax) / debt service, in years with debt
  service, the balloon left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from dispatch.site.business import Financing
from dispatch.sizing.economics import CostTerm, capital_recovery_factor
from dispatch.sizing.timeline import yearly


@dataclass(frozen=True)
class Purchase:
    """One purchase of a capex term: ``quantity`` units (MW, MWh, or 1 for a lump sum) at the
    term's unit cost, spent evenly over ``spend_months`` months from ``spend_start``, in service
    from ``in_service`` for ``life_months`` months."""

    term: CostTerm
    quantity: float
    spend_start: int
    spend_months: int
    in_service: int
    life_months: int


@dataclass(frozen=True)
class Capex:
    """Capex of a plan on every path: per term yearly spending [paths, years] (negative),
    depreciation [paths, years] (positive) and the book value at the horizon [paths]."""

    by_term: dict[CostTerm, np.ndarray]
    depreciation: np.ndarray
    book_value: np.ndarray


def renewed(purchase: Purchase, n_months: int) -> list[Purchase]:
    """The purchase and its renewals: bought again, at once, when its life ends inside the
    horizon (the same quantity at the same unit cost)."""
    purchases = [purchase]
    month = purchase.in_service + purchase.life_months
    while month < n_months:
        purchases.append(
            Purchase(purchase.term, purchase.quantity, month, 0, month, purchase.life_months)
        )
        month += purchase.life_months
    return purchases


def capex(
    purchases: list[Purchase], unit_usd: Mapping[CostTerm, np.ndarray], n_paths: int, n_months: int
) -> Capex:
    """Spending, depreciation and book value of ``purchases`` with per-path unit costs
    ``unit_usd[term]`` [USD per unit]."""
    months = np.arange(n_months)
    spent: dict[CostTerm, np.ndarray] = {}
    depreciation = np.zeros((n_paths, n_months))
    book = np.zeros(n_paths)
    for purchase in purchases:
        amount = unit_usd[purchase.term] * purchase.quantity  # [paths]
        span = max(purchase.spend_months, 1)
        share = ((months >= purchase.spend_start) & (months < purchase.spend_start + span)) / span
        monthly = spent.setdefault(purchase.term, np.zeros((n_paths, n_months)))
        monthly -= amount[:, None] * share[None, :]
        life = purchase.life_months
        used = (months >= purchase.in_service) & (months < purchase.in_service + life)
        depreciation += amount[:, None] * used[None, :] / life
        left = max(0, purchase.in_service + life - n_months)
        book += amount * min(left, life) / life
    return Capex(
        {term: yearly(values) for term, values in spent.items()}, yearly(depreciation), book
    )


@dataclass(frozen=True)
class Finance:
    """A plan's funded cash flows on every path [paths, years], USD."""

    ebitda: np.ndarray
    capex: np.ndarray
    terminal_value: np.ndarray
    project_tax: np.ndarray
    equity_tax: np.ndarray
    draws: np.ndarray
    interest: np.ndarray
    principal: np.ndarray
    balloon: np.ndarray
    project_cash: np.ndarray
    equity_cash: np.ndarray

    @property
    def debt_service(self) -> np.ndarray:
        return self.interest + self.principal

    def min_dscr(self) -> np.ndarray:
        """Lowest DSCR per path over the years with debt service (NaN without debt)."""
        service = self.debt_service
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(service > 1e-6, (self.ebitda - self.equity_tax) / service, np.inf)
        lowest = ratio.min(axis=1)
        return np.where(np.isfinite(lowest), lowest, np.nan)


def taxes(taxable: np.ndarray, rate: float) -> np.ndarray:
    """Tax per year [paths, years] (positive) on ``taxable`` income, losses carried forward."""
    tax = np.zeros_like(taxable)
    carried = np.zeros(taxable.shape[0])
    for k in range(taxable.shape[1]):
        income = taxable[:, k]
        used = np.minimum(carried, np.maximum(income, 0.0))
        carried = carried + np.maximum(-income, 0.0) - used
        tax[:, k] = rate * np.maximum(income - used, 0.0)
    return tax


def fund(
    ebitda: np.ndarray,
    capex_usd: np.ndarray,
    depreciation: np.ndarray,
    terminal_usd: np.ndarray,
    financing: Financing,
) -> Finance:
    """Debt, taxes and the project and equity cash of yearly ``ebitda`` and ``capex_usd``
    (negative) [paths, years], with ``terminal_usd`` [paths] received in the last year."""
    n_paths, n_years = ebitda.shape
    rate, tenor = financing.debt_rate_fraction, financing.debt_tenor_years
    draws = -capex_usd * financing.debt_fraction
    interest = np.zeros_like(ebitda)
    principal = np.zeros_like(ebitda)
    owed = np.zeros(n_paths)  # balance at the end of the previous year
    payment = np.zeros((n_paths, n_years + tenor + 1))  # level payments, by year they are due
    crf = capital_recovery_factor(rate, tenor)
    for k in range(n_years):
        interest[:, k] = rate * owed
        principal[:, k] = payment[:, k] - interest[:, k]
        owed = owed - principal[:, k] + draws[:, k]
        payment[:, k + 1 : k + 1 + tenor] += (draws[:, k] * crf)[:, None]
    balloon = np.zeros_like(ebitda)
    balloon[:, -1] = owed
    terminal = np.zeros_like(ebitda)
    terminal[:, -1] = terminal_usd
    project_tax = taxes(ebitda - depreciation, financing.tax_rate_fraction)
    equity_tax = taxes(ebitda - depreciation - interest, financing.tax_rate_fraction)
    project_cash = ebitda + capex_usd - project_tax + terminal
    equity_cash = (
        ebitda + capex_usd + draws - interest - principal - equity_tax + terminal - balloon
    )
    return Finance(
        ebitda,
        capex_usd,
        terminal,
        project_tax,
        equity_tax,
        draws,
        interest,
        principal,
        balloon,
        project_cash,
        equity_cash,
    )


def npv(cash: np.ndarray, rate: float) -> np.ndarray:
    """Net present value per path [USD] of yearly cash [paths, years], end-of-year timing."""
    years = np.arange(1, cash.shape[-1] + 1)
    return cash @ (1.0 + rate) ** -years.astype(float)


def irr(cash: np.ndarray, low: float = -0.99, high: float = 10.0) -> np.ndarray:
    """Internal rate of return per path [-/year]: the rate in (``low``, ``high``) where the NPV
    of ``cash`` [paths, years] changes sign, by bisection; NaN where it does not (all cash of
    one sign, or a return outside the bracket). With several sign changes of the cash, the
    bisection finds one of the rates."""
    years = -np.arange(1, cash.shape[-1] + 1, dtype=float)
    lo = np.full(cash.shape[0], low)
    hi = np.full(cash.shape[0], high)
    f_lo, f_hi = npv(cash, low), npv(cash, high)
    found = np.sign(f_lo) * np.sign(f_hi) < 0
    rising = f_hi > f_lo
    while np.any(hi - lo > 1e-10):
        mid = (lo + hi) / 2.0
        value = (cash * (1.0 + mid[:, None]) ** years[None, :]).sum(axis=1)
        above = (value < 0) == rising  # the root lies above mid
        lo = np.where(above, mid, lo)
        hi = np.where(above, hi, mid)
    return np.where(found, (lo + hi) / 2.0, np.nan)


def payback_years(cash: np.ndarray) -> np.ndarray:
    """Years until the cumulative undiscounted ``cash`` [paths, years] is back to zero for good,
    interpolated within the year it turns (0 when it never goes negative; NaN when it is still
    negative at the horizon)."""
    cumulative = np.cumsum(cash, axis=1)
    result = np.full(cash.shape[0], np.nan)
    negative = cumulative < -1e-6
    never_negative = ~negative.any(axis=1)
    result[never_negative] = 0.0
    recovered = ~negative[:, -1] & ~never_negative
    for i in np.flatnonzero(recovered):
        last = int(np.flatnonzero(negative[i])[-1])  # last year ending below zero
        owed = -cumulative[i, last]
        result[i] = last + 1 + owed / cash[i, last + 1]
    return result
