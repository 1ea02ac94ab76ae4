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
        """Normalise the fields: a 3D array (a 2D slice becomes one voxel thick), float tuples, int legend ids."""
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
        """Voxels ``(nz, ny, nx)`` as Python ints."""
        return tuple(int(n) for n in self.array.shape)

    @property
    def spacing_xyz(self) -> tuple[float, float, float]:
        """Voxel size in VTK's order ``(dx, dy, dz)``, um."""
        return self.spacing[::-1]

    @property
    def origin_xyz(self) -> tuple[float, float, float]:
        """Centre of the first voxel in VTK's order ``(x0, y0, z0)``, um."""
        return self.origin[::-1]

    @property
    def is_labels(self) -> bool:
        """True for a label volume (it has a legend)."""
        return self.legend is not None

    def extent_um(self) -> tuple[float, float, float]:
        """Physical size of the volume.

        Returns
        -------
        tuple of 3 float
            ``(z, y, x)`` in um: number of voxels times spacing.
        """
        return tuple(n * s for n, s in zip(self.shape, self.spacing, strict=True))

    def coords(self, axis: int) -> np.ndarray:
        """Voxel-centre coordinates along one array axis.

        Parameters
        ----------
        axis : int
            Array axis 0 (z), 1 (y) or 2 (x).

        Returns
        -------
        ndarray of float64, shape (n,)
            Coordinates in um.
        """
        return self.origin[axis] + self.spacing[axis] * np.arange(self.shape[axis], dtype=np.float64)

    # --- labels ---------------------------------------------------------------------------
    @classmethod
    def labels(cls, array, spacing, legend=None, **kw) -> Volume:
        """A label volume (uint8) with a legend.

        Parameters
        ----------
        array : array_like of int, shape (nz, ny, nx)
            Label ids 0..255.
        spacing : tuple of 3 float
            Voxel size (dz, dy, dx) in um.
        legend : dict, optional
            ``{id: name}``; default the canonical default legend.
        **kw
            Further :class:`Volume` fields (``origin``, ``name``, ``metadata``, ``provenance``).

        Returns
        -------
        Volume
            The label volume (array cast to uint8).

        Raises
        ------
        ValueError
            Values that are not integers 0..255.
        """
        arr = np.asarray(array)
        if arr.dtype != np.uint8:
            if arr.dtype.kind not in "iu" or arr.min(initial=0) < 0 or arr.max(initial=0) > 255:
                raise ValueError("labels must be integers 0..255")
            arr = arr.astype(np.uint8)
        return cls(arr, spacing, legend=dict(legend or DEFAULT_LEGEND), name=kw.pop("name", "labels"), **kw)

    def phase_fractions(self) -> dict[str, float]:
        """Volume fraction of each phase of a label volume.

        Returns
        -------
        dict of str to float
            Fraction by phase name.

        Raises
        ------
        ValueError
            For a greyscale volume (no legend).
        """
        if self.legend is None:
            raise ValueError("phase fractions need a label volume (legend is None)")
        return phase_fractions(self.array, self.legend)

    def check_labels(self, source="volume", legend_given=False, need_phases=2) -> None:
        """Check that the labels fit the legend (see :func:`electrovox.phases.check_labels`).

        Parameters
        ----------
        source : str
            Named in errors.
        legend_given : bool
            The legend was given by the user: every id it names must occur.
        need_phases : int
            Least number of distinct phases.

        Raises
        ------
        BadInput
            Labels that do not fit the legend.
        """
        check_labels(self.array, self.legend or DEFAULT_LEGEND, source, legend_given=legend_given,
                     need_phases=need_phases)

    def as_labels(self, legend: dict[int, str] | None, source="volume", legend_given=False) -> Volume:
        """The volume read as labels: checked against ``legend``, uint8.

        Parameters
        ----------
        legend : dict or None
            ``{id: name}``; None: the default legend.
        source : str
            Named in errors.
        legend_given : bool
            The legend was given by the user: every id it names must occur.

        Returns
        -------
        Volume
            A shallow copy with the uint8 labels, the legend and the name ``labels`` (unless named).

        Raises
        ------
        BadInput
            Labels that do not fit the legend.
        """
        leg = dict(legend or DEFAULT_LEGEND)
        check_labels(self.array, leg, source, legend_given=legend_given)
        out = copy.copy(self)
        out.array = self.array if self.array.dtype == np.uint8 else self.array.astype(np.uint8)
        out.legend = leg
        out.name = "labels" if self.name in ("image", "") else self.name
        return out

    # --- history --------------------------------------------------------------------------
    def with_step(self, command: str, **parameters) -> Volume:
        """Append one provenance step (in place) and return the volume.

        Parameters
        ----------
        command : str
            What was done (e.g. ``"segment"``).
        **parameters
            Its parameters (stored JSON-ready).

        Returns
        -------
        Volume
            ``self``.
        """
        from electrovox import __version__
        self.provenance.append({
            "command": command, "parameters": _jsonable(parameters), "version": __version__,
            "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")})
        return self

    def provenance_json(self) -> str:
        """The provenance as JSON text.

        Returns
        -------
        str
            A JSON list of steps.
        """
        return json.dumps(self.provenance)

    def summary(self) -> dict:
        """JSON-ready description of the volume (the ``electrovox info`` contract).

        Returns
        -------
        dict
            ``shape`` ({"x", "y", "z"} voxels), ``spacing_um`` and ``origin_um`` ({"x", "y", "z"}
            in um), ``dtype``, ``array`` (the array's name); for a label volume ``legend``
            ({"id": name}) and ``phases`` (volume fraction per phase name); for a greyscale
            volume ``range`` ([min, max] over the finite values, None when there are none),
            ``nan_count`` (NaN voxels) and ``inf_count`` (+inf and -inf voxels; 0 for integer
            dtypes).

        Examples
        --------
        >>> v = Volume(np.array([[[1.0, np.nan, -np.inf, 3.0]]]))
        >>> s = v.summary()
        >>> s["range"], s["nan_count"], s["inf_count"]
        ([1.0, 3.0], 1, 1)
        """
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
            out.update(value_stats(self.array))
        return out


