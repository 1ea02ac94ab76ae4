"""Steady-state diffusion / conduction on a voxel grid: effective conductivity and tortuosity factor.

Problem.  On the voxels of a volume ``[z, y, x]`` with a conductivity per voxel (``sigma``, any
units; 0 = not conducting), solve div(sigma grad c) = 0 with c = 1 on the face ``index 0`` and
c = 0 on the face ``index n - 1`` normal to the chosen axis (the Dirichlet planes are the outer
faces of the first and last voxel layers), and no flux through the four other faces.

Discretisation: finite volumes, one unknown per voxel centre.  Two face neighbours p, q along
axis a exchange the flux g_pq (c_p - c_q) with the harmonic-mean face conductance
``g_pq = A_a / (d_a / (2 sigma_p) + d_a / (2 sigma_q))`` (A_a = face area, d_a = voxel size along
a: anisotropic voxels enter exactly, nothing is resampled); a boundary voxel exchanges
``g_b = 2 sigma_p A_a / d_a`` with its Dirichlet plane.  Only the voxels connected (through face
neighbours with sigma > 0) to *both* Dirichlet faces are solved: isolated and dead-end-free
floating regions carry no steady flux and would make the system singular; their volume is
reported.

Results: the flux Q through the inlet plane gives ``sigma_eff = Q L / (A dC)`` (L = length along
the axis, A = cross-section).  Relative to a reference conductivity ``sigma_ref`` (the bulk
value, default the largest conductivity present): ``D_eff = sigma_eff / sigma_ref``; the
tortuosity factor ``tau = eps / D_eff`` (eps = volume fraction of the conducting phases; the
definition tau = eps D / D_eff of TauFactor, Cooper et al., SoftwareX 5, 2016) and the MacMullin
number ``N_M = 1 / D_eff = tau / eps``.

Solvers (``method``): ``"multigrid"`` (the default where numba is importable), flexible CG in
float64 preconditioned by a matrix-free aggregation multigrid K-cycle in float32 on the structured
grid (numba kernels, :mod:`electrovox.solvers.transport.multigrid`); ``"amg"``, the sparse system
of the solved voxels by CG preconditioned with smoothed-aggregation algebraic multigrid (pyamg),
or scipy's CG with a Jacobi preconditioner when pyamg is absent.  Both solve the same discrete
system (the multigrid path stores the face conductances in float32: the system it solves differs
from the float64 one by a relative 6e-8 per coefficient).  Convergence is stated in terms of the
flux balance: the solve is accepted when ``|Q_in - Q_out| <= flux_tol * (Q_in + Q_out) / 2``
(the residual's sum is exactly Q_in - Q_out); the multigrid path iterates until that holds and
the residual norm has dropped by 1e-8 (a guard against a balance met by chance), the amg path
tightens the linear solver's tolerance until it holds.  A multigrid solve that does not reach the
criterion in ``maxiter`` iterations is redone by the amg path.  Each method is one function
(``_solve_multigrid``, ``_solve_amg``) picked from the table ``_METHODS``.

Axes are ``"z"``, ``"y"``, ``"x"`` or the indices 0, 1, 2 of the (z, y, x) array axes.  Errors
name the keyword argument at fault (``sigma``, ``axis``, ``method``, ``phases``,
``conductivities``, ``cbd_factor``).
"""

from __future__ import annotations

import time
from typing import NamedTuple

import numpy as np
from scipy import ndimage, sparse

from electrovox.errors import BadInput
from electrovox.progress import report
from electrovox.solvers._axes import array_axis
from electrovox.volume import spacing_array

from . import multigrid

#: axis names -> index of the (z, y, x) array axes
AXES = {"z": 0, "y": 1, "x": 2}


