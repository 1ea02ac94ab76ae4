"""Grey levels of the phases of a greyscale image, estimated from its histogram.

:func:`estimate_levels` fits a Gaussian mixture (one component per phase, darkest first) to the
histogram of an image, so that the segmentation never depends on a particular instrument's or
generator's grey levels, noise or contrast: it is initialised from multi-Otsu class means and
refined by expectation-maximisation on the histogram bins (cheap: 2048 bins, not the voxels).

:func:`detect_phases` tells how many phases an image can support: how many distinct grey levels
its phase interiors show.  Lab and synchrotron X-ray CT of a cathode shows two (the carbon-binder
domain attenuates about like the empty pores and is finer than the voxels), FIB-SEM three (pore,
CBD, active material).  A three-class fit forced onto a two-level image does not fail: its middle
class takes the partial-volume voxels of the blurred particle edges and reports CBD that is not
there, at the particles' expense; :func:`detect_phases` is what prevents that.
"""

from __future__ import annotations

import numpy as np

from electrovox.errors import BadInput

#: histogram bins of the mixture fit
BINS = 2048


def _histogram(image, mask=None, bins=BINS, max_samples=4_000_000):
    a = np.asarray(image)
    if mask is not None:
        a = a[mask]
    a = a.reshape(-1)
    if a.size > max_samples:                      # a regular subsample: the histogram shape is all we need
        a = a[:: a.size // max_samples + 1]
    a = a[np.isfinite(a)].astype(np.float64)
    if a.size < 16:
        raise BadInput("image", f"only {a.size} finite voxels to estimate grey levels from",
                       "give an image with at least a few hundred voxels")
    lo, hi = np.percentile(a, [0.05, 99.95])
    if not hi > lo:
        raise BadInput("image", "is constant (no contrast between phases)", "check the input image")
    counts, edges = np.histogram(a, bins=bins, range=(lo, hi))
    return counts.astype(np.float64), 0.5 * (edges[1:] + edges[:-1])


def estimate_levels(image, n_classes: int = 3, *, mask=None, iterations: int = 200, init=None) -> dict:
    """Mean, std and weight of each of ``n_classes`` phases, darkest first.

    Parameters
    ----------
    image : ndarray
        Any real array (grey values); non-finite values are ignored.
    n_classes : int
        Number of phases (>= 2).
    mask : ndarray of bool, optional
        The voxels to use.
    iterations : int
        Most expectation-maximisation iterations.
    init : sequence of float, optional
        Initial means (else multi-Otsu class means).

    Returns
    -------
    dict
        ``means``, ``stds``, ``weights`` (lists of ``n_classes`` floats, image units and shares)
        and ``thresholds`` (``n_classes - 1`` Bayes decision points between consecutive classes:
        where their weighted densities cross).

    Raises
    ------
    BadInput
        Naming ``n_classes`` below 2, or ``image`` when it is constant or has fewer than 16
        finite values.
    """
    if n_classes < 2:
        raise BadInput("estimate_levels", f"n_classes {n_classes} is below 2", "give 2 or more classes")
    counts, x = _histogram(image, mask)
    if init is None:
        from skimage.filters import threshold_multiotsu
        t = threshold_multiotsu(hist=(counts.astype(np.int64), x), classes=n_classes)
        cls = np.digitize(x, t)
        init = [np.average(x[cls == k], weights=counts[cls == k] + 1e-12) for k in range(n_classes)]
    mu = np.asarray(init, dtype=np.float64)
    width = x[-1] - x[0]
    sd = np.full(n_classes, width / (6.0 * n_classes))
    w = np.full(n_classes, 1.0 / n_classes)
    floor = 2.0 * (x[1] - x[0])                  # a component never narrower than two bins
    for _ in range(iterations):
        dens = w[:, None] * np.exp(-0.5 * ((x[None] - mu[:, None]) / sd[:, None]) ** 2) / sd[:, None]
        resp = dens / np.maximum(dens.sum(0, keepdims=True), 1e-300)
        rc = resp * counts[None]
        nk = rc.sum(1) + 1e-12
        mu_new = (rc * x[None]).sum(1) / nk
        sd = np.maximum(np.sqrt((rc * (x[None] - mu_new[:, None]) ** 2).sum(1) / nk), floor)
        w = nk / nk.sum()
        done = np.max(np.abs(mu_new - mu)) < 1e-6 * width
        mu = mu_new
        if done:
            break
    order = np.argsort(mu)
    mu, sd, w = mu[order], sd[order], w[order]
    thresholds = []
    for k in range(n_classes - 1):
        # crossing of the weighted densities between the two means (fall back to the midpoint)
        xs = np.linspace(mu[k], mu[k + 1], 512)
        d0 = w[k] * np.exp(-0.5 * ((xs - mu[k]) / sd[k]) ** 2) / sd[k]
        d1 = w[k + 1] * np.exp(-0.5 * ((xs - mu[k + 1]) / sd[k + 1]) ** 2) / sd[k + 1]
        cross = np.flatnonzero(np.diff(np.sign(d1 - d0)) != 0)
        thresholds.append(float(xs[cross[0]]) if cross.size else float(0.5 * (mu[k] + mu[k + 1])))
    return {"means": mu.tolist(), "stds": sd.tolist(), "weights": w.tolist(), "thresholds": thresholds}


#: voxels whose gradient magnitude is at or below this quantile are the "flat" (phase-interior)
#: voxels whose histogram :func:`detect_phases` reads
FLAT_QUANTILE = 0.25
#: a grey level must hold at least this share of the flat voxels to count as a phase (the CBD of
#: the PFIB phantoms holds 6-7 % of them; a thin phase is under-represented among the flat voxels)
MIN_LEVEL_WEIGHT = 0.01
#: peak resolution (:func:`peak_resolution`) two grey levels must reach to count as distinct: 1 is
#: chromatography's "resolved" (the +-2 sigma ranges of the two peaks just touch; 1.5 is baseline
#: separation).  It compares the gap with the widths of BOTH peaks, so a wide component spread over
#: the partial-volume grey levels between two phases never counts, however narrow its neighbours
#: (Ashman's D, which pools the widths, let such a component pass on blurred CT phantoms).
MIN_RESOLUTION = 1.0
_DETECT_BINS = 512
_DETECT_SAMPLE = 4_000_000


def _flat_values(image, spacing, quantile: float, max_voxels: int = _DETECT_SAMPLE) -> np.ndarray:
    """Grey values (float64) of the voxels with the lowest gradient magnitude, on a sample.

    The image is sampled as evenly spread z slabs when larger than ``max_voxels``; the gradient
    (derivative of Gaussian, sigma one finest voxel, in physical units on every axis) is
    computed per slab and the slab's two edge rows on each side are dropped.
    """
    from electrovox.filters.image.segment import gradient_magnitude

    img = np.asarray(image)
    nz, ny, nx = img.shape
    if img.size <= max_voxels or nz < 16:
        img = img.astype(np.float32, copy=False)
        parts = [(img, gradient_magnitude(img, spacing))]
    else:
        rows = max(8, max_voxels // (8 * ny * nx))
        # slices so large that 8 rows exceed the slab budget: a centred window of each (a slab
        # of 8 full 4096^2 slices would need GBs of gradient temporaries)
        side = max(16, int(np.sqrt(max_voxels / (8 * rows))))
        ys = slice(max(0, (ny - side) // 2), max(0, (ny - side) // 2) + side)
        xs = slice(max(0, (nx - side) // 2), max(0, (nx - side) // 2) + side)
        parts = []
        for z0 in np.linspace(0, nz - rows, 8).astype(int):
            block = np.asarray(img[z0:z0 + rows, ys, xs], dtype=np.float32)
            parts.append((block[2:-2], gradient_magnitude(block, spacing)[2:-2]))
    vals = np.concatenate([v.reshape(-1) for v, _ in parts])
    grad = np.concatenate([g.reshape(-1) for _, g in parts])
    keep = np.isfinite(vals) & np.isfinite(grad)
    vals, grad = vals[keep], grad[keep]
    if vals.size == 0:
        return vals.astype(np.float64)
    return vals[grad <= np.quantile(grad, quantile)].astype(np.float64)


def _mixture_fit(values: np.ndarray, k: int) -> dict:
    """A k-component Gaussian mixture of ``values`` (EM on the histogram) and its BIC."""
    lo, hi = np.percentile(values, [0.05, 99.95])
    counts, edges = np.histogram(values, bins=_DETECT_BINS, range=(lo, hi))
    x = 0.5 * (edges[1:] + edges[:-1])
    width = edges[1] - edges[0]
    counts = counts.astype(np.float64)
    if k == 1:
        mu = np.array([np.average(x, weights=counts)])
        sd = np.array([max(np.sqrt(np.average((x - mu[0]) ** 2, weights=counts)), 2 * width)])
        w = np.array([1.0])
    else:
        from skimage.filters import threshold_multiotsu

        # multi-Otsu class means as the start (on 256 bins: its cost grows as bins^(k-1)); an
        # image with fewer distinct values than classes starts from quantiles instead
        c256, e256 = np.histogram(values, bins=256, range=(lo, hi))
        try:
            t = threshold_multiotsu(hist=(c256, 0.5 * (e256[1:] + e256[:-1])), classes=k)
        except ValueError:
            t = np.quantile(values, np.arange(1, k) / k)
        cls = np.digitize(x, t)
        init = [np.average(x[cls == j], weights=counts[cls == j] + 1e-12) if np.any(cls == j)
                else float(np.quantile(values, (j + 0.5) / k)) for j in range(k)]
        lev = estimate_levels(values, k, init=init)
        mu, sd, w = (np.asarray(lev[key], dtype=np.float64) for key in ("means", "stds", "weights"))
    dens = (w[:, None] * np.exp(-0.5 * ((x[None] - mu[:, None]) / sd[:, None]) ** 2)
            / (sd[:, None] * np.sqrt(2.0 * np.pi))).sum(0)
    loglik = float(np.sum(counts * np.log(np.maximum(dens * width, 1e-300))))
    bic = -2.0 * loglik + (3 * k - 1) * np.log(max(counts.sum(), 1.0))
    return {"means": mu, "stds": sd, "weights": w, "bic": float(bic)}


def peak_resolution(mean1: float, std1: float, mean2: float, std2: float) -> float:
    """Resolution of two Gaussian peaks (chromatography's ``Rs``).

    Parameters
    ----------
    mean1, std1, mean2, std2 : float
        Means and standard deviations of the two peaks (same units).

    Returns
    -------
    float
        ``|mean1 - mean2| / (2 (std1 + std2))``: 1 when the +-2 sigma ranges just touch (the peaks
        are resolved), 1.5 at baseline separation.

    Examples
    --------
    >>> round(peak_resolution(0.2, 0.03, 0.45, 0.03), 2)
    2.08
    """
    den = 2.0 * (abs(float(std1)) + abs(float(std2)))
    return float(abs(mean1 - mean2) / den) if den > 0 else float("inf")


def detect_phases(image, spacing=1.0, *, max_levels: int = 4, flat_quantile: float = FLAT_QUANTILE,
                  min_weight: float = MIN_LEVEL_WEIGHT, min_resolution: float = MIN_RESOLUTION) -> dict:
    """How many distinct grey levels (phases) an image shows, from the histogram of its interiors.

    1. *Phase interiors*: the voxels whose gradient magnitude (derivative of Gaussian, sigma one
       finest voxel, physical units on every axis) is at or below its ``flat_quantile``
       quantile.  The partial-volume voxels of blurred edges, which fill the grey levels between
       two phases, have the largest gradients and drop out; a real phase keeps its interior.
    2. Gaussian mixtures with 1 to ``max_levels`` components are fitted to the histogram of those
       voxels (expectation-maximisation, :func:`estimate_levels`); the number of components is
       chosen by the Bayesian information criterion (BIC).
    3. *Distinct levels*: the components of that mixture, by decreasing weight; a component
       counts as a new level when it holds at least ``min_weight`` of the interior voxels and its
       peak resolution (:func:`peak_resolution`) against every level counted before is at least
       ``min_resolution``.  A component that splits one skewed or textured peak, or that spreads
       over the partial-volume grey levels between two phases (wide), overlaps a counted level
       and is not counted.

    The two heaviest distinct levels are the pore and the active material; the carbon-binder
    domain is resolved when a distinct level lies between them (a level outside them, such as a
    spike of clipped voxels, is no CBD).  Run it on
    the denoised image (as :func:`~electrovox.filters.image.pipeline.segment_image` does): raw
    noise at SNR 6 widens the interior peaks enough to hide a CBD level.

    Parameters
    ----------
    image : ndarray, shape (nz, ny, nx) or (ny, nx)
        Greyscale image, any real dtype; non-finite voxels are ignored.
    spacing : float or tuple of 3 float
        Voxel size (dz, dy, dx) in um (one value for cubic voxels).
    max_levels : int
        Most mixture components tried (2 to 6).
    flat_quantile : float
        Quantile of the gradient magnitude that bounds the phase interiors (0 < q <= 1).
    min_weight : float
        Least share of the interior voxels a level needs (0 <= w < 1).
    min_resolution : float
        Least peak resolution between two distinct levels.

    Returns
    -------
    dict
        ``n_levels`` (int, distinct grey levels), ``cbd_resolved`` (bool: a distinct level lies
        between the two heaviest ones),
        ``phases`` (``("pore", "cbd", "am")`` or ``("pore", "am")``), ``levels``
        (``{"means", "stds", "weights"}`` of the distinct levels, darkest first, image units and
        shares of the interior voxels), ``resolution`` (peak resolution of consecutive
        distinct levels), ``components`` (the BIC-chosen mixture, all components), ``bic`` (BIC per
        number of components), ``interior_voxels`` (voxels the histogram was made of) and
        ``criterion`` (one line: the rule applied).

    Raises
    ------
    BadInput
        Naming ``image`` for a non-3D or constant image or one without finite values, and naming
        the keyword for an argument out of range.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> img = np.where(rng.random((8, 64, 64)) < 0.5, 0.2, 0.75) + rng.normal(0, 0.02, (8, 64, 64))
    >>> detect_phases(img, 1.0, flat_quantile=1.0)["n_levels"]
    2
    """
    from electrovox.volume import spacing_array

    if not (isinstance(max_levels, (int, np.integer)) and 2 <= int(max_levels) <= 6):
        raise BadInput("max_levels", f"max_levels {max_levels!r} is not an integer 2..6", "give e.g. max_levels=4")
    for name, v, lo, hi in (("flat_quantile", flat_quantile, 0.0, 1.0), ("min_weight", min_weight, 0.0, 1.0)):
        if not (isinstance(v, (int, float, np.floating)) and lo <= float(v) <= hi) or (name == "flat_quantile"
                                                                                       and float(v) <= 0):
            raise BadInput(name, f"{name} {v!r} is outside ({lo}, {hi}]", f"give {name} between {lo} and {hi}")
    if not (isinstance(min_resolution, (int, float, np.floating)) and float(min_resolution) > 0):
        raise BadInput("min_resolution", f"min_resolution {min_resolution!r} is not positive",
                       "give a peak resolution, e.g. min_resolution=1")
    img = np.asarray(image)
    if img.ndim == 2:
        img = img[np.newaxis]
    if img.ndim != 3 or img.size == 0 or img.dtype.kind not in "uifb":
        raise BadInput("image", f"has shape {img.shape} and dtype {img.dtype}",
                       "give a real-valued 3D stack [z, y, x] or one 2D slice")
    sp = tuple(float(v) for v in spacing_array(spacing))
    vals = _flat_values(img, sp, float(flat_quantile))
    if vals.size < 16:
        raise BadInput("image", f"only {vals.size} finite voxels to detect phases from",
                       "give an image with at least a few hundred finite voxels")
    lo, hi = np.percentile(vals, [0.05, 99.95])
    if not hi > lo:
        raise BadInput("image", "is constant (no contrast between phases)", "check the input image")
    fits = {k: _mixture_fit(vals, k) for k in range(1, int(max_levels) + 1)}
    k_best = min(fits, key=lambda k: fits[k]["bic"])
    best = fits[k_best]
    mu, sd, w = best["means"], best["stds"], best["weights"]
    counted: list[int] = []
    for i in np.argsort(-w, kind="stable"):
        if w[i] < min_weight:
            continue
        if all(peak_resolution(mu[i], sd[i], mu[j], sd[j]) >= min_resolution for j in counted):
            counted.append(int(i))
    counted.sort(key=lambda i: mu[i])
    n = len(counted)
    heavy = sorted(sorted(counted, key=lambda i: -w[i])[:2], key=lambda i: mu[i])
    cbd = n >= 3 and any(mu[heavy[0]] < mu[i] < mu[heavy[1]] for i in counted)
    sep = [peak_resolution(mu[a], sd[a], mu[b], sd[b]) for a, b in zip(counted[:-1], counted[1:], strict=True)]
    return {
        "n_levels": n,
        "cbd_resolved": bool(cbd),
        "phases": ("pore", "cbd", "am") if cbd else ("pore", "am"),
        "levels": {"means": [float(mu[i]) for i in counted], "stds": [float(sd[i]) for i in counted],
                   "weights": [float(w[i]) for i in counted]},
        "resolution": [float(v) for v in sep],
        "components": {"means": mu.tolist(), "stds": sd.tolist(), "weights": w.tolist()},
        "bic": {str(k): f["bic"] for k, f in fits.items()},
        "interior_voxels": int(vals.size),
        "criterion": (f"Gaussian mixtures of 1-{int(max_levels)} components on the grey values of the "
                      f"{100 * float(flat_quantile):g} % of voxels with the lowest gradient, number of "
                      f"components by BIC ({k_best}); a level is distinct when it holds >= "
                      f"{100 * float(min_weight):g} % of them and its peak resolution |m1 - m2| / (2 (s1 + s2)) "
                      f"to every other distinct level is >= {float(min_resolution):g}"),
    }