def value_stats(array, slab_voxels: int = 1 << 24) -> dict:
    """Range of the finite values and counts of the non-finite ones, slab by slab.

    Parameters
    ----------
    array : ndarray
        Any real array (a memory-mapped one is read once, one z slab of about ``slab_voxels``
        voxels at a time, so no full-size mask or copy is made).
    slab_voxels : int
        Voxels per slab.

    Returns
    -------
    dict
        ``range``: ``[min, max]`` over the finite values (floats), None when there are none (an
        empty array, or only NaN/inf); ``nan_count``: NaN values; ``inf_count``: +inf and -inf
        values (both 0 for integer dtypes).

    Examples
    --------
    >>> value_stats(np.array([np.nan, 2.0, np.inf, -1.0]))
    {'range': [-1.0, 2.0], 'nan_count': 1, 'inf_count': 1}
    """
    a = np.asarray(array)
    if a.ndim == 0:
        a = a.reshape(1)
    lo = hi = None
    n_nan = n_inf = 0
    if a.size:
        rows = max(1, slab_voxels // max(1, a[0].size))
        floating = a.dtype.kind == "f"
        for i in range(0, a.shape[0], rows):
            part = a[i:i + rows]
            if floating:
                finite = np.isfinite(part)
                n_fin = int(np.count_nonzero(finite))
                if n_fin < part.size:
                    nan = int(np.count_nonzero(np.isnan(part)))
                    n_nan += nan
                    n_inf += part.size - n_fin - nan
                if n_fin == 0:
                    continue
                vals = part if n_fin == part.size else part[finite]
            else:
                vals = part
            p_lo, p_hi = float(vals.min()), float(vals.max())
            lo = p_lo if lo is None else min(lo, p_lo)
            hi = p_hi if hi is None else max(hi, p_hi)
    return {"range": None if lo is None else [lo, hi], "nan_count": n_nan, "inf_count": n_inf}


def spacing_array(spacing, source="spacing", name="spacing") -> np.ndarray:
    """Voxel size as a float64 array from one number (cubic voxels) or three.

    Parameters
    ----------
    spacing : float or sequence of 3 float
        Voxel size in um, (dz, dy, dx).
    source : str
        The first word of the error message.
    name : str
        The keyword named in the error message.

    Returns
    -------
    ndarray of float64, shape (3,)
        ``(dz, dy, dx)`` in um.

    Raises
    ------
    BadInput
        Unless one or three positive finite numbers are given.
    """
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
    """The voxel size a file carries, or BadInput when it carries none.

    Parameters
    ----------
    spacing : tuple of 3 float or None
        Voxel size (z, y, x) in um, or None when the file carries no voxel size.
    source : str or path
        The file, named in the error.

    Returns
    -------
    tuple of 3 float
        ``spacing`` as floats.

    Raises
    ------
    BadInput
        ``spacing`` is None; the fix names the ``spacing`` keyword of
        :func:`electrovox.io.read_volume`.
    """
    if spacing is None:
        raise BadInput(source, "the file carries no voxel size", SPACING_FIX)
    return tuple(float(s) for s in spacing)


#: how to give a voxel size a file does not carry (``spacing`` of :func:`electrovox.io.read_volume`)
SPACING_FIX = "give spacing=<voxel size in um> (one value for cubic voxels, or one per axis)"


def voxel_um_to_spacing(voxel_um) -> tuple[float, float, float] | None:
    """Voxel size given as X Y Z (or one value) -> spacing in (z, y, x) order.

    Parameters
    ----------
    voxel_um : sequence of 1 or 3 float, or None
        The voxel size in um: one value for cubic voxels, or X Y Z (VTK's and the CLI's order).

    Returns
    -------
    tuple of 3 float or None
        ``(dz, dy, dx)`` in um; None when ``voxel_um`` is None.

    Raises
    ------
    BadInput
        Naming ``voxel_um`` unless it holds 1 or 3 positive finite numbers.

    Examples
    --------
    >>> voxel_um_to_spacing([0.0152, 0.0152, 0.1])
    (0.1, 0.0152, 0.0152)
    """
    if voxel_um is None:
        return None
    try:
        vals = [float(v) for v in voxel_um]
    except (TypeError, ValueError):
        vals = []
    if len(vals) == 1:
        vals = vals * 3
    if len(vals) != 3 or not all(np.isfinite(v) and v > 0 for v in vals):
        raise BadInput("voxel_um", f"needs 1 or 3 positive values (X Y Z in um), got {voxel_um}",
                       "give one value for cubic voxels (e.g. 0.1) or X Y Z (e.g. 0.0152 0.0152 0.1)")
    return (vals[2], vals[1], vals[0])


def jsonable(obj):
    """A strict-JSON-ready copy of ``obj``.

    Numpy scalars and arrays to Python, NaN/inf to None, unknown objects to their string.

    Parameters
    ----------
    obj : object
        Dicts, lists, tuples, arrays, numbers, strings, None, or anything else.

    Returns
    -------
    object
        The copy (dict keys as strings).
    """
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
