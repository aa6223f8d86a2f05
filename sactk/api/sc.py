"""Stochastic computing with probabilistic-switching (CBRAM-like) devices: training with SC
weight updates, the device fit, and the MAC cost."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sactk.api.reporter import Quiet, Reporter
from sactk.errors import SpecError
from sactk.files import write_json


def device(
    tau0: float = 2.85e5,
    v0: float = 0.156,
    width: float = 1e-3,
    sigma_ln_tau0: float = 0.1,
    sigma_v0: float = 0.01,
) -> Any:
    """A switching-device model (``system.sc.Device``): tau0 in s, V0 in V (defaults from
    Jo et al., Nano Letters 2009; docs/sc.md), the encoding pulse width in s, and the
    device-to-device spreads."""
    from sactk.system.sc import Device

    return Device(tau0, v0, width, sigma_ln_tau0, sigma_v0)


def train(
    out: str | Path,
    *,
    length: int = 256,
    seeds: int = 3,
    net: str = "cnn",
    epochs: int = 20,
    lr: float = 0.1,
    lengths: list[int] | None = None,
    bits: list[int] | None = None,
    packed: bool = False,
    dev: Any = None,
    reporter: Reporter | None = None,
) -> dict[str, Any]:
    """Train on scikit-learn's 8x8 digits with SC weight updates and a floating-point
    baseline; sweep the stream ``lengths`` and weight ``bits``. Writes summary.json and the
    plots into ``out``; returns the summary."""
    from sactk.system.plots import plot_sc
    from sactk.system.sc_train import NETS, experiment
    from sactk.versions import tool_versions

    rep = reporter or Quiet()
    out = Path(out)
    if net not in NETS:
        raise SpecError(f"--net {net!r}: choose one of {', '.join(NETS)}")
    ls = [16, 32, 64, 128, 256, 512, 1024] if lengths is None else lengths
    bs = list(range(4, 17)) if bits is None else bits
    if any(v < 1 for v in ls) or any(not 2 <= b <= 32 for b in bs):
        raise SpecError("--lengths must be >= 1 and --bits within 2..32")
    dev = dev if dev is not None else device()
    with rep.progress("training") as progress:
        summary: dict[str, Any] = experiment(
            net, length, seeds, ls, bs, dev, epochs, lr, packed, progress=progress
        )
    summary["device"] = dict(dev.__dict__)
    summary["versions"] = tool_versions()
    summary["packed"] = packed
    write_json(out / "summary.json", summary)
    plot_sc(summary, out)
    return summary


def fit_device(
    out: str | Path,
    data: str | Path | None = None,
    *,
    width: float = 1e-3,
    sigma_ln_tau0: float = 0.1,
    sigma_v0: float = 0.01,
) -> dict[str, Any]:
    """Fit tau0 and V0 to switching-probability data (a CSV with amplitude_v, width_s,
    switched, trials; default the bundled synthetic set); write device_fit.json and a plot
    of data, fit and the encoding spread of 2000 devices with the given variation."""
    import numpy as np
    import pandas as pd

    from sactk.system.plots import plot_device_fit
    from sactk.system.sc import EXAMPLE_DATA, encoding_spread
    from sactk.system.sc import fit_device as fit

    path = Path(data) if data is not None else EXAMPLE_DATA
    if not path.is_file():
        raise SpecError(f"--data {path}: no such file")
    try:
        df = pd.read_csv(path, comment="#")
    except (ValueError, OSError) as exc:
        raise SpecError(f"--data {path}: not a readable CSV ({exc})") from None
    need = ["amplitude_v", "width_s", "switched", "trials"]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise SpecError(
            f"--data {path.name}: missing columns {', '.join(missing)}; need {', '.join(need)}"
        )
    for c in need:
        if not pd.api.types.is_numeric_dtype(df[c]) or df[c].isna().any():
            raise SpecError(f"--data {path.name}: column {c!r} must be numbers with no gaps")
    fitted = fit(df["amplitude_v"], df["width_s"], df["switched"], df["trials"])
    dev = device(fitted[0], fitted[1], width, sigma_ln_tau0, sigma_v0)
    spread = encoding_spread(dev, np.linspace(0.01, 0.99, 50), 2000, 0)
    out = Path(out)
    plot_device_fit(df, dev, fitted, spread, out)
    doc = {"data": str(path), "tau0_s": fitted[0], "v0_v": fitted[1], "rows": len(df)}
    write_json(out / "device_fit.json", doc)
    return doc


def mac_cost(lengths: list[int] | None = None) -> list[dict[str, Any]]:
    """Gate equivalents of an SC multiply-accumulate against a fixed-point MAC of the same
    effective precision, per stream length (gate model in docs/sc.md)."""
    from sactk.system.sc import mac_cost as cost

    return [{"length": L, **cost(L)} for L in lengths or [16, 64, 256, 1024]]
