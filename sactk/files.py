"""Every file sactk writes goes through here: written whole or not at all.

A file is written to a temporary name in its folder, flushed to disk, then renamed over the
target (``os.replace`` is atomic on POSIX), so a crash or a kill never leaves a half-written
result, model, plot or report behind. Writers take the content, not a path to write into.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (its folder is created); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; results are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write UTF-8 ``text`` atomically."""
    return write_bytes(path, text.encode("utf-8"))


def write_json(path: str | os.PathLike[str], doc: Any, **dumps: Any) -> Path:
    """Write ``doc`` as indented JSON with a final newline, atomically."""
    dumps.setdefault("indent", 1)
    return write_text(path, json.dumps(doc, **dumps) + "\n")


def write_csv(path: str | os.PathLike[str], frame: Any) -> Path:
    """Write a DataFrame as CSV without its index, atomically."""
    return write_text(path, str(frame.to_csv(index=False)))
