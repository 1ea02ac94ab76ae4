"""Resampling of anisotropic stacks (e.g. PFIB-SEM, 15.2 x 15.2 x 100 nm) to other voxel sizes.

Geometry (the rule of :mod:`electrovox.solvers.phantoms.imaging`).  Arrays are [z, y, x];
``spacing`` and ``new_spacing`` are voxel sizes in um in that order.  Input and output cover the
same physical box, which starts at the low face of the first input voxel: output voxel ``i``
along an axis has its centre at ``(i + 0.5) * new_spacing`` from that face, and there are
``floor(n * spacing / new_spacing + 1e-9)`` of them (a partial voxel at the far end is dropped;
at least 1).  Relative to the input's origin (the centre of its first voxel) the output's
origin is shifted by ``new_spacing / 2 - spacing / 2`` per axis; every function returns it.

- :func:`resample_image`: greyscale, separable interpolation at the output centres, one axis
  at a time (the axis that shrinks most first, so intermediates stay small), each axis by a
  2- or 4-tap kernel with explicit per-voxel weights.  Along an axis downsampled by more than
  1.5x the input is first smoothed along that axis by a Gaussian of
  ``sqrt((f^2 - 1) / 12)`` input voxels (``f = new_spacing / spacing``): the variance that
  turns the input voxel's box into the output voxel's box, i.e. roughly what a detector with
  the coarser voxel would have recorded; without it, downsampling aliases noise and fine
  structure.
- :func:`resample_labels`: ``"nearest"`` (exactly the phantom's truth) or ``"majority"``
  (overlap-weighted vote, computed separably with sparse per-axis overlap matrices).

Memory: the output plus one intermediate (float32) and slabs of a few million voxels; the
input is never copied whole.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage, sparse

from electrovox.errors import BadInput
from electrovox.progress import report
from electrovox.volume import spacing_array

ORDERS = (0, 1, 3)
LABEL_METHODS = ("nearest", "majority", "linear")
_SLAB_VOXELS = 4_000_000   # voxels per slab of float32 temporaries (16 MB each)
_ANTIALIAS_FACTOR = 1.5    # downsampling factor above which an axis is pre-smoothed
_TIE_TOLERANCE = 1e-5      # majority: overlaps closer than this (fraction of the output box) tie


# ----------------------------------------------------------------------------------- checks
def _check_array(a, source: str, what: str) -> np.ndarray:
    a = np.asarray(a)
    if a.ndim != 3 or a.size == 0:
        raise BadInput(source, f"the {what} must be a non-empty 3D array [z, y, x], got shape {a.shape}",
                       "pass a 3D stack; a single slice as shape (1, ny, nx)")
    return a


def _slab_ranges(n: int, per_plane: int, budget: int = _SLAB_VOXELS) -> list[tuple[int, int]]:
    step = max(1, budget // max(1, per_plane))
    return [(a, min(n, a + step)) for a in range(0, n, step)]


# --------------------------------------------------------------------------------- geometry
def _axis_count(n: int, s: float, ns: float) -> int:
    return max(1, int(math.floor(n * s / ns + 1e-9)))


def output_grid(shape, spacing, new_spacing) -> tuple[tuple[int, int, int], tuple[float, float, float]]:
    """The output grid of resampling ``shape`` voxels of ``spacing`` um to ``new_spacing`` um.

    Parameters
    ----------
    shape : tuple of 3 int
        Input voxels (nz, ny, nx).
    spacing : float or tuple of 3 float
        Input voxel size (dz, dy, dx) in um.
    new_spacing : float or tuple of 3 float
        Output voxel size in um: one number (cubic voxels) or (dz, dy, dx).

    Returns
    -------
    (tuple of 3 int, tuple of 3 float)
        ``(new_shape, origin_shift_um)``, both (z, y, x): the voxel counts
        ``max(1, floor(n * spacing / new_spacing + 1e-9))`` and the shift of the output origin
        (centre of its first voxel) from the input origin, ``new_spacing / 2 - spacing / 2`` in um.

    Raises
    ------
    BadInput
        Source ``output_grid``: ``shape`` not three positive counts, or a bad ``spacing`` or
        ``new_spacing``.
    """
    src = "output_grid"
    try:
        shp = tuple(int(v) for v in shape)
    except (TypeError, ValueError):
        shp = ()
    if len(shp) != 3 or min(shp) < 1:
        raise BadInput(src, f"shape {shape!r} is not three positive voxel counts", "give (nz, ny, nx)")
    sp = spacing_array(spacing, src, "spacing")
    ns = spacing_array(new_spacing, src, "new_spacing")
    new_shape = tuple(_axis_count(n, float(a), float(b)) for n, a, b in zip(shp, sp, ns, strict=True))
    shift = tuple(float(v) for v in ns / 2.0 - sp / 2.0)
    return new_shape, shift


def _centres(n_out: int, ns: float) -> np.ndarray:
    """Output voxel centres in um from the box's low face."""
    return (np.arange(n_out, dtype=np.float64) + 0.5) * ns


