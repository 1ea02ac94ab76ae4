"""Volume fractions, fraction profiles along an axis, and the crack fraction of particles.

Inputs: a label volume ``[z, y, x]`` (uint8 ids; other integer dtypes work), its legend
``{id: phase name}`` and, where positions are reported, ``spacing`` = voxel size in um in
(z, y, x) order (one number for cubic voxels).  z is the electrode thickness, z = 0 at the
current collector.

Tables
------
A *table* (type alias :data:`Table`) is a plain ``dict[str, np.ndarray]``: every value a 1-D
array, all of the same length, one row per entry; the insertion order of the keys is the
column order and the first column is the row key (the x axis of a line chart: a position, a
size, a metric name).  Numeric columns are float64 or int64 (bool for flags), a text column is
a numpy unicode array.  The VTK layer turns each column into a vtkTable column of the same name
(ParaView's line chart plots against the first one); :func:`table_to_lists` makes it JSON-ready.

Regions of interest
-------------------
``roi`` is ``None`` (whole volume), a boolean mask of the volume's shape, or a box
``(z0, z1, y0, y1, x0, x1)`` of voxel indices with Python slice semantics (end excluded,
``None`` = open end).
"""

from __future__ import annotations

import numpy as np

from electrovox.errors import BadInput
from electrovox.phases import label_counts
from electrovox.volume import spacing_array

#: A table: column name -> 1-D array, all columns of equal length (see the module docstring).
Table = dict[str, np.ndarray]

_AXES = {"z": 0, "y": 1, "x": 2}
#: voxels per z slab when counting slab by slab (an intp copy of a slab takes 32 MB)
_SLAB_VOXELS = 1 << 22


# ---------------------------------------------------------------- shared helpers (used by the sibling modules)

def table_to_lists(table: Table) -> dict[str, list]:
    """A table as ``{column: list}`` of plain Python values (JSON-ready; NaN stays float NaN)."""
    return {k: np.asarray(v).tolist() for k, v in table.items()}


def phase_ids(legend: dict[int, str]) -> dict[str, int]:
    """``{phase name: id}`` from a legend ``{id: name}``."""
    return {str(name): int(i) for i, name in legend.items()}


def as_spacing(spacing) -> tuple[float, float, float]:
    """Voxel size (dz, dy, dx) in um from one number (cubic) or three; checked positive and finite."""
    return tuple(float(v) for v in spacing_array(spacing, "spacing", "voxel size"))


def as_axis(axis) -> int:
    """Axis index 0, 1, 2 from ``"z"``, ``"y"``, ``"x"`` (or the index itself)."""
    if isinstance(axis, str) and axis.lower() in _AXES:
        return _AXES[axis.lower()]
    if isinstance(axis, (int, np.integer)) and 0 <= int(axis) <= 2:
        return int(axis)
    raise BadInput("axis", f"unknown axis {axis!r}", "give 'z' (thickness), 'y' or 'x'")


def _check3d(labels) -> np.ndarray:
    a = np.asarray(labels)
    if a.ndim != 3:
        raise BadInput("labels", f"expected a 3-D label volume [z, y, x], got shape {a.shape}",
                       "pass the label array of a volume")
    if a.size == 0:
        raise BadInput("labels", "the volume is empty (0 voxels)", "pass a non-empty label volume")
    return a


def roi_box(roi, shape) -> tuple[slice, slice, slice] | None:
    """The slices of a box ROI ``(z0, z1, y0, y1, x0, x1)``; None for a mask or no ROI.

    Raises BadInput for a box that is malformed or selects no voxel.
    """
    if roi is None or (isinstance(roi, np.ndarray) and roi.shape == tuple(shape)):
        return None
    if isinstance(roi, np.ndarray) and roi.ndim == 3:
        raise BadInput("roi", f"mask shape {roi.shape} differs from the volume's {tuple(shape)}",
                       "give a boolean mask of the volume's shape or a box (z0, z1, y0, y1, x0, x1)")
    try:
        vals = list(roi)
    except TypeError:
        vals = []
    if len(vals) != 6 or not all(v is None or isinstance(v, (int, np.integer)) for v in vals):
        raise BadInput("roi", f"{roi!r} is neither a mask nor a box", "give (z0, z1, y0, y1, x0, x1) voxel indices")
    box = tuple(slice(vals[2 * i], vals[2 * i + 1]) for i in range(3))
    if any(len(range(*b.indices(n))) == 0 for b, n in zip(box, shape, strict=True)):
        raise BadInput("roi", f"the box {tuple(vals)} selects no voxel of a {tuple(shape)} volume",
                       "give a box inside the volume with z0 < z1, y0 < y1, x0 < x1")
    return box


def _roi_mask(roi, shape) -> np.ndarray | None:
    if isinstance(roi, np.ndarray) and roi.shape == tuple(shape):
        m = roi if roi.dtype == bool else roi != 0
        if not m.any():
            raise BadInput("roi", "the mask selects no voxel", "give a mask with at least one True voxel")
        return m
    return None


