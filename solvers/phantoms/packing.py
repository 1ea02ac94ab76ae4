"""Polydisperse near-spherical particles packed to a target solid fraction (calendered overlap).

:func:`pack_particles` returns a particle id map on a voxel grid together with the particle
geometry in micrometres.  It is the skeleton of the synthetic electrodes in
:mod:`electrovox.solvers.phantoms.electrode` (secondary NMC particles), and usable alone.

Geometry and conventions
------------------------
- Arrays are indexed ``[z, y, x]``; ``spacing`` is the voxel size in micrometres in the same
  order and may be anisotropic.  Voxel ``(k, j, i)`` has its centre at
  ``(k*dz, j*dy, i*dx)`` micrometres (origin = centre of the first voxel, as in VTK), so the
  volume spans ``[-d/2, (n - 1/2) d]`` on each axis.
- A particle is an ellipsoid ``{c + A.T t : |t| <= 1}`` with ``A`` (3x3) holding the three
  semi-axis vectors as rows (micrometres, z,y,x components); its *radius* is the
  volume-equivalent radius ``(|det A|)**(1/3)``.  Where two particles overlap, each voxel goes to
  the particle with the smallest scaled distance ``|A^-T (x - c)|``.
- Overlap depth of two touching particles: ``h_i(u) + h_j(u) - d`` along the line of centres
  (``h`` the ellipsoid's extent along ``u``, ``d`` the centre distance); for spheres this is the
  usual ``r_i + r_j - d``.  It never exceeds ``max_overlap * min(h_i, h_j)`` (calendering).

Algorithm (written for this project; PoreSpy-like generators only served as ideas)
---------------------------------------------------------------------------------
1. Diameters: quantile-stratified draws from a truncated log-normal (or a user list), so that a
   finite sample reproduces the requested D10/D50/D90.
2. Collective rearrangement in a periodic box: particles start at random positions with shrunk
   radii; radii grow to full size while overlapping pairs are pushed apart along their line of
   centres (displacements shared in inverse proportion to volume, a Jacobi projection over a
   Verlet pair list from ``scipy.spatial.cKDTree``) until every pair respects the overlap
   limit.  Random sequential addition jams near 0.38; this reaches the 0.6-0.7 of a calendered
   electrode.  The periodic box has no walls, so the sub-volume shows no wall layering.
3. Gradient and count: initial z positions follow the requested z-profile; where the relaxed
   profile (analytic ellipsoid cross-sections per z-bin, averaged over one D50) falls short,
   particles are inserted and the packing relaxed again; then particles are removed greedily
   where it exceeds the target, largest excess first.  With a gradient the packing box is
   padded in z by one largest particle so that the periodic wrap lies outside the grid.
4. Rasterisation per particle bounding box (squared scaled-distance buffer + id buffer); lateral
   boundaries wrap when ``periodic`` (periodic copies share the id), otherwise the boundaries
   cut particles, and the pieces that cross a non-periodic boundary are the images of the
   periodic packing (separate particles) so that the density stays even up to the faces.
5. A final global radius scale ``s`` (close to 1) picks the voxelised fraction exactly: the
   fraction at scale ``s`` is the share of voxels whose scaled distance is at most ``s``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from itertools import product
from typing import NamedTuple

import numpy as np
from scipy.spatial import cKDTree
from scipy.special import ndtr, ndtri

from electrovox.errors import BadInput
from electrovox.memory import require
from electrovox.progress import report

#: Default geometric standard deviation (as ln) of the secondary-particle size distribution.
#: Commercial NMC powders quote D10 ~ 0.6 D50 and D90 ~ 1.6 D50 (geometric std 1.3-1.5):
#: ln(0.6)/-1.2816 = 0.40 and ln(1.6)/1.2816 = 0.37; 0.38 (gsd 1.46) sits between the two and
#: gives D10 = 0.61 D50, D90 = 1.63 D50.
DEFAULT_PSD_SIGMA = 0.38
#: The log-normal is truncated at +-2.5 sigma (0.6 % of draws each side): real powders are
#: classified (no 4 x D50 boulders), and a single giant particle would dominate a small volume.
#: The truncation moves D10/D90 by about 1 %.
PSD_TRUNCATE = 2.5
_Z10 = -1.2815515655446004  # standard normal quantile at 0.10


# --------------------------------------------------------------------------------------------
# size distribution


def _lognormal_bounds(d50_um, sigma, weighting):
    """(mu_n, lo, hi): ln-median of the number distribution and the truncation bounds in ln d."""
    if weighting == "volume":
        # the volume-weighted density of a log-normal is log-normal with the same sigma and the
        # ln-median shifted by 3 sigma^2; truncation is applied in the weighting the user asked
        mu_w = math.log(d50_um)
        mu_n = mu_w - 3.0 * sigma * sigma
    else:
        mu_n = mu_w = math.log(d50_um)
    return mu_n, mu_w - PSD_TRUNCATE * sigma, mu_w + PSD_TRUNCATE * sigma


def _number_quantile(p, d50_um, sigma, weighting):
    """Diameter (um) at number-CDF ``p`` of the truncated log-normal (array in, array out)."""
    mu_n, lo, hi = _lognormal_bounds(d50_um, sigma, weighting)
    if sigma == 0:
        return np.full(np.shape(p), d50_um)
    a, b = ndtr((lo - mu_n) / sigma), ndtr((hi - mu_n) / sigma)
    return np.exp(mu_n + sigma * ndtri(a + np.asarray(p) * (b - a)))


def weighted_quantiles(values, q, weights=None) -> np.ndarray:
    """Quantiles of values with optional non-negative weights (inverted CDF, midpoint).

    The weighted CDF puts each value at the middle of its weight step, so equal weights give
    the usual ``(k + 1/2)/n`` plotting positions.

    Parameters
    ----------
    values : array_like
        The values (any shape; flattened).
    q : float or array_like
        Quantiles in 0..1.
    weights : array_like, optional
        One non-negative weight per value (default: equal).

    Returns
    -------
    float array
        The quantiles, shaped like ``q``.

    Examples
    --------
    >>> weighted_quantiles([1.0, 2.0, 3.0, 4.0], [0.5]).tolist()
    [2.5]
    """
    v = np.asarray(values, float).ravel()
    w = np.ones_like(v) if weights is None else np.asarray(weights, float).ravel()
    order = np.argsort(v)
    v, w = v[order], w[order]
    cdf = (np.cumsum(w) - 0.5 * w) / w.sum()
    return np.interp(np.asarray(q, float), cdf, v)


def psd_quantiles(diameters_um, weights=None) -> dict:
    """D10, D50, D90 of a set of diameters, number-weighted and volume-weighted.

    Parameters
    ----------
    diameters_um : array_like, um
        Particle diameters.
    weights : array_like, optional
        Per-particle sampling weights (e.g. edge corrections).

    Returns
    -------
    dict
        ``{"number": {"d10_um", "d50_um", "d90_um"}, "volume": {...}}`` in um.

    Examples
    --------
    >>> psd_quantiles([4.0, 6.0, 8.0, 10.0, 12.0])["number"]
    {'d10_um': 4.0, 'd50_um': 8.0, 'd90_um': 12.0}
    """
    d = np.asarray(diameters_um, float)
    w = np.ones_like(d) if weights is None else np.asarray(weights, float)
    out = {}
    for name, ww in (("number", w), ("volume", w * d ** 3)):
        q = weighted_quantiles(d, [0.1, 0.5, 0.9], ww)
        out[name] = {"d10_um": float(q[0]), "d50_um": float(q[1]), "d90_um": float(q[2])}
    return out


def requested_psd(d50_um=10.0, psd_sigma=None, psd="lognormal", psd_weighting="number",
                  diameters_um=None) -> dict:
    """The D10/D50/D90 that a set of PSD parameters asks for, number- and volume-weighted.

    For the log-normal these are the quantiles of the truncated distribution (exact, from a
    dense quantile grid); for a user list, those of the list.

    Parameters
    ----------
    d50_um : float, um
        Median diameter.
    psd_sigma : float, optional
        ln geometric standard deviation (default :data:`DEFAULT_PSD_SIGMA`).
    psd : {"lognormal", "monodisperse"}
        Size distribution.
    psd_weighting : {"number", "volume"}
        Which median ``d50_um`` is.
    diameters_um : array_like, um, optional
        A list of diameters instead of the log-normal.

    Returns
    -------
    dict
        As :func:`psd_quantiles`.

    Examples
    --------
    >>> requested_psd(10.0, psd="monodisperse")["volume"]
    {'d10_um': 10.0, 'd50_um': 10.0, 'd90_um': 10.0}
    """
    if diameters_um is not None:
        return psd_quantiles(np.asarray(diameters_um, float))
    sigma = DEFAULT_PSD_SIGMA if psd_sigma is None else float(psd_sigma)
    if psd == "monodisperse" or sigma == 0:
        return psd_quantiles(np.full(3, float(d50_um)))
    p = (np.arange(20000) + 0.5) / 20000
    return psd_quantiles(_number_quantile(p, d50_um, sigma, psd_weighting))


def _draw_diameters(n, rng, d50_um, sigma, psd, weighting, user):
    """``n`` diameters (um) by jittered quantile stratification (one draw per 1/n of the CDF)."""
    u = (np.arange(n) + rng.random(n)) / n
    if user is not None:
        s = np.sort(user)
        d = s[np.minimum((u * s.size).astype(int), s.size - 1)]  # inverted CDF: values of the list
    elif psd == "monodisperse" or sigma == 0:
        d = np.full(n, float(d50_um))
    else:
        d = _number_quantile(u, d50_um, sigma, weighting)
    return rng.permutation(d)


def _mean_volume_factor(d50_um, sigma, psd, weighting, user):
    """E[d^3] (um^3) of the distribution to draw from."""
    if user is not None:
        return float(np.mean(np.asarray(user, float) ** 3))
    if psd == "monodisperse" or sigma == 0:
        return float(d50_um) ** 3
    p = (np.arange(20000) + 0.5) / 20000
    return float(np.mean(_number_quantile(p, d50_um, sigma, weighting) ** 3))


# --------------------------------------------------------------------------------------------
# particle shapes


def _random_axes(rng, radii, aspect_range):
    """Semi-axis rows (N, 3, 3) of volume-preserving random ellipsoids (None for spheres)."""
    amin, amax = aspect_range
    n = radii.size
    if amin >= 1.0 and amax >= 1.0:
        return None
    f = rng.uniform(amin, amax, size=(n, 3))
    f /= f.max(axis=1, keepdims=True)          # ratios to the longest axis lie in [amin, 1]
    f /= np.cbrt(f.prod(axis=1))[:, None]      # same volume as the sphere of radius r
    m = rng.standard_normal((n, 3, 3))
    q, r = np.linalg.qr(m)                     # Haar-random rotation (sign-fixed QR)
    q = q * np.sign(np.diagonal(r, axis1=1, axis2=2))[:, None, :]
    # row k = k-th semi-axis vector = f_k r * (k-th column of q)
    return np.transpose(q, (0, 2, 1)) * (f * radii[:, None])[:, :, None]


def _support(axes, idx, u, radii):
    """Extent (um) of particles ``idx`` along unit vectors ``u`` (P, 3): ``|A u|``."""
    if axes is None:
        return radii[idx]
    au = np.einsum("pkl,pl->pk", axes[idx], u)
    return np.sqrt(np.einsum("pk,pk->p", au, au))


def _bounding_radius(axes, radii):
    if axes is None:
        return radii.copy()
    return np.sqrt(np.einsum("nkl,nkl->nk", axes, axes)).max(axis=1)


def _extent(axes, radii):
    """Half-extent (N, 3) of each particle along z, y, x (um)."""
    if axes is None:
        return np.repeat(radii[:, None], 3, axis=1)
    return np.sqrt(np.einsum("nka,nka->na", axes, axes))


# --------------------------------------------------------------------------------------------
# collective rearrangement in a periodic box


def _wrap(pos, box):
    pos = np.mod(pos, box)
    return np.where(pos >= box, pos - box, pos)  # np.mod can return box itself for -tiny


def _min_image(dv, box):
    return dv - box * np.round(dv / box)


class _Packer:
    """Overlap-limited collective rearrangement of particles in a periodic box (micrometres)."""

    EPS = 0.01   # pairs are pushed to 1 % beyond the overlap limit: leaves room for the final scale
    SKIN = 1.0   # Verlet skin in median bounding radii: rebuilds every few tens of iterations
    OMEGA = 1.3  # over-relaxation of the Jacobi push: ~30 % fewer iterations, still monotone
    TOL = 0.005  # converged when no pair violates the padded limit by more than 0.5 % of min(h);
    #              TOL <= EPS * (2 - max_overlap) keeps the unpadded limit strictly satisfied

    def __init__(self, box, max_overlap, rng):
        self.box = np.asarray(box, float)
        self.m = float(max_overlap)
        self.rng = rng
        self.pos = np.zeros((0, 3))
        self.radii = np.zeros(0)
        self.axes = None
        self.iterations = 0
        self.converged = False

    def add(self, radii, axes, z=None):
        """Add particles at random positions (``z`` optional: their z coordinates, um)."""
        n = radii.size
        new = self.rng.random((n, 3)) * self.box
        if z is not None:
            new[:, 0] = z
        self.pos = np.vstack([self.pos, _wrap(new, self.box)])
        self.radii = np.concatenate([self.radii, radii])
        if axes is not None:
            self.axes = axes if self.axes is None else np.concatenate([self.axes, axes])
        self.rb = _bounding_radius(self.axes, self.radii)

    def keep(self, mask):
        self.pos, self.radii = self.pos[mask], self.radii[mask]
        if self.axes is not None:
            self.axes = self.axes[mask]
        self.rb = self.rb[mask]

    def _build(self, g, skin):
        tree = cKDTree(self.pos, boxsize=self.box)
        pairs = tree.query_pairs(2 * g * self.rb.max() + skin, output_type="ndarray")
        i, j = pairs[:, 0], pairs[:, 1]
        d = np.linalg.norm(_min_image(self.pos[j] - self.pos[i], self.box), axis=1)
        keep = d < g * (self.rb[i] + self.rb[j]) + skin
        return i[keep], j[keep]

    def contacts(self, g=1.0):
        """Touching pairs: (i, j, d, h_i, h_j) with d < h_i + h_j at radius scale g."""
        i, j = self._build(g, 0.0)
        dv = _min_image(self.pos[j] - self.pos[i], self.box)
        d = np.linalg.norm(dv, axis=1)
        u = dv / np.maximum(d, 1e-12)[:, None]
        hi = g * _support(self.axes, i, u, self.radii)
        hj = g * _support(self.axes, j, u, self.radii)
        t = d < hi + hj
        return i[t], j[t], d[t], hi[t], hj[t]

    def relax(self, g0=1.0, max_iter=3000, progress=None, p0=0.0, p1=1.0):
        """Grow radii from ``g0`` to 1 and push overlapping pairs apart until all respect the limit."""
        pos, box, m = self.pos, self.box, self.m
        vol = self.radii ** 3
        n = self.radii.size
        # Verlet skin; the pair search radius stays below half the box (minimum image)
        skin = min(self.SKIN * float(np.median(self.rb)), max(0.49 * float(self.box.min()) - 2 * float(self.rb.max()),
                                                         0.02 * float(np.median(self.rb))))
        g = float(g0)
        pi = pj = None
        ref, g_ref = None, g
        self.converged = False
        worst = np.inf
        it = 0
        shown = 0.0
        for it in range(1, max_iter + 1):
            if pi is None or 2 * np.abs(_min_image(pos - ref, box)).max() * math.sqrt(3) \
                    + 2 * (g - g_ref) * self.rb.max() > skin:
                self.pos = pos
                pi, pj = self._build(g, skin)
                ref, g_ref = pos.copy(), g
            dv = _min_image(pos[pj] - pos[pi], box)
            d = np.sqrt(np.einsum("pk,pk->p", dv, dv))
            near = d < g * (self.rb[pi] + self.rb[pj])
            i, j, dv, d = pi[near], pj[near], dv[near], d[near]
            zero = d < 1e-9
            if zero.any():  # coincident centres: separate along a random direction
                dv[zero] = self.rng.standard_normal((int(zero.sum()), 3))
                d[zero] = np.linalg.norm(dv[zero], axis=1)
            u = dv / d[:, None]
            hi = g * _support(self.axes, i, u, self.radii)
            hj = g * _support(self.axes, j, u, self.radii)
            hmin = np.minimum(hi, hj)
            v = (hi + hj - m * hmin) * (1 + self.EPS) - d
            bad = v > 0
            worst = float((v[bad] / hmin[bad]).max()) if bad.any() else 0.0
            if g >= 1.0 and worst <= self.TOL:
                self.converged = True
                break
            i, j, u, v = i[bad], j[bad], u[bad], v[bad]
            wi = vol[j] / (vol[i] + vol[j])  # the smaller particle moves more
            disp = np.empty((n, 3))
            for k in range(3):
                disp[:, k] = (np.bincount(j, u[:, k] * v * (1 - wi), minlength=n)
                              - np.bincount(i, u[:, k] * v * wi, minlength=n))
            # a particle pushed by many neighbours at once would overshoot: cap its step
            step = np.linalg.norm(disp, axis=1)
            cap = 0.25 * g * self.radii
            disp *= np.minimum(1.0, cap / np.maximum(step, 1e-30))[:, None]
            pos = _wrap(pos + self.OMEGA * disp, box)
            if g < 1.0 and worst < 0.5:
                g = min(1.0, g * 1.03)
            if progress is not None and it % 10 == 0:
                # growth, then convergence on a log scale of the worst violation (never backwards)
                done = 0.5 * g if g < 1 else 0.5 + 0.5 * min(1.0, math.log(max(worst, 1e-12) / 0.5)
                                                             / math.log(self.TOL / 0.5))
                shown = max(shown, min(1.0, done))
                report(progress, p0 + (p1 - p0) * shown, "packing particles")
        self.pos = pos
        self.iterations += it
        self.worst = worst
        return self.converged

    def union_ratio(self):
        """Union volume / summed volume of the particles (pairwise lens volumes subtracted)."""
        i, j, d, hi, hj = self.contacts()
        # lens of two spheres of radii hi, hj (the extents along the line of centres)
        lens = (np.pi * (hi + hj - d) ** 2
                * (d * d + 2 * d * (hi + hj) - 3 * (hi - hj) ** 2) / (12 * d))
        total = (4.0 / 3.0) * np.pi * float(np.sum(self.radii ** 3))
        return max(0.5, 1.0 - float(lens.sum()) / total)


# --------------------------------------------------------------------------------------------
# z-profile (gradient) and greedy thinning


def _profile_function(gradient, target, length_um):
    """Local target fraction as a function of z (um from the collector-side face)."""
    if gradient is None:
        return lambda z: np.full(np.shape(z), float(target))
    if callable(gradient):
        def f(z):
            z = np.asarray(z, float)
            try:
                out = np.asarray(gradient(z), float)
                if out.shape != z.shape:
                    out = np.broadcast_to(out, z.shape).astype(float)
            except Exception:
                out = np.array([float(gradient(float(v))) for v in z.ravel()]).reshape(z.shape)
            return out
        return f
    tab = np.asarray(gradient, float)
    if tab.ndim != 2 or tab.shape[1] != 2 or tab.shape[0] < 2:
        raise BadInput("gradient", "must be a callable f(z_um) or a table of (z_frac, local_fraction) rows",
                       "give e.g. [(0, 0.55), (1, 0.69)] or a function of z in micrometres")
    order = np.argsort(tab[:, 0])
    zf, val = tab[order, 0], tab[order, 1]
    return lambda z: np.interp(np.asarray(z, float) / length_um, zf, val)


def _z_bins(packer, lo, box_z, nb, window):
    """Per-particle contributions to the z-profile averaged over ``window`` um around each bin centre.

    Returns CSR-like (offsets, bin indices, values): ``values`` are fractions of a slab's volume
    (slab = ``window`` thick, the packing box wide), from the analytic ellipsoid cross-section
    ``A0 (1 - t^2/h^2)``; bins wrap around the periodic box.
    """
    w = box_z / nb
    ext = _extent(packer.axes, packer.radii)[:, 0]
    vol = (4.0 / 3.0) * np.pi * packer.radii ** 3
    a0 = 0.75 * vol / ext                       # ellipsoid cross-section at its centre height
    cz = packer.pos[:, 0]
    half = 0.5 * window
    b0 = np.ceil((cz - ext - half - lo) / w - 0.5).astype(np.int64)
    b1 = np.floor((cz + ext + half - lo) / w - 0.5).astype(np.int64)
    span = np.maximum(b1 - b0 + 1, 0)
    offs = np.concatenate([[0], np.cumsum(span)])
    pid = np.repeat(np.arange(cz.size), span)
    b = b0[pid] + (np.arange(offs[-1]) - offs[pid])
    h = ext[pid]

    def cum(t):  # integral of the cross-section 1 - t^2/h^2 from 0 to t, clipped to [-h, h]
        t = np.clip(t, -h, h)
        return t - t ** 3 / (3 * h * h)

    zc = lo + (b + 0.5) * w - cz[pid]
    val = a0[pid] * (cum(zc + half) - cum(zc - half)) / (window * packer.box[1] * packer.box[2])
    return offs, np.mod(b, nb), val


def _moving_average(values, width_bins):
    """Circular moving average over ``width_bins`` (fractional) bins."""
    n = values.size
    k = np.arange(n)
    out = np.empty(n)
    half = 0.5 * width_bins
    fine = np.repeat(values, 16)  # 16 sub-samples per bin make fractional windows exact enough
    csum = np.concatenate([[0.0], np.cumsum(np.concatenate([fine, fine, fine]))])
    for i in k:
        a = int(round((n + i + 0.5 - half) * 16))
        b = int(round((n + i + 0.5 + half) * 16))
        out[i] = (csum[b] - csum[a]) / max(b - a, 1)
    return out


def _profile_excess(packer, target_bins, window, kappa):
    """Smoothed union profile minus the smoothed target, per bin; also the CSR contributions."""
    nb = target_bins.size
    w = packer.box[0] / nb
    offs, bins, val = _z_bins(packer, 0.0, packer.box[0], nb, window)
    val = val * kappa
    excess = np.bincount(bins, val, minlength=nb) - _moving_average(target_bins, window / w)
    return excess, offs, bins, val


def _greedy_thin(packer, target_bins, window, rng, kappa):
    """Remove particles where the smoothed z-profile exceeds the target, largest excess first.

    The profile is compared averaged over ``window`` um (about one median diameter): at the
    scale of one particle a packing's layers fluctuate by several percent.  Passes in random
    order remove a particle when the mean excess over its own footprint is above a threshold
    that falls from 2 to 0 standard deviations of the excess profile, so the most over-full
    regions are thinned first and no particle size is preferred.  The summed excess is never
    taken more than half a particle below zero, so the count stays on target.
    """
    excess, offs, bins, val = _profile_excess(packer, target_bins, window, kappa)
    total = float(excess.sum())
    sd = float(excess.std())
    keep = np.ones(packer.radii.size, bool)
    for tau in (2.0 * sd, 1.0 * sd, 0.5 * sd, 0.25 * sd, 0.0):
        for i in rng.permutation(packer.radii.size):
            if not keep[i]:
                continue
            s = slice(offs[i], offs[i + 1])
            b, c = bins[s], val[s]
            csum = float(c.sum())
            if total - 0.5 * csum <= 0.0 or csum <= 0.0:
                continue
            e = excess[b]
            if float(np.dot(c, e)) > tau * csum:
                excess[b] = e - c
                total -= csum
                keep[i] = False
    return keep


def _window_fractions(packer, offsets, size, spacing, n_per_axis=20):
    """Estimated solid fraction of the grid window at each candidate offset (packing frame).

    Samples a coarse lattice of points (at most ``n_per_axis`` per axis, never finer than the
    voxels) and tests each against the particles within reach (exact ellipsoid test).
    """
    h = np.asarray(spacing, float)
    n = [max(1, min(n_per_axis, int(round(size[a] / h[a])))) for a in range(3)]
    axes_pts = [(np.arange(n[a]) + 0.5) * size[a] / n[a] - 0.5 * h[a] for a in range(3)]
    grid = np.stack(np.meshgrid(*axes_pts, indexing="ij"), axis=-1).reshape(-1, 3)
    pts = _wrap((grid[None, :, :] + np.asarray(offsets)[:, None, :]).reshape(-1, 3), packer.box)
    tree = cKDTree(packer.pos, boxsize=packer.box)
    ptree = cKDTree(pts, boxsize=packer.box)
    sdm = ptree.sparse_distance_matrix(tree, float(packer.rb.max()), output_type="ndarray")
    i, j = sdm["i"], sdm["j"]
    dv = _min_image(pts[i] - packer.pos[j], packer.box)
    if packer.axes is None:
        inside = np.einsum("pk,pk->p", dv, dv) <= packer.radii[j] ** 2
    else:
        inv = np.linalg.inv(packer.axes)                       # t = A^-T (x - c)
        t = np.einsum("plk,pl->pk", inv[j], dv)
        inside = np.einsum("pk,pk->p", t, t) <= 1.0
    hit = np.zeros(pts.shape[0], bool)
    hit[i[inside]] = True
    return hit.reshape(len(offsets), -1).mean(axis=1)


# --------------------------------------------------------------------------------------------
# rasterisation


def _copies(pos, extent, shape, spacing, box_pack, periodic_axes):
    """Particle copies that touch the grid: (source index, centre (um), final-particle key).

    Along a periodic output axis the copies shifted by one period share their particle; along a
    non-periodic axis each shift is a separate particle (a periodic image cut by the face).
    """
    n = np.asarray(shape)
    h = np.asarray(spacing, float)
    src, cen, key = [], [], []
    for shift in product((-1, 0, 1), repeat=3):
        sv = np.asarray(shift, float) * box_pack
        c = pos + sv
        inside = np.all((c + extent >= -0.5 * h) & (c - extent <= (n - 0.5) * h), axis=1)
        idx = np.flatnonzero(inside)
        if idx.size == 0:
            continue
        # the key ignores shifts along periodic output axes (same particle, wrapped)
        k = sum((1 if periodic_axes[a] else shift[a] + 1) * 3 ** a for a in range(3))
        src.append(idx)
        cen.append(c[idx])
        key.append(idx.astype(np.int64) * 27 + k)
    return np.concatenate(src), np.concatenate(cen), np.concatenate(key)


def _rasterise(shape, spacing, centres, quad, extent, ids, cap, progress=None, p0=0.0, p1=1.0):
    """Squared scaled-distance buffer (float32) and nearest-particle id buffer (int32).

    ``quad`` (K, 3, 3) holds ``inv(A.T A)`` per copy (None for spheres: ``1/r^2`` in ``extent``),
    so that the squared scaled distance of x is ``(x-c).T quad (x-c)``.  Voxels farther than
    ``cap`` (in scaled distance) from every particle keep ``cap**2`` and id 0.
    """
    nz, ny, nx = shape
    hz, hy, hx = spacing
    d2 = np.full(shape, cap * cap, np.float32)
    lab = np.zeros(shape, np.int32)
    ext = extent * cap
    lo = np.ceil((centres - ext) / spacing - 1e-9).astype(np.int64)
    hi = np.floor((centres + ext) / spacing + 1e-9).astype(np.int64)
    lo = np.maximum(lo, 0)
    hi = np.minimum(hi, np.asarray(shape) - 1)
    k_total = centres.shape[0]
    step = max(1, k_total // 50)
    for k in range(k_total):
        z0, y0, x0 = lo[k]
        z1, y1, x1 = hi[k]
        if z1 < z0 or y1 < y0 or x1 < x0:
            continue
        cz, cy, cx = centres[k]
        dz = (np.arange(z0, z1 + 1) * hz - cz).astype(np.float32)
        dy = (np.arange(y0, y1 + 1) * hy - cy).astype(np.float32)
        dx = (np.arange(x0, x1 + 1) * hx - cx).astype(np.float32)
        if quad is None:
            r2 = np.float32(1.0 / (extent[k, 0] ** 2))
            a = (dz * dz * r2)[:, None] + (dy * dy * r2)[None, :]
            q = a[:, :, None] + (dx * dx * r2)[None, None, :]
        else:
            Q = quad[k].astype(np.float32)
            a = (Q[0, 0] * dz * dz)[:, None] + (2 * Q[0, 1] * dz)[:, None] * dy[None, :] \
                + (Q[1, 1] * dy * dy)[None, :]
            b = (2 * Q[0, 2] * dz)[:, None] * dx[None, :]
            c = (Q[2, 2] * dx * dx)[None, :] + (2 * Q[1, 2] * dy)[:, None] * dx[None, :]
            q = a[:, :, None] + b[:, None, :]
            q += c[None, :, :]
        dsub = d2[z0:z1 + 1, y0:y1 + 1, x0:x1 + 1]
        lsub = lab[z0:z1 + 1, y0:y1 + 1, x0:x1 + 1]
        upd = q < dsub
        np.copyto(dsub, q, where=upd)
        np.copyto(lsub, ids[k], where=upd)
        if progress is not None and k % step == 0:
            report(progress, p0 + (p1 - p0) * k / k_total, "rasterising particles")
    return d2, lab


# --------------------------------------------------------------------------------------------
# argument checks


def _check(shape, spacing, target_fraction, d50_um, sigma, max_overlap, aspect_range, diameters_um, psd,
           weighting):
    try:
        shape = tuple(int(v) for v in shape)
        spacing = tuple(float(v) for v in spacing)
    except (TypeError, ValueError):
        raise BadInput("shape/spacing", "must be three numbers each (z, y, x)",
                       "give e.g. shape=(128, 128, 128), spacing=(0.5, 0.5, 0.5)") from None
    if len(shape) != 3 or min(shape) < 1:
        raise BadInput("shape", f"{shape} is not three positive voxel counts (z, y, x)", "give e.g. (128, 128, 128)")
    if len(spacing) != 3 or not all(math.isfinite(s) and s > 0 for s in spacing):
        raise BadInput("spacing", f"{spacing} is not three positive voxel sizes in um (z, y, x)",
                       "give e.g. (0.5, 0.5, 0.5)")
    if not 0.0 < float(target_fraction) <= 0.85:
        raise BadInput("target_fraction", f"{target_fraction} is outside (0, 0.85]",
                       "a packing of near-spheres with limited overlap holds at most ~0.8 solid")
    if not 0.0 <= float(max_overlap) < 0.9:
        raise BadInput("max_overlap", f"{max_overlap} is outside [0, 0.9)",
                       "give the allowed overlap depth as a fraction of the smaller radius, e.g. 0.2")
    if psd not in ("lognormal", "monodisperse"):
        raise BadInput("psd", f"unknown size distribution '{psd}'", "use 'lognormal' or 'monodisperse'")
    if weighting not in ("number", "volume"):
        raise BadInput("psd_weighting", f"unknown weighting '{weighting}'", "use 'number' or 'volume'")
    if diameters_um is not None:
        d = np.asarray(diameters_um, float).ravel()
        if d.size == 0 or not np.all(np.isfinite(d)) or d.min() <= 0:
            raise BadInput("diameters_um", "must be a non-empty list of positive diameters in um",
                           "give measured particle diameters, e.g. [6.1, 9.8, 10.4, 15.2]")
        diameters_um = d
    elif not (math.isfinite(float(d50_um)) and float(d50_um) > 0):
        raise BadInput("d50_um", f"{d50_um} is not a positive diameter", "give the median diameter in um")
    if not 0.0 <= float(sigma) <= 1.5:
        raise BadInput("psd_sigma", f"{sigma} is outside [0, 1.5]", "give the ln geometric std, e.g. 0.38")
    try:
        amin, amax = (float(v) for v in aspect_range)
    except (TypeError, ValueError):
        raise BadInput("aspect_range", f"{aspect_range!r} is not a (min, max) pair",
                       "give axis ratios, e.g. (0.85, 1.0)") from None
    if not 0.5 <= amin <= amax <= 1.0:
        raise BadInput("aspect_range", f"({amin}, {amax}) is not within 0.5 <= min <= max <= 1",
                       "give axis ratios to the longest axis, e.g. (0.85, 1.0); (1, 1) for spheres")
    return shape, spacing, diameters_um, (amin, amax)


# --------------------------------------------------------------------------------------------
# the steps of pack_particles

#: bytes per grid voxel at the peak of pack_particles: the squared scaled-distance buffer
#: (float32) and the id buffer (int32) of the rasterisation, and the partitioned copy of the
#: distances that picks the final radius scale (float32)
_BYTES_PER_VOXEL = 12


class _PSD(NamedTuple):
    """The size distribution to draw from (the arguments of :func:`_draw_diameters`)."""

    d50_um: float
    sigma: float
    psd: str
    weighting: str
    user: np.ndarray | None


@dataclass
class _Frame:
    """The grid and the periodic packing box it is cut from (um)."""

    shape: tuple
    spacing: tuple
    h: np.ndarray                # voxel size (um)
    size: np.ndarray             # physical size of the grid (um)
    periodic_axes: tuple
    box: np.ndarray              # packing box (um)
    offset: np.ndarray           # packing frame = grid frame + offset
    ev3: float                   # E[d^3] of the size distribution (um^3)
    r_bound: float               # largest bounding radius a particle can have (um)

    @property
    def v_box(self) -> float:
        """Volume of the packing box (um^3)."""
        return float(np.prod(self.box))


@dataclass
class _ZProfile:
    """The target z-profile on bins of the packing box."""

    prof: Callable               # local target fraction at z (um from the grid's z=0 face)
    nb: int                      # number of bins
    wb: float                    # bin thickness (um)
    d_med: float                 # median diameter (um)
    local: np.ndarray            # target fraction per bin
    gradient_scale: float        # factor applied to the gradient to meet the mean
    zcdf: np.ndarray             # normalised cumulative target: initial z positions follow it


def _check_memory(shape) -> None:
    """BadInput naming ``shape`` when the grid's working arrays cannot fit in memory."""
    n = float(np.prod(shape, dtype=np.float64))
    require(_BYTES_PER_VOXEL * n, "shape",
            f"packing particles on a {' x '.join(str(m) for m in shape)} voxel grid ({n / 1e6:.4g} M voxels)",
            "use fewer voxels: a smaller shape, or a larger spacing for the same box")


