"""Matrix-free aggregation multigrid for the voxel conduction problem (numba kernels).

The finite-volume system of :mod:`electrovox.solvers.transport.diffusion` on the full structured
grid, the transport axis moved to array axis 0: per voxel the three face conductances to the
next voxel along axes 0, 1, 2 (``g0[k, j, i]`` couples (k, j, i) and (k + 1, j, i); 0 across
the last layer and at non-solved voxels) and the Dirichlet conductances of the first and last
layers (``gb_in``, ``gb_out``, 2D).  Voxels that are not solved have no conductance at all, so
their rows are empty: they stay 0 through every operation and decouple.

Preconditioner: piecewise-constant aggregation of 2 x 2 x 2 voxels (1 along an axis whose voxel
size is more than twice the smallest one: semi-coarsening for anisotropic voxels).  The Galerkin
operator P^T A P of a 7-point finite-volume stencil under such aggregation is again a 7-point
stencil on the coarse grid: its face conductance between two aggregates is the sum of the fine
face conductances between them, its diagonal the sum of the fine diagonals less twice the
conductances inside the aggregate (boundary conductances sum), so every level is a structured
grid of three conductance arrays and the set-up is a few passes over the data.  The cycle is
Notay's K-cycle (each coarse problem solved by 2 steps of flexible CG preconditioned by the next
level, Notay and Vassilevski, Numer. Linear Algebra Appl. 15, 2008), smoothing by one forward
red-black Gauss-Seidel sweep before and one backward sweep after the coarse correction, a dense
inverse on the coarsest grid (<= 512 cells).  The preconditioner works in float32.

Outer iteration: flexible CG (the K-cycle is a nonlinear preconditioner) in float64 with the
operator applied exactly in float64 (the diagonal is formed on the fly, so the discrete fluxes are
conservative to rounding and the sum of the residual is Q_in - Q_out).  It stops when the flux
balance holds, ``|Q_in - Q_out| <= flux_tol * (Q_in + Q_out) / 2``, and the residual norm has
dropped by ``rtol`` (default 1e-8, the amg path's starting tolerance: a guard against a balance
met by chance in an early iterate; the balance alone left D_eff errors of 2e-6 in tests).
"""

from __future__ import annotations

import numpy as np

try:  # numba is a dependency; without it the caller falls back to the pyamg path
    from numba import get_num_threads, njit, prange, set_num_threads
    HAVE_NUMBA = True
except ImportError:  # pragma: no cover - exercised only where numba is missing
    HAVE_NUMBA = False

COARSEST_CELLS = 512
# levels smaller than this run their kernels on one thread: waking the worker threads costs more
# than the work there (milliseconds per launch on a loaded machine)
SERIAL_CELLS = 300_000

