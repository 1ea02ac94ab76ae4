"""A PFIB-SEM-like greyscale stack rendered from a label volume, with the exact labels it shows.

:func:`simulate_fibsem` turns labels (default legend: 0 pore, 1 cbd, 2 am, 3 crack, 4 separator,
5 collector) into the kind of stack a plasma-FIB serial-sectioning run with a backscatter
detector produces (the reference study: 15.2 x 15.2 nm pixels, a slice every 100 nm), and
returns ``truth``: the labels resampled to the image grid by nearest neighbour, i.e. exactly the
labels each image voxel was rendered from.  :func:`measure_snr` measures the signal-to-noise
ratio of an image against its truth with the same definition the simulator uses.

Geometry.  Arrays are ``[z, y, x]``; ``spacing`` (labels) and ``image_spacing`` (image) are
voxel sizes in um in that order.  Both grids cover the same physical box, which starts at the
low face of the first label voxel: image voxel ``i`` along an axis has its centre at
``(i + 0.5) * image_spacing`` from that face and takes the label of the label voxel containing
that point; the image has ``floor(extent / image_spacing)`` voxels per axis (a partial voxel at
the far end is dropped).  Relative to the label volume's origin (centre of its first voxel) the
image's origin is shifted by ``image_spacing / 2 - spacing / 2`` (reported).

Acquisition geometry.  The *slice axis* is the FIB milling direction: every image is a plane
normal to it, and milling proceeds towards larger indices, so material at larger indices is
still in place (behind the cut face) when a slice is imaged.  The *beam axis* is the ion-beam
direction within the slice plane (the image's vertical): curtaining stripes run along it.  The
remaining axis is the *across* axis (the image's horizontal).

Image formation, in this order (every step has its own strength; 0 or None switches it off):

1. clean image: a grey level per phase on a 0..1 scale (:data:`DEFAULT_GREY_LEVELS`), plus
   channelling contrast in the active material (a random offset per primary grain, grains being
   the cells of a Voronoi partition) and a fine random texture in the nanoporous CBD;
2. pore-back: an empty voxel (pore, crack) shows the material behind it along the slice axis,
   ``+ pore_back * level(solid) * exp(-d / pore_back_depth_um)`` with ``d`` the distance in um
   from the voxel's centre (the cut face) to the face of the next solid voxel behind it;
3. blur: an anisotropic Gaussian point spread, sigmas in um per axis (widest along the slice
   axis, where the backscatter signal integrates over the information depth);
4. curtaining (stripes along the beam axis, random across it, changing slowly from slice to
   slice) and slice-to-slice drift (a smooth random gain and offset per slice);
5. noise: Gaussian with variance ``shot * s + read`` for a noiseless signal ``s`` (a
   Poisson-like signal-dependent part plus detector read noise), scaled so that the SNR below
   equals ``snr`` exactly;
6. quantisation: 0..1 mapped linearly onto the full range of an unsigned dtype (values outside
   are clipped and counted), or kept unclipped for float32.

SNR definition (used by the simulator and by :func:`measure_snr`)::

    SNR = (mean(am) - mean(pore)) / sigma_mid,   sigma_mid = noise std at the mid grey
                                                 (level(am) + level(pore)) / 2

By construction ``sigma_mid = (level(am) - level(pore)) / snr``.  Because the noise variance is
linear in the signal, the variance at the mid grey is the average of the variances at the two
levels, so the SNR is measured as ``(mean_am - mean_pore) / sqrt((var_am + var_pore) / 2)`` over
the am and pore voxels of the truth.  On an image with only noise this recovers ``snr``; grain
contrast, texture, pore-back, curtaining, drift and blur at interfaces add within-phase
variance, so the measured SNR of a full simulation is the *effective* SNR a segmentation sees
(reported next to the requested one).

Determinism: everything derives from ``seed`` through independent random streams, one per
effect (and per image plane for the per-voxel fields), so switching one effect off leaves the
others unchanged; the result does not depend on the slab size used internally.

Memory: the truth (1 byte/voxel), one float32 working image and the output, plus slabs of a few
million voxels and the coarse grain grid: about 8.5 bytes per output voxel for uint16 output
(1.1 GB peak for 512^3; about 16 s on 2 cores).
"""

from __future__ import annotations

import math
import time

import numpy as np
from scipy import ndimage

from electrovox.errors import BadInput
from electrovox.phases import DEFAULT_LEGEND, PHASES
from electrovox.progress import report as _report

