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
criterion in ``maxiter`` iterations is redone by the amg path.
"""

from __future__ import annotations

import time

import numpy as np
from scipy import ndimage, sparse

from electrovox.errors import BadInput
from electrovox.progress import report
from electrovox.volume import spacing_array

from . import multigrid

AXES = {"z": 0, "y": 1, "x": 2}


def conductivity_map(labels: np.ndarray, legend: dict[int, str], conductivities: dict[str, float]) -> np.ndarray:
    """float64 conductivity per voxel from a label volume: ``conductivities`` maps phase names to
    values (phases not named conduct nothing).  Raises BadInput for unknown phases."""
    names = set(legend.values())
    lut = np.zeros(256, dtype=np.float64)
    for phase, value in conductivities.items():
        if phase not in names:
            raise BadInput("--phases", f"phase {phase!r} is not in the legend ({', '.join(sorted(names))})",
                           "name phases of the legend, e.g. pore,crack")
        v = float(value)
        if not np.isfinite(v) or v < 0:
            raise BadInput("--phases", f"conductivity {value!r} of {phase} is not a finite value >= 0",
                           "give conductivities >= 0")
        for i, name in legend.items():
            if name == phase:
                lut[int(i)] = v
    return lut[np.asarray(labels, dtype=np.uint8)]


def percolating(sigma: np.ndarray, axis: int) -> np.ndarray:
    """bool mask of the conducting voxels (sigma > 0) face-connected to both faces normal to ``axis``."""
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


def solve_conduction(sigma: np.ndarray, spacing, axis="z", *, sigma_ref: float | None = None,
                     flux_tol: float = 1e-6, maxiter: int = 500, fields: bool = False, method: str | None = None,
                     progress=None) -> dict:
    """Effective conductivity along ``axis`` of a voxel conductivity map.

    Parameters
    ----------
    sigma : float array [z, y, x], conductivity per voxel (>= 0; any units).
    spacing : voxel size (dz, dy, dx) in um (one number: cubic).
    axis : "z" | "y" | "x" or 0 | 1 | 2 (array axis); the potential drop is applied along it.
    sigma_ref : reference (bulk) conductivity of D_eff; default the largest value in ``sigma``.
    flux_tol : accepted relative flux imbalance between inlet and outlet.
    method : "multigrid" (default where numba is importable) or "amg" (pyamg); see the module
        docstring.
    fields : also return the potential (float32 [z, y, x], NaN where not solved) and the flux
        density (float32 [z, y, x, 3], components x, y, z, in sigma-units per um, 0 where not solved).

    Returns a dict: ``D_eff`` (sigma_eff / sigma_ref), ``sigma_eff``, ``porosity`` (volume fraction
    of sigma > 0), ``percolating_fraction`` (of the volume), ``isolated_fraction`` (conducting but
    not connected to both faces, of the volume), ``tau`` (porosity / D_eff; inf if nothing
    percolates), ``macmullin`` (1 / D_eff), ``flux_in``, ``flux_out``, ``flux_imbalance``
    (relative), ``iterations``, ``method`` (the solver that produced the result), ``wall_s``,
    ``axis``, and with ``fields`` ``potential`` and ``flux``.
    """
    t0 = time.perf_counter()
    sig = np.asarray(sigma, dtype=np.float64)
    if sig.ndim != 3:
        raise BadInput("conduction", f"the conductivity map has shape {sig.shape}", "give a 3D [z, y, x] volume")
    if not np.all(np.isfinite(sig)) or np.any(sig < 0):
        raise BadInput("conduction", "conductivities must be finite and >= 0", "check the phase conductivities")
    sp = tuple(float(v) for v in spacing_array(spacing))
    ax = AXES.get(axis, axis) if isinstance(axis, str) else int(axis)
    if ax not in (0, 1, 2):
        raise BadInput("--axis", f"{axis!r} is not x, y or z", "give --axis x, y or z")
    if sig.shape[ax] < 2:
        raise BadInput("--axis", f"the volume has {sig.shape[ax]} voxel along {'zyx'[ax]}",
                       "choose an axis along which the volume has at least 2 voxels")
    ref = float(sig.max()) if sigma_ref is None else float(sigma_ref)
    porosity = float(np.count_nonzero(sig > 0)) / sig.size
    report(progress, 0.05, "percolation")
    active = percolating(sig, ax)
    n_act = int(np.count_nonzero(active))
    length = sig.shape[ax] * sp[ax]
    cross = np.prod([sig.shape[i] * sp[i] for i in range(3) if i != ax])
    out = {"axis": "zyx"[ax], "porosity": porosity, "percolating_fraction": n_act / sig.size,
           "isolated_fraction": porosity - n_act / sig.size, "sigma_ref": ref}
    if n_act == 0 or ref <= 0:
        out.update(D_eff=0.0, sigma_eff=0.0, tau=float("inf"), macmullin=float("inf"), flux_in=0.0, flux_out=0.0,
                   flux_imbalance=0.0, iterations=0, method=method or "none", wall_s=round(time.perf_counter() - t0, 3))
        if fields:
            out["potential"] = np.full(sig.shape, np.nan, np.float32)
            out["flux"] = np.zeros(sig.shape + (3,), np.float32)
        return out
    if method is None:
        method = "multigrid" if multigrid.HAVE_NUMBA else "amg"
    if method not in ("multigrid", "amg"):
        raise BadInput("method", f"{method!r} is not a solver", "give method='multigrid' or 'amg'")
    if method == "multigrid" and not multigrid.HAVE_NUMBA:
        method = "amg"                                     # pragma: no cover - numba is a dependency
    pot = None
    if method == "multigrid":
        report(progress, 0.15, "multigrid set-up and solve")
        order = [ax] + [i for i in range(3) if i != ax]
        sub = None if progress is None else (lambda f, m=None: report(progress, 0.15 + 0.75 * f, m))
        x_t, q_in, q_out, imbalance, iters, _info = multigrid.solve(
            np.moveaxis(sig, ax, 0), np.moveaxis(active, ax, 0), [sp[i] for i in order],
            flux_tol=flux_tol, maxiter=maxiter, progress=sub)
        if imbalance <= flux_tol:
            if fields:
                pot = np.full(sig.shape, np.nan, dtype=np.float32)
                pot_t = np.moveaxis(pot, ax, 0)
                act_t = np.moveaxis(active, ax, 0)
                pot_t[act_t] = x_t[act_t]
            del x_t
        else:
            method = "amg"                                 # not converged: redo by the amg path
    if method == "amg":
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
            tol *= 0.01                                    # tighten until the flux balances
        if fields:
            pot = np.full(sig.shape, np.nan, dtype=np.float32)
            pot[active] = x
    report(progress, 0.9, "results")
    q = 0.5 * (q_in + q_out)
    sigma_eff = q * length / cross                         # dC = 1
    d_eff = sigma_eff / ref
    out.update(D_eff=d_eff, sigma_eff=sigma_eff, tau=porosity / d_eff if d_eff > 0 else float("inf"),
               macmullin=1.0 / d_eff if d_eff > 0 else float("inf"), flux_in=q_in, flux_out=q_out,
               flux_imbalance=imbalance, iterations=iters, unknowns=n_act, method=method)
    if fields:
        out["potential"] = pot
        out["flux"] = flux_density(pot, sig, sp, ax)
    out["wall_s"] = round(time.perf_counter() - t0, 3)
    report(progress, 1.0, "done")
    return out


def flux_density(potential: np.ndarray, sigma: np.ndarray, spacing, axis: int) -> np.ndarray:
    """Voxel-centred flux density -sigma grad c, float32 [z, y, x, 3] (components x, y, z): the
    mean of the two face fluxes per axis over the face area, the Dirichlet planes included."""
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


def tortuosity(labels: np.ndarray, legend: dict[int, str], spacing, axis="z", *, phases=("pore",),
               conductivities: dict[str, float] | None = None, cbd_factor: float | None = None,
               flux_tol: float = 1e-6, fields: bool = False, method: str | None = None,
               progress=None) -> dict:
    """Tortuosity factor of a set of phases of a label volume along ``axis``.

    ``phases``: names of the conducting phases (conductivity 1 each, the bulk value) unless
    ``conductivities`` gives a value per phase; ``cbd_factor``: the relative effective
    conductivity of nanoporous CBD (adds ``cbd`` with that value; e.g. 0.1).  The reference
    conductivity is 1 for ``phases`` (the bulk electrolyte), else the largest value given.
    ``method``: the solver (see :func:`solve_conduction`).
    Returns :func:`solve_conduction`'s dict plus ``phases`` and ``conductivities``.
    """
    cond = {p: 1.0 for p in phases} if conductivities is None else dict(conductivities)
    if cbd_factor is not None:
        f = float(cbd_factor)
        if not np.isfinite(f) or f < 0:
            raise BadInput("--cbd-factor", f"{cbd_factor!r} is not a value >= 0", "give e.g. --cbd-factor 0.1")
        cond["cbd"] = f
    if not cond or max(cond.values()) <= 0:
        raise BadInput("--phases", "no conducting phase given", "give e.g. --phases pore or pore,crack")
    sigma = conductivity_map(labels, legend, cond)
    ref = 1.0 if conductivities is None else max(cond.values())
    res = solve_conduction(sigma, spacing, axis, sigma_ref=ref, flux_tol=flux_tol, fields=fields,
                           method=method, progress=progress)
    res["phases"] = sorted(cond)
    res["conductivities"] = cond
    return res