def _conductivity_lut(legend: dict[int, str], conductivities: dict[str, float], source: str) -> np.ndarray:
    """256-entry conductivity per label id; BadInput (named ``source``) for unknown phases or bad values."""
    names = set(legend.values())
    lut = np.zeros(256, dtype=np.float64)
    for phase, value in conductivities.items():
        if phase not in names:
            raise BadInput(source, f"phase {phase!r} is not in the legend ({', '.join(sorted(names))})",
                           f"name phases of the legend in {source}, e.g. 'pore' or 'crack'")
        v = float(value)
        if not np.isfinite(v) or v < 0:
            raise BadInput(source, f"conductivity {value!r} of {phase} is not a finite value >= 0",
                           "give conductivities >= 0")
        for i, name in legend.items():
            if name == phase:
                lut[int(i)] = v
    return lut


def conductivity_map(labels: np.ndarray, legend: dict[int, str], conductivities: dict[str, float]) -> np.ndarray:
    """Conductivity per voxel of a label volume.

    Parameters
    ----------
    labels : (nz, ny, nx) integer array
        Label ids (0..255) ``[z, y, x]``.
    legend : dict {int: str}
        Label id -> phase name.
    conductivities : dict {str: float}
        Phase name -> conductivity (>= 0, any units); phases not named conduct nothing.

    Returns
    -------
    (nz, ny, nx) float64 array
        The conductivity of each voxel.

    Raises
    ------
    BadInput
        A phase that is not in the legend, or a negative or non-finite value (names
        ``conductivities``).

    Examples
    --------
    >>> import numpy as np
    >>> conductivity_map(np.array([[[0, 1, 2]]], np.uint8), {0: "pore", 1: "cbd", 2: "am"},
    ...                  {"pore": 1.0, "cbd": 0.1}).tolist()
    [[[1.0, 0.1, 0.0]]]
    """
    return _conductivity_lut(legend, conductivities, "conductivities")[np.asarray(labels, dtype=np.uint8)]


def percolating(sigma: np.ndarray, axis) -> np.ndarray:
    """Conducting voxels face-connected to both faces normal to ``axis``.

    Parameters
    ----------
    sigma : (nz, ny, nx) array
        Conductivity per voxel; voxels with ``sigma > 0`` conduct.
    axis : {"z", "y", "x"} or {0, 1, 2}
        An axis name, or an index into the (z, y, x) array axes.

    Returns
    -------
    (nz, ny, nx) bool array
        True where a voxel conducts and its 6-connected conducting cluster touches both faces.

    Raises
    ------
    BadInput
        An unknown ``axis``.

    Examples
    --------
    >>> import numpy as np
    >>> s = np.zeros((3, 1, 3))
    >>> s[:, 0, 0] = 1.0                         # a column through the whole volume along z
    >>> s[1, 0, 2] = 1.0                         # an isolated voxel
    >>> percolating(s, "z")[:, 0, :].astype(int).tolist()
    [[1, 0, 0], [1, 0, 0], [1, 0, 0]]
    """
    axis = array_axis(axis)
    cond = sigma > 0
    lab, n = ndimage.label(cond)
    if n == 0:
        return np.zeros(sigma.shape, dtype=bool)
    first = np.unique(np.take(lab, 0, axis=axis))
    last = np.unique(np.take(lab, -1, axis=axis))
    both = np.intersect1d(first[first > 0], last[last > 0])
    keep = np.zeros(n + 1, dtype=bool)
    keep[both] = True
    return keep[lab]


