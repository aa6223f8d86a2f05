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


def first_sentence(doc: str) -> str:
    """A docstring's first sentence on one line: what a command list shows."""
    text = " ".join(doc.split())
    for end in (". ", ": "):
        cut = text.find(end)
        if cut > 0:
            return text[: cut + 1].rstrip(":") + ("" if end == ". " else ".")
    return text


def tidy_help(typer_app: typer.Typer) -> None:
    """Give every command and group without a short help its docstring's first sentence,
    so ``--help`` lists read as sentences instead of hard-wrapped docstring lines."""
    for cmd in typer_app.registered_commands:
        doc = cmd.help or (cmd.callback.__doc__ if cmd.callback else None)
        if doc and cmd.short_help is None:
            cmd.short_help = first_sentence(doc)
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            tidy_help(group.typer_instance)
