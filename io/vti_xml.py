"""A pure-Python writer of VTK XML image data files (``.vti``): numpy, zlib and text, no VTK.

Solvers write their output frames with it, so a solve never imports VTK.  The files are what
``vtkXMLWriter`` writes: ``header_type="UInt64"``, appended raw binary data, zlib-compressed in
VTK's block format (or uncompressed), point-data arrays and field-data text (``type="String"``).
ParaView and any VTK 9 reader open them.

Layout of one array in the appended data section (all integers little-endian UInt64):

- uncompressed: ``[nbytes]`` then the values;
- compressed: ``[nblocks, block_bytes, last_block_bytes, csize_0, ..., csize_{n-1}]`` then the
  zlib streams of the blocks; ``last_block_bytes`` is 0 when the last block is full.
"""

from __future__ import annotations

import zlib
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np

from electrovox.io.atomic import atomic_output

__all__ = ["write_vti_xml", "BLOCK_BYTES"]

#: uncompressed bytes per zlib block (VTK's default block size)
BLOCK_BYTES = 2**15

_VTK_TYPES = {"i1": "Int8", "u1": "UInt8", "i2": "Int16", "u2": "UInt16", "i4": "Int32", "u4": "UInt32",
              "i8": "Int64", "u8": "UInt64", "f4": "Float32", "f8": "Float64"}


def _fmt(values) -> str:
    # repr: the shortest text that reads back as the same double
    return " ".join(repr(float(v)) for v in values)


def _encode(data: bytes | memoryview, compress: bool, level: int) -> list[bytes | memoryview]:
    """The chunks of one appended array: its UInt64 header, then its (compressed) bytes."""
    nbytes = len(data)
    if not compress:
        return [np.array([nbytes], "<u8").tobytes(), data]
    blocks = [zlib.compress(data[i:i + BLOCK_BYTES], level) for i in range(0, nbytes, BLOCK_BYTES)]
    header = [len(blocks), BLOCK_BYTES, nbytes % BLOCK_BYTES, *(len(b) for b in blocks)]
    return [np.array(header, "<u8").tobytes(), *blocks]


def _point_array(name: str, array, shape: tuple[int, int, int] | None) -> tuple[np.ndarray, int]:
    """``array`` as a little-endian C-contiguous array and its number of components, checked."""
    a = np.asarray(array)
    if a.dtype == np.bool_:
        a = a.astype(np.uint8)
    if a.ndim not in (3, 4) or (a.ndim == 4 and a.shape[3] < 1):
        raise ValueError(f"array '{name}' must be [z, y, x] or [z, y, x, components], got shape {a.shape}")
    if shape is not None and a.shape[:3] != shape:
        raise ValueError(f"array '{name}' has the grid {a.shape[:3]}, another array {shape}")
    if a.size == 0:
        raise ValueError(f"array '{name}' is empty (shape {a.shape})")
    key = a.dtype.kind + str(a.dtype.itemsize)
    if key not in _VTK_TYPES:
        raise ValueError(f"array '{name}' has the dtype {a.dtype}; give an integer, float32 or float64 array")
    return np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<")), (a.shape[3] if a.ndim == 4 else 1)