def _system(sigma, spacing, axis, active):
    """Sparse matrix, right-hand side and boundary conductances on the ``active`` voxels."""
    shape = sigma.shape
    idx = np.full(shape, -1, dtype=np.int64)
    n = int(np.count_nonzero(active))
    idx[active] = np.arange(n)
    area = [spacing[1] * spacing[2], spacing[0] * spacing[2], spacing[0] * spacing[1]]
    rows, cols, vals = [], [], []
    diag = np.zeros(n)
    for a in range(3):
        lo = [slice(None)] * 3
        hi = [slice(None)] * 3
        lo[a], hi[a] = slice(0, -1), slice(1, None)
        lo, hi = tuple(lo), tuple(hi)
        both = active[lo] & active[hi]
        sp, sq = sigma[lo][both], sigma[hi][both]
        g = area[a] * 2.0 * sp * sq / ((sp + sq) * spacing[a])      # harmonic mean over the face
        i, j = idx[lo][both], idx[hi][both]
        rows += [i, j]
        cols += [j, i]
        vals += [-g, -g]
        diag += np.bincount(i, weights=g, minlength=n) + np.bincount(j, weights=g, minlength=n)
    # Dirichlet planes at the outer faces of the first and last layers: half a voxel away
    gb = np.zeros(n)
    inlet = np.zeros(n, dtype=bool)
    outlet = np.zeros(n, dtype=bool)
    for face, flag in ((0, inlet), (-1, outlet)):
        sl = [slice(None)] * 3
        sl[axis] = face
        sl = tuple(sl)
        m = active[sl]
        k = idx[sl][m]
        gb[k] = 2.0 * sigma[sl][m] * area[axis] / spacing[axis]
        flag[k] = True
    diag += gb
    rows.append(np.arange(n))
    cols.append(np.arange(n))
    vals.append(diag)
    a_mat = sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))
    b = np.where(inlet, gb, 0.0)                                      # c = 1 at the inlet plane
    return a_mat, b, gb, inlet, outlet, idx


def _solve(a_mat, b, tol, maxiter, x0=None, solver_cache=None):
    """CG + smoothed-aggregation AMG (pyamg), else CG + Jacobi; returns (x, iterations)."""
    count = [0]

    def cb(_x):
        count[0] += 1

    try:
        import pyamg
    except ImportError:                                   # pragma: no cover - pyamg is a dependency
        pyamg = None
    if pyamg is not None:
        ml = solver_cache.get("ml") if solver_cache is not None else None
        if ml is None:
            ml = pyamg.smoothed_aggregation_solver(a_mat, symmetry="symmetric", max_coarse=500)
            if solver_cache is not None:
                solver_cache["ml"] = ml
        x = ml.solve(b, x0=x0, tol=tol, maxiter=maxiter, accel="cg", callback=cb)
        return x, count[0]
    from scipy.sparse.linalg import LinearOperator, cg
    dinv = 1.0 / a_mat.diagonal()
    m = LinearOperator(a_mat.shape, matvec=lambda v: dinv * v)
    try:
        x, _ = cg(a_mat, b, x0=x0, rtol=tol, maxiter=maxiter, M=m, callback=cb)
    except TypeError:                                     # scipy < 1.12: tol instead of rtol
        x, _ = cg(a_mat, b, x0=x0, tol=tol, maxiter=maxiter, M=m, callback=cb)
    return x, count[0]


class _Solution(NamedTuple):
    """What a solver method returns: the fluxes through the Dirichlet planes and the potential."""

    q_in: float
    q_out: float
    imbalance: float             # |q_in - q_out| / mean
    iterations: int
    potential: np.ndarray | None  # float32 [z, y, x], NaN where not solved (with fields only)


def _solve_multigrid(sig, active, sp, ax, *, flux_tol, maxiter, fields, progress) -> _Solution | None:
    """Matrix-free multigrid (numba): flexible CG with an aggregation K-cycle; None if not converged."""
    report(progress, 0.15, "multigrid set-up and solve")
    order = [ax] + [i for i in range(3) if i != ax]
    sub = None if progress is None else (lambda f, m=None: report(progress, 0.15 + 0.75 * f, m))
    x_t, q_in, q_out, imbalance, iters, _info = multigrid.solve(
        np.moveaxis(sig, ax, 0), np.moveaxis(active, ax, 0), [sp[i] for i in order],
        flux_tol=flux_tol, maxiter=maxiter, progress=sub)
    if not imbalance <= flux_tol:
        return None                                        # not converged: the caller redoes it by amg
    pot = None
    if fields:
        pot = np.full(sig.shape, np.nan, dtype=np.float32)
        pot_t = np.moveaxis(pot, ax, 0)
        act_t = np.moveaxis(active, ax, 0)
        pot_t[act_t] = x_t[act_t]
    return _Solution(q_in, q_out, imbalance, iters, pot)


