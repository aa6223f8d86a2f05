"""The ``sactk`` command line: parses arguments, calls :mod:`sactk.api` and prints.

Exit codes: 0 success; 2 bad input (one line naming the field and the fix); 3 finished but
some points failed (the summary lists them); 1 internal error (``--debug`` shows the trace).
Heavy libraries are imported inside the workflows that need them.
"""

from __future__ import annotations

import sys

from sactk.cli import cells, experiments, models, verify  # noqa: F401  (registers the commands)
from sactk.cli.root import app, tidy_help
from sactk.errors import SactkError

__all__ = ["app", "main"]


def main(argv: list[str] | None = None) -> None:
    """Console entry point: maps sactk errors to one line and an exit code, then ends the
    process at once.

    Typer runs in standalone mode, so its own usage errors exit 2 and ``typer.Exit(n)``
    exits n; sactk's errors and anything unexpected are caught here. Everything a command
    writes is closed before it returns, so the process ends with ``os._exit`` after
    flushing its output: the interpreter's exit handlers could hang joining a process
    pool's manager thread after a worker was killed from outside, or abort in a C++ thread
    pool's destructor ("terminate called without an active exception"), both seen under
    load after the command had finished (tests/faults).
    """
    import contextlib
    import os

    code = run(argv)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing to deliver
            stream.flush()
    os._exit(code)


def run(argv: list[str] | None = None) -> int:
    """The command's exit code (what :func:`main` ends the process with)."""
    import typer

    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    tidy_help(app)
    try:
        app(args=args, prog_name="sactk")
    except SystemExit as done:  # standalone mode ends every command this way
        if done.code is None or isinstance(done.code, int):
            return int(done.code or 0)
        typer.echo(str(done.code), err=True)
        return 1
    except SactkError as exc:
        if debug:
            raise
        typer.echo(f"error: {str(exc).replace(chr(10), ' ')}", err=True)
        return exc.exit_code
    except KeyboardInterrupt:
        typer.echo("error: interrupted; rerun the same command to resume", err=True)
        return 130
    except Exception as exc:
        if debug:
            raise
        typer.echo(
            f"error: internal error: {type(exc).__name__}: {exc} (rerun with --debug for the "
            "trace)",
            err=True,
        )
        return 1
    return 0
