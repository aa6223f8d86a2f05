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


def _version(value: bool) -> None:
    if value:
        from sactk import __version__
        from sactk.versions import tool_versions

        tools = tool_versions()
        extra = ", ".join(f"{k} {v}" for k, v in tools.items() if k in ("python", "PySpice"))
        typer.echo(f"sactk {__version__}" + (f" ({extra})" if extra else ""))
        raise typer.Exit()


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """``--debug`` is read by :func:`sactk.cli.main` before Typer runs."""
