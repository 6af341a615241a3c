"""A plan month by month: what is energized, what the tenant has taken, what the GPUs earn.

Pure numpy. Month ``m`` runs from ``m`` to ``m + 1`` months after the decision (month 0 is the
first); an analysis of N years has 12 N months. Quantities that depend on a Monte Carlo draw
(tenant exits, GPU-hour price decline, utilization) are arrays ``[paths, months]``; the build
itself is the same on every path.

Rules (docs/uncertainty.md, Time):

* **Energization.** Existing HPC is energized at month 0; retrofitted IT MW at
  ``retrofit_months``, new-build IT MW at ``new_build_months``. Added containers and added
  battery run from ``deploy_month`` (the later of the mining and battery months of what the
  plan adds); retired containers stop at month 0 (their hall is being converted).
* **Colocation lease.** One tenant leases the whole hall. It takes energized IT MW at
  ``ramp_it_mw_per_month`` from the month of energization (at once without a ramp); the
  existing hall is leased at month 0.
  Rent is ``usd_per_kw_month`` × the lease's rent factor, which rises by the escalator at each
  lease anniversary. In every month of a term the tenant leaves with probability
  1 − (1 − p)^(1/12) (``exit_probability_per_year`` p); at the end of each term it renews with
  ``renewal_probability_fraction``. After an exit the hall stands empty
  ``relet_delay_months``, then a new lease starts at the last rent × (1 − relet discount),
  ramping again from zero.
* **GPU cloud.** Each tranche (existing, retrofit, new build) buys its GPUs at energization and
  replaces them every ``refresh_years``; a GPU-hour sells at ``usd_per_gpu_hour`` ×
  (1 − decline)^(whole years of the GPU's age); ``utilization`` of the GPU-hours are sold.
* **Occupancy** (the share of the installed IT load drawing power): leased / installed IT
  (colocation); utilization × energized / installed IT (GPU cloud).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dispatch.site.business import ColocationTerms

MONTHS_PER_YEAR = 12
HOURS_PER_MONTH = 8760.0 / 12.0


@dataclass(frozen=True)
class Tranche:
    """HPC IT MW energized at ``month`` (existing: 0)."""

    it_mw: float
    month: int


def energized_it_mw(tranches: tuple[Tranche, ...], n_months: int) -> np.ndarray:
    """IT MW energized in each month [MW]."""
    months = np.arange(n_months)
    total = np.zeros(n_months)
    for tranche in tranches:
        total += np.where(months >= tranche.month, tranche.it_mw, 0.0)
    return total


def in_service(month: int, n_months: int) -> np.ndarray:
    """1 from ``month`` on, 0 before [-]."""
    return (np.arange(n_months) >= month).astype(float)


@dataclass(frozen=True)
class Lease:
    """A colocation lease on every path: IT MW leased [MW] and the rent factor [-] (rent is
    ``usd_per_kw_month`` × factor) per path and month; exits counted per path."""

    leased_it_mw: np.ndarray
    rent_factor: np.ndarray
    exits: np.ndarray


def monthly_hazard(probability_per_year: float) -> float:
    """Monthly exit probability that leaves ``1 - probability_per_year`` surviving a year."""
    return 1.0 - (1.0 - probability_per_year) ** (1.0 / MONTHS_PER_YEAR)


def lease(
    energized_mw: np.ndarray,
    existing_it_mw: float,
    terms: ColocationTerms,
    exit_draws: np.ndarray,
    renewal_draws: np.ndarray,
) -> Lease:
    """Simulate the tenant month by month on every path.

    Parameters
    ----------
    energized_mw
        IT MW energized per month [MW] (same on every path).
    existing_it_mw
        IT MW leased at month 0 (the hall as it stands) [MW].
    terms
        The lease terms.
    exit_draws, renewal_draws
        Uniform draws in [0, 1) per path and month: the tenant leaves in a month of its term
        when the exit draw is below the monthly hazard, and at a term's end when the renewal
        draw is at or above ``renewal_probability_fraction``.
    """
    n_paths, n_months = exit_draws.shape
    hazard = monthly_hazard(terms.exit_probability_per_year)
    term_months = terms.term_years * MONTHS_PER_YEAR
    ramp = np.inf if terms.ramp_it_mw_per_month is None else terms.ramp_it_mw_per_month
    leased = np.zeros((n_paths, n_months))
    factor = np.zeros((n_paths, n_months))
    exits = np.zeros(n_paths, dtype=int)
    taken = np.full(n_paths, float(existing_it_mw))  # the hall as it stands is leased
    start = np.full(n_paths, -1)  # month the current lease began; -1: none yet
    base = np.ones(n_paths)  # rent factor at the current lease's start
    empty_until = np.full(n_paths, -1)  # vacant before this month after an exit
    for m in range(n_months):
        if energized_mw[m] <= 0:
            continue
        starting = (start < 0) & (empty_until < 0)  # the first lease starts when power does
        relet = (empty_until == m) & (start < 0)
        start = np.where(starting | relet, m, start)
        empty_until = np.where(relet, -1, empty_until)
        active = start >= 0
        age = m - start
        term_end = active & (age > 0) & (age % term_months == 0)
        leaves = (term_end & (renewal_draws[:, m] >= terms.renewal_probability_fraction)) | (
            active & ~term_end & (exit_draws[:, m] < hazard)
        )
        if leaves.any():
            exits += leaves
            escalated = base * (1.0 + terms.escalator_fraction_per_year) ** (age // 12)
            base = np.where(leaves, escalated * (1.0 - terms.relet_discount_fraction), base)
            start = np.where(leaves, -1, start)
            empty_until = np.where(leaves, m + terms.relet_delay_months, empty_until)
            taken = np.where(leaves, 0.0, taken)
            if terms.relet_delay_months == 0:  # the next tenant signs in the same month
                start = np.where(leaves, m, start)
                empty_until = np.where(leaves, -1, empty_until)
        active = start >= 0
        taken = np.where(active, np.minimum(energized_mw[m], taken + ramp), 0.0)
        leased[:, m] = taken
        age = np.maximum(m - start, 0)
        factor[:, m] = np.where(
            active, base * (1.0 + terms.escalator_fraction_per_year) ** (age // 12), 0.0
        )
    return Lease(leased, factor, exits)


def gpu_hour_revenue_usd(
    tranches: tuple[Tranche, ...],
    kw_per_gpu: float,
    usd_per_gpu_hour: float,
    refresh_years: int,
    decline: np.ndarray,
    utilization: np.ndarray,
    n_months: int,
) -> np.ndarray:
    """GPU-hours sold per path and month [USD]: each tranche's GPUs × hours × utilization ×
    price × (1 − decline)^(whole years since the tranche's last GPU purchase).

    ``decline`` and ``utilization`` are per path [-].
    """
    months = np.arange(n_months)
    revenue = np.zeros((len(decline), n_months))
    refresh_months = refresh_years * MONTHS_PER_YEAR
    for tranche in tranches:
        since = months - tranche.month
        on = since >= 0
        age_years = np.where(on, (since % refresh_months) // MONTHS_PER_YEAR, 0)
        gpus = tranche.it_mw * 1000.0 / kw_per_gpu
        price = usd_per_gpu_hour * (1.0 - decline[:, None]) ** age_years[None, :]
        revenue += np.where(on, gpus * HOURS_PER_MONTH * utilization[:, None] * price, 0.0)
    return revenue


def gpu_purchase_months(tranche: Tranche, refresh_years: int, n_months: int) -> list[int]:
    """Months a tranche buys GPUs: at energization (not for the existing hall, whose GPUs are
    there) and at every refresh within the horizon."""
    step = refresh_years * MONTHS_PER_YEAR
    first = tranche.month if tranche.month > 0 else step
    return list(range(first, n_months, step))


def yearly(monthly: np.ndarray) -> np.ndarray:
    """Sum months into years along the last axis (12 N months -> N years)."""
    shape = (*monthly.shape[:-1], monthly.shape[-1] // MONTHS_PER_YEAR, MONTHS_PER_YEAR)
    return monthly.reshape(shape).sum(axis=-1)
