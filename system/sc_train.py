"""SC-based parameter optimization: a small CNN and an MLP on scikit-learn's 8x8 digits.

Training is plain minibatch SGD with softmax cross-entropy; backpropagation is floating
point. What changes between the modes is how each weight's update, learning rate x gradient,
is computed and stored:

* ``float``: w -= lr g in float64.
* ``fixed``: weights stored in B-bit fixed point (range +-W_MAX, LSB = 2 W_MAX / 2^B),
  w = clip(round((w - lr g) / LSB) LSB): an update below half an LSB vanishes.
* ``sc``: the product lr x |g| is one stochastic-computing multiply per weight: an AND of a
  learning-rate stream (p_a = lr / lr_max, from one device per layer) and a gradient stream
  (p_b = |g| / g_scale, from the weight's own device), L bits long, counted. The update is
  -sign(g) x count x lr_max g_scale / L. Both streams come from the CBRAM model with its
  device-to-device variation (system/sc.py). With float weights, g_scale is the layer's
  largest |g| in the step; with fixed-point weights it is L LSB / lr_max, so one count is one
  LSB and the update is an unbiased stochastic rounding of lr g.

The float baseline uses the same network, data split, initialization, minibatch order and
schedule (one seed drives all of them; the SC draws have their own stream).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sactk.errors import SpecError
from sactk.system.sc import Device, and_counts

W_MAX = 2.0
"""Fixed-point weight range +-W_MAX (He-initialized weights of these nets stay well inside)."""
MODES = ("float", "fixed", "sc")
NETS = ("cnn", "mlp")


def digits_split(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """scikit-learn's bundled 8x8 digits (1797 images, no download), pixels / 16, a
    stratified 70/30 split."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    X = (d.images / 16.0).astype(np.float64)
    xtr, xte, ytr, yte = train_test_split(
        X, d.target, test_size=0.3, random_state=seed, stratify=d.target
    )
    return xtr, np.asarray(ytr), xte, np.asarray(yte)


# -- networks ------------------------------------------------------------------------------


def _im2col(x: np.ndarray) -> np.ndarray:
    """(N, 8, 8) -> (N, 36, 9) 3x3 valid patches."""
    n = x.shape[0]
    s = x.strides
    v = np.lib.stride_tricks.as_strided(x, (n, 6, 6, 3, 3), (s[0], s[1], s[2], s[1], s[2]))
    return v.reshape(n, 36, 9)


