"""Flow tortuosity of a Stokes (absolute-permeability) velocity field.

Definition (Zhang, Chouchane et al., Joule 2023, from the velocity field of their Stokes
absolute-permeability simulations): the flow tortuosity is the ratio of the mean speed to the
mean velocity component along the direction of the mean flow, over the pore space,

    tau = sum_p w_p |V_p| / |sum_p w_p V_p,i|

``V_p`` the velocity at point (voxel, mesh point or cell) ``p``, ``w_p`` its volume (1 for voxels
of one image, the cell volume for unstructured meshes), ``i`` the mean-flow direction.  A straight
flow gives 1; a flow that zig-zags at an angle theta to the mean direction gives 1 / cos(theta).
tau is dimensionless; the velocity may be in any units (only ratios of sums enter).  It is 1 over
the speed-weighted mean of cos(angle between V and the mean-flow axis), so slow fluid (dead ends,
recirculation) counts little: it is neither the geometric nor the diffusive (MacMullin) tortuosity.

Conventions:

- ``velocity`` is an array ``(..., 3)``: any number of leading dimensions (voxels ``[z, y, x]``
  of an image, or a flat list of mesh points or cells), and the LAST axis holds the three vector
  components in (x, y, z) order, as VTK stores vectors: component 0 is v_x, 1 is v_y, 2 is v_z.
  (For a ``[z, y, x]`` voxel array this is the reverse of the array's own axis order: the flow
  along the array's axis 0 -- z, the electrode thickness -- is component 2.)
- ``axis`` names a component: ``"x"``, ``"y"``, ``"z"`` or 0, 1, 2 (0 = x, the component index,
  not an array axis), or None for the direction of the mean velocity (the component with the
  largest ``|sum w V_i|``; the result says ``axis_estimated``).
- Net flow towards the negative direction of the axis is fine: the denominator is the absolute
  value, ``direction`` says ``"-z"`` and ``flow_fraction_along_axis`` is negative.
- Points counted: those of ``mask`` (the pore voxels) when given, else every point whose speed
  ``|V|`` is positive (solid voxels have zero velocity and would count either way in the sums,
  but not in ``n_points`` and ``mean_velocity``).

:func:`flow_sums` and :func:`tortuosity_from_sums` split the computation so that pieces of a
distributed data set (MPI) can add their sums before the ratio is taken; :func:`flow_tortuosity`
does both.  Pure numpy; the work is done in chunks of points (float64 sums, any input dtype), so
a large float32 field is not copied whole.
"""

from __future__ import annotations

import numpy as np

from electrovox.errors import BadInput

AXES = ("x", "y", "z")
#: |sum w V_i| below this fraction of sum w |V| is "no net flow along the axis"
NET_FLOW_RTOL = 1e-12
_CHUNK = 1 << 20  # points per step


def parse_axis(axis) -> int | None:
    """The velocity component an axis names.

    Unlike the array axes of the voxel cores (ints there index (z, y, x)), an int here is the index
    of a vector component in VTK's (x, y, z) order: 0 = x, 1 = y, 2 = z.

    Parameters
    ----------
    axis : {"x", "y", "z", 0, 1, 2} or None
        An axis name (case-insensitive), a component index, or None (estimate the direction).

    Returns
    -------
    int or None
        The component index (0 = x), or None.

    Raises
    ------
    BadInput
        Anything else (names ``axis``).

    Examples
    --------
    >>> parse_axis("z"), parse_axis(0), parse_axis(None)
    (2, 0, None)
    """
    if axis is None:
        return None
    if isinstance(axis, str) and axis.strip().lower() in AXES:
        return AXES.index(axis.strip().lower())
    if isinstance(axis, (int, np.integer)) and not isinstance(axis, (bool, np.bool_)) and 0 <= int(axis) <= 2:
        return int(axis)
    raise BadInput("axis", f"{axis!r} is not a direction",
                   "give 'x', 'y', 'z' (or the component index 0, 1, 2), or None to use the mean-flow direction")


def _leading(a: np.ndarray, name: str, shape: tuple, dtype) -> np.ndarray:
    """``a`` as a flat array over the velocity's leading dimensions (checked shape)."""
    arr = np.asarray(a)
    if arr.shape != shape:
        raise BadInput(name, f"has shape {arr.shape}, the velocity's points have shape {shape}",
                       f"give one {name} value per point (the velocity's shape without its last axis)")
    return arr.reshape(-1).astype(dtype, copy=False)