def _solve_amg(sig, active, sp, ax, *, flux_tol, maxiter, fields, progress) -> _Solution:
    """Assembled sparse system, CG + smoothed-aggregation AMG (pyamg; CG + Jacobi without it).

    The linear solver's tolerance is tightened (up to 6 rounds) until the flux balances.
    """
    report(progress, 0.15, "assembly")
    a_mat, b, gb, inlet, outlet, idx = _system(sig, sp, ax, active)
    report(progress, 0.3, "solve")
    tol, x, iters, cache = 1e-8, None, 0, {}
    for _ in range(6):
        x, it = _solve(a_mat, b, tol, maxiter, x0=x, solver_cache=cache)
        iters += it
        q_in = float(np.sum(gb[inlet] * (1.0 - x[inlet])))
        q_out = float(np.sum(gb[outlet] * x[outlet]))
        imbalance = abs(q_in - q_out) / max(0.5 * (q_in + q_out), 1e-300)
        if imbalance <= flux_tol:
            break
        tol *= 0.01                                        # tighten until the flux balances
    pot = None
    if fields:
        pot = np.full(sig.shape, np.nan, dtype=np.float32)
        pot[active] = x
    return _Solution(q_in, q_out, imbalance, iters, pot)


#: the solver methods of :func:`solve_conduction`; a method returning None has not converged and
#: is redone by ``_FALLBACK``
_METHODS = {"multigrid": _solve_multigrid, "amg": _solve_amg}
_FALLBACK = "amg"


def _pick_method(method: str | None) -> str:
    """The method to run: the default, or ``method`` checked (BadInput naming ``method``)."""
    if method is None:
        method = "multigrid" if multigrid.HAVE_NUMBA else "amg"
    if method not in _METHODS:
        raise BadInput("method", f"{method!r} is not a solver", "give method=" + " or ".join(map(repr, _METHODS)))
    if method == "multigrid" and not multigrid.HAVE_NUMBA:
        method = "amg"                                     # pragma: no cover - numba is a dependency
    return method


def _check_conductivities(sigma, spacing, axis):
    """``sigma`` as float64 [z, y, x], the spacing as 3 floats and the axis as an array index."""
    sig = np.asarray(sigma, dtype=np.float64)
    if sig.ndim != 3:
        raise BadInput("sigma", f"the conductivity map has shape {sig.shape}", "give a 3D [z, y, x] volume")
    if not np.all(np.isfinite(sig)) or np.any(sig < 0):
        raise BadInput("sigma", "conductivities must be finite and >= 0", "check the phase conductivities")
    sp = tuple(float(v) for v in spacing_array(spacing))
    ax = array_axis(axis)
    if sig.shape[ax] < 2:
        raise BadInput("axis", f"the volume has {sig.shape[ax]} voxel along {'zyx'[ax]}",
                       "choose an axis along which the volume has at least 2 voxels")
    return sig, sp, ax