class Net:
    """Parameters in ``p`` (name -> array); ``loss_grad`` returns loss and gradients."""

    p: dict[str, np.ndarray]

    def logits(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def loss_grad(self, x: np.ndarray, y: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
        raise NotImplementedError

    def accuracy(self, x: np.ndarray, y: np.ndarray) -> float:
        return float(np.mean(np.argmax(self.logits(x), axis=1) == y))


def _softmax_ce(z: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    p = e / e.sum(axis=1, keepdims=True)
    n = len(y)
    loss = float(-np.mean(np.log(p[np.arange(n), y] + 1e-12)))
    d = p
    d[np.arange(n), y] -= 1.0
    return loss, d / n


class MLP(Net):
    """64 - 32 ReLU - 10."""

    def __init__(self, rng: np.random.Generator, hidden: int = 32) -> None:
        self.p = {
            "w1": rng.standard_normal((64, hidden)) * np.sqrt(2.0 / 64),
            "b1": np.zeros(hidden),
            "w2": rng.standard_normal((hidden, 10)) * np.sqrt(2.0 / hidden),
            "b2": np.zeros(10),
        }

    def _fwd(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        a0 = x.reshape(len(x), 64)
        h = np.maximum(a0 @ self.p["w1"] + self.p["b1"], 0.0)
        return a0, h, h @ self.p["w2"] + self.p["b2"]

    def logits(self, x: np.ndarray) -> np.ndarray:
        return self._fwd(x)[2]

    def loss_grad(self, x: np.ndarray, y: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
        a0, h, z = self._fwd(x)
        loss, dz = _softmax_ce(z, y)
        dh = (dz @ self.p["w2"].T) * (h > 0)
        return loss, {"w2": h.T @ dz, "b2": dz.sum(0), "w1": a0.T @ dh, "b1": dh.sum(0)}


class CNN(Net):
    """conv 3x3 x 8 (valid) - ReLU - 2x2 max pool - dense 72 -> 10."""

    def __init__(self, rng: np.random.Generator, filters: int = 8) -> None:
        self.f = filters
        self.p = {
            "wc": rng.standard_normal((9, filters)) * np.sqrt(2.0 / 9),
            "bc": np.zeros(filters),
            "wd": rng.standard_normal((9 * filters, 10)) * np.sqrt(2.0 / (9 * filters)),
            "bd": np.zeros(10),
        }

    def _fwd(self, x: np.ndarray) -> tuple[Any, ...]:
        n = len(x)
        cols = _im2col(np.ascontiguousarray(x))
        c = np.maximum(cols @ self.p["wc"] + self.p["bc"], 0.0)  # (N, 36, F)
        c6 = c.reshape(n, 3, 2, 3, 2, self.f)
        pooled = c6.max(axis=(2, 4))  # (N, 3, 3, F)
        flat = pooled.reshape(n, -1)
        return cols, c, c6, pooled, flat, flat @ self.p["wd"] + self.p["bd"]

    def logits(self, x: np.ndarray) -> np.ndarray:
        return self._fwd(x)[-1]

    def loss_grad(self, x: np.ndarray, y: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
        n = len(x)
        cols, c, c6, pooled, flat, z = self._fwd(x)
        loss, dz = _softmax_ce(z, y)
        dflat = dz @ self.p["wd"].T
        dpool = dflat.reshape(pooled.shape)
        mask = c6 == pooled[:, :, None, :, None, :]  # ties share the gradient (rare)
        dc = (mask * dpool[:, :, None, :, None, :]).reshape(n, 36, self.f) * (c > 0)
        return loss, {
            "wd": flat.T @ dz,
            "bd": dz.sum(0),
            "wc": np.einsum("npk,npf->kf", cols, dc),
            "bc": dc.sum(axis=(0, 1)),
        }


def make_net(name: str, rng: np.random.Generator) -> Net:
    if name == "cnn":
        return CNN(rng)
    if name == "mlp":
        return MLP(rng)
    raise SpecError(f"--net {name!r}: choose one of {', '.join(NETS)}")


# -- updates -------------------------------------------------------------------------------


@dataclass
class Updater:
    """Applies lr x gradient to the weights in one of MODES (see the module docstring)."""

    mode: str
    lr: float
    bits: int | None = None
    length: int = 256
    device: Device = field(default_factory=Device)
    packed: bool = False
    rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(0))
    devices: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    lr_max: float = 0.0

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise SpecError(f"mode {self.mode!r}: choose one of {', '.join(MODES)}")
        if self.bits is not None and not 2 <= self.bits <= 32:
            raise SpecError(f"--bits {self.bits}: use 2 to 32")
        if self.mode == "fixed" and self.bits is None:
            raise SpecError("mode fixed needs --bits")
        # the learning-rate stream encodes lr / lr_max with lr_max the next power of two
        self.lr_max = 2.0 ** np.ceil(np.log2(self.lr)) if self.lr > 0 else 1.0

    @property
    def lsb(self) -> float:
        return 2.0 * W_MAX / 2.0 ** (self.bits or 52)

    def quantize(self, w: np.ndarray) -> np.ndarray:
        if self.bits is None:
            return w
        lsb = self.lsb
        return np.clip(np.round(w / lsb) * lsb, -W_MAX, W_MAX - lsb)

    def _device_of(self, name: str, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
        """(tau0, V0) of the weight array's gradient devices, plus the layer's lr device."""
        if name not in self.devices:
            n = int(np.prod(shape)) + 1
            tau0, v0 = self.device.sample(n, self.rng)
            self.devices[name] = (tau0, v0)
        return self.devices[name]

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        for name, g in grads.items():
            w = params[name]
            if self.mode in ("float", "fixed"):
                params[name] = self.quantize(w - self.lr * g)
                continue
            mag = np.abs(g)
            if self.bits is None:
                scale = float(mag.max())
                if scale == 0.0:
                    continue
            else:
                scale = self.length * self.lsb / self.lr_max
            tau0, v0 = self._device_of(name, g.shape)
            pa = self.device.encoded(self.lr / self.lr_max, tau0[-1], v0[-1])
            pb = self.device.encoded(
                np.minimum(mag / scale, 1.0).ravel(), tau0[:-1], v0[:-1]
            ).reshape(g.shape)
            k = and_counts(pa, pb, self.length, self.rng, self.packed)
            delta = -np.sign(g) * k * (self.lr_max * scale / self.length)
            params[name] = self.quantize(w + delta) if self.bits is not None else w + delta


# -- training ------------------------------------------------------------------------------


@dataclass
class RunResult:
    net: str
    mode: str
    bits: int | None
    length: int | None
    seed: int
    test_acc: float
    curve: list[tuple[int, float, float]]
    """(epoch, training loss, test accuracy)."""


def train(
    net_name: str,
    mode: str,
    seed: int,
    length: int = 256,
    bits: int | None = None,
    epochs: int = 20,
    lr: float = 0.1,
    batch: int = 32,
    device: Device | None = None,
    packed: bool = False,
    data: tuple[np.ndarray, ...] | None = None,
) -> RunResult:
    """One training run; everything but the SC draws is fixed by ``seed``."""
    xtr, ytr, xte, yte = data if data is not None else digits_split(seed)
    rng = np.random.default_rng(seed)
    net = make_net(net_name, rng)
    upd = Updater(
        mode,
        lr,
        bits=bits,
        length=length,
        device=device or Device(),
        packed=packed,
        rng=np.random.default_rng(np.random.SeedSequence([seed, 0x5C])),
    )
    for k in net.p:
        net.p[k] = upd.quantize(net.p[k])
    order_rng = np.random.default_rng(np.random.SeedSequence([seed, 0x0D]))
    curve = []
    for epoch in range(1, epochs + 1):
        perm = order_rng.permutation(len(ytr))
        losses = []
        for s in range(0, len(perm), batch):
            idx = perm[s : s + batch]
            loss, grads = net.loss_grad(xtr[idx], ytr[idx])
            losses.append(loss)
            upd.step(net.p, grads)
        curve.append((epoch, float(np.mean(losses)), net.accuracy(xte, yte)))
    return RunResult(
        net_name, mode, bits, length if mode == "sc" else None, seed, curve[-1][2], curve
    )


def _stats(accs: list[float]) -> tuple[float, float]:
    a = np.asarray(accs) * 100.0
    return float(a.mean()), float(a.std())


def experiment(
    net: str,
    length: int,
    seeds: int,
    lengths: list[int],
    bits: list[int],
    device: Device,
    epochs: int = 20,
    lr: float = 0.1,
    packed: bool = False,
    progress: Any = None,
) -> dict[str, Any]:
    """Float against SC at ``length`` over ``seeds`` seeds, plus the sweeps over stream
    length and weight precision. Accuracies in percent."""
    if seeds < 1:
        raise SpecError("--seeds must be at least 1")
    runs: list[RunResult] = []
    plan: list[tuple[str, int | None, int]] = [("float", None, length), ("sc", None, length)]
    plan += [("sc", None, L) for L in lengths if length != L]
    for nbits in bits:
        plan += [("fixed", nbits, length), ("sc", nbits, length)]
    total = len(plan) * seeds
    done = 0
    for seed in range(seeds):
        data = digits_split(seed)
        for mode, wbits, L in plan:
            runs.append(
                train(
                    net, mode, seed, L, wbits, epochs, lr, device=device, packed=packed, data=data
                )
            )
            done += 1
            if progress is not None:
                progress(done, total)

    def pick(mode: str, b: int | None, L: int | None) -> list[RunResult]:
        return [r for r in runs if r.mode == mode and r.bits == b and (L is None or r.length == L)]

    fl = pick("float", None, None)
    sc = pick("sc", None, length)
    f_mean, f_std = _stats([r.test_acc for r in fl])
    s_mean, s_std = _stats([r.test_acc for r in sc])
    out: dict[str, Any] = {
        "net": net,
        "length": length,
        "seeds": seeds,
        "seed_values": list(range(seeds)),
        "sc_draws": "SeedSequence([seed, 0x5C]) per run (device spreads and stream draws)",
        "epochs": epochs,
        "lr": lr,
        "float_acc_mean": f_mean,
        "float_acc_std": f_std,
        "sc_acc_mean": s_mean,
        "sc_acc_std": s_std,
        "sc_minus_float": s_mean - f_mean,
        "lengths": [],
        "precision": [],
        "curves": {
            "float": [r.curve for r in fl],
            "sc": [r.curve for r in sc],
        },
    }
    for L in sorted(set(lengths) | {length}):
        m, s = _stats([r.test_acc for r in pick("sc", None, L)])
        out["lengths"].append({"length": L, "sc_acc_mean": m, "sc_acc_std": s})
    for b in bits:
        fm, fs = _stats([r.test_acc for r in pick("fixed", b, None)])
        sm, ss = _stats([r.test_acc for r in pick("sc", b, length)])
        out["precision"].append(
            {
                "bits": b,
                "fixed_acc_mean": fm,
                "fixed_acc_std": fs,
                "sc_acc_mean": sm,
                "sc_acc_std": ss,
            }
        )
    return out
