"""The default segmentation chain: a FIB-SEM / X-ray CT greyscale stack -> phase labels.

:func:`segment_image` runs, in this order (each step its own module; every parameter that
depends on the instrument — grey levels, noise, stripe direction, pore-back strength and reach —
is estimated from the image):

1. the kind of data: FIB-SEM-like (slice pitch clearly coarser than the in-plane pixels, or
   ``fibsem=True``) or not (X-ray CT: cubic voxels); the FIB-SEM corrections (steps 3, 4, 7) run
   only on FIB-SEM-like data unless switched on explicitly, and the report says which ran and why;
2. optional slice alignment (phase correlation; off by default: most stacks come registered);
3. curtaining removal (:func:`~electrovox.filters.image.corrections.destripe`; beam axis
   estimated);
4. slice-to-slice brightness drift (:func:`~electrovox.filters.image.corrections.normalise_drift`);
5. denoising (default: a bilateral filter, spatial sigma 1.5 finest pixels, range sigma twice the
   noise estimated on the image: it averages within a phase and not across its edges, so thin
   dark cracks and thin CBD films survive where a median or Gaussian erodes them);
6. phases the image supports (:func:`~electrovox.filters.image.levels.detect_phases`): when the
   carbon-binder domain is asked for but is not a distinct grey level (lab X-ray CT), the chain
   falls back to pore / active material (+ cracks) with a notice, or refuses with
   ``phases_strict=True``; grey levels by a Gaussian mixture on the histogram
   (:mod:`~electrovox.filters.image.levels`);
7. pore-back correction along the slice axis (:mod:`~electrovox.filters.image.poreback`);
8. pore / CBD / active material by markers and watershed (:mod:`~electrovox.filters.image.segment`);
9. cracks: dark regions enclosed by particles (:mod:`~electrovox.filters.image.cracks`);
10. optional resampling of the labels to cubic voxels by majority (:mod:`~electrovox.filters.image.resample`).

Memory: the input is converted to float32 once; at most about three float32 copies of the volume
and a few uint8/bool/int32 volumes are alive at a time (the watershed's int32 markers and output).
"""

from __future__ import annotations

import time

import numpy as np

from electrovox.errors import BadInput
from electrovox.progress import report
from electrovox.solvers._axes import array_axis
from electrovox.volume import spacing_array

#: phase sets the segmentation supports (names of the default legend)
PHASE_SETS = {
    ("pore", "cbd", "am", "crack"), ("pore", "cbd", "am"), ("pore", "am"), ("pore", "am", "crack"),
}
METHODS = ("classic",)
DENOISERS = ("default", "gaussian", "median", "bilateral", "nlm", "none")


#: a stack is FIB-SEM-like when its slice voxel is at least this many times its coarser in-plane
#: pixel.  FIB-SEM slices are 2-10 x the pixel (the reference PFIB: 100 nm under 15.2 nm pixels);
#: CT voxels are cubic.  In-plane pixels of an SEM image can differ by up to 1/sin(52 deg) = 1.27
#: (tilt correction of the y axis), which must not count; 1.5 separates the two.
FIBSEM_ANISOTROPY = 1.5


def parse_phases(phases) -> tuple[str, ...]:
    """A checked phase set in legend order.

    Parameters
    ----------
    phases : str or sequence of str
        Phase names, e.g. ``"pore,cbd,am,crack"`` or ``("am", "pore")``.

    Returns
    -------
    tuple of str
        The names in legend order (``pore, cbd, am, crack``).

    Raises
    ------
    BadInput
        Naming ``phases`` when the set is not one of :data:`PHASE_SETS`.

    Examples
    --------
    >>> parse_phases("am,pore")
    ('pore', 'am')
    """
    try:
        names = [p.strip() for p in (phases.split(",") if isinstance(phases, str) else phases) if p.strip()]
    except (AttributeError, TypeError):
        names = [repr(phases)]
    order = ("pore", "cbd", "am", "crack")
    got = tuple(p for p in order if p in names)
    if set(names) != set(got) or got not in PHASE_SETS:
        raise BadInput("phases", f"{','.join(names)} is not a supported phase set",
                       "give phases='pore,cbd,am,crack' (default), 'pore,cbd,am', 'pore,am,crack' or "
                       "'pore,am' (lab X-ray CT)")
    return got


