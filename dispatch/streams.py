"""The money streams: the only place stream names exist.

Each stream is signed in the objective (revenue positive, cost negative) and is measured against a
basis in MWh (or MW-h offered), so every line of the streams table reads as USD and USD/MWh.

Two-settlement models (see :mod:`dispatch.model.settlement`) replace ``grid_energy_purchase``,
``grid_energy_sale`` and ``power_credits`` by ``da_energy`` (the hourly day-ahead position at
the DAM price), ``rt_deviation`` (metered net position minus the day-ahead position at the
real-time price; both signed, bought positive in the basis) and ``grid_import_adder``, and add
``ancillary_failure`` (awarded capacity that could not be held, charged back at the DAM price).
"""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    REVENUE = "revenue"
    COST = "cost"


class Stream(StrEnum):
    """A named revenue or cost line. ``basis`` says what its MWh column measures."""

    HPC_CONTRACT = "hpc_contract"
    HPC_POWER_PASS_THROUGH = "hpc_power_pass_through"
    HPC_SLA_PENALTY = "hpc_sla_penalty"
    HPC_DEFERRAL = "hpc_deferral"
    MINING_HASHPRICE = "mining_hashprice"
    MINING_STARTUPS = "mining_startups"
    HEAT_SALES = "heat_sales"
    ANCILLARY_REGUP = "ancillary_regup"
    ANCILLARY_RRS = "ancillary_rrs"
    ANCILLARY_ECRS = "ancillary_ecrs"
    ANCILLARY_NSPIN = "ancillary_nspin"
    ANCILLARY_DEPLOYMENT = "ancillary_deployment"
    ANCILLARY_FAILURE = "ancillary_failure"
    DR_EVENTS = "dr_events"
    GRID_ENERGY_PURCHASE = "grid_energy_purchase"
    GRID_ENERGY_SALE = "grid_energy_sale"
    GRID_IMPORT_ADDER = "grid_import_adder"
    DA_ENERGY = "da_energy"
    RT_DEVIATION = "rt_deviation"
    PPA_ENERGY = "ppa_energy"
    POWER_CREDITS = "power_credits"
    COINCIDENT_PEAK = "coincident_peak"
    DEMAND_CHARGE = "demand_charge"
    FUEL = "fuel"
    GENERATOR_STARTUPS = "generator_startups"
    BATTERY_DEGRADATION = "battery_degradation"

    @property
    def kind(self) -> Kind:
        return Kind.COST if self in _COSTS else Kind.REVENUE

    @property
    def basis(self) -> str:
        """What the stream's ``basis_mwh`` measures."""
        return _BASIS[self]


_COSTS = frozenset(
    {
        Stream.HPC_SLA_PENALTY,
        Stream.HPC_DEFERRAL,
        Stream.MINING_STARTUPS,
        Stream.ANCILLARY_DEPLOYMENT,
        Stream.GRID_ENERGY_PURCHASE,
        Stream.GRID_IMPORT_ADDER,
        Stream.DA_ENERGY,  # signed: a day-ahead sale is a negative cost
        Stream.RT_DEVIATION,
        Stream.ANCILLARY_FAILURE,
        Stream.PPA_ENERGY,
        Stream.COINCIDENT_PEAK,
        Stream.DEMAND_CHARGE,
        Stream.FUEL,
        Stream.GENERATOR_STARTUPS,
        Stream.BATTERY_DEGRADATION,
    }
)

_BASIS = {
    Stream.HPC_CONTRACT: "HPC facility energy served",
    Stream.HPC_POWER_PASS_THROUGH: "HPC facility energy served",
    Stream.HPC_SLA_PENALTY: "HPC energy not served",
    Stream.HPC_DEFERRAL: "flexible HPC energy deferred",
    Stream.MINING_HASHPRICE: "mining energy",
    Stream.MINING_STARTUPS: "mining energy",
    Stream.HEAT_SALES: "heat sold (MWh thermal)",
    Stream.ANCILLARY_REGUP: "MW-h offered",
    Stream.ANCILLARY_RRS: "MW-h offered",
    Stream.ANCILLARY_ECRS: "MW-h offered",
    Stream.ANCILLARY_NSPIN: "MW-h offered",
    Stream.ANCILLARY_DEPLOYMENT: "expected energy deployed",
    Stream.ANCILLARY_FAILURE: "MW-h awarded but not deliverable",
    Stream.DR_EVENTS: "energy curtailed against the baseline",
    Stream.GRID_ENERGY_PURCHASE: "grid import",
    Stream.GRID_ENERGY_SALE: "grid export",
    Stream.GRID_IMPORT_ADDER: "grid import beyond the PPA block",
    Stream.DA_ENERGY: "day-ahead position (bought positive)",
    Stream.RT_DEVIATION: "real-time deviation from the position (bought positive)",
    Stream.PPA_ENERGY: "PPA block energy",
    Stream.POWER_CREDITS: "PPA energy resold",
    Stream.COINCIDENT_PEAK: "grid import",
    Stream.DEMAND_CHARGE: "grid import",
    Stream.FUEL: "generator output",
    Stream.GENERATOR_STARTUPS: "generator output",
    Stream.BATTERY_DEGRADATION: "battery discharge",
}

_ANCILLARY = {
    "REGUP": Stream.ANCILLARY_REGUP,
    "RRS": Stream.ANCILLARY_RRS,
    "ECRS": Stream.ANCILLARY_ECRS,
    "NSPIN": Stream.ANCILLARY_NSPIN,
}


def ancillary_stream(product: str) -> Stream:
    """The stream of an ancillary product (``"RRS"`` -> :attr:`Stream.ANCILLARY_RRS`)."""
    return _ANCILLARY[product]


ANCILLARY_STREAMS = (*_ANCILLARY.values(), Stream.ANCILLARY_DEPLOYMENT, Stream.ANCILLARY_FAILURE)
"""Every stream of ancillary money: the capacity payments, what deployments cost and the awards
failed back in real time (T4)."""
