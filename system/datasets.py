"""Regression data sets: synthetic functions, scikit-learn's bundled diabetes data, a user CSV.

Every loader returns a :class:`Dataset` of float arrays; a user CSV is checked column by
column and refused with a one-line :class:`~sactk.errors.SpecError` naming the problem.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sactk.errors import SpecError

DATASETS = ("sinc", "surface", "diabetes")


@dataclass(frozen=True)
class Dataset:
    name: str
    X: np.ndarray
    """(samples, features), float."""
    y: np.ndarray
    """(samples,), float."""
    features: tuple[str, ...]
    target: str
    description: str = ""
    meta: dict[str, object] = field(default_factory=dict)


def sinc(n: int = 600, seed: int = 0) -> Dataset:
    """y = sinc(3x) = sin(3 pi x) / (3 pi x), x uniform in [-1, 1]: three lobes each side."""
    x = np.random.default_rng(seed).uniform(-1.0, 1.0, n)
    return Dataset(
        "sinc",
        x[:, None],
        np.sinc(3.0 * x),
        ("x",),
        "sinc(3x)",
        "y = sinc(3x), x in [-1, 1]",
        {"n": n, "seed": seed},
    )


def surface(n: int = 1000, seed: int = 0) -> Dataset:
    """A smooth 2-D surface: y = sin(pi x1) cos(pi x2 / 2) + 0.5 x1 x2 on [-1, 1]^2."""
    x = np.random.default_rng(seed).uniform(-1.0, 1.0, (n, 2))
    y = np.sin(np.pi * x[:, 0]) * np.cos(np.pi * x[:, 1] / 2) + 0.5 * x[:, 0] * x[:, 1]
    return Dataset(
        "surface",
        x,
        y,
        ("x1", "x2"),
        "y",
        "sin(pi x1) cos(pi x2 / 2) + x1 x2 / 2",
        {"n": n, "seed": seed},
    )


def diabetes() -> Dataset:
    """scikit-learn's bundled diabetes data (442 patients, 10 features, disease progression
    after one year); shipped inside scikit-learn, no download."""
    from sklearn.datasets import load_diabetes

    d = load_diabetes()
    return Dataset(
        "diabetes",
        np.asarray(d.data, float),
        np.asarray(d.target, float),
        tuple(d.feature_names),
        "progression",
        "scikit-learn diabetes (Efron et al. 2004), 442 x 10",
    )


def load_dataset(name: str, seed: int = 0) -> Dataset:
    if name == "sinc":
        return sinc(seed=seed)
    if name == "surface":
        return surface(seed=seed)
    if name == "diabetes":
        return diabetes()
    raise SpecError(
        f"--dataset: {name!r} is not one of {', '.join(DATASETS)}; or give --data FILE.csv"
    )


def load_csv(path: str | os.PathLike[str], target: str) -> Dataset:
    """Numeric feature columns and one numeric target column from a CSV with a header."""
    import pandas as pd

    p = Path(path)
    if not p.is_file():
        raise SpecError(f"--data {p}: no such file")
    try:
        df = pd.read_csv(p)
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SpecError(f"--data {p}: not a readable CSV ({msg})") from None
    if target not in df.columns:
        cols = ", ".join(map(str, df.columns[:12]))
        raise SpecError(f"--target {target!r}: no such column in {p.name}; columns: {cols}")
    for col in df.columns:
        if not pd.api.types.is_numeric_dtype(df[col]) or pd.api.types.is_bool_dtype(df[col]):
            bad = df[col][pd.to_numeric(df[col], errors="coerce").isna()].iloc[:1]
            where = f" (row {int(bad.index[0]) + 2}: {bad.iloc[0]!r})" if len(bad) else ""
            raise SpecError(
                f"--data {p.name}: column {col!r} is not numeric{where}; give numbers only "
                "or drop the column"
            )
        if df[col].isna().any():
            row = int(np.nonzero(df[col].isna().to_numpy())[0][0]) + 2
            raise SpecError(
                f"--data {p.name}: column {col!r} is empty at row {row}; fill or drop it"
            )
        if not np.isfinite(df[col].to_numpy(float)).all():
            raise SpecError(f"--data {p.name}: column {col!r} holds inf; give finite numbers")
    features = [c for c in df.columns if c != target]
    if not features:
        raise SpecError(f"--data {p.name}: only the target column; add feature columns")
    if len(df) < 20:
        raise SpecError(f"--data {p.name}: {len(df)} rows; give at least 20 to train and test")
    return Dataset(
        p.stem,
        df[features].to_numpy(float),
        df[target].to_numpy(float),
        tuple(map(str, features)),
        target,
        f"user CSV {p.name}, {len(df)} rows x {len(features)} features",
    )