def _mirror(j: np.ndarray, n: int) -> np.ndarray:
    """Indices mirrored about the box faces (..., 1, 0 | 0, 1, ..., n-1 | n-1, n-2, ...)."""
    period = 2 * n
    j = np.mod(j, period)
    return np.where(j >= n, period - 1 - j, j)


def _keys(t: np.ndarray) -> np.ndarray:
    """Keys' cubic convolution kernel (a = -0.5) at distances ``t`` (interpolating, 4 taps)."""
    t = np.abs(t)
    w = np.where(t <= 1, (1.5 * t - 2.5) * t * t + 1, ((-0.5 * t + 2.5) * t - 4) * t + 2)
    return np.where(t < 2, w, 0.0)


def _taps(n: int, s: float, ns: float, n_out: int, order: int):
    """Input indices (taps, n_out) and weights (taps, n_out) interpolating at the output centres."""
    x = _centres(n_out, ns)
    if order == 0:
        # the input voxel containing the centre (same arithmetic as the phantom's truth)
        j = np.clip(np.floor(x / s).astype(np.intp), 0, n - 1)
        return j[None, :], np.ones((1, n_out))
    u = x / s - 0.5                       # position in input index units (voxel centres at integers)
    j0 = np.floor(u).astype(np.intp)
    t = u - j0
    if order == 1:
        idx = np.stack([j0, j0 + 1])
        w = np.stack([1.0 - t, t])
    else:
        offs = np.arange(-1, 3)[:, None]
        idx = j0[None, :] + offs
        w = _keys(t[None, :] - offs)
        w /= w.sum(axis=0, keepdims=True)
    return _mirror(idx, n), w


def _antialias_sigma(s: float, ns: float) -> float:
    f = ns / s
    return math.sqrt((f * f - 1.0) / 12.0) if f > _ANTIALIAS_FACTOR else 0.0


