"""The exception types of dispatch, and the checks that raise them for API arguments.

Anything a user can fix by editing a site file, a data file or a command-line argument raises
:class:`InputError` with a message that names the file, field or row and says what was expected
and what was found. The CLI turns it into one line on stderr and exit code 2. A wrong argument
type in the Python API raises :class:`ArgumentError`, an InputError that is also a TypeError.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator, Sequence


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


@contextlib.contextmanager
def input_warnings() -> Iterator[list[str]]:
    """Collect the :class:`InputWarning` messages raised inside the block, each once and in
    order, into the list it yields (filled as the block ends, however it ends); other warnings
    are passed on as they were raised. Used where the user would not see them otherwise: the
    CLI prints them as ``warning:`` lines, a batch worker returns them with its task."""
    notes: list[str] = []
    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", InputWarning)
            yield notes
    finally:
        for warning in caught:
            if issubclass(warning.category, InputWarning):
                notes.append(str(warning.message))
            else:
                warnings.warn_explicit(
                    warning.message, warning.category, warning.filename, warning.lineno
                )
        notes[:] = dict.fromkeys(notes)


class ArgumentError(InputError, TypeError):
    """An argument of the Python API of the wrong type: a path where a ``Site`` is expected, a
    dict where ``SolveOptions`` are, a string where a list is (it would be read letter by
    letter). Both an :class:`InputError` and a ``TypeError``."""


class BatchStopped(RuntimeError):
    """A batch could not go on: its outputs cannot be written (a full disk) or its worker pool
    broke. Nothing written is lost; the manifest says which tasks did not finish."""


def expect(value: object, kind: type | tuple[type, ...], name: str, expected: str) -> None:
    """Raise :class:`ArgumentError` unless ``value`` is a ``kind`` (a bool is never a number).

    ``expected`` says what was expected in words, e.g. ``"a Site (from load_site)"``.
    """
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds):
        return
    shown = repr(value)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    raise ArgumentError(f"{name}: expected {expected}, found {type(value).__name__} {shown}")


def expect_items(values: object, kind: type | tuple[type, ...], name: str, expected: str) -> list:
    """``values`` as a list, each a ``kind``; a lone string (or path) is refused, never read
    letter by letter."""
    if isinstance(values, str | bytes) or not hasattr(values, "__iter__"):
        raise ArgumentError(
            f"{name}: expected a list of {expected}, found {type(values).__name__} "
            f"{values!r:.60}; wrap a single one in a list"
        )
    items = list(values)  # type: ignore[call-overload]
    for i, item in enumerate(items):
        expect(item, kind, f"{name}[{i}]", expected)
    return items
