"""The regression runner's pure parts: ridge readout, weight quantization, feature scaling,
the split, and CSV validation (no simulator)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sactk.errors import SpecError
from sactk.system import regression as R
from sactk.system.datasets import load_csv, load_dataset, sinc
from sactk.system.sac import quantize_to_law


def test_ridge_matches_least_squares_per_chip() -> None:
    rng = np.random.default_rng(0)
    H = rng.normal(size=(3, 200, 5))
    beta_true = rng.normal(size=(3, 6))
    y = np.einsum("csf,cf->cs", H, beta_true[:, :5]) + beta_true[:, 5:]
    for c in range(3):  # one target per chip here: fit each separately and compare
        b = R.ridge(H[c : c + 1], y[c], lam=0.0)
        np.testing.assert_allclose(b[0], beta_true[c], atol=1e-9)
    r2, rmse = R.r2_rmse(y[0], R.predict(H[:1], R.ridge(H[:1], y[0], 0.0)))
    assert r2[0] == pytest.approx(1.0) and rmse[0] < 1e-9
    # the penalty shrinks the weights but not the intercept
    b = R.ridge(H[:1], y[0] + 100.0, lam=10.0)
    assert np.abs(b[0, :5]).sum() < np.abs(beta_true[0, :5]).sum()
    assert b[0, 5] == pytest.approx(100.0 + beta_true[0, 5], abs=1.0)


def test_quantize_to_law_lands_on_the_memory_levels() -> None:
    from sactk.circuits.cmem import law_units

    w = np.linspace(-0.4, 0.4, 101)
    q = quantize_to_law(w, 6, 2, 0.4)
    levels = law_units(np.arange(64), 6, 2) * 0.4 / law_units(63, 6, 2)
    assert np.all(np.isin(np.round(np.abs(q), 12), np.round(levels, 12)))
    assert np.all(np.sign(q[w != 0]) == np.sign(w[w != 0]))
    # compressive: finer steps near zero than near full scale
    assert np.abs(q - w)[45:56].max() < np.abs(q - w)[:10].max()


def test_features_scale_into_the_encoding_and_the_split_is_independent() -> None:
    ds = sinc(600, seed=0)
    rng = np.random.default_rng(np.random.SeedSequence([0, 0x5AC]))
    test = rng.random(600) < 0.3
    # the split must not select x by value (it once shared the data's random stream)
    assert abs(ds.X[test].mean() - ds.X[~test].mean()) < 0.15
    X = R.scale_features(ds.X, ~test)
    assert X.min() >= -R.INPUT_RATIO and X.max() <= R.INPUT_RATIO
    assert np.corrcoef(X[:, 0], ds.X[:, 0])[0, 1] > 0.999


def test_builtin_datasets_and_unknown_name() -> None:
    assert load_dataset("surface").X.shape == (1000, 2)
    d = load_dataset("diabetes")
    assert d.X.shape == (442, 10) and len(d.features) == 10
    with pytest.raises(SpecError, match="not one of sinc, surface, diabetes"):
        load_dataset("iris")


def _csv(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_csv_validation(tmp_path: Path) -> None:
    rows = "\n".join(f"{i},{i * 0.5},{-i},{i % 3}" for i in range(30))
    good = _csv(tmp_path / "good.csv", "a,b,c,t\n" + rows + "\n")
    ds = load_csv(good, "t")
    assert ds.X.shape == (30, 3) and ds.features == ("a", "b", "c")
    with pytest.raises(SpecError, match=r"--target 'y': no such column in good\.csv; columns: a"):
        load_csv(good, "y")
    bad = _csv(tmp_path / "bad.csv", "a,b,c,t\n" + rows + "\n1,2,three,4\n")
    with pytest.raises(SpecError, match=r"column 'c' is not numeric \(row 32: 'three'\)"):
        load_csv(bad, "t")
    gap = _csv(tmp_path / "gap.csv", "a,b,t\n" + "\n".join(f"{i},,{i}" for i in range(25)))
    with pytest.raises(SpecError, match="column 'b' is empty at row 2"):
        load_csv(gap, "t")
    few = _csv(tmp_path / "few.csv", "a,t\n1,2\n3,4\n")
    with pytest.raises(SpecError, match="2 rows; give at least 20"):
        load_csv(few, "t")
    with pytest.raises(SpecError, match="no such file"):
        load_csv(tmp_path / "none.csv", "t")


def test_quantization_bits_are_checked() -> None:
    w = np.linspace(-0.4, 0.4, 9)
    assert np.all(np.abs(R.quantize_to_law_checked(w, 3, 2)) <= 0.4 + 1e-12)
    for bits in (1, 13):
        with pytest.raises(SpecError, match="--quantize-bits"):
            R.quantize_to_law_checked(w, bits, min(2, bits - 1))