# --------------------------------------------------------------------------------- greyscale
def resample_image(image, spacing, new_spacing, *, order: int = 1, anti_alias: bool = True,
                   progress=None) -> tuple[np.ndarray, tuple, tuple]:
    """Resample a greyscale stack to another voxel size.

    Beyond the outermost input centres values are mirrored about the box faces (linear: held
    constant).

    Parameters
    ----------
    image : ndarray, shape (nz, ny, nx)
        Greyscale image, any real dtype.
    spacing : float or tuple of 3 float
        Input voxel size (dz, dy, dx) in um.
    new_spacing : float or tuple of 3 float
        Output voxel size in um: one number (cubic voxels) or (dz, dy, dx).
    order : int
        0 (the input voxel containing each output centre), 1 (linear, default; reproduces linear
        ramps exactly) or 3 (Keys cubic convolution, a = -0.5: interpolating, exact for
        quadratics, no prefilter).
    anti_alias : bool
        Pre-smooth each axis downsampled by more than 1.5x (see the module docstring).
    progress : callable, optional
        ``progress(fraction, message)``.

    Returns
    -------
    (ndarray, tuple of 3 float, tuple of 3 float)
        ``(out, new_spacing, origin_shift)``: the float32 array on the output grid
        (:func:`output_grid`), the output voxel size (z, y, x) and the output origin's shift
        (z, y, x) in um.

    Raises
    ------
    BadInput
        Source ``resample_image``: a non-3D or non-real image, an unsupported ``order``, or a bad
        ``spacing`` / ``new_spacing``.
    """
    src = "resample_image"
    a = _check_array(image, src, "image")
    if a.dtype.kind not in "uifb":
        raise BadInput(src, f"the image has dtype {a.dtype}, not real numbers", "pass a greyscale image")
    if order not in ORDERS or isinstance(order, bool):
        raise BadInput(src, f"order {order!r} is not supported", "use order 0, 1 or 3")
    sp = spacing_array(spacing, src, "spacing")
    ns = spacing_array(new_spacing, src, "new_spacing")
    new_shape, shift = output_grid(a.shape, sp, ns)
    report(progress, 0.0, "resampling")

    # axes that change, the most shrinking first: later steps then work on smaller arrays
    axes = [k for k in range(3) if not (new_shape[k] == a.shape[k] and sp[k] == ns[k])]
    axes.sort(key=lambda k: new_shape[k] / a.shape[k])
    cur = a
    shape = list(a.shape)
    if not axes:
        out = np.empty(a.shape, np.float32)
        for lo, hi in _slab_ranges(shape[0], shape[1] * shape[2]):
            out[lo:hi] = a[lo:hi]
        report(progress, 1.0, "done (same grid)")
        return out, tuple(float(v) for v in ns), shift
    for step, k in enumerate(axes):
        idx, w = _taps(shape[k], float(sp[k]), float(ns[k]), new_shape[k], order)
        sigma = _antialias_sigma(float(sp[k]), float(ns[k])) if anti_alias else 0.0
        shape_out = list(shape)
        shape_out[k] = new_shape[k]
        nxt = np.empty(shape_out, np.float32)
        m = 0 if k != 0 else 1            # chunk along another axis: no halo needed along k
        per_plane = int(np.prod(shape)) // shape[m]
        bshape = [1, 1, 1]
        bshape[k] = new_shape[k]
        weights = [wt.astype(np.float32).reshape(bshape) for wt in w]
        ranges = _slab_ranges(shape[m], per_plane)
        for i, (lo, hi) in enumerate(ranges):
            sel = [slice(None)] * 3
            sel[m] = slice(lo, hi)
            sel = tuple(sel)
            block = np.asarray(cur[sel], dtype=np.float32)
            if sigma > 0:
                if cur is a and np.may_share_memory(block, a):
                    block = block.copy()  # never smooth the caller's array in place
                ndimage.gaussian_filter1d(block, sigma, axis=k, output=block, mode="reflect")
            res = np.take(block, idx[0], axis=k)
            res *= weights[0]
            for tap in range(1, idx.shape[0]):
                part = np.take(block, idx[tap], axis=k)
                part *= weights[tap]
                res += part
            nxt[sel] = res
            report(progress, (step + (i + 1) / len(ranges)) / len(axes),
                   f"axis {'zyx'[k]}" + (" (anti-aliased)" if sigma > 0 else ""))
        cur = nxt
        shape = shape_out
    return cur, tuple(float(v) for v in ns), shift


