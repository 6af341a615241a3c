"""Compiled models kept across :class:`~dispatch.solver.Dispatcher` lifetimes in one process.

A fresh ``solve()`` builds a Pyomo model and compiles it before HiGHS runs once (~0.4 s of CPU
for a 15-minute day of the West Texas campus, HiGHS ~0.07 s of it). When a dispatcher is done
with a compiled model (it is garbage-collected, e.g. at the end of ``solve()``), the model goes
into this process's :data:`MODEL_CACHE`; the next dispatcher that needs a model of the same
structure takes it from there and only loads its own data and state, as a persistent re-solve
does (:func:`dispatch.model.build.load_data`, :func:`dispatch.model.state.write_state`).

What fixes a model's structure, hence the key (:func:`structure_key`): the site file's whole
content except ``market`` (the settlement point only picks data; no builder reads it), the
horizon's shape (local day, clock hour and month of each interval: length, interval and DST
day included), which input series the model holds (each column present becomes a data Param),
the settlement mode (two-settlement or not) and the engine's own settings (interface, MIP start,
relaxation first, extra HiGHS options). Everything else (prices, hashprice, profiles, weights,
the carried-in state, gap, time limit, presolve, threads, relaxing integrality) is written or
passed before every solve.

A model is lent to one dispatcher at a time (taken out of the cache, given back when that
dispatcher is gone), so two live dispatchers never share one. Taken out, it gets the new data
and is then handed to a new HiGHS instance (:meth:`dispatch.fast.FastModel.restart`), in the
order a new build has them: the solve starts from the same state as one on a model built just
now. Pyomo's persistent interface is never cached: it is the
reference the compiled path is tested against. ``SolveOptions(model_cache=False)`` builds every
time.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable

from dispatch.fast import FastModel
from dispatch.options import SolveOptions
from dispatch.site import Site

# idle compiled models kept per process; a 15-minute day of the West Texas campus holds
# 4-9 MB of Pyomo objects and arrays (peak RSS measured per model built)
MAX_MODELS = 8


def structure_key(
    site: Site,
    options: SolveOptions,
    columns: tuple[str, ...],
    shape: Hashable,
    *,
    two_settlement: bool = False,
) -> Hashable:
    """What a built and compiled model's structure depends on (see the module docstring).

    ``columns`` are the input series' names (``Inputs.frame.columns``); ``shape`` the horizon's
    :func:`~dispatch.model.build.horizon_shape`."""
    return (
        site.model_dump_json(exclude={"market"}),
        columns,
        shape,
        two_settlement,
        options.interface,
        options.warm_start,
        options.relaxation_first,
        tuple(sorted((name, repr(value)) for name, value in options.highs_options.items())),
    )


class ModelCache:
    """Idle compiled models by :func:`structure_key`, the least recently given back dropped
    beyond ``max_models``. At most one idle model per key."""

    def __init__(self, max_models: int = MAX_MODELS) -> None:
        self.max_models = max_models
        self._idle: OrderedDict[Hashable, FastModel] = OrderedDict()
        self.taken = 0  # models lent out since the cache was made or cleared

    def take(self, key: Hashable) -> FastModel | None:
        """The idle model of ``key`` (now lent out, no longer in the cache), or None. The
        taker loads its data, then :meth:`~dispatch.fast.FastModel.restart` s it."""
        model = self._idle.pop(key, None)
        if model is not None:
            self.taken += 1
        return model

    def give(self, key: Hashable, model: FastModel) -> None:
        """Keep ``model`` (its dispatcher is done with it) as the idle model of ``key``."""
        self._idle.pop(key, None)
        self._idle[key] = model
        while len(self._idle) > self.max_models:
            self._idle.popitem(last=False)

    def clear(self) -> None:
        """Drop every idle model."""
        self._idle.clear()
        self.taken = 0

    def __len__(self) -> int:
        return len(self._idle)


MODEL_CACHE = ModelCache()
