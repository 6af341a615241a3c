"""The `dispatch` command: parse, call the API, print, write, exit codes.

User mistakes (InputError) print one message and exit 2; a solve with no usable schedule exits 1.
Pyomo is imported only by commands that solve, so `--help`, `validate` and `schema` stay fast.
One module per command group; importing them registers their commands on :data:`app`, in the
order `--help` lists them.
"""
# isort: skip_file

from dispatch.cli.common import app
from dispatch.cli import run, batch, size, data, fetch  # noqa: F401  (registers the commands)

__all__ = ["app"]
