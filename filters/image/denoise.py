"""Anisotropy-aware denoising of greyscale stacks: Gaussian, median, bilateral, non-local means.

All lengths are in um and converted to voxels per axis with the voxel size ``spacing`` (z, y, x),
so a filter has the same physical reach along every axis of an anisotropic FIB-SEM stack (e.g.
100 nm slices, 15.2 nm pixels): along a coarse axis it spans proportionally fewer voxels, and
along an axis whose voxel is much coarser than the filter it does (almost) nothing.

Methods of :func:`denoise` (the default scale is the finest voxel size ``s_min = min(spacing)``):

- ``"gaussian"``: :func:`scipy.ndimage.gaussian_filter1d` along each axis in turn (in place),
  ``sigma_vox = sigma_um / spacing``; default ``sigma_um = s_min`` (one voxel on the finest axes).
  Below ~0.5 voxel a sampled Gaussian keeps less variance than ``sigma_vox**2`` and is close
  to the identity: an axis that is already coarser than the requested scale is left nearly as
  it is, which is the intent.
- ``"median"``: :func:`scipy.ndimage.median_filter` over a box ``size_um / spacing`` voxels
  per axis (rounded to the nearest odd count, at least 1); default ``size_um = 3 s_min``.
- ``"bilateral"``: a 3D bilateral filter written here in numpy (scikit-image's is 2D only and
  would ignore the neighbours in adjacent slices of near-isotropic data): a Gaussian spatial
  weight with ``sigma_um`` per axis (default ``1.5 s_min``: wider than the Gaussian's default
  because the range weight drops part of every window) on an ellipsoidal window of 2 sigma per
  axis, times a Gaussian range weight ``exp(-(I_q - I_p)^2 / (2 sigma_intensity^2))``; default
  ``sigma_intensity = 2 x`` :func:`estimate_noise_sigma` (the difference of two noisy samples
  of one phase has std sqrt(2) sigma, so they still get ~0.8 of the spatial weight on average,
  while a step of several sigma between phases gets almost none).  The window is a set of
  vectorised shifts of a z-slab of the image; voxels are neither moved nor resampled.
- ``"nlm"``: :func:`skimage.restoration.denoise_nl_means` (``fast_mode=True``) with
  ``sigma`` = the estimated noise and ``h = 0.8 sigma`` (scikit-image's recommendation for
  fast mode with ``sigma`` given).  Its patches are isotropic in voxels, so on strongly
  anisotropic voxels (max/min spacing > 2) or single-slice input it runs in 2D slice by slice,
  in the plane normal to the coarsest axis (the plane of the finest voxels); else in 3D.
  Patch and search half-width from ``patch_um`` and ``search_um`` over the reference voxel
  size (the geometric mean of the spacings in use); defaults 5 voxels patch, search half-width
  6 voxels in 2D and 3 voxels in 3D (3D costs (2d+1)^3 patch comparisons per voxel).  Slow:
  with the defaults about 3 s per million voxels in 3D and 1 s per million in 2D (one core);
  optional.

Memory: the float32 output plus z-slabs (a few million voxels) of temporaries; the input is not
copied whole except by ``"nlm"`` in 3D (scikit-image holds several float copies internally).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

from electrovox.errors import BadInput
from electrovox.progress import report
from electrovox.volume import spacing_array

METHODS = ("gaussian", "median", "bilateral", "nlm")
_SLAB_VOXELS = 4_000_000          # voxels per slab of float32 temporaries (16 MB each)
_NOISE_SAMPLE_VOXELS = 16_000_000  # voxels read by estimate_noise_sigma at most (even sample of slabs)
_MAD_TO_SIGMA = 1.0 / 0.6744897501960817  # sigma / median(|x|) of a zero-mean Gaussian
_BILATERAL_TRUNCATE = 2.0         # spatial window: the ellipsoid of 2 sigma per axis
_NLM_ANISOTROPY_2D = 2.0          # max/min spacing above which NLM runs slice by slice


# ----------------------------------------------------------------------------------- checks
def _check_image(image, source: str) -> np.ndarray:
    a = np.asarray(image)
    if a.ndim != 3 or a.size == 0:
        raise BadInput(source, f"the image must be a non-empty 3D array [z, y, x], got shape {a.shape}",
                       "pass a 3D stack; a single slice as shape (1, ny, nx)")
    if a.dtype.kind not in "uif":
        raise BadInput(source, f"the image has dtype {a.dtype}, not real numbers",
                       "pass an integer or float greyscale image")
    if a.dtype.kind == "f":
        for lo, hi in _slabs(a.shape):
            if not np.all(np.isfinite(a[lo:hi])):
                raise BadInput(source, "the image contains NaN or infinite values",
                               "replace them (e.g. with np.nan_to_num) before denoising")
    return a


def _length_um(value, name: str, default, source: str) -> np.ndarray:
    """A length in um per axis (z, y, x) from one number or three; None: ``default``."""
    if value is None:
        return np.broadcast_to(np.asarray(default, np.float64), (3,)).copy()
    try:
        v = np.asarray(value, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        v = np.zeros(0)
    if v.size == 1:
        v = np.repeat(v, 3)
    if v.size != 3 or not np.all(np.isfinite(v)) or np.any(v < 0) or not np.any(v > 0):
        raise BadInput(source, f"{name} {value!r} is not a positive length in um (one number or z, y, x)",
                       f"give {name} > 0 in um, e.g. {name}=0.05")
    return v


def _positive(value, name: str, source: str) -> float | None:
    if value is None:
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = float("nan")
    if not math.isfinite(v) or v <= 0:
        raise BadInput(source, f"{name} {value!r} is not a positive number",
                       f"give {name} > 0 in the image's grey units, or None for the default")
    return v


def _slabs(shape, halo: int = 0) -> list[tuple[int, int]]:
    """Ranges along axis 0 of about ``_SLAB_VOXELS`` voxels (halos included) each."""
    plane = max(1, int(shape[1]) * int(shape[2]))
    step = max(1, _SLAB_VOXELS // plane - 2 * halo)
    return [(a, min(int(shape[0]), a + step)) for a in range(0, int(shape[0]), step)]


def _odd(x: float) -> int:
    """The odd integer nearest to ``x`` (ties up), at least 1."""
    return max(1, 2 * int(math.floor(x / 2.0)) + 1)


# ------------------------------------------------------------------------------ noise level
def estimate_noise_sigma(image) -> float:
    """Standard deviation of white noise in an image, in its grey units.

    Robust estimator (no wavelet package needed): the finest Haar wavelet detail in every axis
    of length >= 2 -- differences of non-overlapping voxel pairs along z, then y, then x, each
    divided by sqrt(2) -- is an orthonormal transform, so for white noise of std ``sigma`` each
    coefficient is N(0, sigma^2) and independent of the others; the signal leaks in only where
    it varies along *every* axis at once within a 2x2x2 block (edges, corners), a minority
    that the median ignores.  ``sigma = median(|d|) / 0.6745``.

    Signal-dependent noise gives a value between the phases' noise levels (weighted towards
    the phases with more voxels); sub-voxel texture counts as noise.  Volumes above 16 M voxels
    are sampled (evenly spaced slabs).

    Parameters
    ----------
    image : ndarray, shape (nz, ny, nx)
        Greyscale image, any real dtype.

    Returns
    -------
    float
        The noise sigma in grey units; 0.0 for a constant or noise-free piecewise constant image,
        and for a single voxel.

    Raises
    ------
    BadInput
        For a non-3D, empty, non-real or non-finite image.
    """
    a = _check_image(image, "estimate_noise_sigma")
    axes = [k for k in range(3) if a.shape[k] >= 2]
    if not axes:
        return 0.0
    even = [a.shape[k] - a.shape[k] % 2 if k in axes else a.shape[k] for k in range(3)]
    # slabs of an even number of planes along z (pairs never straddle two slabs)
    step = max(2, (_SLAB_VOXELS // max(1, even[1] * even[2])) // 2 * 2) if 0 in axes else 1
    slabs = [(lo, min(even[0], lo + step)) for lo in range(0, even[0], step)]
    n_keep = max(1, min(len(slabs), _NOISE_SAMPLE_VOXELS // max(1, step * even[1] * even[2])))
    keep = np.unique(np.linspace(0, len(slabs) - 1, n_keep).round().astype(int))
    inv_sqrt2 = np.float32(1.0 / math.sqrt(2.0))
    parts = []
    for i in keep:
        lo, hi = slabs[i]
        d = a[lo:hi, :even[1], :even[2]].astype(np.float32)  # a float copy: integer differences would wrap
        for k in axes:
            first = [slice(None)] * 3
            second = [slice(None)] * 3
            first[k] = slice(0, None, 2)
            second[k] = slice(1, None, 2)
            d = (d[tuple(first)] - d[tuple(second)]) * inv_sqrt2
        parts.append(np.abs(d).reshape(-1))
    coeffs = np.concatenate(parts)
    return float(np.median(coeffs)) * _MAD_TO_SIGMA


# --------------------------------------------------------------------------------- methods
def _gaussian(a, spacing, sigma_um, progress) -> np.ndarray:
    out = a.astype(np.float32, copy=True)
    sigma_vox = sigma_um / spacing
    for k in range(3):
        if sigma_vox[k] > 0 and out.shape[k] > 1:
            # one axis at a time, in place: scipy filters line by line through a buffer
            ndimage.gaussian_filter1d(out, float(sigma_vox[k]), axis=k, output=out, mode="reflect")
        report(progress, (k + 1) / 3.0, f"gaussian along axis {'zyx'[k]}")
    return out


def _median(a, spacing, size_um, progress) -> np.ndarray:
    size = tuple(_odd(float(x)) for x in size_um / spacing)
    out = np.empty(a.shape, np.float32)
    halo = size[0] // 2
    slabs = _slabs(a.shape, halo)
    for i, (lo, hi) in enumerate(slabs):
        # a z-slab with its halo: the result inside the slab equals filtering the whole volume
        blo, bhi = max(0, lo - halo), min(a.shape[0], hi + halo)
        block = a[blo:bhi].astype(np.float32)
        res = ndimage.median_filter(block, size=size, mode="reflect")
        out[lo:hi] = res[lo - blo:lo - blo + (hi - lo)]
        report(progress, (i + 1) / len(slabs), "median")
    return out


def _bilateral_offsets(sigma_vox):
    """Integer offsets inside the ellipsoid of ``_BILATERAL_TRUNCATE`` sigma, and their weights."""
    t = _BILATERAL_TRUNCATE
    radius = [int(math.floor(t * s)) if s > 0 else 0 for s in sigma_vox]
    grids = np.meshgrid(*[np.arange(-r, r + 1) for r in radius], indexing="ij")
    d = np.stack([g.reshape(-1) for g in grids], axis=1)
    safe = np.where(np.asarray(sigma_vox) > 0, sigma_vox, 1.0)
    q = np.sum((d / safe) ** 2, axis=1)
    inside = q <= t * t + 1e-9
    return d[inside], np.exp(-0.5 * q[inside]).astype(np.float32), radius


def _bilateral(a, spacing, sigma_um, sigma_intensity, progress) -> np.ndarray:
    sigma_vox = sigma_um / spacing
    offsets, weights, (rz, ry, rx) = _bilateral_offsets(sigma_vox)
    neg_c = np.float32(-0.5 / sigma_intensity ** 2)
    nz, ny, nx = a.shape
    out = np.empty(a.shape, np.float32)
    slabs = _slabs(a.shape, rz)
    for i, (lo, hi) in enumerate(slabs):
        blo, bhi = max(0, lo - rz), min(nz, hi + rz)
        block = a[blo:bhi].astype(np.float32)
        # mirror padding about the box faces (scipy's "reflect"); wider than the axis is fine
        block = np.pad(block, ((rz - (lo - blo), rz - (bhi - hi)), (ry, ry), (rx, rx)), mode="symmetric")
        m = hi - lo
        centre = block[rz:rz + m, ry:ry + ny, rx:rx + nx]
        num = np.zeros((m, ny, nx), np.float32)
        den = np.zeros((m, ny, nx), np.float32)
        t = np.empty((m, ny, nx), np.float32)
        for (dz, dy, dx), w in zip(offsets, weights, strict=True):
            nb = block[rz + dz:rz + dz + m, ry + dy:ry + dy + ny, rx + dx:rx + dx + nx]
            np.subtract(nb, centre, out=t)
            t *= t
            t *= neg_c
            np.exp(t, out=t)
            t *= w
            den += t
            t *= nb
            num += t
        # den >= 1: the centre voxel always has weight 1
        np.divide(num, den, out=out[lo:hi])
        report(progress, (i + 1) / len(slabs), "bilateral")
    return out


def _nlm(a, spacing, sigma, h, patch_um, search_um, progress) -> np.ndarray:
    from skimage.restoration import denoise_nl_means

    long_axes = [k for k in range(3) if a.shape[k] > 1]
    if len(long_axes) < 2:
        raise BadInput("denoise", f"non-local means needs at least a 2D image, got shape {a.shape}",
                       "use method='gaussian' or 'median' for 1D profiles")
    singles = [k for k in range(3) if a.shape[k] == 1]
    ratio = float(spacing.max() / spacing.min())
    if singles or ratio > _NLM_ANISOTROPY_2D:
        slice_axis = singles[0] if singles else int(np.argmax(spacing))
        plane = [k for k in range(3) if k != slice_axis]
        s_ref = float(np.exp(np.mean(np.log(spacing[plane]))))
        default_search = 6.0
    else:
        slice_axis = None
        s_ref = float(np.exp(np.mean(np.log(spacing))))
        default_search = 3.0
    patch = _odd((5.0 * s_ref if patch_um is None else patch_um) / s_ref)
    distance = max(1, int(round((default_search * s_ref if search_um is None else search_um) / s_ref)))
    kw = dict(patch_size=patch, patch_distance=distance, h=float(h), sigma=float(sigma), fast_mode=True,
              preserve_range=True, channel_axis=None)
    if slice_axis is None:
        report(progress, 0.0, "non-local means (3D)")
        out = denoise_nl_means(a.astype(np.float32), **kw).astype(np.float32, copy=False)
        report(progress, 1.0, "non-local means (3D)")
        return out
    out = np.empty(a.shape, np.float32)
    src = np.moveaxis(a, slice_axis, 0)
    dst = np.moveaxis(out, slice_axis, 0)  # a view: writing it fills ``out``
    for k in range(src.shape[0]):
        dst[k] = denoise_nl_means(np.ascontiguousarray(src[k], dtype=np.float32), **kw)
        report(progress, (k + 1) / src.shape[0], "non-local means (2D slices)")
    return out


def denoise(image, spacing, method: str = "gaussian", *, sigma_um=None, size_um=None, sigma_intensity=None,
            h=None, patch_um=None, search_um=None, progress=None) -> np.ndarray:
    """Denoise a greyscale stack.

    See the module docstring for what each method does and the defaults (all derived from the
    finest voxel size and, for the grey-level parameters, from :func:`estimate_noise_sigma`).
    Lengths are one number (the same in um on every axis) or (z, y, x) in um.  Parameters that
    do not belong to ``method`` are ignored.

    Parameters
    ----------
    image : ndarray, shape (nz, ny, nx)
        Greyscale image, any real dtype, finite.
    spacing : float or tuple of 3 float
        Voxel size (dz, dy, dx) in um.
    method : str
        ``"gaussian"`` (``sigma_um``), ``"median"`` (``size_um``: box extent), ``"bilateral"``
        (``sigma_um`` spatial, ``sigma_intensity`` range) or ``"nlm"`` (``h``, ``patch_um``,
        ``search_um``).
    sigma_um, size_um, patch_um, search_um : float or tuple of 3 float, optional
        Lengths in um.
    sigma_intensity, h : float, optional
        Grey-level parameters, in the image's grey units.
    progress : callable, optional
        ``progress(fraction, message)``.

    Returns
    -------
    ndarray of float32, shape (nz, ny, nx)
        The denoised image in the input's grey units.  A noise estimate of 0 (noise-free image)
        with the default ``sigma_intensity`` / ``h`` returns the image unchanged (as float32).

    Raises
    ------
    BadInput
        Source ``denoise``, naming the keyword: an unknown ``method``, a non-positive length or
        grey-level parameter, or an unusable image or spacing.
    """
    src = "denoise"
    if method not in METHODS:
        raise BadInput(src, f"unknown method {method!r}", "use one of " + ", ".join(METHODS))
    a = _check_image(image, src)
    sp = spacing_array(spacing, src)
    s_min = float(sp.min())
    report(progress, 0.0, method)
    if method == "gaussian":
        out = _gaussian(a, sp, _length_um(sigma_um, "sigma_um", s_min, src), progress)
    elif method == "median":
        out = _median(a, sp, _length_um(size_um, "size_um", 3.0 * s_min, src), progress)
    elif method == "bilateral":
        sig = _length_um(sigma_um, "sigma_um", 1.5 * s_min, src)
        si = _positive(sigma_intensity, "sigma_intensity", src)
        if si is None:
            si = 2.0 * estimate_noise_sigma(a)
            if si <= 0:
                report(progress, 1.0, "no noise found")
                return a.astype(np.float32, copy=True)
        out = _bilateral(a, sp, sig, si, progress)
    else:
        hh = _positive(h, "h", src)
        for name, v in (("patch_um", patch_um), ("search_um", search_um)):
            _positive(v, name, src)
        sigma = estimate_noise_sigma(a)
        if hh is None:
            if sigma <= 0:
                report(progress, 1.0, "no noise found")
                return a.astype(np.float32, copy=True)
            hh = 0.8 * sigma
        out = _nlm(a, sp, sigma, hh, patch_um, search_um, progress)
    report(progress, 1.0, "done")
    return out


# ------------------------------------------------------------------------ quality measures
def edge_preservation(denoised, clean, truth_labels, *, spacing=(1.0, 1.0, 1.0), margin_vox: int = 2) -> dict:
    """How well a denoised image matches the noise-free one, given the true labels.

    A test and benchmark helper: it holds about ten float copies of the volume.

    Parameters
    ----------
    denoised, clean : ndarray, shape (nz, ny, nx)
        The denoised image and the noise-free image, grey units.
    truth_labels : ndarray of int, shape (nz, ny, nx)
        The true labels.
    spacing : float or tuple of 3 float
        Voxel size (dz, dy, dx) in um; scales the gradients (the ratios do not depend on it when
        isotropic).
    margin_vox : int
        Half-width in voxels of the neighbourhood that defines phase interiors.

    Returns
    -------
    dict of float
        ``noise_std``: std of ``denoised - clean`` over phase interiors (voxels whose
        (2 margin_vox + 1)^3 neighbourhood holds one label), grey units; ``bias``: its mean;
        ``noise_std_by_label``: the same per label id; ``n_interior``: the voxel count;
        ``edge_sharpness``: over boundary voxels (a 6-neighbour has another label),
        ``sum(grad(denoised) . grad(clean)) / sum(|grad(clean)|^2)`` (1: as sharp as the clean
        image); ``edge_gradient_ratio``: mean |grad(denoised)| / mean |grad(clean)| over the same
        voxels (noise inflates this one); ``n_boundary``.

    Raises
    ------
    BadInput
        Source ``edge_preservation``: shapes that differ or are not 3D, or a bad ``spacing``.
    """
    src = "edge_preservation"
    d = np.asarray(denoised, np.float32)
    c = np.asarray(clean, np.float32)
    lab = np.asarray(truth_labels)
    if d.shape != c.shape or d.shape != lab.shape or d.ndim != 3:
        raise BadInput(src, f"shapes differ or are not 3D: {d.shape}, {c.shape}, {lab.shape}",
                       "pass three [z, y, x] arrays of one shape")
    sp = spacing_array(spacing, src)
    size = 2 * int(margin_vox) + 1
    interior = ndimage.maximum_filter(lab, size=size, mode="nearest") == ndimage.minimum_filter(
        lab, size=size, mode="nearest")
    cross = ndimage.generate_binary_structure(3, 1)
    boundary = ndimage.maximum_filter(lab, footprint=cross, mode="nearest") != ndimage.minimum_filter(
        lab, footprint=cross, mode="nearest")
    err = (d - c)[interior].astype(np.float64)
    by_label = {}
    for v in np.unique(lab[interior]):
        e = (d - c)[interior & (lab == v)].astype(np.float64)
        by_label[int(v)] = float(e.std())
    axes = [k for k in range(3) if d.shape[k] > 1]
    dot = 0.0
    cc = 0.0
    mag_d = np.zeros(int(boundary.sum()))
    mag_c = np.zeros_like(mag_d)
    for k in axes:
        gd = np.gradient(d, float(sp[k]), axis=k)[boundary].astype(np.float64)
        gc = np.gradient(c, float(sp[k]), axis=k)[boundary].astype(np.float64)
        dot += float(np.sum(gd * gc))
        cc += float(np.sum(gc * gc))
        mag_d += gd * gd
        mag_c += gc * gc
    mean_c = float(np.sqrt(mag_c).mean()) if mag_c.size else 0.0
    return {
        "noise_std": float(err.std()) if err.size else float("nan"),
        "bias": float(err.mean()) if err.size else float("nan"),
        "noise_std_by_label": by_label,
        "n_interior": int(err.size),
        "edge_sharpness": dot / cc if cc > 0 else float("nan"),
        "edge_gradient_ratio": float(np.sqrt(mag_d).mean()) / mean_c if mean_c > 0 else float("nan"),
        "n_boundary": int(mag_d.size),
    }
