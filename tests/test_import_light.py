"""`import sactk` must stay light: no PySpice, NumPy-heavy or plotting imports."""

import subprocess
import sys


def test_import_sactk_is_light() -> None:
    code = (
        "import sys, sactk, sactk.cli; "
        "heavy = [m for m in ('PySpice', 'matplotlib', 'pandas', 'pyarrow', 'dask', 'scipy') "
        "if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_version_and_help_import_neither_numpy_nor_the_workflows() -> None:
    """Start-up (issue 31): the CLI's modules load the API lazily, so ``sactk --version``
    and ``--help`` import no NumPy and no workflow module. Checked by the modules loaded,
    not by a clock (it holds on a busy machine); docs/benchmarks.md times it."""
    code = (
        "import sys; from sactk.cli import run; "
        "[run([a]) for a in ('--version', '--help')]; "
        "loaded = [m for m in sys.modules if m == 'numpy' or (m.startswith('sactk.api.') and "
        "m != 'sactk.api.reporter') or m.startswith('sactk.analysis')]; "
        "print('LOADED:' + ','.join(sorted(loaded)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "LOADED:", out.stdout[-500:]


def test_a_worker_encodes_its_part_without_pandas() -> None:
    """Start-up (issue 31): a sweep's worker writes its Parquet part with pyarrow alone,
    so simulating never imports pandas (about 0.5 s a process). Pure encoding: the columns
    are those of a job (strings, floats, ints, booleans)."""
    code = (
        "import sys, numpy as np; from sactk.sweeps.store import pack; "
        "p = pack({'cell': ['mp'] * 3, 'temp_c': [27.0] * 3, 'mc_index': np.arange(3), "
        "'out_z_a': np.array([1.0, np.nan, 2.0]), 'domain_ok': np.array([True, False, True]), "
        "'status': ['ok', 'no operating point: x', 'ok']}); "
        "print(p.points, p.failed, p.failures[0]['mc_index'], 'pandas' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["3", "1", "1", "False"], out.stdout