def _frame(shape, spacing, psd: _PSD, aspect_range, gradient, periodic) -> _Frame:
    """Sizes and the packing box: at least two largest particles wide, padded in z for a gradient."""
    h = np.asarray(spacing)
    size = np.asarray(shape) * h                      # physical size of the grid (um)
    periodic_axes = (False, bool(periodic), bool(periodic))
    d50_um, sigma, kind, weighting, user = psd
    ev3 = _mean_volume_factor(d50_um, sigma, kind, weighting, user)
    if user is not None:
        d_max = float(user.max())
    elif kind == "monodisperse" or sigma == 0:
        d_max = float(d50_um)
    else:
        d_max = float(_number_quantile(1.0, d50_um, sigma, weighting))
    r_bound = 0.5 * d_max / aspect_range[0] ** (2.0 / 3.0)
    # a periodic box wider than twice the longest interaction (2 r_bound): no particle can meet
    # two images of one neighbour, so the minimum-image distance is the distance
    min_box = 4.0 * r_bound * 1.02
    box = size.copy()
    for a in range(3):
        if box[a] < min_box:
            if periodic_axes[a]:
                raise BadInput("periodic", f"the volume is {size[a]:.3g} um wide along {'zyx'[a]}, too small "
                               f"for periodic particles up to {d_max:.3g} um", "make the volume at least "
                               f"{min_box:.3g} um wide or set periodic=False")
            box[a] = min_box  # pack in a larger box, cut a window from it
    if gradient is not None:
        # a profile is not periodic: pad z by one largest particle so that the wrap of the
        # periodic packing (where the top profile meets the bottom one) lies outside the grid
        box[0] = max(box[0], size[0] + 2.0 * r_bound)
    offset = 0.5 * (box - size)                       # packing frame = grid frame + offset
    return _Frame(shape=shape, spacing=spacing, h=h, size=size, periodic_axes=periodic_axes, box=box,
                  offset=offset, ev3=ev3, r_bound=r_bound)


