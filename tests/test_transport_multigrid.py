"""The matrix-free aggregation multigrid path of the conduction solver
(electrovox.solvers.transport.multigrid, ``solve_conduction(method="multigrid")``): exact analytic
cases, the Galerkin coarse operator against P^T A P assembled with scipy, agreement with the pyamg
path on random media (isotropic and anisotropic voxels, two conductivities), flux conservation
recomputed from the potential field, and the fallback to pyamg without numba."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse
from test_transport_diffusion import blobs

from electrovox.solvers.transport import diffusion, multigrid
from electrovox.solvers.transport.diffusion import solve_conduction

pytestmark = pytest.mark.skipif(not multigrid.HAVE_NUMBA, reason="numba not importable: the amg path is used")


def mg(*args, **kw):
    r = solve_conduction(*args, method="multigrid", **kw)
    assert r["method"] == "multigrid"            # converged by the multigrid path, no fallback
    return r


def test_straight_channels_tau_one():
    s = np.zeros((40, 34, 30))
    s[:, 4:8, 4:8] = 1
    s[:, 10:12, 2:29] = 1
    r = mg(s, 1.0, "z")
    # straight channels: D_eff = porosity exactly, tau = 1 (flux balance 1e-6)
    assert r["tau"] == pytest.approx(1.0, abs=1e-6) and r["D_eff"] == pytest.approx(r["porosity"], rel=1e-6)


@pytest.mark.parametrize("spacing", [(1.0, 1.0, 1.0), (0.1, 0.0152, 0.0152), (2.0, 0.5, 1.0)])
def test_series_and_parallel_layers(spacing):
    """Layers of sigma 1 (24 voxels) and 0.2 (16 voxels): harmonic mean in series (z), arithmetic in
    parallel (x, y), exact on any voxel shape; a grid big enough for several levels."""
    s = np.ones((40, 12, 20))
    s[24:] = 0.2
    series = 1.0 / (0.6 / 1.0 + 0.4 / 0.2)
    parallel = 0.6 * 1.0 + 0.4 * 0.2
    assert mg(s, spacing, "z")["sigma_eff"] == pytest.approx(series, rel=1e-6)
    assert mg(s, spacing, "x")["sigma_eff"] == pytest.approx(parallel, rel=1e-6)
    assert mg(s, spacing, "y")["sigma_eff"] == pytest.approx(parallel, rel=1e-6)


def test_anisotropic_staircase_exact():
    """A channel with a jog (the exactness test of the amg path): the series resistance of its
    face conductances, on three voxel shapes."""
    s = np.zeros((6, 1, 3))
    s[:3, 0, 0] = 1
    s[2:, 0, 1] = 1
    for dz, dy, dx in [(1.0, 1.0, 1.0), (2.0, 1.0, 0.5), (0.1, 0.3, 0.7)]:
        az, ax = dy * dx, dz * dy
        q = 1.0 / ((2.5 * dz) / az + dx / ax + (3.5 * dz) / az)
        assert mg(s, (dz, dy, dx), "z")["flux_in"] == pytest.approx(q, rel=1e-6)


def test_levels_and_semicoarsening():
    # cubic voxels: 2x2x2 aggregates down to <= 512 cells (odd sizes rounded up by an empty layer)
    plan = multigrid.plan_levels((97, 64, 64), (1.0, 1.0, 1.0))
    assert [f for _, f in plan] == [(2, 2, 2)] * 4 + [None]
    assert [a for a, _ in plan] == [(98, 64, 64), (50, 32, 32), (26, 16, 16), (14, 8, 8), (7, 4, 4)]
    # PFIB-like voxels (100 x 15.2 x 15.2 nm): only y, x coarsened until their size reaches z's half
    plan = multigrid.plan_levels((40, 64, 64), (0.1, 0.0152, 0.0152))
    assert [f for _, f in plan[:4]] == [(1, 2, 2), (1, 2, 2), (2, 2, 2), (2, 2, 2)]


def _fine_operator(g0, g1, g2, d):
    """Sparse matrix of a padded level (interior cells, C order) assembled from its arrays."""
    inner = (slice(1, -1),) * 3
    shape = d[inner].shape
    idx = np.arange(int(np.prod(shape))).reshape(shape)
    rows, cols, vals = [idx.ravel()], [idx.ravel()], [d[inner].astype(np.float64).ravel()]
    for ax, g in enumerate((g0, g1, g2)):
        lo = [slice(None)] * 3
        hi = [slice(None)] * 3
        lo[ax], hi[ax] = slice(0, -1), slice(1, None)
        v = g[inner][tuple(lo)].astype(np.float64).ravel()
        i, j = idx[tuple(lo)].ravel(), idx[tuple(hi)].ravel()
        rows += [i, j]
        cols += [j, i]
        vals += [-v, -v]
    n = idx.size
    return sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))


def test_galerkin_coarse_operator_is_PtAP():
    """Level 0 equals the amg path's sparse matrix (independent assembly) on the solved voxels;
    each coarse level equals P^T A P of the level above (P: piecewise-constant aggregation) to
    float32 rounding."""
    m = blobs(24, 0.4, 1).astype(float)
    m[::3] *= 0.3                                         # two conductivities
    sp = (1.0, 0.5, 0.7)
    active = diffusion.percolating(m, 0)
    a_ref = diffusion._system(m, sp, 0, active)[0]
    n = m.shape
    plan = multigrid.plan_levels(n, sp)
    shape = tuple(v + 2 for v in plan[0][0])
    s = np.zeros(shape)
    s[1:1 + n[0], 1:1 + n[1], 1:1 + n[2]] = np.where(active, m, 0.0)
    g = [np.zeros(shape, np.float32) for _ in range(3)]
    multigrid._face_conductances(s, *sp, *g)
    d = np.zeros(shape, np.float32)
    multigrid._diagonal(*g, d)
    gb = 2.0 * s[1] * sp[1] * sp[2] / sp[0]
    d[1] += gb.astype(np.float32)
    d[n[0]] += (2.0 * s[n[0]] * sp[1] * sp[2] / sp[0]).astype(np.float32)
    pre = multigrid.AggregationMG(g[0], g[1], g[2], d, plan)
    a0 = _fine_operator(pre.levels[0].g0, pre.levels[0].g1, pre.levels[0].g2, pre.levels[0].d)
    inner_idx = np.arange(a0.shape[0]).reshape(plan[0][0])[:n[0], :n[1], :n[2]][active]
    sub = a0[inner_idx][:, inner_idx]
    assert abs(sub - a_ref).max() <= 1e-6 * abs(a_ref).max()
    for li in range(len(pre.levels) - 1):
        lv, nxt = pre.levels[li], pre.levels[li + 1]
        a = _fine_operator(lv.g0, lv.g1, lv.g2, lv.d)
        fshape = tuple(v - 2 for v in lv.d.shape)
        cshape = tuple(v - 2 for v in nxt.d.shape)
        k, j, i = np.meshgrid(*[np.arange(v) for v in fshape], indexing="ij")
        parent = np.ravel_multi_index((k // lv.f[0], j // lv.f[1], i // lv.f[2]), cshape).ravel()
        p = sparse.csr_matrix((np.ones(parent.size), (np.arange(parent.size), parent)),
                              shape=(parent.size, int(np.prod(cshape))))
        ptap = (p.T @ a @ p).tocsr()
        ac = _fine_operator(nxt.g0, nxt.g1, nxt.g2, nxt.d)
        assert abs(ptap - ac).max() <= 1e-5 * abs(ptap).max()


@pytest.mark.parametrize("spacing", [1.0, (0.1, 0.0152, 0.0152), (2.0, 0.5, 1.0)])
def test_agrees_with_amg_on_random_media(spacing):
    """Blob media with two conductivities, all three axes: at a tight flux balance (1e-10) the
    multigrid and amg paths agree to 1e-6 relative (measured <= 3e-8: the float32 conductances);
    at the defaults (balance 1e-6, residual 1e-8) within 1e-6 (measured <= 3e-7)."""
    m = blobs(40, 0.35, 2).astype(float)
    m[(m > 0) & (np.random.default_rng(2).random(m.shape) < 0.3)] = 0.1
    for ax in "zyx":
        ref = solve_conduction(m, spacing, ax, method="amg", flux_tol=1e-10)
        tight = mg(m, spacing, ax, flux_tol=1e-10)
        assert tight["D_eff"] == pytest.approx(ref["D_eff"], rel=1e-6)
        assert tight["tau"] == pytest.approx(ref["tau"], rel=1e-6)
        default = mg(m, spacing, ax)
        assert default["flux_imbalance"] <= 1e-6
        assert default["D_eff"] == pytest.approx(ref["D_eff"], rel=1e-6)


def test_flux_conservation_from_the_potential():
    """The inlet and outlet fluxes recomputed from the returned potential (boundary conductance
    2 sigma A / d times the drop to the Dirichlet plane) agree with each other to 1e-6 and with
    the reported ones."""
    m = blobs(48, 0.35, 0).astype(float)
    sp = (0.5, 1.0, 1.0)
    r = mg(m, sp, "z", fields=True)
    c = np.nan_to_num(r["potential"].astype(np.float64), nan=0.0)
    gb = 2.0 * m * sp[1] * sp[2] / sp[0]
    q_in = float(np.sum(np.where(np.isfinite(r["potential"][0]), gb[0] * (1.0 - c[0]), 0.0)))
    q_out = float(np.sum(np.where(np.isfinite(r["potential"][-1]), gb[-1] * c[-1], 0.0)))
    # the potential comes back as float32: the recomputed fluxes carry its 6e-8 rounding
    assert abs(q_in - q_out) <= 1e-6 * 0.5 * (q_in + q_out)
    assert q_in == pytest.approx(r["flux_in"], rel=1e-6) and q_out == pytest.approx(r["flux_out"], rel=1e-6)
    assert r["flux_imbalance"] <= 1e-6
    # the voxels not solved carry no potential
    assert np.array_equal(np.isfinite(r["potential"]), diffusion.percolating(m, 0))


def test_default_is_multigrid_and_fallback_without_numba(monkeypatch):
    m = blobs(24, 0.4, 3).astype(float)
    r = solve_conduction(m, 1.0, "x")
    assert r["method"] == "multigrid"
    monkeypatch.setattr(multigrid, "HAVE_NUMBA", False)
    r2 = solve_conduction(m, 1.0, "x")
    assert r2["method"] == "amg"
    assert r2["tau"] == pytest.approx(r["tau"], rel=5e-6)


def test_progress_per_iteration():
    """The solve reports progress once per iteration, non-decreasing, from the set-up to 1, and
    the number of iteration events equals the iterations the result reports (less the last,
    which ends the loop)."""
    sig = blobs(40, 0.4, seed=5).astype(float)
    events = []
    r = solve_conduction(sig, 1.0, "z", progress=lambda f, m=None: events.append((f, m or "")))
    fr = [f for f, _ in events]
    assert fr == sorted(fr) and fr[-1] == 1.0
    its = [m for _, m in events if m.startswith("multigrid iteration")]
    assert r["method"] == "multigrid" and len(its) == r["iterations"] - 1 >= 2
