"""The ElectroVox data model: a 3D image or label volume with its geometry and history.

Axis convention (architecture.md): the array is indexed ``[z, y, x]`` (C order), which is VTK's
point order for a vtkImageData of dimensions ``(nx, ny, nz)``.  ``z`` is the electrode
thickness, 0 at the current collector.  ``spacing`` and ``origin`` are given in the same
``(z, y, x)`` order as the array axes, in micrometres; ``origin`` is the centre of voxel
``[0, 0, 0]``.  Use :attr:`Volume.spacing_xyz` / :attr:`Volume.origin_xyz` for VTK's order.
"""

from __future__ import annotations

import copy
import datetime as _dt
import json
from dataclasses import dataclass, field

import numpy as np

from electrovox.errors import BadInput
from electrovox.phases import DEFAULT_LEGEND, check_labels, phase_fractions

SUPPORTED_DTYPES = tuple(np.dtype(t) for t in (
    "uint8", "int8", "uint16", "int16", "uint32", "int32", "int64", "uint64", "float32", "float64"))


@dataclass
class Volume:
    """A 3D volume.

    Attributes
    ----------
    array : ndarray, shape (nz, ny, nx)
        Voxel values: greyscale (any supported dtype) or phase labels (uint8).
    spacing : (dz, dy, dx) in um
        Voxel size along each array axis.
    origin : (z0, y0, x0) in um
        Centre of the first voxel.
    legend : dict[int, str] or None
        Phase name by label id for label volumes; None for greyscale images.
    name : str
        Array name ("labels", "image", or any other), used in VTK and netCDF.
    metadata : dict
        JSON-serialisable facts about the data (e.g. original axis order, source file).
    provenance : list[dict]
        History: one dict per step (command, inputs, parameters, version, date).
    """

    array: np.ndarray
    spacing: tuple[float, float, float] = (1.0, 1.0, 1.0)
    origin: tuple[float, float, float] = (0.0, 0.0, 0.0)
    legend: dict[int, str] | None = None
    name: str = "image"
    metadata: dict = field(default_factory=dict)
    provenance: list = field(default_factory=list)

    def __post_init__(self):
        a = self.array
        if not isinstance(a, np.ndarray):
            a = np.asarray(a)
        if a.ndim == 2:  # one slice: a volume of one voxel along z
            a = a[np.newaxis]
        if a.ndim != 3:
            raise ValueError(f"a Volume needs a 3D [z, y, x] array, got shape {a.shape}")
        self.array = a
        self.spacing = tuple(float(s) for s in self.spacing)
        self.origin = tuple(float(o) for o in self.origin)
        if len(self.spacing) != 3 or len(self.origin) != 3:
            raise ValueError("spacing and origin need three values (z, y, x)")
        if not all(np.isfinite(s) and s > 0 for s in self.spacing):
            raise ValueError(f"spacing must be positive and finite, got {self.spacing}")
        if self.legend is not None:
            self.legend = {int(k): str(v) for k, v in self.legend.items()}

    # --- geometry -------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(int(n) for n in self.array.shape)

    @property
    def spacing_xyz(self) -> tuple[float, float, float]:
        return self.spacing[::-1]

    @property
    def origin_xyz(self) -> tuple[float, float, float]:
        return self.origin[::-1]

    @property
    def is_labels(self) -> bool:
        return self.legend is not None

    def extent_um(self) -> tuple[float, float, float]:
        """Physical size (z, y, x) in um: number of voxels times spacing."""
        return tuple(n * s for n, s in zip(self.shape, self.spacing, strict=True))

    def coords(self, axis: int) -> np.ndarray:
        """Voxel-centre coordinates (um) along array axis 0 (z), 1 (y) or 2 (x)."""
        return self.origin[axis] + self.spacing[axis] * np.arange(self.shape[axis], dtype=np.float64)

    # --- labels ---------------------------------------------------------------------------
    @classmethod
    def labels(cls, array, spacing, legend=None, **kw) -> Volume:
        """A label volume (uint8) with ``legend`` (default: the canonical default legend)."""
        arr = np.asarray(array)
        if arr.dtype != np.uint8:
            if arr.dtype.kind not in "iu" or arr.min(initial=0) < 0 or arr.max(initial=0) > 255:
                raise ValueError("labels must be integers 0..255")
            arr = arr.astype(np.uint8)
        return cls(arr, spacing, legend=dict(legend or DEFAULT_LEGEND), name=kw.pop("name", "labels"), **kw)

    def phase_fractions(self) -> dict[str, float]:
        if self.legend is None:
            raise ValueError("phase fractions need a label volume (legend is None)")
        return phase_fractions(self.array, self.legend)

    def check_labels(self, source="volume", legend_given=False, need_phases=2) -> None:
        check_labels(self.array, self.legend or DEFAULT_LEGEND, source, legend_given=legend_given,
                     need_phases=need_phases)

    def as_labels(self, legend: dict[int, str] | None, source="volume", legend_given=False) -> Volume:
        """This volume read as labels: checked against ``legend`` (default legend if None), uint8."""
        leg = dict(legend or DEFAULT_LEGEND)
        check_labels(self.array, leg, source, legend_given=legend_given)
        out = copy.copy(self)
        out.array = self.array if self.array.dtype == np.uint8 else self.array.astype(np.uint8)
        out.legend = leg
        out.name = "labels" if self.name in ("image", "") else self.name
        return out

    # --- history --------------------------------------------------------------------------
    def with_step(self, command: str, **parameters) -> Volume:
        """Append one provenance step (in place) and return self."""
        from electrovox import __version__
        self.provenance.append({
            "command": command, "parameters": _jsonable(parameters), "version": __version__,
            "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")})
        return self

    def provenance_json(self) -> str:
        return json.dumps(self.provenance)

    def summary(self) -> dict:
        """JSON-ready description (the `electrovox info` contract)."""
        nz, ny, nx = self.shape
        dz, dy, dx = self.spacing
        out = {"shape": {"x": nx, "y": ny, "z": nz},
               "spacing_um": {"x": dx, "y": dy, "z": dz},
               "origin_um": {"x": self.origin[2], "y": self.origin[1], "z": self.origin[0]},
               "dtype": str(self.array.dtype), "array": self.name}
        if self.legend is not None:
            out["legend"] = {str(k): v for k, v in sorted(self.legend.items())}
            out["phases"] = self.phase_fractions()
        else:
            a = self.array
            out["range"] = [float(a.min()), float(a.max())] if a.size else None
        return out