def write_vti_xml(path, arrays: dict[str, np.ndarray], spacing_zyx, origin_zyx=(0.0, 0.0, 0.0),
                  field: dict[str, str] | None = None, compress: bool = True, level: int = 1) -> Path:
    """Write point-data arrays on an image grid as a VTK XML ``.vti`` file, atomically.

    The file is written under a temporary name beside ``path`` and renamed into place
    (:func:`electrovox.io.atomic.atomic_output`); an existing ``path`` is replaced.

    Parameters
    ----------
    path : str or Path
        The output ``.vti`` file; its folder must exist.
    arrays : dict of str to ndarray
        Point data by name, each indexed ``[z, y, x]`` (scalars) or ``[z, y, x, c]`` (``c``
        components; vectors as x, y, z components), all on the same grid ``(nz, ny, nx)``.
        Integer (8 to 64 bits), bool (written as UInt8), float32 or float64.  The first array
        becomes the active scalars (or vectors, for 3 components).
    spacing_zyx : tuple of 3 float
        Voxel size (dz, dy, dx) in um.
    origin_zyx : tuple of 3 float
        Centre of the first voxel (z, y, x) in um.
    field : dict of str to str, optional
        Field-data text (e.g. ``{"provenance": json_text}``), one vtkStringArray value each.
    compress : bool
        zlib-compress the data (VTK's block format); otherwise raw.
    level : int
        zlib level, 1 (fast) to 9 (small).

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    ValueError
        No arrays, arrays of other grids, an empty array, an unsupported dtype, or a spacing
        or origin that is not 3 finite values (spacing positive).
    BadInput
        The folder of ``path`` does not exist, or ``path`` is not a regular file.

    Examples
    --------
    >>> import numpy as np
    >>> u = np.zeros((4, 5, 6), np.float32)                     # [z, y, x]
    >>> v = np.zeros((4, 5, 6, 3), np.float32)                  # vectors (x, y, z)
    >>> write_vti_xml("frame.vti", {"u": u, "velocity": v}, (0.1, 0.1, 0.1))   # doctest: +SKIP
    """
    if not arrays:
        raise ValueError("write_vti_xml needs at least one array")
    spacing = np.asarray(spacing_zyx, dtype=np.float64).reshape(-1)
    origin = np.asarray(origin_zyx, dtype=np.float64).reshape(-1)
    if spacing.size != 3 or not np.all(np.isfinite(spacing)) or np.any(spacing <= 0):
        raise ValueError(f"spacing_zyx must be 3 positive voxel sizes in um, got {spacing_zyx}")
    if origin.size != 3 or not np.all(np.isfinite(origin)):
        raise ValueError(f"origin_zyx must be 3 finite values in um, got {origin_zyx}")

    shape = None
    points = []
    for name, array in arrays.items():
        a, ncomp = _point_array(str(name), array, shape)
        shape = a.shape[:3]
        points.append((str(name), a, ncomp))
    nz, ny, nx = shape
    extent = f"0 {nx - 1} 0 {ny - 1} 0 {nz - 1}"

    chunks: list[bytes | memoryview] = []
    offset = 0

    def append(data) -> int:
        nonlocal offset
        start = offset
        for c in _encode(data, compress, level):
            chunks.append(c)
            offset += len(c)
        return start

    lines = ['<?xml version="1.0"?>']
    compressor = ' compressor="vtkZLibDataCompressor"' if compress else ""
    lines.append(f'<VTKFile type="ImageData" version="1.0" byte_order="LittleEndian" header_type="UInt64"'
                 f'{compressor}>')
    lines.append(f'  <ImageData WholeExtent="{extent}" Origin="{_fmt(origin[::-1])}" '
                 f'Spacing="{_fmt(spacing[::-1])}" Direction="1 0 0 0 1 0 0 0 1">')
    if field:
        lines.append("    <FieldData>")
        for name, text in field.items():
            # a vtkStringArray: each value's UTF-8 bytes ended by a NUL
            start = append(str(text).encode("utf-8") + b"\0")
            lines.append(f'      <Array type="String" Name={quoteattr(str(name))} NumberOfTuples="1" '
                         f'format="appended" offset="{start}"/>')
        lines.append("    </FieldData>")
    lines.append(f'    <Piece Extent="{extent}">')
    first_name, _, first_ncomp = points[0]
    active = "Vectors" if first_ncomp == 3 else "Scalars"
    lines.append(f"      <PointData {active}={quoteattr(first_name)}>")
    for name, a, ncomp in points:
        vtk_type = _VTK_TYPES[a.dtype.kind + str(a.dtype.itemsize)]
        start = append(memoryview(a.reshape(-1)).cast("B"))
        lines.append(f'        <DataArray type="{vtk_type}" Name={quoteattr(name)} NumberOfComponents="{ncomp}" '
                     f'format="appended" offset="{start}"/>')
    lines += ["      </PointData>", "      <CellData>", "      </CellData>", "    </Piece>", "  </ImageData>",
              '  <AppendedData encoding="raw">', "   _"]
    head = "\n".join(lines).encode("utf-8")

    path = Path(path)
    with atomic_output(path, force=True) as tmp, open(tmp, "wb") as f:
        f.write(head)
        for c in chunks:
            f.write(c)
        f.write(b"\n  </AppendedData>\n</VTKFile>\n")
    return path
