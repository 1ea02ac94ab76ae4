"""Steady-state conduction / tortuosity factor (electrovox.solvers.transport.diffusion) against
exact solutions: straight channels, series and parallel layers (harmonic / arithmetic means),
anisotropic voxels, isolated regions, flux conservation, and a random medium against the same
voxel geometry on a refined grid."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from electrovox.errors import BadInput
from electrovox.solvers.transport import diffusion
from electrovox.solvers.transport.diffusion import solve_conduction, tortuosity

LEGEND = {0: "pore", 1: "cbd", 2: "am", 3: "crack"}


def test_straight_channels_have_tau_one():
    s = np.zeros((20, 16, 16))
    s[:, 4:8, 4:8] = 1
    s[:, 10:12, 2:14] = 1
    r = solve_conduction(s, 1.0, "z")
    # straight channels: D_eff = porosity exactly, tau = 1 (solver tolerance: flux balance 1e-6)
    assert r["porosity"] == pytest.approx(40 / 256)
    assert r["tau"] == pytest.approx(1.0, abs=1e-6) and r["D_eff"] == pytest.approx(40 / 256, rel=1e-6)
    # across the channels nothing percolates (no path from the y = 0 face to y = max)
    r = solve_conduction(s, 1.0, "y")
    assert r["D_eff"] == 0.0 and r["tau"] == float("inf") and r["percolating_fraction"] == 0


@pytest.mark.parametrize("spacing", [(1.0, 1.0, 1.0), (0.1, 0.0152, 0.0152), (2.0, 0.5, 1.0)])
def test_series_and_parallel_layers(spacing):
    """Layers of sigma 1 (12 voxels) and 0.2 (8 voxels) along z: in series (along z) the harmonic
    mean weighted by thickness, in parallel (along x, y) the arithmetic mean; exact for the
    harmonic face conductance, on any voxel shape."""
    s = np.ones((20, 6, 10))
    s[12:] = 0.2
    series = 1.0 / (0.6 / 1.0 + 0.4 / 0.2)
    parallel = 0.6 * 1.0 + 0.4 * 0.2
    assert solve_conduction(s, spacing, "z")["sigma_eff"] == pytest.approx(series, rel=1e-6)
    assert solve_conduction(s, spacing, "x")["sigma_eff"] == pytest.approx(parallel, rel=1e-6)
    assert solve_conduction(s, spacing, "y")["sigma_eff"] == pytest.approx(parallel, rel=1e-6)


def test_anisotropic_voxels_exact():
    """A diagonal staircase channel: the same voxels on (dz, dy, dx) = (1, 1, 1) and (2, 1, 1) have
    the exact resistances of their face conductances; a 1D chain check: a channel of width 1
    along z with a jog along x costs one extra x-face (length dx, area dz*dy)."""
    s = np.zeros((6, 1, 3))
    s[:3, 0, 0] = 1
    s[2:, 0, 1] = 1                       # jog at z = 2 from x = 0 to x = 1
    for dz, dy, dx in [(1.0, 1.0, 1.0), (2.0, 1.0, 0.5), (0.1, 0.3, 0.7)]:
        # resistances in series: 3 z-steps in column 0 (incl. half at the inlet, half to the jog
        # voxel's centre), the x-step, 3.5 z-steps in column 1 ... written out voxel by voxel
        az, ax = dy * dx, dz * dy
        r = (0.5 * dz + 2 * dz) / az          # inlet plane -> centre of (2, 0)
        r += dx / ax                          # (2, 0) -> (2, 1)
        r += (3 * dz + 0.5 * dz) / az         # (2, 1) -> outlet plane
        q = 1.0 / r
        res = solve_conduction(s, (dz, dy, dx), "z")
        # the two dead-end voxels (3..5, x = 0 and 0..1, x = 1) carry no current; Q exact to 1e-6
        assert res["flux_in"] == pytest.approx(q, rel=1e-6)
        cross = 1 * dy * 3 * dx
        assert res["sigma_eff"] == pytest.approx(q * 6 * dz / cross, rel=1e-6)


def test_isolated_regions_are_reported_not_solved():
    s = np.zeros((10, 10, 10))
    s[:, 1:3, 1:3] = 1                     # percolating channel
    s[3:6, 6:8, 6:8] = 1                   # floating block: no path to either face
    r = solve_conduction(s, 1.0, "z")
    assert r["isolated_fraction"] == pytest.approx(12 / 1000)
    assert r["percolating_fraction"] == pytest.approx(40 / 1000)
    # tau uses all conducting voxels (eps = 0.052) against the channel's D_eff = 0.04
    assert r["tau"] == pytest.approx(0.052 / 0.04, rel=1e-6)


def blobs(n, porosity, seed, sigma=None):
    rng = np.random.default_rng(seed)
    b = ndimage.gaussian_filter(rng.random((n, n, n)), sigma or n / 24, mode="wrap")
    return b < np.quantile(b, porosity)


def test_flux_conservation_random_medium():
    m = blobs(48, 0.35, 0)
    r = solve_conduction(m.astype(float), 1.0, "z", flux_tol=1e-7)
    # inlet and outlet fluxes agree to the stated criterion (here 1e-7, the issue asks 1e-6)
    assert r["flux_imbalance"] <= 1e-7
    assert r["flux_in"] == pytest.approx(r["flux_out"], rel=1e-6)
    assert 1.0 < r["tau"] < 10.0


def test_random_medium_against_refined_grid():
    """The same voxel geometry on grids refined 2x and 4x per axis (each voxel split in 8, 64) is
    the same medium; the finite-volume solution converges under refinement: the change from 2x to
    4x is below half the change from 1x to 2x (measured 0.39: about first order, the error sits in
    one-voxel throats), the porosity is identical, and the coarse value is within 15 % of the 4x
    one (measured +11 %, the known staircase error of voxel solvers; TauFactor's scheme shares it)."""
    m = blobs(24, 0.4, 3, sigma=2.0)
    taus = []
    for f in (1, 2, 4):
        fine = m.repeat(f, 0).repeat(f, 1).repeat(f, 2)
        r = solve_conduction(fine.astype(float), 1.0 / f, "z")
        assert r["porosity"] == pytest.approx(m.mean())
        taus.append(r["tau"])
    t1, t2, t4 = taus
    assert t1 > t2 > t4
    assert abs(t2 - t4) < 0.5 * abs(t1 - t2)
    assert t1 == pytest.approx(t4, rel=0.15)


def test_phases_and_cbd_factor():
    lab = np.zeros((12, 8, 8), np.uint8)        # pore
    lab[:, :4] = 2                              # am: not conducting for ions
    lab[:, 4:6] = 1                             # cbd
    # pores alone: the pore slab (y 6..7) is straight along z: tau = 1
    r = tortuosity(lab, LEGEND, 1.0, "z")
    assert r["tau"] == pytest.approx(1.0, abs=1e-6) and r["porosity"] == pytest.approx(0.25)
    # with nanoporous CBD at 0.1: parallel layers, D_eff = 0.25 * 1 + 0.25 * 0.1
    r = tortuosity(lab, LEGEND, 1.0, "z", cbd_factor=0.1)
    assert r["D_eff"] == pytest.approx(0.275, rel=1e-6) and r["porosity"] == pytest.approx(0.5)
    # electronic network: am (10) + cbd (1): parallel, reference = the largest conductivity
    r = tortuosity(lab, LEGEND, 1.0, "z", conductivities={"am": 10.0, "cbd": 1.0})
    assert r["sigma_eff"] == pytest.approx(0.5 * 10 + 0.25 * 1, rel=1e-6)
    assert r["D_eff"] == pytest.approx(0.525, rel=1e-6)


def test_fields():
    s = np.ones((8, 4, 5))
    r = solve_conduction(s, (0.5, 1.0, 1.0), "z", fields=True)
    pot, flux = r["potential"], r["flux"]
    # linear potential between c = 1 (inlet face) and 0 (outlet face) at the voxel centres
    z = (np.arange(8) + 0.5) / 8
    assert np.allclose(pot[:, 0, 0], 1 - z, atol=1e-6)
    # uniform flux density along +z (component index 2 = z): sigma * dC / L = 1 / 4 per um
    assert np.allclose(flux[..., 2], 0.25, rtol=1e-5) and np.allclose(flux[..., :2], 0, atol=1e-6)


def test_bad_input():
    with pytest.raises(BadInput):
        solve_conduction(np.ones((4, 4)), 1.0, "z")
    with pytest.raises(BadInput):
        solve_conduction(-np.ones((4, 4, 4)), 1.0, "z")
    with pytest.raises(BadInput):
        solve_conduction(np.ones((4, 4, 4)), 1.0, "w")
    with pytest.raises(BadInput):
        tortuosity(np.zeros((4, 4, 4), np.uint8), LEGEND, 1.0, "z", phases=("electrolyte",))


@pytest.mark.parametrize("call, word", [
    (lambda: solve_conduction(np.ones((4, 4)), 1.0, "z"), "sigma"),
    (lambda: solve_conduction(-np.ones((4, 4, 4)), 1.0, "z"), "sigma"),
    (lambda: solve_conduction(np.ones((4, 4, 4)), 1.0, "w"), "axis"),
    (lambda: solve_conduction(np.ones((4, 4, 4)), 1.0, 3), "axis"),
    (lambda: solve_conduction(np.ones((1, 4, 4)), 1.0, "z"), "axis"),
    (lambda: solve_conduction(np.ones((4, 4, 4)), 1.0, "z", method="cg"), "method"),
    (lambda: tortuosity(np.zeros((4, 4, 4), np.uint8), LEGEND, 1.0, "z", phases=("electrolyte",)), "phases"),
    (lambda: tortuosity(np.zeros((4, 4, 4), np.uint8), LEGEND, 1.0, "z", phases=()), "phases"),
    (lambda: tortuosity(np.zeros((4, 4, 4), np.uint8), LEGEND, 1.0, "z", conductivities={"bulk": 1}),
     "conductivities"),
    (lambda: tortuosity(np.zeros((4, 4, 4), np.uint8), LEGEND, 1.0, "z", conductivities={"am": -1}),
     "conductivities"),
    (lambda: tortuosity(np.zeros((4, 4, 4), np.uint8), LEGEND, 1.0, "z", cbd_factor=-0.1), "cbd_factor"),
])
def test_errors_name_the_keyword_not_a_cli_flag(call, word):
    """The cores name their own keyword arguments (the CLI translates them into its flags)."""
    with pytest.raises(BadInput) as e:
        call()
    assert e.value.source == word and "--" not in str(e.value) and "Fix:" in str(e.value)


def test_axis_names_and_array_indices_agree():
    """Axes are "z", "y", "x" or the indices 0, 1, 2 of the (z, y, x) array axes."""
    rng = np.random.default_rng(1)
    s = (rng.random((10, 8, 6)) < 0.7).astype(float)
    for name, index in (("z", 0), ("y", 1), ("x", 2)):
        a = solve_conduction(s, (0.5, 1.0, 2.0), name)
        b = solve_conduction(s, (0.5, 1.0, 2.0), index)
        assert a["axis"] == b["axis"] == name and a["sigma_eff"] == b["sigma_eff"]
        assert np.array_equal(diffusion.percolating(s, name), diffusion.percolating(s, index))
    r = solve_conduction(s, 1.0, "X", fields=True)
    assert r["axis"] == "x"
    assert np.array_equal(diffusion.flux_density(r["potential"], s, (1.0, 1.0, 1.0), "x"),
                          diffusion.flux_density(r["potential"], s, (1.0, 1.0, 1.0), 2))


def test_method_dispatch_and_fallback():
    rng = np.random.default_rng(2)
    s = (rng.random((12, 10, 10)) < 0.75).astype(float)
    mg = solve_conduction(s, 1.0, "z", method="multigrid")
    amg = solve_conduction(s, 1.0, "z", method="amg")
    assert (mg["method"], amg["method"]) == ("multigrid", "amg")
    assert mg["D_eff"] == pytest.approx(amg["D_eff"], rel=1e-5)
    # a multigrid solve that does not converge is redone by amg
    fb = solve_conduction(s, 1.0, "z", method="multigrid", maxiter=1)
    assert fb["method"] == "amg" and fb["D_eff"] == pytest.approx(amg["D_eff"], rel=1e-3)
    assert set(diffusion._METHODS) == {"multigrid", "amg"}
