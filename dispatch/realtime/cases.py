"""Names of the back-test's cases (plain strings in the output tables; no solver imported)."""

from __future__ import annotations

PERFECT_FORESIGHT = "perfect_foresight"
DA_PLAN_RT = "da_plan_rt"
OPERATOR = "operator"
BREAKEVEN = "breakeven"
CASES = (PERFECT_FORESIGHT, DA_PLAN_RT, OPERATOR, BREAKEVEN)
