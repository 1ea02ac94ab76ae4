"""Flow tortuosity tau = sum |V| / |sum V_i| (electrovox.solvers.transport.flow_tortuosity and the
VTK filter electrovox.filters.vtk.flow_tortuosity), each against a value derived by hand:

- straight uniform flow along x, y, z: tau = 1;
- zig-zag channels at +-theta to the mean flow: tau = 1 / cos(theta);
- helical flow V = (-w r sin phi, w r cos phi, v_z) on a disc: the discrete mean speed over
  v_z, and the closed-form disc integral within a discretisation bound derived below;
- Poiseuille tube (mask excludes the solid), weights (hand-computed), reversed flow;
- bad input -> BadInput;
- the VTK filter on image point / cell data, a non-uniform rectilinear grid, its tetrahedra
  (unstructured, volume-weighted), and legacy .vtk / XML .vtu files read back ("velocity
  imported from other tools").
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from _helpers import bad_input

from electrovox.solvers.transport.flow_tortuosity import flow_sums, flow_tortuosity, tortuosity_from_sums

EXACT = 1e-12  # sums of a few thousand float64 terms, ratios of equal sums


def uniform(shape, direction, speed=0.7):
    v = np.zeros((*shape, 3))
    v[...] = speed * np.asarray(direction, dtype=np.float64)
    return v


def zigzag(theta, shape=(4, 6, 12), block=3, speed=1.3):
    """Channels along x (rows y even; odd rows are solid, V = 0); along x the velocity turns
    between (cos t, +sin t, 0) and (cos t, -sin t, 0) every ``block`` voxels."""
    nz, ny, nx = shape
    v = np.zeros((nz, ny, nx, 3))
    sign = np.where((np.arange(nx) // block) % 2 == 0, 1.0, -1.0)
    v[:, ::2, :, 0] = speed * math.cos(theta)
    v[:, ::2, :, 1] = speed * math.sin(theta) * sign
    return v


def helix(n=64, layers=3, radius=1.0, omega=3.0, vz=0.5):
    """V = (-omega y, omega x, vz) = (-omega r sin phi, omega r cos phi, vz) at the voxel centres
    ((i + 1/2) h - R) of a [layers, n, n] grid, h = 2R / n; zero outside the disc r <= R."""
    h = 2.0 * radius / n
    c = (np.arange(n) + 0.5) * h - radius
    y, x = np.meshgrid(c, c, indexing="ij")
    r = np.hypot(x, y)
    disc = r <= radius
    v = np.zeros((layers, n, n, 3))
    v[..., 0], v[..., 1], v[..., 2] = -omega * y, omega * x, vz
    v[:, ~disc] = 0.0
    return v, disc, r, h


# --- core: analytic fields ----------------------------------------------------------------------

@pytest.mark.parametrize("i", [0, 1, 2])
def test_straight_uniform_flow_is_one(i):
    direction = np.eye(3)[i]
    v = uniform((5, 6, 7), direction)
    auto = flow_tortuosity(v)
    assert auto["flow_tortuosity"] == pytest.approx(1.0, abs=EXACT)
    assert auto["axis"] == "xyz"[i] and auto["axis_estimated"] is True
    assert auto["direction"] == "+" + "xyz"[i]
    assert auto["n_points"] == 5 * 6 * 7
    np.testing.assert_allclose(auto["mean_velocity"], 0.7 * direction, atol=EXACT)
    assert auto["flow_fraction_along_axis"] == pytest.approx(1.0, abs=EXACT)
    for axis in ("xyz"[i], i):
        given = flow_tortuosity(v, axis=axis)
        assert given["flow_tortuosity"] == pytest.approx(1.0, abs=EXACT)
        assert given["axis"] == "xyz"[i] and given["axis_estimated"] is False


def test_uniform_oblique_flow_against_a_chosen_axis():
    """V = (1, 0.5, 0) everywhere: |V| = sqrt(1.25); tau = |V| / V_i for the chosen axis."""
    v = uniform((3, 4, 5), (1.0, 0.5, 0.0), speed=1.0)
    assert flow_tortuosity(v)["axis"] == "x"
    assert flow_tortuosity(v)["flow_tortuosity"] == pytest.approx(math.sqrt(1.25), rel=EXACT)
    assert flow_tortuosity(v, axis="y")["flow_tortuosity"] == pytest.approx(math.sqrt(1.25) / 0.5, rel=EXACT)


@pytest.mark.parametrize("deg", [0.0, 10.0, 30.0, 45.0, 60.0, 75.0])
def test_zigzag_is_one_over_cos(deg):
    t = math.radians(deg)
    v = zigzag(t)
    r = flow_tortuosity(v)
    assert r["axis"] == "x" and r["axis_estimated"]
    assert r["flow_tortuosity"] == pytest.approx(1.0 / math.cos(t), rel=EXACT)
    assert r["flow_fraction_along_axis"] == pytest.approx(math.cos(t), rel=EXACT)
    assert r["n_points"] == 4 * 3 * 12  # the solid rows (V = 0) are not counted
    np.testing.assert_allclose(r["mean_velocity"], [1.3 * math.cos(t), 0.0, 0.0], atol=EXACT)


def test_zigzag_along_z_in_a_voxel_array():
    """The same in [z, y, x] voxels with the mean flow along the array's axis 0 (component z)."""
    t = math.radians(35.0)
    v = np.zeros((12, 4, 5, 3))
    sign = np.where((np.arange(12) // 2) % 2 == 0, 1.0, -1.0)[:, None, None]
    v[..., 2] = math.cos(t)
    v[..., 0] = math.sin(t) * sign
    r = flow_tortuosity(v)
    assert r["axis"] == "z"
    assert r["flow_tortuosity"] == pytest.approx(1.0 / math.cos(t), rel=EXACT)


def test_helix_discrete_mean_speed():
    """v_z = w everywhere in the disc: tau = mean over the disc points of sqrt(w^2 + omega^2 r^2) / w."""
    v, disc, r, _ = helix()
    res = flow_tortuosity(v)
    assert res["axis"] == "z" and res["n_points"] == 3 * int(disc.sum())
    want = np.mean(np.sqrt(0.5**2 + 3.0**2 * r[disc] ** 2)) / 0.5
    assert res["flow_tortuosity"] == pytest.approx(want, rel=EXACT)
    np.testing.assert_allclose(res["mean_velocity"], [0.0, 0.0, 0.5], atol=1e-12)  # the swirl averages out


def _disc_mean_speed(radius, omega, w):
    """(2 / R^2) int_0^R sqrt(w^2 + omega^2 r^2) r dr = 2 ((w^2 + omega^2 R^2)^1.5 - w^3) / (3 omega^2 R^2)."""
    return 2.0 * ((w**2 + omega**2 * radius**2) ** 1.5 - w**3) / (3.0 * omega**2 * radius**2)


@pytest.mark.parametrize("n", [64, 128])
def test_helix_on_a_grid_against_the_disc_integral(n):
    """tau on the voxel centres of a disc vs the closed form T = mean_D(f) / w over the uniform
    disc D (f = |V| = sqrt(w^2 + omega^2 r^2)).

    Discretisation error (N points in D, squares of side h = 2R/n around them, S their union,
    |S| = N h^2):  mean_h - mean_D = (f(R) - mean_D) (|S| - |D|) / |S| + e, with
      |e| <= omega (h / sqrt 2) |S xor D| / |S| + h^2 max(|f_xx| + |f_yy|) / 24
    because S xor D lies within h / sqrt 2 of the circle (|S xor D| <= 2 sqrt(2) pi R h) where
    |f - f(R)| <= omega h / sqrt 2, and the midpoint rule on each square errs by at most the
    second term (|f_xx|, |f_yy| <= omega^2 / w).  Asserted: the O(h) error against the bound
    with |S| - |D| <= |S xor D|, and the O(h^2) remainder once the boundary term (computed from
    the exact N) is taken off.  (n = 64: error 6.6e-3 of 4.15, remainder 6e-6, bound 1.5e-2.)"""
    radius, omega, w = 1.0, 3.0, 0.5
    v, disc, _, h = helix(n=n, layers=1, radius=radius, omega=omega, vz=w)
    tau = flow_tortuosity(v)["flow_tortuosity"]
    closed = _disc_mean_speed(radius, omega, w) / w
    area_s, area_d, band = disc.sum() * h * h, math.pi * radius**2, 2 * math.sqrt(2) * math.pi * radius * h
    f_edge = math.sqrt(w**2 + omega**2 * radius**2) / w
    remainder = (omega * h / math.sqrt(2) * band / area_s + h * h * 2 * omega**2 / w / 24) / w
    assert abs(tau - closed) <= (f_edge - closed) * band / area_s + remainder
    assert abs(tau - closed - (f_edge - closed) * (area_s - area_d) / area_s) <= remainder


def test_helix_on_polar_cells_against_the_disc_integral():
    """The same field on polar cells (r_k = (k + 1/2) dr, phi_j = (j + 1/2) dphi) weighted by
    their exact areas r_k dr dphi: the weighted mean is the midpoint rule of
    int_0^R 2 pi r f(r) dr / (pi R^2); g = r f is convex (g'' = 2 f' + r f'' >= 0), so the
    rule underestimates, by at most dr^2 (2 omega + R omega^2 / w) / (12 R) (|f'| <= omega,
    f'' <= omega^2 / w):  0 <= T - tau <= that / w."""
    radius, omega, w, k, m = 1.0, 3.0, 0.5, 64, 48
    dr, dphi = radius / k, 2 * math.pi / m
    r, phi = np.meshgrid((np.arange(k) + 0.5) * dr, (np.arange(m) + 0.5) * dphi, indexing="ij")
    v = np.stack([-omega * r * np.sin(phi), omega * r * np.cos(phi), np.full_like(r, w)], axis=-1)
    res = flow_tortuosity(v, weights=r * dr * dphi)
    closed = _disc_mean_speed(radius, omega, w) / w
    bound = dr**2 * (2 * omega + radius * omega**2 / w) / (12 * radius) / w
    assert 0 <= closed - res["flow_tortuosity"] <= bound
    np.testing.assert_allclose(res["mean_velocity"], [0.0, 0.0, w], atol=1e-12)


def test_poiseuille_tube_and_mask():
    """u_z = U (1 - r^2 / R^2) in a tube along z: straight, tau = 1; garbage velocities in the
    solid (a penalised solver, interpolated point data) are left out by the mask, NaN too."""
    n, radius = 24, 10.0
    c = np.arange(n) - (n - 1) / 2
    y, x = np.meshgrid(c, c, indexing="ij")
    r2 = x**2 + y**2
    pore = np.broadcast_to(r2 < radius**2, (6, n, n))
    v = np.zeros((6, n, n, 3))
    v[..., 2] = np.where(pore, 2.0 * (1 - r2 / radius**2), 0.0)
    clean = flow_tortuosity(v)
    assert clean["flow_tortuosity"] == pytest.approx(1.0, abs=EXACT)
    assert clean["n_points"] == int(pore.sum())
    dirty = v.copy()
    rng = np.random.default_rng(0)
    dirty[~pore] = rng.normal(size=(int((~pore).sum()), 3))
    assert flow_tortuosity(dirty)["flow_tortuosity"] > 1.1  # the solid's noise counted
    masked = flow_tortuosity(dirty, mask=pore)
    assert masked["flow_tortuosity"] == pytest.approx(1.0, abs=EXACT)
    assert masked["n_points"] == int(pore.sum())
    assert masked["mean_velocity"][2] == pytest.approx(v[..., 2][pore].mean(), rel=EXACT)
    dirty[~pore] = np.nan  # not read outside the mask
    assert flow_tortuosity(dirty, mask=pore)["flow_tortuosity"] == pytest.approx(1.0, abs=EXACT)


def test_mask_counts_stagnant_pore_points_in_the_mean():
    """A mask counts every pore point, flowing or not: tau unchanged, the mean velocity diluted."""
    v = uniform((2, 3, 4), (0, 0, 1.0), speed=1.0)
    pore = np.ones((2, 3, 4), dtype=bool)
    v[0] = 0.0  # stagnant pore layer
    r = flow_tortuosity(v, mask=pore)
    assert r["flow_tortuosity"] == pytest.approx(1.0, abs=EXACT)
    assert r["n_points"] == 24 and r["mean_velocity"][2] == pytest.approx(0.5, rel=EXACT)
    assert flow_tortuosity(v)["mean_velocity"][2] == pytest.approx(1.0, rel=EXACT)


def test_weights_by_hand():
    """Half the points straight (1, 0, 0), half inclined (cos t, sin t, 0), unit speed, t = 60 deg:
    unweighted tau = 2 / (1 + cos t) = 4/3; with the inclined points' weight doubled
    tau = 3 / (1 + 2 cos t) = 3/2, the mean velocity ((1 + 2 cos t) / 3, 2 sin t / 3, 0)."""
    t = math.radians(60.0)
    v = np.zeros((10, 3))
    v[0::2] = (1.0, 0.0, 0.0)
    v[1::2] = (math.cos(t), math.sin(t), 0.0)
    assert flow_tortuosity(v)["flow_tortuosity"] == pytest.approx(4.0 / 3.0, rel=EXACT)
    w = np.ones(10)
    w[1::2] = 2.0
    r = flow_tortuosity(v, weights=w)
    assert r["flow_tortuosity"] == pytest.approx(1.5, rel=EXACT)
    np.testing.assert_allclose(r["mean_velocity"], [(1 + 2 * math.cos(t)) / 3, 2 * math.sin(t) / 3, 0.0],
                               rtol=EXACT)
    # a weight of 2 is the point counted twice
    twice = np.concatenate([v, v[1::2]])
    assert flow_tortuosity(twice)["flow_tortuosity"] == pytest.approx(r["flow_tortuosity"], rel=EXACT)


def test_negative_net_flow_is_the_reversed_field():
    v, _, _, _ = helix(n=32, layers=2)
    fwd, back = flow_tortuosity(v), flow_tortuosity(-v)
    assert back["flow_tortuosity"] == pytest.approx(fwd["flow_tortuosity"], rel=EXACT)
    assert back["axis"] == "z" and back["direction"] == "-z" and fwd["direction"] == "+z"
    assert back["flow_fraction_along_axis"] == pytest.approx(-fwd["flow_fraction_along_axis"], rel=EXACT)
    assert back["mean_velocity"][2] == pytest.approx(-0.5, rel=EXACT)
    zz = zigzag(math.radians(20.0))
    assert flow_tortuosity(-zz, axis="x")["flow_tortuosity"] == pytest.approx(1 / math.cos(math.radians(20.0)),
                                                                           rel=EXACT)


def test_float32_and_flat_lists_and_chunked_sums(monkeypatch):
    """A float32 field (as most tools write) gives the float64 sums of its values; a flat
    (n, 3) list the same as the voxel array; the chunked sums the same as one chunk."""
    from electrovox.solvers.transport import flow_tortuosity as core

    v, _, _, _ = helix(n=32, layers=2)
    v32 = v.astype(np.float32)
    want = flow_tortuosity(v32.astype(np.float64))["flow_tortuosity"]
    assert flow_tortuosity(v32)["flow_tortuosity"] == pytest.approx(want, rel=EXACT)
    assert flow_tortuosity(v32.reshape(-1, 3))["flow_tortuosity"] == pytest.approx(want, rel=EXACT)
    monkeypatch.setattr(core, "_CHUNK", 100)
    assert flow_tortuosity(v32)["flow_tortuosity"] == pytest.approx(want, rel=EXACT)


def test_sums_of_pieces_add_up():
    """Two halves' sums added (as MPI pieces are) give the whole field's tau."""
    v, _, _, _ = helix(n=32, layers=4)
    a, b = flow_sums(v[:2]), flow_sums(v[2:])
    total = {"speed": a["speed"] + b["speed"], "flux": [x + y for x, y in zip(a["flux"], b["flux"], strict=True)],
             "weight": a["weight"] + b["weight"], "n_points": a["n_points"] + b["n_points"],
             "n_flowing": a["n_flowing"] + b["n_flowing"]}
    whole = flow_tortuosity(v)
    assert tortuosity_from_sums(total)["flow_tortuosity"] == pytest.approx(whole["flow_tortuosity"], rel=EXACT)


# --- core: bad input ----------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(10, 2), (4, 5, 4), ()])
def test_bad_shape(shape):
    bad_input(flow_tortuosity, np.ones(shape), names="velocity", contains=("(..., 3)",))


def test_bad_dtype_and_values():
    bad_input(flow_tortuosity, np.ones((4, 3), dtype=complex), names="velocity", contains=("(..., 3)",))
    v = uniform((3, 4, 5), (0, 0, 1.0))
    v[1, 2, 3, 0] = np.nan
    e = bad_input(flow_tortuosity, v, names="velocity", contains=("NaN", "(1, 2, 3)"))
    assert "mask" in e.fix
    v[1, 2, 3, 0] = np.inf
    bad_input(flow_tortuosity, v, names="velocity", contains=("infinite",))


def test_no_flow_and_no_net_flow():
    bad_input(flow_tortuosity, np.zeros((3, 4, 5, 3)), names="velocity", contains=("non-zero",))
    v = zigzag(math.radians(30.0))
    bad_input(flow_tortuosity, v, axis="z", names="velocity", contains=("no net flow along axis z",))
    swirl, _, _, _ = helix(n=16, layers=1, vz=0.0)  # a closed circulation: no mean flow anywhere
    bad_input(flow_tortuosity, swirl, names="velocity", contains=("no net flow",))
    # back-and-forth along x with a tiny rounding residue: still "no net flow", not tau = 1e16
    back_forth = np.array([[1.0, 0, 0], [-1.0, 0, 0], [1e-15, 0, 0]])
    bad_input(flow_tortuosity, back_forth, axis="x", names="velocity", contains=("no net flow",))


def test_bad_axis_mask_weights():
    v = uniform((2, 3, 4), (0, 0, 1.0))
    for axis in ("w", 3, -1, True, 1.5):
        bad_input(flow_tortuosity, v, axis=axis, names="axis")
    bad_input(flow_tortuosity, v, mask=np.ones((2, 3), bool), names="mask", contains=("shape",))
    bad_input(flow_tortuosity, v, weights=np.ones(24), names="weights", contains=("shape",))
    w = np.ones((2, 3, 4))
    w[0, 0, 0] = -1
    bad_input(flow_tortuosity, v, weights=w, names="weights", contains=("negative",))
    bad_input(flow_tortuosity, v, weights=np.zeros((2, 3, 4)), names="weights", contains=("zero",))
    bad_input(flow_tortuosity, v, mask=np.zeros((2, 3, 4), bool), names="velocity", contains=("0 points",))


# --- the VTK filter (plain VTK: the pip runtime's wheel, or ParaView's VTK) ---------------------

def _vtk():
    pytest.importorskip("vtkmodules")
    from vtkmodules.util import numpy_support

    return numpy_support


def image(vectors, name, *, cells=False, spacing=(0.5, 0.5, 0.5), extra_scalar=True):
    """vtkImageData holding ``vectors`` [z, y, x, 3] as point data (or cell data: one more point
    per axis), plus a scalar 'p' first (OpenFOAM writes p and U)."""
    from vtkmodules.vtkCommonDataModel import vtkImageData

    ns = _vtk()
    nz, ny, nx = vectors.shape[:3]
    img = vtkImageData()
    img.SetDimensions(nx + cells, ny + cells, nz + cells)
    img.SetSpacing(*spacing)
    attrs = img.GetCellData() if cells else img.GetPointData()
    if extra_scalar:
        p = ns.numpy_to_vtk(np.linspace(0, 1, nx * ny * nz), deep=1)
        p.SetName("p")
        attrs.AddArray(p)
    arr = ns.numpy_to_vtk(np.ascontiguousarray(vectors.reshape(-1, 3)), deep=1)
    arr.SetName(name)
    attrs.AddArray(arr)
    return img


def run_filter(data, **props):
    """(rows {Metric: Value}, the filter) after one Update with the given setters."""
    from electrovox.filters.vtk.flow_tortuosity import FlowTortuosityFilter

    f = FlowTortuosityFilter()
    for key, value in props.items():
        getattr(f, "Set" + key)(value)
    f.SetInputDataObject(0, data)
    f.Update()
    t = f.GetOutputDataObject(0)
    names, values = t.GetColumnByName("Metric"), t.GetColumnByName("Value")
    assert values is None or values.IsA("vtkDoubleArray")
    rows = {names.GetValue(r): values.GetValue(r) for r in range(t.GetNumberOfRows())}
    return rows, f


def _same(rows, res):
    assert rows["flow_tortuosity"] == pytest.approx(res["flow_tortuosity"], rel=EXACT)
    for k, c in enumerate("xyz"):
        assert rows[f"mean_velocity_{c}"] == pytest.approx(res["mean_velocity"][k], rel=EXACT, abs=EXACT)
    assert rows["n_points"] == res["n_points"]
    assert rows["axis"] == "xyz".index(res["axis"])
    assert rows["flow_fraction_along_axis"] == pytest.approx(res["flow_fraction_along_axis"], rel=EXACT)


def test_filter_image_point_data_openfoam_style():
    v, _, _, _ = helix(n=24, layers=3)
    img = image(v, "U")
    want = flow_tortuosity(v)
    for name in ("U", ""):  # by name, and the first 3-component array (after the scalar p)
        rows, f = run_filter(img, ArrayName=name)
        _same(rows, want)
        assert f.last_result["array"] == "U" and f.last_result["association"] == "points"
    rows, _ = run_filter(img, ArrayName="U", Axis=2, Association=0)
    _same(rows, flow_tortuosity(v, axis="z"))
    assert rows["axis_estimated"] == 0.0
    assert set(rows) == {"flow_tortuosity", "mean_velocity_x", "mean_velocity_y", "mean_velocity_z", "n_points",
                         "axis", "axis_estimated", "flow_fraction_along_axis"}


def test_filter_image_cell_data():
    t = math.radians(40.0)
    v = zigzag(t)
    img = image(v, "velocity", cells=True)
    for props in ({}, {"ArrayName": "velocity"}, {"ArrayName": "velocity", "Association": 1}):
        rows, f = run_filter(img, **props)
        _same(rows, flow_tortuosity(v))
        assert rows["flow_tortuosity"] == pytest.approx(1 / math.cos(t), rel=EXACT)
        assert f.last_result["association"] == "cells"


def _rectilinear_zigzag(t):
    """vtkRectilinearGrid, cells alternating along x between widths 1.0 (V = (1, 0, 0)) and 0.25
    (V = (cos t, sin t, 0)), y and z widths 0.5, 1.5: volume-weighted tau = (1 + 0.25) /
    (1 + 0.25 cos t), whatever the y, z widths; unweighted it would be 2 / (1 + cos t)."""
    from vtkmodules.vtkCommonDataModel import vtkRectilinearGrid

    ns = _vtk()
    widths = np.tile([1.0, 0.25], 4)
    xs = np.concatenate([[0.0], np.cumsum(widths)])
    ys, zs = np.array([0.0, 0.5, 2.0]), np.array([0.0, 1.5, 2.0, 2.5])
    grid = vtkRectilinearGrid()
    grid.SetDimensions(len(xs), len(ys), len(zs))
    for setter, c in ((grid.SetXCoordinates, xs), (grid.SetYCoordinates, ys), (grid.SetZCoordinates, zs)):
        setter(ns.numpy_to_vtk(c, deep=1))
    v = np.zeros((len(zs) - 1, len(ys) - 1, len(xs) - 1, 3))
    v[..., 0::2, :] = (1.0, 0.0, 0.0)
    v[..., 1::2, :] = (math.cos(t), math.sin(t), 0.0)
    arr = ns.numpy_to_vtk(v.reshape(-1, 3), deep=1)
    arr.SetName("velocity")
    grid.GetCellData().AddArray(arr)
    vol = (np.diff(zs)[:, None, None] * np.diff(ys)[None, :, None] * np.diff(xs)[None, None, :])
    return grid, v, vol


def test_filter_rectilinear_and_unstructured_cell_volumes():
    t = math.radians(60.0)
    grid, v, vol = _rectilinear_zigzag(t)
    want = 1.25 / (1 + 0.25 * math.cos(t))
    assert flow_tortuosity(v, weights=vol)["flow_tortuosity"] == pytest.approx(want, rel=EXACT)
    assert flow_tortuosity(v)["flow_tortuosity"] == pytest.approx(2 / (1 + math.cos(t)), rel=EXACT)  # differs
    rows, _ = run_filter(grid, ArrayName="velocity")
    _same(rows, flow_tortuosity(v, weights=vol))
    # the same cells as tetrahedra (vtkUnstructuredGrid): each hexahedron split into tets that
    # carry its velocity; their volumes add up to the hexahedron's
    from vtkmodules.vtkFiltersCore import vtkAppendFilter
    from vtkmodules.vtkFiltersGeneral import vtkDataSetTriangleFilter

    tets = vtkDataSetTriangleFilter()
    tets.SetInputData(grid)
    tets.Update()
    ug = tets.GetOutput()
    assert ug.IsA("vtkUnstructuredGrid") and ug.GetNumberOfCells() > v.size // 3
    rows_tet, f = run_filter(ug, ArrayName="velocity")
    assert rows_tet["flow_tortuosity"] == pytest.approx(want, rel=EXACT)
    assert rows_tet["n_points"] == ug.GetNumberOfCells()
    np.testing.assert_allclose([rows_tet[f"mean_velocity_{c}"] for c in "xyz"],
                               flow_tortuosity(v, weights=vol)["mean_velocity"], rtol=EXACT, atol=EXACT)
    # hexahedra as an unstructured grid too (vtkAppendFilter: one vtkVoxel / hexahedron per cell)
    app = vtkAppendFilter()
    app.SetInputData(grid)
    app.Update()
    rows_hex, _ = run_filter(app.GetOutput(), ArrayName="velocity")
    _same(rows_hex, flow_tortuosity(v, weights=vol))


def test_filter_point_data_on_a_mesh_warns_when_cell_data_is_there(capfd):
    from vtkmodules.vtkFiltersCore import vtkCellDataToPointData

    t = math.radians(60.0)
    grid, v, vol = _rectilinear_zigzag(t)
    c2p = vtkCellDataToPointData()
    c2p.SetInputData(grid)
    c2p.PassCellDataOn()
    c2p.Update()
    both = c2p.GetOutput()
    rows, f = run_filter(both, ArrayName="velocity")  # auto: point data, as asked
    assert f.last_result["association"] == "points"
    pts = _vtk().vtk_to_numpy(both.GetPointData().GetArray("velocity"))
    _same(rows, flow_tortuosity(pts))
    assert "set Association to cells" in capfd.readouterr().err
    rows, f = run_filter(both, ArrayName="velocity", Association=1)
    _same(rows, flow_tortuosity(v, weights=vol))


def test_filter_errors_are_one_line():
    v = zigzag(math.radians(30.0))
    img = image(v, "U")
    cases = [({"ArrayName": "nope"}, "ArrayName", "no array 'nope'"),
             ({"ArrayName": "p"}, "ArrayName", "1 components"),
             ({"ArrayName": "U", "Association": 1}, "ArrayName", "cell data"),
             ({"ArrayName": "U", "Axis": 2}, "velocity 'U'", "no net flow along axis z"),
             ({"Axis": 5}, "Axis", "not a direction"),
             ({"Association": 3}, "Association", "not an association")]
    for props, source, problem in cases:
        rows, f = run_filter(img, **props)
        assert rows == {}, props
        assert f.last_error.startswith(source) and problem in f.last_error and "Fix:" in f.last_error, f.last_error
        assert "\n" not in f.last_error
    rows, f = run_filter(image(np.zeros((2, 3, 4, 3)), "U"))
    assert rows == {} and "non-zero velocity" in f.last_error
    v[0, 0, 0, 1] = np.nan
    rows, f = run_filter(image(v, "U"))
    assert rows == {} and f.last_error.startswith("velocity 'U'") and "NaN" in f.last_error
    only_p = image(v, "U")
    only_p.GetPointData().RemoveArray("U")
    rows, f = run_filter(only_p)
    assert rows == {} and "no 3-component array" in f.last_error


def test_legacy_vtk_and_xml_vtu_files(tmp_path):
    """Velocity imported from other tools: a legacy .vtk (structured points, float32 point data
    'U', binary) and an XML .vtu (tetrahedra, cell data 'velocity'), written and read back with
    VTK's own writers and readers."""
    from vtkmodules.vtkFiltersGeneral import vtkDataSetTriangleFilter
    from vtkmodules.vtkIOLegacy import vtkDataSetReader, vtkStructuredPointsWriter
    from vtkmodules.vtkIOXML import vtkXMLUnstructuredGridReader, vtkXMLUnstructuredGridWriter

    v, _, _, _ = helix(n=20, layers=3)
    v32 = v.astype(np.float32)
    w = vtkStructuredPointsWriter()
    w.SetInputData(image(v32, "U"))
    w.SetFileName(str(tmp_path / "helix.vtk"))
    w.SetFileTypeToBinary()
    w.Write()
    r = vtkDataSetReader()
    r.SetFileName(str(tmp_path / "helix.vtk"))
    r.ReadAllScalarsOn()
    r.ReadAllVectorsOn()
    r.Update()
    rows, f = run_filter(r.GetOutput(), ArrayName="")
    assert f.last_result["array"] == "U"
    _same(rows, flow_tortuosity(v32))
    rows, _ = run_filter(r.GetOutput(), ArrayName="U")
    _same(rows, flow_tortuosity(v32))

    t = math.radians(60.0)
    grid, vc, vol = _rectilinear_zigzag(t)
    tets = vtkDataSetTriangleFilter()
    tets.SetInputData(grid)
    tets.Update()
    xw = vtkXMLUnstructuredGridWriter()
    xw.SetInputData(tets.GetOutput())
    xw.SetFileName(str(tmp_path / "zigzag.vtu"))
    assert xw.Write() == 1
    xr = vtkXMLUnstructuredGridReader()
    xr.SetFileName(str(tmp_path / "zigzag.vtu"))
    xr.Update()
    rows, f = run_filter(xr.GetOutput(), ArrayName="velocity")
    assert f.last_result["association"] == "cells"
    assert rows["flow_tortuosity"] == pytest.approx(1.25 / (1 + 0.25 * math.cos(t)), rel=EXACT)


def test_filter_ghost_cells_are_left_out():
    """Cells flagged as duplicates (a ghost layer of a distributed piece) are not counted."""
    from vtkmodules.vtkCommonDataModel import vtkDataSetAttributes

    ns = _vtk()
    t = math.radians(30.0)
    v = zigzag(t)
    ghost_v = v.copy()
    ghost_v[0] = (5.0, 5.0, 0.0)  # a ghost layer holding another process's (different) flow
    img = image(ghost_v, "velocity", cells=True)
    flags = np.zeros(v.shape[:3], dtype=np.uint8)
    flags[0] = vtkDataSetAttributes.DUPLICATECELL
    g = ns.numpy_to_vtk(flags.ravel(), deep=1)
    g.SetName(vtkDataSetAttributes.GhostArrayName())
    img.GetCellData().AddArray(g)
    rows, _ = run_filter(img, ArrayName="velocity")
    _same(rows, flow_tortuosity(v[1:]))
    assert rows["flow_tortuosity"] == pytest.approx(1 / math.cos(t), rel=EXACT)
