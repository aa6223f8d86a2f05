"""Seed derivation: every random draw in sactk comes from an explicit seed through here.

Instance ``k`` of seed ``s`` (a Monte Carlo chip) draws from ``SeedSequence(s,
spawn_key=(k,))``: independent of how many instances a run has, of the executor and of the
order jobs run in, so chip k is the same devices wherever it is simulated. Named streams
(``stream_rng(seed, 0x5AC)``) keep the draws of one experiment (a data split, chip sampling)
apart from those of another that shares the user's seed.
"""

from __future__ import annotations

from typing import Any


def instance_rng(seed: int, index: int) -> Any:
    """The ``numpy.random.Generator`` of instance ``index`` of ``seed``."""
    import numpy as np

    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(int(index),)))


def instance_seed(seed: int, index: int) -> int:
    """An integer seed in 1..2**31 - 1 for instance ``index`` of ``seed`` (for a simulator's own
    random generator, such as ngspice's ``setseed``)."""
    import numpy as np

    ss = np.random.SeedSequence(int(seed), spawn_key=(int(index),))
    return int(ss.generate_state(1, dtype=np.uint32)[0] % (2**31 - 1)) + 1


def stream_rng(seed: int, *tags: int) -> Any:
    """The generator of the named stream ``tags`` of ``seed``: ``SeedSequence([seed, *tags])``."""
    import numpy as np

    return np.random.default_rng(np.random.SeedSequence([int(seed), *map(int, tags)]))
