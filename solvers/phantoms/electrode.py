"""A synthetic labelled electrode: packed NMC particles, cracks inside them, CBD in the pores.

:func:`generate_electrode` assembles :func:`~electrovox.solvers.phantoms.packing.pack_particles`,
:func:`~electrovox.solvers.phantoms.cracks.crack_particles` and
:func:`~electrovox.solvers.phantoms.cbd.place_cbd` into a uint8 label volume with the default
legend (0 pore, 1 cbd, 2 am, 3 crack, 4 separator, 5 collector), optionally between a current
collector (z = 0 side) and a separator (top) layer, and reports targets against what it made.

Defaults follow the pristine NMC811 cathode of the reference study (Zhang, Chouchane et al.,
Joule 2023): 58 % NMC, 9 % CBD, 4 % cracks, 29 % pores, secondary particles of D50 ~ 10 um.
All fractions are fractions of the electrode (the separator and collector layers excluded).
"""

from __future__ import annotations

import math
import time

import numpy as np

from electrovox.errors import BadInput
from electrovox.memory import require
from electrovox.phases import PHASES, label_counts
from electrovox.progress import report
from electrovox.solvers.phantoms.packing import DEFAULT_PSD_SIGMA, measure_particle_sizes, pack_particles

_ID = {name: v[0] for name, v in PHASES.items()}
DEFAULT_SHAPE = (128, 128, 128)

#: Peak memory of :func:`generate_electrode` per voxel of the whole volume (bytes).  Measured as
#: the growth of the peak resident set size (``resource.getrusage(RUSAGE_SELF).ru_maxrss`` after
#: the call minus before it, imports done, one fresh process per case) over nine cases: 96^3 to
#: 256^3 voxels, 0.25-0.5 um voxels, d50 2-10 um, slurry and dry CBD, periodic, a gradient, 8 %
#: cracks, separator and collector layers.  Largest: 46.0 bytes/voxel (160^3 at 0.5 um, d50
#: 10 um, gradient and 8 % cracks: the crack step's per-boundary-voxel tables and the packing's
#: float32 + int32 rasterisation buffers dominate); tracemalloc's peak of numpy's allocations
#: agreed within 10 % (43.8).  56 leaves 20 % above the largest measurement.
PEAK_BYTES_PER_VOXEL = 56
#: Peak memory per particle (bytes): positions, axes, Verlet pair lists and k-d trees of the
#: packing.  Measured as above on 128^3 voxels of 0.5 um with d50 = 2 um (24 019 particles):
#: 62.6 bytes/voxel against 45 for few particles, i.e. about 1.5 kB per particle; 4 kB is used.
PEAK_BYTES_PER_PARTICLE = 4096
#: Fixed part (bytes): a grid narrower than two of the largest particles is cut from a larger
#: periodic packing, whose window search samples about 2.6e5 points against their neighbours
#: (measured: 0.16 GB for a 64^3 grid of 0.5 um voxels with d50 = 10 um; 0.29 GB peak RSS growth
#: in all for that case).
PEAK_BYTES_FIXED = 300_000_000


def _sub(progress, a, b):
    """Progress callback mapping a stage's [0, 1] onto [a, b] of the whole."""
    if progress is None:
        return None
    return lambda f, msg=None: report(progress, a + (b - a) * float(f), msg)


def _grid(shape, spacing, size_um):
    try:
        spacing = tuple(float(v) for v in spacing)
    except (TypeError, ValueError):
        raise BadInput("spacing", f"{spacing!r} is not three voxel sizes in um (z, y, x)",
                       "give e.g. spacing=(0.5, 0.5, 0.5)") from None
    if len(spacing) != 3 or not all(math.isfinite(s) and s > 0 for s in spacing):
        raise BadInput("spacing", f"{spacing} is not three positive voxel sizes in um (z, y, x)",
                       "give e.g. spacing=(0.5, 0.5, 0.5)")
    from_size = None
    if size_um is not None:
        try:
            size = tuple(float(v) for v in size_um)
        except (TypeError, ValueError):
            size = ()
        if len(size) != 3 or not all(math.isfinite(s) and s > 0 for s in size):
            raise BadInput("size_um", f"{size_um!r} is not three positive lengths in um (z, y, x)",
                           "give e.g. size_um=(64, 64, 64)")
        ratios = [s / d for s, d in zip(size, spacing, strict=True)]
        if not all(math.isfinite(r) for r in ratios):
            raise BadInput("size_um", f"size_um {tuple(size)} at spacing {spacing} is not a countable number of "
                           "voxels", "give a larger spacing (voxel size) or a smaller size_um")
        from_size = tuple(max(1, int(round(r))) for r in ratios)   # Python ints: no overflow
    if shape is None:
        shape = from_size if from_size is not None else DEFAULT_SHAPE
    try:
        shape = tuple(int(v) for v in shape)
    except (TypeError, ValueError):
        shape = ()
    if len(shape) != 3 or min(shape) < 1:
        raise BadInput("shape", f"{shape!r} is not three positive voxel counts (z, y, x)", "give e.g. (128, 128, 128)")
    if from_size is not None and from_size != shape:
        raise BadInput("shape/size_um", f"shape {shape} and size_um {tuple(size_um)} (= {from_size} voxels) disagree",
                       "give one of them")
    return shape, spacing


