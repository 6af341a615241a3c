"""`python -m dispatch` runs the CLI (same as the `dispatch` console script)."""

from dispatch.cli import app

if __name__ == "__main__":  # batch worker processes (spawn) import this module; only run once
    app()
