"""The name this project is installed under, its version, and install hints that name it.

The import package and the console script are both ``dispatch``, but the *distribution* (what
``pip install`` fetches) is ``flexload-dispatch``: the name ``dispatch`` on PyPI belongs to an
unrelated project, so ``pip install 'dispatch[dask]'`` would install someone else's code on every
node of a cluster. Every install line, in messages and documentation, names the distribution.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

DISTRIBUTION = "flexload-dispatch"


def package_version() -> str:
    """The installed version of this distribution ("unknown" from a source tree not installed)."""
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "unknown"


def install_hint(extra: str) -> str:
    """The pip command that installs an optional extra of this project, e.g. ``[dask]``."""
    return f"pip install '{DISTRIBUTION}[{extra}]'"
