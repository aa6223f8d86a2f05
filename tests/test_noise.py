"""Noise in the sweep engine (sweeps/benches.py, the ngspice backend's ``noise``) and its
readout (analysis/noise.py), on the real ngspice. Bounds are the issue's: on c180 (white
noise only) the MP cell's density at 1 kHz follows its output current within +-30 % from
10 nA to 1 uA; a white band's integral follows sqrt(bandwidth) within 10 %; on sky130 at
10 nA the 1 Hz density is over 100x the 100 kHz one (flicker)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _cli import run

from sactk.analysis.noise import flicker_corner, integrate, noise_rows, noise_table
from sactk.sweeps.store import read_results

DATA = Path(__file__).parent / "data"
pytestmark = pytest.mark.ngspice


def _spectrum(df: pd.DataFrame, bias_a: float) -> tuple[np.ndarray, np.ndarray, float]:
    g = noise_rows(df)
    g = g[(g["bias_a"] == bias_a) & (g["temp_c"] == 27.0)].sort_values("freq_hz")
    return g["freq_hz"].to_numpy(), g["onoise_a2_hz"].to_numpy(), float(g["out_z_a"].iloc[0])


def test_the_mp_noise_preset_is_characterized_and_plotted(tmp_path: Path) -> None:
    out = tmp_path / "r"
    r = run(
        "sweep", "--preset", "mp-noise", "--set", "sweep.temp_c=[27]",
        "--set", "noise.points_per_decade=5", "--out", str(out),
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    df = read_results(out)
    assert {"freq_hz", "onoise_a2_hz", "inoise_a2_hz"} <= set(df.columns)
    assert set(df["analysis"]) == {"op", "noise"}
    # the physics: white shot-like noise that follows the output current
    per_current = []
    for b in (1e-8, 1e-7, 1e-6):
        f, s, i_out = _spectrum(df, b)
        assert len(f) == 31 and f[0] == 1.0 and np.isclose(f[-1], 1e6)
        per_current.append(np.interp(3.0, np.log10(f), s) / i_out)
        assert np.isnan(flicker_corner(f, s))  # c180 cards set no flicker noise
    ratio = np.array(per_current) / per_current[0]
    assert np.all(np.abs(ratio - 1.0) < 0.3), ratio
    # a white band: the integral follows sqrt(bandwidth)
    f, s, _ = _spectrum(df, 1e-7)
    ten = np.sqrt(integrate(f, s, bandwidth_hz=1e5) / integrate(f, s, bandwidth_hz=1e3))
    assert abs(ten / np.sqrt((1e5 - 1) / (1e3 - 1)) - 1.0) < 0.1
    # an integration window T of white noise S has the variance S / (2 T)
    win = integrate(f, s, window_s=1e-5)
    assert abs(win / (np.interp(3.0, np.log10(f), s) / 2e-5) - 1.0) < 0.1
    r = run("plot", str(out), "--out", str(tmp_path / "p"))
    assert r.returncode == 0, r.stderr
    for name in ("noise_density.png", "noise_snr.png", "noise.csv"):
        assert (tmp_path / "p" / name).stat().st_size > 100, name
    table = pd.read_csv(tmp_path / "p" / "noise.csv")
    assert list(table["bias_a"]) == [1e-8, 1e-7, 1e-6]
    assert table["snr_db"].is_monotonic_increasing  # more bias, less relative noise
    assert table["readout"].iloc[0] == "window 1e-05 s (sinc^2)"
    assert "noise:" in r.stdout and "snr_db" in r.stdout
    r = run("report", str(out), "--out", str(tmp_path / "rep.html"))
    assert r.returncode == 0, r.stderr
    page = (tmp_path / "rep.html").read_text()
    assert "<h4>noise</h4>" in page and 'alt="r: noise density"' in page


@pytest.mark.sky130
def test_sky130_shows_flicker_noise_at_10_na(tmp_path: Path) -> None:
    out = tmp_path / "r"
    r = run(
        "sweep", "--preset", "mp-noise", "--set", "tech.name=\"sky130\"",
        "--set", "sweep.temp_c=[27]", "--set", "sweep.bias_a=[1e-8]", "--out", str(out),
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    df = read_results(out)
    f, s, _ = _spectrum(df, 1e-8)
    assert s[0] > 100 * np.interp(5.0, np.log10(f), s), (s[0], s)
    corner = noise_table(df)["corner_hz"].iloc[0]
    assert 10 < corner < 1e5


def test_a_user_subcircuit_gets_its_noise_too(tmp_path: Path) -> None:
    """The OTA of tests/data/ota.sp with a [noise] table: its voltage input gives the
    input-referred noise in V^2/Hz."""
    for name in ("ota.sp", "otacells.py"):
        shutil.copy(DATA / name, tmp_path / name)
    spec = (Path(__file__).parent / "test_userfile.py").read_text().split('OTA = """')[1]
    spec = spec.split('"""')[0].replace("count = 12", "count = 2")
    spec = spec.replace("temp_c = [-40, 27, 85]", "temp_c = [27]")
    (tmp_path / "ota.toml").write_text(spec + "[noise]\nfstop_hz = 1e5\nbandwidth_hz = 1e4\n")
    r = run("sweep", "ota.toml", "--out", "r", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    df = read_results(tmp_path / "r")
    rows = noise_rows(df)
    assert {"onoise_a2_hz", "inoise_v2_hz"} <= set(rows.columns)
    assert len(rows) == 2 * 2 * 51  # biases x vectors x frequencies
    assert (rows["onoise_a2_hz"] > 0).all() and (rows["inoise_v2_hz"] > 0).all()
    r = run("plot", "r", "--out", "p", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    table = pd.read_csv(tmp_path / "p" / "noise.csv")
    assert (table["readout"] == "1 Hz to 10000 Hz").all() and (table["snr_db"] > 0).all()


def test_noise_specs_are_checked() -> None:
    from sactk.errors import SpecError
    from sactk.sweeps.spec import load_spec

    for bad, field in (
        ("fstop_hz = 0.5", "fstop_hz"),
        ("window_s = 1e-5\nbandwidth_hz = 1e4", "window_s"),
        ("points_per_decade = 0", "points_per_decade"),
    ):
        with pytest.raises(SpecError, match=field):
            load_spec(text=f"[sweep]\nbias_a = [1e-7]\n[noise]\n{bad}\n")


def test_a_model_carries_the_noise_and_samples_it_for_a_window(tmp_path: Path) -> None:
    """Fitted on a sweep with [noise], a model's MODEL.json holds white and flicker terms;
    ``evaluate(noise_window_s=, seed=)`` adds seeded noise whose spread is the measured
    spectrum's integral over that window (within 15 %), at vectors of the sweep."""
    from sactk.analysis.model import load_model
    from sactk.errors import ModelError

    spec = tmp_path / "s.toml"
    spec.write_text(
        '[cell]\nname = "mp"\n[sweep]\nbias_a = [1e-8, 1e-7]\ntemp_c = [27]\n'
        "[inputs.random]\ncount = 16\n[inputs.sweep]\npoints = 0\n"
        "[noise]\nfstop_hz = 1e5\npoints_per_decade = 5\n"
    )
    assert run("sweep", str(spec), "--out", str(tmp_path / "r")).returncode == 0
    r = run("fit", str(tmp_path / "r"), "--out", str(tmp_path / "m"), "--folds", "2")
    assert r.returncode == 0, r.stderr
    assert "output noise: S = 2 q (a |out| + b bias_a) + (k2 out^2 + k0 bias_a^2)" in r.stdout
    m = load_model(tmp_path / "m")
    rows = noise_rows(read_results(tmp_path / "r"))
    ins = [f"in_i{k}_a" for k in range(4)]
    for b, point in ((1e-8, 3), (1e-7, 11)):
        p = rows[(rows["bias_a"] == b) & (rows["point"] == point)].sort_values("freq_hz")
        want = np.sqrt(integrate(p["freq_hz"], p["onoise_a2_hz"], window_s=1e-4))
        x = np.tile(p[ins].iloc[0].to_numpy(float), (4000, 1))
        y0 = m.evaluate(x, b, 27.0)
        y = m.evaluate(x, b, 27.0, noise_window_s=1e-4, seed=7)
        assert abs(np.std(y - y0) / want - 1.0) < 0.15, (b, np.std(y - y0), want)
        assert np.array_equal(y, m.evaluate(x, b, 27.0, noise_window_s=1e-4, seed=7))
        assert not np.array_equal(y, m.evaluate(x, b, 27.0, noise_window_s=1e-4, seed=8))
    with pytest.raises(ModelError, match="seed"):
        m.evaluate(x, 1e-7, 27.0, noise_window_s=1e-4)
    m.meta_.pop("noise")
    with pytest.raises(ModelError, match=r"no noise terms.*\[noise\]"):
        m.evaluate(x, 1e-7, 27.0, noise_window_s=1e-4, seed=1)


@pytest.mark.sky130
def test_the_exports_carry_the_models_noise(tmp_path: Path) -> None:
    """An MP-unit model fitted on a sky130 sweep with [noise] exports its noise: the
    Verilog-A module (white_noise, flicker_noise) in VACASK's noise analysis and the ngspice
    subcircuit (its noisy resistors) in ngspice's .noise give the model's density within
    3 % at 10 Hz, 1 kHz and 100 kHz, at 10 nA and 1 uA. Against the transistor cell at
    vectors the model never saw (another seed), the median is within 10 % and every point
    within 30 % (docs/noise.md: the noise also follows which inputs are active)."""
    from sactk.api.noisecheck import export_noise_check

    sweep = (
        '[cell]\nname = "mp"\n[tech]\nname = "sky130"\n[sweep]\nbias_a = [1e-8, 1e-6]\n'
        "temp_c = [27]\n[inputs.random]\ncount = {n}\nseed = {seed}\n[inputs.sweep]\n"
        "points = 0\n[noise]\nfstop_hz = 1e6\npoints_per_decade = 3\n"
    )
    for name, n, seed in (("fit", 16, 1), ("new", 3, 9)):
        (tmp_path / f"{name}.toml").write_text(sweep.format(n=n, seed=seed))
        r = run("sweep", str(tmp_path / f"{name}.toml"), "--out", str(tmp_path / name))
        assert r.returncode == 0, r.stderr
    r = run("fit", str(tmp_path / "fit"), "--out", str(tmp_path / "m"), "--folds", "2")
    assert r.returncode == 0, r.stderr
    r = run("export", str(tmp_path / "m"), "--format", "verilog-a", "--out", str(tmp_path / "va"))
    assert r.returncode == 0, r.stderr
    text = (tmp_path / "va" / "sactk_mp_tt.va").read_text()
    assert "white_noise(" in text and "flicker_noise(" in text
    got = export_noise_check(tmp_path / "m", tmp_path / "new", tmp_path / "x")
    assert len(got) == 2 * 3 * 3  # biases x vectors x frequencies
    for sim in ("vacask", "ngspice"):
        faithful = got[f"{sim}_a2_hz"] / got["model_a2_hz"]
        assert np.allclose(faithful, 1.0, rtol=0.03), (sim, faithful.to_numpy())
        off = (got[f"{sim}_ratio"] - 1.0).abs()
        assert off.median() < 0.10 and off.max() < 0.30, (sim, got[f"{sim}_ratio"].to_numpy())


def test_fit_takes_the_noise_of_a_separate_noise_sweep(tmp_path: Path) -> None:
    """``sactk fit --noise DIR``: the model's noise terms come from a noise sweep of the
    same cell (recorded as noise_results); a noise sweep of another cell is refused in one
    line naming the differing field."""
    import json

    common = ["--set", "sweep.bias_a=[1e-8, 1e-7]", "--set", "sweep.temp_c=[27]"]
    r = run("sweep", "--preset", "inner-product", "--out", str(tmp_path / "r"), *common,
            "--set", "inputs.random.count=30", "--set", "inputs.sweep.points=0",
            "--set", "cell.n_inputs=4")  # fmt: skip
    assert r.returncode == 0, r.stderr
    for name, n in (("n", 4), ("n2", 2)):
        r = run("sweep", "--preset", "inner-product-noise", "--out", str(tmp_path / name),
                *common, "--set", f"cell.n_inputs={n}", "--set", "noise.fstop_hz=1e4")  # fmt: skip
        assert r.returncode == 0, r.stderr
    r = run("fit", str(tmp_path / "r"), "--out", str(tmp_path / "m"), "--folds", "2",
            "--noise", str(tmp_path / "n"))  # fmt: skip
    assert r.returncode == 0, r.stderr
    meta = json.loads((tmp_path / "m.json").read_text())
    assert meta["noise"]["bias_a"] == [1e-8, 1e-7] and meta["noise_results"].endswith("n")
    r = run("fit", str(tmp_path / "r"), "--out", str(tmp_path / "m2"), "--folds", "2",
            "--noise", str(tmp_path / "n2"))  # fmt: skip
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert "cell.n_inputs is 2 there and 4" in r.stderr and len(r.stderr.splitlines()) == 1
    r = run("fit", str(tmp_path / "r"), "--out", str(tmp_path / "m3"), "--folds", "2",
            "--noise", str(tmp_path / "r"))  # fmt: skip
    assert r.returncode == 2 and "has no noise rows" in r.stderr, r.stderr