def solve_conduction(sigma: np.ndarray, spacing, axis="z", *, sigma_ref: float | None = None,
                     flux_tol: float = 1e-6, maxiter: int = 500, fields: bool = False, method: str | None = None,
                     progress=None) -> dict:
    """Effective conductivity along ``axis`` of a voxel conductivity map.

    Parameters
    ----------
    sigma : (nz, ny, nx) float array
        Conductivity per voxel ``[z, y, x]`` (>= 0, any units; 0 = not conducting).
    spacing : float or (3,) floats, um
        Voxel size (dz, dy, dx); one number for cubic voxels.
    axis : {"z", "y", "x"} or {0, 1, 2}
        Direction of the potential drop: an axis name, or an index into the (z, y, x) array axes.
    sigma_ref : float, optional
        Reference (bulk) conductivity of ``D_eff``, in the units of ``sigma``; default the largest
        value in ``sigma``.
    flux_tol : float
        Accepted relative flux imbalance between inlet and outlet.
    maxiter : int
        Iteration limit of the solver (per round of the amg path).
    fields : bool
        Also return the potential and the flux density.
    method : {"multigrid", "amg"}, optional
        The solver (see the module docstring); default "multigrid" where numba is importable.
        A multigrid solve that does not converge in ``maxiter`` iterations is redone by "amg".
    progress : callable, optional
        ``progress(fraction, message)``.

    Returns
    -------
    dict
        ``D_eff`` (sigma_eff / sigma_ref, dimensionless), ``sigma_eff`` (units of ``sigma``),
        ``sigma_ref``, ``porosity`` (volume fraction of sigma > 0), ``percolating_fraction`` (of
        the volume), ``isolated_fraction`` (conducting but not connected to both faces, of the
        volume), ``tau`` (porosity / D_eff; inf if nothing percolates), ``macmullin`` (1 / D_eff),
        ``flux_in``, ``flux_out`` (sigma-units x um), ``flux_imbalance`` (relative),
        ``iterations``, ``unknowns`` (solved voxels; absent if nothing percolates), ``method``
        (the solver that produced the result), ``wall_s`` (s), ``axis`` ("z", "y" or "x"), and
        with ``fields``: ``potential`` (float32 (nz, ny, nx), 1 at the inlet plane to 0 at the
        outlet, NaN where not solved) and ``flux`` (float32 (nz, ny, nx, 3), components x, y, z,
        in sigma-units per um, 0 where not solved).

    Raises
    ------
    BadInput
        ``sigma`` not 3D or not finite and >= 0; an unknown ``axis`` or one with fewer than 2
        voxels; an unknown ``method``.

    Examples
    --------
    >>> import numpy as np
    >>> sigma = np.ones((6, 4, 4))
    >>> sigma[:, :, :2] = 0.0                           # half the cross-section conducts
    >>> r = solve_conduction(sigma, 0.5, "z")
    >>> print(f"D_eff {r['D_eff']:.6f}, tau {r['tau']:.6f}, axis {r['axis']}, {r['method']}")
    D_eff 0.500000, tau 1.000000, axis z, multigrid
    >>> print(f"{solve_conduction(sigma, 0.5, 0, method='amg')['sigma_eff']:.6f}")
    0.500000
    """
    t0 = time.perf_counter()
    sig, sp, ax = _check_conductivities(sigma, spacing, axis)
    ref = float(sig.max()) if sigma_ref is None else float(sigma_ref)
    porosity = float(np.count_nonzero(sig > 0)) / sig.size
    report(progress, 0.05, "percolation")
    active = percolating(sig, ax)
    n_act = int(np.count_nonzero(active))
    out = {"axis": "zyx"[ax], "porosity": porosity, "percolating_fraction": n_act / sig.size,
           "isolated_fraction": porosity - n_act / sig.size, "sigma_ref": ref}
    if n_act == 0 or ref <= 0:
        out.update(D_eff=0.0, sigma_eff=0.0, tau=float("inf"), macmullin=float("inf"), flux_in=0.0, flux_out=0.0,
                   flux_imbalance=0.0, iterations=0, method=method or "none", wall_s=round(time.perf_counter() - t0, 3))
        if fields:
            out["potential"] = np.full(sig.shape, np.nan, np.float32)
            out["flux"] = np.zeros(sig.shape + (3,), np.float32)
        return out

    method = _pick_method(method)
    kw = {"flux_tol": flux_tol, "maxiter": maxiter, "fields": fields, "progress": progress}
    sol = _METHODS[method](sig, active, sp, ax, **kw)
    if sol is None:
        method = _FALLBACK
        sol = _METHODS[method](sig, active, sp, ax, **kw)

    report(progress, 0.9, "results")
    out.update(_effective_properties(sol, sig.shape, sp, ax, ref, porosity))
    out.update(unknowns=n_act, method=method)
    if fields:
        out["potential"] = sol.potential
        out["flux"] = flux_density(sol.potential, sig, sp, ax)
    out["wall_s"] = round(time.perf_counter() - t0, 3)
    report(progress, 1.0, "done")
    return out


