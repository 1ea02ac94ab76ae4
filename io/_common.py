"""Shared pieces of the format modules (private): what a format reader returns, units, JSON.

A format reader returns a :class:`Loaded`: the array in the FILE's axis order ``[z, y, x]`` and
whatever geometry and legend the file carries.  ``electrovox.io.read_volume`` then applies the
user's overrides (voxel size, legend, thickness axis) and builds the :class:`Volume`.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field

import numpy as np

__all__ = ["EVX_KEY", "MEMORY_FIX", "Loaded", "json_or_empty", "legend_from_json", "legend_to_json", "native",
           "need", "notice", "one_line", "require_fits", "to_json", "unit_to_um"]

#: key under which ElectroVox stores its exact geometry/legend in TIFF descriptions
EVX_KEY = "electrovox"
#: how to make a volume that is too big to read fit in memory
MEMORY_FIX = "crop or downsample the stack, or use a machine with more memory"


@dataclass
class Loaded:
    """Contents of a file before the user's overrides are applied.

    array : ndarray, shape (nz, ny, nx) in the file's axis order, native byte order
    spacing, origin : (z, y, x) in um, or None when the file does not carry them
    legend : dict[int, str] stored in the file, or None
    name : array name stored in the file ("labels", "image", a netCDF variable), or None
    """

    array: np.ndarray
    spacing: tuple[float, float, float] | None = None
    origin: tuple[float, float, float] | None = None
    legend: dict[int, str] | None = None
    name: str | None = None
    metadata: dict = field(default_factory=dict)
    provenance: list = field(default_factory=list)
    spacing_source: str = ""
    #: why the file's voxel size could not be used (e.g. uneven coordinates), for the error text
    spacing_note: str = ""


# Length units seen in TIFF (ImageJ `unit`, OME `PhysicalSizeXUnit`) and netCDF `units`, to um.
_UNITS_UM = {
    "nm": 1e-3, "nanometer": 1e-3, "nanometre": 1e-3, "nanometers": 1e-3, "nanometres": 1e-3,
    "um": 1.0, "µm": 1.0, "μm": 1.0, "micron": 1.0, "microns": 1.0, "micrometer": 1.0,
    "micrometre": 1.0, "micrometers": 1.0, "micrometres": 1.0, "\\u00b5m": 1.0, "u": 1.0,
    "mm": 1e3, "millimeter": 1e3, "millimetre": 1e3, "millimeters": 1e3, "millimetres": 1e3,
    "cm": 1e4, "centimeter": 1e4, "centimetre": 1e4, "centimeters": 1e4, "centimetres": 1e4,
    "m": 1e6, "meter": 1e6, "metre": 1e6, "meters": 1e6, "metres": 1e6,
    "å": 1e-4, "angstrom": 1e-4, "angstroms": 1e-4, "pm": 1e-6,
}


def unit_to_um(unit) -> float | None:
    """Micrometres per ``unit`` (e.g. 'nm' -> 0.001), or None for unknown/non-length units."""
    if unit is None:
        return None
    key = str(unit).strip().lower().replace(" ", "")
    return _UNITS_UM.get(key)


def need(module: str, hint: str):
    """Import ``module`` or raise ImportError saying how to install it.

    Not a BadInput: the files are fine, the Python environment lacks a package.
    """
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(f"this needs the Python package '{module}', which is not installed in "
                          f"this Python: {hint}") from exc


def notice(message: str) -> None:
    """One line on stderr that the user should see but that is not an error."""
    print(one_line(message), file=sys.stderr)


def one_line(text) -> str:
    return " ".join(str(text).split())


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    return str(obj)


def to_json(obj) -> str:
    """JSON text of ``obj`` (numpy scalars/arrays converted, anything else as str); ASCII only."""
    return json.dumps(obj, default=_json_default)


def legend_to_json(legend) -> str:
    """Legend {id: name} as JSON with string keys in id order: '{"0": "pore", ...}'."""
    return json.dumps({str(int(k)): str(v) for k, v in sorted(legend.items())})


def legend_from_json(text) -> dict[int, str] | None:
    """Inverse of :func:`legend_to_json`; None for empty text, ValueError for bad JSON."""
    if text is None:
        return None
    if isinstance(text, dict):
        obj = text
    else:
        text = str(text).strip()
        if not text or text in ("null", "None"):
            return None
        obj = json.loads(text)
    if obj is None:
        return None
    if not isinstance(obj, dict):
        raise ValueError(f"a legend must be a JSON object, got {type(obj).__name__}")
    return {int(k): str(v) for k, v in obj.items()}


def json_or_empty(text, kind=dict):
    """Parse stored JSON metadata/provenance; an unreadable value gives an empty ``kind``."""
    if text is None:
        return kind()
    try:
        obj = json.loads(str(text))
    except ValueError:
        return kind()
    return obj if isinstance(obj, kind) else kind()


def native(array: np.ndarray) -> np.ndarray:
    """``array`` in native byte order (a copy only when it was not)."""
    if not array.dtype.isnative:
        return array.astype(array.dtype.newbyteorder("="))
    return array


def _count(n: int) -> str:
    if n < 10**6:
        return f"{n} voxels"
    for unit, scale in (("M", 10**6), ("G", 10**9), ("T", 10**12)):
        if n < 1000 * scale:
            return f"{n / scale:.3g} {unit} voxels"
    return f"{float(n):.3g} voxels"


def require_fits(nbytes: int, path, shape, dtype, detail: str = "") -> None:
    """BadInput naming ``path`` when reading ``nbytes`` will not fit in the memory available.

    Called by the readers after the file's header gave the shape and dtype and before the data
    are read (see :func:`electrovox.memory.require`).

    Parameters
    ----------
    nbytes : int
        Peak bytes the reader will hold (the array and any working copy).
    path : str or Path
        The file, named first in the message.
    shape : tuple of int
        The volume's shape, for the message.
    dtype : numpy dtype or str
        Its data type, for the message.
    detail : str
        Why more than one copy is needed, if so (e.g. ``"reordered to z, y, x: two copies"``).

    Raises
    ------
    BadInput
        With the memory needed, the memory available and :data:`MEMORY_FIX`.
    """
    from electrovox.memory import require

    n = 1
    for m in shape:
        n *= int(m)
    require(int(nbytes), path, f"reading its {' x '.join(str(int(m)) for m in shape)} {np.dtype(dtype).name} "
                               f"volume ({_count(n)}{'; ' + detail if detail else ''})", MEMORY_FIX)
