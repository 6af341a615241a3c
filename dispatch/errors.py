"""The one exception type for user mistakes.

Anything a user can fix by editing a site file, a data file or a command-line argument raises
:class:`InputError` with a message that names the file, field or row and says what was expected
and what was found. The CLI turns it into one line on stderr and exit code 2.
"""

from __future__ import annotations


class InputError(ValueError):
    """A user mistake in a site file, a data file or an argument (message is user-facing)."""


class SolveError(RuntimeError):
    """The solver returned no usable schedule (infeasible, or no incumbent at the time limit)."""


class InputWarning(UserWarning):
    """Data that is used as given but deserves a look (e.g. prices above the ERCOT offer cap)."""
