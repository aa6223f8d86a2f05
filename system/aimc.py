"""Analog in-memory computing: a vectorized crossbar tile model, networks trained in floating
point, and inference through tiles with FP32, FP16 or fixed-point NMPU post-processing.

**Tile** (one per 64 x 64 block of a layer's weight matrix; rows are inputs). Weights map to
differential conductance pairs, G+ - G- = W / w_max G_max, each device programmed with
Gaussian noise of ``prog_sigma`` G_max. Inputs are DAC codes (``dac_bits``, unsigned) driving
row voltages x_code / (2^b - 1) V_read. A column's current is the sum of G V, with read noise
of ``read_sigma`` of each device current (summed in quadrature), then the column's analog
gain and offset (the crossbar's characterized transimpedance read-out: a gain error of
``gain_sigma`` and an offset of ``offset_sigma`` of full scale per column and chip, and an
IR-drop gain loss ``ir_drop`` x rows / 64 for a full tile), and an ADC (``adc_bits``, signed)
over a full scale set per layer from training data. Tiles of a layer add their codes
digitally.

Defaults are assumptions of the order reported for PCM/RRAM tiles (e.g. Joshi et al., Nature
Communications 11, 2473, 2020: a few % programming noise, about 1 % read noise); the column
gain, offset and IR drop defaults come from this repo's crossbar characterization
(docs/aimc.md). All are options.

**NMPU** (system/nmpu.py): after calibration (each chip's per-column gain and offset,
measured by driving the tiles with calibration inputs and fitting codes against the ideal
W x), the per-column affine folds calibration, bias and batch-norm; then ReLU and the next
layer's DAC codes. Only the NMPU's arithmetic differs between the FP32, FP16 and fixed paths;
the analog codes are the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sactk.errors import SpecError
from sactk.seeds import stream_rng
from sactk.system.nmpu import NMPU, PATHS, NMPUFormat, fold

TILE = 64


# -- networks with batch-norm, trained in floating point -----------------------------------


@dataclass
class Layer:
    """A dense layer (a conv is a dense layer on 3x3 patches): W (in, out), bias, optional
    batch-norm and ReLU; ``pool`` marks the CNN's conv layer (6x6 maps, 2x2 max pool)."""

    W: np.ndarray
    b: np.ndarray
    bn: list[np.ndarray] | None = None  # gamma, beta, running mean, running var
    relu: bool = True
    conv: bool = False


def _patches(x: np.ndarray) -> np.ndarray:
    """(N, 8, 8) -> (N * 36, 9): the conv layer's 3x3 patches as rows of a dense layer."""
    from sactk.system.sc_train import _im2col

    return _im2col(np.ascontiguousarray(x)).reshape(-1, 9)


