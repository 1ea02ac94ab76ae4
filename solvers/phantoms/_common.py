"""Small helpers shared by the phantom modules (random streams, voxel-size checks)."""

from __future__ import annotations

import numpy as np

from electrovox.errors import BadInput


def rng(seed: int, *key: int) -> np.random.Generator:
    """Independent, deterministic random streams for the parts of an algorithm: the same seed
    and key always give the same stream, different keys give independent ones."""
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, *key])


def spacing3(spacing) -> np.ndarray:
    """Voxel size (dz, dy, dx) in um as a float array of 3 (one value = cubic); BadInput otherwise."""
    s = np.asarray(spacing, dtype=float).reshape(-1)
    if s.size == 1:
        s = np.repeat(s, 3)
    if s.size != 3 or not np.all(np.isfinite(s)) or np.any(s <= 0):
        raise BadInput("spacing", f"voxel size {tuple(np.ravel(spacing))} is not three positive numbers",
                       "give (dz, dy, dx) in micrometres")
    return s