def fibsem_like(spacing, slice_axis=None, fibsem=None) -> tuple[bool, str]:
    """Whether a stack is FIB-SEM-like (serial sections), and why.

    Parameters
    ----------
    spacing : float or tuple of 3 float
        Voxel size (dz, dy, dx) in um.
    slice_axis : {"z", "y", "x"} or {0, 1, 2}, optional
        The milling axis; default the axis of the largest voxel (the first of equals).
    fibsem : bool or None
        True or False: the caller says so; None: decide from the voxel anisotropy.

    Returns
    -------
    (bool, str)
        The answer and a one-line reason: given, or the slice voxel against the coarser in-plane
        pixel (FIB-SEM-like when their ratio is at least :data:`FIBSEM_ANISOTROPY`).

    Examples
    --------
    >>> fibsem_like((0.1, 0.0152, 0.0152))[0], fibsem_like(0.4)[0]
    (True, False)
    """
    sp = tuple(float(v) for v in spacing_array(spacing))
    axis = int(np.argmax(sp)) if slice_axis is None else array_axis(slice_axis, "slice_axis")
    if fibsem is not None:
        return bool(fibsem), f"fibsem={bool(fibsem)} given"
    plane = max(sp[a] for a in range(3) if a != axis)
    ratio = sp[axis] / plane
    yes = ratio >= FIBSEM_ANISOTROPY
    kind = "FIB-SEM-like" if yes else "not FIB-SEM-like (X-ray CT)"
    return yes, (f"the {'zyx'[axis]} voxel ({sp[axis]:g} um) is {ratio:.3g} x the in-plane pixel ({plane:g} um), "
                 f"{'>=' if yes else '<'} {FIBSEM_ANISOTROPY:g}: {kind}")


def _sub(progress, a: float, b: float):
    """A progress callback for the part [a, b] of the whole."""
    if progress is None:
        return None
    return lambda f, m=None: progress(a + (b - a) * f, m)


def default_denoise(image, spacing, progress=None) -> np.ndarray:
    """The chain's denoiser: a bilateral filter with the defaults of :func:`~electrovox.filters.image.denoise.denoise`.

    Spatial sigma 1.5 finest pixels in um on every axis, range sigma 2 x the noise estimated from
    the image.  Why not the median + Gaussian of the first version: a 3 x 3 median flips the end
    voxels of one- to three-pixel-wide cracks and the corners of thin CBD films to the
    surrounding phase, and the Gaussian spreads every edge; on the phantoms of
    ``benchmarks/segmentation.py`` the bilateral filter raised IoU pore+crack from 0.915-0.926 to
    0.946-0.963 and IoU CBD from 0.81-0.86 to 0.88-0.93 at SNR >= 6, at the same run time.

    Parameters
    ----------
    image : ndarray, shape (nz, ny, nx)
        Greyscale image.
    spacing : float or tuple of 3 float
        Voxel size (dz, dy, dx) in um.
    progress : callable, optional
        ``progress(fraction, message)``.

    Returns
    -------
    ndarray of float32, shape (nz, ny, nx)
        The denoised image, in the input's grey units.
    """
    from electrovox.filters.image.denoise import denoise
    return denoise(image, spacing, "bilateral", progress=progress)


STEPS = ("destripe", "drift", "align", "denoise", "pore-back")


def run_step(image, spacing, step: str, *, method: str = "default", slice_axis=None,
             progress=None) -> tuple[np.ndarray, np.ndarray | None]:
    """One step of the chain on its own (run whatever the kind of data: the caller asked for it).

    Parameters
    ----------
    image : ndarray, shape (nz, ny, nx) or (ny, nx)
        Greyscale image, any real dtype.
    spacing : float or tuple of 3 float
        Voxel size (dz, dy, dx) in um.
    step : str
        One of :data:`STEPS`: ``"destripe"``, ``"drift"``, ``"align"``, ``"denoise"``,
        ``"pore-back"``.
    method : str
        The denoiser for ``"denoise"`` (one of :data:`DENOISERS`).
    slice_axis : {"z", "y", "x"} or {0, 1, 2}, optional
        The milling axis; default the axis of the largest voxel.
    progress : callable, optional
        ``progress(fraction, message)``.

    Returns
    -------
    (ndarray, ndarray or None)
        The float32 image, and the bool mask of corrected voxels for ``"pore-back"`` (else None).

    Raises
    ------
    BadInput
        Naming ``step``, ``method`` or ``slice_axis`` when out of range, or the image.
    """
    from electrovox.filters.image import corrections
    if step not in STEPS:
        raise BadInput("step", f"{step!r} is not an image step", "give step= one of " + ", ".join(STEPS))
    if method not in DENOISERS:
        raise BadInput("method", f"{method!r} is not a denoiser", "give method= one of " + ", ".join(DENOISERS))
    sp = tuple(float(v) for v in spacing_array(spacing))
    axis = int(np.argmax(sp)) if slice_axis is None else array_axis(slice_axis, "slice_axis")
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


def _switch(value, name: str):
    """A correction switch: None (auto), True or False; BadInput naming ``name`` otherwise."""
    if value is None or isinstance(value, (bool, np.bool_)):
        return None if value is None else bool(value)
    raise BadInput(name, f"{name} {value!r} is not True, False or None", f"give {name}=None (auto), True or False")