def _target_profile(fr: _Frame, gradient, target: float, psd: _PSD) -> _ZProfile:
    """The target z-profile on bins of the packing box, about d50/10 thick.

    The bins are in um, not voxels, so that the same physical volume gives the same packing
    whatever the voxel size.
    """
    box, size, h, offset, shape = fr.box, fr.size, fr.h, fr.offset, fr.shape
    prof = _profile_function(gradient, target, size[0])
    d_med = float(psd.d50_um) if psd.user is None else float(np.median(psd.user))
    nb = max(1, int(round(box[0] / (0.1 * d_med))))
    wb = box[0] / nb
    zg = (np.arange(nb) + 0.5) * wb - offset[0] + 0.5 * h[0]   # bin centres from the grid's z=0 face
    local = np.full(nb, target)
    if gradient is not None:
        raw = prof(np.clip(zg, 0.0, size[0]))         # the padding continues the end values
        # the mean over the grid's voxel layers is what the voxel fraction will average
        mean_raw = float(np.mean(prof((np.arange(shape[0]) + 0.5) * h[0])))
        if not np.all(np.isfinite(raw)) or mean_raw <= 0:
            raise BadInput("gradient", "gives non-finite or non-positive fractions",
                           "return local solid fractions between 0 and 0.85")
        gradient_scale = target / mean_raw
        local = raw * gradient_scale
        if local.max() > 0.8 or local.min() < 0:
            raise BadInput("gradient", f"local fractions reach {local.min():.3f}..{local.max():.3f} after "
                           f"scaling to the mean {target}", "keep the profile within 0 .. 0.8")
    else:
        gradient_scale = 1.0
    # initial z positions follow the profile: the rearrangement only resolves overlaps, so most
    # of the gradient survives it and the thinning below trims the rest
    zcdf = np.concatenate([[0.0], np.cumsum(local)])
    zcdf /= zcdf[-1]
    return _ZProfile(prof=prof, nb=nb, wb=wb, d_med=d_med, local=local, gradient_scale=gradient_scale, zcdf=zcdf)


