"""netCDF volumes (``.nc``): ElectroVox's CF-style files and other CF-style 3D grids.

ElectroVox files (architecture.md): dimensions ``z, y, x``; float64 coordinate variables
``z, y, x`` in ``um`` at voxel centres (origin + i * spacing); one data variable named after the
volume (``labels`` uint8 with CF ``flag_values``/``flag_meanings`` and a JSON ``legend``
attribute, or ``image``), optional extra variables on the same grid (e.g. ``truth``); global
attributes ``Conventions``, ``electrovox_version``, ``thickness_axis``, ``provenance``,
``metadata`` (JSON) and the exact ``spacing_um``/``origin_um`` (z, y, x).  Chunked, zlib.

Other files are read when a 3D variable lies on z, y, x-like dimensions (names below, any
order); the voxel size comes from evenly spaced coordinate variables with length units.

netCDF4 is imported inside the functions (ParaView uses Debian's python3-netcdf4).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from electrovox.errors import BadInput
from electrovox.io._common import (
    Loaded,
    json_or_empty,
    legend_from_json,
    legend_to_json,
    native,
    need,
    one_line,
    require_fits,
    to_json,
    unit_to_um,
)
from electrovox.phases import PHASES
from electrovox.progress import report

__all__ = ["read_netcdf", "write_netcdf", "AXIS_NAMES", "NC_SUFFIXES"]

NC_SUFFIXES = (".nc",)

#: dimension names accepted for each array axis (compared in lower case)
AXIS_NAMES = {
    "z": ("z", "depth", "slice", "slices", "k", "plane", "planes", "layer"),
    "y": ("y", "row", "rows", "j", "lat", "latitude"),
    "x": ("x", "col", "cols", "column", "columns", "i", "lon", "longitude"),
}
_DIMS_FIX = ("store the volume as a 3D variable on dimensions named z, y, x (also accepted: "
             "depth/slice/k, y/row/j/lat, x/col/i/lon)")
_CHUNK_BYTES = 4 * 2**20


def _axis_perm(dims) -> tuple[int, int, int] | None:
    """Indices of the z-, y- and x-like dimensions in ``dims``, or None if not z, y, x-like."""
    found = {}
    for i, d in enumerate(dims):
        low = str(d).lower()
        for ax, names in AXIS_NAMES.items():
            if low in names and ax not in found:
                found[ax] = i
    if len(found) != 3:
        return None
    return found["z"], found["y"], found["x"]


def _describe(ds) -> str:
    three = [f"{n}({', '.join(v.dimensions)})" for n, v in ds.variables.items() if v.ndim == 3]
    return "3D variables: " + ", ".join(three) if three else "no 3D variables"


def _choose(ds, path, variable, labels) -> str:
    vars3 = [n for n, v in ds.variables.items() if v.ndim == 3 and _axis_perm(v.dimensions) is not None]
    if variable is not None:
        if variable not in ds.variables:
            raise BadInput(path, f"has no variable '{variable}' ({_describe(ds)})",
                           "choose one of the variables listed with variable='NAME'")
        if variable not in vars3:
            v = ds.variables[variable]
            raise BadInput(path, f"variable '{variable}' has dimensions ({', '.join(v.dimensions)}), "
                           "not z, y, x-like", _DIMS_FIX)
        return variable
    if not vars3:
        raise BadInput(path, f"has no 3D variable on z, y, x-like dimensions ({_describe(ds)})", _DIMS_FIX)
    preferred = ("image", "labels") if labels is False else ("labels", "image")
    for name in preferred:
        if name in vars3:
            return name
    if len(vars3) == 1:
        return vars3[0]
    raise BadInput(path, f"holds several 3D variables ({', '.join(vars3)})",
                   "choose one with variable='NAME'")


def _axis_geometry(ds, dim: str, n: int, axis: str):
    """(origin_um, spacing_um, descending, problem) from the coordinate variable of ``dim``."""
    coord = ds.variables.get(dim)
    if coord is None or coord.ndim != 1 or coord.dimensions != (dim,):
        return None, None, False, f"no coordinate variable '{dim}'"
    factor = unit_to_um(getattr(coord, "units", None))
    if factor is None:
        return None, None, False, (f"coordinate '{dim}' has units "
                                   f"'{getattr(coord, 'units', '')}', not a length")
    c = np.asarray(coord[:], dtype=np.float64)
    if n == 1:
        return float(c[0]) * factor, None, False, f"coordinate '{dim}' has one value (no step)"
    steps = np.diff(c)
    step = (c[-1] - c[0]) / (n - 1)
    if step == 0 or not np.allclose(steps, step, rtol=1e-6, atol=0):
        lo, hi = float(np.min(np.abs(steps))) * factor, float(np.max(np.abs(steps))) * factor
        return None, None, False, (f"coordinate '{dim}' is not evenly spaced "
                                   f"(steps {lo:.6g} to {hi:.6g} um)")
    if step < 0:
        return float(c[-1]) * factor, -step * factor, True, ""
    return float(c[0]) * factor, step * factor, False, ""


def _legend_of(var):
    """A stored legend: JSON ``legend`` attribute, else CF flag_values/flag_meanings."""
    text = getattr(var, "legend", None)
    if text is not None:
        return legend_from_json(text)
    values, meanings = getattr(var, "flag_values", None), getattr(var, "flag_meanings", None)
    if values is not None and meanings is not None:
        values = np.atleast_1d(values)
        names = str(meanings).split()
        # CF flags are a legend only when they name phases; other flags (land/sea...) are not
        if len(names) == values.size and all(n in PHASES for n in names):
            return {int(v): n for v, n in zip(values, names, strict=True)}
    return None


def read_netcdf(path, variable: str | None = None, labels=None, progress=None) -> Loaded:
    """Read one 3D variable of a netCDF file as [z, y, x].

    Dimensions may come in any order; the array is transposed to z, y, x and descending
    coordinates are flipped to ascending.

    Parameters
    ----------
    path : str or Path
        The file (netCDF-4 or classic).
    variable : str, optional
        The variable; default ``labels`` (``image`` first when ``labels`` is False), else
        ``image``, else the only z, y, x-like 3D variable.
    labels : bool or None
        Preference when ``variable`` is not given (see above).
    progress : callable, optional
        ``progress(fraction, message)``.

    Returns
    -------
    Loaded
        The array, spacing and origin in um (from ElectroVox's exact global attributes or from
        evenly spaced coordinate variables with length units), legend, metadata and provenance.

    Raises
    ------
    BadInput
        Unreadable files, files without a suitable variable, non-numeric variables, and variables
        too large for the memory available (checked from the header before reading).
    """
    netCDF4 = need("netCDF4", "pip install netCDF4 (ParaView's Python: apt-get install python3-netcdf4)")

    path = Path(path)
    if not path.is_file():
        raise BadInput(path, "does not exist", "check the path")
    try:
        ds = netCDF4.Dataset(str(path), "r")
    except (OSError, RuntimeError, ValueError) as exc:
        raise BadInput(path, f"is not a readable netCDF file ({one_line(exc)})",
                       "give a netCDF file (netCDF-4 or classic); if it was copied, copy it again") from None
    try:
        with ds:
            return _read_open(ds, path, variable, labels, progress)
    except BadInput:
        raise
    except (RuntimeError, OSError, ValueError, KeyError, IndexError) as exc:
        raise BadInput(path, f"cannot be read ({type(exc).__name__}: {one_line(exc)[:200]})",
                       "the file is damaged or truncated; write or copy it again") from None


def _read_open(ds, path, variable, labels, progress) -> Loaded:
    ds.set_auto_mask(False)  # raw values: a label 255 must not come back masked as a fill value
    name = _choose(ds, path, variable, labels)
    var = ds.variables[name]
    perm = _axis_perm(var.dimensions)
    # geometry first (coordinate variables only): whether the array must be flipped or
    # transposed decides how many copies of it reading takes
    spacing, origin, known, problems, flipped = [], [], [], [], []
    for ax, dim_index in zip("zyx", perm, strict=True):
        dim = var.dimensions[dim_index]
        o, s, descending, problem = _axis_geometry(ds, dim, var.shape[dim_index], ax)
        if descending:
            flipped.append(ax)
        spacing.append(s)
        origin.append(o if o is not None else 0.0)
        known.append(o is not None)
        if problem:
            problems.append(problem)
    n0 = var.shape[0]
    if 0 in var.shape:
        # nothing to read; read_volume reports the empty volume (check_labels for labels)
        first = np.zeros((0,) * 2, dtype=var.dtype)
        n0 = 0
    else:
        try:
            dt = np.dtype(var.dtype)
        except TypeError:       # strings, compound or variable-length types: refused below
            dt = np.dtype(object)
        if dt.kind in "iufb":
            # the array, and a reordered copy when the file's axes are not z, y, x ascending
            copies = 2 if (perm != (0, 1, 2) or flipped or dt == np.bool_) else 1
            require_fits(math.prod(var.shape) * dt.itemsize * copies, path, tuple(var.shape), dt,
                         "reordered to z, y, x: two copies" if copies == 2 else "")
        first = native(np.asarray(var[0]))
    if first.dtype.kind not in "iufb":
        raise BadInput(path, f"variable '{name}' holds {first.dtype} values, not numbers",
                       "store the volume as an integer or float variable")
    data = np.empty(var.shape, dtype=first.dtype)
    if n0:
        data[0] = first
        report(progress, 1 / n0, f"slice 1/{n0}")
    for k in range(1, n0):
        data[k] = native(np.asarray(var[k]))
        report(progress, (k + 1) / n0, f"slice {k + 1}/{n0}")
    if data.dtype == np.bool_:
        data = data.astype(np.uint8)
    array = data.transpose(perm) if perm != (0, 1, 2) else data
    for ax in flipped:
        array = np.flip(array, axis="zyx".index(ax))
    spacing = tuple(spacing) if all(s is not None for s in spacing) else None
    origin = tuple(origin)
    # ElectroVox writes the exact values too: coordinates recomputed from them lose the last bit
    exact_s, exact_o = getattr(ds, "spacing_um", None), getattr(ds, "origin_um", None)
    if exact_s is not None and np.size(exact_s) == 3 and not flipped:
        exact_s = tuple(float(v) for v in np.atleast_1d(exact_s))
        if spacing is None or np.allclose(exact_s, spacing, rtol=1e-6):
            spacing = exact_s if all(math.isfinite(v) and v > 0 for v in exact_s) else spacing
            if exact_o is not None and np.size(exact_o) == 3:
                exact_o = tuple(float(v) for v in np.atleast_1d(exact_o))
                tol = 1e-6 * max(spacing) if spacing else 1e-9
                # the exact origin only where it agrees with the coordinates (or they are absent)
                origin = tuple(e if not k or abs(e - o) <= tol else o
                               for e, o, k in zip(exact_o, origin, known, strict=True))
    if perm != (0, 1, 2) or flipped:
        array = np.ascontiguousarray(array)
    try:
        legend = _legend_of(var)
    except (ValueError, TypeError) as exc:
        raise BadInput(path, f"the legend of '{name}' is not valid JSON ({exc})",
                       "give the legend with legend='id=name,...'") from None
    metadata = json_or_empty(getattr(ds, "metadata", None), dict)
    metadata.update({"format": "netCDF", "variable": name, "file_dims": list(var.dimensions)})
    if flipped:
        metadata["flipped_axes"] = flipped
    note = ""
    if spacing is None and problems:
        note = "; ".join(problems)
    return Loaded(array=array, spacing=spacing, origin=origin, legend=legend, name=name,
                  metadata=metadata, provenance=json_or_empty(getattr(ds, "provenance", None), list),
                  spacing_source="netCDF" if spacing is not None else "", spacing_note=note)


def _chunks(shape, itemsize: int) -> tuple[int, int, int]:
    """Chunk shape of about 4 MiB made of whole slices (partial slices only for huge slices)."""
    nz, ny, nx = shape
    slice_bytes = ny * nx * itemsize
    if slice_bytes <= _CHUNK_BYTES:
        return max(1, min(nz, _CHUNK_BYTES // max(slice_bytes, 1))), ny, nx
    return 1, max(1, min(ny, _CHUNK_BYTES // max(nx * itemsize, 1))), nx


def _write_variable(ds, name, array, legend, progress, lo=0.0, hi=1.0):
    array = native(array.astype(np.uint8) if array.dtype == np.bool_ else array)
    var = ds.createVariable(name, array.dtype, ("z", "y", "x"), zlib=True, complevel=4, shuffle=True,
                            chunksizes=_chunks(array.shape, array.dtype.itemsize), fill_value=False)
    if legend is not None:
        ids = sorted(legend)
        var.long_name = "phase labels"
        var.flag_values = np.array(ids, dtype=array.dtype)
        var.flag_meanings = " ".join(legend[i] for i in ids)
        var.legend = legend_to_json(legend)
    else:
        var.long_name = "greyscale image" if name == "image" else name
    nz = array.shape[0]
    step = var.chunking()[0] if isinstance(var.chunking(), list) else 1
    for k in range(0, nz, step):
        var[k:k + step] = array[k:k + step]
        report(progress, lo + (hi - lo) * min(k + step, nz) / nz, f"{name}: slice {min(k + step, nz)}/{nz}")


def write_netcdf(path, volume, extra=None, progress=None) -> None:
    """Write a volume (and extra arrays of the same shape) as an ElectroVox ``.nc``.

    Call it on a temporary name (see :mod:`electrovox.io.atomic`).

    Parameters
    ----------
    path : str or Path
        The file to create.
    volume : Volume
        The main variable (named ``volume.name``; its legend as CF flags and JSON).
    extra : dict, optional
        Name -> ndarray or Volume, [z, y, x] like ``volume`` (a Volume's legend is stored with it).
    progress : callable, optional
        ``progress(fraction, message)``.

    Raises
    ------
    ValueError
        A variable named like a coordinate (z, y, x), repeated names, or an extra array of
        another shape.
    """
    netCDF4 = need("netCDF4", "pip install netCDF4 (ParaView's Python: apt-get install python3-netcdf4)")

    from electrovox import __version__

    extra = dict(extra or {})
    names = [volume.name] + list(extra)
    for n in names:
        if n in ("z", "y", "x"):
            raise ValueError(f"a data variable cannot be named '{n}' (a coordinate name)")
    if len(set(names)) != len(names):
        raise ValueError(f"variable names repeat: {names}")
    for n, arr in extra.items():
        shape = tuple(getattr(arr, "shape", ()))
        if shape != volume.shape:
            raise ValueError(f"extra variable '{n}' has shape {shape}, the volume {volume.shape}")
    with netCDF4.Dataset(str(path), "w", format="NETCDF4") as ds:
        ds.Conventions = "CF-1.8"
        ds.title = "ElectroVox volume"
        ds.electrovox_version = __version__
        ds.thickness_axis = "z"
        ds.provenance = to_json(volume.provenance)
        ds.metadata = to_json(volume.metadata)
        ds.spacing_um = np.array(volume.spacing, dtype=np.float64)
        ds.origin_um = np.array(volume.origin, dtype=np.float64)
        for i, ax in enumerate("zyx"):
            ds.createDimension(ax, volume.shape[i])
            c = ds.createVariable(ax, "f8", (ax,))
            c[:] = volume.coords(i)
            c.units = "um"
            c.axis = ax.upper()
            c.long_name = ("thickness (from current collector)" if ax == "z" else f"{ax} position") \
                + ", voxel centre"
        share = 1.0 / (1 + len(extra))
        _write_variable(ds, volume.name, volume.array, volume.legend, progress, 0.0, share)
        for j, (n, arr) in enumerate(extra.items(), start=1):
            leg = getattr(arr, "legend", None)
            data = arr.array if hasattr(arr, "array") else np.asarray(arr)
            _write_variable(ds, n, data, leg, progress, j * share, (j + 1) * share)
