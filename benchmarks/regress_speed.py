"""S-AC runner throughput: the vectorized hidden layer against a per-sample Python loop.

Both evaluate the same layer (64 tanh neurons, 2 inputs + bias input, the demo's lookup
models in demo-out/models, 5 sampled chips) at one operating point; the figure is samples x
chips evaluated per second. Run after `make demo`:

    OMP_NUM_THREADS=1 taskset -c 0 .venv/bin/python benchmarks/regress_speed.py [MODELS]
"""

from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path

import numpy as np


def main(folder: str = "demo-out/models") -> None:
    from sactk.system.regression import load_models
    from sactk.system.sac import Chips, SACHiddenLayer

    if not (Path(folder) / "inner_product.json").is_file():
        sys.exit(f"{folder}: no models; run `make demo` first")
    m = load_models(folder)
    rng = np.random.default_rng(0)
    hidden, n_chips = 64, 5
    W = rng.uniform(-0.4, 0.4, (hidden, 3))
    layer = SACHiddenLayer(m.ip, m.act, W, gain=4.0)
    chips = layer.sample_chips(n_chips, seed=0)
    bias, temp = 1e-7, 27.0

    n_vec = 20_000
    X = rng.uniform(-0.4, 0.4, (n_vec, 3))
    best_vec = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        h_vec, _ = layer.forward(X, bias, temp, chips=chips)
        best_vec = min(best_vec, time.perf_counter() - t0)

    # the straightforward way: one sample of one chip at a time, same model, same layer
    n_loop = 200
    per_chip = [
        Chips(
            1,
            chips.ip[c * hidden * layer.blocks : (c + 1) * hidden * layer.blocks],
            chips.act[c * hidden : (c + 1) * hidden],
            None,
        )
        for c in range(n_chips)
    ]
    t0 = time.perf_counter()
    h_loop = np.empty((n_chips, n_loop, hidden))
    for s in range(n_loop):
        for c in range(n_chips):
            h_loop[c, s], _ = layer.forward(X[s : s + 1], bias, temp, chips=per_chip[c])
    t_loop = time.perf_counter() - t0
    assert np.allclose(h_loop, h_vec[:, :n_loop]), "loop and vectorized runner disagree"

    rate_vec = n_vec * n_chips / best_vec
    rate_loop = n_loop * n_chips / t_loop
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores (pinned to one), "
        f"Python {platform.python_version()}, NumPy {np.__version__}"
    )
    print(f"layer: {hidden} S-AC neurons, {layer.blocks} inner-product block(s), {n_chips} chips")
    print("| runner | samples x chips | wall (s) | samples x chips / s |")
    print("| --- | --- | --- | --- |")
    vec = "vectorized `SACHiddenLayer.forward`"
    print(f"| {vec} | {n_vec * n_chips} | {best_vec:.3f} | {rate_vec:.3g} |")
    print(f"| per-sample Python loop | {n_loop * n_chips} | {t_loop:.3f} | {rate_loop:.3g} |")
    print(f"speed-up: {rate_vec / rate_loop:.0f}x (goal >= 100x); results identical")


if __name__ == "__main__":
    main(*sys.argv[1:])