def _initial_packing(fr: _Frame, zp: _ZProfile, psd: _PSD, aspect_range, max_overlap, want_factor, rng,
                     progress) -> tuple[_Packer, list]:
    """Draw enough particles for ``want_factor`` times the mean target, place and relax them."""
    # union / summed volume: measured 0.996, 0.979, 0.95 at max_overlap 0.1, 0.2, 0.3
    kappa_guess = 1.0 - 0.6 * float(max_overlap) ** 2
    want_union = float(np.mean(zp.local)) * want_factor
    v_box = fr.v_box
    n0 = max(1, int(math.ceil(want_union * v_box / (kappa_guess * math.pi / 6.0 * fr.ev3))))
    diam = _draw_diameters(n0, rng, *psd)
    radii = 0.5 * diam
    packer = _Packer(fr.box, max_overlap, rng)
    axes = _random_axes(rng, radii, aspect_range)
    z0 = np.interp(rng.random(n0), zp.zcdf, np.arange(zp.nb + 1) * zp.wb)
    packer.add(radii, axes, z0)
    phi_sum = (4.0 / 3.0) * math.pi * float(np.sum(radii ** 3)) / v_box
    g0 = min(1.0, (0.25 / phi_sum) ** (1.0 / 3.0))
    report(progress, 0.0, "packing particles")
    packer.relax(g0=g0, progress=progress, p0=0.0, p1=0.45)
    return packer, [diam]


