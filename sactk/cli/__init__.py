"""The ``sactk`` command line: parses arguments, calls :mod:`sactk.api` and prints.

Exit codes: 0 success; 2 bad input (one line naming the field and the fix); 3 finished but
some points failed (the summary lists them); 1 internal error (``--debug`` shows the trace).
Heavy libraries are imported inside the workflows that need them.
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["app", "main"]


def __getattr__(name: str) -> Any:
    """``app`` with every command registered, loaded on first use (PEP 562): ``sactk sweep``
    starts its workers before the command modules are imported (:func:`_start_workers`)."""
    if name == "app":
        return _app()
    raise AttributeError(f"module 'sactk.cli' has no attribute {name!r}")


def _app() -> Any:
    from sactk.cli import cells, experiments, models, verify  # noqa: F401  (registers them)
    from sactk.cli.root import app

    return app


def _start_workers(args: list[str]) -> None:
    """``sactk sweep`` on the local executor with more than one worker: start the workers
    now, so their start-up overlaps this process's parsing and planning
    (:mod:`sactk.sweeps.warm`). Reads only ``--jobs``, ``--executor`` and whether
    ``--timeout`` is given; a malformed value starts nothing and the parser reports it."""
    if not args or args[0] != "sweep" or {"--help", "-h"} & set(args):
        return
    opts: dict[str, str] = {}
    for i, a in enumerate(args):
        if a == "--timeout" or a.startswith("--timeout="):
            opts["--timeout"] = "1"
        for key in ("--jobs", "--executor"):
            if a == key and i + 1 < len(args):
                opts[key] = args[i + 1]
            elif a.startswith(key + "="):
                opts[key] = a.split("=", 1)[1]
    if opts.get("--executor", "local") != "local":
        return
    import os

    jobs = opts.get("--jobs", "")
    n = int(jobs) if jobs.isdigit() else len(os.sched_getaffinity(0))
    from sactk.api.sweeping import start_workers

    start_workers(n, timeout="--timeout" in opts)


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
    if "sactk.api.sweeping" in sys.modules:
        sys.modules["sactk.api.sweeping"].stop_workers()  # those a failed sweep did not take
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing to deliver
            stream.flush()
    os._exit(code)


def run(argv: list[str] | None = None) -> int:
    """The command's exit code (what :func:`main` ends the process with)."""
    args = list(sys.argv[1:] if argv is None else argv)
    _start_workers(args)
    import typer

    from sactk.cli.root import tidy_help
    from sactk.errors import SactkError

    app = _app()
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
