"""The default segmentation chain: a FIB-SEM / X-ray CT greyscale stack -> phase labels.

:func:`segment_image` runs, in this order (each step its own module; every parameter that
depends on the instrument — grey levels, noise, stripe direction, pore-back strength and reach —
is estimated from the image):

1. optional slice alignment (phase correlation; off by default: most stacks come registered);
2. curtaining removal (:func:`~electrovox.filters.image.corrections.destripe`; beam axis
   estimated);
3. slice-to-slice brightness drift (:func:`~electrovox.filters.image.corrections.normalise_drift`);
4. denoising (default: a bilateral filter, spatial sigma 1.5 finest pixels, range sigma twice the
   noise estimated on the image: it averages within a phase and not across its edges, so thin
   dark cracks and thin CBD films survive where a median or Gaussian erodes them);
5. grey levels: a Gaussian mixture on the histogram (:mod:`~electrovox.filters.image.levels`);
6. pore-back correction along the slice axis (:mod:`~electrovox.filters.image.poreback`);
7. pore / CBD / active material by markers and watershed (:mod:`~electrovox.filters.image.segment`);
8. cracks: dark regions enclosed by particles (:mod:`~electrovox.filters.image.cracks`);
9. optional resampling of the labels to cubic voxels by majority (:mod:`~electrovox.filters.image.resample`).

Memory: the input is converted to float32 once; at most about three float32 copies of the volume
and a few uint8/bool/int32 volumes are alive at a time (the watershed's int32 markers and output).
"""

from __future__ import annotations

import time

import numpy as np

from electrovox.errors import BadInput
from electrovox.progress import report
from electrovox.volume import spacing_array

#: phase sets the segmentation supports (names of the default legend)
PHASE_SETS = {
    ("pore", "cbd", "am", "crack"), ("pore", "cbd", "am"), ("pore", "am"), ("pore", "am", "crack"),
}
METHODS = ("classic",)
DENOISERS = ("default", "gaussian", "median", "bilateral", "nlm", "none")


def parse_phases(phases) -> tuple[str, ...]:
    """``"pore,cbd,am,crack"`` or a sequence of names -> a checked tuple in legend order."""
    names = [p.strip() for p in (phases.split(",") if isinstance(phases, str) else phases) if p.strip()]
    order = ("pore", "cbd", "am", "crack")
    got = tuple(p for p in order if p in names)
    if set(names) != set(got) or got not in PHASE_SETS:
        raise BadInput("--phases", f"{','.join(names)} is not a supported phase set",
                       "use pore,cbd,am,crack (default), pore,cbd,am, pore,am,crack or pore,am (lab X-ray CT)")
    return got


def _sub(progress, a: float, b: float):
    """A progress callback for the part [a, b] of the whole."""
    if progress is None:
        return None
    return lambda f, m=None: progress(a + (b - a) * f, m)


def default_denoise(image, spacing, progress=None) -> np.ndarray:
    """The chain's denoiser (float32): a bilateral filter with the defaults of
    :func:`~electrovox.filters.image.denoise.denoise` (spatial sigma 1.5 finest pixels in um on
    every axis, range sigma 2 x the noise estimated from the image).

    Why not the median + Gaussian of the first version: a 3 x 3 median flips the end voxels of
    one- to three-pixel-wide cracks and the corners of thin CBD films to the surrounding phase,
    and the Gaussian spreads every edge; on the phantoms of ``benchmarks/segmentation.py`` the
    bilateral filter raised IoU pore+crack from 0.915-0.926 to 0.946-0.963 and IoU CBD from
    0.81-0.86 to 0.88-0.93 at SNR >= 6, at the same run time."""
    from electrovox.filters.image.denoise import denoise
    return denoise(image, spacing, "bilateral", progress=progress)


STEPS = ("destripe", "drift", "align", "denoise", "pore-back")