def electrode_range(labels, legend: dict[int, str]) -> tuple[int, int]:
    """The z slices ``[z0, z1)`` of the electrode itself.

    Z slices ``[z0, z1)`` of the electrode: without whole planes of collector at low z and of
    separator at high z (the layers a phantom or a full-cell scan may hold).

    Only complete planes count as a layer, so a volume without such layers gives ``(0, nz)``.
    """
    a = _check3d(labels)
    ids = phase_ids(legend)
    z0, z1 = 0, a.shape[0]
    if "collector" in ids:
        while z0 < z1 and np.all(a[z0] == ids["collector"]):
            z0 += 1
    if "separator" in ids:
        while z1 > z0 and np.all(a[z1 - 1] == ids["separator"]):
            z1 -= 1
    return z0, z1


def _count_ids(a: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """Voxel count of each label value (int64 array indexed by value), within ``mask`` if given."""
    if mask is None:
        return label_counts(a, slab_voxels=_SLAB_VOXELS)
    counts = np.zeros(1, np.int64)
    step = max(1, _SLAB_VOXELS // max(1, a[0].size))
    for z0 in range(0, a.shape[0], step):
        # boolean indexing copies only the selected voxels of one slab
        c = np.bincount(a[z0:z0 + step][mask[z0:z0 + step]].astype(np.intp, copy=False))
        if c.size > counts.size:
            c[:counts.size] += counts
            counts = c.astype(np.int64)
        else:
            counts[:c.size] += c
    return counts


def _region_counts(labels, roi) -> tuple[np.ndarray, int]:
    """(counts per label value, voxels in the region)."""
    a = _check3d(labels)
    box = roi_box(roi, a.shape)
    if box is not None:
        a = a[box]
        return label_counts(a, slab_voxels=_SLAB_VOXELS), int(a.size)
    mask = _roi_mask(roi, a.shape)
    counts = _count_ids(a, mask)
    return counts, int(a.size if mask is None else np.count_nonzero(mask))


def _get(counts: np.ndarray, i: int | None) -> int:
    return int(counts[i]) if i is not None and 0 <= i < counts.size else 0


# ---------------------------------------------------------------- fractions

def volume_fractions(labels, legend: dict[int, str], roi=None) -> dict[str, float]:
    """Volume fraction of each legend phase in the volume or in a region of interest.

    Parameters
    ----------
    labels : integer array [z, y, x]
    legend : ``{id: phase name}``
    roi : None, boolean mask of the volume's shape, or a box ``(z0, z1, y0, y1, x0, x1)``

    Returns ``{phase name: fraction}`` (dimensionless, voxels of the phase / voxels in the region),
    in legend-id order.  Voxels with values not in the legend count in the denominator only.
    Counted slab by slab (no full-size int64 copy of the volume).
    """
    counts, total = _region_counts(labels, roi)
    return {str(name): _get(counts, int(i)) / total for i, name in sorted(legend.items())}


def crack_fraction(labels, legend: dict[int, str], roi=None) -> float:
    """Crack volume as a fraction of the particle volume: ``crack / (am + crack)``.

    This is the study's "crack volume normalised by particle volume" (Fig. 2).  0.0 when the legend
    has no crack phase (nothing segmented as crack), NaN when the region holds no particle voxel.
    """
    ids = phase_ids(legend)
    counts, _ = _region_counts(labels, roi)
    n_crack = _get(counts, ids.get("crack"))
    n_part = _get(counts, ids.get("am")) + n_crack
    return n_crack / n_part if n_part else float("nan")


# ---------------------------------------------------------------- profiles

def _slice_counts(a: np.ndarray, ids: list[int | None], axis: int, mask: np.ndarray | None):
    """Per-slice counts along ``axis``: (counts (n_slices, len(ids)) int64, voxels per slice int64)."""
    n = a.shape[axis]
    counts = np.zeros((n, len(ids)), np.int64)
    step = max(1, _SLAB_VOXELS // max(1, a[0].size))
    other = tuple(d for d in range(3) if d != axis)
    if mask is None:
        per = np.full(n, a.size // n, np.int64)
    else:
        per = np.zeros(n, np.int64)
    for z0 in range(0, a.shape[0], step):
        slab = a[z0:z0 + step]
        m = None if mask is None else mask[z0:z0 + step]
        rows = slice(z0, z0 + slab.shape[0]) if axis == 0 else slice(None)
        for j, i in enumerate(ids):
            if i is None:                    # phase not in the legend: no voxel of it
                continue
            hit = slab == i
            if m is not None:
                hit &= m
            counts[rows, j] += np.count_nonzero(hit, axis=other)
        if m is not None:
            per[rows] += np.count_nonzero(m, axis=other)
    return counts, per


def _binned(counts, per, d, k0, origin, bin_um):
    """Group slices into bins of ``bin_um`` (None: one slice each); positions of the bin centres."""
    n = per.size
    k = np.arange(n) + k0                        # slice indices in the full volume
    if bin_um is None:
        which = np.arange(n)
    else:
        if not (np.isfinite(bin_um) and bin_um > 0):
            raise BadInput("bin_um", f"bin width {bin_um!r} is not positive", "give a width in um, or None")
        w = max(1, int(round(float(bin_um) / d)))
        which = (k - k0) // w
    nb = int(which[-1]) + 1
    sum_counts = np.zeros((nb, counts.shape[1]), np.int64)
    np.add.at(sum_counts, which, counts)
    sum_per = np.bincount(which, weights=per, minlength=nb)
    n_slices = np.bincount(which, minlength=nb)
    centre = np.bincount(which, weights=(k + 0.5) * d, minlength=nb) / n_slices
    first = k[np.searchsorted(which, np.arange(nb))]   # first slice of each bin (which is sorted)
    return sum_counts, sum_per, centre - origin, first


def _profile_setup(labels, legend, spacing, axis, roi, origin):
    a = _check3d(labels)
    ax = as_axis(axis)
    d = as_spacing(spacing)[ax]
    if origin is None:
        # z: distance from the current collector's surface, i.e. the top of a collector layer
        origin = electrode_range(a, legend)[0] * d if ax == 0 else 0.0
    box = roi_box(roi, a.shape)
    k0 = 0
    mask = None
    if box is not None:
        k0 = box[ax].indices(a.shape[ax])[0]
        if box[ax].indices(a.shape[ax])[2] != 1:
            raise BadInput("roi", "a box with a step is not supported", "give (z0, z1, y0, y1, x0, x1) without steps")
        a = a[box]
    else:
        mask = _roi_mask(roi, a.shape)
    return a, ax, d, float(origin), k0, mask


def profiles(labels, legend: dict[int, str], spacing, axis="z", roi=None, origin=None,
             bin_um: float | None = None) -> Table:
    """Volume fraction of every phase slice by slice along an axis.

    Parameters
    ----------
    labels : integer array [z, y, x]; legend : ``{id: phase name}``
    spacing : voxel size in um (dz, dy, dx) or one number
    axis : ``"z"`` (thickness, default), ``"y"`` or ``"x"``
    roi : None, boolean mask, or box ``(z0, z1, y0, y1, x0, x1)``; fractions are of the ROI's
        voxels in each slice (NaN for a slice with none)
    origin : position (um) of the reference plane measured from the lower face of slice 0.
        Default: for z the current-collector surface, i.e. 0, or the top face of a collector
        layer (whole planes of the ``collector`` phase at low z); for y and x, 0.
    bin_um : average over bins of ``round(bin_um / spacing)`` consecutive slices (None: one slice)

    Returns a :data:`Table` with columns, in order:

    - ``"<axis>_um"`` (e.g. ``z_um``): position of the slice (bin) centre in um from ``origin``,
      ``(k + 0.5) * d - origin`` for slice k;
    - ``"slice"``: index of the (first) slice in the full volume;
    - ``"voxels"``: voxels counted in the slice (bin);
    - one column per legend phase (by name, legend-id order): its fraction in the slice (bin).
    """
    a, ax, d, origin, k0, mask = _profile_setup(labels, legend, spacing, axis, roi, origin)
    items = sorted(legend.items())
    counts, per = _slice_counts(a, [int(i) for i, _ in items], ax, mask)
    counts, per, pos, first = _binned(counts, per, d, k0, origin, bin_um)
    table: Table = {f"{'zyx'[ax]}_um": pos, "slice": first, "voxels": per.astype(np.int64)}
    with np.errstate(invalid="ignore", divide="ignore"):
        for j, (_, name) in enumerate(items):
            table[str(name)] = np.where(per > 0, counts[:, j] / np.maximum(per, 1), np.nan)
    return table


def crack_profile(labels, legend: dict[int, str], spacing, axis="z", roi=None, origin=None,
                  bin_um: float | None = None) -> Table:
    """Crack fraction of particles ``crack / (am + crack)`` slice by slice along an axis.

    Parameters as :func:`profiles`.  Returns a :data:`Table`: ``"<axis>_um"``, ``"slice"``,
    ``"particle_voxels"`` (am + crack voxels in the slice or bin) and ``"crack_fraction"`` (NaN
    where a slice holds no particle voxel).
    """
    a, ax, d, origin, k0, mask = _profile_setup(labels, legend, spacing, axis, roi, origin)
    ids = phase_ids(legend)
    want = [ids.get("am"), ids.get("crack")]        # None: phase not in the legend

    counts, per = _slice_counts(a, want, ax, mask)
    counts, per, pos, first = _binned(counts, per, d, k0, origin, bin_um)
    part = counts[:, 0] + counts[:, 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        cf = np.where(part > 0, counts[:, 1] / np.maximum(part, 1), np.nan)
    return {f"{'zyx'[ax]}_um": pos, "slice": first, "particle_voxels": part, "crack_fraction": cf}