# ------------------------------------------------------------------------------------ labels
def _overlap_matrix(n: int, s: float, ns: float, n_out: int) -> sparse.csr_matrix:
    """(n_out, n) sparse matrix: the fraction of output voxel i's box covered by input voxel j."""
    lo = np.arange(n_out, dtype=np.float64) * ns
    hi = lo + ns
    j_lo = np.clip(np.floor(lo / s).astype(np.intp), 0, n - 1)
    width = int(math.ceil(ns / s)) + 2
    j = j_lo[:, None] + np.arange(width)[None, :]
    ov = np.minimum(hi[:, None], (j + 1) * s) - np.maximum(lo[:, None], j * s)
    keep = (j < n) & (ov > 1e-9 * min(s, ns))   # drop slivers from rounding at shared faces
    rows = np.broadcast_to(np.arange(n_out)[:, None], j.shape)[keep]
    return sparse.csr_matrix(((ov[keep] / ns).astype(np.float32), (rows, j[keep])), shape=(n_out, n))


def _label_weights(n: int, s: float, ns: float, n_out: int) -> sparse.csr_matrix:
    """(n_out, n) sparse matrix of the ``"linear"`` label method along one axis.

    Refining (``ns < s``): linear interpolation between the two input voxel centres around each
    output centre (the nearest one past the first and last centre).  Otherwise the box overlap
    fractions of :func:`_overlap_matrix`, as ``"majority"`` (an equal size gives the identity).
    """
    if ns >= s:
        return _overlap_matrix(n, s, ns, n_out)
    u = _centres(n_out, ns) / s - 0.5                  # output centres in input-centre units
    j0 = np.floor(u).astype(np.intp)
    w = (u - j0).astype(np.float32)
    rows = np.repeat(np.arange(n_out), 2)
    cols = np.clip(np.stack([j0, j0 + 1], axis=1), 0, n - 1).reshape(-1)
    vals = np.stack([1 - w, w], axis=1).reshape(-1)
    return sparse.csr_matrix((vals, (rows, cols)), shape=(n_out, n))     # clipped duplicates add up


def _apply(mat: sparse.csr_matrix, arr: np.ndarray, axis: int) -> np.ndarray:
    """``mat`` applied along ``axis`` of a 3D float32 array."""
    moved = np.moveaxis(arr, axis, 0)
    rest = moved.shape[1:]
    res = mat @ moved.reshape(moved.shape[0], -1)
    return np.moveaxis(np.asarray(res, np.float32).reshape((mat.shape[0],) + rest), 0, axis)