def _effective_properties(sol: _Solution, shape, sp, ax: int, ref: float, porosity: float) -> dict:
    """sigma_eff = Q L / (A dC) with dC = 1, and what follows from it."""
    length = shape[ax] * sp[ax]
    cross = np.prod([shape[i] * sp[i] for i in range(3) if i != ax])
    q = 0.5 * (sol.q_in + sol.q_out)
    sigma_eff = q * length / cross
    d_eff = sigma_eff / ref
    return {"D_eff": d_eff, "sigma_eff": sigma_eff, "tau": porosity / d_eff if d_eff > 0 else float("inf"),
            "macmullin": 1.0 / d_eff if d_eff > 0 else float("inf"), "flux_in": sol.q_in, "flux_out": sol.q_out,
            "flux_imbalance": sol.imbalance, "iterations": sol.iterations}


def flux_density(potential: np.ndarray, sigma: np.ndarray, spacing, axis) -> np.ndarray:
    """Voxel-centred flux density ``-sigma grad c`` of a solved potential.

    Per axis, the mean of the two face fluxes of a voxel over the face area (harmonic face
    conductances, as in the solve), the Dirichlet planes normal to ``axis`` included.

    Parameters
    ----------
    potential : (nz, ny, nx) float array
        The potential (1 at the inlet plane, 0 at the outlet), NaN where not solved.
    sigma : (nz, ny, nx) float array
        Conductivity per voxel.
    spacing : (3,) floats, um
        Voxel size (dz, dy, dx).
    axis : {"z", "y", "x"} or {0, 1, 2}
        The axis the potential drop was applied along (an index into the (z, y, x) array axes).

    Returns
    -------
    (nz, ny, nx, 3) float32 array
        Components in (x, y, z) order (VTK's), in sigma-units per um; 0 where not solved.

    Raises
    ------
    BadInput
        An unknown ``axis``.

    Examples
    --------
    >>> import numpy as np
    >>> pot = np.array([0.75, 0.25]).reshape(2, 1, 1)     # linear from 1 to 0 over 2 voxels
    >>> flux_density(pot, np.ones((2, 1, 1)), (1.0, 1.0, 1.0), "z")[:, 0, 0].tolist()
    [[0.0, 0.0, 0.5], [0.0, 0.0, 0.5]]
    """
    axis = array_axis(axis)
    sp = spacing
    c = np.nan_to_num(potential.astype(np.float64), nan=0.0)
    solved = np.isfinite(potential)
    out = np.zeros(potential.shape + (3,), dtype=np.float32)
    for a in range(3):
        lo = [slice(None)] * 3
        hi = [slice(None)] * 3
        lo[a], hi[a] = slice(0, -1), slice(1, None)
        lo, hi = tuple(lo), tuple(hi)
        both = solved[lo] & solved[hi]
        s1, s2 = sigma[lo], sigma[hi]
        g = np.where(both, 2.0 * s1 * s2 / np.maximum(s1 + s2, 1e-300), 0.0) / sp[a]   # per unit area
        face = g * (c[lo] - c[hi])                                         # flux density at faces
        acc = np.zeros(potential.shape)
        acc[lo] += face
        acc[hi] += face
        if a == axis:
            # the Dirichlet planes: c = 1 before the first layer, 0 after the last
            first = [slice(None)] * 3
            last = [slice(None)] * 3
            first[a], last[a] = 0, -1
            first, last = tuple(first), tuple(last)
            acc[first] += np.where(solved[first], 2.0 * sigma[first] / sp[a] * (1.0 - c[first]), 0.0)
            acc[last] += np.where(solved[last], 2.0 * sigma[last] / sp[a] * c[last], 0.0)
        out[..., 2 - a] = (0.5 * acc).astype(np.float32)
    out[~solved] = 0
    return out


