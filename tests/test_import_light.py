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
