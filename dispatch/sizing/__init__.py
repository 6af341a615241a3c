"""Sizing: how many MW go to HPC (new build or retrofit) and to mining, over real price history.

``dispatch.sizing.size`` is imported lazily so that the schema (:mod:`dispatch.site.sizing`),
which the site file uses, never pulls in the solver.
"""

from __future__ import annotations

from typing import Any

__all__ = ["size"]


def __getattr__(name: str) -> Any:
    if name == "size":
        from dispatch.sizing.api import size

        return size
    raise AttributeError(f"module 'dispatch.sizing' has no attribute {name!r}")