def segment_image(image, spacing, *, method: str = "classic", phases="pore,cbd,am,crack",
                  phases_strict: bool = False, check_phases: bool = True, fibsem: bool | None = None,
                  slice_axis=None, beam_axis=None,
                  align: bool = False, destripe: bool | None = None, drift: bool | None = None,
                  denoise: str = "default", pore_back: bool | None = None, pore_back_reverse: bool = False,
                  crack_max_width_um: float | None = None, resample_um: float | None = None,
                  keep_corrected: bool = False, progress=None) -> dict:
    """Segment a greyscale stack [z, y, x] (or one slice [y, x]) into the default legend's labels.

    Parameters
    ----------
    image : ndarray, shape (nz, ny, nx) or (ny, nx)
        Greyscale image, any real dtype, all values finite.
    spacing : float or tuple of 3 float
        Voxel size (dz, dy, dx) in um.
    method : str
        ``"classic"`` (markers and watershed).
    phases : str or sequence of str
        ``"pore,cbd,am,crack"`` (default), ``"pore,cbd,am"``, ``"pore,am,crack"`` or ``"pore,am"``.
        When the CBD is asked for but the image shows no distinct CBD grey level
        (:func:`~electrovox.filters.image.levels.detect_phases`), it is dropped (pore, am and
        crack if asked) and ``notices`` says so.
    phases_strict : bool
        Refuse (BadInput naming ``phases``) instead of dropping an unresolved CBD.
    check_phases : bool
        Check that the image resolves the CBD before segmenting it (default).  False segments
        into the phases asked whatever the image shows (the behaviour before the check).
    fibsem : bool or None
        FIB-SEM data (True), not (False), or None: FIB-SEM-like when the slice voxel is at least
        :data:`FIBSEM_ANISOTROPY` x the in-plane pixel (see :func:`fibsem_like`).
    slice_axis : {"z", "y", "x"} or {0, 1, 2}, optional
        FIB milling axis; default the axis of the largest voxel (the first of equals).
    beam_axis : {"z", "y", "x"} or {0, 1, 2}, optional
        Curtain (beam) direction; default estimated.
    align : bool
        Align the slices by phase correlation first.
    destripe, drift, pore_back : bool or None
        The FIB-SEM corrections: curtaining removal, slice-to-slice drift, pore-back correction.
        None (default): on FIB-SEM data only; True: always (pore-back needs three phases and
        more than one slice); False: never.
    denoise : str
        ``"default"`` (bilateral), ``"gaussian"``, ``"median"``, ``"bilateral"``, ``"nlm"`` or
        ``"none"``.
    pore_back_reverse : bool
        Milling toward smaller indices along the slice axis.
    crack_max_width_um : float, optional
        Widest crack mouth bridged, um (see :func:`~electrovox.filters.image.cracks.find_cracks`).
    resample_um : float, optional
        Cubic voxel size in um of the output labels (majority resampling); None: the image grid.
    keep_corrected : bool
        Return the corrected, denoised image too.
    progress : callable, optional
        ``progress(fraction, message)``.

    Returns
    -------
    dict
        ``labels`` (uint8, legend 0 pore, 1 cbd, 2 am, 3 crack), ``spacing`` and
        ``origin_shift_um`` of the labels' grid (z, y, x; the shift of the first voxel's centre
        from the image's), ``pore_back_mask`` (bool on the image grid, or None), ``corrected``
        (float32, if ``keep_corrected``), ``notices`` (list of one-line messages for the user,
        e.g. an unresolved CBD) and ``report`` (JSON-ready: ``phases_requested``, ``phases``
        (used), ``phase_detection``, ``fibsem`` and ``corrections`` (for each of align,
        destripe, drift, pore_back: ``{"ran": bool, "why": str}``), ``notices``, steps, levels,
        stripe and drift figures, pore-back excess and reach, fractions, timings).

    Raises
    ------
    BadInput
        Naming the keyword (``phases``, ``method``, ``denoise``, ``slice_axis``, ...) or the
        image, for values out of range; naming ``phases`` when ``phases_strict`` and the CBD is
        not resolved.
    """
    t_all = time.perf_counter()
    if method not in METHODS:
        raise BadInput("method", f"{method!r} is not a segmentation method", "give method= " + ", ".join(METHODS))
    if denoise not in DENOISERS:
        raise BadInput("denoise", f"{denoise!r} is not a denoiser", "give denoise= one of " + ", ".join(DENOISERS))
    requested = parse_phases(phases)
    names = requested
    switches = {n: _switch(v, n) for n, v in (("fibsem", fibsem), ("destripe", destripe), ("drift", drift),
                                              ("pore_back", pore_back))}
    sp = tuple(float(v) for v in spacing_array(spacing))
    img = np.asarray(image)
    if img.ndim == 2:
        img = img[np.newaxis]
    if img.ndim != 3 or img.size == 0:
        raise BadInput("image", f"has shape {img.shape}", "give a 3D stack [z, y, x] or one 2D slice")
    if img.dtype.kind not in "uif":
        raise BadInput("image", f"has dtype {img.dtype}", "give a greyscale image of integers or floats")
    slice_axis = int(np.argmax(sp)) if slice_axis is None else array_axis(slice_axis, "slice_axis")
    if beam_axis is not None:
        beam_axis = array_axis(beam_axis, "beam_axis")
    img = img.astype(np.float32, copy=True)
    if not np.all(np.isfinite(img)):
        raise BadInput("image", "contains NaN or infinite values", "replace them (e.g. by the pore level) first")
    stack = img.shape[slice_axis] > 1
    is_fib, fib_why = fibsem_like(sp, slice_axis, switches["fibsem"])
    notices: list[str] = []
    corr: dict = {}

    def decide(name, value, *, possible=True, impossible_why=""):
        """Run a correction? ``value`` None: when FIB-SEM-like; recorded with the reason."""
        if value is False:
            ran, why = False, f"{name}=False given"
        elif not possible:
            ran, why = False, impossible_why
        elif value is True:
            ran, why = True, f"{name}=True given"
        else:
            ran, why = is_fib, ("FIB-SEM-like data" if is_fib else "not FIB-SEM-like data (X-ray CT)") + \
                f" ({fib_why})"
        corr[name] = {"ran": ran, "why": why}
        return ran

    rep: dict = {"method": method, "phases_requested": list(requested), "phases": list(names),
                 "spacing_um": list(sp), "shape": list(img.shape), "slice_axis": "zyx"[slice_axis],
                 "fibsem": {"fibsem": is_fib, "why": fib_why}, "corrections": corr, "notices": notices,
                 "steps": [], "timings_s": {}}

    def step(name, t0):
        rep["steps"].append(name)
        rep["timings_s"][name] = round(time.perf_counter() - t0, 3)

    from electrovox.filters.image import corrections
    if align and stack:
        t0 = time.perf_counter()
        img, shifts = corrections.align_slices(img, slice_axis=slice_axis, progress=_sub(progress, 0, 0.05))
        rep["alignment_max_shift_px"] = float(np.abs(shifts).max()) if shifts.size else 0.0
        step("align", t0)
    corr["align"] = {"ran": bool(align and stack),
                     "why": ("align=True given" if stack else "one slice: nothing to align") if align
                     else "align=False (default)"}
    if decide("destripe", switches["destripe"]):
        t0 = time.perf_counter()
        img, info = corrections.destripe(img, sp, slice_axis=slice_axis, beam_axis=beam_axis,
                                         progress=_sub(progress, 0.05, 0.15))
        rep["destripe"] = {k: info[k] for k in ("beam_axis", "beam_axis_estimated", "stripe_rms") if k in info}
        step("destripe", t0)
    if decide("drift", switches["drift"], possible=stack, impossible_why="one slice: no drift between slices"):
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
    from electrovox.filters.image.levels import detect_phases, estimate_levels
    if "cbd" in names and check_phases:
        t0 = time.perf_counter()
        det = detect_phases(img, sp)
        rep["phase_detection"] = {k: det[k] for k in ("n_levels", "cbd_resolved", "levels", "resolution",
                                                      "bic", "criterion")}
        step("detect_phases", t0)
        if not det["cbd_resolved"]:
            fallback = tuple(p for p in names if p != "cbd")
            means = ", ".join(f"{m:.4g}" for m in det["levels"]["means"])
            problem = (f"the image shows {det['n_levels']} distinct grey level(s) ({means}), so the carbon-binder "
                       f"domain (CBD) is not resolved: a third class would take the blurred particle edges for CBD")
            if phases_strict:
                raise BadInput("phases", f"{','.join(requested)} asked, but {problem}",
                               f"give phases='{','.join(fallback)}' for this image (or image the CBD with a "
                               "contrast and resolution that resolve it)")
            names = fallback
            rep["phases"] = list(names)
            notices.append(f"segment: {problem}; segmented into {','.join(names)} instead "
                           "(phases_strict=True refuses instead)")
    three = "cbd" in names
    levels = estimate_levels(img, 3 if three else 2)
    rep["levels"] = {k: [float(v) for v in levels[k]] for k in ("means", "stds", "weights", "thresholds")}
    mask = None
    if decide("pore_back", switches["pore_back"], possible=three and stack,
              impossible_why="needs three phases (pore, cbd, am)" if not three else "one slice: nothing behind"):
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
            "corrected": corrected, "notices": list(notices), "report": rep}