def _fill_profile(packer: _Packer, fr: _Frame, zp: _ZProfile, psd: _PSD, aspect_range, target_bins, even: bool,
                  window: float, drawn: list, rng, progress) -> float:
    """Insert particles where the relaxed profile falls short of ``target_bins`` and relax again.

    Up to four rounds; the rearrangement makes room for the new particles locally.  With
    ``even`` (no gradient) only the mean shortfall counts (layer-to-layer fluctuations are
    natural).  New diameters are appended to ``drawn``.  Returns the final union/summed volume.
    """
    box, nb, wb = fr.box, zp.nb, zp.wb
    kappa = packer.union_ratio()
    for k in range(4):
        excess, *_ = _profile_excess(packer, target_bins, window, kappa)
        if even:
            excess = np.full(nb, float(excess.mean()))
        short = np.maximum(-excess, 0.0) * (box[0] / nb) * box[1] * box[2]   # um^3 per bin
        extra = int(round(float(short.sum()) / (kappa * math.pi / 6.0 * fr.ev3)))
        if extra < 1:
            break
        d_extra = _draw_diameters(extra, rng, *psd)
        drawn.append(d_extra)
        cdf = np.concatenate([[0.0], np.cumsum(short)])
        z_new = np.interp(rng.random(extra), cdf / cdf[-1], np.arange(nb + 1) * wb)
        packer.add(0.5 * d_extra, _random_axes(rng, 0.5 * d_extra, aspect_range), z_new)
        packer.relax(g0=1.0, progress=progress, p0=0.3 + 0.04 * k, p1=0.34 + 0.04 * k)
        kappa = packer.union_ratio()
    return kappa