#: Default backscatter grey levels on a 0..1 scale.  Order follows the mean atomic number:
#: NMC (Ni, Co, Mn oxides) brightest, aluminium foil next, the carbon-binder domain mid grey,
#: the polymer separator darker, empty space (pores, cracks) darkest.  Pores sit at 0.2 rather
#: than near 0 so that the default SNR (8) clips well under 1 % of the pore voxels at 0.
DEFAULT_GREY_LEVELS: dict[str, float] = {
    "pore": 0.20, "cbd": 0.45, "am": 0.75, "crack": 0.20, "separator": 0.30, "collector": 0.60,
}
#: Phases that are empty space in the sample: they show pore-back, and do not stop it.
EMPTY_PHASES = ("pore", "crack")
DTYPES = ("uint16", "uint8", "float32")

SNR_DEFINITION = ("(mean(am) - mean(pore)) / noise sigma at the mid grey (level(am)+level(pore))/2; "
                  "measured as (mean_am - mean_pore) / sqrt((var_am + var_pore) / 2)")

# one independent random stream per effect (keys of np.random.SeedSequence's spawn_key)
_K_GRAIN_SEEDS, _K_GRAIN_OFFSETS, _K_TEXTURE, _K_CURTAIN, _K_DRIFT, _K_NOISE = range(6)
_SLAB_VOXELS = 4_000_000  # voxels per slab of temporaries (16 MB of float32)
_SRC = "simulate_fibsem"


def _rng(seed: int, *key: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=tuple(key)))


def _gauss_radius(sigma: float) -> int:
    """Kernel half-width scipy.ndimage uses for a Gaussian of ``sigma`` voxels (truncate=4)."""
    return int(4.0 * sigma + 0.5) if sigma > 0 else 0


def _gauss_sumsq(sigma: float) -> float:
    """Sum of squared weights of scipy's discrete Gaussian kernel: the variance a unit white
    noise keeps after filtering with it (1 for sigma 0)."""
    if sigma <= 0:
        return 1.0
    r = _gauss_radius(sigma)
    x = np.arange(-r, r + 1, dtype=np.float64)
    w = np.exp(-0.5 * (x / sigma) ** 2)
    w /= w.sum()
    return float(np.sum(w * w))