def resample_labels(labels, spacing, new_spacing, *, method: str = "majority",
                    progress=None) -> tuple[np.ndarray, tuple, tuple]:
    """Resample a label volume (integer ids 0..255) to another voxel size.

    ``"majority"`` is computed separably: for each label present, its indicator is multiplied
    along z, y and x by sparse overlap matrices (fraction of each output box covered by each
    input voxel), in z-slabs.  Ties (overlaps within 1e-5 of the box) go to the label at the
    output centre (the ``"nearest"`` label) when it is among the tied, else to the lower id: with
    even factors ties are common (2x: 4 voxels against 4) and a fixed preference for one id would
    grow that phase.  Cost: one pass per label present.

    Parameters
    ----------
    labels : ndarray of int, shape (nz, ny, nx)
        Label volume, ids 0..255.
    spacing : float or tuple of 3 float
        Input voxel size (dz, dy, dx) in um.
    new_spacing : float or tuple of 3 float
        Output voxel size in um: one number (cubic voxels) or (dz, dy, dx).
    method : str
        ``"majority"`` (default): the label covering the largest part of the output voxel's box
        (exact box intersections); ``"nearest"``: the label of the input voxel containing the
        output centre (the arithmetic of the phantom's ``truth``; no new mixtures); ``"linear"``:
        for refining, the label whose indicator, interpolated linearly between the input voxel
        centres, is largest at the output centre (axes not refined as ``"majority"``).  Refined
        by majority or nearest a label image keeps its voxel staircase, each step now several
        voxels; the linear indicators round it off, which is what a two-phase flow through
        one- and two-voxel necks needs (``docs/impregnation.md``: a sphere pack imaged at 1 um
        and refined to 0.5 um fills like one imaged at 0.5 um).
    progress : callable, optional
        ``progress(fraction, message)``.

    Returns
    -------
    (ndarray, tuple of 3 float, tuple of 3 float)
        ``(out, new_spacing, origin_shift)``: uint8 labels on the output grid, the output voxel
        size and the output origin's shift (z, y, x) in um.

    Raises
    ------
    BadInput
        Source ``resample_labels``: non-integer labels, ids outside 0..255, an unknown
        ``method``, or a bad ``spacing`` / ``new_spacing``.
    """
    src = "resample_labels"
    a = _check_array(labels, src, "label volume")
    if a.dtype.kind not in "uib":
        raise BadInput(src, f"labels have dtype {a.dtype}, not integers", "pass integer labels (uint8)")
    if method not in LABEL_METHODS:
        raise BadInput(src, f"unknown method {method!r}", "use one of " + ", ".join(LABEL_METHODS))
    if a.dtype != np.uint8:
        lo_v, hi_v = int(a.min()), int(a.max())
        if lo_v < 0 or hi_v > 255:
            raise BadInput(src, f"label range {lo_v}..{hi_v} is outside 0..255", "relabel to uint8 ids")
    sp = spacing_array(spacing, src, "spacing")
    ns = spacing_array(new_spacing, src, "new_spacing")
    new_shape, shift = output_grid(a.shape, sp, ns)
    out = np.empty(new_shape, np.uint8)
    report(progress, 0.0, method)

    index = [np.clip(np.floor(_centres(m, float(b)) / float(s)).astype(np.intp), 0, n - 1)
             for n, s, b, m in zip(a.shape, sp, ns, new_shape, strict=True)]
    if method == "nearest":
        ranges = _slab_ranges(new_shape[0], new_shape[1] * new_shape[2])
        for i, (lo, hi) in enumerate(ranges):
            out[lo:hi] = a[np.ix_(index[0][lo:hi], index[1], index[2])]
            report(progress, (i + 1) / len(ranges), "nearest")
        return out, tuple(float(v) for v in ns), shift

    tol = np.float32(_TIE_TOLERANCE)
    weights = _overlap_matrix if method == "majority" else _label_weights
    mats = [weights(n, float(s), float(b), m) for n, s, b, m in zip(a.shape, sp, ns, new_shape, strict=True)]
    mz = mats[0]
    rows_per_out = max(1, int(math.ceil(float(ns[0]) / float(sp[0]))) + 1)
    ranges = _slab_ranges(new_shape[0], rows_per_out * a.shape[1] * a.shape[2])
    for i, (lo, hi) in enumerate(ranges):
        sub = mz[lo:hi]
        cols = sub.indices
        j0 = int(cols.min()) if cols.size else 0
        j1 = int(cols.max()) + 1 if cols.size else 1
        sub = sub[:, j0:j1]
        block = a[j0:j1]
        present = np.flatnonzero(np.bincount(block.reshape(-1).astype(np.intp, copy=False), minlength=1))
        near = a[np.ix_(index[0][lo:hi], index[1], index[2])]
        best = np.full(near.shape, -1.0, np.float32)
        near_frac = np.zeros(near.shape, np.float32)
        slab = out[lo:hi]
        for v in present:                  # ascending ids: a later id must win by more than the tolerance
            frac = (block == v).astype(np.float32)
            frac = _apply(sub, frac, 0)
            frac = _apply(mats[1], frac, 1)
            frac = _apply(mats[2], frac, 2)
            win = frac > best + tol
            slab[win] = v
            np.maximum(best, frac, out=best)
            is_near = near == v
            near_frac[is_near] = frac[is_near]
        # a tie goes to the label at the output centre: with even factors (2x: 4 voxels against 4)
        # ties are common, and a fixed preference (lower id) would grow one phase at the others' cost
        tied = near_frac >= best - tol
        slab[tied] = near[tied]
        report(progress, (i + 1) / len(ranges), method)
    return out, tuple(float(v) for v in ns), shift
