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


def int_list(text: str, name: str) -> list[int]:
    """``"8,16,32"`` -> [8, 16, 32]; empty text -> []; else SpecError naming the option."""
    if not text.strip():
        return []
    try:
        return [int(v) for v in text.split(",")]
    except ValueError:
        raise SpecError(f"{name}: {text!r} is not a comma-separated list of integers") from None


def str_list(text: str) -> list[str]:
    """``"a, b,"`` -> ["a", "b"]."""
    return [t.strip() for t in text.split(",") if t.strip()]