def flow_sums(velocity, *, mask=None, weights=None) -> dict:
    """The sums that make up the flow tortuosity, over the counted points of ``velocity``.

    Sums of several pieces of a data set may be added key by key before
    :func:`tortuosity_from_sums` takes the ratio.

    Parameters
    ----------
    velocity : (..., 3) array
        Velocity vectors, components in (x, y, z) order, any units (see :func:`flow_tortuosity`).
    mask : bool array over the leading dimensions, optional
        Points counted; default every point with ``|V| > 0``.
    weights : float array over the leading dimensions, optional
        Volume of each point (>= 0); default 1.

    Returns
    -------
    dict
        ``speed`` (sum w |V|), ``flux`` ([sum w V_x, sum w V_y, sum w V_z]), ``weight`` (sum w),
        ``n_points`` (points counted), ``n_flowing`` (counted points with |V| > 0).

    Raises
    ------
    BadInput
        A velocity that is not (..., 3) real numbers, NaN or infinite values at counted points, a
        mask or weights of the wrong shape, negative or non-finite weights.

    Examples
    --------
    >>> import numpy as np
    >>> v = np.zeros((2, 1, 1, 3))
    >>> v[..., 2] = 2.0
    >>> flow_sums(v)
    {'speed': 4.0, 'flux': [0.0, 0.0, 4.0], 'weight': 2.0, 'n_points': 2, 'n_flowing': 2}
    """
    v = np.asarray(velocity)
    if v.ndim < 1 or v.shape[-1] != 3 or v.dtype.kind not in "iuf":
        kind = "" if v.dtype.kind in "iuf" else f" of {v.dtype}"
        raise BadInput("velocity", f"has shape {v.shape}{kind}, not (..., 3) real numbers",
                       "pass the three velocity components (x, y, z) of each point along the last axis")
    lead = v.shape[:-1]
    flat = v.reshape(-1, 3)
    m = None if mask is None else _leading(mask, "mask", lead, bool)
    w = None if weights is None else _leading(weights, "weights", lead, np.float64)
    if w is not None:
        bad = ~np.isfinite(w) | (w < 0)
        if bad.any():
            raise BadInput("weights", f"{int(bad.sum())} of {w.size} weights are negative, NaN or infinite",
                           "give each point's volume (>= 0)")
    speed_sum, flux, weight_sum, n_points, n_flowing = 0.0, np.zeros(3), 0.0, 0, 0
    for start in range(0, flat.shape[0], _CHUNK):
        stop = min(start + _CHUNK, flat.shape[0])
        c = flat[start:stop].astype(np.float64, copy=False)
        sel = m[start:stop] if m is not None else np.any(c != 0, axis=1)  # NaN != 0: kept, and reported
        c = c[sel]
        finite = np.isfinite(c).all(axis=1)
        if not finite.all():
            first = start + int(np.flatnonzero(sel)[np.flatnonzero(~finite)[0]])
            where = tuple(int(i) for i in np.unravel_index(first, lead)) if lead else ()
            raise BadInput("velocity", f"has NaN or infinite values at counted points (first at index {where})",
                           "fill the solid voxels with 0 and mask them out (mask=), or fix the export")
        speed = np.sqrt(c[:, 0] * c[:, 0] + c[:, 1] * c[:, 1] + c[:, 2] * c[:, 2])
        cw = None if w is None else w[start:stop][sel]
        n_points += int(c.shape[0])
        n_flowing += int(np.count_nonzero(speed))
        if cw is None:
            speed_sum += float(np.sum(speed))
            flux += [float(np.sum(c[:, i])) for i in range(3)]
            weight_sum += float(c.shape[0])
        else:
            speed_sum += float(np.sum(cw * speed))
            flux += [float(np.sum(cw * c[:, i])) for i in range(3)]
            weight_sum += float(np.sum(cw))
    return {"speed": speed_sum, "flux": [float(f) for f in flux], "weight": weight_sum,
            "n_points": n_points, "n_flowing": n_flowing}