def _network(phases, conductivities, cbd_factor) -> tuple[dict[str, float], str]:
    """The conducting phases with their conductivities, and the keyword that named them."""
    source = "phases" if conductivities is None else "conductivities"
    cond = {p: 1.0 for p in phases} if conductivities is None else dict(conductivities)
    if cbd_factor is not None:
        f = float(cbd_factor)
        if not np.isfinite(f) or f < 0:
            raise BadInput("cbd_factor", f"{cbd_factor!r} is not a value >= 0", "give e.g. cbd_factor=0.1")
        cond["cbd"] = f
    if not cond or max(cond.values()) <= 0:
        raise BadInput(source, "no conducting phase given",
                       "give e.g. phases=('pore',) or ('pore', 'crack'), or conductivities={'am': 10, 'cbd': 1}")
    return cond, source


def tortuosity(labels: np.ndarray, legend: dict[int, str], spacing, axis="z", *, phases=("pore",),
               conductivities: dict[str, float] | None = None, cbd_factor: float | None = None,
               flux_tol: float = 1e-6, fields: bool = False, method: str | None = None,
               progress=None) -> dict:
    """Tortuosity factor of a set of phases of a label volume along ``axis``.

    Parameters
    ----------
    labels : (nz, ny, nx) integer array
        Label ids (0..255) ``[z, y, x]``.
    legend : dict {int: str}
        Label id -> phase name.
    spacing : float or (3,) floats, um
        Voxel size (dz, dy, dx); one number for cubic voxels.
    axis : {"z", "y", "x"} or {0, 1, 2}
        Direction of the potential drop: an axis name, or an index into the (z, y, x) array axes.
    phases : sequence of str
        The conducting phases, each with conductivity 1 (the bulk value; the reference is then 1).
        Ignored when ``conductivities`` is given.
    conductivities : dict {str: float}, optional
        Phase name -> conductivity (>= 0, any units) instead of ``phases``; the reference is the
        largest value.
    cbd_factor : float, optional
        Relative effective conductivity of the nanoporous CBD (adds ``cbd`` with that value;
        e.g. 0.1).
    flux_tol : float
        Accepted relative flux imbalance (see :func:`solve_conduction`).
    fields : bool
        Also return the potential and the flux density.
    method : {"multigrid", "amg"}, optional
        The solver (see :func:`solve_conduction`).
    progress : callable, optional
        ``progress(fraction, message)``.

    Returns
    -------
    dict
        :func:`solve_conduction`'s dict plus ``phases`` (sorted names) and ``conductivities``.

    Raises
    ------
    BadInput
        A phase not in the legend or no conducting phase (names ``phases`` or
        ``conductivities``), a negative ``cbd_factor``, and :func:`solve_conduction`'s errors.

    Examples
    --------
    >>> import numpy as np
    >>> from electrovox.phases import DEFAULT_LEGEND
    >>> labels = np.full((8, 4, 4), 2, np.uint8)           # am
    >>> labels[:, :2, :] = 0                               # a straight pore slab along z
    >>> r = tortuosity(labels, DEFAULT_LEGEND, 0.5, "z", phases=("pore",))
    >>> print(f"porosity {r['porosity']:.3f}, tau {r['tau']:.6f}, phases {r['phases']}")
    porosity 0.500, tau 1.000000, phases ['pore']
    """
    cond, source = _network(phases, conductivities, cbd_factor)
    sigma = _conductivity_lut(legend, cond, source)[np.asarray(labels, dtype=np.uint8)]
    ref = 1.0 if conductivities is None else max(cond.values())
    res = solve_conduction(sigma, spacing, axis, sigma_ref=ref, flux_tol=flux_tol, fields=fields,
                           method=method, progress=progress)
    res["phases"] = sorted(cond)
    res["conductivities"] = cond
    return res
