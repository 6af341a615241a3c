"""dispatch: flexible-load site energy dispatch for HPC + bitcoin mining sites.

The public API: load a site, load its inputs, solve; size a site over real price history.
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
    "load_inputs",
    "load_site",
    "size",
    "solve",
]


def __getattr__(name: str):  # keep `import pyomo` (~0.5 s) out of light paths like validation
    if name in ("solve", "Dispatcher", "SolveOptions"):
        from dispatch import solver

        return getattr(solver, name)
    if name == "size":
        from dispatch.sizing.api import size

        return size
    raise AttributeError(f"module 'dispatch' has no attribute {name!r}")
