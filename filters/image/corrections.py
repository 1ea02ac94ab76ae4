"""FIB-SEM stack corrections: curtaining stripes, slice-to-slice brightness drift, slice alignment.

Three independent corrections of a serial-sectioning stack, each a numpy/scipy/scikit-image
core (no VTK):

- :func:`destripe` removes curtaining: an additive offset per position across the ion beam,
  constant along the beam within a slice, changing slowly from slice to slice;
- :func:`normalise_drift` removes a per-slice gain and offset (detector brightness/contrast
  drift) without assuming that the phase fractions are the same in every slice;
- :func:`align_slices` registers consecutive slices by sub-pixel phase correlation.

Conventions (as in :mod:`electrovox.filters.image`): an image is a 3D array indexed
``[z, y, x]`` of any real dtype; outputs are float32 in the input's grey units.  ``spacing`` is
the voxel size in um in (z, y, x) order, possibly anisotropic.  The *slice axis* (0, 1 or 2) is
the FIB milling direction: every 2D image of the stack is the plane normal to it.  The *beam
axis* is the in-plane axis curtain stripes run along (the image's vertical); the remaining
in-plane axis is the *across* axis.  A 2D image is refused (BadInput): pass ``image[None]`` to
treat a single image as a one-slice stack (then give ``slice_axis=0``).

Memory: the input, the float32 output and 2D per-slice temporaries (normalise_drift adds one
16 KB histogram per slice); every function works slice by slice, so no more than the output is
held as a full-size float32 copy (plus the input, as given).  ``progress`` is None or a
callable ``progress(fraction, message=None)``.

Recommended order on a raw stack: :func:`align_slices` (if the stack shifts), :func:`destripe`,
then :func:`normalise_drift` (its class statistics are cleaner once the stripes are gone).
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from scipy import ndimage
from skimage.filters import threshold_multiotsu
from skimage.registration import phase_cross_correlation

from electrovox.errors import BadInput
from electrovox.progress import report
from electrovox.solvers._axes import array_axis
from electrovox.volume import spacing_array

#: Default widest stripe that :func:`destripe` removes, in pixels of the across axis.
DEFAULT_STRIPE_WIDTH_PX = 8
#: Slices sampled (evenly spread) to estimate the beam axis.
_BEAM_SAMPLE_SLICES = 8
#: Running median along the beam (pixels) that denoises a slice before its stripes are measured.
_BEAM_DENOISE_PX = 5
#: A class needs at least this share of a slice's voxels (and _MIN_CLASS_VOXELS) for the slice's
#: class median to be trusted by :func:`normalise_drift`; other slices are interpolated.
_MIN_CLASS_SHARE = 0.002
_MIN_CLASS_VOXELS = 20
_FINE_BINS = 4096  # global histogram used to find the class thresholds
_OTSU_BINS = 256  # bins the thresholds are searched on (multi-Otsu costs ~ bins^(classes-1))


# --------------------------------------------------------------------------- argument checks

def _check_image(image, source: str) -> np.ndarray:
    """The image as an array (not copied) if it is a non-empty 3D real array, else BadInput."""
    a = np.asarray(image)
    if a.ndim != 3 or a.size == 0:
        raise BadInput(source, f"image must be a non-empty 3D array [z, y, x], got shape {a.shape}",
                       "pass a 3D stack (image[None] for a single 2D slice, with slice_axis=0)")
    if a.dtype.kind not in "uifb":
        raise BadInput(source, f"image has dtype {a.dtype}, not real numbers", "pass a real-valued (greyscale) stack")
    return a


def _check_axis(axis, source: str, name: str) -> int:
    """Array axis 0, 1, 2 from "z", "y", "x" or an index; BadInput naming the keyword ``name``."""
    return array_axis(axis, name, source)


def _check_progress(progress, source: str) -> None:
    if progress is not None and not callable(progress):
        raise BadInput(source, f"progress {progress!r} is not callable", "pass None or a callable(fraction, message)")


def _positive_int(value, source: str, name: str, *, minimum: int = 1) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or int(value) < minimum:
        raise BadInput(source, f"{name} {value!r} is not an integer >= {minimum}", f"give {name} >= {minimum}")
    return int(value)


def _slice_float32(stack: np.ndarray, k: int, source: str) -> np.ndarray:
    """Slice ``k`` of a slice-first view as a float32 2D array (a copy), refusing NaN/inf."""
    s = np.array(stack[k], dtype=np.float32)
    if not np.all(np.isfinite(s)):
        raise BadInput(source, f"slice {k} holds NaN or infinite values", "replace them (e.g. np.nan_to_num) first")
    return s


# --------------------------------------------------------------------------- destripe

def _highpass_across(s: np.ndarray, across: int, window: int) -> np.ndarray:
    """High-pass of slice ``s`` (2D) across the beam.

    The slice, denoised along the beam, minus its running median over ``window`` pixels along
    in-plane axis ``across`` (the other axis being the beam).

    A running median (not a Gaussian) is the across-beam smoothing because it follows the edges
    of structures wider than half the window: a particle edge then leaves (almost) nothing in
    the high-pass, so what remains along a line is the narrow stripes plus sparse residue at
    thin features, which the median along the beam rejects.  The short running median along the
    beam first (_BEAM_DENOISE_PX) does not touch the stripes, which are constant along the beam,
    but removes pixel noise that would otherwise bias the across median next to edges.
    """
    size = [1, 1]
    size[1 - across] = _BEAM_DENOISE_PX
    b = ndimage.median_filter(s, size=tuple(size), mode="reflect")
    return b - _running_median_truncated(b, across, window)


def _running_median_truncated(b: np.ndarray, axis: int, window: int) -> np.ndarray:
    """Running median of a 2D array over ``window`` pixels along ``axis``, cut at the edges.

    Near the ends the window is cut at the edge instead of padded.

    Padding by reflection would count the stripes next to an edge twice (a stripe one pixel
    from the edge then fills a third of the window and becomes the local median, so it is
    not removed, and its mirror image is subtracted from its neighbours); a truncated window
    has fewer samples but no fake ones.
    """
    lo = ndimage.median_filter(b, size=(window, 1) if axis == 0 else (1, window), mode="reflect")
    h = window // 2
    n = b.shape[axis]
    if h == 0:
        return lo
    bt = np.moveaxis(b, axis, 1)  # lines along axis 1
    lt = np.moveaxis(lo, axis, 1)
    for i in list(range(min(h, n))) + list(range(max(h, n - h), n)):
        lt[:, i] = np.median(bt[:, max(0, i - h):min(n, i + h + 1)], axis=1)
    return lo


def _stripe_score(stack: np.ndarray, beam: int, window: int, source: str) -> float:
    """How stripe-like a stack is for a candidate in-plane beam axis (0 or 1 of the slice).

    On a few evenly spread slices: the high-pass across the candidate beam, its median along the
    candidate beam (the would-be stripe profile), and the profile's power as a share of the
    high-pass power.  Along the true beam axis the stripes survive the median and take a large
    share; along the other axis the high-pass (now along the true beam) has removed them, and
    only the structure's residue is left.  Dividing by the high-pass power makes the score
    independent of the grey scale and of the pixel counts of the two axes.
    """
    n = stack.shape[0]
    picks = np.unique(np.linspace(0, n - 1, min(n, _BEAM_SAMPLE_SLICES)).round().astype(int))
    across = 1 - beam
    num = den = 0.0
    for k in picks:
        hp = _highpass_across(_slice_float32(stack, k, source), across, window).astype(np.float64)
        profile = np.median(hp, axis=beam)
        num += float(np.mean(profile * profile))
        den += float(np.mean(hp * hp))
    return num / den if den > 0 else 0.0


def destripe(image, spacing, *, slice_axis=None, beam_axis=None, width_um=None, progress=None):
    """Remove curtaining stripes (an additive offset per across-beam position) from a FIB-SEM stack.

    Model: ``image = true + s_k(across)`` in slice ``k``, ``s_k`` constant along the beam axis and
    changing slowly with ``k``.  Per slice: a 5-pixel running median along the beam (it removes
    pixel noise and leaves the stripes, which are constant along the beam); a high-pass along
    the across axis (that image minus its running median over ``2 * width + 1`` pixels, the
    window cut at the slice edges rather than padded); the median of the high-pass along the
    beam axis, pooled over the slice and its two neighbours, is the stripe profile ``s_k``; it
    is made zero-mean and subtracted from every line of the slice.  The microstructure's edges
    do not survive the edge-following high-pass and its residue is sparse along a line, so the
    median along the beam rejects it; the stripes, constant along the beam, pass.  No grey
    level or phase is assumed.

    What it removes: stripes narrower than about ``width``.  The part of a stripe pattern wider
    than that (a white per-column profile keeps ~pi / (2 * window) of its variance in the running
    median; crowded streaks merge into wide features) is left, because at those widths it cannot
    be told from the microstructure.  On 40 x 128 x 128 noise-free phantom stacks with the
    default width: 82 % of the rms of sparse 1-3 px streaks removed (mean of 5 patterns), 70 %
    of a white per-column profile, 56 % of the simulator's smooth stripes (Gaussian, sigma 1 px),
    while a stripe-free stack changes by 0.05 % of the phase contrast (rms).  Pixel noise adds
    its own error to the profile, of the order of 1.25 sigma / sqrt(3 * beam pixels).

    Parameters
    ----------
    image : ndarray, shape (nz, ny, nx)
        Greyscale stack, any real dtype (grey units are kept), finite.
    spacing : float or tuple of 3 float
        Voxel size (dz, dy, dx) in um (one number for cubic voxels).
    slice_axis : {"z", "y", "x"} or {0, 1, 2}, optional
        The milling axis; default the axis of the largest voxel size (the first of equals).
    beam_axis : {"z", "y", "x"} or {0, 1, 2}, optional
        The in-plane axis the stripes run along; default None estimates it: of the two in-plane
        axes, the one whose beam-median high-pass profiles (see above) carry the larger share of
        the high-pass power, measured on up to 8 evenly spread slices.
    width_um : float, optional
        Widest stripe removed, in um across the beam; default 8 pixels of the across axis.
        Stripes up to about this width are removed; brightness variations wider than that are
        left, since at those scales they cannot be told from the microstructure.  The stripes
        must persist over about 3 slices (the profile is pooled over slices k-1..k+1).
    progress : callable, optional
        ``progress(fraction, message)``.

    Returns
    -------
    out : ndarray of float32, shape (nz, ny, nx)
        The destriped stack.  Each removed profile has zero mean, so every slice keeps its mean.
    info : dict
        ``slice_axis``, ``beam_axis`` (array indices), ``beam_axis_estimated`` (bool),
        ``stripe_rms`` (rms of the removed profiles over all slices and across positions, image
        units), ``width_px`` (stripe width in pixels, the median window being
        ``2 * width_px + 1``) and ``beam_axis_scores`` ({axis: score} when estimated, else None).

    Raises
    ------
    BadInput
        Source ``destripe``, naming the keyword: a non-3D, non-real or non-finite image, a bad
        ``spacing``, ``slice_axis`` or ``beam_axis`` (or the beam along the slice axis), a
        non-positive ``width_um``.
    """
    src = "destripe"
    img = _check_image(image, src)
    spacing = spacing_array(spacing, src)
    _check_progress(progress, src)
    slice_axis = int(np.argmax(spacing)) if slice_axis is None else _check_axis(slice_axis, src, "slice_axis")
    plane_axes = [a for a in range(3) if a != slice_axis]  # in-plane axes, array order
    estimated = beam_axis is None
    if not estimated:
        beam_axis = _check_axis(beam_axis, src, "beam_axis")
        if beam_axis == slice_axis:
            raise BadInput(src, f"beam_axis {'zyx'[beam_axis]!r} is the slice axis: the beam runs in the slice plane",
                           f"give beam_axis as one of {[('zyx'[a]) for a in plane_axes]}, or None to estimate it")
    stack = np.moveaxis(img, slice_axis, 0)  # a view: slice k is stack[k], in-plane axes in order
    n = stack.shape[0]

    def width_px_for(across_axis: int) -> int:
        if width_um is None:
            return DEFAULT_STRIPE_WIDTH_PX
        try:
            w = float(width_um)
        except (TypeError, ValueError):
            w = float("nan")
        if not math.isfinite(w) or w <= 0:
            raise BadInput(src, f"width_um {width_um!r} is not a positive length",
                           "give the widest stripe in um across the beam, or None for 8 pixels")
        return max(1, int(round(w / spacing[across_axis])))

    scores = None
    if estimated:
        scores = {}
        for b in plane_axes:
            across_axis = plane_axes[1 - plane_axes.index(b)]
            # never wider than the default window: a wide one lets more structure into the
            # high-pass, and the narrow part of any stripe pattern is enough to tell the axis
            window = 2 * min(width_px_for(across_axis), DEFAULT_STRIPE_WIDTH_PX) + 1
            scores[b] = _stripe_score(stack, plane_axes.index(b), window, src)
        # ties (no stripes at all) go to the first in-plane axis: nothing much is removed anyway
        beam_axis = max(plane_axes, key=lambda a: scores[a])
        report(progress, 0.05, f"beam axis {beam_axis} (estimated)")
    beam = plane_axes.index(beam_axis)  # beam axis within a slice (0 or 1)
    across = 1 - beam
    width_px = width_px_for(plane_axes[across])
    window = 2 * width_px + 1
    p0 = 0.05 if estimated else 0.0

    out = np.empty(img.shape, np.float32)
    out_stack = np.moveaxis(out, slice_axis, 0)
    hp = {}  # high-passed slices k-1, k, k+1 (2D each): computed once, reused by the neighbours
    sumsq = 0.0
    for k in range(n):
        for j in (k - 1, k, k + 1):
            if 0 <= j < n and j not in hp:
                hp[j] = _highpass_across(_slice_float32(stack, j, src), across, window)
        hp.pop(k - 2, None)
        # pooling the beam lines of neighbouring slices triples the samples of the median: the
        # stripes persist over slices, the structure changes, so its residue is rejected better
        pooled = np.concatenate([hp[j] for j in (k - 1, k, k + 1) if j in hp], axis=beam)
        profile = np.median(pooled, axis=beam).astype(np.float64)
        profile -= profile.mean()  # a uniform offset is drift, not a stripe: keep the slice mean
        sumsq += float(np.dot(profile, profile))
        s = np.asarray(stack[k], dtype=np.float32)
        prof = profile.astype(np.float32)
        out_stack[k] = s - (prof[None, :] if beam == 0 else prof[:, None])
        report(progress, p0 + (1.0 - p0) * (k + 1) / n, "destriping")
    n_across = stack.shape[1 + across]
    info = {"slice_axis": slice_axis, "beam_axis": int(beam_axis), "beam_axis_estimated": bool(estimated),
            "stripe_rms": math.sqrt(sumsq / (n * n_across)), "width_px": width_px,
            "beam_axis_scores": scores}
    return out, info


# --------------------------------------------------------------------------- normalise_drift

def _running_median(values: np.ndarray, size: int) -> np.ndarray:
    if size <= 1 or values.size < 2:
        return values.copy()
    return ndimage.median_filter(values, size=min(size, values.size), mode="nearest")


class _SliceHistograms:
    """One fine histogram per slice, each over the slice's own min..max (4096 bins).

    normalise_drift reads the image once to build these and then works on them only: class
    thresholds, class levels and the global histogram of the corrected stack all follow from
    them, so refinement passes cost nothing in image reads.  Bin width is 1/4096 of a slice's
    range; levels are interpolated within bins, so they are good to ~1e-4 of the range.
    Memory: 16 KB per slice.
    """

    def __init__(self, stack, source: str, progress, p0: float, p1: float):
        n = stack.shape[0]
        self.counts = np.zeros((n, _FINE_BINS), np.int64 if stack[0].size >= 2 ** 31 else np.int32)
        self.lo = np.zeros(n)
        self.width = np.zeros(n)
        for k in range(n):
            v = _slice_float32(stack, k, source).astype(np.float64)
            lo, hi = float(v.min()), float(v.max())
            if not hi > lo:  # a constant slice: one filled bin (it gets no class levels)
                hi = lo + max(abs(lo), 1.0) * 1e-6
            # bin index by hand (not np.histogram): exact same binning for any value range
            idx = np.minimum(((v - lo) * (_FINE_BINS / (hi - lo))).astype(np.intp), _FINE_BINS - 1)
            self.counts[k] = np.bincount(idx.ravel(), minlength=_FINE_BINS)
            self.lo[k], self.width[k] = lo, (hi - lo) / _FINE_BINS
            if k % 16 == 0 or k == n - 1:
                report(progress, p0 + (p1 - p0) * (k + 1) / n, "slice histograms")

    def centres(self, k: int) -> np.ndarray:
        return self.lo[k] + (np.arange(_FINE_BINS) + 0.5) * self.width[k]


def _otsu(counts: np.ndarray, centres: np.ndarray, n_classes: int) -> np.ndarray | None:
    """Multi-Otsu thresholds of a fine histogram; None when there are too few grey levels.

    Its 0.01..99.99 % quantile range is merged into at most 256 bins, so that a few outliers do
    not squash the classes into a handful of bins and the search stays cheap.
    """
    total = counts.sum()
    if total == 0:
        return None
    cdf = np.cumsum(counts) / total
    i0 = int(np.searchsorted(cdf, 1e-4))
    i1 = min(int(np.searchsorted(cdf, 1.0 - 1e-4)) + 1, counts.size)
    trimmed = counts[i0:i1].astype(np.int64)
    group = max(1, -(-trimmed.size // _OTSU_BINS))
    pad = (-trimmed.size) % group
    merged = np.concatenate([trimmed, np.zeros(pad, np.int64)]).reshape(-1, group).sum(axis=1)
    width = centres[1] - centres[0]
    mcentres = centres[i0] - 0.5 * width + (np.arange(merged.size) + 0.5) * width * group
    if np.count_nonzero(merged) < n_classes:
        return None
    try:
        return np.asarray(threshold_multiotsu(hist=(merged, mcentres), classes=n_classes), np.float64)
    except ValueError:
        return None


def _global_thresholds(hists: _SliceHistograms, gain, offset, n_classes: int, source: str) -> np.ndarray:
    """Multi-Otsu thresholds of the whole stack after the per-slice linear maps (corrected units).

    From the slice histograms mapped through ``gain``, ``offset`` and summed.
    """
    n = hists.counts.shape[0]
    ends = np.stack([gain * hists.lo + offset, gain * (hists.lo + _FINE_BINS * hists.width) + offset])
    lo, hi = float(ends.min()), float(ends.max())
    total = np.zeros(_FINE_BINS, np.int64)
    for k in range(n):
        total += np.histogram(gain[k] * hists.centres(k) + offset[k], bins=_FINE_BINS, range=(lo, hi),
                              weights=hists.counts[k])[0].astype(np.int64)
    centres = lo + (np.arange(_FINE_BINS) + 0.5) * (hi - lo) / _FINE_BINS
    t = _otsu(total, centres, n_classes)
    if t is None:
        raise BadInput(source, f"the image has fewer than {n_classes} distinct grey levels",
                       "pass a stack with contrast, or lower n_classes")
    return t


def _weighted_median(centres: np.ndarray, counts: np.ndarray, width: float) -> float:
    """Median of histogrammed values (``centres`` ascending, equal bins of ``width``).

    Interpolated within the bin where the cumulative count crosses half.
    """
    cum = np.cumsum(counts)
    half = 0.5 * cum[-1]
    i = int(np.searchsorted(cum, half))
    before = cum[i - 1] if i > 0 else 0
    return float(centres[i] - 0.5 * width + (half - before) / counts[i] * width)


_LEVEL_WINDOW = 2.0  # half-width of the class-level window, in robust standard deviations
_LEVEL_ITERATIONS = 5


def _class_level(centres: np.ndarray, counts: np.ndarray, width: float, min_count: int) -> float:
    """The grey level of a class's main peak, from its histogram.

    A median, re-taken a few times over only the values within 2 robust standard deviations
    (1.4826 MAD) of the current one.

    A plain class median is pulled towards a neighbouring phase that leaks into the class (a
    middle phase split by the threshold, interface voxels) by an amount that depends on that
    phase's share of the slice; the symmetric window about the peak cuts the leak out, so the
    level hardly depends on the phase fractions (on noisy test stacks it cut the slice-to-slice
    scatter of the levels about twofold).
    """
    m = _weighted_median(centres, counts, width)
    for _ in range(_LEVEL_ITERATIONS):
        dist = np.abs(centres - m)
        order = np.argsort(dist, kind="stable")
        cum = np.cumsum(counts[order])
        mad = float(dist[order][int(np.searchsorted(cum, 0.5 * cum[-1]))])
        h = max(_LEVEL_WINDOW * 1.4826 * mad, width)  # never narrower than a bin (noise-free)
        core = np.where(dist <= h, counts, 0)
        if core.sum() < min_count:
            break
        m_new = _weighted_median(centres, core, width)
        if abs(m_new - m) < 1e-3 * width:
            m = m_new
            break
        m = m_new
    return m


def _class_levels(hists: _SliceHistograms, t_lo: np.ndarray, t_hi: np.ndarray, min_count: int):
    """Per slice ``k``: the levels of the darkest and the brightest class.

    The darkest class lies below ``t_lo[k]``, the brightest at or above ``t_hi[k]``
    (thresholds in the slice's own units); NaN where a class has fewer than ``min_count``
    voxels or a threshold is NaN.
    """
    n = hists.counts.shape[0]
    m_lo = np.full(n, np.nan)
    m_hi = np.full(n, np.nan)
    for k in range(n):
        if not (np.isfinite(t_lo[k]) and np.isfinite(t_hi[k])):
            continue
        c, cnt, w = hists.centres(k), hists.counts[k], float(hists.width[k])
        dark = np.where(c < t_lo[k], cnt, 0)
        bright = np.where(c >= t_hi[k], cnt, 0)
        if dark.sum() >= min_count:
            m_lo[k] = _class_level(c, dark, w, min_count)
        if bright.sum() >= min_count:
            m_hi[k] = _class_level(c, bright, w, min_count)
    return m_lo, m_hi


def _fill(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Invalid entries linearly interpolated from the valid ones (held constant beyond the ends)."""
    idx = np.arange(values.size)
    return np.interp(idx, idx[valid], values[valid])


_MAX_REFINE = 4  # refinements with global thresholds after the per-slice first pass
_REFINE_TOL = 1e-4  # stop refining when no gain changes by more than this (relative)


def normalise_drift(image, *, slice_axis=None, n_classes=2, smooth_slices=3, progress=None):
    """Remove slice-to-slice brightness drift: a per-slice gain and offset, ``image_k = g_k * true + o_k``.

    Phase fractions may differ between slices (e.g. a gradient through the electrode), so slice
    percentiles or means are not matched.  Instead the grey levels of the phases are:

    1. per slice, the level of the darkest and of the brightest grey class: a median of the
       class's voxels, narrowed iteratively onto the class's main peak (see below), so that the
       phase fractions, blurred interfaces and a middle phase straddling a threshold barely
       move it;
    2. slices where a class has fewer than 0.2 % of the slice's voxels (or 20), or whose two
       levels are less than half or more than twice as far apart as in the median slice (a
       slice of almost one phase, whose thresholds split that phase), get their class levels
       interpolated from the neighbouring slices;
    3. the target levels are the medians over slices of those class levels (the typical slice);
       the per-slice linear map sending the slice's two class levels onto the targets gives
       ``gain[k]``, ``offset[k]`` (``out_k = gain[k] * image_k + offset[k]``);
    4. gain and offset are smoothed along the slice axis by a running median of
       ``smooth_slices`` (drift is smooth; a single slice's estimate can be off).

    The classes come from multi-Otsu thresholds (Otsu for ``n_classes=2``): in the first pass
    each slice's own (they follow any drift, where global thresholds of the uncorrected stack
    would put a dim slice's bright phase below them), then, in up to 4 refinements, the global
    thresholds of the whole corrected stack (the same class boundaries for every slice, mapped
    back into each slice's units by its current gain and offset), until no gain changes by more
    than 1e-4.  Class level: the median, then 5 times the median of only the voxels within
    2 x 1.4826 MAD of it.  The image is read once into one 4096-bin histogram per slice (its own
    min..max) and once more to apply the maps; all the rest works on the histograms.

    Parameters
    ----------
    image : ndarray, shape (nz, ny, nx)
        Greyscale stack, any real dtype, finite.
    slice_axis : {"z", "y", "x"} or {0, 1, 2}, optional
        The milling axis; default 0 (there is no spacing to pick the coarsest axis from).
    n_classes : int
        Number of grey classes (>= 2).  With 2, a middle phase (CBD) is split between the
        classes, which the peak-narrowed levels tolerate; 3 (pore / CBD / active material) keeps
        it out of both outer classes.
    smooth_slices : int
        Window (slices) of the running median of gain and offset; 1 = none.
    progress : callable, optional
        ``progress(fraction, message)``.

    Returns
    -------
    out : ndarray of float32, shape (nz, ny, nx)
        The stack in the grey units of the typical slice.
    info : dict
        ``slice_axis``, ``gain`` and ``offset`` (lists, one per slice), ``thresholds`` (final
        global thresholds, output units), ``class_levels`` (target levels of the darkest and
        brightest class, output units), ``interpolated_slices`` (indices of slices whose class
        levels were interpolated in the last pass) and ``iterations`` (passes made).

    Raises
    ------
    BadInput
        Source ``normalise_drift``, naming the keyword: a non-3D, non-real or non-finite image, a
        bad ``slice_axis``, ``n_classes`` or ``smooth_slices``, fewer than ``n_classes`` grey
        levels, or no slice with enough voxels in the darkest and brightest classes.
    """
    src = "normalise_drift"
    img = _check_image(image, src)
    _check_progress(progress, src)
    slice_axis = 0 if slice_axis is None else _check_axis(slice_axis, src, "slice_axis")
    n_classes = _positive_int(n_classes, src, "n_classes", minimum=2)
    smooth_slices = _positive_int(smooth_slices, src, "smooth_slices")
    stack = np.moveaxis(img, slice_axis, 0)
    n = stack.shape[0]
    plane = stack.shape[1] * stack.shape[2]
    min_count = max(_MIN_CLASS_VOXELS, int(math.ceil(_MIN_CLASS_SHARE * plane)))
    hists = _SliceHistograms(stack, src, progress, 0.0, 0.4)

    gain = np.ones(n)
    offset = np.zeros(n)
    t = None
    targets = None
    interpolated: list[int] = []
    n_pass = 0
    for it in range(1 + _MAX_REFINE):
        if it == 0:
            t_lo, t_hi = np.full(n, np.nan), np.full(n, np.nan)
            for k in range(n):
                tk = _otsu(hists.counts[k], hists.centres(k), n_classes)
                if tk is not None:
                    t_lo[k], t_hi[k] = tk[0], tk[-1]
        else:
            t = _global_thresholds(hists, gain, offset, n_classes, src)
            # global thresholds (corrected units) in each slice's own units (gains are > 0)
            t_lo, t_hi = (t[0] - offset) / gain, (t[-1] - offset) / gain
        m_lo, m_hi = _class_levels(hists, t_lo, t_hi, min_count)
        # a slice whose two classes have (nearly) met cannot give a gain
        valid = np.isfinite(m_lo) & np.isfinite(m_hi)
        valid[valid] = (m_hi[valid] - m_lo[valid]) > 10.0 * hists.width[valid]
        if np.any(valid):
            # nor can a slice where the classes are not the phases of the others: a slice of
            # (almost) one phase has that phase split in two by its own thresholds, with levels
            # a fraction of the contrast apart.  Drift changes the contrast by far less than 2x.
            sep = m_hi - m_lo
            typical = float(np.median(sep[valid]))
            valid[valid] = (sep[valid] > 0.5 * typical) & (sep[valid] < 2.0 * typical)
        if not np.any(valid):
            raise BadInput(src, f"no slice has {min_count} or more voxels in both the darkest and the brightest "
                                f"of {n_classes} grey classes", "check the image has contrast, or lower n_classes")
        m_lo, m_hi = _fill(m_lo, valid), _fill(m_hi, valid)
        interpolated = np.flatnonzero(~valid).tolist()
        # targets: the typical slice, in the current corrected units (original units at first),
        # so the output keeps the grey scale of the first pass
        c_lo, c_hi = gain * m_lo + offset, gain * m_hi + offset
        targets = (float(np.median(c_lo[valid])), float(np.median(c_hi[valid])))
        g = (targets[1] - targets[0]) / (m_hi - m_lo)
        o = targets[0] - g * m_lo
        g, o = _running_median(g, smooth_slices), _running_median(o, smooth_slices)
        change = float(np.max(np.abs(g / gain - 1.0)))
        gain, offset = g, o
        n_pass = it + 1
        report(progress, 0.4 + 0.4 * n_pass / (1 + _MAX_REFINE), "gain and offset")
        if it > 0 and change < _REFINE_TOL:
            break
    if t is None:
        t = _global_thresholds(hists, gain, offset, n_classes, src)

    out = np.empty(img.shape, np.float32)
    out_stack = np.moveaxis(out, slice_axis, 0)
    for k in range(n):
        s = np.asarray(stack[k], dtype=np.float32)
        out_stack[k] = s * np.float32(gain[k]) + np.float32(offset[k])
        if k % 16 == 0 or k == n - 1:
            report(progress, 0.8 + 0.2 * (k + 1) / n, "applying gain and offset")
    info = {"slice_axis": slice_axis, "gain": gain.tolist(), "offset": offset.tolist(),
            "thresholds": [float(v) for v in t], "class_levels": list(targets),
            "interpolated_slices": interpolated, "iterations": n_pass}
    return out, info


# --------------------------------------------------------------------------- align_slices

def _window2d(shape) -> np.ndarray:
    """A separable Hann window of ``shape``.

    It tapers the slice edges, which the FFT of phase correlation would otherwise treat as a
    wrap-around step that pulls the peak towards zero shift.
    """
    wy = np.hanning(shape[0]) if shape[0] > 2 else np.ones(shape[0])
    wx = np.hanning(shape[1]) if shape[1] > 2 else np.ones(shape[1])
    return np.outer(wy, wx).astype(np.float32)


def _pair_shift(ref_w: np.ndarray, mov: np.ndarray, mov_w: np.ndarray, prepared, upsample: int) -> np.ndarray:
    """The shift (pixels, float64 (2,)) that registers ``mov`` onto the reference (both windowed).

    The peak of the cross-correlation, located to 1/upsample pixel by
    :func:`~skimage.registration.phase_cross_correlation` with ``normalization=None``: the
    phase normalisation (whitening) of textbook phase correlation amplifies the high
    frequencies, where pixel noise and interpolation errors sit, and locks the peak to whole
    pixels (on band-limited test slices moved by known sub-pixel shifts it was off by up to
    0.1 px at upsample 100; unnormalised, 0.01 px).  Two passes: the window stays put while the
    content moves under it, so the windowed images are not exact translates and the first
    estimate is pulled towards zero (by ~4 % of the shift); the second pass correlates the
    reference with ``mov`` already moved by that estimate (cubic spline), where the residual
    and hence that pull are small.  A blank slice (no features) gives (0, 0).
    """
    if not (np.any(ref_w) and np.any(mov_w)):
        return np.zeros(2)
    step = np.asarray(phase_cross_correlation(ref_w, mov_w, upsample_factor=upsample,
                                              normalization=None)[0], np.float64)
    if not np.all(np.isfinite(step)):
        return np.zeros(2)
    if np.any(step != 0):
        moved = prepared(ndimage.shift(mov, step, order=3, mode="nearest"))
        if np.any(moved):
            rest = np.asarray(phase_cross_correlation(ref_w, moved, upsample_factor=upsample,
                                                      normalization=None)[0], np.float64)
            if np.all(np.isfinite(rest)):
                step = step + rest
    return step


def align_slices(image, *, slice_axis=None, upsample=10, max_shift_px=None, progress=None):
    """Align consecutive slices of a stack by sub-pixel translation (phase correlation).

    Each slice is registered to the previous one with
    :func:`skimage.registration.phase_cross_correlation` (``upsample_factor=upsample``, i.e.
    1/upsample-pixel resolution; unnormalised cross-correlation, see :func:`_pair_shift` for
    why) on mean-subtracted, Hann-windowed copies, in two passes (the second on the slice
    already moved by the first estimate, which removes the window's pull towards zero shift);
    the pairwise shifts
    are accumulated from the first slice (which stays put) and each slice is moved by its
    accumulated shift with :func:`scipy.ndimage.shift` (linear interpolation, ``mode="nearest"``
    at the borders).  Nothing else is removed: a steady trend of the shifts (e.g. a tilted
    sample) is corrected like any other shift.

    Parameters
    ----------
    image : ndarray, shape (nz, ny, nx)
        Greyscale stack, any real dtype, finite.
    slice_axis : {"z", "y", "x"} or {0, 1, 2}, optional
        The milling axis; default 0 (there is no spacing to pick the coarsest axis from).
    upsample : int
        Sub-pixel factor (>= 1) of the correlation peak search.
    max_shift_px : float, optional
        The largest plausible shift between two consecutive slices in pixels: each component of
        a pairwise shift is clipped to +-max_shift_px (a spurious correlation peak then cannot
        throw the rest of the stack off).  The number of clipped pairs is passed to
        ``progress`` as a message.
    progress : callable, optional
        ``progress(fraction, message)``.

    Returns
    -------
    out : ndarray of float32, shape (nz, ny, nx)
        The aligned stack.
    shifts : ndarray of float64, shape (n_slices, 2)
        The shift in pixels applied to each slice along its two in-plane axes (in array order),
        so ``out_k(p) = image_k(p - shifts[k])``; ``shifts[0] = (0, 0)``.

    Raises
    ------
    BadInput
        Source ``align_slices``, naming the keyword: a non-3D, non-real or non-finite image, a
        bad ``slice_axis``, ``upsample`` or ``max_shift_px``.
    """
    src = "align_slices"
    img = _check_image(image, src)
    _check_progress(progress, src)
    slice_axis = 0 if slice_axis is None else _check_axis(slice_axis, src, "slice_axis")
    upsample = _positive_int(upsample, src, "upsample")
    limit = None
    if max_shift_px is not None:
        try:
            limit = float(max_shift_px)
        except (TypeError, ValueError):
            limit = float("nan")
        if not math.isfinite(limit) or limit < 0:
            raise BadInput(src, f"max_shift_px {max_shift_px!r} is not a non-negative number",
                           "give the largest shift between consecutive slices in pixels, or None")
    stack = np.moveaxis(img, slice_axis, 0)
    n = stack.shape[0]
    out = np.empty(img.shape, np.float32)
    out_stack = np.moveaxis(out, slice_axis, 0)
    shifts = np.zeros((n, 2), np.float64)
    window = _window2d(stack.shape[1:])

    def prepared(s):
        return (s - np.float32(s.mean())) * window

    prev = _slice_float32(stack, 0, src)
    out_stack[0] = prev
    prev_w = prepared(prev)
    n_clipped = 0
    for k in range(1, n):
        cur = _slice_float32(stack, k, src)
        cur_w = prepared(cur)
        step = _pair_shift(prev_w, cur, cur_w, prepared, upsample)
        if limit is not None and np.any(np.abs(step) > limit):
            n_clipped += 1
            step = np.clip(step, -limit, limit)
        shifts[k] = shifts[k - 1] + step
        if np.any(shifts[k] != 0):
            out_stack[k] = ndimage.shift(cur, shifts[k], order=1, mode="nearest")
        else:
            out_stack[k] = cur
        prev_w = cur_w
        report(progress, k / max(n - 1, 1), "aligning slices")
    if n_clipped:
        report(progress, 1.0, f"{n_clipped} pairwise shifts clipped to {limit} px")
    else:
        report(progress, 1.0, "aligned")
    return out, shifts
