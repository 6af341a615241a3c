"""Pure helpers for state carried across horizons (no solver): switching histories and windows.

A history is a tuple of per-interval counts (containers or units started, or stopped), most
recent last: ``history[-1]`` happened in the interval just before the horizon (τ = -1).
"""

from __future__ import annotations

from collections.abc import Sequence


def recent(before: Sequence[int], new: Sequence[int], length: int) -> tuple[int, ...]:
    """The last ``length`` entries of ``before`` followed by ``new`` (``length`` 0: empty)."""
    joined = (*before, *new)
    return tuple(joined[max(0, len(joined) - length) :]) if length > 0 else ()


def carried_window(history: Sequence[int], window: int, n_intervals: int) -> list[int]:
    """Events before the horizon still inside a Rajan–Takriti window, for t = 0..n-1.

    The window at t covers τ = t - window + 1 .. t; the part before the horizon is
    τ = t - window + 1 .. -1, i.e. the last ``window - 1 - t`` entries of ``history``.
    """
    carried = []
    for t in range(n_intervals):
        lookback = window - 1 - t
        carried.append(sum(history[max(0, len(history) - lookback) :]) if lookback > 0 else 0)
    return carried


def switches(before: int, counts: Sequence[int]) -> tuple[list[int], list[int]]:
    """Units started and stopped per interval from running counts (netted: a count that rises
    by k started k units; ``before`` is the count just before the first interval)."""
    starts, stops = [], []
    previous = before
    for count in counts:
        starts.append(max(0, count - previous))
        stops.append(max(0, previous - count))
        previous = count
    return starts, stops


def run_length(before_state: int, before_length: int, states: Sequence[int], cap: int) -> int:
    """Intervals the last state in ``states`` has lasted, counting into the carried-in run when
    the whole sequence stayed in the carried-in state; capped at ``cap``."""
    last = states[-1]
    length = 0
    for state in reversed(states):
        if state != last:
            return min(length, cap)
        length += 1
    if last == before_state:
        length += before_length
    return min(length, cap)