def _pool(h: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    c = h.reshape(n, 3, 2, 3, 2, -1)
    p = c.max(axis=(2, 4))
    return p.reshape(n, -1), c == p[:, :, None, :, None, :]


def make_net(kind: str, n_in: int, n_out: int, rng: np.random.Generator) -> list[Layer]:
    def he(a: int, b: int) -> np.ndarray:
        return rng.standard_normal((a, b)) * np.sqrt(2.0 / a)

    def bn(k: int) -> list[np.ndarray]:
        return [np.ones(k), np.zeros(k), np.zeros(k), np.ones(k)]

    if kind == "mlp":
        h = 32 if n_in >= 64 else 16
        return [
            Layer(he(n_in, h), np.zeros(h), bn(h)),
            Layer(he(h, n_out), np.zeros(n_out), relu=False),
        ]
    if kind == "cnn":
        if n_in != 64:
            raise SpecError("--net cnn needs 8x8 images (digits)")
        return [
            Layer(he(9, 8), np.zeros(8), bn(8), conv=True),
            Layer(he(72, n_out), np.zeros(n_out), relu=False),
        ]
    raise SpecError(f"--net {kind!r}: choose cnn or mlp")


def forward(net: list[Layer], x: np.ndarray, train: bool = False) -> tuple[np.ndarray, list[Any]]:
    """Float forward pass; with ``train`` batch statistics and a cache for backward."""
    cache: list[Any] = []
    n = x.shape[0]
    a = x.reshape(n, -1)
    for L in net:
        inp = _patches(a.reshape(n, 8, 8)) if L.conv else a
        z = inp @ L.W + L.b
        c: dict[str, Any] = {"inp": inp}
        if L.bn is not None:
            g, beta, rm, rv = L.bn
            if train:
                mu, var = z.mean(0), z.var(0)
                L.bn[2] = 0.9 * rm + 0.1 * mu
                L.bn[3] = 0.9 * rv + 0.1 * var
            else:
                mu, var = rm, rv
            zh = (z - mu) / np.sqrt(var + 1e-5)
            c.update(zh=zh, var=var)
            z = g * zh + beta
        if L.relu:
            c["mask"] = z > 0
            z = np.maximum(z, 0.0)
        if L.conv:
            z, c["pmask"] = _pool(z, n)
            c["pre"] = z
        cache.append(c)
        a = z
    return a, cache


def backward(
    net: list[Layer], cache: list[Any], dz: np.ndarray, n: int
) -> list[dict[str, np.ndarray]]:
    grads: list[dict[str, np.ndarray]] = [{} for _ in net]
    d = dz
    for i in range(len(net) - 1, -1, -1):
        L, c = net[i], cache[i]
        if L.conv:
            m = c["pmask"]
            d = (m * d.reshape(n, 3, 1, 3, 1, -1)).reshape(n * 36, -1)
        if L.relu:
            d = d * c["mask"]
        if L.bn is not None:
            g = L.bn[0]
            zh = c["zh"]
            grads[i]["gamma"] = (d * zh).sum(0)
            grads[i]["beta"] = d.sum(0)
            dzh = d * g
            d = (dzh - dzh.mean(0) - zh * (dzh * zh).mean(0)) / np.sqrt(c["var"] + 1e-5)
        grads[i]["W"] = c["inp"].T @ d
        grads[i]["b"] = d.sum(0)
        if i > 0:
            d = d @ L.W.T
    return grads


def train(
    net: list[Layer], x: np.ndarray, y: np.ndarray, seed: int, epochs: int = 30, lr: float = 0.05
) -> list[Layer]:
    rng = stream_rng(seed, 0xA1)
    vel: list[dict[str, np.ndarray]] = [{} for _ in net]
    for _ in range(epochs):
        perm = rng.permutation(len(y))
        for s in range(0, len(y), 32):
            idx = perm[s : s + 32]
            if len(idx) < 2:
                continue
            out, cache = forward(net, x[idx], train=True)
            z = out - out.max(1, keepdims=True)
            p = np.exp(z)
            p /= p.sum(1, keepdims=True)
            p[np.arange(len(idx)), y[idx]] -= 1.0
            grads = backward(net, cache, p / len(idx), len(idx))
            for L, g, v in zip(net, grads, vel, strict=True):
                for k, gk in g.items():
                    v[k] = 0.9 * v.get(k, 0.0) + gk
                    if k == "W":
                        L.W -= lr * v[k]
                    elif k == "b":
                        L.b -= lr * v[k]
                    elif k == "gamma":
                        L.bn[0] -= lr * v[k]  # type: ignore[index]
                    else:
                        L.bn[1] -= lr * v[k]  # type: ignore[index]
    return net


def float_accuracy(net: list[Layer], x: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(np.argmax(forward(net, x)[0], 1) == y))


# -- data ----------------------------------------------------------------------------------


def dataset(name: str, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """(x_train, y_train, x_test, y_test, classes); inputs scaled to [0, 1] (the DAC's
    range), on training statistics; a stratified 70/30 split."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    if name == "digits":
        from sactk.system.sc_train import digits_split

        return (*digits_split(seed), 10)
    if name != "breast-cancer":
        raise SpecError(f"--dataset {name!r}: choose digits or breast-cancer")
    d = load_breast_cancer()
    xtr, xte, ytr, yte = train_test_split(
        d.data, d.target, test_size=0.3, random_state=seed, stratify=d.target
    )
    lo, hi = xtr.min(0), xtr.max(0)
    xtr = (xtr - lo) / (hi - lo)
    xte = np.clip((xte - lo) / (hi - lo), 0.0, 1.0)
    return xtr, np.asarray(ytr), xte, np.asarray(yte), 2


# -- the analog tile -----------------------------------------------------------------------


@dataclass(frozen=True)
class TileSpec:
    dac_bits: int = 8
    adc_bits: int = 8
    prog_sigma: float = 0.02
    read_sigma: float = 0.01
    gain_sigma: float = 0.02
    offset_sigma: float = 0.005
    ir_drop: float = 0.01
    g_max_s: float = 25e-6
    v_read_v: float = 0.2

    def __post_init__(self) -> None:
        for n in ("dac_bits", "adc_bits"):
            if not 2 <= getattr(self, n) <= 16:
                raise SpecError(f"--{n.replace('_', '-')}: use 2 to 16")
        for n in ("prog_sigma", "read_sigma", "gain_sigma", "offset_sigma", "ir_drop"):
            v = getattr(self, n)
            if not (np.isfinite(v) and 0 <= v < 1):
                raise SpecError(f"--{n.replace('_', '-')} {v}: must be in [0, 1)")


@dataclass
class ChipLayer:
    """One layer's tiles on one chip: programmed conductance differences and column
    non-idealities, all as arrays over (row tiles, rows, columns)."""

    dG: np.ndarray  # (in, out) programmed G+ - G- (S)
    dev_sq: np.ndarray  # (in, out) G+^2 + G-^2, for read noise
    gain: np.ndarray  # (row tiles, out)
    offset: np.ndarray  # (row tiles, out), A
    w_max: float
    i_fs: float = 1.0
    code_gain: float = 1.0


def program(W: np.ndarray, spec: TileSpec, rng: np.random.Generator) -> ChipLayer:
    w_max = float(np.max(np.abs(W))) or 1.0
    gp = np.maximum(W, 0) / w_max * spec.g_max_s
    gn = np.maximum(-W, 0) / w_max * spec.g_max_s
    gp = np.maximum(gp + spec.prog_sigma * spec.g_max_s * rng.standard_normal(W.shape), 0.0)
    gn = np.maximum(gn + spec.prog_sigma * spec.g_max_s * rng.standard_normal(W.shape), 0.0)
    n_in, n_out = W.shape
    tiles = -(-n_in // TILE)
    rows = np.minimum(TILE, n_in - TILE * np.arange(tiles))[:, None]
    gain = (1.0 + spec.gain_sigma * rng.standard_normal((tiles, n_out))) * (
        1.0 - spec.ir_drop * rows / TILE
    )
    fs_col = spec.g_max_s * spec.v_read_v * np.sqrt(TILE)
    offset = spec.offset_sigma * fs_col * rng.standard_normal((tiles, n_out))
    return ChipLayer(gp - gn, gp**2 + gn**2, gain, offset, w_max)


def tile_codes(
    layer: ChipLayer, xq: np.ndarray, spec: TileSpec, rng: np.random.Generator
) -> np.ndarray:
    """(N, in) DAC codes -> (N, out) integer ADC codes summed over the layer's row tiles."""
    n, n_in = xq.shape
    v = xq / (2**spec.dac_bits - 1) * spec.v_read_v
    q = 2 ** (spec.adc_bits - 1) - 1
    total = np.zeros((n, layer.dG.shape[1]), np.int64)
    for t in range(layer.gain.shape[0]):
        sl = slice(t * TILE, min(n_in, (t + 1) * TILE))
        i = v[:, sl] @ layer.dG[sl]
        if spec.read_sigma:
            i = i + spec.read_sigma * np.sqrt(
                (v[:, sl] ** 2) @ layer.dev_sq[sl]
            ) * rng.standard_normal(i.shape)
        i = layer.gain[t] * i + layer.offset[t]
        total += np.clip(np.floor(i / layer.i_fs * q + 0.5), -q, q).astype(np.int64)
    return total


# -- inference through tiles -----------------------------------------------------------------


@dataclass
class AIMCNet:
    """A float-trained network deployed on one chip, ready to run with any NMPU path."""

    net: list[Layer]
    spec: TileSpec
    chip: list[ChipLayer]
    scales: list[float]  # input code scale of each layer (x = code * scale)
    nmpus: dict[str, list[NMPU]] = field(default_factory=dict)

    def run(self, x: np.ndarray, path: str, rng: np.random.Generator) -> np.ndarray:
        n = x.shape[0]
        dmax = 2**self.spec.dac_bits - 1
        a = np.clip(np.floor(x.reshape(n, -1) / self.scales[0] + 0.5), 0, dmax)
        for L, cl, nm in zip(self.net, self.chip, self.nmpus[path], strict=True):
            inp = _patches(a.reshape(n, 8, 8)) if L.conv else a
            y = tile_codes(cl, inp, self.spec, rng)
            a = nm(y, path).astype(float)
            if L.conv:
                a = _pool(a, n)[0]
        return a


def deploy(
    net: list[Layer],
    spec: TileSpec,
    x_cal: np.ndarray,
    rng: np.random.Generator,
    fmt: NMPUFormat,
    out_bits: int = 16,
) -> AIMCNet:
    """Program one chip, set each layer's ADC range and code scales on the calibration
    inputs, calibrate per-column gain and offset from the chip's own codes, and build the
    NMPU of every path."""
    dmax = 2**spec.dac_bits - 1
    q = 2 ** (spec.adc_bits - 1) - 1
    chip = [program(L.W, spec, rng) for L in net]
    # float activations on calibration data give each layer's input code scale
    _, cache = forward(net, x_cal)
    acts = [c["inp"] for c in cache]
    scales = [max(float(x_cal.max()), 1e-12) / dmax]
    scales += [max(float(np.percentile(a, 99.9)), 1e-12) / dmax for a in acts[1:]]
    nmpus: dict[str, list[NMPU]] = {p: [] for p in PATHS}
    for i, (L, cl) in enumerate(zip(net, chip, strict=True)):
        xq = np.clip(np.floor(acts[i] / scales[i] + 0.5), 0, dmax)
        # ADC full scale: the 99.9th percentile of |column current| on calibration data
        v = xq / dmax * spec.v_read_v
        i_col = np.abs(v @ (L.W / cl.w_max * spec.g_max_s))
        cl.i_fs = max(float(np.percentile(i_col, 99.9)), 1e-15) * 1.2
        cl.code_gain = spec.g_max_s * spec.v_read_v * q / (cl.w_max * dmax * cl.i_fs)
        # calibration: fit the chip's codes against the ideal ones, per column
        ideal = cl.code_gain * (xq @ L.W)  # the codes without any non-ideality
        meas = tile_codes(cl, xq, spec, rng).astype(float)
        mx, my = ideal.mean(0), meas.mean(0)
        cov = ((ideal - mx) * (meas - my)).mean(0)
        var = ((ideal - mx) ** 2).mean(0)
        gain = np.where(var > 0, cov / np.where(var > 0, var, 1.0), 1.0)
        gain = np.where(np.abs(gain) > 1e-3, gain, 1.0)
        off = my - gain * mx
        last = i == len(net) - 1
        if not last:
            out_scale = scales[i + 1]
        else:
            # logits: signed codes with the float logits' range over out_bits
            z = acts[i] @ L.W + L.b
            out_scale = max(float(np.max(np.abs(z))), 1e-12) / (2 ** (out_bits - 2))
        bn = None if L.bn is None else (L.bn[0], L.bn[1], L.bn[2], L.bn[3])
        a_c, b_c = fold(gain, off, cl.code_gain, scales[i], L.b, bn, out_scale)
        for p in PATHS:
            nmpus[p].append(
                NMPU(a_c, b_c, out_bits if last else spec.dac_bits, relu=L.relu, fmt=fmt)
            )
    return AIMCNet(net, spec, chip, scales, nmpus)


def evaluate(
    dataset_name: str,
    net_kind: str,
    chips: int,
    seed: int,
    spec: TileSpec,
    fmts: dict[str, NMPUFormat] | None = None,
    epochs: int = 30,
) -> dict[str, Any]:
    """Train once in float, deploy on ``chips`` chips, run every path (and every extra
    fixed-point format in ``fmts``); accuracies in percent."""
    xtr, ytr, xte, yte, k = dataset(dataset_name, seed)
    rng = np.random.default_rng(seed)
    net = make_net(net_kind, int(np.prod(xtr.shape[1:])), k, rng)
    train(net, xtr, ytr, seed, epochs)
    float_acc = float_accuracy(net, xte, yte)
    fmts = fmts or {"default": NMPUFormat()}
    per: dict[str, list[float]] = {}
    for c in range(chips):
        for name, fmt in fmts.items():
            # the same chip (programming, column errors, calibration noise) for every format
            crng = stream_rng(seed, 0xC41, c)
            dep = deploy(net, spec, xtr, crng, fmt)
            paths = PATHS if name == "default" else ("fixed",)
            for p in paths:
                run_rng = stream_rng(seed, 0xE, c)
                acc = float(np.mean(np.argmax(dep.run(xte, p, run_rng), 1) == yte))
                per.setdefault(p if name == "default" else f"fixed:{name}", []).append(100 * acc)
    out: dict[str, Any] = {"float_acc": 100 * float_acc, "chips": chips, "per_chip": per}
    for key, accs in per.items():
        out[f"{key}_acc_mean"] = float(np.mean(accs))
        out[f"{key}_acc_std"] = float(np.std(accs))
    return out


def parse_format(text: str, what: str) -> Any:
    """``u1.7`` (unsigned, 1 integer, 7 fraction bits) or ``s7.1`` (signed)."""
    from sactk.system.fixed import QFormat

    t = text.strip().lower()
    try:
        sign = {"u": False, "s": True}[t[0]]
        i, f = (int(v) for v in t[1:].split("."))
        return QFormat(i, f, sign)
    except (KeyError, ValueError, IndexError):
        raise SpecError(
            f"{what} {text!r}: write u<int>.<frac> or s<int>.<frac>, e.g. u1.7 or s7.1"
        ) from None
