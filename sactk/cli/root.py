"""The Typer application and its global options."""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(
    name="sactk",
    help="Characterize analog ML compute cells on ngspice and carry the results up to ML.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    """``--debug`` is read by :func:`sactk.cli.main` before Typer runs."""
