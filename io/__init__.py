"""Readers and writers: TIFF stacks and slice folders, raw binary, netCDF4, VTK XML, time series.

Entry points:

- :func:`read_volume` — any supported file (or folder of TIFF slices) to a :class:`Volume`
  with spacing in um, the thickness axis as z, and labels checked against their legend;
- :func:`write_volume` — a Volume to ``.nc``, ``.vti`` or ``.tif``, atomically;
- :func:`write_pvd` / :func:`read_pvd` — a ParaView time series of ``.vti`` files;
- :func:`atomic_output` — the temporary-name-then-rename helper the writers use;
- :func:`volume_to_vtk`, :func:`vtk_to_volume`, :func:`volume_to_pyvista`,
  :func:`pyvista_to_volume` — in-memory conversions (``electrovox.io.vtk_image``).

Format modules (``tiff``, ``raw``, ``netcdf``, ``vti``, ``pvd``, ``vtk_image``) are imported on
first use, so ``import electrovox.io`` stays cheap and needs neither VTK, tifffile nor netCDF4.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np

from electrovox.errors import BadInput
from electrovox.io.atomic import atomic_output
from electrovox.phases import DEFAULT_LEGEND, check_labels, legend_to_text, parse_legend
from electrovox.volume import SPACING_FIX, Volume, require_spacing

__all__ = [
    "read_volume", "write_volume", "write_pvd", "read_pvd", "atomic_output",
    "volume_to_vtk", "vtk_to_volume", "volume_to_pyvista", "pyvista_to_volume",
    "READ_SUFFIXES", "WRITE_SUFFIXES", "THICKNESS_AXES",
]

READ_SUFFIXES = (".nc", ".vti", ".tif", ".tiff", ".raw", ".bin", ".dat")
WRITE_SUFFIXES = (".nc", ".vti", ".tif", ".tiff")
THICKNESS_AXES = ("z", "y", "x")

# thickness axis -> the file axes (as array indices) that become the new z, y, x.  Cyclic
# permutations are rotations, so the reoriented volume is never a mirror image of the file.
_PERMS = {"z": (0, 1, 2), "y": (1, 2, 0), "x": (2, 0, 1)}

_LAZY = {
    "write_pvd": "pvd", "read_pvd": "pvd",
    "volume_to_vtk": "vtk_image", "vtk_to_volume": "vtk_image",
    "volume_to_pyvista": "vtk_image", "pyvista_to_volume": "vtk_image",
}


def __getattr__(name):
    # lazy re-exports: VTK is only imported when a VTK function is first used
    if name in _LAZY:
        module = importlib.import_module(f"electrovox.io.{_LAZY[name]}")
        return getattr(module, name)
    raise AttributeError(f"module 'electrovox.io' has no attribute '{name}'")


def _module(name: str):
    return importlib.import_module(f"electrovox.io.{name}")


# --- argument checks ------------------------------------------------------------------------

def _user_spacing(spacing):
    if spacing is None:
        return None
    vals = np.atleast_1d(np.asarray(spacing, dtype=np.float64)).tolist()
    if len(vals) == 1:
        vals = vals * 3
    if len(vals) != 3 or not all(np.isfinite(v) and v > 0 for v in vals):
        raise BadInput("spacing", f"needs 1 or 3 positive voxel sizes in um, got {spacing}",
                       "give spacing=0.1 (cubic voxels) or spacing=(dz, dy, dx) in the file's axis order")
    return tuple(float(v) for v in vals)


def _user_legend(legend):
    """A checked legend {id: name} from a dict or 'id=name,...' text; None if not given."""
    if legend is None:
        return None
    if isinstance(legend, str):
        return parse_legend(legend, "legend")
    try:
        text = ",".join(f"{int(k)}={v}" for k, v in legend.items())
    except (AttributeError, TypeError, ValueError):
        raise BadInput("legend", f"cannot read the legend {legend!r}",
                       "give legend='0=pore,1=am,2=cbd' (id=name pairs) or a dict {id: name}") from None
    return parse_legend(text, "legend")


def _thickness_axis(axis) -> str:
    if isinstance(axis, (int, np.integer)) and not isinstance(axis, (bool, np.bool_)) and 0 <= int(axis) <= 2:
        return THICKNESS_AXES[int(axis)]                # an index of the file's [z, y, x] axes
    a = str(axis).strip().lower()
    if a not in THICKNESS_AXES:
        raise BadInput("thickness_axis", f"'{axis}' is not an axis", "give thickness_axis='z', 'y' or 'x' (the "
                       "file's axis along the electrode thickness; or its index 0, 1, 2)")
    return a


# --- reading --------------------------------------------------------------------------------

def read_volume(path, *, spacing=None, legend=None, labels=None, thickness_axis="z", variable=None,
                shape=None, dtype=None, byteorder="<", progress=None) -> Volume:
    """Read a volume file (or a folder of TIFF slices) into a :class:`~electrovox.volume.Volume`.

    Before the data are read, the header's shape and dtype are checked against the memory
    available (:func:`electrovox.memory.require`; ``EVX_MEMORY_LIMIT_GB`` overrides it); large
    uncompressed TIFF stacks and native-order raw files are memory-mapped instead (copy-on-write),
    so they open whatever their size.

    Parameters
    ----------
    path : str or Path
        ``.nc`` (netCDF), ``.vti`` (VTK XML image), ``.tif``/``.tiff`` (multi-page, ImageJ,
        OME-TIFF), a folder of 2D TIFF slices (natural order of the number in their names), or
        ``.raw``/``.bin``/``.dat`` (headerless; needs ``shape``, ``dtype``, ``byteorder``).
    spacing : float or tuple of 3 float, optional
        Voxel size in um in the FILE's axis order (dz, dy, dx), or one value for cubic voxels;
        overrides the voxel size the file carries; required when it carries none.
    legend : dict or str, optional
        Phase of each label id, ``{id: name}`` or ``"id=name,..."`` text; reads the file as labels
        with it (checked: canonical names, every id present).
    labels : bool or None
        None: labels when a legend is given or stored, else greyscale.  True: labels, with the
        stored legend or else the default one (a notice on stderr says so).  False: greyscale.
    thickness_axis : {"z", "y", "x"} or {0, 1, 2}
        The FILE's axis along the electrode thickness; the volume is rotated (cyclic axis
        permutation, spacing and origin with it) so that it becomes z.
    variable : str, optional
        netCDF variable or VTI point-data array to read.
    shape : tuple of 3 int, optional
        Raw files: (nz, ny, nx).
    dtype : str or numpy dtype, optional
        Raw files: the value type, e.g. ``"uint16"``.
    byteorder : str
        Raw files: ``'<'`` (little), ``'>'`` (big) or ``'='`` (native).
    progress : callable, optional
        ``progress(fraction, message)``.

    Returns
    -------
    Volume
        The array keeps the file's dtype (labels: uint8) in native byte order, indexed [z, y, x]
        with z the thickness axis; ``spacing`` and ``origin`` in um (z, y, x);
        ``metadata["original_axes"]`` names the file axis of each array axis (e.g. ``"xzy"``),
        ``metadata["spacing_from"]`` where the voxel size came from.

    Raises
    ------
    BadInput
        For every problem with the inputs, one line naming the file (or the keyword: ``spacing``,
        ``legend``, ``thickness_axis``), the problem and the fix: a missing, unsupported, damaged
        or truncated file; a missing voxel size; a legend that does not fit; a volume that cannot
        fit in memory.

    Examples
    --------
    >>> vol = read_volume("stack.tif", spacing=(0.1, 0.0152, 0.0152))   # doctest: +SKIP
    """
    path = Path(path)
    axis = _thickness_axis(thickness_axis)
    user_spacing = _user_spacing(spacing)
    user_legend = _user_legend(legend)
    if labels is False and user_legend is not None:
        raise BadInput("legend", "a legend was given for a greyscale read (labels=False)",
                       "drop the legend, or read the file as labels")
    if not path.exists():
        raise BadInput(path, "does not exist", f"check the path (working folder: {Path.cwd()})")
    suffix = path.suffix.lower()
    need_spacing = user_spacing is None  # readers check this before reading the data
    if path.is_dir():
        loaded = _module("tiff").read_folder(path, progress, need_spacing)
    elif suffix in (".tif", ".tiff"):
        loaded = _module("tiff").read_tiff(path, progress, need_spacing)
    elif suffix == ".nc":
        loaded = _module("netcdf").read_netcdf(path, variable, labels, progress)
    elif suffix == ".vti":
        loaded = _module("vti").read_vti(path, variable, progress)
    elif suffix in (".raw", ".bin", ".dat"):
        if need_spacing:
            require_spacing(None, path)  # a raw file never carries a voxel size
        loaded = _module("raw").read_raw(path, shape, dtype, byteorder, progress)
    else:
        raise BadInput(path, f"unsupported suffix '{path.suffix}'",
                       "give a .nc, .vti, .tif/.tiff, .raw/.bin/.dat file or a folder of TIFF slices")
    return _finish(loaded, path, user_spacing, user_legend, labels, axis)


def _finish(loaded, path, user_spacing, user_legend, labels, axis) -> Volume:
    """Apply the user's voxel size, thickness axis and legend to what a reader returned."""
    from electrovox.io._common import notice

    source = str(path)
    if user_spacing is not None:
        file_spacing, spacing_from = user_spacing, "given"
    else:
        if loaded.spacing is None and loaded.spacing_note:
            raise BadInput(path, f"the file carries no usable voxel size ({loaded.spacing_note})", SPACING_FIX)
        file_spacing, spacing_from = require_spacing(loaded.spacing, path), loaded.spacing_source or "file"
    file_origin = tuple(loaded.origin) if loaded.origin is not None else (0.0, 0.0, 0.0)

    perm = _PERMS[axis]
    array = loaded.array if perm == (0, 1, 2) else loaded.array.transpose(perm)
    spacing = tuple(file_spacing[p] for p in perm)
    origin = tuple(file_origin[p] for p in perm)

    name = loaded.name or "image"
    stored = None
    if loaded.legend is not None and labels is not False and user_legend is None:
        stored = parse_legend(legend_to_text(loaded.legend), source)  # canonical names only
    if user_legend is not None:
        legend, given = user_legend, True
    elif labels is False:
        legend, given = None, False
    elif stored is not None:
        legend, given = stored, False
    elif labels:
        legend, given = dict(DEFAULT_LEGEND), False
        notice(f"{source}: no legend given: using the default legend {legend_to_text(DEFAULT_LEGEND)}; "
               "name the ids with a legend (id=name,...) if this file uses other ids")
    else:
        legend, given = None, False
    if legend is not None:
        check_labels(array, legend, source, legend_given=given)  # also rejects an empty volume
        if array.dtype != np.uint8:
            array = array.astype(np.uint8)
        if name == "image":
            name = "labels"
    elif name == "labels":
        name = "image"  # a label variable read as greyscale on request

    if array.size == 0:
        raise BadInput(path, f"the volume is empty (shape {tuple(array.shape)}, 0 voxels)",
                       "check the file and the variable or shape given")
    metadata = dict(loaded.metadata or {})
    metadata.update({"source": source, "thickness_axis": axis,
                     "original_axes": "".join("zyx"[p] for p in perm), "spacing_from": spacing_from})
    try:
        return Volume(array, spacing, origin, legend=legend, name=name, metadata=metadata,
                      provenance=list(loaded.provenance or []))
    except ValueError as exc:
        raise BadInput(path, str(exc), "check the file's dimensions and voxel size") from None


