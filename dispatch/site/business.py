"""The planner's business terms in the ``sizing:`` section: the HPC contract as a business,
the construction schedule, the funding, and what is uncertain.

``hpc.contract`` (the site file) says what the hall earns in a dispatched day. These terms say
what it is worth over the analysis years: a colocation lease that ramps, escalates and may lose
its tenant, or a GPU cloud that buys and refreshes its GPUs and sells GPU-hours at a price that
falls with their age; when each route is energized; how much is borrowed; and the ranges the
Monte Carlo draws from. Every model is frozen and forbids unknown keys; cross-field checks
against the rest of the site are collected by :func:`business_problems`. No solver is imported.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, model_validator

from dispatch.site.base import (
    MAX_CAPEX_USD_PER_UNIT,
    CapexUsd,
    Fraction,
    PowerMw,
    Spec,
)

MAX_GPU_CAPEX_USD_PER_GPU = 1_000_000.0
"""GPU capex per GPU: 25 x an H100-class GPU with its share of server and network."""
MAX_USD_PER_GPU_HOUR = 1_000.0
"""The bound of ``hpc.contract.usd_per_gpu_hour``."""
MAX_GPU_CAPEX_FACTOR = 10.0
MAX_SEED = 2**63 - 1
MAX_PATHS = 100_000

Months = Annotated[int, Field(ge=0, le=600)]
Years = Annotated[int, Field(ge=1, le=50)]
Rate = Annotated[float, Field(ge=0, lt=1)]
CalendarYear = Annotated[int, Field(ge=2000, le=2100)]


def _pair(value: object) -> object:
    """A YAML list ``[low, high]`` as the tuple a range is (its numbers stay strict)."""
    if isinstance(value, list | tuple) and len(value) != 2:
        raise ValueError(f"expected [low, high], found {len(value)} numbers")
    return tuple(value) if isinstance(value, list) else value


Range = Annotated[tuple[float, float], BeforeValidator(_pair)]

# A GPU cloud with no stated GPU economics gets these, with a warning (never free GPUs).
# An H100-class 8-GPU server costs about 300,000-350,000 USD with its networking, and draws
# about 10.2 kW (docs/uncertainty.md, Contracts as businesses); 40,000 USD per GPU is that
# server per GPU plus cabling and switches. Refresh, decline, utilization and opex are our
# assumptions.
DEFAULT_GPU_CAPEX_USD_PER_GPU = 40_000.0


class ColocationTerms(Spec):
    """A colocation lease as a business. The tenant pays ``hpc.contract.usd_per_kw_month`` for
    the IT kW it has taken, escalated at each lease anniversary; it takes energized IT MW at
    ``ramp_it_mw_per_month``; it may leave (one tenant holds the whole hall)."""

    term_years: Years = Field(10, description="lease term; at its end the tenant renews or leaves")
    escalator_fraction_per_year: Fraction = Field(
        0.0, description="rent rises by this share at each lease anniversary"
    )
    ramp_it_mw_per_month: PowerMw | None = Field(
        None, description="IT MW the tenant takes per month once energized (default: at once)"
    )
    exit_probability_per_year: Fraction = Field(
        0.0, description="chance per year that the tenant leaves during its term (credit risk)"
    )
    renewal_probability_fraction: Fraction = Field(
        1.0, description="chance that the tenant renews at the end of a term"
    )
    relet_delay_months: Months = Field(12, description="months the hall stands empty after an exit")
    relet_discount_fraction: Fraction = Field(
        0.0, description="the next tenant pays this much less than the last one did"
    )


class GpuCloudTerms(Spec):
    """A GPU cloud as a business: the site buys GPUs for its IT MW (``hpc.contract.kw_per_gpu``
    each), refreshes them every ``refresh_years``, and sells ``utilization_fraction`` of their
    hours at ``hpc.contract.usd_per_gpu_hour`` for a new GPU, less
    ``price_decline_fraction_per_year`` for each year of its age."""

    gpu_capex_usd_per_gpu: float | None = Field(
        None,
        ge=0,
        le=MAX_GPU_CAPEX_USD_PER_GPU,
        description="GPU, server and network capex per GPU (or gpu_capex_usd_per_it_mw)",
    )
    gpu_capex_usd_per_it_mw: CapexUsd | None = Field(None, description="the same per MW of IT load")
    refresh_years: Years = Field(5, description="GPUs are replaced this often")
    price_decline_fraction_per_year: Fraction = Field(
        0.2, description="a GPU-hour of a GPU one year older sells for this much less"
    )
    utilization_fraction: Fraction = Field(0.7, description="share of GPU-hours sold")
    opex_usd_per_gpu_hour: float = Field(
        0.1,
        ge=0,
        le=MAX_USD_PER_GPU_HOUR,
        description="staff, network, support per installed GPU-hour (power is dispatched)",
    )

    @model_validator(mode="after")
    def _one_capex(self) -> GpuCloudTerms:
        given = [self.gpu_capex_usd_per_gpu, self.gpu_capex_usd_per_it_mw]
        if sum(v is not None for v in given) != 1:
            raise ValueError(
                "give exactly one of gpu_capex_usd_per_gpu and gpu_capex_usd_per_it_mw (a GPU "
                "cloud buys its GPUs; 0 says they cost nothing)"
            )
        return self

    def capex_usd_per_it_mw(self, kw_per_gpu: float) -> float:
        """GPU capex per MW of IT load [USD/MW]."""
        if self.gpu_capex_usd_per_it_mw is not None:
            return self.gpu_capex_usd_per_it_mw
        assert self.gpu_capex_usd_per_gpu is not None, "checked by _one_capex"
        return self.gpu_capex_usd_per_gpu * 1000.0 / kw_per_gpu


DEFAULT_GPU_CLOUD = GpuCloudTerms.model_validate(
    {"gpu_capex_usd_per_gpu": DEFAULT_GPU_CAPEX_USD_PER_GPU}
)


class Schedule(Spec):
    """Months from the decision to energization, per route: no revenue before, capex spread
    evenly over them. Retired containers stop at month 0 (their hall is being converted)."""

    retrofit_months: Months = Field(9, description="converting a mining hall to HPC")
    new_build_months: Months = Field(24, description="a new HPC hall")
    mining_months: Months = Field(3, description="new containers delivered and running")
    battery_months: Months = Field(6, description="added battery MW/MWh in service")


class Financing(Spec):
    """Funding: ``debt_fraction`` of every capex is borrowed when spent and repaid as a level
    annuity over ``debt_tenor_years`` from the next year; the rest is equity."""

    debt_fraction: Fraction = Field(0.0, description="share of capex borrowed")
    debt_rate_fraction: Rate = Field(0.08, description="interest rate per year")
    debt_tenor_years: Years = Field(10, description="repayment years of each draw")
    equity_discount_rate_fraction: Rate | None = Field(
        None, description="equity NPV rate (default: sizing.discount_rate_fraction)"
    )
    tax_rate_fraction: Fraction = Field(
        0.0, lt=1, description="income tax on EBITDA - depreciation (- interest for equity)"
    )
    terminal_value: Literal["book_value", "none"] = Field(
        "book_value",
        description="value left at the horizon: the straight-line book value of what was built",
    )


RANGE_BOUNDS: dict[str, tuple[float, float]] = {
    "network_hashrate_growth_fraction_per_year": (-0.99, 10.0),
    "fee_share_fraction": (0.0, 0.99),
    "hpc_new_build_capex_usd_per_mw": (0.0, MAX_CAPEX_USD_PER_UNIT),
    "hpc_retrofit_capex_usd_per_mw": (0.0, MAX_CAPEX_USD_PER_UNIT),
    "mining_capex_usd_per_mw": (0.0, MAX_CAPEX_USD_PER_UNIT),
    "gpu_capex_factor": (0.0, MAX_GPU_CAPEX_FACTOR),
    "gpu_price_decline_fraction_per_year": (0.0, 1.0),
    "gpu_utilization_fraction": (0.0, 1.0),
}
"""Where each range of :class:`Uncertainty` may lie."""


class Uncertainty(Spec):
    """What the Monte Carlo draws, per path. ``None`` ranges come from the bundled history or
    the market ranges (docs/uncertainty.md, What is uncertain)."""

    paths: int = Field(1000, ge=1, le=MAX_PATHS, description="Monte Carlo paths")
    seed: int = Field(2024, ge=0, le=MAX_SEED, description="the same seed gives the same paths")
    start_year: int | None = Field(
        None, ge=2000, le=2100, description="first analysis year (default: after the BTC data)"
    )
    price_years: list[CalendarYear] = Field(
        default_factory=lambda: [2021, 2022, 2023, 2024],
        min_length=1,
        max_length=100,
        description="power-price years each analysis year is drawn from (2021: Winter Storm Uri)",
    )
    btc_block_days: int = Field(30, ge=1, le=365, description="bootstrap block of daily returns")
    btc_drift_fraction_per_year: float | None = Field(
        None,
        gt=-1,
        le=10,
        description="re-centre BTC log-returns on this growth (default: as drawn)",
    )
    network_hashrate_growth_fraction_per_year: Range | None = Field(
        None, description="range of each path's network hashrate growth (default: history)"
    )
    fee_share_fraction: Range | None = Field(
        None, description="range of transaction fees' share of miner revenue at today's subsidy"
    )
    halving_dates: list[dt.date] | None = Field(
        None,
        max_length=20,
        description="future halvings (default: 210,000 ten-minute blocks apart)",
    )
    hpc_new_build_capex_usd_per_mw: Range | None = None
    hpc_retrofit_capex_usd_per_mw: Range | None = None
    mining_capex_usd_per_mw: Range | None = None
    gpu_capex_factor: Range = Field(
        (0.85, 1.15), description="GPU capex drawn within this multiple of its stated value"
    )
    gpu_price_decline_fraction_per_year: Range | None = Field(
        None, description="range of the GPU-hour price decline (default: the stated value)"
    )
    gpu_utilization_fraction: Range | None = Field(
        None, description="range of the GPU-hours sold (default: the stated value)"
    )
    hashprice_levels: int = Field(
        4, ge=2, le=20, description="hashprice levels each plan is dispatched at per price year"
    )
    days_per_year: int = Field(
        6, ge=1, le=366, description="tsam days per price year (spike, 4CP and DR days on top)"
    )
    spike_days_per_year: int = Field(
        3, ge=0, le=366, description="days of highest mean price kept as themselves per year"
    )
    mip_rel_gap: float = Field(
        1e-3, ge=0, lt=0.1, description="relative MIP gap of each day the value grid dispatches"
    )
    cvar_fraction: float = Field(0.05, gt=0, le=0.5, description="tail share of CVaR")
    cvar_weight_fraction: Fraction = Field(
        0.0, description="the recommendation maximizes (1 - w) x mean + w x CVaR of NPV"
    )

    @model_validator(mode="after")
    def _ordered_ranges(self) -> Uncertainty:
        for name, (lowest, highest) in RANGE_BOUNDS.items():
            bounds = getattr(self, name)
            if bounds is None:
                continue
            if not lowest <= bounds[0] <= bounds[1] <= highest:
                raise ValueError(
                    f"{name}: expected [low, high] with {lowest:g} <= low <= high <= "
                    f"{highest:g}, found {list(bounds)}"
                )
        if len(set(self.price_years)) != len(self.price_years):
            raise ValueError(f"price_years must not repeat, found {self.price_years}")
        return self