def _count_text(n: int) -> str:
    """A voxel count for people: '262 144 voxels', '64 G voxels', '1e+21 voxels'."""
    if n < 10**6:
        return f"{n:,} voxels".replace(",", " ")
    for unit, scale in (("M", 10**6), ("G", 10**9), ("T", 10**12)):
        if n < 1000 * scale:
            return f"{n / scale:.3g} {unit} voxels"
    return f"{float(n):.3g} voxels"


def _mean_cube_um3(d50_um, psd_sigma, psd_weighting, diameters_um) -> float:
    """E[d^3] (um^3) of the particle diameters: a log-normal's closed form, or the user's list.

    The packing truncates the log-normal at +-2.5 sigma, which lowers E[d^3] by a few percent:
    the particle count estimated from this value is a little low, well inside the margins of
    :data:`PEAK_BYTES_PER_PARTICLE`.
    """
    if diameters_um is not None:
        d = np.asarray(diameters_um, float).ravel()
        return float(np.mean(d ** 3))
    sigma = DEFAULT_PSD_SIGMA if psd_sigma is None else float(psd_sigma)
    # number-weighted log-normal: E[d^3] = d50^3 exp(4.5 s^2); volume-weighted d50 is the number
    # median times exp(3 s^2), so E[d^3] = d50^3 exp(-4.5 s^2)
    sign = -1.0 if psd_weighting == "volume" else 1.0
    return float(d50_um) ** 3 * math.exp(sign * 4.5 * sigma * sigma)


def peak_bytes(shape, spacing, *, solid_fraction=0.62, d50_um=10.0, psd_sigma=None, psd_weighting="number",
               diameters_um=None) -> int:
    """Estimated peak memory of :func:`generate_electrode` on a grid, before anything is allocated.

    Parameters
    ----------
    shape : tuple of int
        Voxels ``(nz, ny, nx)`` of the whole volume (Python ints: no overflow for any size).
    spacing : tuple of float
        Voxel size ``(dz, dy, dx)`` in um.
    solid_fraction : float
        Particle volume fraction (active material plus cracks).
    d50_um, psd_sigma, psd_weighting, diameters_um
        The particle size distribution, as for :func:`generate_electrode`.

    Returns
    -------
    int
        Bytes: :data:`PEAK_BYTES_PER_VOXEL` per voxel, :data:`PEAK_BYTES_PER_PARTICLE` per
        expected particle and :data:`PEAK_BYTES_FIXED`.

    Examples
    --------
    >>> peak_bytes((128, 128, 128), (0.5, 0.5, 0.5)) / 1e9 < 1
    True
    """
    n_vox = math.prod(int(n) for n in shape)
    volume_um3 = math.prod(float(n) * float(h) for n, h in zip(shape, spacing, strict=True))
    try:
        ev3 = _mean_cube_um3(d50_um, psd_sigma, psd_weighting, diameters_um)
        n_part = float(solid_fraction) * volume_um3 / (math.pi / 6.0 * ev3) if ev3 > 0 else 0.0
    except (TypeError, ValueError, OverflowError):
        n_part = 0.0  # bad size arguments: pack_particles reports them
    if not math.isfinite(n_part):
        n_part = 0.0
    return int(PEAK_BYTES_PER_VOXEL * n_vox + PEAK_BYTES_PER_PARTICLE * n_part + PEAK_BYTES_FIXED)


def _gradient_for_packing(active_gradient, active, cracks):
    """The particle-fraction profile (AM + cracks) for pack_particles, from the AM profile."""
    if active_gradient is None:
        return None
    ratio = (active + cracks) / active   # cracks are a share of each particle: scale with AM
    if callable(active_gradient):
        return lambda z: np.asarray(active_gradient(z), float) * ratio
    try:
        tab = np.asarray(active_gradient, float)
    except (TypeError, ValueError):
        tab = np.zeros(0)
    if tab.shape == (2,):             # (a, b): linear from the collector side to the separator side
        return [(0.0, tab[0] * ratio), (1.0, tab[1] * ratio)]
    if tab.ndim == 2 and tab.shape[1] == 2 and tab.shape[0] >= 2:
        return [(float(z), float(v) * ratio) for z, v in tab]
    raise BadInput("active_gradient", f"{active_gradient!r} is not (a, b), a (z_frac, fraction) table or a callable",
                   "give e.g. (0.55, 0.61) for a linear AM fraction from the collector to the separator side")


