"""What the CLI shows: a Reporter that echoes to the terminal and draws rich progress bars,
and the parsing helpers shared by the commands."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer

from sactk.api.reporter import Progress
from sactk.errors import SpecError


class Console:
    """Messages to stdout, errors to stderr, progress bars to stderr."""

    def message(self, text: str) -> None:
        typer.echo(text)

    def error(self, text: str) -> None:
        typer.echo(text, err=True)

    @contextmanager
    def progress(self, label: str, unit: str = "") -> Iterator[Progress]:
        """A live bar on a terminal. Piped or captured (scripts, CI logs), stderr gets no bar
        and rich is not imported (0.06 s of a small sweep's whole-process time): the
        command's summary line says what was done."""
        import sys

        if not sys.stderr.isatty():
            yield lambda done, total: None
            return
        from rich.console import Console as RichConsole
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as Bar

        columns = [TextColumn(f"[bold]{label}[/]"), BarColumn(), MofNCompleteColumn()]
        if unit:
            columns.append(TextColumn(unit))
        columns += [TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn()]
        with Bar(*columns, console=RichConsole(stderr=True), transient=not unit) as bar:
            task = bar.add_task(label, total=None)
            yield lambda done, total: bar.update(task, completed=done, total=total)


def _items(values: str | list[str] | None) -> list[str]:
    """The convention of every list option: comma-separated, repeatable, or both
    (``--bits 4,8 --bits 12`` is [4, 8, 12]); an empty value gives nothing."""
    if values is None:
        return []
    texts = [values] if isinstance(values, str) else values
    return [t.strip() for text in texts for t in text.split(",") if t.strip()]


def int_list(values: str | list[str] | None, name: str) -> list[int]:
    """Integers of a list option; a non-integer is a SpecError naming the option."""
    items = _items(values)
    try:
        return [int(v) for v in items]
    except ValueError:
        bad = next(v for v in items if not v.lstrip("+-").isdigit())
        raise SpecError(
            f"{name}: {bad!r} is not an integer; give integers, comma-separated"
        ) from None


def str_list(values: str | list[str] | None) -> list[str]:
    """``["a, b,", "c"]`` -> ["a", "b", "c"]."""
    return _items(values)


def float_list(values: str | list[str] | None, name: str) -> list[float]:
    """Numbers of a list option, SPICE suffixes allowed (``10n``, ``1u``); anything else is a
    SpecError naming the option."""
    from sactk.api import spice_number

    out = []
    for v in _items(values):
        x = spice_number(v)
        if x is None:
            raise SpecError(f"{name}: {v!r} is not a number; give numbers such as 1e-8 or 10n")
        out.append(x)
    return out
