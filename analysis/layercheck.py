"""The layer check's figures: a whole S-AC layer in SPICE against the vectorized runner
(``sactk verify layer``, sactk.api.layer). Plain functions of the runs; no simulator."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from sactk.errors import SpecError

if TYPE_CHECKING:
    import pandas as pd


ACT_W_UM = 8.0
"""The layer's tanh cells are 8/1 um (W/L 8, twice the cell's default): their term nodes sit
lower, so the PMOS copies feeding them keep more drain headroom at 10 uA (docs/layer.md)."""
MIRROR_SEED_TAG = 0x4D49
"""The mirrors' Pelgrom stream: instance ``chip`` of ``stream(seed, MIRROR_SEED_TAG)``."""
STEP_WINDOW_AS = 2e-11
"""Step-response window times the bias (2 ms at 10 nA, 2 us at 10 uA): the layer settles
within about a third of it (the tanh cell alone needs a tenth: shape-tanh-tran)."""
STEP_BIASES = (1e-8, 3e-8, 1e-7, 3e-7, 1e-6, 3e-6, 1e-5)


@dataclass(frozen=True)
class Setup:
    """What a layer verification runs; every field is recorded with its results."""

    features: int = 4
    hidden: int = 8
    n_block: int = 4
    samples: int = 100
    biases: tuple[float, ...] = (1e-8, 1e-6, 1e-5)
    temp_c: float = 27.0
    chips: int = 3
    seed: int = 0
    gain: float = 4.0
    input_ratio: float = 0.4
    ip_vectors: int = 120
    mirror_w_um: float | None = None
    mirror_l_um: float | None = None
    act_w_um: float | None = ACT_W_UM
    """Width of the tanh cell's matched devices, um (None: the cell's default, 4 um)."""
    noise_samples: int = 2
    """Samples whose output noise is checked against the netlist's ``.noise`` (0: none)."""

    def check(self) -> None:
        if self.samples < 1 or self.chips < 0:
            raise SpecError("--samples must be at least 1 and --chips at least 0")
        if not 0 <= self.noise_samples <= self.samples:
            raise SpecError("--noise-samples: give 0 (no noise check) up to --samples")
        if not 1 <= self.n_block <= 32:
            raise SpecError("--block must be from 1 to 32 (the inner product's N)")
        if any(not b > 0 for b in self.biases):
            raise SpecError("--bias: give positive currents in A")
        if not 0 < self.input_ratio <= 0.5:
            raise SpecError("--input-ratio: inputs and weights must stay within (0, 0.5] gamma")


def mirror_seed(seed: int) -> int:
    """The seed of the mirrors' Pelgrom stream."""
    from sactk.seeds import instance_seed

    return instance_seed(seed, MIRROR_SEED_TAG)


@dataclass(frozen=True)
class LayerRun:
    """One (bias, chip) of a layer check: activations (gamma) of the same samples."""

    bias_a: float
    chip: int | None
    """The chip (its cells' Monte Carlo instances), None: the nominal circuit."""
    runner: np.ndarray
    """(S, H) the runner with the chip's measured mirror gains."""
    ideal_mirrors: np.ndarray
    """(S, H) the runner with every mirror an exact copy at its ratio."""
    spice: np.ndarray
    """(S', H) ngspice, on the rows ``LayerRuns.spice_rows`` of the samples."""


@dataclass(frozen=True)
class LayerRuns:
    """Every run of one layer check, and what the figures need to be read."""

    runs: tuple[LayerRun, ...]
    spice_rows: np.ndarray
    """Indices of the samples ngspice simulated."""
    range_gamma: float
    """The activation's range (2 h gamma): errors are in % of it."""
    spice_s_per_sample: float
    """ngspice CPU time per sample: this process's and its workers' CPU seconds while the
    samples ran (getrusage) / samples."""
    runner_s_per_sample: float
    workers: int
    netlist_hashes: tuple[str, ...]
    seeds: dict[str, int]


def frame_of(res: LayerRuns) -> pd.DataFrame:
    """Every (bias, chip, sample, neuron) that ngspice simulated, with both runners' values
    and their errors in % of the activation range."""
    import pandas as pd

    parts = []
    rows = res.spice_rows
    for r in res.runs:
        sp = r.spice
        s, h = sp.shape
        parts.append(
            pd.DataFrame(
                {
                    "bias_a": r.bias_a,
                    "chip": -1 if r.chip is None else r.chip,
                    "sample": np.repeat(rows, h),
                    "neuron": np.tile(np.arange(h), s),
                    "h_spice": sp.ravel(),
                    "h_runner": r.runner[rows].ravel(),
                    "h_runner_ideal_mirrors": r.ideal_mirrors[rows].ravel(),
                }
            )
        )
    frame = pd.concat(parts, ignore_index=True)
    scale = 100.0 / res.range_gamma
    frame["err_pct"] = scale * (frame["h_runner"] - frame["h_spice"])
    frame["err_ideal_mirrors_pct"] = scale * (frame["h_runner_ideal_mirrors"] - frame["h_spice"])
    return frame


def summarize(frame: pd.DataFrame) -> pd.DataFrame:
    """Max and RMS error (% of the activation range) per bias and chip (-1: nominal)."""
    g = frame.groupby(["bias_a", "chip"])
    return g.agg(
        max_err_pct=("err_pct", lambda e: float(np.abs(e).max())),
        rms_err_pct=("err_pct", lambda e: float(np.sqrt(np.mean(e**2)))),
        max_err_ideal_mirrors_pct=("err_ideal_mirrors_pct", lambda e: float(np.abs(e).max())),
        rms_err_ideal_mirrors_pct=(
            "err_ideal_mirrors_pct", lambda e: float(np.sqrt(np.mean(e**2)))
        ),
    ).reset_index()  # fmt: skip


def split_power(p_one_w: float, p_two_w: float) -> tuple[float, float]:
    """(per-neuron, shared) supply power from a 1- and a 2-neuron layer's: the second
    neuron adds one neuron's power; what the one-neuron layer draws beyond that is shared
    (fan-out diodes, bias masters)."""
    return p_two_w - p_one_w, 2 * p_one_w - p_two_w


def check_summary(
    res: LayerRuns,
    table: pd.DataFrame,
    setup: dict[str, Any],
    seed: int,
    model_info: dict[str, Any],
    models: dict[str, str],
) -> dict[str, Any]:
    """OUT/summary.json of a layer check: the errors per bias and chip (``table``, from
    :func:`summarize`), the worst, the speed, and what reproduces it."""
    from sactk.versions import tool_versions

    ratio = res.spice_s_per_sample / max(res.runner_s_per_sample, 1e-12)
    return {
        "setup": setup,
        "errors": table.to_dict(orient="records"),
        "worst": {
            "max_err_pct": float(table["max_err_pct"].max()),
            "rms_err_pct": float(table["rms_err_pct"].max()),
        },
        "speed": {
            "spice_s_per_sample": res.spice_s_per_sample,
            "runner_s_per_sample": res.runner_s_per_sample,
            "ratio": ratio,
            "note": "SPICE: CPU seconds of the process and its workers (getrusage) / samples; "
            "runner: CPU seconds of one forward of all samples per chip and bias / samples",
        },
        "seeds": res.seeds | {"weights_and_inputs": seed},
        "technology": (model_info.get("technology") or {}).get("name", "c180"),
        "versions": tool_versions(),
        "netlist_hashes": list(res.netlist_hashes),
        "models": models,
    }
