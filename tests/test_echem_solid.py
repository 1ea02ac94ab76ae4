"""Solid diffusion in voxelised particles against Crank's exact solution for a sphere under a
constant surface flux, and lithium conservation.

Reference: the series solution (Crank; Carslaw & Jaeger; shared/reference/solver-references.md).
One octant of the sphere is solved (the image box's faces are symmetry planes: no flux), which is
exactly the full sphere's problem at an eighth of the cost.
"""

from __future__ import annotations

import numpy as np
import pytest

from electrovox.solvers.echem.solid import SolidDiffusion, crank_sphere


def _octant(n_per_radius: int, dx: float):
    """An eighth of a sphere of radius n_per_radius voxels, its centre at the box corner."""
    x = (np.arange(n_per_radius + 2) + 0.5) * dx
    zz, yy, xx = np.meshgrid(x, x, x, indexing="ij")
    rr = np.sqrt(zz ** 2 + yy ** 2 + xx ** 2)
    return rr <= n_per_radius * dx, rr


def _surface_error(n_per_radius: int, steps: int = 100):
    dx, d, j = 1e-7, 1e-14, 1e-5
    radius = n_per_radius * dx
    mask, rr = _octant(n_per_radius, dx)
    from electrovox.filters.quantify.surfaces import face_count_area
    faces = face_count_area(mask, (1.0, 1.0, 1.0)) * dx ** 2        # octant faces (box faces excluded)
    true = 4 * np.pi * radius ** 2 / 8
    s = SolidDiffusion(mask, (dx, dx, dx), d, 0.0, area_factor=true / faces)
    t_end = 0.2 * radius ** 2 / d
    for _ in range(steps):
        s.step(t_end / steps, j)
    ref = crank_sphere(rr[mask][s.surface], t_end, radius, d, j)
    mean_err = abs(s.c[s.surface].mean() - ref.mean()) / ref.mean()
    return mean_err, s, j * true * t_end


def test_sphere_surface_concentration_against_crank():
    """The mean surface concentration is within 2 % of Crank's at 20 voxels per radius (backward
    Euler, 100 steps to t = 0.2 R^2/D), and the error falls from 10 to 20 voxels per radius."""
    e10, _, _ = _surface_error(10)
    e20, _, _ = _surface_error(20)
    assert e20 < 0.02 and e20 < e10, (e10, e20)


def test_lithium_is_conserved():
    """The lithium in the solid equals the integrated surface flux (to rounding, 1e-10 relative)."""
    _, s, inflow = _surface_error(8, steps=20)
    assert s.total() == pytest.approx(inflow, rel=1e-10)
