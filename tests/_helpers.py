"""Shared test data for the io tests: small anisotropic volumes and BadInput checks.

Shape (7, 9, 11) is non-symmetric so that any transposition changes the shape; the spacing is
PFIB-like, 100 nm along z and 15.2 nm in-plane, in um (z, y, x).
"""

from __future__ import annotations

import numpy as np
import pytest

from electrovox.errors import BadInput
from electrovox.volume import Volume

SHAPE = (7, 9, 11)
SPACING = (0.1, 0.0152, 0.0152)
ORIGIN = (1.5, -0.25, 0.125)
DTYPES = ("uint8", "uint16", "int16", "int32", "float32", "float64")
LEGEND = {0: "pore", 1: "am", 2: "cbd"}


def sample(dtype="uint16", shape=SHAPE, seed=0) -> np.ndarray:
    """Random values covering the dtype's range (extremes included), all voxels distinct-ish."""
    rng = np.random.default_rng(seed)
    dt = np.dtype(dtype)
    if dt.kind == "f":
        a = (rng.standard_normal(shape) * 1e3).astype(dt)
        a.flat[0] = np.finfo(dt).tiny
        a.flat[-1] = np.finfo(dt).max / 2
        return a
    info = np.iinfo(dt)
    a = rng.integers(info.min, info.max, size=shape, endpoint=True, dtype=dt)
    a.flat[0], a.flat[-1] = info.min, info.max
    return a


def label_array(shape=SHAPE, seed=1, n=3) -> np.ndarray:
    """uint8 labels 0..n-1, every id present."""
    a = np.random.default_rng(seed).integers(0, n, size=shape).astype(np.uint8)
    a.flat[:n] = np.arange(n)
    return a


def image_volume(dtype="uint16", **kw) -> Volume:
    return Volume(sample(dtype), SPACING, ORIGIN, name="image", **kw)


def label_volume(**kw) -> Volume:
    return Volume.labels(label_array(), SPACING, legend=LEGEND, origin=ORIGIN, **kw)


def need_tifffile():
    """tifffile, or skip (Debian's ParaView Python may not have it)."""
    return pytest.importorskip("tifffile")


def need_netcdf4():
    return pytest.importorskip("netCDF4")


def bad_input(func, *args, names=None, contains=(), **kwargs) -> BadInput:
    """Call ``func``; assert it raises BadInput naming ``names`` (default: the first argument)
    with a 'Fix:' part and each of ``contains``; return the exception."""
    with pytest.raises(BadInput) as info:
        func(*args, **kwargs)
    msg = str(info.value)
    name = str(names if names is not None else args[0])
    assert name in msg, f"{name!r} not named in: {msg}"
    assert "Fix:" in msg, msg
    assert "\n" not in msg, msg
    rest = msg.replace(name, "")  # the words must be in the problem/fix, not in the file name
    for part in contains:
        assert part in rest, f"{part!r} not in: {msg}"
    return info.value


def assert_same_volume(got: Volume, want: Volume, *, legend=True) -> None:
    """Exact equality of values, dtype, shape (axis order), spacing, origin, name, legend."""
    assert got.array.dtype == want.array.dtype
    assert got.shape == want.shape
    np.testing.assert_array_equal(got.array, want.array)
    assert got.spacing == want.spacing
    assert got.origin == want.origin
    assert got.name == want.name
    if legend:
        assert got.legend == want.legend


def is_mapped(a) -> bool:
    """True when ``a`` is (a view of) a numpy memmap."""
    while a is not None:
        if isinstance(a, np.memmap):
            return True
        a = getattr(a, "base", None)
    return False
