"""dispatch: flexible-load site energy dispatch for HPC + bitcoin mining sites.

The public API: load a site, load its inputs, solve; the stochastic day-ahead decision; plan
and run batches; size a site over real price history.
"""

from dispatch.errors import InputError, SolveError
from dispatch.inputs import Inputs, load_inputs
from dispatch.results import DispatchResult, Kpis
from dispatch.site import Site, load_site
from dispatch.streams import Stream

__all__ = [
    "DispatchResult",
    "Dispatcher",
    "InputError",
    "Inputs",
    "Kpis",
    "Site",
    "SolveError",
    "SolveOptions",
    "Stream",
    "Task",
    "load_inputs",
    "load_site",
    "plan_tasks",
    "run_batch",
    "size",
    "solve",
    "stochastic_day_ahead",
]


def __getattr__(name: str):  # keep `import pyomo` (~0.5 s) out of light paths like validation
    if name in ("solve", "Dispatcher"):
        from dispatch import solver

        return getattr(solver, name)
    if name == "SolveOptions":
        from dispatch.options import SolveOptions

        return SolveOptions
    if name in ("Task", "plan_tasks"):
        from dispatch.batch import tasks

        return getattr(tasks, name)
    if name == "run_batch":
        from dispatch.batch.runner import run_batch

        return run_batch
    if name == "stochastic_day_ahead":
        from dispatch.stochastic.api import stochastic_day_ahead

        return stochastic_day_ahead
    if name == "size":
        from dispatch.sizing.api import size

        return size
    raise AttributeError(f"module 'dispatch' has no attribute {name!r}")
