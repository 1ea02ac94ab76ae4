"""Small helpers shared by the phantom modules (random streams, voxel-size checks)."""

from __future__ import annotations

import numpy as np

from electrovox.errors import BadInput


def rng(seed: int, *key: int) -> np.random.Generator:
    """Independent, deterministic random streams for the parts of an algorithm.

    The same seed and key always give the same stream, different keys give independent ones.

    Parameters
    ----------
    seed : int
        The user's seed (its low 32 bits are used).
    *key : int
        The part of the algorithm the stream is for.

    Returns
    -------
    numpy.random.Generator
        A fresh generator.

    Examples
    --------
    >>> rng(1, 2).random() == rng(1, 2).random()
    True
    """
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, *key])


def spacing3(spacing) -> np.ndarray:
    """Voxel size (dz, dy, dx) in um as a float array of 3 (one value = cubic).

    Parameters
    ----------
    spacing : float or (3,) floats, um
        The voxel size.

    Returns
    -------
    (3,) float array
        (dz, dy, dx) in um.

    Raises
    ------
    BadInput
        Not one or three positive finite numbers.

    Examples
    --------
    >>> spacing3(0.5).tolist()
    [0.5, 0.5, 0.5]
    """
    s = np.asarray(spacing, dtype=float).reshape(-1)
    if s.size == 1:
        s = np.repeat(s, 3)
    if s.size != 3 or not np.all(np.isfinite(s)) or np.any(s <= 0):
        raise BadInput("spacing", f"voxel size {tuple(np.ravel(spacing))} is not three positive numbers",
                       "give (dz, dy, dx) in micrometres")
    return s
