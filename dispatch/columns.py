"""Schedule column names of per-asset quantities, built in one place (and never parsed back)."""

from __future__ import annotations


def mining(fleet: str, quantity: str) -> str:
    """e.g. ``mining("s21", "containers_on")`` -> ``mining_s21_containers_on``."""
    return f"mining_{fleet}_{quantity}"


def generator(name: str, quantity: str) -> str:
    return f"generator_{name}_{quantity}"


def renewable(name: str, quantity: str) -> str:
    return f"renewable_{name}_{quantity}"
