"""How a workflow talks while it runs: messages and progress, to a console or to nothing.

Workflows take a :class:`Reporter` and never print. The CLI passes one that echoes to the
terminal and draws progress bars; Python callers get :class:`Quiet` by default or pass their
own (a notebook widget, a logger).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

Progress = Callable[[int, int], None]
"""``progress(done, total)``: called as work finishes (``total`` may grow)."""


class Reporter(Protocol):
    def message(self, text: str) -> None:
        """One line (or a small block) of text for the user."""

    def error(self, text: str) -> None:
        """A warning or a failed point, for stderr."""

    def progress(self, label: str, unit: str = "") -> AbstractContextManager[Progress]:
        """A context that yields a ``progress(done, total)`` callback."""


class Quiet:
    """Says nothing: the default for calls from Python."""

    def message(self, text: str) -> None:
        pass

    def error(self, text: str) -> None:
        pass

    @contextmanager
    def progress(self, label: str, unit: str = "") -> Iterator[Progress]:
        yield lambda done, total: None
