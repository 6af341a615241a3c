"""What every command shares: the Typer app, the consoles, the choices, and the wrapper that turns
user mistakes into one message and exit code 2.

Everything printed is literal text: the consoles interpret no Rich markup, emoji codes or
highlighting, so a site, fleet or file name such as ``campus [/]`` prints as typed; control
characters (an ESC sequence in a file name or a site file) are shown escaped, never sent to the
terminal (:func:`literal`). Styles (the red ``error:``) are attached to text objects, not markup.
When output is not a terminal (a log, a pipe), tables print at their natural width instead of
being cut to 80 columns (:func:`show`).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from functools import wraps
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console, RenderableType
from rich.text import Text

from dispatch.errors import InputError, SolveError, input_warnings
from dispatch.text import literal

DEFAULT_DAY = "2023-08-17"  # the August 2023 heat wave: HB_WEST real-time peaked at 5,237 USD/MWh
MAX_DAYS_PER_SOLVE = 7

app = typer.Typer(
    help="Dispatch a flexible-load site (HPC + bitcoin mining + battery + gensets) on real prices.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def plain_console(*, stderr: bool = False, **settings: Any) -> Console:
    """A console that prints text as given: no markup, emoji codes or highlighting."""
    return Console(stderr=stderr, markup=False, emoji=False, highlight=False, **settings)


console = plain_console()
errors = plain_console(stderr=True)


def _print_version(value: bool) -> None:
    if value:
        from dispatch.distribution import DISTRIBUTION, package_version

        console.print(f"dispatch {package_version()} ({DISTRIBUTION})")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="print the version and exit"
        ),
    ] = False,
) -> None:
    """Dispatch a flexible-load site (HPC + bitcoin mining + battery + gensets) on real prices."""


NATURAL_WIDTH = 100_000  # wider than any table: tables in a log keep every column whole


def styled(label: str, style: str, message: object) -> Text:
    """``label`` in ``style``, then the literal ``message``."""
    return Text.assemble((label, style), " ", literal(message))


def say(target: Console, message: object) -> None:
    """Print one literal line (wrapped only by the terminal, never cut)."""
    target.print(literal(message), soft_wrap=True)


def show(target: Console, renderable: RenderableType) -> None:
    """Print a table: at the terminal's width on a terminal; elsewhere (a log, a pipe) at its
    natural width, never cut to 80 columns."""
    if target.is_terminal:
        target.print(renderable)
    else:
        plain_console(file=target.file, width=NATURAL_WIDTH).print(renderable)


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
    """Turn user mistakes into one message and exit code 2 (never a traceback): an
    :class:`InputError`, or an ``OSError`` of a file or folder the user named (an ``--out`` that
    cannot be written, a full disk); print data warnings (InputWarning) as one line each."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        notes: list[str] = []
        try:
            with input_warnings() as notes:
                return command(*args, **kwargs)
        except InputError as error:
            errors.print(styled("error:", "bold red", error), soft_wrap=True)
            raise typer.Exit(2) from None
        except SolveError as error:
            errors.print(styled("no schedule:", "bold red", error), soft_wrap=True)
            raise typer.Exit(1) from None
        except OSError as error:  # a file or folder the user named cannot be written or read
            errors.print(styled("error:", "bold red", _file_error(error)), soft_wrap=True)
            raise typer.Exit(2) from None
        finally:
            for note in notes:
                errors.print(styled("warning:", "bold yellow", note), soft_wrap=True)

    return wrapper


def _file_error(error: OSError) -> str:
    """``<file>: <what the system said>`` (an OSError that names no file: its own text)."""
    if error.filename is None:
        return str(error)
    return f"{error.filename}: {error.strerror or error}"


SiteArg = Annotated[Path, typer.Argument(help="site file (YAML)", show_default=False)]
