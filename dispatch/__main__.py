"""`python -m dispatch` runs the CLI (same as the `dispatch` console script)."""

from dispatch.cli import app

app()
