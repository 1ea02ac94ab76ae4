"""Grey levels of the phases of a greyscale image, estimated from its histogram.

:func:`estimate_levels` fits a Gaussian mixture (one component per phase, darkest first) to the
histogram of an image, so that the segmentation never depends on a particular instrument's or
generator's grey levels, noise or contrast: it is initialised from multi-Otsu class means and
refined by expectation-maximisation on the histogram bins (cheap: 2048 bins, not the voxels).
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

    ``image``: any real array; ``mask``: optional bool array of the voxels to use.  ``init``:
    optional initial means (else multi-Otsu class means).  Returns ``{"means", "stds",
    "weights", "thresholds"}`` (lists, image units; ``thresholds`` are the Bayes decision
    points between consecutive classes: where their weighted densities cross).
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
