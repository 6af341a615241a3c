"""Schedule column names of per-asset quantities, built in one place (and never parsed back)."""

from __future__ import annotations


def mining(fleet: str, quantity: str) -> str:
    """e.g. ``mining("s21", "containers_on")`` -> ``mining_s21_containers_on``."""
    return f"mining_{fleet}_{quantity}"


def generator(name: str, quantity: str) -> str:
    return f"generator_{name}_{quantity}"


def renewable(name: str, quantity: str) -> str:
    return f"renewable_{name}_{quantity}"


def ancillary(product: str, quantity: str) -> str:
    """e.g. ``ancillary("RRS", "offer_mw")`` -> ``rrs_offer_mw``."""
    return f"{product.lower()}_{quantity}"


def reserve_backing(product: str, block: str) -> str:
    """MW of a product's award a block carries: ``reserve_backing("ECRS", "battery")`` ->
    ``ecrs_backed_by_battery_mw``."""
    return f"{product.lower()}_backed_by_{block}_mw"


def dr_event(name: str, quantity: str) -> str:
    """e.g. ``dr_event("aug17", "curtailed_mw")`` -> ``dr_aug17_curtailed_mw``."""
    return f"dr_{name}_{quantity}"


def reserve_headroom(block: str) -> str:
    """Upward flexibility a block exposes to A1, e.g. ``reserve_headroom("battery")`` ->
    ``battery_reserve_headroom_mw`` (``block`` as named by ``dispatch.model.build.site_assets``)."""
    return f"{block}_reserve_headroom_mw"


# Site-level quantities of the couplings (H2, A1): names in dispatch.model.extract.coupling_columns.
RIDE_THROUGH_REQUIRED_MWH = "ride_through_required_mwh"
RESERVE_STORED_ENERGY_MWH = "reserve_stored_energy_mwh"
