"""Pore-back (shine-through) artifact correction along the slice axis of a FIB-SEM stack.

In a serial-section stack of an uninfiltrated electrode, an empty voxel (pore, crack) on the cut
face shows the material *behind* it, deeper along the milling direction: the detector sees the
back wall through the pore.  Such voxels are brighter than the pore level by an amount that
falls off with the distance to that back wall, and near a bright particle they take the grey
level of the carbon-binder domain: segmented plainly they become a CBD layer in front of every
particle.

Model (estimated from the image, nothing assumed about the instrument or generator).  For a voxel
``p`` let ``n(p)`` be the number of slices from ``p`` to the first *source* voxel behind it along
the milling direction (sources: the bright active material, and CBD cores, each with its own
level; ``n = 1`` is the slice directly in front), and ``S(p)`` that source's grey level.  Per
pixel and slice the intensity follows a two-component mixture, tracked along the slice axis:

- *background* (shine-through): ``pore level + beta_n * (S - pore level) / (am level - pore level)``
  — the back wall seen through the empty voxel, a value that changes only slowly and
  predictably from slice to slice as the wall approaches;
- *foreground* (material on the cut face): the CBD level (the only phase that is ambiguous with
  shine-through; bright active material is never a candidate).

``beta_n`` (the excess seen ``n`` slices in front of active material) is fitted for each ``n``
on the histogram of the voxels at that distance (a free shine-through component beside the CBD
component), against the same distance *behind* particles as reference (blur and partial volume
are symmetric along the slice axis, shine-through is not), and made non-increasing with ``n``;
beyond the distance where it falls below the pore noise nothing is changed.

Decision (the "tracking along the slice axis"): one voxel at the CBD level cannot tell CBD from
shine-through, a column can.  For each run of non-source voxels in front of a source, the
hypotheses "the first m voxels at the wall are CBD, the rest is pore seeing the shine-through of
what lies behind it" (m = 0: the source itself shines through; m > 0: the CBD layer does, at its
own, weaker level) are scored by the summed Gaussian log-likelihood of the run's intensities and
the fitted prior odds: shine-through falls off slice by slice from the wall, a CBD layer stays
flat.  A voxel's evidence is the best hypothesis calling it shine-through against the best
calling it CBD; it is smoothed over the slice plane (shine-through comes in patches: the
footprint of the wall behind), and where it stays undecided the confident neighbours vote.
Corrected voxels get the intensity minus the excess their best shine-through hypothesis
predicts.  The result is the corrected image and the mask of corrected voxels.

Limits: the decision is statistical where the excess right in front of a particle equals the CBD
level minus the pore level (then only the noise separates them, and the smoothed posterior and
the segmentation's markers decide); a milling direction along a *negative* axis is handled with
``reverse=True`` (material at *smaller* indices is behind the cut face).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from electrovox.errors import BadInput
from electrovox.progress import report
from electrovox.solvers._axes import array_axis

#: the fitted excess is followed this many slices in front of a source at most
MAX_REACH = 24
#: log-likelihood ratio beyond which the intensity alone decides shine-through vs CBD
LLR_SURE = 2.0


def _distance_behind(source: np.ndarray, level: np.ndarray | None = None):
    """Slices from each voxel to the first ``source`` voxel behind it along +axis 0.

    ``source`` bool [s, a, b] (slice axis first).  Returns ``n`` int16 (0 at sources; MAX_REACH +
    1 where no source is within reach) and, if ``level`` (float32 per voxel) is given, the level
    of that source voxel per voxel (float32).
    """
    ns = source.shape[0]
    n = np.full(source.shape, MAX_REACH + 1, dtype=np.int16)
    s = np.zeros(source.shape, dtype=np.float32) if level is not None else None
    for k in range(ns - 1, -1, -1):
        if k + 1 < ns:
            n[k] = np.minimum(n[k + 1] + 1, MAX_REACH + 1)
            if s is not None:
                s[k] = s[k + 1]
        here = source[k]
        n[k][here] = 0
        if s is not None:
            s[k][here] = level[k][here]
    return n, s


def _fit_excess(values: np.ndarray, pore: float, pore_sd: float, cbd: float, cbd_sd: float,
                iterations: int = 100):
    """Two-component fit of ``values`` (voxels at one distance in front of a source).

    A free shine-through component and the CBD component held at (cbd, cbd_sd).  Returns (mean,
    sd, weight) of the free component.
    """
    if values.size < 50:
        return None
    lo, hi = np.percentile(values, [0.1, 99.9])
    counts, edges = np.histogram(values, bins=256, range=(lo, hi))
    x = 0.5 * (edges[1:] + edges[:-1])
    counts = counts.astype(np.float64)
    m, sd, w = float(np.percentile(values, 25)), pore_sd, 0.5
    floor = 2.0 * (x[1] - x[0])
    for _ in range(iterations):
        d0 = w * np.exp(-0.5 * ((x - m) / sd) ** 2) / sd
        d1 = (1 - w) * np.exp(-0.5 * ((x - cbd) / cbd_sd) ** 2) / cbd_sd
        r0 = d0 / np.maximum(d0 + d1, 1e-300)
        n0 = float((r0 * counts).sum())
        if n0 < 1:
            return None
        m_new = float((r0 * counts * x).sum() / n0)
        sd = max(float(np.sqrt((r0 * counts * (x - m_new) ** 2).sum() / n0)), floor)
        w = min(max(n0 / counts.sum(), 1e-3), 1 - 1e-3)
        if abs(m_new - m) < 1e-6 * (hi - lo):
            m = m_new
            break
        m = m_new
    return m, sd, w


def _tables(excess, prior, spread, pore_sd):
    """Per-distance look-up tables (index n = 0 .. MAX_REACH + 1): excess, log prior odds, spread."""
    k = len(excess)
    beta = np.zeros(MAX_REACH + 2, dtype=np.float32)
    beta[1:k + 1] = excess
    odds = np.zeros(MAX_REACH + 2, dtype=np.float32)
    odds[1:k + 1] = prior
    sd = np.full(MAX_REACH + 2, pore_sd, dtype=np.float32)
    sd[1:k + 1] = spread
    return beta, odds, sd


def _fit_profile(img, n_behind, n_ahead, eligible, lev, first_cap=None):
    """Shine-through excess per distance n from a kind of source.

    Lists excess, log prior odds, spread for n = 1, 2, ... while the excess exceeds the pore
    noise.

    ``n_behind`` / ``n_ahead``: slices to the nearest source behind / in front of each voxel;
    ``eligible``: the voxels that may be fitted.  At each n the voxels n slices in front of a
    source are fitted against those n slices *behind* one (blur, partial volume and the
    brightening of pores near curved surfaces are symmetric along the slice axis, shine-through
    is not: it only comes from material behind the cut face).  Shine-through falls with the
    distance from the wall: a running maximum from the far end makes the excess non-increasing
    (a noisy near value is raised, never a far one cut).  ``first_cap``: an upper bound of the
    n = 1 value before that running maximum.
    """
    pore, pore_sd, cbd, cbd_sd, _am, t_ca = lev
    raw = []
    for k in range(1, MAX_REACH + 1):
        fit = _fit_excess(img[(n_behind == k) & eligible], pore, pore_sd, cbd, cbd_sd)
        ref = _fit_excess(img[(n_ahead == k) & (n_behind > k) & eligible], pore, pore_sd, cbd, cbd_sd)
        if fit is None or ref is None:
            break
        raw.append((max(fit[0] - ref[0], 0.0), fit))
    beta = [b for b, _ in raw]
    if beta and first_cap is not None:
        beta[0] = min(beta[0], first_cap)
    for k in range(len(beta) - 2, -1, -1):
        beta[k] = max(beta[k], beta[k + 1])
    excess, prior, spread = [], [], []
    for b_k, (_, fit) in zip(beta, raw, strict=True):
        b_k = min(b_k, t_ca - pore)                     # brighter than that is taken for particle
        if b_k < pore_sd:                               # below the pore noise: nothing to correct
            break
        excess.append(b_k)
        prior.append(float(np.log(fit[2] / (1.0 - fit[2]))))           # log odds of shine-through at n
        spread.append(max(float(fit[1]), pore_sd))                       # its spread at n (misfit incl.)
    return excess, prior, spread


def _column_llr(img, sources, am_mask, tables, lev, window):
    """Shine-through vs CBD evidence per voxel from the whole column in front of each source.

    For every run of non-source voxels in front of a source voxel (along -axis 0, at most
    ``window`` voxels), the hypotheses are "the first ``m`` voxels at the wall are CBD, the rest
    is pore seeing the shine-through of what lies behind" for m = 0 .. window: with m = 0 the
    source shines through, with m > 0 the CBD layer does (with the excess fitted in front of CBD).  Each hypothesis's
    log-likelihood sums the voxels' Gaussian log-densities (CBD at its level; shine-through at
    pore + beta_d * scale, d = distance to the shining wall, with the spread fitted at d) and the
    fitted log prior odds.  A single voxel cannot tell shine-through at the CBD level from CBD,
    but the column can: shine-through falls off from the wall slice by slice, a CBD layer is flat
    and casts a weaker shine-through in front of itself.

    Returns (llr float32: max over hypotheses calling the voxel shine-through minus max over those
    calling it CBD, -inf outside the windows; shift float32: the excess predicted for the voxel
    under its best shine-through hypothesis).
    """
    pore, pore_sd, cbd, cbd_sd, am, _t_pc = lev
    (beta_a, odds_a, sd_a), (beta_c, odds_c, sd_c) = tables
    llr = np.full(img.shape, -np.inf, dtype=np.float32)
    shift = np.zeros(img.shape, dtype=np.float32)
    front = np.zeros(sources.shape, dtype=bool)
    front[1:] = sources[1:] & ~sources[:-1]                   # a source with a non-source voxel in front
    ks, is_, js = np.nonzero(front)
    if ks.size == 0:
        return llr, shift
    w = int(window)
    n = np.arange(1, w + 1)
    kk = ks[:, None] - n[None, :]                              # [runs, w] slice index of the n-th voxel
    ok = kk >= 0
    kk = np.maximum(kk, 0)
    ii, jj = is_[:, None], js[:, None]
    # the run ends at the next source in front (or the first slice)
    run_end = np.cumsum(sources[kk, ii, jj] | ~ok, axis=1) > 0
    ok &= ~run_end
    vals = img[kk, ii, jj]
    is_am = am_mask[ks, is_, js][:, None]                      # kind of the run's source
    # per-voxel log-densities are floored at 5 sigma: one odd voxel (a grain, a stripe) must not
    # outvote the rest of its column
    lc = np.maximum(-0.5 * ((vals - np.float32(cbd)) / np.float32(cbd_sd)) ** 2, -12.5) - np.float32(np.log(cbd_sd))
    lc = np.where(ok, lc, 0).astype(np.float32)
    prefix_c = np.concatenate([np.zeros((ks.size, 1), np.float32), np.cumsum(lc, axis=1)], axis=1)
    ll = np.empty((ks.size, w + 1), dtype=np.float32)
    for m in range(w + 1):
        d = np.minimum(n[m:] - m, MAX_REACH + 1)               # distance of voxel n to the shining wall
        if m == 0:                                              # the source shines: its kind's table
            pred = np.where(is_am, beta_a[d][None, :], beta_c[d][None, :])      # [runs, w] excess
            sdv = np.where(is_am, sd_a[d][None, :], sd_c[d][None, :])
        else:                                                   # the CBD layer at the wall shines
            pred = beta_c[d][None, :]
            sdv = sd_c[d][None, :]
        odds = np.where(is_am, odds_a[n[m:]][None, :], odds_c[n[m:]][None, :])
        ls = (np.maximum(-0.5 * ((vals[:, m:] - np.float32(pore) - pred) / sdv) ** 2, -12.5) - np.log(sdv)
              + odds)
        ll[:, m] = prefix_c[:, m] + np.where(ok[:, m:], ls, 0).sum(axis=1)
    # per voxel n: best hypothesis calling it shine-through (m < n) vs calling it CBD (m >= n)
    pre = np.maximum.accumulate(ll, axis=1)                    # pre[:, m] = max over m' <= m
    suf = np.maximum.accumulate(ll[:, ::-1], axis=1)[:, ::-1]  # suf[:, m] = max over m' >= m
    # the hypothesis attaining pre[:, m] (the latest of ties): ll equals the running max exactly there
    arg_pre = np.maximum.accumulate(np.where(ll == pre, np.arange(w + 1, dtype=np.int32), 0), axis=1)
    v_llr = pre[:, :w] - suf[:, 1:]                            # voxel n (column n - 1): m < n vs m >= n
    m_bg = arg_pre[:, :w]                                      # its best shine-through hypothesis
    # the excess that hypothesis predicts for voxel n: distance n - m_bg to the shining wall, the
    # source's table for m_bg = 0, the CBD layer's otherwise
    d = np.minimum(n[None, :] - m_bg, MAX_REACH + 1)
    v_shift = np.where((m_bg == 0) & is_am, beta_a[d], beta_c[d]).astype(np.float32)
    at = (kk[ok], np.broadcast_to(ii, kk.shape)[ok], np.broadcast_to(jj, kk.shape)[ok])
    llr[at] = v_llr[ok]
    shift[at] = v_shift[ok]
    return llr, shift


def _decide(img, am_mask, cbd_core, sources, tables, lev, smooth_px, window):
    """Shine-through decision on a block [s, a, b]: (mask of corrected voxels, predicted excess)."""
    t_pc = lev[-1]
    llr, shift = _column_llr(img, sources, am_mask, tables, lev, window)
    cand = np.isfinite(llr) & ~am_mask & ~cbd_core
    llr = np.where(cand, np.clip(llr, -20, 20), np.float32(-20)).astype(np.float32)
    if smooth_px > 0:
        llr = ndimage.gaussian_filter(llr, (0, smooth_px, smooth_px))
    # where the evidence cannot tell (|log-likelihood ratio| <= LLR_SURE), the voxel goes with
    # its 26 neighbours: shine-through comes in patches running from the open pore to the wall,
    # CBD in aggregates; confident neighbours of either kind (and dark pore) vote
    sure_bg = (cand & (llr > LLR_SURE)) | (img < np.float32(t_pc))
    sure_fg = (cand & (llr < -LLR_SURE)) | cbd_core
    ones = np.ones((3, 3, 3), dtype=np.float32)
    vote = ndimage.convolve(sure_bg.astype(np.float32), ones, mode="nearest")
    vote -= ndimage.convolve(sure_fg.astype(np.float32), ones, mode="nearest")
    unsure = cand & (np.abs(llr) <= LLR_SURE)
    bg = (cand & (llr > LLR_SURE)) | (unsure & ((vote > 0) | ((vote == 0) & (llr > 0))))
    return bg & (shift > 0), shift


def correct_pore_back(image: np.ndarray, levels: dict, *, slice_axis: int = 0, reverse: bool = False,
                      smooth_px: float = 0.5, progress=None) -> dict:
    """Correct pore-back (shine-through) in a denoised greyscale stack.

    Parameters
    ----------
    image : ndarray, shape (nz, ny, nx)
        Denoised greyscale stack (the fit needs the noise well below the contrast).
    levels : dict
        The three-phase grey levels of ``image`` from
        :func:`electrovox.filters.image.levels.estimate_levels` (pore, CBD, active material).
    slice_axis : {"z", "y", "x"} or {0, 1, 2}
        FIB milling axis: material at larger indices along it is behind the cut face.
    reverse : bool
        Milling toward smaller indices (material at smaller indices is behind the cut face).
    smooth_px : float
        Gaussian sigma (pixels of the slice plane) over which the background posterior is
        smoothed before the decision.
    progress : callable, optional
        ``progress(fraction, message)``.

    Returns
    -------
    dict
        ``image`` (float32, corrected), ``mask`` (bool, the corrected voxels), ``excess`` (list:
        fitted excess beta_n in image units for n = 1, 2, ... slices in front of active
        material), ``reach_slices`` (how far the correction reaches), ``corrected_fraction``.

    Raises
    ------
    BadInput
        Source ``correct_pore_back``: a bad ``slice_axis``, or ``levels`` not of three phases.
    """
    slice_axis = array_axis(slice_axis, "slice_axis", "correct_pore_back")
    mu, sd = levels["means"], levels["stds"]
    if len(mu) != 3:
        raise BadInput("correct_pore_back", "levels must be those of three phases (pore, CBD, active material)",
                       "estimate them with estimate_levels(image, 3)")
    pore, cbd, am = (float(v) for v in mu)
    pore_sd, cbd_sd = float(sd[0]), float(sd[1])
    t_pc, t_ca = (float(v) for v in levels["thresholds"])
    img = np.moveaxis(np.asarray(image, dtype=np.float32), slice_axis, 0)
    if reverse:
        img = img[::-1]
    report(progress, 0.05, "pore-back: sources")
    # sources: bright active material (unambiguous) and CBD cores: CBD-level voxels whose face
    # neighbours are CBD-level too and that lie beyond the reach of the shine-through of active
    # material behind them (a shine-through zone in front of a particle can be several slices
    # deep and wide, so near a particle only the decision below tells CBD from it)
    am_mask = img > t_ca
    n_am, _ = _distance_behind(am_mask)
    n_front, _ = _distance_behind(am_mask[::-1])             # slices to the nearest particle in front
    n_front = n_front[::-1]
    mid_core = ndimage.binary_erosion((img > t_pc) & ~am_mask, ndimage.generate_binary_structure(3, 1))
    report(progress, 0.3, "pore-back: fit")
    # excess in front of active material, one distance at a time.  Right at the wall (n = 1)
    # partial volume with the particle is only partly cancelled by the reference, so there the
    # fit counts only up to the CBD level (unless n = 2 shows more)
    eligible = ~am_mask
    excess, prior, spread = _fit_profile(img, n_am, n_front, eligible, (pore, pore_sd, cbd, cbd_sd, am, t_ca),
                                         first_cap=cbd - pore)
    cbd_core = mid_core & (n_am > len(excess))
    if np.count_nonzero(cbd_core) > 100:
        # the CBD level and spread of the decision from CBD cores beyond the shine-through's reach
        # (the global mixture's CBD component is widened by the very voxels to be told apart)
        cbd, cbd_sd = float(np.median(img[cbd_core])), float(np.std(img[cbd_core]))
    del mid_core
    reach = len(excess)
    # the excess in front of CBD: the particles' scaled by the levels' contrast over the pore (a
    # fit in front of CBD cores is confounded: the first pore voxels in front of CBD take the
    # CBD level and become cores themselves)
    scale = float(np.clip((cbd - pore) / (am - pore), 0, 1))
    n_cbd = sum(1 for b in excess if b * scale >= pore_sd)
    fit_c = ([b * scale for b in excess[:n_cbd]], prior[:n_cbd], spread[:n_cbd])
    excess_cbd = fit_c[0]
    out = img.copy()
    mask = np.zeros(img.shape, dtype=bool)
    if reach:
        tables = (_tables(excess, prior, spread, pore_sd), _tables(*fit_c, pore_sd))
        # the column model looks at the reach of the shine-through plus as many slices of CBD
        # in front of the wall
        window = min(MAX_REACH, 2 * reach)
        sources = am_mask | cbd_core
        # the decision is column-wise along the slice axis but for the in-plane smoothing of the
        # posterior: blocks of rows along the next axis, with a halo for that smoothing, bound the
        # temporaries (a dozen float32 arrays) to the block
        halo = int(4 * smooth_px + 1) if smooth_px > 0 else 0
        na = img.shape[1]
        rows = max(1, min(na, 2_000_000 // max(1, img.shape[0] * img.shape[2])))
        for a0 in range(0, na, rows):
            a1 = min(na, a0 + rows)
            h0, h1 = max(0, a0 - halo), min(na, a1 + halo)
            blk = np.s_[:, h0:h1]
            m = _decide(img[blk], am_mask[blk], cbd_core[blk], sources[blk], tables,
                        (pore, pore_sd, cbd, cbd_sd, am, t_pc), smooth_px, window)
            core = np.s_[:, a0 - h0:a1 - h0]
            mask[:, a0:a1] = m[0][core]
            out[:, a0:a1] -= np.where(m[0][core], m[1][core], np.float32(0))
            report(progress, 0.7 + 0.3 * a1 / na, "pore-back: decide")
    if reverse:
        out, mask = out[::-1], mask[::-1]
    report(progress, 1.0, "pore-back: done")
    return {"image": np.ascontiguousarray(np.moveaxis(out, 0, slice_axis)),
            "mask": np.ascontiguousarray(np.moveaxis(mask, 0, slice_axis)),
            "excess": [float(b) for b in excess], "excess_cbd": [float(b) for b in excess_cbd], "reach_slices": reach,
            "corrected_fraction": float(mask.mean())}
