"""Lithium diffusion inside the active-material voxels, driven by the flux through their surface.

Cell-centred finite volumes on the voxel grid (exact anisotropic voxels): the flux between two
face neighbours inside the active material is ``D A (c_i - c_j) / d`` (``A`` the face area, ``d``
the centre distance along that axis); faces between active material and anything else carry the
reaction's molar flux into the solid.  Time: backward Euler (unconditionally stable), the
symmetric positive-definite system solved by
one sparse LU factorisation per time-step size (reused).

Surface area: counted voxel faces overestimate a smooth surface (by 1.5 on average over
orientations); the reaction is applied per face with its flux density scaled by
``area_factor = true area / counted face area`` (the true area from the project's surface
estimator, :func:`electrovox.filters.quantify.surfaces.surface_area`), so the total molar flux
through the particles' surface is ``j x true area``, as in a continuum model.

Verification: :func:`crank_sphere` (a sphere under constant surface flux, Crank 1975 / Carslaw &
Jaeger) against a voxelised sphere in ``tests/test_echem_solid.py``.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.optimize import brentq
from scipy.sparse.linalg import splu

from electrovox.errors import BadInput

_OFFS = ((0, (1, 0, 0)), (1, (0, 1, 0)), (2, (0, 0, 1)))
#: largest system solved by sparse LU (above it: Jacobi-preconditioned CG, no fill-in)
DIRECT_LIMIT = 30_000


def conjugate_gradient(a, b, x0, tol: float, maxiter: int = 2000, precondition=None):
    """Preconditioned conjugate gradients for a symmetric positive-definite sparse ``a``.

    Written out (a dozen lines) rather than scipy's or pyamg's ``cg``: scipy's tolerance keyword
    changed name between the scipy versions of the two runtimes, and pyamg's spends more time in
    its own bookkeeping than in the multigrid cycle on these sizes.  Stops at
    ``||b - a x|| <= tol ||b||``.

    Parameters
    ----------
    a : sparse matrix, shape (n, n)
    b, x0 : ndarray, shape (n,)
    tol : float
    maxiter : int
    precondition : callable, optional
        ``z = precondition(r)``; default Jacobi (the inverse diagonal).

    Returns
    -------
    x : ndarray
        The solution.
    iterations : int
        Iterations done.
    """
    if precondition is None:
        dinv = 1.0 / a.diagonal()

        def precondition(r):
            return dinv * r
    # einsum, not @ or np.dot: those go through a threaded BLAS call that costs ~2 ms on a loaded
    # 2-core machine, 30-100 x the dot product itself
    def dot(u, v):
        return float(np.einsum("i,i->", u, v))
    x = np.array(x0, dtype=float)
    r = b - a @ x
    stop2 = tol * tol * dot(b, b)
    z = precondition(r)
    p = z.copy()
    rz = dot(r, z)
    for k in range(maxiter):
        if dot(r, r) <= stop2:
            return x, k
        ap = a @ p
        alpha = rz / dot(p, ap)
        x += alpha * p
        r -= alpha * ap
        z = precondition(r)
        rz, rz_old = dot(r, z), rz
        p = z + (rz / rz_old) * p
    return x, maxiter


def _faces(mask: np.ndarray):
    """Pairs of face-neighbour voxels inside ``mask`` and the surface faces, per array axis.

    Returns
    -------
    internal : list of (axis, i, j)
        Flat indices (into the masked voxels) of neighbours along each axis.
    surface : list of (axis, i)
        Masked voxels with a face on the boundary of the mask along each axis (one entry per face;
        the image box's faces are not surface).
    """
    idx = np.full(mask.shape, -1, dtype=np.int64)
    idx[mask] = np.arange(int(mask.sum()))
    internal, surface = [], []
    for axis, _ in _OFFS:
        lo = [slice(None)] * 3
        hi = [slice(None)] * 3
        lo[axis], hi[axis] = slice(0, -1), slice(1, None)
        a, b = idx[tuple(lo)], idx[tuple(hi)]
        both = (a >= 0) & (b >= 0)
        internal.append((axis, a[both], b[both]))
        surface.append((axis, np.concatenate([a[(a >= 0) & (b < 0)], b[(b >= 0) & (a < 0)]])))
    return internal, surface


class SolidDiffusion:
    """Diffusion of Li in the active material with a reaction flux through its surface.

    Parameters
    ----------
    mask : ndarray of bool, shape (nz, ny, nx)
        Active-material voxels.
    spacing_m : tuple of 3 float
        Voxel size (dz, dy, dx) in m.
    diffusivity : float
        Solid diffusivity D in m^2/s.
    c0 : float
        Initial concentration in mol/m^3.
    area_factor : float
        True surface area / counted voxel-face area (1: faces as they are).
    """

    def __init__(self, mask, spacing_m, diffusivity: float, c0: float, area_factor: float = 1.0):
        self.mask = np.asarray(mask, dtype=bool)
        if not self.mask.any():
            raise BadInput("mask", "holds no active-material voxel", "give labels with active material")
        if not diffusivity > 0:
            raise BadInput("diffusivity", f"{diffusivity} is not positive", "give D in m^2/s, e.g. 4e-15")
        self.sp = tuple(float(s) for s in spacing_m)
        self.volume = self.sp[0] * self.sp[1] * self.sp[2]
        self.n = int(self.mask.sum())
        internal, surface = _faces(self.mask)
        rows, cols, vals = [], [], []
        diag = np.zeros(self.n)
        for axis, i, j in internal:
            area = self.volume / self.sp[axis]
            g = diffusivity * area / self.sp[axis]
            rows += [i, j]
            cols += [j, i]
            vals += [np.full(i.size, -g), np.full(i.size, -g)]
            np.add.at(diag, i, g)
            np.add.at(diag, j, g)
        self.laplace = sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                                         shape=(self.n, self.n)) + sparse.diags(diag)
        # molar flux density j (mol/m^2/s, into the solid) -> mol/s per voxel: area of its surface faces
        self.surface_area = np.zeros(self.n)
        for axis, i in surface:
            np.add.at(self.surface_area, i, self.volume / self.sp[axis])
        self.surface_area *= area_factor
        self.surface = self.surface_area > 0
        self.c = np.full(self.n, float(c0))
        self._factor = None

    def step(self, dt: float, flux_density) -> int:
        """Advance by ``dt`` s with the surface molar flux density (mol/m^2/s, into the solid).

        Parameters
        ----------
        dt : float
            Time step in s.
        flux_density : float or ndarray of shape (n,)
            Flux into the solid per unit (true) surface area, per masked voxel (only surface
            voxels count).

        Returns
        -------
        int
            Linear-solver iterations (1 for the direct solver).
        """
        return self.step_source(dt, np.asarray(flux_density) * self.surface_area)

    def step_source(self, dt: float, source, tol: float = 1e-13) -> int:
        """Advance by ``dt`` s with a molar source per voxel (mol/s, shape (n,)).

        Up to :data:`DIRECT_LIMIT` voxels the system is factorised once per step size (sparse
        LU); above it, conjugate gradients with a Jacobi preconditioner from the current state
        (the matrix is the mass matrix plus D dt / h^2 times a Laplacian: well conditioned at the
        discharge's time steps, tens of iterations) to ``tol`` relative to the right-hand side.

        Returns
        -------
        int
            Linear-solver iterations (1 for the direct solver).
        """
        rhs = self.volume / dt * self.c + np.asarray(source, dtype=float)
        if self.n <= DIRECT_LIMIT:
            if self._factor is None or self._factor[0] != dt:
                # one sparse LU per time-step size, reused while dt does not change (the matrix is constant)
                m = (sparse.diags(np.full(self.n, self.volume / dt)) + self.laplace).tocsc()
                self._factor = (dt, splu(m))
            self.c = self._factor[1].solve(rhs)
            return 1
        m = self.laplace + sparse.diags(np.full(self.n, self.volume / dt))
        self.c, its = conjugate_gradient(m, rhs, self.c, tol)
        return its

    def total(self) -> float:
        """Lithium in the solid, mol (the conservation check: changes by the integrated surface flux)."""
        return float(self.c.sum() * self.volume)

    def field(self, fill=np.nan) -> np.ndarray:
        """The concentration on the image grid ``[z, y, x]`` (``fill`` outside the active material)."""
        out = np.full(self.mask.shape, fill)
        out[self.mask] = self.c
        return out


def _crank_roots(n: int) -> np.ndarray:
    """The first ``n`` positive roots of tan(a) = a."""
    return np.array([brentq(lambda a: np.tan(a) - a, k * np.pi + 1e-9, k * np.pi + np.pi / 2 - 1e-9)
                     for k in range(1, n + 1)])


def crank_sphere(r, t, radius: float, diffusivity: float, flux: float, c0: float = 0.0, terms: int = 200):
    """Concentration in a sphere under a constant surface flux: the exact series solution.

    Crank (The Mathematics of Diffusion) and Carslaw & Jaeger; the solver is verified against it.

    Parameters
    ----------
    r : float or ndarray
        Radius in m (0 < r <= radius).
    t : float
        Time in s.
    radius : float
        Sphere radius R in m.
    diffusivity : float
        D in m^2/s.
    flux : float
        Molar flux density into the sphere, mol/m^2/s (> 0 fills it).
    c0 : float
        Initial uniform concentration.
    terms : int
        Series terms.

    Returns
    -------
    float or ndarray
        ``c0 + (j R / D) [3 D t / R^2 + r^2 / (2 R^2) - 3/10
        - (2 R / r) sum_n sin(a_n r / R) / (a_n^2 sin a_n) exp(-a_n^2 D t / R^2)]``,
        ``tan a_n = a_n``.

    Examples
    --------
    At the surface, the surface formula ``3 D t / R^2 + 1/5 - 2 sum exp(...) / a_n^2``:

    >>> round(float(crank_sphere(1.0, 0.1, 1.0, 1.0, 1.0)), 6)
    0.486762
    """
    a = _crank_roots(terms)
    r = np.asarray(r, dtype=float)
    tau = diffusivity * t / radius ** 2
    x = r / radius
    series = (np.sin(np.multiply.outer(x, a)) / (a ** 2 * np.sin(a)) * np.exp(-a ** 2 * tau)).sum(axis=-1)
    return c0 + flux * radius / diffusivity * (3 * tau + x ** 2 / 2 - 3 / 10 - 2 / x * series)