if HAVE_NUMBA:
    # All arrays are padded with one ghost layer of zeros on every side (interior [1:-1]); a face
    # conductance g0[k, j, i] couples (k, j, i) and (k + 1, j, i) and is 0 towards a ghost cell,
    # so the stencil loops need no bounds tests.

    @njit(parallel=True, cache=True)
    def _face_conductances(s, h0, h1, h2, g0, g1, g2):
        """Harmonic-mean face conductances of a masked conductivity map s (padded; 0 = not solved)."""
        n0, n1, n2 = s.shape
        a0, a1, a2 = h1 * h2 / h0, h0 * h2 / h1, h0 * h1 / h2
        for k in prange(1, n0 - 1):
            for j in range(1, n1 - 1):
                for i in range(1, n2 - 1):
                    p = s[k, j, i]
                    q0 = s[k + 1, j, i]
                    q1 = s[k, j + 1, i]
                    q2 = s[k, j, i + 1]
                    g0[k, j, i] = a0 * 2.0 * p * q0 / (p + q0) if p * q0 > 0.0 else 0.0
                    g1[k, j, i] = a1 * 2.0 * p * q1 / (p + q1) if p * q1 > 0.0 else 0.0
                    g2[k, j, i] = a2 * 2.0 * p * q2 / (p + q2) if p * q2 > 0.0 else 0.0

    @njit(cache=True)
    def _diagonal(g0, g1, g2, d):
        """Diagonal d = the sum of a cell's face conductances (float32 levels; boundary terms added after)."""
        n0, n1, n2 = d.shape
        for k in range(1, n0 - 1):
            for j in range(1, n1 - 1):
                for i in range(1, n2 - 1):
                    d[k, j, i] = (g0[k, j, i] + g0[k - 1, j, i] + g1[k, j, i] + g1[k, j - 1, i]
                                  + g2[k, j, i] + g2[k, j, i - 1])

    @njit(parallel=True, cache=True)
    def _matvec64(x, g0, g1, g2, gb_in, gb_out, k_out, r, y):
        """Product y = A x in float64, the diagonal formed on the fly (exactly conservative).

        The Dirichlet conductances act on layers 1 and ``k_out``; returns (x . y, x . r).
        """
        n0, n1, n2 = x.shape
        acc = 0.0
        acc_r = 0.0
        for k in prange(1, n0 - 1):
            part = 0.0
            part_r = 0.0
            for j in range(1, n1 - 1):
                for i in range(1, n2 - 1):
                    c = x[k, j, i]
                    s = (np.float64(g0[k - 1, j, i]) * (c - x[k - 1, j, i])
                         + np.float64(g0[k, j, i]) * (c - x[k + 1, j, i])
                         + np.float64(g1[k, j - 1, i]) * (c - x[k, j - 1, i])
                         + np.float64(g1[k, j, i]) * (c - x[k, j + 1, i])
                         + np.float64(g2[k, j, i - 1]) * (c - x[k, j, i - 1])
                         + np.float64(g2[k, j, i]) * (c - x[k, j, i + 1]))
                    y[k, j, i] = s
                if k == 1:
                    for i in range(1, n2 - 1):
                        y[k, j, i] += gb_in[j, i] * x[k, j, i]
                if k == k_out:
                    for i in range(1, n2 - 1):
                        y[k, j, i] += gb_out[j, i] * x[k, j, i]
                for i in range(1, n2 - 1):
                    part += x[k, j, i] * y[k, j, i]
                    part_r += x[k, j, i] * r[k, j, i]
            acc += part
            acc_r += part_r
        return acc, acc_r

    @njit(parallel=True, cache=True)
    def _matvec32(x, g0, g1, g2, d, y):
        """Product y = A x on a float32 level; returns x . y (float64 accumulation)."""
        n0, n1, n2 = x.shape
        acc = 0.0
        for k in prange(1, n0 - 1):
            part = 0.0
            for j in range(1, n1 - 1):
                for i in range(1, n2 - 1):
                    s = (d[k, j, i] * x[k, j, i]
                         - g0[k - 1, j, i] * x[k - 1, j, i] - g0[k, j, i] * x[k + 1, j, i]
                         - g1[k, j - 1, i] * x[k, j - 1, i] - g1[k, j, i] * x[k, j + 1, i]
                         - g2[k, j, i - 1] * x[k, j, i - 1] - g2[k, j, i] * x[k, j, i + 1])
                    y[k, j, i] = s
                    part += np.float64(x[k, j, i]) * s
            acc += part
        return acc

    @njit(parallel=True, cache=True)
    def _residual(x, b, g0, g1, g2, d, res):
        """Residual res = b - A x on a float32 level."""
        n0, n1, n2 = x.shape
        for k in prange(1, n0 - 1):
            for j in range(1, n1 - 1):
                for i in range(1, n2 - 1):
                    res[k, j, i] = (b[k, j, i] - d[k, j, i] * x[k, j, i]
                                    + g0[k - 1, j, i] * x[k - 1, j, i] + g0[k, j, i] * x[k + 1, j, i]
                                    + g1[k, j - 1, i] * x[k, j - 1, i] + g1[k, j, i] * x[k, j + 1, i]
                                    + g2[k, j, i - 1] * x[k, j, i - 1] + g2[k, j, i] * x[k, j, i + 1])

    @njit(parallel=True, cache=True)
    def _gs_color(x, b, g0, g1, g2, inv, color):
        """One red (color 0) or black (1) Gauss-Seidel half-sweep: x = (b + sum g x_nb) / d."""
        n0, n1, n2 = x.shape
        for k in prange(1, n0 - 1):
            for j in range(1, n1 - 1):
                for i in range(1 + (color + k + j + 1) % 2, n2 - 1, 2):
                    x[k, j, i] = (b[k, j, i]
                                  + g0[k - 1, j, i] * x[k - 1, j, i] + g0[k, j, i] * x[k + 1, j, i]
                                  + g1[k, j - 1, i] * x[k, j - 1, i] + g1[k, j, i] * x[k, j + 1, i]
                                  + g2[k, j, i - 1] * x[k, j, i - 1] + g2[k, j, i] * x[k, j, i + 1]
                                  ) * inv[k, j, i]

    @njit(parallel=True, cache=True)
    def _gs_first(x, b, inv, color):
        """The first half-sweep from x = 0: x = b / d on ``color``, 0 elsewhere."""
        n0, n1, n2 = x.shape
        for k in prange(1, n0 - 1):
            for j in range(1, n1 - 1):
                for i in range(1, n2 - 1):
                    x[k, j, i] = b[k, j, i] * inv[k, j, i] if (i + j + k) % 2 == color else 0.0

    @njit(parallel=True, cache=True)
    def _restrict(res, f0, f1, f2, m0, m1, m2, rc):
        """Restriction rc = P^T res: the fine values summed over each aggregate (coarse interior 1..m)."""
        for kc in prange(1, m0 + 1):
            for jc in range(1, m1 + 1):
                for ic in range(1, m2 + 1):
                    acc = np.float32(0.0)
                    for a in range(f0):
                        for b in range(f1):
                            for c in range(f2):
                                acc += res[f0 * (kc - 1) + 1 + a, f1 * (jc - 1) + 1 + b, f2 * (ic - 1) + 1 + c]
                    rc[kc, jc, ic] = acc

    @njit(parallel=True, cache=True)
    def _prolong_add(x, ec, f0, f1, f2):
        """Prolongation x += P ec (piecewise constant)."""
        n0, n1, n2 = x.shape
        for k in prange(1, n0 - 1):
            kc = (k - 1) // f0 + 1
            for j in range(1, n1 - 1):
                jc = (j - 1) // f1 + 1
                for i in range(1, n2 - 1):
                    x[k, j, i] += ec[kc, jc, (i - 1) // f2 + 1]

    @njit(cache=True)
    def _coarsen(g0, g1, g2, d, f0, f1, f2, m0, m1, m2, c0, c1, c2, dc):
        """Galerkin coarse operator of the aggregation: summed face conductances and diagonals."""
        for kc in range(1, m0 + 1):
            for jc in range(1, m1 + 1):
                for ic in range(1, m2 + 1):
                    s0 = 0.0
                    s1 = 0.0
                    s2 = 0.0
                    sd = 0.0
                    for a in range(f0):
                        for b in range(f1):
                            for c in range(f2):
                                k = f0 * (kc - 1) + 1 + a
                                j = f1 * (jc - 1) + 1 + b
                                i = f2 * (ic - 1) + 1 + c
                                sd += d[k, j, i]
                                if a + 1 < f0:                 # face inside the aggregate
                                    sd -= 2.0 * g0[k, j, i]
                                else:                          # face to the next aggregate
                                    s0 += g0[k, j, i]
                                if b + 1 < f1:
                                    sd -= 2.0 * g1[k, j, i]
                                else:
                                    s1 += g1[k, j, i]
                                if c + 1 < f2:
                                    sd -= 2.0 * g2[k, j, i]
                                else:
                                    s2 += g2[k, j, i]
                    c0[kc, jc, ic] = s0
                    c1[kc, jc, ic] = s1
                    c2[kc, jc, ic] = s2
                    dc[kc, jc, ic] = max(sd, 0.0)

    @njit(parallel=True, cache=True)
    def _cg_update(x, r, p, q, alpha, r32):
        """CG update x += alpha p, r -= alpha q, r32 = float32(r); returns r . r."""
        n0, n1, n2 = x.shape
        acc = 0.0
        for k in prange(n0):
            part = 0.0
            for j in range(n1):
                for i in range(n2):
                    x[k, j, i] += alpha * p[k, j, i]
                    v = r[k, j, i] - alpha * q[k, j, i]
                    r[k, j, i] = v
                    r32[k, j, i] = v
                    part += v * v
            acc += part
        return acc

    @njit(parallel=True, cache=True)
    def _dot(z, q):
        """Dot product z . q (z float32, q float64) for the flexible CG."""
        n0, n1, n2 = z.shape
        a = 0.0
        for k in prange(n0):
            pa = 0.0
            for j in range(n1):
                for i in range(n2):
                    pa += np.float64(z[k, j, i]) * q[k, j, i]
            a += pa
        return a

    @njit(parallel=True, cache=True)
    def _new_direction(p, z, beta):
        """New CG direction p = z + beta p."""
        n0, n1, n2 = p.shape
        for k in prange(n0):
            for j in range(n1):
                for i in range(n2):
                    p[k, j, i] = z[k, j, i] + beta * p[k, j, i]


def _round_up(n, f):
    return -(-n // f) * f


def plan_levels(shape, spacing, coarsest=COARSEST_CELLS):
    """Interior sizes and aggregation factors of the multigrid levels.

    Axes whose voxel size exceeds twice the smallest are not coarsened (until the others have
    caught up).

    Parameters
    ----------
    shape : (3,) ints
        Interior size of the finest level (voxels).
    spacing : (3,) floats, um
        Voxel size in the same axis order.
    coarsest : int
        A level of at most this many cells is the coarsest (solved by a dense inverse).

    Returns
    -------
    list of (tuple, tuple or None)
        One ``(interior, factors)`` per level, finest first; ``interior`` rounded up to a multiple
        of ``factors`` (the aggregation per axis), ``factors`` None on the coarsest.

    Examples
    --------
    >>> plan_levels((16, 16, 16), (1.0, 1.0, 1.0))
    [((16, 16, 16), (2, 2, 2)), ((8, 8, 8), None)]
    """
    out = []
    n = tuple(int(v) for v in shape)
    h = [float(v) for v in spacing]
    while True:
        if int(np.prod(n)) <= coarsest or max(n) == 1:
            out.append((n, None))
            return out
        live = [a for a in range(3) if n[a] > 1]
        hmin = min(h[a] for a in live)
        f = tuple(2 if (n[a] > 1 and h[a] <= 2.0 * hmin * (1 + 1e-9)) else 1 for a in range(3))
        alloc = tuple(_round_up(n[a], f[a]) for a in range(3))
        out.append((alloc, f))
        n = tuple(alloc[a] // f[a] for a in range(3))
        h = [h[a] * f[a] for a in range(3)]


class _Level:
    __slots__ = ("g0", "g1", "g2", "d", "inv", "f", "m", "dense", "x", "res", "rc", "w", "threads")

    def __init__(self, g0, g1, g2, d):
        self.g0, self.g1, self.g2, self.d = g0, g1, g2, d
        self.inv = np.zeros_like(d)
        np.divide(1.0, d, out=self.inv, where=d > 0)
        self.f = self.m = self.dense = self.rc = self.w = None


class AggregationMG:
    """The K-cycle preconditioner on structured float32 levels: :meth:`apply` maps r to z ~ A^-1 r.

    Parameters
    ----------
    g0, g1, g2 : float32 arrays
        The padded level-0 face conductances along array axes 0, 1, 2 (interior sized as
        ``plan[0][0]``, one ghost layer of zeros on every side).
    d : float32 array
        The padded level-0 diagonal (Dirichlet conductances included).
    plan : list
        The levels, from :func:`plan_levels`.
    """

    def __init__(self, g0, g1, g2, d, plan):
        self.threads = get_num_threads()
        self.levels = [_Level(g0, g1, g2, d)]
        for li, (_alloc, f) in enumerate(plan[:-1]):
            lev = self.levels[li]
            m = plan[li + 1][0] if plan[li + 1][1] is None else tuple(
                plan[li][0][a] // f[a] for a in range(3))
            nxt_alloc = plan[li + 1][0]
            cs = tuple(v + 2 for v in nxt_alloc)
            c0, c1, c2, dc = (np.zeros(cs, np.float32) for _ in range(4))
            _coarsen(lev.g0, lev.g1, lev.g2, lev.d, f[0], f[1], f[2], m[0], m[1], m[2], c0, c1, c2, dc)
            lev.f, lev.m = f, m
            self.levels.append(_Level(c0, c1, c2, dc))
        last = self.levels[-1]
        last.dense = _dense_inverse(last.g0, last.g1, last.g2, last.d)
        for li, lv in enumerate(self.levels):
            lv.threads = 1 if lv.d.size < SERIAL_CELLS else self.threads
            lv.x = np.zeros(lv.d.shape, np.float32)
            if lv.f is not None:
                lv.res = np.zeros(lv.d.shape, np.float32)
                cs = self.levels[li + 1].d.shape
                lv.rc = np.zeros(cs, np.float32)
                # K-cycle work vectors on the coarse grid: v1, w1, r~, v2, w2
                lv.w = [np.zeros(cs, np.float32) for _ in range(5)]

    @property
    def shapes(self):
        """Interior shapes (n0, n1, n2) of the levels, finest first."""
        return [tuple(v - 2 for v in lv.d.shape) for lv in self.levels]

    def apply(self, r32):
        """One preconditioner application z = B r.

        Parameters
        ----------
        r32 : float32 array
            The residual, padded, of the level-0 shape.

        Returns
        -------
        float32 array
            z, in the level-0 work array (overwritten by the next call).
        """
        try:
            return self._cycle(0, r32, self.levels[0].x)
        finally:
            set_num_threads(self.threads)

    def _cycle(self, li, b, x):
        lv = self.levels[li]
        set_num_threads(lv.threads)
        if lv.dense is not None:
            inner = (slice(1, -1),) * 3
            live, inv = lv.dense
            flat = np.zeros(x[inner].size, np.float32)
            flat[live] = inv @ b[inner].ravel()[live].astype(np.float64)
            x[inner] = flat.reshape(x[inner].shape)
            return x
        _gs_first(x, b, lv.inv, 0)
        _gs_color(x, b, lv.g0, lv.g1, lv.g2, lv.inv, 1)
        f0, f1, f2 = lv.f
        _residual(x, b, lv.g0, lv.g1, lv.g2, lv.d, lv.res)
        _restrict(lv.res, f0, f1, f2, lv.m[0], lv.m[1], lv.m[2], lv.rc)
        ec = self._kcycle(li + 1, lv.rc, lv.w)
        set_num_threads(lv.threads)
        _prolong_add(x, ec, f0, f1, f2)
        _gs_color(x, b, lv.g0, lv.g1, lv.g2, lv.inv, 1)
        _gs_color(x, b, lv.g0, lv.g1, lv.g2, lv.inv, 0)
        return x

    def _kcycle(self, li, rc, w):
        """Approximate A_c^-1 rc: the coarse cycle accelerated by 2 flexible-CG steps (K-cycle)."""
        lv = self.levels[li]
        v1, w1, rt, v2, w2 = w
        self._cycle(li, rc, v1)
        if lv.dense is not None:
            return v1
        set_num_threads(lv.threads)
        rho1 = _matvec32(v1, lv.g0, lv.g1, lv.g2, lv.d, w1)
        if not rho1 > 0:
            return v1
        alpha1 = float(np.vdot(v1, rc)) / rho1
        np.subtract(rc, np.float32(alpha1) * w1, out=rt)
        if float(np.vdot(rt, rt)) <= 0.0625 * float(np.vdot(rc, rc)):    # ||r~|| <= ||r|| / 4: enough
            v1 *= np.float32(alpha1)
            return v1
        self._cycle(li, rt, v2)
        set_num_threads(lv.threads)
        _matvec32(v2, lv.g0, lv.g1, lv.g2, lv.d, w2)
        gamma = float(np.vdot(v2, w1))
        beta = float(np.vdot(v2, w2))
        alpha2 = float(np.vdot(v2, rt))
        rho2 = beta - gamma * gamma / rho1
        if not rho2 > 0:
            v1 *= np.float32(alpha1)
            return v1
        v1 *= np.float32(alpha1 - gamma * alpha2 / (rho1 * rho2))
        v1 += np.float32(alpha2 / rho2) * v2
        return v1


def _dense_inverse(g0, g1, g2, d):
    """The coarsest operator's inverse on its cells that conduct: (flat interior indices, inverse)."""
    inner = (slice(1, -1),) * 3
    dd = d[inner].astype(np.float64).ravel()
    shape = d[inner].shape
    live = np.flatnonzero(dd > 0)
    pos = np.full(dd.size, -1)
    pos[live] = np.arange(live.size)
    a = np.diag(dd[live])
    idx = np.arange(dd.size).reshape(shape)
    for ax, g in enumerate((g0, g1, g2)):
        lo = [slice(None)] * 3
        hi = [slice(None)] * 3
        lo[ax], hi[ax] = slice(0, -1), slice(1, None)
        i, j = idx[tuple(lo)].ravel(), idx[tuple(hi)].ravel()
        v = g[inner][tuple(lo)].astype(np.float64).ravel()
        m = v > 0
        a[pos[i[m]], pos[j[m]]] -= v[m]
        a[pos[j[m]], pos[i[m]]] -= v[m]
    return live, np.linalg.inv(a) if live.size else np.zeros((0, 0))


def solve(sig_t, active_t, spacing_t, *, flux_tol=1e-6, rtol=1e-8, maxiter=500, progress=None):
    """Solve the conduction problem along array axis 0 of ``sig_t``.

    Parameters
    ----------
    sig_t : (n0, n1, n2) float64 array
        Conductivity per voxel, the transport axis first.
    active_t : (n0, n1, n2) bool array
        The voxels to solve.
    spacing_t : (3,) floats, um
        Voxel size in the same axis order.
    flux_tol : float
        Accepted relative flux imbalance ``|Q_in - Q_out| / ((Q_in + Q_out) / 2)``.
    rtol : float
        Required reduction of the residual norm.
    maxiter : int
        Iteration limit of the flexible CG.
    progress : callable, optional
        ``progress(fraction, message)``, called once per iteration with the residual's reduction
        on a log scale (0 at the start, 1 at ``rtol``).

    Returns
    -------
    x : (n0, n1, n2) float64 array
        The potential, 0 where not solved.
    q_in, q_out : float
        Fluxes through the inlet and outlet planes (sigma-units x um).
    imbalance : float
        Relative flux imbalance.
    iterations : int
        Flexible-CG iterations.
    info : dict
        ``levels`` (interior shapes of the multigrid levels) and ``residual`` (final relative residual).

    Examples
    --------
    >>> import numpy as np
    >>> x, q_in, q_out, imb, it, info = solve(np.ones((4, 2, 2)), np.ones((4, 2, 2), bool), (1.0, 1.0, 1.0))
    >>> print(f"{q_in:.6f} {q_out:.6f}")                    # sigma A / L = 4 / 4
    1.000000 1.000000
    """
    threads = get_num_threads()
    try:
        if sig_t.size < SERIAL_CELLS:
            set_num_threads(1)
        return _solve(sig_t, active_t, spacing_t, flux_tol, rtol, maxiter, progress)
    finally:
        set_num_threads(threads)


def _solve(sig_t, active_t, spacing_t, flux_tol, rtol, maxiter, progress=None):
    h = tuple(float(v) for v in spacing_t)
    n = sig_t.shape
    plan = plan_levels(n, h)
    alloc = plan[0][0]
    shape = tuple(v + 2 for v in alloc)
    real = tuple(slice(1, 1 + v) for v in n)
    s = np.zeros(shape)
    np.multiply(sig_t, active_t, out=s[real])
    g0, g1, g2 = (np.zeros(shape, np.float32) for _ in range(3))
    _face_conductances(s, h[0], h[1], h[2], g0, g1, g2)
    gb = np.zeros((2,) + shape[1:])
    gb[0] = 2.0 * s[1] * (h[1] * h[2] / h[0])
    gb[1] = 2.0 * s[n[0]] * (h[1] * h[2] / h[0])
    gb = gb.astype(np.float32).astype(np.float64)        # the same values in both precisions
    del s
    d = np.zeros(shape, np.float32)
    _diagonal(g0, g1, g2, d)
    d[1] += gb[0].astype(np.float32)
    d[n[0]] += gb[1].astype(np.float32)
    mg = AggregationMG(g0, g1, g2, d, plan)

    x = np.zeros(shape)
    r = np.zeros(shape)
    r[1] = gb[0]                                         # b: c = 1 at the inlet plane (x0 = 0)
    bnorm = float(np.sqrt(np.sum(gb[0] * gb[0])))
    r32 = np.zeros(shape, np.float32)
    np.copyto(r32, r, casting="same_kind")
    z = mg.apply(r32)
    p = np.empty(shape)
    np.copyto(p, z)
    q = np.zeros(shape)
    it = 0
    q_in = q_out = 0.0
    imbalance = np.inf
    rnorm = bnorm
    while it < maxiter:
        pq, pr = _matvec64(p, g0, g1, g2, gb[0], gb[1], n[0], r, q)
        if not pq > 0:
            break
        alpha = pr / pq
        rr = _cg_update(x, r, p, q, alpha, r32)
        it += 1
        rnorm = float(np.sqrt(rr))
        q_in = float(np.sum(gb[0] * (1.0 - x[1])))
        q_out = float(np.sum(gb[1] * x[n[0]]))
        imbalance = abs(q_in - q_out) / max(0.5 * (q_in + q_out), 1e-300)
        if imbalance <= flux_tol and rnorm <= rtol * bnorm:
            break
        if progress is not None and bnorm > 0 and rnorm > 0:
            done = np.log(bnorm / rnorm) / np.log(1.0 / rtol)
            progress(float(min(max(done, 0.0), 0.99)), f"multigrid iteration {it}")
        z = mg.apply(r32)
        _new_direction(p, z, -_dot(z, q) / pq)
    info = {"levels": mg.shapes, "residual": rnorm / bnorm if bnorm > 0 else 0.0}
    return x[real], q_in, q_out, imbalance, it, info