def tortuosity_from_sums(sums: dict, *, axis=None, source: str = "velocity") -> dict:
    """The flow tortuosity from :func:`flow_sums` (possibly added over pieces).

    Parameters
    ----------
    sums : dict
        As returned by :func:`flow_sums`.
    axis : {"x", "y", "z", 0, 1, 2} or None
        Mean-flow direction as a component (0 = x; see :func:`parse_axis`); None: the component with
        the largest ``|sum w V_i|``.
    source : str
        The name of the field in error messages.

    Returns
    -------
    dict
        As :func:`flow_tortuosity`.

    Raises
    ------
    BadInput
        No flowing point, zero weights at every flowing point, no net flow along the axis, an
        unknown axis.

    Examples
    --------
    >>> sums = {"speed": 2.0, "flux": [0.0, 0.0, 1.0], "weight": 1.0, "n_points": 1, "n_flowing": 1}
    >>> tortuosity_from_sums(sums)["flow_tortuosity"]
    2.0
    """
    i = parse_axis(axis)
    speed, flux, weight = float(sums["speed"]), np.asarray(sums["flux"], dtype=np.float64), float(sums["weight"])
    if int(sums["n_flowing"]) == 0:
        raise BadInput(source, f"no counted point has a non-zero velocity ({int(sums['n_points'])} points counted)",
                       "check the array (a velocity field, not a pressure) and the mask (the pore voxels)")
    if not speed > 0:
        raise BadInput("weights", "are zero at every flowing point", "give each point's volume (> 0 in the pore)")
    estimated = i is None
    if estimated:
        i = int(np.argmax(np.abs(flux)))
    if not abs(flux[i]) >= NET_FLOW_RTOL * speed:
        raise BadInput(source, f"no net flow along axis {AXES[i]} (sum of w*V_{AXES[i]} = {flux[i]:.3g}, "
                       f"sum of w*|V| = {speed:.3g})",
                       "choose the axis of the applied pressure drop, or check the field (a closed circulation "
                       "has no mean flow)")
    return {
        "flow_tortuosity": speed / abs(float(flux[i])),
        "axis": AXES[i],
        "axis_estimated": bool(estimated),
        "direction": ("+" if flux[i] > 0 else "-") + AXES[i],
        "mean_velocity": [float(f) / weight for f in flux],
        "n_points": int(sums["n_points"]),
        "flow_fraction_along_axis": float(flux[i]) / speed,
    }


def flow_tortuosity(velocity, *, axis=None, mask=None, weights=None) -> dict:
    """Flow tortuosity ``tau = sum w |V| / |sum w V_i|`` of a velocity field.

    After Zhang, Chouchane et al., Joule 2023: the Stokes velocity of an absolute-permeability
    simulation, over the pore voxels.

    Parameters
    ----------
    velocity : (..., 3) array
        Velocity vectors, any units, any real dtype; the last axis holds the components in
        (x, y, z) order (VTK's: component 0 is v_x).  Leading dimensions: voxels ``[z, y, x]``, or
        a flat list of points or cells.
    axis : {"x", "y", "z", 0, 1, 2} or None
        Mean-flow direction as a name or a *component* index (0 = x, 2 = z: the (x, y, z) order of
        the vector components, not the (z, y, x) order of the array axes).  None: the component
        with the largest ``|sum w V_i|`` (the direction of the mean velocity).
    mask : bool array over the leading dimensions, optional
        Points counted (the pore voxels).  Default: every point with ``|V| > 0``.  Values outside
        the mask are not read (NaN allowed there).
    weights : float array over the leading dimensions, optional
        Volume of each point (>= 0; cell volumes of an unstructured mesh), so that the sums are
        volume integrals.  Default: 1 (voxels of one image are all the same size).

    Returns
    -------
    dict
        ``flow_tortuosity`` (dimensionless, >= 1), ``axis`` ("x"/"y"/"z"), ``axis_estimated``
        (bool), ``direction`` ("+z" or "-z": the sign of the net flow; tau uses its absolute
        value), ``mean_velocity`` ([vx, vy, vz], the weighted mean over the counted points, in the
        velocity's units), ``n_points`` (points counted), ``flow_fraction_along_axis``
        (``sum w V_i / sum w |V|`` = +-1 / tau, negative for net flow towards -axis).

    Raises
    ------
    BadInput
        Velocity not (..., 3) real numbers; NaN/inf at counted points; mask or weights of the
        wrong shape, negative weights; no flowing point; no net flow along the axis
        (``|sum w V_i| < 1e-12 sum w |V|``); an unknown axis.

    Examples
    --------
    A zig-zag flow at 45 degrees to z:

    >>> import numpy as np
    >>> v = np.zeros((4, 2, 2, 3))
    >>> v[..., 2] = 1.0                     # v_z
    >>> v[0::2, ..., 0] = 1.0               # v_x alternating from slice to slice
    >>> v[1::2, ..., 0] = -1.0
    >>> r = flow_tortuosity(v, axis="z")
    >>> round(r["flow_tortuosity"], 6), r["direction"]
    (1.414214, '+z')
    """
    return tortuosity_from_sums(flow_sums(velocity, mask=mask, weights=weights), axis=axis)
