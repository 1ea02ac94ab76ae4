"""Single-phase lattice Boltzmann (D3Q19, TRT or BGK, body force) on a fluid mask: the lattice core.

Two interchangeable implementations with the same state and the same arithmetic
(:mod:`electrovox.solvers.flow.kernels`):

- :class:`SparseLattice` (default): only fluid voxels are stored (indirect addressing through
  :func:`~electrovox.solvers.flow.lattice.neighbour_list`, bounce-back built into it), one
  population array updated in place by the AA pattern, numba kernels on all cores;
- :class:`DenseLattice`: every voxel stored, two lattices, streaming by ``np.roll``: a numpy
  reference for tests and very porous media.

Both advance in pairs of time steps (the AA pattern's even + odd step), after which the populations
are in their natural layout; :meth:`moments` then gives density and velocity on the fluid voxels.
Lattice units: dx = dt = 1, rho0 = 1, kinematic viscosity ``nu = (tau - 1/2) / 3``.
"""

from __future__ import annotations

import numpy as np

from electrovox.solvers.flow import kernels
from electrovox.solvers.flow.lattice import OPP, C, Q, W, fluid_index, link_table

#: TRT magic parameter that makes halfway bounce-back exact for plane Poiseuille flow
MAGIC = 3.0 / 16.0


def relaxation_rates(tau: float, collision: str = "trt", magic: float = MAGIC) -> tuple[float, float]:
    """(omega_plus, omega_minus) of TRT (``magic`` = Lambda) or BGK (both ``1/tau``).

    Parameters
    ----------
    tau : float
        Relaxation time of the symmetric moments (sets the viscosity), > 1/2.
    collision : {"trt", "bgk"}
    magic : float
        Lambda = (tau - 1/2)(tau_minus - 1/2) for TRT.

    Examples
    --------
    >>> relaxation_rates(1.0)
    (1.0, 1.1428571428571428)
    """
    if collision == "bgk":
        return 1.0 / tau, 1.0 / tau
    tau_minus = 0.5 + magic / (tau - 0.5)
    return 1.0 / tau, 1.0 / tau_minus


class SparseLattice:
    """Fluid-only D3Q19 lattice, AA pattern, numba (see the module docstring).

    Parameters
    ----------
    fluid : ndarray of bool, shape (nz, ny, nx)
        Fluid voxels; every axis is periodic.
    force : tuple of 3 floats
        Body force density (Fx, Fy, Fz) in lattice units.
    omegas : tuple of 2 floats
        (omega_plus, omega_minus).
    sigma : ndarray, shape (n_fluid,), optional
        Brinkman drag coefficient nu / k per fluid voxel (grey voxels), lattice units.
    dtype : numpy dtype
        Storage of the populations (float32 default, float64 switch).
    """

    def __init__(self, fluid, force, omegas, sigma=None, dtype=np.float32):
        self.fluid = np.asarray(fluid, dtype=bool)
        self.shape = self.fluid.shape
        self.nb = link_table(self.fluid)
        self.n_fluid = self.nb.shape[1]
        # array of structures: a voxel's 19 populations side by side, so the odd step's reads of
        # its neighbours come from a few contiguous streams (a plane above, the same plane, below)
        self.A = np.zeros((self.n_fluid, Q), dtype=dtype)
        self.force = tuple(float(f) for f in force)
        self.omegas = tuple(float(o) for o in omegas)
        self.sigma = (np.zeros(1, dtype=dtype) if sigma is None else np.asarray(sigma, dtype=dtype))
        self.has_sigma = sigma is not None

    def step_pair(self, n_pairs: int = 1) -> None:
        """Advance ``2 * n_pairs`` time steps (populations end in their natural layout)."""
        even, odd = kernels.kernels(self.A.dtype)
        t = self.A.dtype.type
        fx, fy, fz = (t(f) for f in self.force)
        omp, omm = (t(o) for o in self.omegas)
        for _ in range(n_pairs):
            even(self.A, self.nb, fx, fy, fz, self.sigma, self.has_sigma, omp, omm)
            odd(self.A, self.nb, fx, fy, fz, self.sigma, self.has_sigma, omp, omm)

    def populations(self) -> np.ndarray:
        """The shifted populations g_q = f_q - w_q, shape (19, n_fluid) (natural layout; a view)."""
        return self.A.T

    def moments(self):
        """(rho, u) on the fluid voxels: (n_fluid,), (n_fluid, 3) float64 (u with the force's half step)."""
        return _moments(self.A.T, self.force, self.sigma if self.has_sigma else None)

    def bounced(self, q: int) -> np.ndarray:
        """True where the population arriving along ``q`` came back from a wall (per fluid voxel)."""
        return self.nb[OPP[q]] // Q == np.arange(self.n_fluid, dtype=self.nb.dtype)

    def scatter(self, values: np.ndarray, fill=0.0) -> np.ndarray:
        """Fluid-voxel values onto the full grid ``[z, y, x]`` (``fill`` on solid voxels)."""
        out = np.full(self.shape + values.shape[1:], fill, dtype=values.dtype)
        out[self.fluid] = values
        return out


