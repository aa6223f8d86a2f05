"""The spec's analysis sections beside the DC operating points: ``[tran]`` (a step
response), ``[noise]`` (output noise density) and ``[ac]`` (small-signal transfer),
validated like the rest of the spec (sweeps/spec.py)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

_CONFIG = ConfigDict(strict=True, extra="forbid", frozen=True)


class TranSpec(BaseModel):
    """[tran]: a step response per circuit, giving settle_s, power_w and energy_j.

    Input ``input`` steps from ``from_ratio`` to ``to_ratio`` times the bias (the others
    held at ``hold_ratio``); the window scales as ``window_as / bias_a``, so it covers the
    same number of time constants at every bias.
    """

    model_config = _CONFIG
    input: int = Field(0, ge=0)
    from_ratio: float = Field(0.5, ge=-100, le=100)
    to_ratio: float = Field(2.0, ge=-100, le=100)
    hold_ratio: float = Field(1.0, ge=-100, le=100)
    window_as: float = Field(3e-12, gt=0, le=1.0)
    """Simulated time times bias current, A s (3e-12: 300 us at 10 nA, 300 ns at 10 uA)."""
    points: int = Field(1000, ge=50, le=100000)
    """Largest time step is the window divided by this."""
    tolerance: float = Field(0.01, gt=0, lt=1)
    """Settling band, as a fraction of the final value."""


class NoiseSpec(BaseModel):
    """[noise]: the output noise density of every circuit, at every DC vector and chip.

    ngspice's ``.noise`` of the main output (a current through its held pin, sensed by a
    1-ohm CCVS: A^2/Hz; a voltage output: V^2/Hz), input-referred to input ``input``. Rows
    ``analysis == "noise"`` with ``freq_hz``, ``onoise_a2_hz`` and ``inoise_a2_hz``.
    The readout integrates it over ``bandwidth_hz`` (a brick wall from ``fstart_hz``) or an
    integration window ``window_s`` (sinc^2 weighting); default: up to ``fstop_hz``.
    """

    model_config = _CONFIG
    fstart_hz: float = Field(1.0, gt=0, le=1e12)
    fstop_hz: float = Field(1e6, gt=0, le=1e13)
    points_per_decade: int = Field(10, ge=1, le=100)
    input: int = Field(0, ge=0)
    """The input whose source the input-referred noise refers to."""
    bandwidth_hz: float | None = Field(None, gt=0, le=1e13)
    window_s: float | None = Field(None, gt=0, le=1e3)

    @model_validator(mode="after")
    def _range(self) -> NoiseSpec:
        if self.fstop_hz <= self.fstart_hz:
            raise ValueError("fstop_hz: must be above noise.fstart_hz")
        if self.bandwidth_hz is not None and self.window_s is not None:
            raise ValueError("window_s: give noise.bandwidth_hz or noise.window_s, not both")
        return self


class AcSpec(BaseModel):
    """[ac]: the small-signal transfer from input ``input`` to the main output over
    frequency, at every DC vector and chip: ngspice's ``ac dec``. Rows ``analysis == "ac"``
    with ``freq_hz``, ``ac_gain`` (A/A or V/V; ``ac_gain_ohm`` V/A, ``ac_gain_s`` A/V) and
    ``ac_phase_deg``; analysis/bandwidth.py reads the -3 dB bandwidth off them."""

    model_config = _CONFIG
    fstart_hz: float = Field(10.0, gt=0, le=1e12)
    fstop_hz: float = Field(1e10, gt=0, le=1e13)
    points_per_decade: int = Field(10, ge=1, le=100)
    input: int = Field(0, ge=0)

    @model_validator(mode="after")
    def _range(self) -> AcSpec:
        if self.fstop_hz <= self.fstart_hz:
            raise ValueError("fstop_hz: must be above ac.fstart_hz")
        return self
