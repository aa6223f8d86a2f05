"""The S-AC bias-scaling experiment: regression on characterized circuits.

A hidden layer of S-AC neurons with fixed random weights (the chip) maps the inputs to
activations computed through the cells' lookup models at one operating point; a linear
readout turns them into the prediction. Two ways to get the readout:

* **hardware in the loop** (``r2_*``): ridge regression on the activations of *that chip* at
  *that* operating point, as a chip calibrated in the field would be; scored on held-out data;
* **trained in floating point** (``r2_float_*``): ridge regression on the ideal network's
  activations (the cells' ideal() functions), then run on each chip without calibration;
  the gap is what mismatch and circuit error cost. ``r2_float_nominal`` runs the same
  readout on the mismatch-free circuit: the cost of circuit error alone.

Energy and speed come from the characterization (:func:`inference_cost`): when the timing
table holds the layer netlist's step response (``sactk verify step``, what ``sactk demo``
writes), an inference takes the neuron's settling time and the layer draws the measured
power of its transistors, mirrors and bias distribution included; otherwise the inner
product's MP step plus the tanh cell's step and the cells' own power. Each is log-log
interpolated in bias; energy_j = power_w x that time and throughput_hz = 1 / it. The
digital readout is not counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sactk.errors import SpecError
from sactk.seeds import stream_rng
from sactk.system.datasets import Dataset
from sactk.system.sac import Chips, SACHiddenLayer

INPUT_RATIO = 0.4
"""Inputs and weights span +-0.4 gamma: |w| + |x| <= 0.8 < c = 1 gamma, the inner-product
encoding's limit, as in the inner-product presets."""


WINDOWS = (1.0, 4.0, 16.0)
"""Readout windows of the noise trade-off, in settling times: a window shorter than the
settling time would read an unsettled output, which the runner does not model."""
NOISE_COLUMNS = ("r2_noise_mean", "r2_noise_std", "r2_noise_min", "noise_rms_gamma",
                 "noise_window_s")  # fmt: skip


@dataclass(frozen=True)
class Models:
    ip: Any
    act: Any
    timing: Any | None
    """DataFrame with bias_a and settle_s (temp_c optional), or None."""
    source: dict[str, str]


def load_models(folder: str | Path, activation: str = "tanh") -> Models:
    """The models `sactk demo` fits: FOLDER/inner_product.*, FOLDER/<activation>.* and
    FOLDER/timing.csv (settling time against bias)."""
    import pandas as pd

    from sactk.analysis.model import load_model

    f = Path(folder)
    out = {}
    for name in ("inner_product", activation):
        if not (f / f"{name}.json").is_file():
            raise SpecError(
                f"--model {f}: no {name} model ({f / name}.json); run `sactk demo`, or "
                f"`sactk fit RESULTS --out {f / name}` on a {name} sweep with Monte Carlo"
            )
        out[name] = load_model(f / name)
    timing = None
    if (f / "timing.csv").is_file():
        timing = pd.read_csv(f / "timing.csv")
        if not {"bias_a", "settle_s"} <= set(timing.columns):
            raise SpecError(f"{f / 'timing.csv'}: needs columns bias_a and settle_s")
    return Models(
        out["inner_product"],
        out[activation],
        timing,
        {k: str(f / k) for k in out}
        | {"timing": str(f / "timing.csv") if timing is not None else ""},
    )


def settle_s(timing: Any, bias_a: float, temp_c: float, column: str = "settle_s") -> float:
    """Settling time ``column`` at ``bias_a``: log-log interpolation over the timing table's
    biases (at the nearest tabulated temperature)."""
    if timing is None or timing.empty or column not in timing.columns:
        return float("nan")
    t = timing
    if "temp_c" in t.columns:
        near = t["temp_c"].iloc[int(np.argmin(np.abs(t["temp_c"].to_numpy() - temp_c)))]
        t = t[t["temp_c"] == near]
    t = t.sort_values("bias_a")
    lb = np.log10(t["bias_a"].to_numpy(float))
    ls = np.log10(t[column].to_numpy(float))
    return float(10 ** np.interp(np.log10(bias_a), lb, ls))


