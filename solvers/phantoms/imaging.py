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

Settings.  Every setting is a field of the frozen dataclass :class:`FibsemConfig` (lengths in
um, strengths dimensionless); :func:`simulate_fibsem` takes ``config=FibsemConfig(...)`` and/or
the fields as keywords.  Axes are ``"z"``, ``"y"``, ``"x"`` or the indices 0, 1, 2 of the
``(z, y, x)`` array axes; the report gives them as indices.

Memory: the truth (1 byte/voxel), one float32 working image and the output, plus slabs of a few
million voxels and the coarse grain grid: about 7 bytes per output voxel for uint16 output plus
about 0.1 GB (1.1 GB peak for 512^3; about 16 s on 2 cores).  The peak is estimated from the
image grid before anything is allocated, and a simulation that cannot fit in the available
memory is refused (BadInput naming ``image_spacing``; see :func:`electrovox.memory.require`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace

import numpy as np
from scipy import ndimage

from electrovox.errors import BadInput
from electrovox.memory import require
from electrovox.phases import DEFAULT_LEGEND, PHASES
from electrovox.progress import report as _report
from electrovox.solvers._axes import ARRAY_AXES, array_axis

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
    """Sum of squared weights of scipy's discrete Gaussian kernel.

    That is the variance a unit white noise keeps after filtering with it (1 for sigma 0).
    """
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
    counts = np.zeros(256, np.int64)
    for lo, hi in _axis_slices(a.shape[0], a.shape[1] * a.shape[2]):  # bincount casts to intp: by slabs
        counts += np.bincount(a[lo:hi].reshape(-1), minlength=256)
    present = np.flatnonzero(counts)
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
    """A smooth random walk of n steps (cumulative Gaussian steps, Gaussian-smoothed).

    Zero mean, unit standard deviation (zeros for n == 1).
    """
    w = np.cumsum(rng.standard_normal(n))
    if sigma > 0:
        w = ndimage.gaussian_filter1d(w, sigma, mode="nearest")
    w -= w.mean()
    sd = w.std()
    return w / sd if sd > 0 else np.zeros(n)


def _grain_factor(image_spacing, grain_size_um: float) -> np.ndarray:
    """Per-axis coarsening of the grain grid: about d/8 voxels, never finer than the image."""
    spacing = np.asarray(image_spacing, np.float64)
    return np.maximum(1, np.floor(grain_size_um / (8.0 * spacing))).astype(int)


def _grain_offsets(shape, image_spacing, grain_size_um: float, seed: int):
    """Primary-grain offsets (unit std, float32) on a coarse grid, and the per-axis coarsening.

    Grains are the Voronoi cells of Poisson seed points (one per grain volume, pi/6 d^3), found
    exactly on a grid at about d/8 (never finer than the image) with a Euclidean feature
    transform; the grain map is then sampled onto the image grid by nearest neighbour.  The
    coarse grid keeps the cost at a few seconds for 512^3 images; grain boundaries are stepped
    at that grid's scale, below the typical ~0.5 um grain size.
    """
    spacing = np.asarray(image_spacing, np.float64)
    factor = _grain_factor(spacing, grain_size_um)
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
    """Count, mean and variance of ``image`` over each label id of ``truth``.

    Only voxels whose box neighbourhood of half-width ``margin`` (voxels per axis) has the same
    label are kept.
    """
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
    """Signal-to-noise ratio of an image against its labels, as :func:`simulate_fibsem` defines it.

    ``SNR = (mean_am - mean_pore) / sqrt((var_am + var_pore) / 2)`` over the am and pore voxels
    of ``truth``.

    Parameters
    ----------
    image : (nz, ny, nx) array
        Greyscale image ``[z, y, x]``, any numeric dtype (the ratio does not depend on the grey
        scale).
    truth : (nz, ny, nx) integer array
        The labels of the image voxels (same shape as ``image``).
    legend : dict {int: str}, optional
        Label id -> phase name; default ``electrovox.phases.DEFAULT_LEGEND``.
    margin : int or (3,) ints, voxels
        Erosion of each phase per axis (z, y, x) before measuring, so that blurred interfaces
        (partial volume) do not count as noise.

    Returns
    -------
    float
        The SNR (dimensionless; inf for an image without within-phase variance).

    Raises
    ------
    BadInput
        Shapes that differ or are not 3D, a legend without 'am' or 'pore', a negative margin, or
        no am or no pore voxel left after the erosion.

    Examples
    --------
    >>> import numpy as np
    >>> truth = np.zeros((4, 4, 4), np.uint8)
    >>> truth[:, :, 2:] = 2                                    # am
    >>> rng = np.random.default_rng(0)
    >>> image = np.where(truth == 2, 0.75, 0.2) + rng.normal(0, 0.05, truth.shape)
    >>> round(measure_snr(image, truth), 1)          # (0.75 - 0.2) / 0.05 = 11 expected
    12.3
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


# --------------------------------------------------------------------------------------------
# settings


@dataclass(frozen=True)
class FibsemConfig:
    """Settings of :func:`simulate_fibsem`: image grid, phases, texture, optics, artefacts, noise.

    Lengths are in micrometres (um), strengths are dimensionless; a strength of 0 (or None)
    switches its effect off.  Axes are ``"z"``, ``"y"``, ``"x"`` or the indices 0, 1, 2 of the
    ``(z, y, x)`` array axes.  The values are checked when the config is made (BadInput);
    :func:`dataclasses.replace` makes a changed copy.

    Parameters
    ----------
    image_spacing : float or (3,) floats, um
        *Image grid.*  Image voxel size (dz, dy, dx); one number for cubic voxels.  Default
        100 x 15.2 x 15.2 nm, the reference study's slice pitch and pixel; coarser voxels are fine
        for quick runs.
    slice_axis : {"z", "y", "x", 0, 1, 2} or None
        *Acquisition geometry.*  FIB milling axis (images are planes normal to it; milling runs
        towards larger indices).  None: the axis of the largest image voxel (the first of equals).
    beam_axis : {"z", "y", "x", 0, 1, 2} or None
        In-plane ion-beam direction (the image's vertical; curtain stripes run along it).  None:
        the thickness axis z when it lies in the slice plane (the beam enters from the
        electrode's top face), else y.
    legend : dict {int: str} or None
        *Phases.*  Label id -> phase name; None: ``electrovox.phases.DEFAULT_LEGEND``.
    grey_levels : dict {str: float} or None
        Backscatter grey level per phase name (0..1), overriding :data:`DEFAULT_GREY_LEVELS`.
    grain_contrast : float, dimensionless
        *Material texture.*  Std of the per-grain (channelling) offset in the am phase, as a
        fraction of the am level.
    grain_size_um : float, um
        Mean primary-grain diameter (> 0 when ``grain_contrast`` > 0).
    cbd_texture : float, dimensionless
        Std of the nanoporous CBD texture, as a fraction of the CBD level.
    cbd_texture_um : float, um
        Correlation length (Gaussian sigma) of the CBD texture (> 0 when ``cbd_texture`` > 0).
    psf_sigma_um : "auto", float, (3,) floats or None, um
        *Optics.*  Gaussian point-spread sigmas (z, y, x) or one number; "auto": 0.03 um along
        the slice axis (backscatter information depth) and 0.01 um in the plane (beam spot);
        None or 0: no blur.
    pore_back : float, dimensionless
        *Artefacts.*  Fraction ``alpha`` of a solid's level that shows in an empty voxel (pore,
        crack) right in front of it along the slice axis.
    pore_back_depth_um : float, um
        Decay length of the pore-back signal with depth (> 0 when ``pore_back`` > 0).
    curtaining : float, dimensionless
        Std of the curtain-stripe offset, as a fraction of the am - pore contrast.
    curtain_width_um : float, um
        Stripe correlation width across the beam (Gaussian sigma; > 0 when ``curtaining`` > 0).
    curtain_persistence_um : float, um
        How far along the slice axis the stripe pattern persists (Gaussian sigma, >= 0).
    drift : float, dimensionless
        Std of the per-slice gain about 1 (the per-slice offset's std is half of it, as a
        fraction of the contrast).
    drift_smoothing_um : float, um
        Smoothing (Gaussian sigma, >= 0) of the drift's random walk along the slice axis.
    snr : float or None, dimensionless
        *Noise and output.*  Requested signal-to-noise ratio (definition in the module
        docstring, :data:`SNR_DEFINITION`); None or inf: no noise.
    noise_read_fraction : float, 0..1
        Share of the noise variance at mid grey that is signal-independent read noise (the rest
        is Poisson-like, with a variance proportional to the signal).
    dtype : {"uint16", "uint8", "float32"}
        Output type: the 0..1 scale mapped onto the full unsigned range (clipped), or float32
        on the 0..1 scale (not clipped).
    seed : int
        Non-negative; the image is a deterministic function of it.

    Raises
    ------
    BadInput
        A value out of range (the message names the field).

    Examples
    --------
    >>> cfg = FibsemConfig(image_spacing=0.1, slice_axis="x", snr=None)
    >>> cfg.slice_axis, cfg.dtype
    ('x', 'uint16')
    >>> FibsemConfig(curtaining=-1)
    Traceback (most recent call last):
    ...
    electrovox.errors.BadInput: simulate_fibsem: curtaining -1 is negative or not finite. ...
    """

    # image grid and acquisition geometry
    image_spacing: float | tuple[float, float, float] = (0.1, 0.0152, 0.0152)
    slice_axis: int | str | None = None
    beam_axis: int | str | None = None
    # phases and grey levels
    legend: Mapping[int, str] | None = None
    grey_levels: Mapping[str, float] | None = None
    # material texture
    grain_contrast: float = 0.04
    grain_size_um: float = 0.5
    cbd_texture: float = 0.08
    cbd_texture_um: float = 0.02
    # optics
    psf_sigma_um: str | float | tuple[float, float, float] | None = "auto"
    # acquisition artefacts
    pore_back: float = 0.3
    pore_back_depth_um: float = 0.5
    curtaining: float = 0.05
    curtain_width_um: float = 0.1
    curtain_persistence_um: float = 1.0
    drift: float = 0.03
    drift_smoothing_um: float = 1.0
    # detector noise and output
    snr: float | None = 8.0
    noise_read_fraction: float = 0.3
    dtype: str = "uint16"
    seed: int = 0

    def __post_init__(self):
        """Check every field (BadInput naming it)."""
        _resolve(self)


@dataclass
class _Settings:
    """A :class:`FibsemConfig` checked and in working form (arrays, ints, lookup tables)."""

    legend: dict
    image_spacing: np.ndarray
    slice_axis: int
    beam_axis: int
    across_axis: int
    snr_value: float | None
    read_fraction: float
    grain_contrast: float
    grain_size_um: float
    cbd_texture: float
    cbd_texture_um: float
    curtaining: float
    curtain_width_um: float
    curtain_persistence_um: float
    drift: float
    drift_smoothing_um: float
    pore_back: float
    pore_back_depth_um: float
    psf: np.ndarray
    levels: dict
    lut: np.ndarray
    empty_lut: np.ndarray
    dtype: str
    seed: int

    @property
    def contrast(self) -> float:
        """Grey-level difference am - pore (0..1 scale)."""
        return self.levels["am"] - self.levels["pore"]


def _fold_config(config, settings: dict) -> FibsemConfig:
    """``config`` (default :class:`FibsemConfig`) with the keyword ``settings`` replacing its fields."""
    if config is None:
        config = FibsemConfig()
    elif not isinstance(config, FibsemConfig):
        raise BadInput(_SRC, f"config {config!r} is not a FibsemConfig", "pass config=FibsemConfig(...) or keywords")
    names = {f.name for f in fields(FibsemConfig)}
    unknown = sorted(set(settings) - names)
    if unknown:
        raise TypeError(f"simulate_fibsem() got an unexpected keyword argument {unknown[0]!r}")
    return replace(config, **settings) if settings else config


def _resolve(cfg: FibsemConfig) -> _Settings:
    """Check a config and put it in working form; BadInput names the field at fault."""
    legend = dict(DEFAULT_LEGEND if cfg.legend is None else cfg.legend)
    image_spacing = _triple(cfg.image_spacing, "image_spacing", positive=True)
    dtype = cfg.dtype
    if dtype not in DTYPES:
        raise BadInput(_SRC, f"dtype {dtype!r} is not supported", "use one of " + ", ".join(DTYPES))
    seed = cfg.seed
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise BadInput(_SRC, f"seed {seed!r} is not a non-negative integer", "give seed as an int >= 0")
    seed = int(seed)
    if cfg.slice_axis is None:
        slice_axis = int(np.argmax(image_spacing))
    else:
        slice_axis = array_axis(cfg.slice_axis, "slice_axis", _SRC)
    if cfg.beam_axis is None:
        beam_axis = 0 if slice_axis != 0 else 1
    else:
        beam_axis = array_axis(cfg.beam_axis, "beam_axis", _SRC)
        if beam_axis == slice_axis:
            raise BadInput(_SRC, f"beam_axis {cfg.beam_axis!r} is not an axis in the slice plane",
                           f"give one of {[ARRAY_AXES[a] for a in range(3) if a != slice_axis]}")
    snr = cfg.snr
    snr_value = None if snr is None or (isinstance(snr, float) and math.isinf(snr)) else _strength(snr, "snr")
    if snr_value == 0:
        raise BadInput(_SRC, "snr 0 means pure noise", "give snr > 0, or None for no noise")
    read_fraction = _strength(cfg.noise_read_fraction, "noise_read_fraction")
    if read_fraction > 1:
        raise BadInput(_SRC, "noise_read_fraction is above 1", "give a fraction in 0..1")
    grain_contrast = _strength(cfg.grain_contrast, "grain_contrast")
    cbd_texture = _strength(cfg.cbd_texture, "cbd_texture")
    curtaining = _strength(cfg.curtaining, "curtaining")
    drift = _strength(cfg.drift, "drift")
    pore_back = _strength(cfg.pore_back, "pore_back")
    # a length whose effect is off is kept as given (and reported so)
    grain_size_um = _length(cfg.grain_size_um, "grain_size_um") if grain_contrast else cfg.grain_size_um
    cbd_texture_um = _length(cfg.cbd_texture_um, "cbd_texture_um") if cbd_texture else cfg.cbd_texture_um
    curtain_width_um = _length(cfg.curtain_width_um, "curtain_width_um") if curtaining else cfg.curtain_width_um
    curtain_persistence_um = _strength(cfg.curtain_persistence_um, "curtain_persistence_um")
    drift_smoothing_um = _strength(cfg.drift_smoothing_um, "drift_smoothing_um")
    pore_back_depth_um = (_length(cfg.pore_back_depth_um, "pore_back_depth_um") if pore_back
                          else cfg.pore_back_depth_um)
    psf_sigma_um = cfg.psf_sigma_um
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
    levels, lut, empty_lut = _legend_tables(legend, cfg.grey_levels)
    return _Settings(legend=legend, image_spacing=image_spacing, slice_axis=slice_axis, beam_axis=beam_axis,
                     across_axis=3 - slice_axis - beam_axis, snr_value=snr_value, read_fraction=read_fraction,
                     grain_contrast=grain_contrast, grain_size_um=grain_size_um, cbd_texture=cbd_texture,
                     cbd_texture_um=cbd_texture_um, curtaining=curtaining, curtain_width_um=curtain_width_um,
                     curtain_persistence_um=curtain_persistence_um, drift=drift,
                     drift_smoothing_um=drift_smoothing_um, pore_back=pore_back,
                     pore_back_depth_um=pore_back_depth_um, psf=psf, levels=levels, lut=lut,
                     empty_lut=empty_lut, dtype=dtype, seed=seed)


# --------------------------------------------------------------------------------------------
# the steps of simulate_fibsem


def _image_grid(labels: np.ndarray, spacing: np.ndarray, st: _Settings):
    """Per-axis label index of each image voxel, and the image shape (BadInput if empty)."""
    index = [_nearest_indices(n, s, s_img) for n, s, s_img in zip(labels.shape, spacing, st.image_spacing,
                                                                   strict=True)]
    shape = tuple(len(i) for i in index)
    if min(shape) < 1:
        raise BadInput(_SRC, f"the image grid would be empty (shape {shape}): image voxels larger than the "
                             f"labels' extent {np.round(np.asarray(labels.shape) * spacing, 4).tolist()} um",
                       "use a smaller image_spacing")
    return index, shape


def _peak_bytes(shape, st: _Settings) -> int:
    """Estimated peak memory (bytes) of a simulation on an image grid of ``shape``.

    Held whole: the truth (1 byte/voxel) and the float32 working image (4), then the output
    (``dtype``'s size) while the working image is finished slab by slab.  Before the output
    exists, the grain step holds a coarse grid of about 21 bytes per coarse voxel (seeds, the
    feature transform's three int32 index arrays, the grain map).  Slab temporaries (float32 and
    float64 copies, masks) take about 24 bytes per voxel of one slab, plus the CBD texture's
    halo planes.  Measured with tracemalloc on 256^3 images: 11.1 bytes/voxel peak for uint16
    without grains (estimate 12.7), 25.4 with grains on the full grid (estimate 31.7).
    """
    n = int(np.prod(shape, dtype=np.int64))
    plane = int(shape[1]) * int(shape[2])
    slab = min(int(shape[0]), max(1, _SLAB_VOXELS // max(plane, 1))) * plane
    grains = 0
    if st.grain_contrast > 0 and "am" in st.legend.values():
        factor = _grain_factor(st.image_spacing, st.grain_size_um)
        coarse = int(np.prod([-(-int(m) // int(f)) for m, f in zip(shape, factor, strict=True)], dtype=np.int64))
        grains = 21 * coarse
    halo = 0
    if st.cbd_texture > 0 and "cbd" in st.legend.values():
        halo = 4 * 2 * _gauss_radius(st.cbd_texture_um / float(st.image_spacing[0])) * plane
    return 5 * n + max(np.dtype(st.dtype).itemsize * n, grains) + 24 * slab + halo


def _check_memory(shape, st: _Settings) -> None:
    """BadInput naming ``image_spacing`` when the simulation cannot fit in memory."""
    n = float(np.prod(shape, dtype=np.float64))
    require(_peak_bytes(shape, st), "image_spacing",
            f"a {' x '.join(str(int(m)) for m in shape)} {st.dtype} image ({n / 1e6:.4g} M voxels, its truth "
            "and a float32 working copy)",
            "use a larger image_spacing, or simulate a sub-volume of the labels")


def _truth_on_grid(labels: np.ndarray, index, shape, progress) -> np.ndarray:
    """The labels each image voxel is rendered from (nearest neighbour, in slabs)."""
    truth = np.empty(shape, np.uint8)
    for a, b in _axis_slices(shape[0], shape[1] * shape[2]):
        truth[a:b] = labels[np.ix_(index[0][a:b], index[1], index[2])]
    _report(progress, 0.05, "truth on the image grid")
    return truth


def _blur(img: np.ndarray, st: _Settings, progress) -> np.ndarray:
    """Stage 3, in place: the Gaussian point spread; returns its sigmas in image voxels."""
    psf_vox = st.psf / st.image_spacing
    if np.any(psf_vox > 0):
        ndimage.gaussian_filter(img, psf_vox, output=img, mode="nearest")  # in place: line buffers
    _report(progress, 0.55, "blur")
    return psf_vox


def _curtain_field(shape, st: _Settings) -> np.ndarray:
    """Stage 4a: curtain stripes, float32 broadcastable to ``shape`` (constant along the beam)."""
    curtain = np.zeros((1, 1, 1), np.float32)
    if st.curtaining > 0:
        n_slices = shape[st.slice_axis]
        ds = float(st.image_spacing[st.slice_axis])
        field = _rng(st.seed, _K_CURTAIN).standard_normal((n_slices, shape[st.across_axis]))
        field = ndimage.gaussian_filter(field, (st.curtain_persistence_um / ds,
                                                st.curtain_width_um / st.image_spacing[st.across_axis]),
                                        mode="reflect")
        field -= field.mean()
        sd = field.std()
        field = field / sd if sd > 0 else field * 0
        # axes (slice, beam, across) -> their places in [z, y, x]; constant along the beam
        curtain = np.moveaxis((st.curtaining * st.contrast * field).astype(np.float32)[:, None, :],
                              [0, 1, 2], [st.slice_axis, st.beam_axis, st.across_axis])
    return curtain


def _drift(n_slices: int, st: _Settings) -> tuple[np.ndarray, np.ndarray]:
    """Stage 4b: per-slice gain and offset (float64, one per slice)."""
    gain = np.ones(n_slices)
    offset = np.zeros(n_slices)
    if st.drift > 0:
        ds = float(st.image_spacing[st.slice_axis])
        rng = _rng(st.seed, _K_DRIFT)
        gain = np.maximum(1.0 + st.drift * _smooth_random_1d(rng, n_slices, st.drift_smoothing_um / ds), 0.1)
        offset = 0.5 * st.drift * st.contrast * _smooth_random_1d(rng, n_slices, st.drift_smoothing_um / ds)
    return gain, offset


def _noise_model(st: _Settings) -> tuple[float, float, float]:
    """Stage 5's variance ``shot * s + read``: (sigma at mid grey, read variance, shot coefficient).

    ``var(mid) = (contrast / snr)^2`` and the read variance is ``noise_read_fraction`` of it.
    """
    if st.snr_value is None:
        return 0.0, 0.0, 0.0
    mid = 0.5 * (st.levels["am"] + st.levels["pore"])
    sigma_mid = st.contrast / st.snr_value
    read_var = st.read_fraction * sigma_mid ** 2
    shot = (1.0 - st.read_fraction) * sigma_mid ** 2 / mid if mid > 0 else 0.0
    return sigma_mid, read_var, shot


def _acquire(img, st: _Settings, curtain, gain, offset, read_var, shot, progress):
    """Stages 4-6 slab by slab: drift, curtaining, noise, quantisation; (image, scale, clipped voxels).

    ``img`` (float32, the clean blurred image) is used as the working buffer.
    """
    shape = img.shape
    gain3 = _along(gain.astype(np.float32), st.slice_axis)
    offset3 = _along(offset.astype(np.float32), st.slice_axis)
    dtype = st.dtype
    scale = 1.0 if dtype == "float32" else float(np.iinfo(np.dtype(dtype)).max)
    image = np.empty(shape, np.dtype(dtype))
    n_clipped = 0
    slabs = _axis_slices(shape[0], shape[1] * shape[2])
    for n_done, (a, b) in enumerate(slabs):
        v = img[a:b]
        v *= _slab(gain3, a, b)
        v += _slab(offset3, a, b)
        v += _slab(curtain, a, b)
        if st.snr_value is not None:
            sd = np.maximum(v * np.float32(shot) + np.float32(read_var), 0)
            np.sqrt(sd, out=sd)
            noise = np.empty(v.shape, np.float32)
            for k in range(a, b):  # per-plane streams: independent of the slab size
                _rng(st.seed, _K_NOISE, k).standard_normal(shape[1:], dtype=np.float32, out=noise[k - a])
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
    return image, scale, n_clipped


def _measure(image, truth, legend, psf_vox, progress) -> dict:
    """Phase moments and the measured SNR (all voxels, and phase interiors clear of the blur)."""
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
    return {"moments": moments, "snr": snr_all, "snr_interior": snr_interior, "interior": interior}


def _report_dict(st: _Settings, *, shape, spacing, scale, measured, psf_vox, noise, info, pore_back_reach,
                 gain, offset, n_clipped, n_voxels, t_start) -> dict:
    """The JSON-ready record of everything used and measured."""
    legend, levels, dtype = st.legend, st.levels, st.dtype
    sigma_mid, read_var, shot = noise
    moments = measured["moments"]
    used_levels = {legend[i]: levels[legend[i]] for i in sorted(legend)}
    return {
        "image_shape": list(shape),
        "image_spacing_um": st.image_spacing.tolist(),
        "label_spacing_um": spacing.tolist(),
        "image_origin_offset_um": (st.image_spacing / 2 - spacing / 2).tolist(),
        "slice_axis": st.slice_axis, "beam_axis": st.beam_axis, "across_axis": st.across_axis,
        "legend": {str(k): v for k, v in sorted(legend.items())},
        "dtype": dtype, "dtype_scale": scale,
        "grey_levels": used_levels,
        "grey_levels_dtype": {k: (v if dtype == "float32" else float(np.rint(v * scale)))
                              for k, v in used_levels.items()},
        "contrast": st.contrast,
        "snr_definition": SNR_DEFINITION,
        "snr_requested": st.snr_value,
        "snr_measured": measured["snr"],
        "snr_measured_interior": measured["snr_interior"],
        "interior_margin_vox": measured["interior"].tolist(),
        "noise_sigma_mid": sigma_mid, "noise_read_sigma": math.sqrt(read_var),
        "noise_shot_coefficient": shot, "noise_read_fraction": st.read_fraction,
        "phase_means_dtype": {legend[i]: mom[1] for i, mom in moments.items() if mom[0]},
        "phase_std_dtype": {legend[i]: math.sqrt(mom[2]) for i, mom in moments.items() if mom[0]},
        "grain_contrast": st.grain_contrast, "grain_size_um": st.grain_size_um,
        "grain_count": info["grain_count"], "grain_grid_factor": info["grain_grid_factor"],
        "cbd_texture": st.cbd_texture, "cbd_texture_um": st.cbd_texture_um,
        "cbd_texture_sigma_vox": info["cbd_texture_sigma_vox"],
        "psf_sigma_um": st.psf.tolist(), "psf_sigma_vox": psf_vox.tolist(),
        "pore_back": st.pore_back, "pore_back_depth_um": st.pore_back_depth_um,
        "pore_back_reach_fraction": pore_back_reach,
        "curtaining": st.curtaining, "curtain_amplitude": st.curtaining * st.contrast,
        "curtain_width_um": st.curtain_width_um, "curtain_persistence_um": st.curtain_persistence_um,
        "drift": st.drift, "drift_smoothing_um": st.drift_smoothing_um,
        "drift_gain": gain.tolist(), "drift_offset": offset.tolist(),
        "clipped_fraction": n_clipped / n_voxels,
        "seed": st.seed,
        "wall_s": time.perf_counter() - t_start,
    }


def simulate_fibsem(labels, spacing, *, config: FibsemConfig | None = None, progress=None, **settings) -> dict:
    """Simulate a PFIB-SEM (backscatter) serial-section stack of a labelled microstructure.

    The image formation steps, their order and the SNR definition are described in the module
    docstring; every setting is a field of :class:`FibsemConfig`.

    Parameters
    ----------
    labels : (nz, ny, nx) integer array
        Label volume ``[z, y, x]`` (uint8 ids of the legend; other integer types within 0..255
        are accepted).
    spacing : float or (3,) floats, um
        Voxel size (dz, dy, dx) of ``labels``; one number for cubic voxels.
    config : FibsemConfig, optional
        All settings; default ``FibsemConfig()``.
    progress : callable, optional
        ``progress(fraction, message)``, called as the work proceeds.
    **settings
        Any :class:`FibsemConfig` field (``image_spacing``, ``snr``, ``seed``, ``slice_axis``,
        ``pore_back``, ``curtaining``, ``drift``, ...), replacing that field of ``config``.

    Returns
    -------
    dict
        ``image``: (mz, my, mx) array of ``dtype`` on the image grid, ``m = floor(extent /
        image_spacing)`` per axis; ``truth``: uint8 (mz, my, mx) labels on the image grid (nearest
        neighbour: the labels rendered); ``report``: JSON-ready dict of everything used and
        measured: grid and axes (as indices of the (z, y, x) array axes), grey levels (0..1 and in
        dtype units), noise parameters, requested and measured SNR (all voxels and phase
        interiors), measured phase means, per-slice drift gain and offset, pore-back reach,
        clipped fraction, grain count, wall time (s).

    Raises
    ------
    BadInput
        Labels that are not a non-empty 3D integer array of legend ids; a setting out of range;
        an empty image grid; an image that cannot fit in the available memory (names
        ``image_spacing``).
    TypeError
        A keyword that is not a :class:`FibsemConfig` field.

    Examples
    --------
    >>> import numpy as np
    >>> labels = np.zeros((8, 8, 8), np.uint8)
    >>> labels[:, :, 4:] = 2                       # am on the right half, pore on the left
    >>> out = simulate_fibsem(labels, 0.1, image_spacing=(0.1, 0.05, 0.05), snr=8.0, seed=1,
    ...                       slice_axis="z")
    >>> out["image"].shape, out["image"].dtype, out["report"]["slice_axis"]
    ((8, 16, 16), dtype('uint16'), 0)
    >>> bool((out["truth"][:, :, 8:] == 2).all())
    True
    >>> cfg = FibsemConfig(image_spacing=0.1, snr=None, pore_back=0.0, curtaining=0.0, drift=0.0,
    ...                    grain_contrast=0.0, psf_sigma_um=None, dtype="float32")
    >>> clean = simulate_fibsem(labels, 0.1, config=cfg)["image"]
    >>> float(clean[0, 0, 0]), float(clean[0, 0, 7])
    (0.2..., 0.75)
    """
    t_start = time.perf_counter()
    st = _resolve(_fold_config(config, settings))
    spacing = _triple(spacing, "spacing", positive=True)
    labels = _check_labels(labels, st.legend)
    index, shape = _image_grid(labels, spacing, st)
    _check_memory(shape, st)

    truth = _truth_on_grid(labels, index, shape, progress)
    img = np.empty(shape, np.float32)
    info = _render_clean(truth, st.lut, st.legend, st.levels, st.image_spacing, grain_contrast=st.grain_contrast,
                         grain_size_um=st.grain_size_um, cbd_texture=st.cbd_texture,
                         cbd_texture_um=st.cbd_texture_um, seed=st.seed, out=img, progress=progress,
                         p0=0.05, p1=0.35)
    pore_back_reach = 0.0
    if st.pore_back > 0:
        pore_back_reach = _add_pore_back(img, truth, st.empty_lut, st.slice_axis,
                                         float(st.image_spacing[st.slice_axis]), st.pore_back,
                                         st.pore_back_depth_um, progress, 0.35, 0.45)
    psf_vox = _blur(img, st, progress)
    curtain = _curtain_field(shape, st)
    gain, offset = _drift(shape[st.slice_axis], st)
    noise = _noise_model(st)
    image, scale, n_clipped = _acquire(img, st, curtain, gain, offset, noise[1], noise[2], progress)
    del img

    measured = _measure(image, truth, st.legend, psf_vox, progress)
    _report(progress, 1.0, "done")
    rep = _report_dict(st, shape=shape, spacing=spacing, scale=scale, measured=measured, psf_vox=psf_vox,
                       noise=noise, info=info, pore_back_reach=pore_back_reach, gain=gain, offset=offset,
                       n_clipped=n_clipped, n_voxels=image.size, t_start=t_start)
    return {"image": image, "truth": truth, "report": rep}