# --- writing --------------------------------------------------------------------------------

def write_volume(path, volume: Volume, *, force: bool = False, extra=None, progress=None) -> Path:
    """Write a volume to ``.nc``, ``.vti`` or ``.tif``/``.tiff`` (by suffix), atomically.

    Parameters
    ----------
    path : str or Path
        The output file.
    volume : Volume
        What to write.
    force : bool
        Replace an existing ``path``.
    extra : dict, optional
        Name -> ndarray or Volume of the volume's shape, stored as further netCDF variables (.nc)
        or point-data arrays (.vti); a TIFF holds one array, so they are skipped there with a
        notice.
    progress : callable, optional
        ``progress(fraction, message)``.

    Returns
    -------
    Path
        The path written.

    Raises
    ------
    BadInput
        An unsupported suffix; ``path`` exists and ``force`` is False; its folder does not exist.
    ValueError
        An ``extra`` array of another shape.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in WRITE_SUFFIXES:
        raise BadInput(path, f"unsupported output suffix '{path.suffix}'",
                       "use .nc, .vti, .tif or .tiff (time series: .pvd with write_pvd)")
    if extra:
        for n, arr in extra.items():
            if tuple(getattr(arr, "shape", ())) != volume.shape:
                raise ValueError(f"extra array '{n}' has shape {getattr(arr, 'shape', None)}, "
                                 f"the volume {volume.shape}")
    with atomic_output(path, force) as tmp:
        if suffix == ".nc":
            _module("netcdf").write_netcdf(tmp, volume, extra, progress)
        elif suffix == ".vti":
            _module("vti").write_vti(tmp, volume, progress, extra=extra)
        else:
            if extra:
                from electrovox.io._common import notice

                notice(f"{path}: a TIFF holds one array: extra arrays {sorted(extra)} are not written "
                       "(write .nc or .vti to keep them)")
            _module("tiff").write_tiff(tmp, volume, progress)
    return path
