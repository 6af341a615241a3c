"""Money of a plan apart from operations: capex, its capital recovery, fixed O&M, NPV, payback.

Pure functions. :func:`cost_terms` is linear in the sizes, so the sizing model calls it on Pyomo
variables (its objective terms) and the sweep on numbers: one formula, counted once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from dispatch.site.sizing import Sizing


class CostTerm(StrEnum):
    """A named cost of a plan; every one enters the objective as USD/year (negative)."""

    HPC_NEW_BUILD_CAPEX = "hpc_new_build_capex"
    HPC_RETROFIT_CAPEX = "hpc_retrofit_capex"
    MINING_CAPEX = "mining_capex"
    BATTERY_CAPEX = "battery_capex"
    HPC_FIXED_OM = "hpc_fixed_om"
    MINING_FIXED_OM = "mining_fixed_om"
    BATTERY_FIXED_OM = "battery_fixed_om"
    GPU_CAPEX = "gpu_capex"
    GPU_OPEX = "gpu_opex"

    @property
    def is_capex(self) -> bool:
        return self.value.endswith("_capex")


def capital_recovery_factor(rate_fraction: float, life_years: int) -> float:
    """Capital recovery factor [1/year]: the level annual payment that repays 1 USD over
    ``life_years`` at ``rate_fraction``: r(1+r)^n / ((1+r)^n - 1), or 1/n at r = 0."""
    if rate_fraction == 0:
        return 1.0 / life_years
    growth = (1.0 + rate_fraction) ** life_years
    return rate_fraction * growth / (growth - 1.0)


def annuity_factor(rate_fraction: float, years: int) -> float:
    """Present value [USD] of 1 USD a year for ``years`` years: (1 - (1+r)^-n) / r, or n at 0."""
    if rate_fraction == 0:
        return float(years)
    return (1.0 - (1.0 + rate_fraction) ** -years) / rate_fraction


@dataclass(frozen=True)
class Sizes:
    """The capacities money depends on: numbers for a plan, Pyomo expressions in the model.

    IT MW [MW] (HPC), nominal container MW [MW] (mining), power [MW] and energy [MWh]
    (battery); ``*_added_*`` is what is built (capex), the rest what is installed (O&M).
    """

    hpc_new_build_it_mw: Any = 0.0
    hpc_retrofit_it_mw: Any = 0.0
    hpc_it_mw: Any = 0.0
    mining_added_mw: Any = 0.0
    mining_mw: Any = 0.0
    battery_added_power_mw: Any = 0.0
    battery_added_energy_mwh: Any = 0.0
    battery_power_mw: Any = 0.0


@dataclass(frozen=True)
class GpuCosts:
    """A GPU cloud's own costs per MW of IT load: GPUs bought for added IT [USD/MW], renewed
    every ``refresh_years``, and opex on every installed IT MW [USD/MW-year]."""

    capex_usd_per_it_mw: float
    refresh_years: int
    opex_usd_per_it_mw_year: float


@dataclass(frozen=True)
class Cost:
    """One cost term: overnight capex [USD] (0 for O&M) and what it costs a year [USD/year]."""

    capex_usd: Any
    usd_per_year: Any


def cost_terms(spec: Sizing, sizes: Sizes, gpu: GpuCosts | None = None) -> dict[CostTerm, Cost]:
    """Capex (annualized by the capital recovery factor of its life) and fixed O&M per term.

    Only the decisions the sizing section makes free carry a term; O&M is paid on everything
    installed (existing included, so plans compare on the same footing). A GPU cloud (``gpu``)
    buys GPUs for the IT it adds, renewed over ``refresh_years``, and pays GPU opex on all of it.
    """
    rate = spec.discount_rate_fraction
    terms: dict[CostTerm, Cost] = {}

    def capex(term: CostTerm, usd: Any, life_years: int) -> None:
        terms[term] = Cost(usd, usd * capital_recovery_factor(rate, life_years))

    if spec.hpc is not None:
        new, retro = spec.hpc.new_build, spec.hpc.retrofit
        capex(
            CostTerm.HPC_NEW_BUILD_CAPEX,
            new.capex_usd_per_mw * sizes.hpc_new_build_it_mw,
            new.life_years,
        )
        capex(
            CostTerm.HPC_RETROFIT_CAPEX,
            retro.capex_usd_per_mw * sizes.hpc_retrofit_it_mw,
            retro.life_years,
        )
        om = spec.hpc.fixed_om_usd_per_mw_year * sizes.hpc_it_mw
        terms[CostTerm.HPC_FIXED_OM] = Cost(0.0, om)
    if gpu is not None:
        added_it_mw = sizes.hpc_new_build_it_mw + sizes.hpc_retrofit_it_mw
        capex(CostTerm.GPU_CAPEX, gpu.capex_usd_per_it_mw * added_it_mw, gpu.refresh_years)
        terms[CostTerm.GPU_OPEX] = Cost(0.0, gpu.opex_usd_per_it_mw_year * sizes.hpc_it_mw)
    if spec.mining is not None:
        mining = spec.mining
        capex(
            CostTerm.MINING_CAPEX,
            mining.capex_usd_per_mw * sizes.mining_added_mw,
            mining.life_years,
        )
        terms[CostTerm.MINING_FIXED_OM] = Cost(
            0.0, mining.fixed_om_usd_per_mw_year * sizes.mining_mw
        )
    if spec.battery is not None:
        battery = spec.battery
        usd = (
            battery.capex_usd_per_mw * sizes.battery_added_power_mw
            + battery.capex_usd_per_mwh * sizes.battery_added_energy_mwh
        )
        capex(CostTerm.BATTERY_CAPEX, usd, battery.life_years)
        terms[CostTerm.BATTERY_FIXED_OM] = Cost(
            0.0, battery.fixed_om_usd_per_mw_year * sizes.battery_power_mw
        )
    return terms


def npv_usd(spec: Sizing, net_usd_per_year: float) -> float:
    """NPV [USD] over ``analysis_years``: the annuity of the net annual value (operations − fixed
    O&M − annualized capex). With asset lives equal to the horizon this is exactly
    −capex + PV(operations − O&M); longer lives leave residual value, shorter ones are renewed."""
    return annuity_factor(spec.discount_rate_fraction, spec.analysis_years) * net_usd_per_year


def payback_years(capex_usd: float, gain_usd_per_year: float) -> float | None:
    """Simple payback [years] of ``capex_usd`` from a yearly cash gain over the business-as-usual
    case (operations − fixed O&M); ``None`` if there is no gain, 0 without capex."""
    if capex_usd <= 0:
        return 0.0
    if gain_usd_per_year <= 0 or not math.isfinite(gain_usd_per_year):
        return None
    return capex_usd / gain_usd_per_year
