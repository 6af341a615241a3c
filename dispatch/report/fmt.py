"""Numbers as a reader wants them: thousands separated, units named, no ``NaN`` and no ``-0``.

Every number a report prints goes through here. Missing values (no basis, no HPC) print as an
em dash; values that round to zero print without a sign; negatives carry a real minus sign.
"""

from __future__ import annotations

import math

import numpy as np

MINUS = "\u2212"
MISSING = "\u2014"


def _missing(value: float | None) -> bool:
    return value is None or not math.isfinite(value)


def number(value: float | None, decimals: int = 0) -> str:
    """``-1234.5`` -> ``−1,235`` (decimals 0); ``None`` or NaN -> ``—``; ``-0.001`` -> ``0``."""
    if value is None or not math.isfinite(value):
        return MISSING
    rounded = round(float(value), decimals) + 0.0  # + 0.0: a rounded -0.0 becomes 0.0
    text = f"{abs(rounded):,.{decimals}f}"
    return MINUS + text if rounded < 0 else text


def _with_unit(value: float | None, text: str, unit: str) -> str:
    return text if _missing(value) else f"{text} {unit}"


def usd(value: float | None, decimals: int = 0) -> str:
    """``1234.5`` -> ``1,235 USD``."""
    return _with_unit(value, number(value, decimals), "USD")


def usd_compact(value: float | None) -> str:
    """Money at a glance: ``−70,020 USD``, ``182.58 M USD``, ``1.81 B USD``."""
    if value is None or not math.isfinite(value):
        return MISSING
    if abs(value) >= 1e9:
        return f"{number(value / 1e9, 2)} B USD"
    if abs(value) >= 1e6:
        return f"{number(value / 1e6, 2)} M USD"
    return usd(value)


def usd_per_mwh(value: float | None) -> str:
    """``142.4657`` -> ``142.47 USD/MWh``."""
    return _with_unit(value, number(value, 2), "USD/MWh")


def mwh(value: float | None, decimals: int = 1) -> str:
    """``2145.18`` -> ``2,145.2 MWh``."""
    return _with_unit(value, number(value, decimals), "MWh")


def percent(fraction: float | None, decimals: int = 2) -> str:
    """A fraction 0..1 as a percentage: ``0.68973`` -> ``68.97 %``."""
    if fraction is None or not math.isfinite(fraction):
        return MISSING
    return f"{number(100.0 * fraction, decimals)} %"


def seconds(value: float | None) -> str:
    """``0.7583`` -> ``0.76 s``."""
    return _with_unit(value, number(value, 2), "s")


def clean(values: object) -> np.ndarray:
    """Chart data: floats rounded to 1e-6 (solver noise such as ``-1e-12`` becomes 0) and no
    negative zero, so hover labels never read ``−0.0``."""
    return np.round(np.asarray(values, dtype=float), 6) + 0.0