def _triple(value, name: str, *, positive: bool) -> np.ndarray:
    try:
        a = np.asarray(value, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise BadInput(_SRC, f"{name} {value!r} is not a number or three numbers",
                       f"give {name} as (z, y, x) in um") from None
    if a.size == 1:
        a = np.repeat(a, 3)
    if a.size != 3 or not np.all(np.isfinite(a)) or np.any(a <= 0 if positive else a < 0):
        need = "positive" if positive else "non-negative"
        raise BadInput(_SRC, f"{name} {value!r} is not three {need} finite numbers",
                       f"give {name} as (z, y, x) in um")
    return a


def _strength(value, name: str) -> float:
    if value is None:
        return 0.0
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise BadInput(_SRC, f"{name} {value!r} is not a number", f"give {name} >= 0 (0 switches it off)") \
            from None
    if not math.isfinite(v) or v < 0:
        raise BadInput(_SRC, f"{name} {value!r} is negative or not finite",
                       f"give {name} >= 0 (0 switches it off)")
    return v


def _length(value, name: str) -> float:
    v = _strength(value, name)
    if v <= 0:
        raise BadInput(_SRC, f"{name} must be positive", f"give {name} in um, > 0")
    return v


def _nearest_indices(n_labels: int, spacing: float, image_spacing: float) -> np.ndarray:
    """Index of the label voxel containing each image voxel centre along one axis."""
    n = int(math.floor(n_labels * spacing / image_spacing * (1 + 1e-9)))
    centres = (np.arange(n, dtype=np.float64) + 0.5) * image_spacing
    return np.clip(np.floor(centres / spacing).astype(np.intp), 0, n_labels - 1)


def _legend_tables(legend: dict[int, str], grey_levels) -> tuple[dict[str, float], np.ndarray, np.ndarray]:
    """Grey level per phase name (0..1), a 256-entry level lookup and a 256-entry 'empty' lookup."""
    levels = dict(DEFAULT_GREY_LEVELS)
    for key, value in (grey_levels or {}).items():
        name = legend.get(key, DEFAULT_LEGEND.get(key)) if isinstance(key, (int, np.integer)) else key
        if name not in PHASES:
            raise BadInput(_SRC, f"grey_levels names an unknown phase {key!r}",
                           "use phase names: " + ", ".join(PHASES))
        v = float(value)
        if not math.isfinite(v) or not 0.0 <= v <= 1.0:
            raise BadInput(_SRC, f"grey level {v} for '{name}' is outside 0..1",
                           "give grey levels on the 0..1 scale")
        levels[name] = v
    lut = np.zeros(256, np.float32)
    empty = np.zeros(256, bool)
    for idx, name in legend.items():
        lut[idx] = levels[name]
        empty[idx] = name in EMPTY_PHASES
    return levels, lut, empty


def _check_labels(labels, legend) -> np.ndarray:
    a = np.asarray(labels)
    if a.ndim != 3 or a.size == 0:
        raise BadInput(_SRC, f"labels must be a non-empty 3D array [z, y, x], got shape {a.shape}",
                       "pass a label volume")
    if a.dtype.kind not in "ui":
        raise BadInput(_SRC, f"labels have dtype {a.dtype}, not integers", "pass integer labels (uint8)")
    if a.dtype != np.uint8:
        lo, hi = int(a.min()), int(a.max())
        if lo < 0 or hi > 255:
            raise BadInput(_SRC, f"labels range {lo}..{hi} is outside 0..255", "labels must be uint8 ids")
        a = a.astype(np.uint8)
    present = np.flatnonzero(np.bincount(a.reshape(-1), minlength=256))
    unknown = sorted(set(present.tolist()) - set(legend))
    if unknown:
        raise BadInput(_SRC, f"label ids {unknown} are not in the legend {legend}",
                       "pass legend= naming every id, or relabel")
    return a


def _axis_slices(n: int, plane: int) -> list[tuple[int, int]]:
    step = max(1, _SLAB_VOXELS // max(plane, 1))
    return [(a, min(n, a + step)) for a in range(0, n, step)]


def _along(values: np.ndarray, axis: int) -> np.ndarray:
    """A 1D array shaped to broadcast along ``axis`` of a 3D array."""
    shape = [1, 1, 1]
    shape[axis] = values.size
    return values.reshape(shape)


def _slab(arr: np.ndarray, a: int, b: int) -> np.ndarray:
    """Rows a:b along axis 0 of a broadcastable array (kept whole where it has length 1)."""
    return arr[a:b] if arr.shape[0] > 1 else arr


def _smooth_random_1d(rng: np.random.Generator, n: int, sigma: float) -> np.ndarray:
    """A smooth random walk of n steps (cumulative Gaussian steps, Gaussian-smoothed), zero mean,
    unit standard deviation (zeros for n == 1)."""
    w = np.cumsum(rng.standard_normal(n))
    if sigma > 0:
        w = ndimage.gaussian_filter1d(w, sigma, mode="nearest")
    w -= w.mean()
    sd = w.std()
    return w / sd if sd > 0 else np.zeros(n)


def _grain_offsets(shape, image_spacing, grain_size_um: float, seed: int):
    """Primary-grain offsets (unit std, float32) on a coarse grid, and the per-axis coarsening.

    Grains are the Voronoi cells of Poisson seed points (one per grain volume, pi/6 d^3), found
    exactly on a grid at about d/8 (never finer than the image) with a Euclidean feature
    transform; the grain map is then sampled onto the image grid by nearest neighbour.  The
    coarse grid keeps the cost at a few seconds for 512^3 images; grain boundaries are stepped
    at that grid's scale, below the typical ~0.5 um grain size.
    """
    spacing = np.asarray(image_spacing, np.float64)
    factor = np.maximum(1, np.floor(grain_size_um / (8.0 * spacing))).astype(int)
    cshape = tuple(int(-(-n // f)) for n, f in zip(shape, factor, strict=True))
    cspacing = spacing * factor
    box = np.asarray(cshape) * cspacing
    rng = _rng(seed, _K_GRAIN_SEEDS)
    n_grains = max(1, int(rng.poisson(float(np.prod(box)) / (math.pi / 6.0 * grain_size_um ** 3))))
    seeds = np.zeros(cshape, np.int32)
    idx = tuple(rng.integers(0, c, n_grains) for c in cshape)
    seeds[idx] = np.arange(1, n_grains + 1, dtype=np.int32)  # coincident seeds merge: the last wins
    nearest = ndimage.distance_transform_edt(seeds == 0, sampling=cspacing, return_distances=False,
                                             return_indices=True)
    grain = seeds[tuple(nearest)]
    del nearest
    values = _rng(seed, _K_GRAIN_OFFSETS).standard_normal(n_grains + 1).astype(np.float32)
    return values[grain], factor, int(np.count_nonzero(seeds))


def _render_clean(truth, lut, legend, levels, image_spacing, *, grain_contrast, grain_size_um,
                  cbd_texture, cbd_texture_um, seed, out, progress, p0, p1):
    """Stage 1: grey level per phase + grain offsets in the am phase + texture in the CBD."""
    shape = truth.shape
    am_ids = [i for i, n in legend.items() if n == "am"]
    cbd_ids = [i for i, n in legend.items() if n == "cbd"]
    info = {"grain_count": 0, "grain_grid_factor": [1, 1, 1]}
    grains = None
    if grain_contrast > 0 and am_ids:
        coarse, factor, info["grain_count"] = _grain_offsets(shape, image_spacing, grain_size_um, seed)
        coarse *= np.float32(grain_contrast * levels["am"])
        info["grain_grid_factor"] = factor.tolist()
        cidx = [np.arange(n) // f for n, f in zip(shape, factor, strict=True)]
        grains = coarse
    tex_sigma = np.zeros(3)
    if cbd_texture > 0 and cbd_ids:
        tex_sigma = cbd_texture_um / np.asarray(image_spacing)
        # unit variance after smoothing, so cbd_texture is the relative std of the texture
        tex_scale = cbd_texture * levels["cbd"] / math.sqrt(np.prod([_gauss_sumsq(s) for s in tex_sigma]))
        halo = _gauss_radius(tex_sigma[0])
    slabs = _axis_slices(shape[0], shape[1] * shape[2])
    for n_done, (a, b) in enumerate(slabs):
        t = truth[a:b]
        o = out[a:b]
        np.take(lut, t, out=o)
        if grains is not None:
            m = np.isin(t, am_ids)
            o[m] += grains[np.ix_(cidx[0][a:b], cidx[1], cidx[2])][m]
        if cbd_texture > 0 and cbd_ids:
            lo, hi = max(0, a - halo), min(shape[0], b + halo)
            noise = np.empty((hi - lo,) + shape[1:], np.float32)
            for k in range(lo, hi):  # per-plane streams: the field does not depend on the slabs
                _rng(seed, _K_TEXTURE, k).standard_normal(shape[1:], dtype=np.float32, out=noise[k - lo])
            ndimage.gaussian_filter(noise, tex_sigma, output=noise, mode="reflect")
            m = np.isin(t, cbd_ids)
            o[m] += np.float32(tex_scale) * noise[a - lo:b - lo][m]
        _report(progress, p0 + (p1 - p0) * (n_done + 1) / len(slabs), "rendering phases")
    info["cbd_texture_sigma_vox"] = tex_sigma.tolist()
    return info


def _add_pore_back(img, truth, empty_lut, slice_axis, dz, alpha, depth, progress, p0, p1):
    """Stage 2, in place: empty voxels get ``alpha * level(next solid behind) * exp(-d / depth)``.

    A backward scan along the slice axis carries, per in-plane position, the attenuated level of
    the nearest solid voxel behind the current plane: it restarts at every solid voxel
    (``level * exp(-dz / 2 / depth)``, the solid's front face being half a voxel behind the
    preceding voxel's centre) and decays by ``exp(-dz / depth)`` per empty voxel.  Empty voxels
    with no solid behind them inside the volume get nothing.  Returns the fraction of empty
    voxels that received pore-back.
    """
    im = np.moveaxis(img, slice_axis, 0)
    tr = np.moveaxis(truth, slice_axis, 0)
    n = im.shape[0]
    e_half = np.float32(math.exp(-0.5 * dz / depth))
    e_full = np.float32(math.exp(-dz / depth))
    carried = np.zeros(im.shape[1:], np.float32)
    reached = np.zeros(im.shape[1:], bool)
    n_empty = n_lit = 0
    for k in range(n - 1, -1, -1):
        if k < n - 1:
            solid_behind = ~empty_lut[tr[k + 1]]
            carried *= e_full
            np.copyto(carried, im[k + 1] * e_half, where=solid_behind)
            reached |= solid_behind
        here = empty_lut[tr[k]]
        plane = im[k]
        plane[here] += np.float32(alpha) * carried[here]
        n_empty += int(np.count_nonzero(here))
        n_lit += int(np.count_nonzero(here & reached))
        if k % 32 == 0:
            _report(progress, p0 + (p1 - p0) * (n - k) / n, "pore-back")
    return n_lit / n_empty if n_empty else 0.0


def _phase_moments(image, truth, ids: list[int], margin) -> dict[int, tuple[int, float, float]]:
    """Count, mean and variance of ``image`` over each label id of ``truth``, keeping only voxels
    whose box neighbourhood of half-width ``margin`` (voxels per axis) has the same label."""
    m = np.broadcast_to(np.asarray(margin, dtype=int), (3,))
    if np.any(m < 0):
        raise BadInput("measure_snr", f"margin {margin!r} is negative", "give margin >= 0 voxels")
    size = tuple(2 * m + 1)
    acc = {i: [0, 0.0, 0.0] for i in ids}
    n0 = truth.shape[0]
    for a, b in _axis_slices(n0, truth.shape[1] * truth.shape[2]):
        lo, hi = max(0, a - int(m[0])), min(n0, b + int(m[0]))
        t = truth[lo:hi]
        v = image[a:b].astype(np.float64)
        for i in ids:
            mask = t == i
            if np.any(m > 0):
                # erode: voxels within margin of another label (partial volume) are left out;
                # the volume's own faces do not count as a boundary
                mask = ndimage.minimum_filter(mask.view(np.uint8), size=size, mode="nearest").view(bool)
            x = v[mask[a - lo:b - lo]]
            acc[i][0] += x.size
            acc[i][1] += float(x.sum())
            acc[i][2] += float(np.dot(x, x))
    out = {}
    for i, (n, s, ss) in acc.items():
        mean = s / n if n else float("nan")
        out[i] = (n, mean, max(ss / n - mean * mean, 0.0) if n else float("nan"))
    return out


def measure_snr(image, truth, *, legend=None, margin=0) -> float:
    """SNR of ``image`` against its labels ``truth``: ``(mean_am - mean_pore) / sqrt((var_am +
    var_pore) / 2)`` over the am and pore voxels (the definition :func:`simulate_fibsem` uses).

    ``image``, ``truth``: arrays of the same shape [z, y, x] (any numeric image dtype; the ratio
    does not depend on the grey scale).  ``legend``: id -> phase name (default legend if None).
    ``margin``: voxels per axis (int or (z, y, x)) to erode each phase by before measuring, so
    that blurred interfaces (partial volume) do not count as noise.  Raises BadInput if either
    phase has no voxels left.
    """
    image = np.asarray(image)
    truth = np.asarray(truth)
    if image.shape != truth.shape or image.ndim != 3:
        raise BadInput("measure_snr", f"image {image.shape} and truth {truth.shape} differ or are not 3D",
                       "pass the image and the truth returned together")
    legend = DEFAULT_LEGEND if legend is None else legend
    ids = {n: i for i, n in legend.items()}
    if "am" not in ids or "pore" not in ids:
        raise BadInput("measure_snr", "the legend lacks 'am' or 'pore'", "pass a legend naming both")
    mom = _phase_moments(image, truth, [ids["am"], ids["pore"]], margin)
    (n_am, mu_am, var_am), (n_p, mu_p, var_p) = mom[ids["am"]], mom[ids["pore"]]
    if n_am == 0 or n_p == 0:
        raise BadInput("measure_snr", "the truth has no am or no pore voxels (after erosion by margin)",
                       "use a smaller margin or a volume with both phases")
    sd = math.sqrt((var_am + var_p) / 2.0)
    return (mu_am - mu_p) / sd if sd > 0 else float("inf")


def simulate_fibsem(labels, spacing, *, image_spacing=(0.1, 0.0152, 0.0152), slice_axis=None,
                    beam_axis=None, snr=8.0, seed=0, legend=None, grey_levels=None,
                    grain_contrast=0.04, grain_size_um=0.5, cbd_texture=0.08, cbd_texture_um=0.02,
                    psf_sigma_um="auto", noise_read_fraction=0.3,
                    curtaining=0.05, curtain_width_um=0.1, curtain_persistence_um=1.0,
                    drift=0.03, drift_smoothing_um=1.0,
                    pore_back=0.3, pore_back_depth_um=0.5, dtype="uint16", progress=None) -> dict:
    """Simulate a PFIB-SEM (backscatter) serial-section stack of a labelled microstructure.

    Parameters (lengths in um, strengths dimensionless; 0 or None switches an effect off):

    - ``labels``: integer array [z, y, x] (uint8 ids of ``legend``); ``spacing``: its voxel size
      (z, y, x) in um (a number for cubic voxels).
    - ``image_spacing``: image voxel size (z, y, x) in um; default 100 x 15.2 x 15.2 nm, the
      reference study's slice pitch and pixel.  Coarser voxels are fine for quick runs.
    - ``slice_axis``: FIB milling axis (0, 1, 2); default the axis of the largest image voxel
      (the first of equals).  ``beam_axis``: in-plane ion-beam direction (curtain stripes run
      along it); default the thickness axis z when it lies in the slice plane (the beam enters
      from the electrode's top face), else y.
    - ``snr``: requested SNR (see the module docstring for the definition); None or inf: no noise.
      ``noise_read_fraction``: share of the noise variance at mid grey that is signal-independent
      read noise (the rest is Poisson-like, variance proportional to the signal).
    - ``seed``: non-negative int; the output is a deterministic function of it.
    - ``legend``: id -> phase name (default legend).  ``grey_levels``: {phase name: level 0..1}
      overriding :data:`DEFAULT_GREY_LEVELS`.
    - ``grain_contrast``: std of the per-grain offset in the am phase, as a fraction of the am
      level; ``grain_size_um``: mean primary-grain diameter.
    - ``cbd_texture``: std of the CBD texture as a fraction of the CBD level;
      ``cbd_texture_um``: its correlation length (Gaussian sigma).
    - ``psf_sigma_um``: Gaussian point-spread sigmas (z, y, x) or one number; "auto": 0.03 um
      along the slice axis (backscatter information depth) and 0.01 um in the plane (beam spot).
    - ``curtaining``: std of the stripe offset as a fraction of the am - pore contrast;
      ``curtain_width_um``: stripe correlation width across the beam (Gaussian sigma);
      ``curtain_persistence_um``: how far along the slice axis the stripe pattern persists.
    - ``drift``: std of the per-slice gain about 1 (the offset's std is half of it, as a fraction
      of the contrast); ``drift_smoothing_um``: smoothing of the random walk along the slice axis.
    - ``pore_back``: fraction ``alpha`` of the solid's level that shows in an empty voxel right
      in front of it; ``pore_back_depth_um``: decay length of that signal with depth.
    - ``dtype``: "uint16" (default), "uint8" (0..1 -> full range, clipped) or "float32"
      (0..1 scale, not clipped).  ``progress``: callable(fraction, message) or None.

    Returns a dict:

    - ``image``: [z, y, x] array of ``dtype`` on the image grid, shape floor(extent / image_spacing);
    - ``truth``: uint8 labels on the image grid (nearest neighbour: the labels rendered);
    - ``report``: JSON-ready dict of everything used and measured: grid and axes, grey levels (0..1
      and in dtype units), noise parameters, requested and measured SNR (all voxels and phase
      interiors), measured phase means, per-slice drift gain and offset, pore-back reach,
      clipped fraction, grain count, wall time.
    """
    t_start = time.perf_counter()
    legend = dict(DEFAULT_LEGEND if legend is None else legend)
    spacing = _triple(spacing, "spacing", positive=True)
    image_spacing = _triple(image_spacing, "image_spacing", positive=True)
    labels = _check_labels(labels, legend)
    if dtype not in DTYPES:
        raise BadInput(_SRC, f"dtype {dtype!r} is not supported", "use one of " + ", ".join(DTYPES))
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise BadInput(_SRC, f"seed {seed!r} is not a non-negative integer", "give seed as an int >= 0")
    seed = int(seed)
    if slice_axis is None:
        slice_axis = int(np.argmax(image_spacing))
    if slice_axis not in (0, 1, 2):
        raise BadInput(_SRC, f"slice_axis {slice_axis!r} is not 0, 1 or 2", "give the milling axis (z=0, y=1, x=2)")
    if beam_axis is None:
        beam_axis = 0 if slice_axis != 0 else 1
    if beam_axis not in (0, 1, 2) or beam_axis == slice_axis:
        raise BadInput(_SRC, f"beam_axis {beam_axis!r} is not an axis in the slice plane",
                       f"give one of {[a for a in range(3) if a != slice_axis]}")
    across_axis = 3 - slice_axis - beam_axis
    snr_value = None if snr is None or (isinstance(snr, float) and math.isinf(snr)) else _strength(snr, "snr")
    if snr_value == 0:
        raise BadInput(_SRC, "snr 0 means pure noise", "give snr > 0, or None for no noise")
    read_fraction = _strength(noise_read_fraction, "noise_read_fraction")
    if read_fraction > 1:
        raise BadInput(_SRC, "noise_read_fraction is above 1", "give a fraction in 0..1")
    grain_contrast = _strength(grain_contrast, "grain_contrast")
    cbd_texture = _strength(cbd_texture, "cbd_texture")
    curtaining = _strength(curtaining, "curtaining")
    drift = _strength(drift, "drift")
    pore_back = _strength(pore_back, "pore_back")
    grain_size_um = _length(grain_size_um, "grain_size_um") if grain_contrast else grain_size_um
    cbd_texture_um = _length(cbd_texture_um, "cbd_texture_um") if cbd_texture else cbd_texture_um
    curtain_width_um = _length(curtain_width_um, "curtain_width_um") if curtaining else curtain_width_um
    curtain_persistence_um = _strength(curtain_persistence_um, "curtain_persistence_um")
    drift_smoothing_um = _strength(drift_smoothing_um, "drift_smoothing_um")
    pore_back_depth_um = _length(pore_back_depth_um, "pore_back_depth_um") if pore_back else pore_back_depth_um
    if isinstance(psf_sigma_um, str):
        if psf_sigma_um != "auto":
            raise BadInput(_SRC, f"psf_sigma_um {psf_sigma_um!r} is not understood",
                           "give 'auto', a number, (z, y, x) in um, or 0/None for no blur")
        psf = np.full(3, 0.01)
        psf[slice_axis] = 0.03
    elif psf_sigma_um is None:
        psf = np.zeros(3)
    else:
        psf = _triple(psf_sigma_um, "psf_sigma_um", positive=False)
    levels, lut, empty_lut = _legend_tables(legend, grey_levels)

    # --- image grid and truth (nearest neighbour, in slabs to bound the index temporaries)
    index = [_nearest_indices(n, s, s_img) for n, s, s_img in zip(labels.shape, spacing, image_spacing,
                                                                   strict=True)]
    shape = tuple(len(i) for i in index)
    if min(shape) < 1:
        raise BadInput(_SRC, f"the image grid would be empty (shape {shape}): image voxels larger than the "
                             f"labels' extent {np.round(np.asarray(labels.shape) * spacing, 4).tolist()} um",
                       "use a smaller image_spacing")
    truth = np.empty(shape, np.uint8)
    for a, b in _axis_slices(shape[0], shape[1] * shape[2]):
        truth[a:b] = labels[np.ix_(index[0][a:b], index[1], index[2])]
    _report(progress, 0.05, "truth on the image grid")

    contrast = levels["am"] - levels["pore"]
    img = np.empty(shape, np.float32)
    info = _render_clean(truth, lut, legend, levels, image_spacing, grain_contrast=grain_contrast,
                         grain_size_um=grain_size_um, cbd_texture=cbd_texture,
                         cbd_texture_um=cbd_texture_um, seed=seed, out=img, progress=progress,
                         p0=0.05, p1=0.35)

    pore_back_reach = 0.0
    if pore_back > 0:
        pore_back_reach = _add_pore_back(img, truth, empty_lut, slice_axis, float(image_spacing[slice_axis]),
                                         pore_back, pore_back_depth_um, progress, 0.35, 0.45)

    psf_vox = psf / image_spacing
    if np.any(psf_vox > 0):
        ndimage.gaussian_filter(img, psf_vox, output=img, mode="nearest")  # in place: line buffers
    _report(progress, 0.55, "blur")

    n_slices = shape[slice_axis]
    ds = float(image_spacing[slice_axis])
    curtain = np.zeros((1, 1, 1), np.float32)
    if curtaining > 0:
        field = _rng(seed, _K_CURTAIN).standard_normal((n_slices, shape[across_axis]))
        field = ndimage.gaussian_filter(field, (curtain_persistence_um / ds,
                                                curtain_width_um / image_spacing[across_axis]), mode="reflect")
        field -= field.mean()
        sd = field.std()
        field = field / sd if sd > 0 else field * 0
        # axes (slice, beam, across) -> their places in [z, y, x]; constant along the beam
        curtain = np.moveaxis((curtaining * contrast * field).astype(np.float32)[:, None, :],
                              [0, 1, 2], [slice_axis, beam_axis, across_axis])
    gain = np.ones(n_slices)
    offset = np.zeros(n_slices)
    if drift > 0:
        rng = _rng(seed, _K_DRIFT)
        gain = np.maximum(1.0 + drift * _smooth_random_1d(rng, n_slices, drift_smoothing_um / ds), 0.1)
        offset = 0.5 * drift * contrast * _smooth_random_1d(rng, n_slices, drift_smoothing_um / ds)
    gain3 = _along(gain.astype(np.float32), slice_axis)
    offset3 = _along(offset.astype(np.float32), slice_axis)

    # noise: var(s) = shot * s + read, with var(mid) = (contrast / snr)^2 and read = fraction of it
    if snr_value is not None:
        mid = 0.5 * (levels["am"] + levels["pore"])
        sigma_mid = contrast / snr_value
        read_var = read_fraction * sigma_mid ** 2
        shot = (1.0 - read_fraction) * sigma_mid ** 2 / mid if mid > 0 else 0.0
    else:
        sigma_mid = read_var = shot = 0.0

    scale = 1.0 if dtype == "float32" else float(np.iinfo(np.dtype(dtype)).max)
    image = np.empty(shape, np.dtype(dtype))
    n_clipped = 0
    slabs = _axis_slices(shape[0], shape[1] * shape[2])
    for n_done, (a, b) in enumerate(slabs):
        v = img[a:b]
        v *= _slab(gain3, a, b)
        v += _slab(offset3, a, b)
        v += _slab(curtain, a, b)
        if snr_value is not None:
            sd = np.maximum(v * np.float32(shot) + np.float32(read_var), 0)
            np.sqrt(sd, out=sd)
            noise = np.empty(v.shape, np.float32)
            for k in range(a, b):  # per-plane streams: independent of the slab size
                _rng(seed, _K_NOISE, k).standard_normal(shape[1:], dtype=np.float32, out=noise[k - a])
            v += sd * noise
            del sd, noise
        if dtype == "float32":
            image[a:b] = v
        else:
            n_clipped += int(np.count_nonzero((v < 0) | (v > 1)))
            v *= np.float32(scale)
            np.rint(v, out=v)
            np.clip(v, 0, scale, out=v)
            image[a:b] = v
        _report(progress, 0.55 + 0.3 * (n_done + 1) / len(slabs), "curtaining, drift, noise")
    del img

    # --- measurements on the output, against the truth
    ids = {n: i for i, n in legend.items()}
    interior = np.ceil(3.0 * psf_vox).astype(int)
    moments = _phase_moments(image, truth, sorted(legend), 0)
    _report(progress, 0.93, "measuring")

    def snr_of(mom):
        if "am" not in ids or "pore" not in ids:
            return None
        (n1, m1, v1), (n2, m2, v2) = mom[ids["am"]], mom[ids["pore"]]
        if not n1 or not n2:
            return None
        sd_ = math.sqrt((v1 + v2) / 2.0)
        return (m1 - m2) / sd_ if sd_ > 0 else None

    snr_all = snr_of(moments)
    if np.any(interior > 0) and "am" in ids and "pore" in ids:
        snr_interior = snr_of(_phase_moments(image, truth, [ids["am"], ids["pore"]], interior))
    else:
        snr_interior = snr_all
    _report(progress, 1.0, "done")

    used_levels = {legend[i]: levels[legend[i]] for i in sorted(legend)}
    rep = {
        "image_shape": list(shape),
        "image_spacing_um": image_spacing.tolist(),
        "label_spacing_um": spacing.tolist(),
        "image_origin_offset_um": (image_spacing / 2 - spacing / 2).tolist(),
        "slice_axis": slice_axis, "beam_axis": beam_axis, "across_axis": across_axis,
        "legend": {str(k): v for k, v in sorted(legend.items())},
        "dtype": dtype, "dtype_scale": scale,
        "grey_levels": used_levels,
        "grey_levels_dtype": {k: (v if dtype == "float32" else float(np.rint(v * scale)))
                              for k, v in used_levels.items()},
        "contrast": contrast,
        "snr_definition": SNR_DEFINITION,
        "snr_requested": snr_value,
        "snr_measured": snr_all,
        "snr_measured_interior": snr_interior,
        "interior_margin_vox": interior.tolist(),
        "noise_sigma_mid": sigma_mid, "noise_read_sigma": math.sqrt(read_var),
        "noise_shot_coefficient": shot, "noise_read_fraction": read_fraction,
        "phase_means_dtype": {legend[i]: mom[1] for i, mom in moments.items() if mom[0]},
        "phase_std_dtype": {legend[i]: math.sqrt(mom[2]) for i, mom in moments.items() if mom[0]},
        "grain_contrast": grain_contrast, "grain_size_um": grain_size_um,
        "grain_count": info["grain_count"], "grain_grid_factor": info["grain_grid_factor"],
        "cbd_texture": cbd_texture, "cbd_texture_um": cbd_texture_um,
        "cbd_texture_sigma_vox": info["cbd_texture_sigma_vox"],
        "psf_sigma_um": psf.tolist(), "psf_sigma_vox": psf_vox.tolist(),
        "pore_back": pore_back, "pore_back_depth_um": pore_back_depth_um,
        "pore_back_reach_fraction": pore_back_reach,
        "curtaining": curtaining, "curtain_amplitude": curtaining * contrast,
        "curtain_width_um": curtain_width_um, "curtain_persistence_um": curtain_persistence_um,
        "drift": drift, "drift_smoothing_um": drift_smoothing_um,
        "drift_gain": gain.tolist(), "drift_offset": offset.tolist(),
        "clipped_fraction": n_clipped / image.size,
        "seed": seed,
        "wall_s": time.perf_counter() - t_start,
    }
    return {"image": image, "truth": truth, "report": rep}
