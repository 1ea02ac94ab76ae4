"""The discharge model's linear algebra: the Newton matrices' assembly and the multigrid hierarchy.

References are independent implementations: scipy's COO summation of repeated entries, pyamg's
own classical interpolation and its float64 Ruge-Stuben solver.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from electrovox.solvers.echem.cell import _Pattern, _Preconditioner
from electrovox.solvers.echem.solid import conjugate_gradient


def _conductance_laplacian(shape, seed=0, decades=5):
    """A 7-point finite-volume Laplacian with log-uniform face conductances over ``decades`` decades
    and a small diagonal shift (SPD, an M-matrix: the discharge's potential systems' structure)."""
    from pyamg.gallery import poisson
    rng = np.random.default_rng(seed)
    a = sparse.csr_matrix(poisson(shape, format="csr"))
    n = a.shape[0]
    upper = sparse.triu(a, 1).tocoo()
    g = 10.0 ** rng.uniform(-decades / 2, decades / 2, upper.nnz)
    off = sparse.coo_matrix((-g, (upper.row, upper.col)), shape=(n, n))
    off = off + off.T
    out = sparse.csr_matrix(off - sparse.diags(np.asarray(off.sum(axis=1)).ravel()) + 1e-3 * sparse.eye(n))
    out.sort_indices()
    return out


def test_pattern_assembly_equals_the_coo_sum():
    """Values added into the fixed pattern part by part, with signs and repeated (row, column)
    entries, equal scipy's COO-to-CSR summation of the same entries (to 1e-15 relative: both sum
    in floating point, possibly in different orders)."""
    rng = np.random.default_rng(3)
    n, e = 500, 6000
    rows, cols = rng.integers(0, n, e), rng.integers(0, n, e)
    pattern = _Pattern(rows, cols, n)
    w1, w2 = rng.normal(size=4000), rng.normal(size=2000)
    got = pattern.matrix([(w1, 1), (w2, -1)]).toarray()
    want = sparse.coo_matrix((np.concatenate([w1, -w2]), (rows, cols)), shape=(n, n)).toarray()
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-15 * np.abs(want).max() * 10)
    with pytest.raises(ValueError, match="values for a pattern"):
        pattern.matrix([(w1, 1)])


def test_interpolation_equals_pyamgs():
    """The hierarchy's interpolation (strength matrix given A's values by a blocked key lookup)
    equals pyamg's ``classical_interpolation`` entry for entry, on a 180 000-unknown system (two
    of the lookup's 131 072-row blocks)."""
    from pyamg.classical.interpolate import classical_interpolation
    from pyamg.classical.split import RS
    from pyamg.strength import classical_strength_of_connection
    a = _conductance_laplacian((60, 60, 50))
    split = RS(classical_strength_of_connection(a, theta=0.25), second_pass=False)
    want = sparse.csr_matrix(classical_interpolation(a, classical_strength_of_connection(a, theta=0.25), split))
    got = _Preconditioner._interpolation(a, classical_strength_of_connection(a, theta=0.25), split, int(split.sum()))
    assert got.shape == want.shape and got.nnz == want.nnz
    assert abs(got - want).max() == 0.0


def test_float32_hierarchy_needs_no_more_iterations_than_pyamgs():
    """CG preconditioned by the float32 V-cycle (one forward and one backward Gauss-Seidel sweep,
    restriction by P^T) against CG preconditioned by pyamg's own float64 Ruge-Stuben V-cycle with
    the same smoothing, on a Laplacian whose conductances span five decades: to 1e-8, within
    10 % of pyamg's iteration count (float32's seven digits are far below the 1e-8 the cycle's
    error reduction needs per iteration; measured: 60 and 60)."""
    import pyamg
    a = _conductance_laplacian((40, 40, 40), seed=1)
    b = np.random.default_rng(2).normal(size=a.shape[0])
    pc = _Preconditioner()
    x, ours, _ = pc.solve(a, b, np.zeros_like(b), tol=1e-8)
    assert np.linalg.norm(b - a @ x) <= 1e-8 * np.linalg.norm(b)
    ml = pyamg.ruge_stuben_solver(a, max_coarse=500, presmoother=("gauss_seidel", {"sweep": "forward"}),
                                  postsmoother=("gauss_seidel", {"sweep": "backward"}))
    m = ml.aspreconditioner(cycle="V")
    _, theirs = conjugate_gradient(a, b, np.zeros_like(b), 1e-8, 200, precondition=m.matvec)
    assert ours <= 1.1 * theirs + 1, (ours, theirs)


def test_a_dropped_hierarchy_is_freed_without_the_garbage_collector():
    """After :meth:`_Preconditioner.reset` no object keeps the old hierarchy alive: with Python's
    cyclic garbage collector disabled, a weak reference to its first prolongation is dead.

    Reference: CPython's reference counting frees an object when its last reference goes, unless
    it sits in a reference cycle.  A V-cycle written as a recursive closure formed such a cycle
    per solve, capturing the hierarchy; numpy-heavy code seldom triggers the collector, so each
    rebuild kept one more hierarchy (the whole 0.75 um discharge: 0.1 -> 0.34 GB in use)."""
    import gc
    import weakref
    a = _conductance_laplacian((30, 30, 30), seed=2, decades=1)   # 27 000 > the direct-solve limit
    b = np.ones(a.shape[0])
    pc = _Preconditioner()
    gc.disable()
    try:
        x, its, _ = pc.solve(a, b, np.zeros(a.shape[0]), tol=1e-6)
        # it solved (relative residual 1e-6 asked; 2x margin for the norm CG measures it in)
        # within the iterations that keep the hierarchy (<= 25)
        assert np.linalg.norm(a @ x - b) < 2e-6 * np.linalg.norm(b) and its <= 25, its
        first_p = weakref.ref(pc.levels[0][0][0])
        pc.reset()
        assert first_p() is None
    finally:
        gc.enable()