def spacing_array(spacing, source="spacing", name="spacing") -> np.ndarray:
    """Voxel size (dz, dy, dx) in um as float64 array (3,) from one number (cubic) or three;
    BadInput naming ``source`` unless all are positive and finite."""
    try:
        s = np.asarray(spacing, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        s = np.zeros(0)
    if s.size == 1:
        s = np.repeat(s, 3)
    if s.size != 3 or not np.all(np.isfinite(s)) or np.any(s <= 0):
        raise BadInput(source, f"{name} {spacing!r} is not one or three positive voxel sizes in um",
                       f"give {name} as one number (cubic voxels) or (dz, dy, dx) in um, all > 0")
    return s


def require_spacing(spacing, source) -> tuple[float, float, float]:
    """Return spacing (z, y, x) or raise BadInput when the file carries no voxel size."""
    if spacing is None:
        raise BadInput(source, "the file carries no voxel size",
                       "give it with --voxel-um X Y Z (or one value for cubic voxels)")
    return tuple(float(s) for s in spacing)


def voxel_um_to_spacing(values) -> tuple[float, float, float] | None:
    """CLI ``--voxel-um`` (1 value, or X Y Z) -> spacing in (z, y, x) order; None if not given."""
    if values is None:
        return None
    vals = [float(v) for v in values]
    if len(vals) == 1:
        vals = vals * 3
    if len(vals) != 3 or not all(np.isfinite(v) and v > 0 for v in vals):
        raise BadInput("--voxel-um", f"needs 1 or 3 positive values, got {values}",
                       "write --voxel-um 0.1 or --voxel-um 0.0152 0.0152 0.1 (X Y Z, micrometres)")
    return (vals[2], vals[1], vals[0])


def jsonable(obj):
    """A strict-JSON-ready copy: numpy scalars and arrays to Python, NaN/inf to None, unknown
    objects to their string."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float):
        return obj if np.isfinite(obj) else None
    if isinstance(obj, (str, int, bool)) or obj is None:
        return obj
    return str(obj)


_jsonable = jsonable