def _place_window(packer: _Packer, fr: _Frame, window_axes, target: float, rng) -> np.ndarray:
    """Offset of the grid in the packing box along the window axes.

    A window cut from a bigger packing sees that packing's local fluctuation (several pp for a
    window of a few particles): among random placements, the window whose fraction is nearest a
    little above the target is picked, so that the final scale only shrinks.
    """
    cands = np.tile(fr.offset, (32, 1))
    cands[1:, window_axes] = rng.random((31, int(window_axes.sum()))) * fr.box[window_axes]
    est = _window_fractions(packer, cands, fr.size, fr.spacing)
    score = np.abs(est - target * 1.02) + 2.0 * np.maximum(target - est, 0.0)
    return cands[int(np.argmin(score))]


class _Raster(NamedTuple):
    """The rasterised copies: buffers, copy bookkeeping and the contact limits."""

    d2: np.ndarray               # squared scaled distance to the nearest copy (float32)
    lab: np.ndarray              # id of the nearest copy's final-particle key (int32, 0 = none)
    src: np.ndarray              # packer index of each copy
    ukey: np.ndarray             # the distinct final-particle keys (id k = ukey[k - 1])
    first: np.ndarray            # first copy of each key
    cap: float                   # largest scale the buffers hold
    s_max: float                 # largest admissible global scale (overlap limit of every contact)
    contacts: tuple              # (i, j, d, h_i, h_j) of the touching pairs at scale 1


def _rasterise_packing(packer: _Packer, fr: _Frame, offset, max_overlap, progress) -> _Raster:
    """Rasterise all copies of the particles that touch the grid."""
    extent = _extent(packer.axes, packer.radii)
    src, cen, key = _copies(packer.pos - offset, extent, fr.shape, fr.spacing, fr.box, fr.periodic_axes)
    ukey, first, ids = np.unique(key, return_index=True, return_inverse=True)
    ids = (ids.ravel() + 1).astype(np.int32)
    if packer.axes is None:
        quad = None
    else:
        ata = np.einsum("nka,nkb->nab", packer.axes, packer.axes)
        quad = np.linalg.inv(ata)[src]
    # largest admissible global scale: the overlap limit of every contact
    ci, cj, cd, chi, chj = packer.contacts()
    s_max = float(np.min(cd / (chi + chj - max_overlap * np.minimum(chi, chj)))) if ci.size else 1.1
    cap = float(min(1.05, max(1.0, s_max)))
    d2, lab = _rasterise(fr.shape, fr.spacing, cen, quad, extent[src], ids, cap, progress, 0.5, 0.92)
    return _Raster(d2=d2, lab=lab, src=src, ukey=ukey, first=first, cap=cap, s_max=s_max,
                   contacts=(ci, cj, cd, chi, chj))


def _final_scale(d2: np.ndarray, lab: np.ndarray, target: float, cap: float, s_max: float) -> float:
    """The global radius scale that gives the target voxel fraction exactly; clears ``lab`` beyond it.

    The fraction at scale ``s`` is the share of voxels whose scaled distance is at most ``s``.
    """
    n_vox = d2.size
    want = int(round(target * n_vox))
    flat = d2.ravel()
    inside = int(np.count_nonzero(flat < cap * cap))
    s_lo = 0.9
    if want <= 0:
        s = s_lo
    elif want > inside:
        s = min(cap, s_max)
    else:
        part = np.partition(flat, want - 1)
        s2 = float(part[want - 1])
        del part
        s = min(max(math.sqrt(s2), s_lo), s_max, cap)
    s2 = np.float32(s * s)
    lab[d2 > s2] = 0
    return s