class DenseLattice:
    """Every voxel stored, two lattices, streaming by ``np.roll``: the numpy reference.

    Same parameters and results as :class:`SparseLattice` (bit for bit).
    """

    def __init__(self, fluid, force, omegas, sigma=None, dtype=np.float32):
        self.fluid = np.asarray(fluid, dtype=bool)
        self.shape = self.fluid.shape
        self.n_fluid = int(self.fluid.sum())
        self.f = np.zeros((Q,) + self.shape, dtype=dtype)
        self.force = tuple(float(f) for f in force)
        self.omegas = tuple(float(o) for o in omegas)
        self._collide = kernels.collide_numpy(dtype)
        self.sigma_grid = None
        if sigma is not None:
            self.sigma_grid = np.zeros(self.shape, dtype=dtype)
            self.sigma_grid[self.fluid] = np.asarray(sigma, dtype=dtype)
        # solid[q]: the voxel x - c_q is solid (the population arriving along q bounces back)
        self.from_solid = np.stack([~np.roll(self.fluid, shift=tuple(C[q][::-1]), axis=(0, 1, 2))
                                    for q in range(Q)])

    def _step(self):
        t = self.f.dtype.type
        g = [self.f[q] for q in range(Q)]
        sig = self.sigma_grid if self.sigma_grid is not None else t(0.0)
        res = self._collide(*g, *(t(f) for f in self.force), sig, *(t(o) for o in self.omegas))
        post = [np.asarray(res[q], dtype=self.f.dtype) for q in range(Q)]
        new = np.zeros_like(self.f)
        for q in range(Q):
            new[q] = np.roll(post[q], shift=tuple(C[q][::-1]), axis=(0, 1, 2))
            bb = self.from_solid[q] & self.fluid
            new[q][bb] = post[OPP[q]][bb]
            new[q][~self.fluid] = 0
        self.f = new

    def step_pair(self, n_pairs: int = 1) -> None:
        """Advance ``2 * n_pairs`` time steps."""
        for _ in range(2 * n_pairs):
            self._step()

    def populations(self) -> np.ndarray:
        """The shifted populations on the fluid voxels, shape (19, n_fluid), C order."""
        return self.f[:, self.fluid]

    def bounced(self, q: int) -> np.ndarray:
        """True where the population arriving along ``q`` came back from a wall (per fluid voxel)."""
        return self.from_solid[q][self.fluid]

    def moments(self):
        """(rho, u) on the fluid voxels, as :meth:`SparseLattice.moments`."""
        sig = self.sigma_grid[self.fluid] if self.sigma_grid is not None else None
        return _moments(self.populations(), self.force, sig)

    def scatter(self, values: np.ndarray, fill=0.0) -> np.ndarray:
        """Fluid-voxel values onto the full grid ``[z, y, x]``."""
        out = np.full(self.shape + values.shape[1:], fill, dtype=values.dtype)
        out[self.fluid] = values
        return out


def _moments(A, force, sigma, chunk: int = 1 << 18):
    """Density and velocity from natural-layout populations ``A`` (19, n), in chunks of voxels.

    The same expressions as the kernels, in float64, a chunk at a time (a float64 copy of all
    populations would double the solver's memory).
    """
    n = A.shape[1]
    rho = np.empty(n)
    u = np.empty((n, 3))
    for s0 in range(0, n, chunk):
        s1 = min(n, s0 + chunk)
        g = A[:, s0:s1].astype(np.float64)
        drho = g[0].copy()
        for q in range(1, Q):
            drho += g[q]
        rho[s0:s1] = 1.0 + drho
        den = rho[s0:s1] + (0.5 * sigma[s0:s1] if sigma is not None else 0.0)
        for a in range(3):
            j = np.zeros(s1 - s0)
            for q in range(Q):
                if C[q][a]:
                    j += C[q][a] * g[q]
            u[s0:s1, a] = (j + 0.5 * force[a]) / den
    return rho, u


def plane_fluxes(lattice, axis: int) -> np.ndarray:
    """Exact lattice mass flux through every plane between voxel layers along ``axis`` (array axis).

    The populations that crossed from layer ``s`` to ``s + 1`` in the last streaming, minus those
    that crossed back (bounced-back ones crossed nothing).  Streaming conserves mass link by link,
    so at steady state every plane carries the same flux exactly: the spread is the convergence
    measure, with no discretisation error in it (unlike sums of nodal velocities).

    Parameters
    ----------
    lattice : SparseLattice or DenseLattice
        In natural layout (after :meth:`step_pair`).
    axis : int
        Array axis (0 z, 1 y, 2 x) of the flow.

    Returns
    -------
    ndarray of float64, shape (n_layers,)
        Flux through the plane after layer ``s`` (periodic: the last plane joins the last and the
        first layer), lattice units (mass per step).
    """
    g = lattice.populations()
    layer = np.nonzero(lattice.fluid)[axis]
    n = lattice.shape[axis]
    comp = 2 - axis  # the array axis's velocity component (x is component 0, array axis 2)
    flux = np.zeros(n)
    for q in range(Q):
        c = int(C[q][comp])
        if c == 0:
            continue
        keep = ~lattice.bounced(q)
        # arriving along +axis in layer s came through the plane s-1|s; along -axis, through s|s+1
        planes = (layer[keep] - 1) % n if c > 0 else layer[keep]
        flux += c * np.bincount(planes, weights=g[q][keep].astype(np.float64), minlength=n)
    return flux


def equilibrium_check() -> float:
    """Largest deviation of sum_q w_q c_q c_q from c_s^2 I (a lattice self-check, 0 in exact arithmetic)."""
    m = np.einsum("q,qa,qb->ab", W, C.astype(float), C.astype(float))
    return float(np.abs(m - np.eye(3) / 3.0).max())


__all__ = ["DenseLattice", "SparseLattice", "relaxation_rates", "MAGIC", "fluid_index"]
