"""What every command shares: the Typer app, the consoles, the choices, and the wrapper that turns
user mistakes into one message and exit code 2."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from enum import StrEnum
from functools import wraps
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from dispatch.errors import InputError, InputWarning, SolveError

DEFAULT_DAY = "2023-08-17"  # the August 2023 heat wave: HB_WEST real-time peaked at 5,237 USD/MWh
MAX_DAYS_PER_SOLVE = 7

app = typer.Typer(
    help="Dispatch a flexible-load site (HPC + bitcoin mining + battery + gensets) on real prices.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
errors = Console(stderr=True)


class OutputFormat(StrEnum):
    csv = "csv"
    parquet = "parquet"
    json = "json"


class FillChoice(StrEnum):
    hold = "hold"
    interpolate = "interpolate"


class SplitChoice(StrEnum):
    year = "year"
    month = "month"
    none = "none"


def user_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn user mistakes into one message and exit code 2 (never a traceback); print data
    warnings (InputWarning) as one line each."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        caught: list[warnings.WarningMessage] = []
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", InputWarning)
                return command(*args, **kwargs)
        except InputError as error:
            errors.print(
                f"[bold red]error:[/] {escape(str(error))}",
                highlight=False,
                soft_wrap=True,
                emoji=False,
            )
            raise typer.Exit(2) from None
        except SolveError as error:
            errors.print(
                f"[bold red]no schedule:[/] {escape(str(error))}", highlight=False, soft_wrap=True
            )
            raise typer.Exit(1) from None
        finally:
            for caught_warning in caught:
                if issubclass(caught_warning.category, InputWarning):
                    message = f"[bold yellow]warning:[/] {escape(str(caught_warning.message))}"
                    errors.print(message, highlight=False, soft_wrap=True)
                else:
                    warnings.warn_explicit(
                        caught_warning.message,
                        caught_warning.category,
                        caught_warning.filename,
                        caught_warning.lineno,
                    )

    return wrapper


SiteArg = Annotated[Path, typer.Argument(help="site file (YAML)", show_default=False)]