def _jsonable(v):
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, np.ndarray):
        return _jsonable(v.tolist())
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if callable(v):
        return f"callable {getattr(v, '__name__', type(v).__name__)}"
    return v


def _largest_aggregate(mask):
    """(share of the largest 6-connected component, number of components) of a boolean mask."""
    from scipy import ndimage

    if not mask.any():
        return 0.0, 0
    lab, n = ndimage.label(mask)
    sizes = np.bincount(lab.ravel())[1:]
    return float(sizes.max() / sizes.sum()), int(n)


def generate_electrode(shape=None, spacing=(0.5, 0.5, 0.5), *, size_um=None, seed=0, active=0.58, cbd=0.09,
                       cracks=0.04, cbd_morphology="slurry", d50_um=10.0, psd_sigma=None, psd_weighting="number",
                       diameters_um=None, max_overlap=0.2, aspect_range=(0.85, 1.0), crack_min_width_vox=2,
                       active_gradient=None, separator_um=0.0, collector_um=0.0, periodic=False,
                       progress=None) -> dict:
    """A synthetic labelled NMC electrode with known ground truth.

    Parameters
    ----------
    shape : (nz, ny, nx) voxels of the whole volume (layers included); or give ``size_um``.
        Default (128, 128, 128).
    spacing : (dz, dy, dx) voxel size in um (anisotropic allowed).
    size_um : (z, y, x) size in um; ``shape = round(size_um / spacing)``.
    seed : int; the whole volume is deterministic from it.
    active, cbd, cracks : volume fractions of the electrode (AM, carbon-binder, cracks); the
        pore fraction is the rest.
    cbd_morphology : ``"slurry"`` or ``"dry"`` (see :mod:`electrovox.solvers.phantoms.cbd`).
    d50_um, psd_sigma, psd_weighting, diameters_um, max_overlap, aspect_range : particle sizes and
        packing, see :func:`~electrovox.solvers.phantoms.packing.pack_particles`.
    crack_min_width_vox : cracks are at least this many voxels (of the coarsest axis) wide.
    active_gradient : None; ``(a, b)``: AM fraction linear from ``a`` at the collector side to
        ``b`` at the separator side; a table of ``(z_frac, am_fraction)`` rows; or a callable
        ``f(z_um) -> am_fraction`` (z from the electrode's collector-side face).  The profile is
        scaled so that its mean is ``active``.
    separator_um, collector_um : thickness of a separator layer on top (high z, id 4) and of a
        current-collector layer at the bottom (z = 0, id 5); rounded to whole voxels.
    periodic : particles and CBD wrap around the lateral (x, y) faces.
    progress : optional callable ``progress(fraction, message)``.

    Returns
    -------
    dict with ``labels`` (uint8 [z, y, x], default legend), ``particles`` (int32 [z, y, x],
    particle ids, 0 outside particles; crack voxels keep their particle's id; 0 in the layers),
    ``centres_um`` (N, 3) and ``radii_um`` (N,) of particle ids 1..N in the coordinates of the
    whole volume (voxel (k, j, i) centred at (k dz, j dy, i dx)), and ``report`` (JSON-ready dict:
    parameters, geometry, targets, achieved fractions of the electrode, particle sizes requested
    and achieved, CBD connectivity, z-profile, timings).

    Raises
    ------
    BadInput
        For arguments out of range, and before anything is allocated when the volume cannot fit
        in the memory available (:func:`peak_bytes` against
        :func:`electrovox.memory.available_bytes`; the message names ``size_um`` when the box was
        given that way, else ``shape``, with the voxel count, the memory needed and available).
    """
    t_start = time.perf_counter()
    shape, spacing = _grid(shape, spacing, size_um)
    for name, v in (("active", active), ("cbd", cbd), ("cracks", cracks)):
        if not (isinstance(v, (int, float, np.floating)) and math.isfinite(float(v)) and 0.0 <= float(v) < 1.0):
            raise BadInput(name, f"fraction {v!r} is outside [0, 1)", "give a volume fraction such as 0.58")
    active, cbd, cracks = float(active), float(cbd), float(cracks)
    if active <= 0.0:
        raise BadInput("active", "the active-material fraction must be positive", "give e.g. active=0.58")
    if active + cbd + cracks >= 0.95:
        raise BadInput("active/cbd/cracks", f"fractions sum to {active + cbd + cracks:.3f}, leaving no pores",
                       "keep active + cbd + cracks below 0.95")
    if cbd_morphology not in ("slurry", "dry"):
        raise BadInput("cbd_morphology", f"unknown morphology '{cbd_morphology}'", "use 'slurry' or 'dry'")
    for name, v in (("separator_um", separator_um), ("collector_um", collector_um)):
        if not (math.isfinite(float(v)) and float(v) >= 0):
            raise BadInput(name, f"thickness {v!r} is negative or not a number", "give a thickness in um, or 0")
    hz = spacing[0]
    n_col = int(round(float(collector_um) / hz))
    n_sep = int(round(float(separator_um) / hz))
    nz_e = shape[0] - n_col - n_sep
    if nz_e < 1:
        raise BadInput("separator_um/collector_um", f"the layers take {n_col + n_sep} of {shape[0]} slices",
                       "make the volume thicker or the layers thinner")
    e_shape = (nz_e, shape[1], shape[2])
    # refuse before any allocation what cannot fit in memory (Python ints: no overflow)
    n_vox = math.prod(shape)
    size_text = " x ".join(f"{n * h:.6g}" for n, h in zip(shape, spacing, strict=True))
    vox_text = f"{spacing[0]:g}" if len(set(spacing)) == 1 else " x ".join(f"{h:g}" for h in spacing)
    require(peak_bytes(shape, spacing, solid_fraction=active + cracks, d50_um=d50_um, psd_sigma=psd_sigma,
                       psd_weighting=psd_weighting, diameters_um=diameters_um),
            "size_um" if size_um is not None else "shape",
            f"a {size_text} um box at {vox_text} um voxels "
            f"({' x '.join(map(str, shape))} = {_count_text(n_vox)})",
            "give a larger spacing (voxel size) or a smaller size_um" if size_um is not None
            else "give a smaller shape, or a larger spacing and the box as size_um")
    seeds = [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(int(seed)).spawn(3)]
    timing = {}

    # ---- particles (AM + cracks), then cracks inside them, then CBD in the pore space
    t = time.perf_counter()
    report(progress, 0.0, "packing particles")
    pack = pack_particles(e_shape, spacing, active + cracks, seed=seeds[0], d50_um=d50_um, psd_sigma=psd_sigma,
                          psd_weighting=psd_weighting, diameters_um=diameters_um, max_overlap=max_overlap,
                          aspect_range=aspect_range, gradient=_gradient_for_packing(active_gradient, active, cracks),
                          periodic=periodic, progress=_sub(progress, 0.0, 0.55))
    timing["packing_s"] = time.perf_counter() - t
    particles = pack["particles"]
    solid = particles > 0

    t = time.perf_counter()
    if cracks > 0.0:
        from electrovox.solvers.phantoms.cracks import crack_particles
        crack = crack_particles(particles, pack["centres_um"], pack["radii_um"], spacing, target_fraction=cracks,
                                min_width_vox=crack_min_width_vox, seed=seeds[1],
                                progress=_sub(progress, 0.55, 0.8))
        crack = np.asarray(crack, bool) & solid   # cracks lie inside particles, by contract
    else:
        crack = np.zeros(e_shape, bool)
    timing["cracks_s"] = time.perf_counter() - t

    t = time.perf_counter()
    if cbd > 0.0:
        from electrovox.solvers.phantoms.cbd import place_cbd
        cbd_mask = place_cbd(solid, spacing, target_fraction=cbd, morphology=cbd_morphology, seed=seeds[2],
                             periodic=periodic, progress=_sub(progress, 0.8, 0.95))
        cbd_mask = np.asarray(cbd_mask, bool) & ~solid   # CBD lies in the pore space, by contract
    else:
        cbd_mask = np.zeros(e_shape, bool)
    timing["cbd_s"] = time.perf_counter() - t
    report(progress, 0.95, "assembling labels")

    # ---- labels: electrode between the collector (bottom) and the separator (top)
    t = time.perf_counter()
    labels = np.full(shape, _ID["pore"], np.uint8)
    el = slice(n_col, n_col + nz_e)
    if nz_e == shape[0]:
        ids = particles                  # no layers: no second int32 volume
    else:
        ids = np.zeros(shape, np.int32)
        ids[el] = particles
    e_lab = labels[el]
    e_lab[solid] = _ID["am"]
    e_lab[crack] = _ID["crack"]
    e_lab[cbd_mask] = _ID["cbd"]
    labels[:n_col] = _ID["collector"]
    labels[n_col + nz_e:] = _ID["separator"]
    centres = pack["centres_um"] + np.array([n_col * hz, 0.0, 0.0])

    # ---- report: fractions over the electrode only
    counts = label_counts(e_lab)
    n_e = float(e_lab.size)
    frac = {name: float(counts[i] / n_e) if i < counts.size else 0.0
            for name, i in _ID.items() if name in ("pore", "cbd", "am", "crack")}
    targets = {"am": active, "cbd": cbd, "crack": cracks, "pore": 1.0 - active - cbd - cracks}
    sizes = measure_particle_sizes(particles, spacing, periodic=periodic)
    share, n_agg = _largest_aggregate(cbd_mask)
    # z-profile of the AM, CBD and pore fractions on slabs about d50/2 thick
    d_med = float(np.median(diameters_um)) if diameters_um is not None else float(d50_um)
    n_slab = max(1, min(nz_e, int(round(nz_e * hz / max(hz, 0.5 * d_med)))))
    which = np.minimum((np.arange(nz_e) * n_slab) // nz_e, n_slab - 1)
    per_layer = {name: np.count_nonzero(e_lab == _ID[name], axis=(1, 2)) / float(shape[1] * shape[2])
                 for name in ("am", "cbd", "pore", "crack")}
    norm = np.bincount(which, minlength=n_slab)
    prof = {"z_um": ((np.bincount(which, np.arange(nz_e), minlength=n_slab) / norm + 0.5) * hz).round(4)}
    for name, v in per_layer.items():
        prof[name] = (np.bincount(which, v, minlength=n_slab) / norm).round(5)
    pp = pack["profile"]
    am_target = np.interp(prof["z_um"], pp["z_um"], pp["target"]) * active / (active + cracks)
    prof["am_target"] = am_target.round(5)
    timing["report_s"] = time.perf_counter() - t
    timing["total_s"] = time.perf_counter() - t_start

    rep = {
        "generator": "electrovox.solvers.phantoms.electrode.generate_electrode",
        "parameters": {
            "shape": shape, "spacing_um": spacing, "seed": int(seed), "active": active, "cbd": cbd,
            "cracks": cracks, "cbd_morphology": cbd_morphology, "d50_um": d50_um,
            "psd_sigma": DEFAULT_PSD_SIGMA if psd_sigma is None else psd_sigma,
            "psd_weighting": psd_weighting,
            "diameters_um": None if diameters_um is None else np.asarray(diameters_um, float).ravel(),
            "max_overlap": max_overlap, "aspect_range": aspect_range, "crack_min_width_vox": crack_min_width_vox,
            "active_gradient": active_gradient, "separator_um": separator_um, "collector_um": collector_um,
            "periodic": bool(periodic), "sub_seeds": {"packing": seeds[0], "cracks": seeds[1], "cbd": seeds[2]},
        },
        "geometry": {
            "shape": shape, "spacing_um": spacing, "size_um": [n * s for n, s in zip(shape, spacing, strict=True)],
            "electrode_slices": [n_col, n_col + nz_e], "electrode_thickness_um": nz_e * hz,
            "collector_um": n_col * hz, "separator_um": n_sep * hz,
        },
        "fractions_of": "electrode (separator and collector layers excluded)",
        "targets": targets,
        "fractions": frac,
        "particles": {
            "count": int(pack["radii_um"].size),
            "measured_uncut": sizes["n_measured"],
            "psd_weighting_requested": pack["psd_weighting"],
            "psd_requested": pack["psd_requested"],
            "psd_achieved": sizes["psd"],
            "psd_achieved_method": "volume-equivalent diameters from the id map (crack voxels included) of "
                                   "particles touching no non-periodic face, Miles-Lantuejoul edge-corrected; "
                                   "'number' weights each particle once, 'volume' by its volume",
            "psd_distribution": "lognormal" if diameters_um is None else "user list",
            "radius_scale": pack["radius_scale"],
            "max_overlap": pack["max_overlap"],
            "max_overlap_achieved": pack["max_overlap_achieved"],
            "relaxation": pack["relaxation"],
            "gradient_scale": pack["gradient_scale"],
        },
        "cbd": {"largest_aggregate_share": share, "aggregates": n_agg, "connectivity": "6 (faces)"},
        "profile": prof,
        "timing": timing,
    }
    report(progress, 1.0, "electrode ready")
    return {"labels": labels, "particles": ids, "centres_um": centres, "radii_um": pack["radii_um"],
            "report": _jsonable(rep)}
