"""The ideal of tests/data/ota.sp, found beside it (cell.ideal = "otacells:ota_ideal").

In weak inversion a differential pair with a mirror load gives -I_tail tanh((vp - vn) /
(2 n kT/q)) at its output (Mead, "Analog VLSI and Neural Systems", 1989, ch. 5): the thermal
voltage comes from the operating point, n = 1.35 is c180's subthreshold slope factor near
1 uA (docs/ngspice.md measures its 80-90 mV/decade slopes)."""

from __future__ import annotations

from typing import Any

import numpy as np

SLOPE_N = 1.35


def ota_ideal(norm: np.ndarray, params: Any, cond: Any) -> np.ndarray:
    """Output current in units of the tail bias at inputs (vp, vn) in volts."""
    return -np.tanh((norm[:, 0] - norm[:, 1]) / (2.0 * SLOPE_N * cond.ut_v))
