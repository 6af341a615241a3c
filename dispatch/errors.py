"""The one exception type for user mistakes.

Anything a user can fix by editing a site file, a data file or a command-line argument raises
:class:`InputError` with a message that names the file, field or row and says what was expected
and what was found. The CLI turns it into one line on stderr and exit code 2.
"""

from __future__ import annotations

from collections.abc import Sequence


class InputError(ValueError):
    """A user mistake in a site file, a data file or an argument (message is user-facing)."""


class SolveError(RuntimeError):
    """The solver returned no usable schedule (infeasible, or no incumbent at the time limit)."""


class InputWarning(UserWarning):
    """Data that is used as given but deserves a look (e.g. prices above the ERCOT offer cap)."""


def no_schedule(site_name: str, kind: str, index: Sequence[object]) -> str:
    """Why a solve of ``site_name`` over the intervals ``index`` has no schedule; ``kind`` is
    "infeasible", "time_limit" or the solver's own status."""
    span = f"{index[0]} to {index[-1]}"
    if kind == "infeasible":
        return (
            f"site {site_name!r} has no feasible schedule over {span}: check that generators "
            "can follow the load at their min stable output and min up/down times, that fuel "
            "budgets and the battery ride-through reserve can be met, and that carried-in "
            "state is consistent"
        )
    if kind == "time_limit":
        return f"site {site_name!r} over {span}: no feasible schedule found within the time limit"
    return f"site {site_name!r} over {span}: HiGHS stopped with {kind}"
