"""The colour-gradient two-fluid lattice against the Laplace law and conservation of mass.

References: Laplace's law (the pressure jump across a curved interface is the tension times the
curvature: sigma / R for a cylinder, 2 sigma / R for a sphere), the perturbation operator's
tension ``sigma = 2 A / 9`` in lattice units for the amplitude divided by the relaxation time
(Chapman-Enskog, Reis & Phillips 2007 with the D3Q19 weights of Leclaire et al. 2017), and the
conservation of each fluid's mass by collision, recolouring and bounce-back.
"""

from __future__ import annotations

import numpy as np
import pytest

from electrovox.solvers.flow.twophase import ColourGradient

A = 1e-3                       # perturbation amplitude: sigma = 2 A / 9 = 2.22e-4 lattice units


def _cylinder(radius, n=64, nu=(1 / 6, 1 / 6), steps=3000):
    """A static cylinder of electrolyte (axis along y) in air; returns the model and distances."""
    z, x = np.mgrid[:n, :n]
    d = np.sqrt((z - n / 2 + 0.5) ** 2 + (x - n / 2 + 0.5) ** 2)
    m = ColourGradient(np.ones((n, 1, n), bool), np.tanh((radius - d) / 1.5)[:, None, :],
                       nu_electrolyte=nu[0], nu_air=nu[1], amplitude=A)
    m.step(steps)
    return m, d


def _jump(m, d, radius):
    """Pressure inside minus outside, 4 nodes clear of the interface (2-3 nodes wide)."""
    p = m.pressure()[:, 0, :]
    return p[d < radius - 4].mean() - p[d > radius + 4].mean()


def test_laplace_law_cylinders():
    """Three cylinders (R = 10, 14, 20 nodes): the tension from the jump, sigma = dp R, is the same
    within 3 % (Laplace; measured spread 2 %, the diffuse interface's curvature error falls as
    1/R) and within 4 % of 2 A / 9; the spurious velocities stay below 1e-4 lattice units (the
    issue's bound; 6e-6 measured); each fluid's mass is conserved to 1e-11 (rounding over 3000
    steps)."""
    sig = []
    for radius in (10, 14, 20):
        m, d = _cylinder(radius)
        m0 = np.array(m.masses())
        sig.append(_jump(m, d, radius) * radius)
        assert np.abs(np.linalg.norm(m.velocity(), axis=1)).max() < 1e-4
        m.step(10)
        assert np.allclose(m.masses(), m0, rtol=1e-11, atol=0)
    sig = np.array(sig)
    assert sig.max() / sig.min() < 1.03, sig
    assert sig.mean() == pytest.approx(2 * A / 9, rel=0.04), sig


def test_laplace_law_sphere():
    """A sphere of radius 8 in a 32^3 periodic box: dp = 2 sigma / R with sigma = 2 A / 9, within
    8 % (a radius of 8 nodes against a 2-3 node interface: the cylinders' 1/R trend puts the
    curvature error at ~3 % per curvature at R = 10, doubled for a sphere's two)."""
    n, radius = 32, 8
    z, y, x = np.mgrid[:n, :n, :n]
    d = np.sqrt((z - n / 2 + 0.5) ** 2 + (y - n / 2 + 0.5) ** 2 + (x - n / 2 + 0.5) ** 2)
    m = ColourGradient(np.ones((n, n, n), bool), np.tanh((radius - d) / 1.5), amplitude=A)
    m.step(1500)
    p = m.pressure()
    dp = p[d < radius - 4].mean() - p[d > radius + 4].mean()
    assert dp == pytest.approx(2 * (2 * A / 9) / radius, rel=0.08)


def test_mass_is_conserved_in_a_porous_medium():
    """Electrolyte invading a random porous slab under a body force: with bounce-back walls and
    recolouring, each fluid's mass is unchanged to 1e-12 after 400 steps, and the electrolyte
    has moved (its centre of mass shifts along the force)."""
    rng = np.random.default_rng(0)
    solid = rng.random((24, 12, 12)) < 0.25
    solid[:, 0, :] = True                      # a wall keeps the flow from short-circuiting along y
    fluid = ~solid
    z = np.arange(24)[:, None, None] * np.ones((1, 12, 12))
    phi0 = np.where(z >= 18, 1.0, -1.0)
    m = ColourGradient(fluid, phi0, contact_deg=45.0, amplitude=A, force=(0.0, 0.0, -1e-5))
    m0 = np.array(m.masses())
    zc0 = np.nansum(m.field(m.r.sum(0), 0.0) * z) / m0[0]
    m.step(400)
    assert np.allclose(m.masses(), m0, rtol=1e-12, atol=0)
    zc1 = np.nansum(m.field(m.r.sum(0), 0.0) * z) / m0[0]
    assert zc1 < zc0 - 0.1