def run_step(image, spacing, step: str, *, method: str = "default", slice_axis: int | None = None,
             progress=None) -> tuple[np.ndarray, np.ndarray | None]:
    """One step of the chain on its own: ``step`` in :data:`STEPS`; ``method``: the denoiser for
    "denoise"; ``slice_axis``: default the axis of the largest voxel.  Returns (float32 image,
    bool mask of corrected voxels for "pore-back", else None)."""
    from electrovox.filters.image import corrections
    if step not in STEPS:
        raise BadInput("step", f"{step!r} is not an image step", "use one of " + ", ".join(STEPS))
    if method not in DENOISERS:
        raise BadInput("--denoise", f"{method!r} is not a denoiser", "use one of " + ", ".join(DENOISERS))
    sp = tuple(float(v) for v in spacing_array(spacing))
    axis = int(np.argmax(sp)) if slice_axis is None else int(slice_axis)
    img = np.asarray(image)
    if img.ndim == 2:
        img = img[np.newaxis]
    img = img.astype(np.float32)
    if step == "destripe":
        return corrections.destripe(img, sp, slice_axis=axis, progress=progress)[0], None
    if step == "drift":
        return corrections.normalise_drift(img, slice_axis=axis, n_classes=3, progress=progress)[0], None
    if step == "align":
        return corrections.align_slices(img, slice_axis=axis, progress=progress)[0], None
    if step == "denoise":
        if method == "none":
            return img, None
        if method == "default":
            return default_denoise(img, sp, progress=progress), None
        from electrovox.filters.image.denoise import denoise
        return denoise(img, sp, method, progress=progress), None
    from electrovox.filters.image.levels import estimate_levels
    from electrovox.filters.image.poreback import correct_pore_back
    res = correct_pore_back(img, estimate_levels(img, 3), slice_axis=axis, progress=progress)
    return res["image"], res["mask"]


