"""The ``sactk`` command line: parses arguments, calls :mod:`sactk.api` and prints.

Exit codes: 0 success; 2 bad input (one line naming the field and the fix); 3 finished but
some points failed (the summary lists them); 1 internal error (``--debug`` shows the trace).
Heavy libraries are imported inside the workflows that need them.
"""

from __future__ import annotations

import sys

from sactk.cli import cells, experiments, models, verify  # noqa: F401  (registers the commands)
from sactk.cli.root import app
from sactk.errors import SactkError

__all__ = ["app", "main"]


def main(argv: list[str] | None = None) -> None:
    """Console entry point: maps sactk errors to one line and an exit code.

    Typer runs in standalone mode, so its own usage errors exit 2 and ``typer.Exit(n)``
    exits n; sactk's errors and anything unexpected are caught here.
    """
    import typer

    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    try:
        app(args=args, prog_name="sactk")
    except SactkError as exc:
        if debug:
            raise
        typer.echo(f"error: {str(exc).replace(chr(10), ' ')}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        typer.echo("error: interrupted; rerun the same command to resume", err=True)
        sys.exit(130)
    except Exception as exc:
        if debug:
            raise
        typer.echo(
            f"error: internal error: {type(exc).__name__}: {exc} (rerun with --debug for the "
            "trace)",
            err=True,
        )
        sys.exit(1)