def _relabel(lab: np.ndarray, n_keys: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ids 1..N in key order, particles without a voxel dropped: (ids, present per key, counts)."""
    shape = lab.shape
    counts = np.zeros(n_keys + 1, np.int64)
    slab = max(1, (1 << 24) // (shape[1] * shape[2]))  # bincount casts to intp: count slab by slab
    for z0 in range(0, shape[0], slab):
        counts += np.bincount(lab[z0:z0 + slab].ravel(), minlength=n_keys + 1)
    present = counts[1:] > 0
    lut = np.zeros(n_keys + 1, np.int32)
    lut[1:][present] = np.arange(1, int(present.sum()) + 1, dtype=np.int32)
    return lut[lab], present, counts


def _particle_table(packer: _Packer, ras: _Raster, present, fr: _Frame, offset, s: float):
    """One row per final particle (its first copy, the periodic-axis shift removed).

    Returns centres (N, 3) um, radii (N,) um, semi-axes (N, 3, 3) um and the deepest overlap
    (fraction of the smaller extent) at the final scale.
    """
    srcp = ras.src[ras.first][present]
    shift_code = (ras.ukey % 27)[present]
    shifts = np.stack([(shift_code // 3 ** a) % 3 - 1 for a in range(3)], axis=1)
    centres = packer.pos[srcp] + shifts * fr.box - offset
    radii_f = packer.radii[srcp] * s
    if packer.axes is None:
        axes_f = np.eye(3)[None, :, :] * radii_f[:, None, None]
    else:
        axes_f = packer.axes[srcp] * s
    ci, _cj, cd, chi, chj = ras.contacts
    mo = float(np.max((s * (chi + chj) - cd) / (s * np.minimum(chi, chj)))) if ci.size else 0.0
    return centres, radii_f, axes_f, mo


def _achieved_profile(lab: np.ndarray, fr: _Frame, zp: _ZProfile, gradient, target: float):
    """Achieved z-profile on bins of the grid (voxel layers averaged), z from the z=0 face.

    Returns (bin centres in um, target fractions, achieved fractions).
    """
    shape, size, h = fr.shape, fr.size, fr.h
    layer = np.count_nonzero(lab, axis=(1, 2)) / float(shape[1] * shape[2])
    nb_grid = max(1, min(shape[0], int(round(size[0] / zp.wb))))
    which = np.minimum(((np.arange(shape[0]) + 0.5) * h[0] / size[0] * nb_grid).astype(int), nb_grid - 1)
    ach = np.bincount(which, layer, minlength=nb_grid) / np.maximum(np.bincount(which, minlength=nb_grid), 1)
    zmid = (np.arange(nb_grid) + 0.5) * size[0] / nb_grid
    tgt = zp.prof(zmid) * zp.gradient_scale if gradient is not None else np.full(nb_grid, target)
    return zmid, tgt, ach


# --------------------------------------------------------------------------------------------
# public entry point


def pack_particles(shape, spacing, target_fraction, *, seed, d50_um=10.0, psd="lognormal",
                   psd_sigma=None, psd_weighting="number", diameters_um=None, max_overlap=0.2,
                   aspect_range=(0.85, 1.0), gradient=None, periodic=False, progress=None) -> dict:
    """Pack polydisperse near-spherical particles to a target solid fraction on a voxel grid.

    Parameters
    ----------
    shape : (3,) ints
        Grid size (nz, ny, nx) in voxels.
    spacing : (3,) floats, um
        Voxel size (dz, dy, dx) (anisotropic allowed).
    target_fraction : float, 0..0.85
        Solid (particle) volume fraction of the whole grid, e.g. 0.62.
    seed : int
        Everything is deterministic from it.
    d50_um : float, um
        Median diameter of the log-normal.
    psd : {"lognormal", "monodisperse"}
        Size distribution (``"monodisperse"``: all ``d50_um``).
    psd_sigma : float, optional
        ln of the geometric standard deviation, 0..1.5 (default :data:`DEFAULT_PSD_SIGMA`, 0.38).
    psd_weighting : {"number", "volume"}
        ``"number"``: ``d50_um`` is the number median, as counted in an image; ``"volume"``: the
        volume-weighted median of a laser-diffraction datasheet.
    diameters_um : sequence of floats, um, optional
        Diameters to draw from (overrides the log-normal); draws take the list's values,
        stratified over its number distribution.
    max_overlap : float, 0..0.9
        Largest overlap depth of two particles, as a fraction of the smaller extent.
    aspect_range : (float, float)
        (min, max) axis ratios to the longest axis of random ellipsoids (volume preserving,
        random orientation), within 0.5..1; ``(1, 1)`` gives spheres.
    gradient : callable, table or None
        None; a callable ``f(z_um) -> local fraction`` (z in um from the z=0 face); or a table of
        ``(z_frac, local_fraction)`` rows (linear in between).  Its shape is used: it is scaled
        so that its mean over the thickness equals ``target_fraction``.
    periodic : bool
        Particles wrap around the lateral (x, y) faces; z is never periodic.
    progress : callable, optional
        ``progress(fraction, message)``.

    Returns
    -------
    dict
        ``particles``: int32 (nz, ny, nx) id map, 0 = none, 1..N;
        ``centres_um``: (N, 3) z, y, x centres in um (outside the grid for particles cut by a
        face); ``radii_um``: (N,) volume-equivalent radii (um); ``axes``: (N, 3, 3) semi-axis
        vectors as rows (um); ``diameters_um``: (N,) placed volume-equivalent diameters (= 2
        radii); ``diameters_requested_um``: the stratified draw before packing (um);
        ``psd_requested``: D10/D50/D90 (um); ``fraction``: achieved voxel fraction;
        ``target_fraction``; ``radius_scale``: the final global scale; ``max_overlap_achieved``:
        the deepest overlap (fraction of the smaller extent); ``profile``: z-bins about d50/10
        thick (``z_um`` from the z=0 face, ``target`` and ``achieved`` local fractions);
        ``gradient_scale``: factor applied to the gradient to meet the mean; ``relaxation``:
        iterations, converged, union/summed volume, particles drawn and removed, packing box
        (um); ``psd_weighting``; ``max_overlap``; ``periodic``; ``wall_s`` (s).

    Raises
    ------
    BadInput
        An argument out of range (the message names it); a periodic volume narrower than two
        largest particles (``periodic``); a gradient outside 0..0.8 after scaling
        (``gradient``); a grid whose working arrays (about 12 bytes per voxel) cannot fit in the
        available memory (``shape``).

    Notes
    -----
    A grid narrower than two largest particles (along a non-periodic axis) is cut as a window
    from a bigger periodic packing; the window is placed where the packing is a little denser
    than the target, so the final scale shrinks the particles by 1-3 % at most.

    Examples
    --------
    >>> res = pack_particles((16, 16, 16), (0.5, 0.5, 0.5), 0.5, seed=0, d50_um=3.0)
    >>> res["particles"].shape, res["particles"].dtype
    ((16, 16, 16), dtype('int32'))
    >>> round(res["fraction"], 3), int(res["particles"].max()) == len(res["radii_um"])
    (0.5, True)
    """
    t0 = time.perf_counter()
    sigma = DEFAULT_PSD_SIGMA if psd_sigma is None else psd_sigma
    shape, spacing, user, aspect_range = _check(shape, spacing, target_fraction, d50_um, sigma, max_overlap,
                                                aspect_range, diameters_um, psd, psd_weighting)
    _check_memory(shape)
    target = float(target_fraction)
    rng = np.random.default_rng(seed)
    dist = _PSD(d50_um, sigma, psd, psd_weighting, user)

    # ---- the packing box and the target z-profile on its bins
    fr = _frame(shape, spacing, dist, aspect_range, gradient, periodic)
    zp = _target_profile(fr, gradient, target, dist)

    # ---- particle count: the union exceeds the local targets by a small surplus, trimmed later
    surplus = 0.02 if gradient is None else 0.04
    # window axes: the grid is narrower than the packing box (z only without a gradient)
    window_axes = fr.box > fr.size * (1 + 1e-9)
    if gradient is not None:
        window_axes[0] = False
    # in a window, keep a surplus of the packing: the window is picked a little over-full
    keep_surplus = 0.06 if window_axes.any() else 0.0
    packer, drawn = _initial_packing(fr, zp, dist, aspect_range, max_overlap, 1 + keep_surplus + surplus, rng,
                                     progress)
    window = max(zp.d_med, zp.wb)
    kappa = _fill_profile(packer, fr, zp, dist, aspect_range, zp.local * (1 + keep_surplus + 0.5 * surplus),
                          gradient is None, window, drawn, rng, progress)
    report(progress, 0.45, "matching the z-profile")

    # ---- greedy thinning to the z-profile (and to the count), then the window's place
    keep = _greedy_thin(packer, zp.local * (1 + keep_surplus), window, rng, kappa)
    packer.keep(keep)
    offset = _place_window(packer, fr, window_axes, target, rng) if window_axes.any() else fr.offset

    # ---- rasterise, pick the final scale, relabel 1..N
    ras = _rasterise_packing(packer, fr, offset, max_overlap, progress)
    s = _final_scale(ras.d2, ras.lab, target, ras.cap, ras.s_max)
    lab = ras.lab
    ras = ras._replace(d2=None, lab=None)             # free the distance buffer (and the old ids below)
    lab, present, counts = _relabel(lab, ras.ukey.size)
    fraction = float(counts[1:].sum()) / lab.size

    centres, radii_f, axes_f, mo = _particle_table(packer, ras, present, fr, offset, s)
    zmid, tgt, ach = _achieved_profile(lab, fr, zp, gradient, target)
    report(progress, 1.0, "particles packed")
    return {
        "particles": lab,
        "centres_um": centres,
        "radii_um": radii_f,
        "axes": axes_f,
        "diameters_um": 2.0 * radii_f,
        "diameters_requested_um": np.concatenate(drawn),
        "psd_requested": requested_psd(d50_um, sigma, psd, psd_weighting, user),
        "psd_weighting": psd_weighting if user is None else "number",
        "fraction": fraction,
        "target_fraction": target,
        "radius_scale": float(s),
        "max_overlap": float(max_overlap),
        "max_overlap_achieved": mo,
        "gradient_scale": float(zp.gradient_scale),
        "profile": {"z_um": zmid, "target": tgt, "achieved": ach},
        "relaxation": {"iterations": int(packer.iterations), "converged": bool(packer.converged),
                       "union_ratio": float(kappa), "particles_drawn": int(sum(d.size for d in drawn)),
                       "particles_removed": int((~keep).sum()), "packing_box_um": fr.box.tolist()},
        "periodic": bool(periodic),
        "wall_s": time.perf_counter() - t0,
    }


def linear_profile(a, b):
    """A ``gradient`` table: the local fraction linear from ``a`` at z=0 to ``b`` at the top face.

    Parameters
    ----------
    a, b : float
        Local solid fractions at the z=0 face and at the top face.

    Returns
    -------
    list of (float, float)
        ``(z_frac, local_fraction)`` rows for :func:`pack_particles`.

    Examples
    --------
    >>> linear_profile(0.5, 0.7)
    [(0.0, 0.5), (1.0, 0.7)]
    """
    return [(0.0, float(a)), (1.0, float(b))]


def bump_profile(mean, amplitude, centre_um, width_um):
    """A ``gradient`` callable ``f(z_um)``: ``mean`` plus a Gaussian bump of ``amplitude`` at ``centre_um``.

    Fig. 1D of the reference study: the NMC fraction deviates from its mean about 50 um from the
    current collector.

    Parameters
    ----------
    mean : float
        Local fraction away from the bump.
    amplitude : float
        Height of the bump (negative for a dip).
    centre_um : float, um
        Position of the bump from the z=0 face.
    width_um : float, um
        The Gaussian's standard deviation.

    Returns
    -------
    callable
        ``f(z_um) -> local fraction`` (array in, array out).

    Examples
    --------
    >>> f = bump_profile(0.6, 0.05, 50.0, 10.0)
    >>> f(50.0).item()
    0.65
    """
    def f(z_um):
        z = np.asarray(z_um, float)
        return mean + amplitude * np.exp(-0.5 * ((z - centre_um) / width_um) ** 2)
    return f


def measure_particle_sizes(particles, spacing, *, periodic=False) -> dict:
    """Volume-equivalent diameters of the particles in an id map, edge-corrected.

    Only particles that touch no non-periodic face are measured (a cut particle's size is
    unknown); each is weighted by ``prod(n / (n - k - 1))`` over the non-periodic axes (``k`` its
    extent in voxels, ``n`` the grid size): the Miles-Lantuejoul minus-sampling correction for
    large particles being cut more often.

    Parameters
    ----------
    particles : (nz, ny, nx) int array
        Particle ids ``[z, y, x]``, 0 = none.
    spacing : (3,) floats, um
        Voxel size (dz, dy, dx).
    periodic : bool
        The lateral (x, y) faces are periodic (particles there are not cut).

    Returns
    -------
    dict
        ``ids`` (measured particle ids), ``diameters_um``, ``weights``, ``n_measured``,
        ``n_total`` and ``psd`` (the D10/D50/D90 in um, number- and volume-weighted, see
        :func:`psd_quantiles`; None if nothing was measured).

    Examples
    --------
    >>> import numpy as np
    >>> lab = np.zeros((6, 6, 6), np.int32)
    >>> lab[1:3, 1:3, 1:3] = 1                      # 8 voxels inside
    >>> lab[0, 0, 0] = 2                            # cut by the faces: not measured
    >>> m = measure_particle_sizes(lab, (1.0, 1.0, 1.0))
    >>> m["ids"].tolist(), m["n_total"], round(float(m["diameters_um"][0]), 3)
    ([1], 2, 2.481)
    """
    from scipy import ndimage

    lab = np.asarray(particles)
    h = np.asarray(spacing, float)
    n = lab.shape
    nmax = int(lab.max()) if lab.size else 0
    counts = np.zeros(nmax + 1, np.int64)
    slab = max(1, (1 << 24) // max(1, n[1] * n[2]))
    for z0 in range(0, n[0], slab):
        counts += np.bincount(lab[z0:z0 + slab].ravel(), minlength=nmax + 1)
    ids, diam, wts = [], [], []
    periodic_axes = (False, bool(periodic), bool(periodic))
    for i, sl in enumerate(ndimage.find_objects(lab), start=1):
        if sl is None:
            continue
        w = 1.0
        cut = False
        for a in range(3):
            if periodic_axes[a]:
                continue
            k = sl[a].stop - sl[a].start
            if sl[a].start == 0 or sl[a].stop == n[a] or n[a] - k - 1 <= 0:
                cut = True
                break
            w *= n[a] / (n[a] - k - 1)
        if cut:
            continue
        ids.append(i)
        diam.append((6.0 / np.pi * counts[i] * float(np.prod(h))) ** (1.0 / 3.0))
        wts.append(w)
    diam = np.asarray(diam)
    wts = np.asarray(wts)
    return {"ids": np.asarray(ids, np.int64), "diameters_um": diam, "weights": wts, "n_measured": int(diam.size),
            "n_total": int(np.count_nonzero(counts[1:])),
            "psd": psd_quantiles(diam, wts) if diam.size else None}
