"""Raw binary volumes (``.raw``, ``.bin``, ``.dat``): no header, C order ``[z, y, x]``.

The file carries neither shape, data type, byte order nor voxel size: the user gives them.
A file in native byte order is memory-mapped (copy-on-write: changes to the array never reach
the file), so volumes larger than memory can be opened; other byte orders are converted
slice by slice into memory.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from electrovox.errors import BadInput
from electrovox.io._common import Loaded, require_fits
from electrovox.progress import report

__all__ = ["read_raw", "RAW_SUFFIXES", "parse_byteorder"]

RAW_SUFFIXES = (".raw", ".bin", ".dat")

_DTYPE_FIX = "give dtype='uint16' (or uint8, int16, int32, float32, float64, ...) and shape=(nz, ny, nx)"


def parse_byteorder(byteorder) -> str:
    """The numpy byte-order character of a byte-order name.

    Parameters
    ----------
    byteorder : str
        ``'<'``, ``'little'`` or ``'le'``; ``'>'``, ``'big'`` or ``'be'``; ``'='`` or
        ``'native'`` (case-insensitive).

    Returns
    -------
    str
        ``'<'``, ``'>'`` or ``'='``.

    Raises
    ------
    BadInput
        Naming ``byteorder`` for any other value.

    Examples
    --------
    >>> parse_byteorder("big")
    '>'
    """
    b = str(byteorder).strip().lower()
    table = {"<": "<", "little": "<", "le": "<", ">": ">", "big": ">", "be": ">", "=": "=", "native": "="}
    if b not in table:
        raise BadInput("byteorder", f"unknown byte order '{byteorder}'", "give byteorder='<' (little) or '>' (big)")
    return table[b]


def _suggest_shape(size: int, shape, dtype: np.dtype) -> str:
    """Human hint for a raw size mismatch: shapes or dtypes that would fit ``size`` bytes."""
    hints = []
    nz, ny, nx = shape
    if size % dtype.itemsize == 0:
        count = size // dtype.itemsize
        if ny * nx and count % (ny * nx) == 0 and count // (ny * nx) != nz:
            hints.append(f"shape=({count // (ny * nx)}, {ny}, {nx}) fits (same slice size)")
        side = round(count ** (1 / 3))
        for s in (side - 1, side, side + 1):
            if s > 0 and s ** 3 == count and (s, s, s) != tuple(shape):
                hints.append(f"shape=({s}, {s}, {s}) fits (cubic)")
    for other in ("uint8", "uint16", "float32", "float64"):
        o = np.dtype(other)
        if o != dtype and math.prod(shape) * o.itemsize == size:
            hints.append(f"dtype='{other}' fits this shape")
    header = size - math.prod(shape) * dtype.itemsize
    if 0 < header <= 4096:
        hints.append(f"the file may have a {header}-byte header (not supported: strip it)")
    return "; ".join(hints)


def read_raw(path, shape, dtype, byteorder="<", progress=None) -> Loaded:
    """Read a headerless raw volume.

    Parameters
    ----------
    path : str or Path
        The file: ``nz * ny * nx`` values of ``dtype``, C order ``[z, y, x]``, no header.
    shape : tuple of 3 int
        ``(nz, ny, nx)`` voxels.
    dtype : str or numpy dtype
        Integer or float type of the values (e.g. ``"uint16"``).
    byteorder : str
        ``'<'``/``'little'``, ``'>'``/``'big'`` or ``'='``/``'native'`` (see :func:`parse_byteorder`).
    progress : callable, optional
        ``progress(fraction, message)``.

    Returns
    -------
    Loaded
        The ``[z, y, x]`` array: an ``np.memmap`` (mode ``'c'``, copy-on-write: nothing is read
        into memory up front) when the byte order is native, else an in-memory native-order
        copy; no voxel size (raw files carry none).

    Raises
    ------
    BadInput
        The file is missing; ``shape`` or ``dtype`` is missing or invalid; the file size does not
        match ``shape`` and ``dtype`` (with the shapes and types that would fit); or, for a
        non-native byte order, the in-memory copy cannot fit in the memory available (checked
        before anything is read; see :func:`electrovox.memory.require`).
    """
    path = Path(path)
    if not path.is_file():
        raise BadInput(path, "does not exist", "check the path")
    if shape is None or dtype is None:
        raise BadInput(path, "a raw file carries no shape or data type", _DTYPE_FIX)
    try:
        shape = tuple(int(n) for n in shape)
    except (TypeError, ValueError):
        raise BadInput(path, f"the shape {shape!r} is not three integers", _DTYPE_FIX) from None
    if len(shape) != 3 or min(shape) < 1:
        raise BadInput(path, f"the shape {shape} is not three positive sizes (nz, ny, nx)", _DTYPE_FIX)
    try:
        base = np.dtype(dtype)
    except TypeError:
        raise BadInput(path, f"unknown data type '{dtype}'", _DTYPE_FIX) from None
    if base.kind not in "iuf" or base.itemsize > 8:
        raise BadInput(path, f"data type '{dtype}' is not an integer or float type", _DTYPE_FIX)
    order = parse_byteorder(byteorder)
    file_dtype = base.newbyteorder(order) if base.itemsize > 1 else base
    size = path.stat().st_size
    expected = math.prod(shape) * base.itemsize
    if size != expected:
        hint = _suggest_shape(size, shape, base)
        raise BadInput(path, f"is {size} bytes, but shape {shape} of {base.name} needs {expected} bytes"
                       + (f" ({hint})" if hint else ""),
                       "give the shape=(nz, ny, nx) and dtype that the file was written with")
    mm = np.memmap(path, dtype=file_dtype, mode="c", shape=shape)
    if file_dtype.isnative:
        report(progress, 1.0, "mapped")
        return Loaded(mm, name="image", spacing_source="")
    # swap bytes slice by slice so that the file is never read into memory twice
    endian = "big" if order == ">" else "little"
    require_fits(expected, path, shape, base, f"{endian}-endian: converted to this machine's byte order in memory")
    out = np.empty(shape, dtype=base.newbyteorder("="))
    for k in range(shape[0]):
        out[k] = mm[k]
        report(progress, (k + 1) / shape[0], f"slice {k + 1}/{shape[0]}")
    del mm
    return Loaded(out, name="image")