def scale_features(X: np.ndarray, train: np.ndarray) -> np.ndarray:
    """Min-max scale every feature to +-INPUT_RATIO gamma on the training rows (clipped)."""
    lo = X[train].min(axis=0)
    hi = X[train].max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    z = (X - lo) / span * 2.0 - 1.0
    return np.clip(z, -1.0, 1.0) * INPUT_RATIO


def ridge(H: np.ndarray, y: np.ndarray, lam: float) -> np.ndarray:
    """Ridge readout with intercept for a stack of feature matrices: H (C, S, F), y (S,)
    -> (C, F + 1). The penalty is relative to the mean feature power."""
    c, s, f = H.shape
    A = np.concatenate([H, np.ones((c, s, 1))], axis=-1)
    ata = np.einsum("csi,csj->cij", A, A)
    scale = np.trace(ata, axis1=1, axis2=2) / (f + 1)
    reg = lam * scale[:, None, None] * np.eye(f + 1)[None]
    reg[:, -1, -1] = 0.0  # the intercept is not penalized
    aty = np.einsum("csi,s->ci", A, y)
    return np.linalg.solve(ata + reg, aty[..., None])[..., 0]


def predict(H: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """(C, S, F) features, (C or 1, F + 1) readouts -> (C, S)."""
    return np.einsum("csf,cf->cs", H, beta[..., :-1]) + beta[..., -1:]


def split_and_weights(
    ds: Dataset, hidden: int, seed: int, test_fraction: float = 0.3
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The experiment's seeded draws: (train mask, test mask, inputs (S, D + 1) in gamma with
    a constant last input for the neuron's bias, weights (H, D + 1) in gamma)."""
    # its own stream: the synthetic data sets draw x from default_rng(seed), and a split
    # from the same stream would select x by value
    rng = stream_rng(seed, 0x5AC)
    n = len(ds.y)
    test = rng.random(n) < test_fraction
    train = ~test
    if train.sum() < 5 or test.sum() < 5:
        raise SpecError(f"data: {n} rows are too few to split into training and test sets")
    X = scale_features(ds.X, train)
    W = rng.uniform(-INPUT_RATIO, INPUT_RATIO, (hidden, X.shape[1] + 1))
    Xb = np.column_stack([X, np.full(n, INPUT_RATIO)])  # a constant input: the neuron's bias
    return train, test, Xb, W


def readout_r2(
    y: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    h_fit: np.ndarray,
    h_tests: list[np.ndarray],
    lam: float,
) -> list[float]:
    """Chip in the loop: a ridge readout trained on the activations ``h_fit`` (S, H) of the
    training rows, then R2 on the test rows for each of ``h_tests`` (each (test rows, H):
    the same chip in the runner, in SPICE, ...)."""
    beta = ridge(h_fit[train][None], y[train], lam)
    return [float(r2_rmse(y[test], predict(h[None], beta))[0][0]) for h in h_tests]


def r2_rmse(y: np.ndarray, pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """R2 and RMSE of every row of ``pred`` (C, S) against ``y`` (S,)."""
    res = pred - y[None]
    ss = np.sum((y - y.mean()) ** 2)
    return 1.0 - np.sum(res**2, axis=1) / ss, np.sqrt(np.mean(res**2, axis=1))


def run(
    ds: Dataset,
    models: Models,
    hidden: int = 64,
    chips: int = 5,
    seed: int = 0,
    biases: list[float] | None = None,
    temps: list[float] | None = None,
    corner: str | None = None,
    gain: float = 4.0,
    lam: float = 1e-6,
    test_fraction: float = 0.3,
    quantize_bits: int = 0,
    chip_source: str = "auto",
    windows: tuple[float, ...] = WINDOWS,
    progress: Any = None,
) -> tuple[Any, dict[str, Any]]:
    """The experiment over operating points. Returns (rows DataFrame, details for plots).

    ``chip_source``: ``simulated`` builds the chips from the fitted Monte Carlo instances
    (SACHiddenLayer.simulated_chips), ``sampled`` draws them from the statistical mismatch
    model with ``seed``, ``auto`` is simulated when the models hold enough instances.

    With noise terms in both models and a settling time, every operating point also gets
    ``r2_noise_*``: the chip in the loop on noisy reads (:func:`noisy_r2`) over a readout
    window of the neuron's settling time, and ``details["tradeoff"]`` the same at windows
    of ``windows`` times it, with the energy each costs."""
    import pandas as pd

    if hidden < 1 or chips < 1:
        raise SpecError("--hidden and --chips must be at least 1")
    train, test, Xb, W = split_and_weights(ds, hidden, seed, test_fraction)
    if quantize_bits:
        W = quantize_to_law_checked(W, quantize_bits, min(2, quantize_bits - 1))
    layer = SACHiddenLayer(models.ip, models.act, W, gain=gain)
    u = layer.ideal_ip(Xb)
    # the floating-point network: ideal cells, readout fitted once
    h_ideal = layer.ideal(Xb)[None]
    beta_float = ridge(h_ideal[:, train], ds.y[train], lam)
    r2_ideal, rmse_ideal = r2_rmse(ds.y[test], predict(h_ideal[:, test], beta_float))
    if chip_source not in ("auto", "simulated", "sampled"):
        raise SpecError(f"--chip-source {chip_source!r}: use auto, simulated or sampled")
    n_ip, n_act = layer.instances_needed(chips)
    enough = len(models.ip.chip_ids_) >= n_ip and len(models.act.chip_ids_) >= n_act
    if chip_source == "simulated" or (chip_source == "auto" and enough):
        chip_set: Chips = layer.simulated_chips(chips)
        chip_source = "simulated"
    else:
        chip_set = layer.sample_chips(chips, seed)
        chip_source = "sampled"
    biases = biases or [float(10**v) for v in models.ip.log_bias_]
    temps = temps or [float(t) for t in models.ip.temp_c_]
    rows = []
    curves: dict[tuple[float, float], np.ndarray] = {}
    has_noise = bool(models.ip.meta_.get("noise")) and bool(models.act.meta_.get("noise"))
    if 1.0 not in windows:
        raise SpecError("--windows: include 1 (the readout window of the settling time itself)")
    tradeoff: list[dict[str, Any]] = []
    total = len(biases) * len(temps)
    for i, (temp, bias) in enumerate((t, b) for t in temps for b in biases):
        h, clipped = layer.forward(Xb, bias, temp, corner, chip_set, ideal_ip=u)
        beta = ridge(h[:, train], ds.y[train], lam)
        r2, rmse = r2_rmse(ds.y[test], predict(h[:, test], beta))
        r2f, rmsef = r2_rmse(ds.y[test], predict(h[:, test], beta_float))
        h_nom, _ = layer.forward(Xb, bias, temp, corner, None, ideal_ip=u)
        r2n, _ = r2_rmse(ds.y[test], predict(h_nom[:, test], beta_float))
        curves[(temp, bias)] = predict(h, beta)
        t_inf, power, timing_from = inference_cost(models.timing, layer, hidden, bias, temp, corner)
        noisy: dict[str, float] = {}
        if has_noise and t_inf == t_inf:
            for m in windows:
                r2w, rms = noisy_r2(
                    layer, Xb, (bias, temp, corner), chip_set, u, (ds.y, train, test, lam),
                    m * t_inf, seed, h,
                )  # fmt: skip
                tradeoff.append({"bias_a": bias, "temp_c": temp, "window_s": m * t_inf,
                                 "window_settle": m, "energy_j": power * m * t_inf,
                                 "r2_noise_mean": float(r2w.mean()), "r2_mean": float(r2.mean()),
                                 "noise_rms_gamma": rms})  # fmt: skip
                if m == 1.0:
                    noisy = {"r2_noise_mean": float(r2w.mean()), "r2_noise_std": float(r2w.std()),
                             "r2_noise_min": float(r2w.min()), "noise_rms_gamma": rms,
                             "noise_window_s": t_inf}  # fmt: skip
        # the cells-only estimate, for comparison (docs/regression.md)
        t_cells, p_cells, _ = inference_cost(
            models.timing, layer, hidden, bias, temp, corner, use_layer=False
        )
        rows.append(
            {
                "bias_a": bias,
                "temp_c": temp,
                "chips": chips,
                "chip_source": chip_source,
                "r2_mean": float(r2.mean()),
                "r2_std": float(r2.std()),
                "r2_min": float(r2.min()),
                **dict.fromkeys(NOISE_COLUMNS, float("nan")),
                **noisy,
                "rmse_mean": float(rmse.mean()),
                "rmse_std": float(rmse.std()),
                "r2_float_mean": float(r2f.mean()),
                "r2_float_std": float(r2f.std()),
                "rmse_float_mean": float(rmsef.mean()),
                "r2_float_nominal": float(r2n[0]),
                "r2_ideal": float(r2_ideal[0]),
                "rmse_ideal": float(rmse_ideal[0]),
                "clipped_frac": clipped,
                "power_w": power,
                "settle_s": t_inf,
                "energy_j": power * t_inf,
                "throughput_hz": 1.0 / t_inf if t_inf == t_inf else float("nan"),
                "timing_from": timing_from,
                "energy_cells_j": p_cells * t_cells,
                "throughput_cells_hz": 1.0 / t_cells if t_cells == t_cells else float("nan"),
            }
        )
        if progress is not None:
            progress(i + 1, total)
    details = {"X": ds.X, "y": ds.y, "test": test, "curves": curves, "weights": W,
               "tradeoff": pd.DataFrame(tradeoff)}  # fmt: skip
    return pd.DataFrame(rows), details


def noisy_r2(
    layer: SACHiddenLayer,
    Xb: np.ndarray,
    op: tuple[float, float, Any],
    chip_set: Chips,
    u: np.ndarray,
    task: tuple[np.ndarray, np.ndarray, np.ndarray, float],
    window_s: float,
    seed: int,
    h0: np.ndarray,
) -> tuple[np.ndarray, float]:
    """Chip in the loop with noise: every sample is read once through a window
    ``window_s`` (each cell's noise, seeded), the readout is fitted on the noisy training
    reads and scored on the noisy test reads. Returns (R2 per chip, RMS of the activations'
    noise in gamma); ``h0``: the same activations without noise."""
    bias, temp, corner = op
    y, train, test, lam = task
    h, _ = layer.forward(
        Xb, bias, temp, corner, chip_set, ideal_ip=u, noise_window_s=window_s, noise_seed=seed
    )
    beta = ridge(h[:, train], y[train], lam)
    r2, _ = r2_rmse(y[test], predict(h[:, test], beta))
    return r2, float(np.sqrt(np.mean((h - h0) ** 2)))


def inference_cost(
    timing: Any,
    layer: SACHiddenLayer,
    hidden: int,
    bias: float,
    temp: float,
    corner: Any,
    use_layer: bool = True,
) -> tuple[float, float, str]:
    """(time per inference s, layer power W, where they come from). With the layer
    netlist's step response in the timing table (``settle_layer_s``, ``power_neuron_w``,
    ``power_shared_w``: sactk.api.layer.step_response), the neuron's own settling and the
    power of every transistor of the layer, mirrors included; else the cells' steps (the
    inner product's MP step plus the tanh cell's, or a second MP step) and the cells'
    power only."""
    if use_layer and timing is not None and "settle_layer_s" in timing.columns:
        t = settle_s(timing, bias, temp, "settle_layer_s")
        p_n = settle_s(timing, bias, temp, "power_neuron_w")
        p_s = settle_s(timing, bias, temp, "power_shared_w")
        return t, p_s + hidden * p_n, "layer step response (netlist)"
    ts = settle_s(timing, bias, temp)
    ta = settle_s(timing, bias, temp, "settle_act_s")
    return ts + (ta if ta == ta else ts), layer.power_w(bias, temp, corner), "cell steps"


def quantize_to_law_checked(w: np.ndarray, bits: int, exp_bits: int) -> np.ndarray:
    """Weights through the memory law with 2 segment bits (1 below 3 bits), as the
    compressive-memory preset has."""
    from sactk.system.sac import quantize_to_law

    if not 2 <= bits <= 12:
        raise SpecError(f"--quantize-bits {bits}: use 2 to 12 (0 turns quantization off)")
    return quantize_to_law(w, bits, exp_bits, INPUT_RATIO)