def segment_image(image, spacing, *, method: str = "classic", phases="pore,cbd,am,crack",
                  slice_axis: int | None = None, beam_axis: int | None = None, align: bool = False,
                  destripe: bool = True, drift: bool = True, denoise: str = "default",
                  pore_back: bool = True, pore_back_reverse: bool = False, crack_max_width_um: float | None = None,
                  resample_um: float | None = None, keep_corrected: bool = False, progress=None) -> dict:
    """Segment a greyscale stack [z, y, x] (or one slice [y, x]) into the default legend's labels.

    ``spacing``: voxel size (z, y, x) in um.  ``phases``: "pore,cbd,am,crack" (default),
    "pore,cbd,am", "pore,am,crack" or "pore,am" (two-phase mode for lab X-ray CT).
    ``slice_axis``: FIB milling axis (default: the axis of the largest voxel, the first of
    equals); ``beam_axis``: curtain direction (default: estimated).  ``align``, ``destripe``,
    ``drift``, ``pore_back``: switch the steps (pore-back correction needs three phases and more
    than one slice; ``pore_back_reverse``: milling toward smaller indices).  ``denoise``: one of
    "default", "gaussian", "median", "bilateral", "nlm", "none".  ``crack_max_width_um``: see
    :func:`~electrovox.filters.image.cracks.find_cracks`.  ``resample_um``: cubic voxel size of
    the output labels (majority resampling), None: the image grid.

    Returns a dict: ``labels`` (uint8, legend 0 pore, 1 cbd, 2 am, 3 crack), ``spacing`` and
    ``origin_shift_um`` of the labels' grid (z, y, x; the shift of the first voxel's centre from
    the image's), ``pore_back_mask`` (bool on the image grid, or None), ``corrected`` (the
    corrected, denoised float32 image if ``keep_corrected``), ``report`` (JSON-ready: steps,
    estimated levels, stripe and drift figures, pore-back excess and reach, fractions, timings).
    """
    t_all = time.perf_counter()
    if method not in METHODS:
        raise BadInput("--method", f"{method!r} is not a segmentation method", "use " + ", ".join(METHODS))
    if denoise not in DENOISERS:
        raise BadInput("--denoise", f"{denoise!r} is not a denoiser", "use one of " + ", ".join(DENOISERS))
    names = parse_phases(phases)
    sp = tuple(float(v) for v in spacing_array(spacing))
    img = np.asarray(image)
    if img.ndim == 2:
        img = img[np.newaxis]
    if img.ndim != 3 or img.size == 0:
        raise BadInput("image", f"has shape {img.shape}", "give a 3D stack [z, y, x] or one 2D slice")
    if img.dtype.kind not in "uif":
        raise BadInput("image", f"has dtype {img.dtype}", "give a greyscale image of integers or floats")
    img = img.astype(np.float32, copy=True)
    if not np.all(np.isfinite(img)):
        raise BadInput("image", "contains NaN or infinite values", "replace them (e.g. by the pore level) first")
    if slice_axis is None:
        slice_axis = int(np.argmax(sp))
    if slice_axis not in (0, 1, 2):
        raise BadInput("--slice-axis", f"{slice_axis!r} is not 0, 1 or 2", "give the milling axis (z=0, y=1, x=2)")
    stack = img.shape[slice_axis] > 1
    rep: dict = {"method": method, "phases": list(names), "spacing_um": list(sp), "shape": list(img.shape),
                 "slice_axis": "zyx"[slice_axis], "steps": [], "timings_s": {}}

    def step(name, t0):
        rep["steps"].append(name)
        rep["timings_s"][name] = round(time.perf_counter() - t0, 3)

    from electrovox.filters.image import corrections
    if align and stack:
        t0 = time.perf_counter()
        img, shifts = corrections.align_slices(img, slice_axis=slice_axis, progress=_sub(progress, 0, 0.05))
        rep["alignment_max_shift_px"] = float(np.abs(shifts).max()) if shifts.size else 0.0
        step("align", t0)
    if destripe:
        t0 = time.perf_counter()
        img, info = corrections.destripe(img, sp, slice_axis=slice_axis, beam_axis=beam_axis,
                                         progress=_sub(progress, 0.05, 0.15))
        rep["destripe"] = {k: info[k] for k in ("beam_axis", "beam_axis_estimated", "stripe_rms") if k in info}
        step("destripe", t0)
    if drift and stack:
        t0 = time.perf_counter()
        img, info = corrections.normalise_drift(img, slice_axis=slice_axis, n_classes=3 if "cbd" in names else 2,
                                                progress=_sub(progress, 0.15, 0.2))
        g = np.asarray(info.get("gain", [1.0]), dtype=np.float64)
        rep["drift"] = {"gain_min": float(g.min()), "gain_max": float(g.max())}
        step("drift", t0)
    if denoise != "none":
        t0 = time.perf_counter()
        if denoise == "default":
            img = default_denoise(img, sp, progress=_sub(progress, 0.2, 0.45))
        else:
            from electrovox.filters.image.denoise import denoise as run_denoise
            img = run_denoise(img, sp, denoise, progress=_sub(progress, 0.2, 0.45))
        step(f"denoise:{denoise}", t0)
    from electrovox.filters.image.levels import estimate_levels
    three = "cbd" in names
    levels = estimate_levels(img, 3 if three else 2)
    rep["levels"] = {k: [float(v) for v in levels[k]] for k in ("means", "stds", "weights", "thresholds")}
    mask = None
    if pore_back and three and stack:
        t0 = time.perf_counter()
        from electrovox.filters.image.poreback import correct_pore_back
        pb = correct_pore_back(img, levels, slice_axis=slice_axis, reverse=pore_back_reverse,
                               progress=_sub(progress, 0.45, 0.55))
        img, mask = pb["image"], pb["mask"]
        rep["pore_back"] = {"excess": pb["excess"], "reach_slices": pb["reach_slices"],
                            "corrected_fraction": pb["corrected_fraction"]}
        del pb                                          # its image is ``img`` now: one copy alive
        step("pore_back", t0)
    t0 = time.perf_counter()
    from electrovox.filters.image.segment import segment_phases
    seg = segment_phases(img, sp, phases=("pore", "cbd", "am") if three else ("pore", "am"), levels=levels,
                         progress=_sub(progress, 0.55, 0.85))
    labels = seg["labels"]
    step("segment", t0)
    corrected = img if keep_corrected else None
    del img
    if "crack" in names:
        t0 = time.perf_counter()
        from electrovox.filters.image.cracks import find_cracks
        labels = find_cracks(labels, sp, max_width_um=crack_max_width_um, progress=_sub(progress, 0.85, 0.95))
        step("cracks", t0)
    out_sp, shift = sp, (0.0, 0.0, 0.0)
    if resample_um is not None:
        t0 = time.perf_counter()
        from electrovox.filters.image.resample import resample_labels
        labels, out_sp, shift = resample_labels(labels, sp, resample_um, method="majority",
                                                progress=_sub(progress, 0.95, 1.0))
        out_sp, shift = tuple(float(v) for v in out_sp), tuple(float(v) for v in shift)
        step("resample", t0)
    n = labels.size
    counts = np.bincount(labels.reshape(-1), minlength=4)
    rep["fractions"] = {name: float(counts[i]) / n for i, name in enumerate(("pore", "cbd", "am", "crack"))
                        if name in names}
    particles = counts[2] + counts[3]
    rep["crack_fraction_of_particles"] = float(counts[3] / particles) if particles and "crack" in names else None
    rep["output_spacing_um"] = list(out_sp)
    rep["output_shape"] = list(labels.shape)
    rep["wall_s"] = round(time.perf_counter() - t_all, 3)
    report(progress, 1.0, "done")
    return {"labels": labels, "spacing": out_sp, "origin_shift_um": shift, "pore_back_mask": mask,
            "corrected": corrected, "report": rep}
