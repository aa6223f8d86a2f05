"""Results on disk: Parquet parts plus manifest.json, written atomically, resumable.

Layout of a results directory::

    DIR/results.parquet/part-<job_id>.parquet   one part per finished job
    DIR/manifest.json                           spec, technology, versions, per-job status
    DIR/jobs.jsonl                              while a sweep runs: one line per finished job
    DIR/netlists/<netlist_hash>.cir             with --keep-netlists

A job is keyed by the hash of its netlist, coordinates and points, so a rerun into the same
DIR skips every job whose part is present, recorded and free of failed points, and an
interrupted run loses at most the jobs that were in flight. Jobs with failed points run again
on a rerun (a timeout or a dead worker is often passing; a failure that is not comes back
and is reported again).

A finished job costs O(1) bookkeeping: its part is written atomically, then one line is
appended to the journal ``jobs.jsonl`` and flushed to disk. ``manifest.json`` is rewritten
only when a sweep opens and when it finishes (the journal folded in, then removed). Readers
fold in a journal left by a killed sweep; a torn last line (a kill mid-append) is ignored, and
that job, whose part may exist, simply runs again.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sactk.errors import SpecError, SpecMismatch
from sactk.files import write_bytes
from sactk.versions import tool_versions


@dataclass(frozen=True)
class Part:
    """One job's results as stored: the Parquet bytes of its rows and what the summary needs.

    Workers encode their own part (:func:`pack`), so a finished job travels to the process
    that writes the folder as one buffer, not as columns of Python objects."""

    data: bytes
    points: int
    failed: int
    failures: tuple[dict[str, Any], ...] = ()
    """The first failed points: coordinates and reason."""


FAILURE_COORDS = ("analysis", "corner", "temp_c", "bias_a", "mc_index", "point")


def pack(columns: dict[str, Any], keep_failures: int = 20) -> Part:
    """Encode a job's result columns (one entry per point) as a stored part.

    pyarrow alone, not pandas: a worker that only simulates then never imports pandas (0.5 s
    of a small sweep's whole-process time, docs/benchmarks.md "Start-up"). The part reads
    back through ``pandas.read_parquet`` with the same columns and dtypes as before."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_arrays([_arrow(v) for v in columns.values()], names=list(columns))
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    status = list(columns.get("status", []))
    bad = [i for i, s in enumerate(status) if s != "ok"]
    failures = tuple(
        {k: (_plain(columns[k][i]) if k in columns else None) for k in FAILURE_COORDS}
        | {"status": str(status[i])}
        for i in bad[:keep_failures]
    )
    return Part(sink.getvalue().to_pybytes(), len(status), len(bad), failures)


def _arrow(values: Any) -> Any:
    """One column as an Arrow array built from its buffers. ``pyarrow.array`` asks pandas
    whether a NumPy array is categorical, which imports pandas; numbers, booleans and
    strings (with None as null) are built directly, anything else goes through it."""
    import numpy as np
    import pyarrow as pa

    n = len(values)
    if isinstance(values, list) and n and isinstance(values[0], str):
        first = values[0]
        if values.count(first) == n:  # a job's coordinates, an all-"ok" status: one string
            one = first.encode()
            offsets = np.arange(n + 1, dtype=np.int32) * len(one)
            bufs = [None, pa.py_buffer(offsets), pa.py_buffer(one * n)]
            return pa.Array.from_buffers(pa.string(), n, bufs)
    a = values if isinstance(values, np.ndarray) else np.asarray(values)
    if a.dtype.kind in "fiu":
        a = np.ascontiguousarray(a)
        return pa.Array.from_buffers(pa.from_numpy_dtype(a.dtype), n, [None, pa.py_buffer(a)])
    if a.dtype.kind == "b":
        bits = np.packbits(a.astype(bool), bitorder="little")
        return pa.Array.from_buffers(pa.bool_(), n, [None, pa.py_buffer(bits)])
    items = a.tolist()
    if a.dtype.kind == "U" or all(x is None or isinstance(x, str) for x in items):
        nulls = np.array([x is None for x in items], dtype=bool)
        if n and nulls.all():
            return pa.nulls(n)
        # each distinct string encoded once (a column holds few: patterns, statuses)
        distinct: dict[str, bytes] = {}
        raw = [distinct.get(x) or distinct.setdefault(x, x.encode()) if x else b"" for x in items]
        offsets = np.zeros(n + 1, dtype=np.int32)
        np.cumsum(np.fromiter(map(len, raw), dtype=np.int64, count=n), out=offsets[1:])
        valid = pa.py_buffer(np.packbits(~nulls, bitorder="little")) if nulls.any() else None
        data = pa.py_buffer(b"".join(raw))
        return pa.Array.from_buffers(pa.string(), n, [valid, pa.py_buffer(offsets), data])
    return pa.array(items)


def _plain(v: Any) -> Any:
    """A NumPy scalar as the Python number the manifest's JSON takes."""
    return v.item() if hasattr(v, "item") else v


MANIFEST = "manifest.json"
RESULTS = "results.parquet"
JOURNAL = "jobs.jsonl"


class ResultsStore:
    """Writes a results directory. Reading goes through :func:`read_results`."""

    def __init__(self, out: str | os.PathLike[str]) -> None:
        self.out = Path(out).resolve()
        self.parts = self.out / RESULTS
        self.manifest_path = self.out / MANIFEST
        self.journal_path = self.out / JOURNAL
        self.manifest: dict[str, Any] = {}
        self._journal: Any = None

    def check(self, spec: dict[str, Any]) -> dict[str, Any] | None:
        """Refuse an --out that cannot take this sweep (a file, an unreadable manifest, a
        different spec) without writing anything; returns the manifest to resume, if any."""
        if self.out.exists() and not self.out.is_dir():
            raise SpecError(f"--out: {self.out} exists and is not a directory; choose another")
        if not self.manifest_path.exists():
            return None
        try:
            old: dict[str, Any] = json.loads(self.manifest_path.read_text())
        except (OSError, json.JSONDecodeError):
            raise SpecError(
                f"--out: {self.manifest_path} is unreadable; move it away or use a new --out"
            ) from None
        _fold_journal(old, self.journal_path)
        if _canonical(old.get("spec")) != _canonical(spec):
            raise SpecMismatch(
                f"--out: {self.out} holds results of a different spec; use a new --out "
                "directory (a rerun resumes only the same spec)"
            )
        return old

    def open(self, spec: dict[str, Any], tech: dict[str, Any], seeds: dict[str, Any]) -> None:
        """Create DIR or reopen it for a resume; a different spec in DIR is an error."""
        old = self.check(spec)
        if old is not None:
            self.manifest = old
        else:
            self.manifest = {
                "format": "sactk-results/1",
                "spec": spec,
                "technology": tech,
                "seeds": seeds,
                "versions": tool_versions(),
                "jobs": {},
            }
        self.parts.mkdir(parents=True, exist_ok=True)
        self._write_manifest()
        self.journal_path.unlink(missing_ok=True)  # folded into the manifest just written

    def done(self) -> set[str]:
        """Job ids whose part file exists, is recorded in the manifest, matches its recorded
        checksum and has no failed points. A damaged part (truncated, changed) is listed in
        ``damaged`` and a job with failed points in ``failed``; both run again."""
        ok: set[str] = set()
        self.damaged: list[str] = []
        self.failed: list[str] = []
        for jid, info in self.manifest.get("jobs", {}).items():
            part = self.parts / f"part-{jid}.parquet"
            if not part.is_file():
                continue
            if not part_ok(part, info):
                self.damaged.append(jid)
            elif info.get("status") == "failed":
                self.failed.append(jid)
            else:
                ok.add(jid)
        return ok

    def write_job(self, job_id: str, part: Part, info: dict[str, Any], netlist: str = "") -> int:
        """Write one job's encoded part (atomically), then record it in the manifest. A part
        that is present but not recorded (killed between the two) is simply rewritten on
        resume. Returns the number of failed points."""
        buf = part.data
        write_bytes(self.parts / f"part-{job_id}.parquet", buf)
        digest = hashlib.sha256(buf).hexdigest()
        if netlist:
            nd = self.out / "netlists"
            nd.mkdir(exist_ok=True)
            write_bytes(nd / f"{info['netlist_hash']}.cir", netlist.encode())
        n_failed = part.failed
        entry = {
            **info,
            "points": part.points,
            "sha256": digest,
            "failed": n_failed,
            "status": "ok" if n_failed == 0 else "failed",
        }
        self.manifest["jobs"][job_id] = entry
        self._append_journal(job_id, entry)
        return n_failed

    def _append_journal(self, job_id: str, entry: dict[str, Any]) -> None:
        """One line per finished job, flushed to disk before the next job is recorded."""
        if self._journal is None:
            self._journal = self.journal_path.open("a", encoding="utf-8")
        line = json.dumps({"job_id": job_id, **entry}, sort_keys=True, default=str)
        self._journal.write(line + "\n")
        self._journal.flush()
        os.fsync(self._journal.fileno())

    def set_versions(self, ngspice_version: str) -> None:
        self.manifest["versions"] = tool_versions(ngspice_version)

    def finish(self, summary: dict[str, Any]) -> None:
        """Write the manifest with every job and the summary, then drop the journal."""
        self.manifest["summary"] = summary
        self._write_manifest()
        if self._journal is not None:
            self._journal.close()
            self._journal = None
        self.journal_path.unlink(missing_ok=True)

    def _write_manifest(self) -> None:
        data = json.dumps(self.manifest, indent=1, sort_keys=True, default=str)
        write_bytes(self.manifest_path, data.encode())


def _canonical(spec: Any) -> Any:
    """A spec dict as compared for a resume: the ``[cell]`` keys left unset are dropped
    (manifests written before cells validated their own tables list every key of every
    cell, unset ones as null), so those folders still resume."""
    if not isinstance(spec, dict) or not isinstance(spec.get("cell"), dict):
        return spec
    return {**spec, "cell": {k: v for k, v in spec["cell"].items() if v is not None}}


def _fold_journal(manifest: dict[str, Any], journal: Path) -> None:
    """Add the jobs a running or killed sweep journaled to ``manifest["jobs"]`` (in place).
    A line that does not parse (a kill mid-append) ends the journal."""
    if not journal.is_file():
        return
    jobs = manifest.setdefault("jobs", {})
    with journal.open(encoding="utf-8") as fh:
        for line in fh:
            try:
                entry = json.loads(line)
                jobs[str(entry.pop("job_id"))] = entry
            except (ValueError, KeyError, AttributeError):
                break


def read_manifest(out: str | os.PathLike[str]) -> dict[str, Any]:
    """The manifest of a results directory, with the jobs a running or killed sweep has
    journaled since it was last written."""
    path = Path(out) / MANIFEST
    if not path.is_file():
        raise SpecError(f"{out}: no {MANIFEST}; give a directory written by `sactk sweep`")
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise SpecError(f"{path}: unreadable manifest ({exc}); rerun the sweep") from None
    _fold_journal(data, Path(out) / JOURNAL)
    return data


def part_ok(part: Path, info: dict[str, Any], data: bytes | None = None) -> bool:
    """Whether a part file (or its already read bytes) matches the checksum its manifest
    entry recorded (entries written before checksums were kept are trusted)."""
    want = info.get("sha256")
    if not want:
        return True
    try:
        return hashlib.sha256(part.read_bytes() if data is None else data).hexdigest() == want
    except OSError:
        return False


def read_results(out: str | os.PathLike[str], manifest: dict[str, Any] | None = None) -> Any:
    """All rows of a results directory as one pandas DataFrame (sorted by job and point).
    A part that does not match the manifest's checksum is an error naming it and the fix.
    ``manifest``: the folder's manifest when the caller has already read it."""
    import pandas as pd

    man = manifest if manifest is not None else read_manifest(out)
    parts = sorted((Path(out) / RESULTS).glob("part-*.parquet"))
    if not parts:
        raise SpecError(f"{out}: no results yet; run `sactk sweep ... --out {out}` first")
    jobs = man.get("jobs", {})
    frames = []
    for p in parts:
        jid = p.stem.removeprefix("part-")
        data = p.read_bytes()  # read once: checked, then parsed
        bad = jid in jobs and not part_ok(p, jobs[jid], data)
        if not bad:
            try:
                frames.append(pd.read_parquet(io.BytesIO(data)))
            except Exception:
                bad = True
        if bad:
            raise SpecError(
                f"{p}: damaged (checksum or format does not match the manifest); rerun the "
                f"same `sactk sweep` into {out} to recompute only the damaged jobs"
            )
    df = pd.concat(frames, ignore_index=True)
    keys = [
        c
        for c in (
            "analysis",
            "corner",
            "vdd_v",
            "w_um",
            "l_um",
            "temp_c",
            "bias_a",
            "mc_index",
            "point",
        )
        if c in df.columns
    ]
    return df.sort_values(keys, kind="stable").reset_index(drop=True)
