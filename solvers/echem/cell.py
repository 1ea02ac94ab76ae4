"""One implicit time step of the microstructure-resolved half cell (NMC811 | electrolyte | Li).

Unknowns on the mesh of :mod:`~electrovox.solvers.echem.mesh`: the solid potential phi_s of
every solid cell, the electrolyte potential phi_e and salt concentration c_e of every
electrolyte cell, the lithium concentration c_s of every active-material voxel, and the voltage
V of the current collector (the Li-metal electrode is the reference, 0 V).

A step of length dt (backward Euler) runs three solves in sequence, each implicit in its own
unknowns, with the concentrations of the start of the step in the coefficients (a semi-implicit
splitting, first order in dt like backward Euler itself; the time-step convergence is tested):

1. **Potentials** (charge conservation, quasi-static).  Per cell, the net current leaving it is
   zero: electronic conduction in the solid, ionic conduction in the electrolyte with the
   concentrated-solution diffusion potential
   ``i_e = -kappa grad phi_e + (2 R T / F) kappa (1 - t+) (1 + dln f/dln c) grad ln c_e``,
   Butler-Volmer on every reaction face (overpotential
   ``phi_s - phi_e - U(c_s) - i R_series``, ``R_series`` = CEI film + the half cells from the
   two cell centres to the face), Butler-Volmer of the Li foil on top of the separator, and the
   applied current leaving the collector node (galvanostatic: V is an unknown).  The Jacobian
   is symmetric positive definite (the reaction terms depend on phi_s - phi_e only), solved by
   Newton with CG preconditioned by Ruge-Stuben algebraic multigrid (pyamg), the
   hierarchy reused across Newton iterations and steps.
2. **Solid diffusion** in the active material with the reaction's molar flux through its faces
   (:class:`~electrovox.solvers.echem.solid.SolidDiffusion`).
3. **Salt transport**: ``eps dc/dt = div(beta D grad c) - div(t+ i_e / F) + reaction / F``, the
   migration written as the flux ``t+ I_face / F`` of the step's ionic face currents (so salt is
   conserved for a concentration-dependent t+ as well), diffusion implicit.

Conservation (checked every step by :meth:`CellModel.step`): the sum of the reaction currents
equals the applied current (Newton stops at 1e-10 of it); lithium in the solid grows by the
integrated reaction current / F; the salt in the electrolyte is constant.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit
from scipy import sparse
from scipy.sparse.linalg import spsolve

from electrovox.errors import BadInput
from electrovox.solvers.echem.kinetics import butler_volmer
from electrovox.solvers.echem.mesh import Mesh
from electrovox.solvers.echem.parameters import FARADAY, GAS_CONSTANT
from electrovox.solvers.echem.solid import SolidDiffusion, conjugate_gradient

__all__ = ["CellModel", "StepInfo", "StepFailed"]

#: systems up to this size are solved by sparse LU; larger ones by CG + algebraic multigrid
DIRECT_LIMIT = 20_000
#: linear tolerance of the first pass's Newton solves (that pass only seeds the second: its
#: currents set the second pass's linearisation; 1e-2 instead of 1e-4 left the sample's discharge
#: curve unchanged to 1e-5 mV at 1 um and saved 10 % of the run time)
PASS1_LINEAR_TOL = 1e-2
#: linear tolerance of the first Newton update of every potential solve (the stopping rule demands
#: a further update at the full tolerance, which corrects it)
FIRST_UPDATE_LINEAR_TOL = 1e-2
#: the salt solve's tolerance, relative to the right-hand side (eps V c / dt + sources), last pass
#: and earlier passes: the error it leaves in c is below 1e-6 of c (the smooth modes' error is at
#: most the residual over eps V / dt); the balance of the salt is exact whatever the tolerance
#: (:meth:`CellModel._transport` shifts c by the residual's sum)
SALT_TOL, SALT_TOL_SEED = 1e-6, 1e-4
#: the step control's stoichiometry limit may leave out the fastest-filling voxels that together
#: took up this share of a step's lithium (``StepInfo.bulk_dsto``).  Specks of active material of a
#: voxel or two (resampling and segmentation leave them; a lone voxel's faces-to-volume ratio is
#: 6/h) fill within about a minute on the finest grids and set the steps while they fill: 9 such
#: specks make the sample's 0.33 um run take 193 steps against 115 at 0.5 um.  Default 0 (every
#: voxel counts): measured on a 70 x 12 x 12 um crop of the sample at 0.33 um, a share of 0.01 cut
#: the steps 148 -> 124 but doubled the curve's departure from a reference with 4x tighter targets
#: (2.3 mV against 1.0 mV at most) and let the grown steps overfill the next speck (failed steps)
DSTO_TAIL_SHARE = 0.0


def bulk_change(change: np.ndarray, share: float) -> float:
    """The largest of ``change`` (>= 0) once its largest entries holding ``share`` of the sum are left out.

    Parameters
    ----------
    change : ndarray, shape (n,)
        Non-negative values (the voxels' changes of concentration in a step, mol/m^3; equal
        voxel volumes, so a share of the sum is a share of the lithium).
    share : float
        Share of the sum the left-out entries may hold (0: the maximum).

    Returns
    -------
    float
        The largest entry not left out (0 for an empty array).
    """
    if change.size == 0:
        return 0.0
    if share <= 0:
        return float(change.max())
    total = float(change.sum())
    if total <= 0:
        return float(change.max())
    # the answer v is at least (1 - share) x the mean (the entries left out hold at most `share` of the
    # sum, the rest at most v each), so only entries above (1 - share) x mean need sorting
    top = np.sort(change[change >= (1 - share) * total / change.size])[::-1]
    k = int(np.searchsorted(np.cumsum(top), share * total, side="right"))
    return float(top[min(k, top.size - 1)])


class StepFailed(RuntimeError):
    """A time step that did not converge (the caller retries with a smaller step)."""


@dataclass
class StepInfo:
    """What one time step did (all SI).

    Attributes
    ----------
    voltage_V : float
        Collector potential against the Li foil at the end of the step.
    newton : int
        Newton iterations of the potential solve.
    linear : int
        Linear-solver iterations of the step (potentials, salt and solid).
    charge_residual : float
        |sum of reaction currents + applied current| / applied current (or / the exchange-current
        scale at open circuit).
    lithium_residual : float
        |change of solid lithium - integrated reaction flux| / integrated flux (0 at open circuit).
    salt_residual : float
        |change of salt in the electrolyte| / salt.
    max_dsto : float
        Largest change of stoichiometry of an active-material voxel in the step.
    bulk_dsto : float
        The same among the voxels that took up all but ``DSTO_TAIL_SHARE`` of the step's lithium
        (the fastest-filling voxels holding that share are left out: specks of a few voxels).
    passes : int
        Passes of the potential / transport solves.
    coupling : float
        Share of the current that moved between faces in the last pass (0 for one pass).
    damped : int
        Active-material voxels whose prediction the predictor damped (:meth:`CellModel.step`).
    """

    voltage_V: float
    newton: int
    linear: int
    charge_residual: float
    lithium_residual: float
    salt_residual: float
    max_dsto: float
    passes: int = 1
    coupling: float = 0.0
    bulk_dsto: float = float("nan")
    damped: int = 0


class _Preconditioner:
    """A Ruge-Stuben V-cycle for a family of SPD matrices, its hierarchy rebuilt when it stops being good.

    The finest level smooths with the matrix of each solve; the coarse levels (built by pyamg from
    the matrix of the build, Galerkin products) are kept in float32 and restrict by the transpose
    of the prolongation (no stored restriction), which halves the hierarchy's memory (0.33 um
    sample: the potentials' hierarchy 1.06 -> 0.47 GB) for the same iteration counts (measured
    on the sample at 0.75 and 0.5 um): a preconditioner needs no more than float32's seven digits.

    Parameters
    ----------
    groups : ndarray of int, shape (n,), optional
        A coarse space of piecewise-constant vectors, one per group of unknowns (for the
        potentials: one per z layer and phase).  Through-thickness modes are the slowest for the
        algebraic multigrid here: the electrode is a transmission line along z, solid and
        electrolyte coupled only through the reaction's (small) conductances, and Ruge-Stuben's
        coarsening follows the strong conduction couplings inside each phase, so a potential
        difference between the phases that varies slowly along z is damped by neither its
        smoother nor its coarse grids.  An exact correction in the layer space, applied before
        and after the V-cycle (a symmetric multiplicative two-level preconditioner), halves the
        conjugate-gradient iterations on the sample (21 -> 11 at 0.75 um, 205 k unknowns, same
        1e-4 reduction; finer xy blocks than whole layers gain < 10 % for a much larger coarse
        matrix).
    """

    def __init__(self, groups=None):
        self.levels = None
        self.groups = None
        if groups is not None:
            g = np.unique(np.asarray(groups), return_inverse=True)[1].ravel()
            self.groups = sparse.csr_matrix((np.ones(g.size, np.float32), (np.arange(g.size), g)))
        self.coarse = None

    def reset(self):
        self.levels = None
        self.coarse = None

    def _build(self, a):
        """The hierarchy of ``a``: [(P, A_coarse), ...] in float32 and the coarsest level's LU.

        Ruge-Stuben (pyamg's classical strength, theta 0.25; its RS splitting; modified classical
        interpolation; Galerkin coarse operators: the components and defaults of
        ``pyamg.ruge_stuben_solver``), built level by level so that only the level being coarsened
        is held in float64 (pyamg's solver keeps every level in float64, with a stored
        restriction: its set-up was the discharge's peak of memory).  Ruge-Stuben takes 4-5x
        fewer CG iterations than smoothed aggregation on these systems (conductances over five
        decades, weak Butler-Volmer coupling); levels down to a sparse-LU coarse grid of at most
        500 unknowns.
        """
        from pyamg.classical.split import RS
        from pyamg.strength import classical_strength_of_connection
        from scipy.sparse.linalg import splu
        levels, mat = [], a.tocsr()
        while len(levels) < 29 and mat.shape[0] > 500:
            mat.sort_indices()
            strong = classical_strength_of_connection(mat, theta=0.25)
            split = RS(strong, second_pass=False)
            n_coarse = int(split.sum())
            if n_coarse in (0, split.size):
                break
            p = self._interpolation(mat, strong, split, n_coarse)
            del strong
            coarse = sparse.csr_matrix(p.T @ (mat @ p))
            levels.append((p.astype(np.float32), coarse.astype(np.float32)))
            mat = coarse
        self.levels = (levels, splu(mat.tocsc().astype(float)))

    @staticmethod
    def _interpolation(mat, strong, split, n_coarse):
        """Modified classical interpolation (pyamg's ``amg_core`` passes) of ``mat`` for ``split``.

        ``strong`` (the strength matrix, consumed) loses its strong F-F couplings without a common
        C point and takes ``mat``'s values on its pattern, a subset of ``mat``'s: looked up by
        (row, column) key instead of scipy's element-wise product, whose temporaries were the
        peak of the whole discharge's memory (0.2 GB at 0.5 um).
        """
        from pyamg import amg_core
        n = mat.shape[0]
        amg_core.remove_strong_FF_connections(n, strong.indptr, strong.indices, strong.data, split)
        strong.eliminate_zeros()
        # blocks of rows keep the int64 (row, column) keys small
        for r0 in range(0, n, 1 << 17):
            r1 = min(n, r0 + (1 << 17))
            ka, kc = ((np.repeat(np.arange(r1 - r0, dtype=np.int64), np.diff(m.indptr[r0:r1 + 1])) * n
                       + m.indices[m.indptr[r0]:m.indptr[r1]]) for m in (mat, strong))
            strong.data[strong.indptr[r0]:strong.indptr[r1]] = mat.data[mat.indptr[r0] + np.searchsorted(ka, kc)]
        indptr = np.empty_like(mat.indptr)
        amg_core.rs_classical_interpolation_pass1(n, strong.indptr, strong.indices, split, indptr)
        indices = np.empty(indptr[-1], dtype=indptr.dtype)
        data = np.empty(indptr[-1], dtype=mat.dtype)
        amg_core.rs_classical_interpolation_pass2(n, mat.indptr, mat.indices, mat.data, strong.indptr,
                                                  strong.indices, strong.data, split, indptr, indices, data, True)
        return sparse.csr_matrix((data, indices, indptr), shape=(n, n_coarse))

    def _v_cycle(self, a32, r):
        """One V-cycle from zero on ``r`` (float64), in float32, with ``a32`` on the finest level.

        One forward Gauss-Seidel sweep before the coarse correction and one backward after (the
        cycle stays symmetric): half pyamg's default two symmetric sweeps, 15-30 % less time per
        solve for 10 % more iterations (measured on the sample at 0.75 um).  The finest level too
        smooths in float32 (``a32``: the solve's matrix with float32 values): its matrix-vector
        products move a third fewer bytes, for the same CG iterations (the outer CG, residuals
        and updates, stays in float64).  The cycle's rounding makes it slightly unsymmetric: at
        1e-8 the true residual of a 0.5 um potentials solve ended 4x above CG's recursive one
        (26 iterations either way); the model asks 1e-4 (potentials) and 1e-6 (salt), where the
        true residual stays below the tolerance (measured on the same systems: 8.4e-5 and
        8.8e-7, as with the float64 finest level).

        A loop, not a recursive closure: a nested function that calls itself is a reference
        cycle, freed only by Python's cyclic garbage collector, which numpy-heavy code seldom
        triggers; each such cycle kept the hierarchy it captured alive after a rebuild, and the
        discharge's memory grew by one hierarchy per rebuild (0.75 um: 0.1 -> 0.34 GB in use).

        Returns
        -------
        ndarray of float64, shape (n,)
        """
        from pyamg import amg_core
        levels, lu = self.levels
        mats = [a32] + [coarse for _, coarse in levels]
        b = np.asarray(r, dtype=np.float32)
        down = []                                   # (x, b) of each level on the way down
        for k, (p, _) in enumerate(levels):
            mat = mats[k]
            x = np.zeros_like(b)
            amg_core.gauss_seidel(mat.indptr, mat.indices, mat.data, x, b, 0, b.size, 1)
            down.append((x, b))
            b = np.asarray(p.T @ (b - mat @ x), dtype=np.float32)
        y = lu.solve(b.astype(float)).astype(np.float32)
        for k in range(len(levels) - 1, -1, -1):
            (x, b), mat = down[k], mats[k]
            x += levels[k][0] @ y
            amg_core.gauss_seidel(mat.indptr, mat.indices, mat.data, x, b, b.size - 1, -1, -1)
            y = x
        return y.astype(np.float64)       # CG's search directions stay in float64

    def _build_coarse(self, a):
        """The layer space of ``a``: Z^T A Z (and its Cholesky factors), Z^T and A Z."""
        from scipy.linalg import cho_factor
        z = self.groups
        az = sparse.csr_matrix(a @ z)
        ac = (z.T @ az).toarray().astype(float)
        self.coarse = (cho_factor(ac), z.T.tocsr(), az, ac)

    def _precondition(self, a):
        """The preconditioner for ``a``: layer correction, V-cycle on the rest, layer correction.

        With y1 = (Z^T A Z)^-1 Z^T r and v the V-cycle of r - A Z y1, the second correction's
        right-hand side Z^T (r - A (Z y1 + v)) is Z^T r - (Z^T A Z) y1 - (A Z)^T v (A is
        symmetric): products with the stored A Z (a few entries per row) instead of two products
        with A (7 per row), 15 % of a CG iteration at 0.5 um.
        """
        a32 = sparse.csr_matrix((a.data.astype(np.float32), a.indices, a.indptr), shape=a.shape)
        if self.groups is None:
            return lambda r: self._v_cycle(a32, r)
        from scipy.linalg import cho_solve
        (cf, zt, az, ac), z = self.coarse, self.groups

        def apply(r):
            ztr = zt @ r
            y1 = cho_solve(cf, ztr)
            v = self._v_cycle(a32, r - az @ y1)
            y2 = cho_solve(cf, ztr - ac @ y1 - az.T @ v)
            v += z @ (y1 + y2)
            return v
        return apply

    def solve(self, a, b, x0, tol, maxiter=200):
        if a.shape[0] <= DIRECT_LIMIT:
            # small systems: a sparse LU is exact and faster than building and cycling a hierarchy
            return spsolve(a.tocsc(), b), 1, 0
        if self.levels is None:
            self._build(a)
        if self.groups is not None:
            # the layer space is exact for each matrix (cheap: one sparse product and a dense
            # Cholesky of a few hundred unknowns), the hierarchy is reused
            self._build_coarse(a)
        x, its = conjugate_gradient(a, b, x0, tol, maxiter, precondition=self._precondition(a))
        self.coarse = None              # A Z is rebuilt with the next matrix: not kept between solves
        if its > 25:                    # the hierarchy no longer fits the matrix: rebuild next time
            self.levels = None
        return x, its, 0 if its < maxiter else its


class _Pattern:
    """A square sparse matrix of fixed pattern, assembled by one ``bincount``.

    The values of its (row, col) entries come in one fixed order, with repeats (summed).

    The Newton matrices change every iteration but not their pattern; scipy's ``A + B^T G B``
    and COO conversion re-sort and re-merge every time (~5 % of a discharge's run time).  One
    CSR matrix is kept and its values replaced (no copies of the index arrays per iteration).
    """

    def __init__(self, rows, cols, n: int):
        key = np.asarray(rows, np.int64) * n
        key += cols
        uniq, slot = np.unique(key, return_inverse=True)          # sorted: CSR order
        del key
        # int32 slots (< 2^31 entries): the largest array the pattern keeps
        self.slot = slot.ravel().astype(np.int32 if uniq.size < 2**31 else np.int64)
        del slot
        self.nnz = uniq.size
        indptr = np.concatenate([[0], np.cumsum(np.bincount(uniq // n, minlength=n))])
        self._matrix = sparse.csr_matrix((np.zeros(self.nnz), (uniq % n).astype(np.int32), indptr.astype(np.int32)),
                                         shape=(n, n))
        self._matrix.has_sorted_indices = True
        self.n = n

    def matrix(self, parts) -> sparse.csr_matrix:
        """The CSR matrix with the entries' values given in parts: ``[(weights, sign), ...]``.

        The parts' weights, each times its sign, are the values of the entries in order.  They
        are added into the matrix's values in place (no concatenated copy of the ~12 values per
        unknown: 0.2 GB at 0.33 um, the discharge's peak of memory), in the entries' order, so
        the sums are those of a ``bincount`` of the concatenation.  The same matrix object every
        call: a matrix from an earlier call takes the new values.
        """
        data = self._matrix.data
        data[:] = 0.0
        start = 0
        for weights, sign in parts:
            w = np.ascontiguousarray(weights, dtype=np.float64)
            _scatter_add(data, self.slot, start, w, float(sign))
            start += w.size
        if start != self.slot.size:
            raise ValueError(f"{start} values for a pattern of {self.slot.size} entries")
        return self._matrix


@njit(cache=True)
def _scatter_add(data, slot, start, weights, sign):
    """``data[slot[start + i]] += sign * weights[i]`` for every i, in order (repeats add)."""
    for i in range(weights.size):
        data[slot[start + i]] += sign * weights[i]


#: the state arrays of the predictor's damping (:meth:`CellModel._prepare_damping`)
DAMPING_STATE = ("damp_voxels", "damp_rate", "damp_faces", "damp_centre")


class CellModel:
    """The half cell on a mesh: state and one backward-Euler step.

    Parameters
    ----------
    mesh : Mesh
        Cells and faces.
    params : EchemParameters
        The parameter set.
    current_A : float
        Applied current, A (> 0 lithiates the NMC: the study's discharge; 0 = open circuit).
    film_ohm_m2 : ndarray, shape (n_reaction,)
        CEI film area resistance of each reaction face, Ohm m^2.

    Attributes
    ----------
    dsto_tail_share : float
        Share of a step's lithium whose fastest-filling voxels ``StepInfo.bulk_dsto`` leaves out.
    predictor : bool
        After the first step, seed each step's last pass with the last step's rates instead of
        the passes before it (:meth:`step`).
    damping : bool
        Predict a voxel whose face current reversed between the last two steps from the mean of
        those steps (:meth:`_prepare_damping`).
    """

    dsto_tail_share = DSTO_TAIL_SHARE
    predictor = True
    damping = True

    def __init__(self, mesh: Mesh, params, current_A: float, film_ohm_m2=None):
        self.mesh = m = mesh
        self.p = params
        self.current = float(current_A)
        self.T = params.cell.temperature_K
        self.f = FARADAY / (GAS_CONSTANT * self.T)
        pos = params.positive
        self.cmax = pos.max_concentration_mol_m3
        self.ce0 = params.electrolyte.initial_concentration_mol_m3
        self.film = np.zeros(m.r_area.size) if film_ohm_m2 is None else np.asarray(film_ohm_m2, float)
        self.n = m.n_solid + m.n_electrolyte + 1
        self.cc = self.n - 1
        ns = m.n_solid
        # solid diffusion; the molar source of each AM voxel gathers its reaction faces
        am_mask = m.am_mask
        self.solid = SolidDiffusion(am_mask, (m.dz[0], m.dy, m.dx), pos.diffusivity_m2_s,
                                    pos.sto_min * self.cmax)
        self.r_am = m.am_index[m.r_solid]
        self.voxel_area = np.bincount(self.r_am, weights=m.r_area, minlength=m.n_am)   # m^2 per AM voxel
        self.solid_diag = self.solid.laplace.diagonal()                                 # m^3/s per AM voxel
        # solid conduction: Laplacian + collector node (face by face)
        a, b = m.s_faces[:2]
        cc = m.cc_solid
        node = np.full(cc.size, self.cc, dtype=m.solid_index.dtype)
        rows = np.concatenate([a, b, a, b, cc, cc, node, node])
        cols = np.concatenate([b, a, a, b, cc, node, cc, node])
        # the Jacobian's pattern: solid conduction (constant values), electrolyte faces,
        # reaction faces (B^T G B: +g on both diagonals, -g between), Li-foil cells
        ea, eb = ns + m.e_faces[0], ns + m.e_faces[1]
        rs, re = m.r_solid, ns + m.r_electrolyte
        li = ns + m.li_electrolyte
        self.J_pattern = _Pattern(np.concatenate([rows, ea, eb, ea, eb, rs, re, rs, re, li]),
                                  np.concatenate([cols, eb, ea, ea, eb, rs, re, re, rs, li]), self.n)
        a, b = m.e_faces[:2]
        ne = m.n_electrolyte
        self.M_pattern = _Pattern(np.concatenate([a, b, a, b, np.arange(ne)]),
                                  np.concatenate([b, a, a, b, np.arange(ne)]), ne)
        self.ce = np.full(m.n_electrolyte, self.ce0)
        # the salt's rate of change over the last step, mol/m^3/s: the first pass extrapolates
        # along it for the salt solve's starting guess (part of the state, so a resumed run
        # starts its solves where the uninterrupted one does)
        self.ce_rate = np.zeros(m.n_electrolyte)
        u0 = pos.ocp(pos.sto_min)
        self.phi = np.zeros(self.n)
        self.phi[:ns] = u0
        self.phi[self.cc] = u0
        # potentials: one coarse vector per z layer and phase (the collector node with the solid)
        sz = np.nonzero(m.solid_index >= 0)[0][np.argsort(m.solid_index[m.solid_index >= 0], kind="stable")]
        ez = np.nonzero(m.electrolyte_index >= 0)[0][np.argsort(m.electrolyte_index[m.electrolyte_index >= 0],
                                                                 kind="stable")]
        self.pc_potential = _Preconditioner(np.concatenate([2 * sz, 2 * ez + 1, [0]]))
        self.pc_salt = _Preconditioner()
        self.last_j = np.zeros(m.r_area.size)
        # the solid's rate of change over the last step, mol/m^3/s (None before the first step):
        # with ``last_j`` it predicts the next step's end (the predictor, :meth:`step`)
        self.cs_rate = None
        # the next step's damped predictions (:meth:`_prepare_damping`): the voxels and their
        # rates, the faces and their linearisation centres (a few hundred at most, so the state
        # holds no second full copy of the rates and currents)
        self.damp_voxels, self.damp_rate = np.zeros(0, np.int64), np.zeros(0)
        self.damp_faces, self.damp_centre = np.zeros(0, np.int64), np.zeros(0)

    # -- properties ----------------------------------------------------------------------------
    @property
    def cs(self) -> np.ndarray:
        """Lithium concentration of every active-material voxel, mol/m^3 (shape (n_am,))."""
        return self.solid.c

    @property
    def voltage(self) -> float:
        """Collector potential against Li, V."""
        return float(self.phi[self.cc])

    def mean_sto(self) -> float:
        """Mean stoichiometry of the active material."""
        return float(self.solid.c.mean() / self.cmax)

    def state(self) -> dict:
        """The state arrays (live)."""
        st = {"cs": self.solid.c, "ce": self.ce, "phi": self.phi, "ce_rate": self.ce_rate, "last_j": self.last_j}
        if self.cs_rate is not None:
            st["cs_rate"] = self.cs_rate
        for name in DAMPING_STATE:
            st[name] = getattr(self, name)
        return st

    def load_state(self, st: dict) -> None:
        """Restore :meth:`state`."""
        self.solid.c = np.array(st["cs"], dtype=float)
        self.ce = np.array(st["ce"], dtype=float)
        self.phi = np.array(st["phi"], dtype=float)
        self.ce_rate = np.array(st["ce_rate"], dtype=float) if "ce_rate" in st else np.zeros_like(self.ce)
        if "last_j" in st:
            self.last_j = np.array(st["last_j"], dtype=float)
        self.cs_rate = np.array(st["cs_rate"], dtype=float) if "cs_rate" in st else None
        for name in DAMPING_STATE:
            dtype = np.int64 if name.endswith(("voxels", "faces")) else float
            setattr(self, name, np.array(st[name], dtype=dtype) if name in st else np.zeros(0, dtype))

    def reset_preconditioners(self) -> None:
        """Drop the multigrid hierarchies (rebuilt from the next matrices)."""
        self.pc_potential.reset()
        self.pc_salt.reset()

    # -- the electrolyte's coefficients at the start of a step ---------------------------------
    def _electrolyte_faces(self, ce):
        m, e, T = self.mesh, self.p.electrolyte, self.T
        a, b, g = m.e_faces
        cf = 0.5 * (ce[a] + ce[b])
        kappa = g * e.conductivity(cf, T)
        diff = g * e.diffusivity(cf, T)
        tplus = e.transference_number(cf, T)
        kd = 2.0 / self.f * (1.0 - tplus) * e.thermodynamic_factor(cf, T)
        return a, b, kappa, diff, tplus, kd

    # -- 1. potentials ------------------------------------------------------------------------
    def _conduction_residual(self, x, kappa):
        """Net conduction current leaving every unknown, A.

        ``A @ x`` summed face by face: each face's current from a potential difference, so the
        rounding is relative to the currents, not to g x, which would floor the charge balance
        far above 1e-10 of a voxel model's picoamperes.
        """
        m = self.mesh
        ns = m.n_solid
        out = np.zeros(self.n)
        a, b, g = m.s_faces
        i = g * (x[a] - x[b])
        np.add.at(out, a, i)
        np.add.at(out, b, -i)
        a, b = m.e_faces[0] + ns, m.e_faces[1] + ns
        i = kappa * (x[a] - x[b])
        np.add.at(out, a, i)
        np.add.at(out, b, -i)
        i = m.cc_conductance * (x[m.cc_solid] - x[self.cc])
        np.add.at(out, m.cc_solid, i)
        out[self.cc] -= i.sum()
        return out

    def _potentials(self, ce, cs, dt=0.0, j_prev=None, x0=None, tol=1e-9, dx_tol=1e-4, max_newton=25, lin_tol=1e-4):
        m, p = self.mesh, self.p
        ns = m.n_solid
        a, b, kappa, _, _, kd = self._electrolyte_faces(ce)
        ea, eb = ns + a, ns + b
        # constant part of the residual: diffusion potential and the applied current
        lnc = np.log(np.maximum(ce, 1e-12))
        idiff = kappa * kd * (lnc[a] - lnc[b])          # current a -> b carried by the c gradient
        const = np.zeros(self.n)
        np.add.at(const, ea, -idiff)
        np.add.at(const, eb, idiff)
        const[self.cc] += self.current
        del lnc, idiff, kd
        # reaction coefficients
        cs_face = cs[self.r_am]
        ce_face = ce[m.r_electrolyte]
        kap_e = p.electrolyte.conductivity(ce_face, self.T)
        u = p.positive.ocp(cs_face / self.cmax)
        # a floor of 1e-9 of the rate constant's scale keeps a saturated face (x = 1: i0 = 0) in the
        # Jacobian; it carries no current worth counting (the step control keeps x below 1)
        i0 = np.maximum(p.positive_i0(ce_face, cs_face), 1e-9 * FARADAY * p.positive.rate_constant_mol_m2_s)
        # the OCP at the face, not at the voxel centre: the flux through the face needs a surface
        # concentration above the centre's by N h / (2 D) (the half voxel in quasi-steady state),
        # and U(x_face) = U(x) + U'(x) dx is a series resistance -U' w h / (2 D F c_max) on the face
        # (w: reaction / geometric face area).  Without it the surface concentration lags by
        # half a voxel: a first-order grid error of ~10 mV at 1 um voxels.
        sto = cs_face / self.cmax
        hi, lo = np.minimum(sto + 1e-4, 1.0), np.maximum(sto - 1e-4, 0.0)
        du = (p.positive.ocp(hi) - p.positive.ocp(lo)) / (hi - lo)
        r_diff = np.maximum(-du, 0.0) * m.r_weight * m.r_length_solid / (
            2 * p.positive.diffusivity_m2_s * FARADAY * self.cmax)
        # the voxel fills during the step: U(c + dc(j)) ~ U(c) + U' dc, dc = -j A dt / (F V): a
        # series resistance R_cap = -U' A dt / (F V c_max) about the previous pass's current.  This
        # makes the passes of :meth:`step` a (quasi-)Newton iteration; without it they diverge once
        # the OCP's feedback over a step exceeds the kinetic resistance (steps of tens of seconds)
        # (A: the voxel's whole reacting area, as its faces share one concentration and move
        # together; V / dt + the diffusion conductances to its neighbours: the voxel's response to
        # its source in the backward-Euler solid step, neighbours held - Jacobi's estimate)
        resp = dt / (self.solid.volume + dt * self.solid_diag)
        r_cap = np.maximum(-du, 0.0) * self.voxel_area[self.r_am] * resp[self.r_am] / (FARADAY * self.cmax)
        if j_prev is not None:
            u = u - r_cap * j_prev
        r_series = self.film + m.r_half_solid + m.r_half_electrolyte / kap_e + r_diff + r_cap
        # the face arrays above are not needed in the Newton loop: freed before it (and before a
        # multigrid set-up inside it, the peak of memory)
        del cs_face, ce_face, kap_e, sto, hi, lo, du, r_diff, resp, r_cap
        pos = p.positive
        li = m.li_electrolyte
        li_i0 = p.counter.exchange_current_density(ce[li], self.ce0)
        li_r = m.li_half / p.electrolyte.conductivity(ce[li], self.T)
        # at open circuit the balance is measured against 1 % of the exchange current of the surface
        scale = abs(self.current) if self.current != 0 else 1e-2 * float(np.sum(m.r_area * i0))
        x = (self.phi if x0 is None else x0).copy()
        lin, last_dx, err, loose = 0, np.inf, np.inf, False
        for it in range(1, max_newton + 1):
            eta = x[m.r_solid] - x[ns + m.r_electrolyte] - u
            j, gj = butler_volmer(eta, i0, self.T, pos.alpha_anodic, pos.alpha_cathodic, r_series, tol=1e-15)
            jl, gl = butler_volmer(-x[ns + li], li_i0, self.T, p.counter.alpha, 1 - p.counter.alpha, li_r, tol=1e-15)
            q = m.r_area * j
            # converged: the charge balances of the positive electrode and of the Li foil hold to
            # `tol` of the current and the last Newton update moved no potential by more than
            # `dx_tol` (a row-wise residual norm has a rounding floor of ~1e-7 x the current here).
            # Newton converges quadratically here: after an update of 1e-6 V the next one is
            # ~1e-12 V (measured on the sample), so an iterate reached by an update below 1e-5 V
            # is within ~1e-9 V of the solution (the 1e-4 linear tolerance's share included)
            err = max(abs(q.sum() + self.current), abs(float(np.sum(m.li_area * jl)) - self.current)) / scale
            if last_dx <= dx_tol and loose:
                last_dx = np.inf                # a loose update, however small, is not the last
            if err > tol and last_dx <= dx_tol:
                # the potentials have converged but the global balances not yet (the inexact linear
                # solves leave ~1e-7 of the current): close them by two uniform shifts instead of
                # another Newton iteration, whose update would be ~1e-10 V (measured on the sample)
                x, j, jl = self._close_balances(x, u, i0, r_series, li_i0, li_r)
                q = m.r_area * j
                err = max(abs(q.sum() + self.current), abs(float(np.sum(m.li_area * jl)) - self.current)) / scale
            if err <= tol and last_dx <= dx_tol:
                return x, j, jl, it - 1, lin, err
            res = self._conduction_residual(x, kappa) + const
            np.add.at(res, m.r_solid, q)
            np.add.at(res, ns + m.r_electrolyte, -q)
            res[ns + li] -= m.li_area * jl
            g = m.r_area * gj
            # the values in the pattern's order: solid conduction and collector (constant),
            # electrolyte conduction, reaction faces, Li foil (formed here, not kept: at 0.33 um
            # this array is 0.2 GB)
            sg, cg = m.s_faces[2], m.cc_conductance
            J = self.J_pattern.matrix([(sg, -1), (sg, -1), (sg, 1), (sg, 1), (cg, 1), (cg, -1), (cg, -1), (cg, 1),
                                       (kappa, -1), (kappa, -1), (kappa, 1), (kappa, 1),
                                       (g, 1), (g, 1), (g, -1), (g, -1), (m.li_area * gl, 1)])
            # inexact Newton: 1e-4 of the residual per solve (tighter solves cost CG iterations
            # and do not save Newton iterations while the nonlinearity dominates); the first
            # update of a solve only to 1e-2: the next update corrects its error (1e-2 of ~1 mV)
            # along with the nonlinearity's, and the stopping rule needs that next update anyway
            solve_tol = max(lin_tol, FIRST_UPDATE_LINEAR_TOL) if it == 1 else lin_tol
            dx, its, _ = self.pc_potential.solve(J, -res, np.zeros(self.n), tol=solve_tol)
            loose = solve_tol > lin_tol
            lin += its
            if not np.all(np.isfinite(dx)):
                raise StepFailed("the potential solve returned non-finite values")
            # damp steps larger than 0.1 V (far from the solution BV's exponentials overshoot)
            last_dx = float(np.abs(dx).max())
            x += dx * min(1.0, 0.1 / last_dx) if last_dx > 0 else dx
        raise StepFailed(f"Newton did not converge in {max_newton} iterations (charge residual {err:.2e})")

    def _close_balances(self, x, u, i0, r_series, li_i0, li_r, iters: int = 10):
        """Close the Li foil's and the positive electrode's charge balances by two uniform shifts.

        The electrolyte potential, then the solid potential (collector included), each moves by
        one constant so that the foil's and the positive's reaction currents each equal the
        applied current (scalar Newton on monotone Butler-Volmer sums).

        A uniform shift leaves every conduction current unchanged; it moves each reaction face's
        current by its conductance times the shift, a local imbalance of the size of the global
        one it removes (~1e-7 of the current after an update below ``dx_tol``).

        Returns
        -------
        x : ndarray, shape (n,)
            The shifted potentials, V.
        j, jl : ndarray
            The reaction current densities of the positive's faces and of the Li foil, A/m^2.
        """
        m, p, ns = self.mesh, self.p, self.mesh.n_solid
        pos, li = p.positive, m.li_electrolyte
        x = x.copy()
        for _ in range(iters):
            jl, gl = butler_volmer(-x[ns + li], li_i0, self.T, p.counter.alpha, 1 - p.counter.alpha, li_r, tol=1e-15)
            d = (float(np.sum(m.li_area * jl)) - self.current) / float(np.sum(m.li_area * gl))
            x[ns:self.cc] += d                  # the foil's current falls as phi_e rises
            if abs(d) < 1e-14:
                break
        for _ in range(iters):
            eta = x[m.r_solid] - x[ns + m.r_electrolyte] - u
            j, gj = butler_volmer(eta, i0, self.T, pos.alpha_anodic, pos.alpha_cathodic, r_series, tol=1e-15)
            d = -(float(np.sum(m.r_area * j)) + self.current) / float(np.sum(m.r_area * gj))
            x[:ns] += d
            x[self.cc] += d
            if abs(d) < 1e-14:
                break
        eta = x[m.r_solid] - x[ns + m.r_electrolyte] - u
        j, _ = butler_volmer(eta, i0, self.T, pos.alpha_anodic, pos.alpha_cathodic, r_series, tol=1e-15)
        jl, _ = butler_volmer(-x[ns + li], li_i0, self.T, p.counter.alpha, 1 - p.counter.alpha, li_r, tol=1e-15)
        return x, j, jl

    # -- the step ----------------------------------------------------------------------------------
    def step(self, dt: float, passes: int = 2) -> StepInfo:
        """Advance the state by ``dt`` s (backward Euler).  Raises :class:`StepFailed`.

        Pass 1 solves the potentials with the OCP linearised in the step's own lithiation of each
        surface voxel (a series resistance ``R_cap``: linearly implicit Euler), then the solid and
        the salt.  Pass 2 (and further ``passes``) solves the potentials again with the
        end-of-step concentrations (OCP, exchange currents, conductivities) and redoes the
        transport, so the step is implicit in every unknown up to the last pass's change; that
        change (the share of the current that moved between faces, ``StepInfo.coupling``) feeds
        the step-size control.

        With :attr:`predictor` (the default), every step after the first runs the last pass only,
        seeded by a prediction instead of the passes before it: the end-of-step concentrations
        extrapolated along the last step's rates, and the last step's face currents as the centre
        of the ``R_cap`` linearisation.  The last pass is the same implicit solve; only its seed
        differs, and ``StepInfo.coupling`` then measures the current moved since the last step.
        On the sample it takes 2 Newton iterations per step instead of 3 and lands nearer a
        reference with 4x tighter step targets (1 um, the whole discharge: 0.39 mV against
        0.53 mV at most, benchmarks/RESULTS.md).
        """
        ce0, cs0 = self.ce, self.solid.c.copy()
        ce, cs = ce0, cs0
        newton = lin = 0
        j_prev, phi, moved, damped = None, None, 0.0, 0
        k, n_pass, ran = 0, passes, 0
        if self.predictor and self.cs_rate is not None and passes >= 2:
            # the passes before the last replaced by the last step's rates: the end-of-step
            # concentrations extrapolated along them (held inside 0 < x < 1 and c_e > c_e0 / 2)
            # and the last step's currents as the R_cap linearisation's centre
            ce = np.maximum(ce0 + dt * self.ce_rate, 0.5 * ce0)
            cs = cs0 + dt * self.cs_rate
            j_prev, damped = self.last_j, self.damp_voxels.size
            if damped:
                # voxels in a period-2 oscillation: from the mean of the last two steps
                cs[self.damp_voxels] = cs0[self.damp_voxels] + dt * self.damp_rate
                j_prev = self.last_j.copy()
                j_prev[self.damp_faces] = self.damp_centre
            cs = np.clip(cs, 0.0, self.cmax * (1 - 1e-6), out=cs)
            k = passes - 1
        while k < n_pass:
            # the passes before the last only seed the next one (its start and its R_cap
            # linearisation): they stop at 1e-3 of the current; the last meets the full tolerance
            last = k == n_pass - 1
            phi, j, jl, nn, nl, _ = self._potentials(ce, cs, dt, j_prev, phi, tol=1e-9 if last else 1e-3,
                                                     dx_tol=1e-4 if last else 0.05,
                                                     lin_tol=1e-4 if last else PASS1_LINEAR_TOL)
            newton += nn
            lin += nl
            self.solid.c = cs0.copy()
            try:
                guess = ce0 + dt * self.ce_rate if k == 0 else ce
                cs, ce, stats, nl, clipped = self._transport(dt, phi, j, jl, ce0, cs0, ce, exact=last, guess=guess,
                                                             clip=not last or n_pass == passes)
            finally:
                self.solid.c = cs0
            lin += nl
            if j_prev is not None:
                moved = float(np.sum(self.mesh.r_area * np.abs(j - j_prev))) / self._scale(j)
            j_prev = j
            ran += 1
            if last and clipped:
                # the last pass overfilled a voxel (a speck that fills within the step): held just
                # below saturation, its concentrations seed one more pass, in which the speck's
                # exchange current (~ sqrt(1 - x)) nearly stops it; a second overfill fails the step
                n_pass += 1
            k += 1
        self.solid.c = cs
        self.ce_rate = (ce - ce0) / dt
        rate = (cs - cs0) / dt
        self._prepare_damping(rate, j)
        self.cs_rate = rate
        self.ce = ce
        self.phi = phi
        self.last_j = j
        change = np.abs(cs - cs0)
        dsto = float(change.max() / self.cmax)
        return StepInfo(float(phi[self.cc]), newton, lin, *stats, dsto, ran, moved,
                        bulk_change(change, self.dsto_tail_share) / self.cmax, damped)

    def _prepare_damping(self, rate, j) -> None:
        """Find the voxels whose next prediction is damped, and their mean rates and currents.

        A voxel any of whose faces reversed its current between the last two steps is in a
        period-2 oscillation of the one-pass linearisation: its ``R_cap`` (the Jacobi estimate of
        its response, neighbours held) underestimates the response of a patch of surface whose
        currents move together once the step exceeds h^2 / D (27 s at 0.33 um), so each step
        overcorrects the last.  The next step predicts such a voxel from the mean of the last two
        steps (rates and face currents), the centre of the oscillation.  Measured on a
        70 x 12 x 12 um crop of the sample at 0.33 um (benchmarks/RESULTS.md, 2026-12-07): 162
        steps instead of 220, the curve as near a tight-target reference (0.55 / 0.27 mV against
        0.45 / 0.26 mV max / RMS); at 1 um no voxel is damped.

        Parameters
        ----------
        rate : ndarray, shape (n_am,)
            The step's solid rate of change, mol/m^3/s (:attr:`cs_rate` still holds the last).
        j : ndarray, shape (n_reaction,)
            The step's face currents, A/m^2 (:attr:`last_j` still holds the last).
        """
        flipped = np.zeros(rate.size, dtype=bool)
        if self.damping and self.cs_rate is not None:
            flipped[self.r_am[j * self.last_j < 0]] = True
        vox = np.flatnonzero(flipped)
        faces = np.flatnonzero(flipped[self.r_am])
        self.damp_voxels, self.damp_faces = vox, faces
        # (empty index arrays give empty means: nothing is damped)
        self.damp_rate = 0.5 * (rate[vox] + self.cs_rate[vox]) if self.cs_rate is not None else np.zeros(0)
        self.damp_centre = 0.5 * (j[faces] + self.last_j[faces])

    def _scale(self, j) -> float:
        """The current the coupling tolerance is relative to, A (applied, or the faces' at rest)."""
        return abs(self.current) if self.current else max(float(np.sum(self.mesh.r_area * np.abs(j))), 1e-30)

    def _transport(self, dt, phi, j, jl, ce0, cs0, ce_coef, exact=True, guess=None, clip=False):
        """Solid and salt over ``dt`` from (cs0, ce0) with the reaction currents ``j``, ``jl``.

        The salt's coefficients (D, t+, kappa, thermodynamic factor) are taken at ``ce_coef``.
        ``guess`` starts the salt's iterative solve (default ``ce_coef``).  ``exact=False`` (the
        passes before the last, whose concentrations only set the next pass's coefficients) solves
        to 1e-8 (solid) and :data:`SALT_TOL_SEED` (salt) instead of 1e-13 and :data:`SALT_TOL`.
        ``clip=True`` holds a voxel the step would overfill just below saturation (the result then
        only seeds another pass) instead of raising :class:`StepFailed`.

        Returns
        -------
        cs, ce : ndarray
            The end-of-step concentrations.
        stats : tuple
            Charge, lithium and salt residuals.
        linear : int
            Linear-solver iterations.
        clipped : bool
            Whether a voxel was held below saturation (``cs`` then conserves no lithium).
        """
        m = self.mesh
        ns = m.n_solid
        q = m.r_area * j                                   # A, solid -> electrolyte per face
        charge = abs(q.sum() + self.current) / (abs(self.current) if self.current else max(np.abs(q).sum(), 1e-30))
        # solid: molar source into each AM voxel
        src = np.zeros(m.n_am)
        np.add.at(src, self.r_am, -q / FARADAY)
        li_before = self.solid.total()
        lin = self.solid.step_source(dt, src, tol=1e-13 if exact else 1e-8)
        cs = self.solid.c
        if not np.all(np.isfinite(cs)):
            raise StepFailed("the solid concentration became non-finite")
        clipped = bool(cs.max() >= self.cmax or cs.min() < 0)
        if clipped:
            if not clip:
                raise StepFailed("a voxel of active material would leave 0 <= x < 1 (the step is too long)")
            # a pass that seeds another only sets its OCP and exchange currents: a voxel it
            # overfills (a speck of a voxel or two fills within seconds) is held just below
            # saturation, where its exchange current (~ sqrt(1 - x)) nearly stops it next pass
            np.clip(cs, 0.0, self.cmax * (1 - 1e-6), out=cs)
        gained = src.sum() * dt
        lith = abs(self.solid.total() - li_before - gained) / abs(gained) if gained else 0.0
        # salt
        a, b, kappa, diff, tplus, kd = self._electrolyte_faces(ce_coef)
        lnc = np.log(np.maximum(ce_coef, 1e-12))
        i_face = kappa * ((phi[ns + a] - phi[ns + b]) - kd * (lnc[a] - lnc[b]))   # ionic current a -> b
        mig = tplus * i_face / FARADAY
        rhs_src = np.zeros(m.n_electrolyte)
        np.add.at(rhs_src, a, -mig)
        np.add.at(rhs_src, b, mig)
        np.add.at(rhs_src, m.r_electrolyte, q / FARADAY)
        np.add.at(rhs_src, m.li_electrolyte, m.li_area * jl / FARADAY)
        cap = m.eps * m.cell_volume_e / dt
        ne = m.n_electrolyte
        M = self.M_pattern.matrix([(diff, -1), (diff, -1), (diff, 1), (diff, 1), (cap, 1)])
        rhs = cap * ce0 + rhs_src
        salt0 = float(np.sum(m.eps * m.cell_volume_e * ce0))
        if ne <= DIRECT_LIMIT:
            new_ce, its = spsolve(M.tocsc(), rhs), 1
        else:
            x0 = (ce_coef if guess is None else guess).copy()
            new_ce, its, _ = self.pc_salt.solve(M, rhs, x0, tol=SALT_TOL if exact else SALT_TOL_SEED)
            # the salt's balance is the sum of the residual (the diffusion part of M has zero column
            # sums): a uniform shift of sum(r) / sum(cap) zeroes it, so the salt is conserved to
            # rounding whatever the solver's tolerance
            new_ce += float(np.sum(rhs - M @ new_ce)) / float(np.sum(cap))
        lin += its
        if not np.all(np.isfinite(new_ce)) or new_ce.min() <= 0:
            raise StepFailed(f"the electrolyte is depleted (c_e min {np.nanmin(new_ce):.3g} mol/m^3)")
        # the salt's exact source is the charge imbalance (zero at convergence); compare against it
        salt1 = float(np.sum(m.eps * m.cell_volume_e * new_ce))
        salt = abs(salt1 - salt0 - dt * float(rhs_src.sum())) / salt0
        return cs, new_ce, (charge, lith, salt), lin, clipped

    # -- fields for output ---------------------------------------------------------------------
    def reaction_current_density(self) -> np.ndarray:
        """Reaction current density of the last step per AM voxel, A/m^2.

        The area-weighted mean over the voxel's reaction faces; negative = lithiation.
        """
        m = self.mesh
        num = np.zeros(m.n_am)
        den = np.zeros(m.n_am)
        np.add.at(num, self.r_am, m.r_area * self.last_j)
        np.add.at(den, self.r_am, m.r_area)
        out = np.zeros(m.n_am)
        np.divide(num, den, out=out, where=den > 0)
        return out

    def check_input(self) -> None:
        """Refuse meshes the model cannot run (no reaction face)."""
        if self.mesh.r_area.size == 0:
            raise BadInput("labels", "no active-material face touches the electrolyte",
                           "check the legend, or the clogging option (cbd/full remove the CBD's faces)")
