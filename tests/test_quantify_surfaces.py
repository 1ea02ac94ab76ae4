"""Surface and interface areas (electrovox.filters.quantify.surfaces) against analytic areas.

Shapes are rasterised exactly, "voxel centre inside the shape", with voxel centres at
``index * spacing`` um; the image box is [-spacing/2, (n - 1/2) spacing] on each axis.  Tolerances
are the issue's: 3 % for spheres and cylinders (radius >= 8 voxels of the coarsest axis), 5 % for
flat faces (cubes of side 24, inclined planes).  Spacings: cubic, (2, 1, 1) and PFIB-like
(0.1, 0.0152, 0.0152) um, shapes sized in coarse voxels.

- Cylinders are long cylinders crossing the box (no caps: the box faces are not surface); the
  reference is the exact lateral area inside the box, integrated over the angle around the axis
  (for each angle the part of the generator line inside the box is an interval, found exactly).
- Planes are half-spaces through the box; the reference is the area of the plane's polygon
  inside the box.
- Objects that do not cross the box keep >= 6 coarse voxels from its faces (the estimator's
  line-end weights reach 2 steps in from the faces).

``pytest -m slow -s`` runs random-orientation sweeps and prints the comparison of estimators.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from electrovox.errors import BadInput
from electrovox.filters.quantify import surfaces as sf

CUBIC = (1.0, 1.0, 1.0)
ANISO = (2.0, 1.0, 1.0)
PFIB = (0.1, 0.0152, 0.0152)
SPACINGS = {"cubic": CUBIC, "aniso": ANISO, "pfib": PFIB}
SPHERE_TOL, CYLINDER_TOL, FLAT_TOL = 0.03, 0.03, 0.05


# ----------------------------------------------------------------------------- exact shapes

def shape_for(size_vox, sp) -> tuple[int, int, int]:
    """Voxels per axis of a box ``size_vox`` coarse voxels wide."""
    u = max(sp)
    return tuple(int(math.ceil(size_vox * u / s)) for s in sp)


def centres(shape, sp):
    """Voxel-centre coordinates (um) per axis, broadcastable to ``shape``."""
    return [np.arange(n).reshape([-1 if j == i else 1 for j in range(3)]) * sp[i] for i, n in enumerate(shape)]


def box_bounds(shape, sp):
    sp = np.asarray(sp, float)
    return -0.5 * sp, (np.asarray(shape) - 0.5) * sp


def middle(shape, sp, rng):
    """A point near the box centre, off the voxel lattice."""
    return (np.asarray(shape) - 1) * np.asarray(sp) / 2 + rng.uniform(-0.5, 0.5, 3) * max(sp)


def frame(axis):
    a = np.asarray(axis, float)
    a = a / np.linalg.norm(a)
    e1 = np.cross(a, np.eye(3)[np.argmin(np.abs(a))])
    e1 /= np.linalg.norm(e1)
    return a, e1, np.cross(a, e1)


def rotation(angles_deg):
    """Rotation by angles about z, y, x in turn (degrees)."""
    out = np.eye(3)
    for ax, ang in enumerate(angles_deg):
        c, s = math.cos(math.radians(ang)), math.sin(math.radians(ang))
        i, j = [k for k in range(3) if k != ax]
        r = np.eye(3)
        r[i, i] = r[j, j] = c
        r[i, j], r[j, i] = -s, s
        out = r @ out
    return out


def sphere(shape, sp, c, r):
    z, y, x = centres(shape, sp)
    return (z - c[0]) ** 2 + (y - c[1]) ** 2 + (x - c[2]) ** 2 <= r * r, 4 * math.pi * r * r


def cylinder(shape, sp, c, axis, r, nphi=4096):
    """Infinite cylinder through ``c``; reference: its lateral area inside the box."""
    a, e1, e2 = frame(axis)
    z, y, x = centres(shape, sp)
    d = (z - c[0], y - c[1], x - c[2])
    t = d[0] * a[0] + d[1] * a[1] + d[2] * a[2]
    mask = d[0] ** 2 + d[1] ** 2 + d[2] ** 2 - t * t <= r * r
    lo, hi = box_bounds(shape, sp)
    phi = (np.arange(nphi) + 0.5) * 2 * math.pi / nphi
    p0 = np.asarray(c) + r * (np.cos(phi)[:, None] * e1 + np.sin(phi)[:, None] * e2)
    t_lo, t_hi = np.full(nphi, -np.inf), np.full(nphi, np.inf)
    for i in range(3):
        if abs(a[i]) < 1e-12:
            out = (p0[:, i] < lo[i]) | (p0[:, i] > hi[i])
            t_lo[out] = np.inf
            continue
        t1, t2 = (lo[i] - p0[:, i]) / a[i], (hi[i] - p0[:, i]) / a[i]
        t_lo, t_hi = np.maximum(t_lo, np.minimum(t1, t2)), np.minimum(t_hi, np.maximum(t1, t2))
    return mask, r * np.clip(t_hi - t_lo, 0, None).sum() * 2 * math.pi / nphi


def cube(shape, sp, c, side, rot=None):
    rot = np.eye(3) if rot is None else rot
    z, y, x = centres(shape, sp)
    d = (z - c[0], y - c[1], x - c[2])
    m = np.ones(shape, bool)
    for k in range(3):
        u = rot[:, k]
        m &= np.abs(d[0] * u[0] + d[1] * u[1] + d[2] * u[2]) <= side / 2
    return m, 6.0 * side * side


def signed_distance(shape, sp, normal, point):
    n = np.asarray(normal, float)
    n = n / np.linalg.norm(n)
    z, y, x = centres(shape, sp)
    return (z - point[0]) * n[0] + (y - point[1]) * n[1] + (x - point[2]) * n[2]


def plane_area_in_box(shape, sp, normal, point) -> float:
    """Area of the plane (normal, point) inside the box: its polygon with the 12 box edges."""
    n = np.asarray(normal, float)
    n = n / np.linalg.norm(n)
    lo, hi = box_bounds(shape, sp)
    corners = [np.where(np.array(b) == 0, lo, hi) for b in np.ndindex(2, 2, 2)]
    pts = []
    for i in range(8):
        for j in range(i + 1, 8):
            p, q = corners[i], corners[j]
            if np.count_nonzero(p != q) != 1:
                continue
            fp, fq = (p - point) @ n, (q - point) @ n
            if fp * fq < 0:
                pts.append(p + fp / (fp - fq) * (q - p))
    pts = np.array(pts)
    cen = pts.mean(0)
    _, e1, e2 = frame(n)
    pts = pts[np.argsort(np.arctan2((pts - cen) @ e2, (pts - cen) @ e1))]
    return 0.5 * abs(sum(np.cross(pts[i] - cen, pts[(i + 1) % len(pts)] - cen) @ n for i in range(len(pts))))


def half_space(shape, sp, normal, point):
    return signed_distance(shape, sp, normal, point) <= 0, plane_area_in_box(shape, sp, normal, point)


def rel(measured, exact):
    return measured / exact - 1.0


# ----------------------------------------------------------------------------- single surfaces

@pytest.mark.parametrize("name", SPACINGS)
@pytest.mark.parametrize("r", [8, 12, 20])
def test_sphere(name, r):
    if name == "pfib" and r == 20:
        pytest.skip("PFIB r = 20: in the slow sweep")
    sp = SPACINGS[name]
    rng = np.random.default_rng(r)
    shape = shape_for(2 * r + 12, sp)
    mask, exact = sphere(shape, sp, middle(shape, sp, rng), r * max(sp))
    err = rel(sf.surface_area(mask, sp), exact)
    assert abs(err) < SPHERE_TOL, f"sphere r={r} {name}: {err:+.2%}"


@pytest.mark.parametrize("name", SPACINGS)
@pytest.mark.parametrize("axis", [(0, 0, 1), (1, 0, 0), (0, 1, 1), (1, 1, 1.2), (0.3, 0.5, 0.8)],
                         ids=["x", "z", "yx-diagonal", "111ish", "tilted"])
def test_cylinder(name, axis):
    sp = SPACINGS[name]
    rng = np.random.default_rng(7)
    shape = shape_for(40, sp)
    mask, exact = cylinder(shape, sp, middle(shape, sp, rng), axis, 8 * max(sp))
    err = rel(sf.surface_area(mask, sp), exact)
    assert abs(err) < CYLINDER_TOL, f"cylinder {axis} {name}: {err:+.2%}"


def test_cylinder_random_tilts():
    rng = np.random.default_rng(11)
    shape = (40, 40, 40)
    for _ in range(3):
        axis = rng.standard_normal(3)
        mask, exact = cylinder(shape, CUBIC, middle(shape, CUBIC, rng), axis, 8.0)
        err = rel(sf.surface_area(mask, CUBIC), exact)
        assert abs(err) < CYLINDER_TOL, f"cylinder {axis}: {err:+.2%}"


@pytest.mark.parametrize("name", SPACINGS)
@pytest.mark.parametrize("angles", [(0, 0, 0), (30, 0, 0), (20, 30, 40)], ids=["axis", "z30", "20-30-40"])
@pytest.mark.parametrize("side", [20, 24])
def test_cube(name, angles, side):
    """Cubes of side 20 (the issue's smallest flat-face size) and 24: the sharp edges are the
    estimator's weak spot (about -0.45 voxel x edge length), so side 20 is the hardest case."""
    sp = SPACINGS[name]
    rng = np.random.default_rng(3)
    shape = shape_for(side + 28, sp)
    mask, exact = cube(shape, sp, middle(shape, sp, rng), side * max(sp), rotation(angles))
    err = rel(sf.surface_area(mask, sp), exact)
    assert abs(err) < FLAT_TOL, f"cube {side} {angles} {name}: {err:+.2%}"


@pytest.mark.parametrize("name", SPACINGS)
@pytest.mark.parametrize("normal", [(1, 0, 0), (1, 1, 0), (1, 2, 3), (3, 1, 0.5), (0.2, 0.1, 1)])
def test_inclined_plane(name, normal):
    sp = SPACINGS[name]
    rng = np.random.default_rng(5)
    shape = shape_for(32, sp)
    mask, exact = half_space(shape, sp, normal, middle(shape, sp, rng))
    err = rel(sf.surface_area(mask, sp), exact)
    assert abs(err) < FLAT_TOL, f"plane {normal} {name}: {err:+.2%}"


@pytest.mark.parametrize("thickness", [1.5, 2])
def test_thin_sheet(thickness, monkeypatch):
    """A tilted sheet 1.5 or 2 voxels thick crossing the box: both faces are counted.  The
    lattice steps of length 2 jump over it; the crossing pairs see it (without them: -11 %)."""
    rng = np.random.default_rng(int(10 * thickness))
    shape = (40, 40, 40)
    normal, point = (1, 2, 3), middle(shape, CUBIC, rng)
    d = signed_distance(shape, CUBIC, normal, point)
    n = np.asarray(normal) / np.linalg.norm(normal)
    mask = np.abs(d) <= thickness / 2
    exact = (plane_area_in_box(shape, CUBIC, n, point - n * thickness / 2)
             + plane_area_in_box(shape, CUBIC, n, point + n * thickness / 2))
    err = rel(sf.surface_area(mask, CUBIC), exact)
    assert abs(err) < FLAT_TOL, f"sheet {thickness}: {err:+.2%}"
    if thickness == 1.5:
        monkeypatch.setattr(sf, "HIDDEN", False)
        assert rel(sf.surface_area(mask, CUBIC), exact) < -0.08


def test_face_count_is_not_the_estimator():
    rng = np.random.default_rng(0)
    shape = (36, 36, 36)
    mask, exact = sphere(shape, CUBIC, middle(shape, CUBIC, rng), 12.0)
    faces = sf.face_count_area(mask, CUBIC)
    assert faces / exact >= 1.4                                    # the plain count: ~x1.5 on a sphere
    assert sf.surface_area(mask, CUBIC) / faces < 0.72
    # the axis-aligned cube is the face count's one exact case, and the estimator keeps it close
    m, a = cube(shape, CUBIC, middle(shape, CUBIC, rng), 24.0)
    assert sf.face_count_area(m, CUBIC) == pytest.approx(a)


def test_include_box():
    rng = np.random.default_rng(2)
    shape = (20, 24, 28)
    sp = (0.5, 0.25, 0.25)
    mask, exact = half_space(shape, sp, (1, 1, 0), middle(shape, sp, rng))
    inner = sf.surface_area(mask, sp)
    covered = ((mask[0].sum() + mask[-1].sum()) * sp[1] * sp[2] + (mask[:, 0].sum() + mask[:, -1].sum()) * sp[0]
               * sp[2] + (mask[:, :, 0].sum() + mask[:, :, -1].sum()) * sp[0] * sp[1])
    assert sf.surface_area(mask, sp, include_box=True) == pytest.approx(inner + covered, rel=1e-12)
    full = np.ones(shape, bool)                                   # the whole box: no surface inside
    assert sf.surface_area(full, sp) == 0.0
    assert sf.surface_area(full, sp, include_box=True) == pytest.approx(
        2 * (20 * 0.5 * 24 * 0.25 + 20 * 0.5 * 28 * 0.25 + 24 * 0.25 * 28 * 0.25))


def test_slabs_and_threads_do_not_change_the_result(monkeypatch):
    rng = np.random.default_rng(4)
    shape = (23, 30, 26)
    mask, _ = cube(shape, ANISO, middle(shape, ANISO, rng), 16.0, rotation((20, 30, 40)))
    mask |= sphere(shape, ANISO, (8.0, 6.0, 7.0), 6.0)[0]
    one = sf.surface_area(mask, ANISO, slab=shape[0])
    for slab in (1, 2, 5, 9):
        assert sf.surface_area(mask, ANISO, slab=slab) == pytest.approx(one, rel=1e-9, abs=0)
    monkeypatch.setattr(sf, "WORKERS", 1)
    assert sf.surface_area(mask, ANISO, slab=3) == pytest.approx(one, rel=1e-9, abs=0)
    labels = (mask.astype(np.uint8) + (np.arange(shape[2]) > 13)).astype(np.uint8)
    legend = {0: "pore", 1: "cbd", 2: "am"}
    ref = sf.interface_areas(labels, legend, ANISO, slab=shape[0])
    monkeypatch.setattr(sf, "WORKERS", 3)
    for slab in (1, 4):
        got = sf.interface_areas(labels, legend, ANISO, slab=slab)
        assert got.keys() == ref.keys()
        for k in ref:
            assert got[k] == pytest.approx(ref[k], rel=1e-9, abs=1e-12)


def test_marching_cubes_candidate():
    rng = np.random.default_rng(8)
    shape = (36, 36, 36)
    mask, exact = sphere(shape, CUBIC, middle(shape, CUBIC, rng), 12.0)
    mc = sf.surface_area(mask, CUBIC, method="marching_cubes")
    assert abs(rel(mc, exact)) < SPHERE_TOL
    # slabs see the same smoothed field up to float32 rounding
    assert sf.surface_area(mask, CUBIC, method="marching_cubes", slab=5) == pytest.approx(mc, rel=1e-6)
    plain = sf.surface_area(mask, CUBIC, method="marching_cubes", smooth_um=0)
    assert rel(plain, exact) > 0.05                                # plain marching cubes: ~ +8 %


def test_directions_and_weights():
    for sp in (CUBIC, ANISO, PFIB):
        vecs, coef, err = sf.crofton_directions(sp)
        # the LP may leave out a symmetry class (weight 0): at most the 37 family directions
        assert err < 0.035 and 13 <= len(vecs) <= 37 and np.all(coef > 0)
        assert np.all(vecs[:, 0] >= 0)
        u = vecs * np.asarray(sp)
        u /= np.linalg.norm(u, axis=1, keepdims=True)
        # a plane normal to an axis: sum of coef * crossings per unit area = 1 exactly
        for axis in range(3):
            per_area = coef * np.abs(u[:, axis]) * np.linalg.norm(vecs * np.asarray(sp), axis=1) / np.prod(sp)
            assert per_area.sum() == pytest.approx(1.0, abs=1e-9)
    _, _, err13 = sf.crofton_directions(CUBIC, "crofton13")
    assert 0.04 < err13 < 0.08


def test_bad_method():
    with pytest.raises(BadInput):
        sf.surface_area(np.zeros((4, 4, 4), bool), 1.0, method="voxels")


# ----------------------------------------------------------------------------- interfaces

LEGEND_DEFAULT = {0: "pore", 1: "cbd", 2: "am", 3: "crack"}
LEGEND_NREL = {0: "pore", 1: "am", 2: "cbd"}


def nested_spheres(sp, r1=8, r2=16, seed=0):
    """Phase 2 (am) ball r1 inside a phase 1 (cbd) ball r2, phase 0 (pore) outside (coarse voxels)."""
    rng = np.random.default_rng(seed)
    shape = shape_for(2 * r2 + 12, sp)
    c = middle(shape, sp, rng)
    u = max(sp)
    labels = sphere(shape, sp, c, r2 * u)[0].astype(np.uint8)
    labels[sphere(shape, sp, c, r1 * u)[0]] = 2
    return labels, 4 * math.pi * (r1 * u) ** 2, 4 * math.pi * (r2 * u) ** 2


@pytest.mark.parametrize("name", ["cubic", "pfib"])
def test_nested_spheres(name):
    sp = SPACINGS[name]
    labels, inner, outer = nested_spheres(sp)
    areas = sf.interface_areas(labels, LEGEND_DEFAULT, sp)
    assert set(areas) == {("pore", "cbd"), ("pore", "am"), ("cbd", "am")}   # crack is absent
    assert abs(rel(areas[("cbd", "am")], inner)) < SPHERE_TOL
    assert abs(rel(areas[("pore", "cbd")], outer)) < SPHERE_TOL
    assert areas[("pore", "am")] == 0.0
    # sum rule: the interfaces of a phase add up to its surface
    s_cbd = sf.surface_area(labels == 1, sp)
    assert areas[("pore", "cbd")] + areas[("cbd", "am")] == pytest.approx(s_cbd, rel=1e-9)


def test_slab_between_half_spaces():
    """Three layers: pore | cbd slab 6 voxels thick | am, planes inclined along (1, 2, 3)."""
    rng = np.random.default_rng(9)
    for sp in (CUBIC, ANISO):
        shape = shape_for(36, sp)
        normal, point = np.array([1.0, 2.0, 3.0]) / math.sqrt(14), middle(shape, sp, rng)
        half = 3 * max(sp)
        d = signed_distance(shape, sp, normal, point)
        labels = np.where(d < -half, 0, np.where(d <= half, 1, 2)).astype(np.uint8)
        areas = sf.interface_areas(labels, LEGEND_DEFAULT, sp)
        low = plane_area_in_box(shape, sp, normal, point - half * normal)
        high = plane_area_in_box(shape, sp, normal, point + half * normal)
        assert abs(rel(areas[("pore", "cbd")], low)) < FLAT_TOL
        assert abs(rel(areas[("cbd", "am")], high)) < FLAT_TOL
        assert areas[("pore", "am")] == 0.0


def test_three_phase_sum_rule_and_identity():
    """A ball of am split across a plane between pore and cbd: A(am-pore) + A(am-cbd) = S(am)."""
    rng = np.random.default_rng(12)
    shape = (40, 44, 48)
    c = middle(shape, CUBIC, rng)
    ball, s_ball = sphere(shape, CUBIC, c, 12.0)
    x = centres(shape, CUBIC)[2]
    labels = np.broadcast_to(np.where(x < c[2], 0, 2), shape).astype(np.uint8)  # pore | cbd
    labels[ball] = 1                                                            # NREL: 1 = am
    areas = sf.interface_areas(labels, LEGEND_NREL, CUBIC)
    s_am = sf.surface_area(ball, CUBIC)
    assert areas[("pore", "am")] + areas[("am", "cbd")] == pytest.approx(s_am, rel=1e-9)
    assert abs(rel(s_am, s_ball)) < SPHERE_TOL
    for k in (("pore", "am"), ("am", "cbd")):
        assert abs(rel(areas[k], s_ball / 2)) < SPHERE_TOL
    plane = shape[0] * shape[1] - math.pi * (12.0 ** 2 - (c[2] - c[2]) ** 2)
    assert abs(rel(areas[("pore", "cbd")], plane)) < FLAT_TOL
    # identity A_ij = (S_i + S_j - S_ij) / 2 with masks; exact for pair counts
    s = {n: sf.surface_area(labels == i, CUBIC) for i, n in LEGEND_NREL.items()}
    s_pc = sf.surface_area((labels == 0) | (labels == 2), CUBIC)
    assert areas[("pore", "cbd")] == pytest.approx(0.5 * (s["pore"] + s["cbd"] - s_pc), rel=1e-9)


def test_marching_cubes_interfaces_use_the_identity():
    labels, inner, outer = nested_spheres(CUBIC, r1=10, r2=16, seed=3)
    areas = sf.interface_areas(labels, LEGEND_DEFAULT, CUBIC, method="marching_cubes")
    assert abs(rel(areas[("cbd", "am")], inner)) < SPHERE_TOL
    assert abs(rel(areas[("pore", "cbd")], outer)) < SPHERE_TOL
    assert areas[("pore", "am")] >= 0.0 and areas[("pore", "am")] < 0.01 * inner   # clamped noise


def test_requested_pairs_and_missing_phases():
    labels, inner, _ = nested_spheres(CUBIC, seed=1)
    got = sf.interface_areas(labels, LEGEND_DEFAULT, CUBIC,
                             pairs=[("am", "cbd"), ("am", "crack"), ("am", "separator"), ("am", "am")])
    assert list(got) == [("am", "cbd"), ("am", "crack"), ("am", "separator"), ("am", "am")]
    assert got[("am", "cbd")] == pytest.approx(sf.interface_areas(labels, LEGEND_DEFAULT, CUBIC)[("cbd", "am")])
    assert got[("am", "crack")] == got[("am", "separator")] == got[("am", "am")] == 0.0
    # other integer dtypes give the same areas
    wide = sf.interface_areas(labels.astype(np.int32), LEGEND_DEFAULT, CUBIC)
    assert wide == pytest.approx(sf.interface_areas(labels, LEGEND_DEFAULT, CUBIC))


def test_specific_surfaces_and_contact_fraction():
    """An am ball (r 12) whose upper half is coated by a cbd shell, in pore; NREL legend."""
    rng = np.random.default_rng(6)
    sp = (0.2, 0.2, 0.2)
    shape = shape_for(40, sp)
    c = middle(shape, sp, rng)
    z = centres(shape, sp)[0]
    shell = sphere(shape, sp, c, 15 * 0.2)[0] & (z >= c[0])
    ball, s_ball = sphere(shape, sp, c, 12 * 0.2)
    labels = np.zeros(shape, np.uint8)
    labels[shell] = 2
    labels[ball] = 1
    spec = sf.specific_surfaces(labels, LEGEND_NREL, sp)
    assert set(spec) == {"am-pore", "am-cbd", "cbd-pore", "am-crack"}
    assert spec["am-crack"] == 0.0                                  # no crack phase in this legend
    volume = labels.size * 0.2 ** 3
    assert abs(rel(spec["am-cbd"] * volume, s_ball / 2)) < SPHERE_TOL
    assert abs(rel(spec["am-pore"] * volume, s_ball / 2)) < SPHERE_TOL
    frac = sf.contact_fraction_am_cbd(labels, LEGEND_NREL, sp)
    assert frac == pytest.approx(0.5, abs=0.015)
    # the same volume with the default legend ids
    relabel = np.array([0, 2, 1], np.uint8)[labels]
    assert sf.contact_fraction_am_cbd(relabel, LEGEND_DEFAULT, sp) == pytest.approx(frac, rel=1e-12)
    assert math.isnan(sf.contact_fraction_am_cbd(np.zeros((4, 4, 4), np.uint8), LEGEND_NREL, sp))


# ----------------------------------------------------------------------------- slow sweeps

@pytest.mark.slow
@pytest.mark.parametrize("name", SPACINGS)
def test_sweep_random_orientations(name):
    """Random orientations and offsets: spheres r 8-20, cylinders, cubes side 24, planes."""
    sp = SPACINGS[name]
    rng = np.random.default_rng(100)
    worst = {"sphere": 0.0, "cylinder": 0.0, "cube": 0.0, "plane": 0.0}
    for r in (8, 12, 20):
        shape = shape_for(2 * r + 12, sp)
        m, a = sphere(shape, sp, middle(shape, sp, rng), r * max(sp))
        worst["sphere"] = max(worst["sphere"], abs(rel(sf.surface_area(m, sp), a)))
    for _ in range(4):
        shape = shape_for(40, sp)
        m, a = cylinder(shape, sp, middle(shape, sp, rng), rng.standard_normal(3), 8 * max(sp))
        worst["cylinder"] = max(worst["cylinder"], abs(rel(sf.surface_area(m, sp), a)))
        shape = shape_for(52, sp)
        m, a = cube(shape, sp, middle(shape, sp, rng), 24 * max(sp), rotation(rng.uniform(0, 90, 3)))
        worst["cube"] = max(worst["cube"], abs(rel(sf.surface_area(m, sp), a)))
        shape = shape_for(32, sp)
        m, a = half_space(shape, sp, rng.standard_normal(3), middle(shape, sp, rng))
        worst["plane"] = max(worst["plane"], abs(rel(sf.surface_area(m, sp), a)))
    print(name, {k: f"{v:.2%}" for k, v in worst.items()})
    assert worst["sphere"] < SPHERE_TOL and worst["cylinder"] < CYLINDER_TOL
    assert worst["cube"] < FLAT_TOL and worst["plane"] < FLAT_TOL


@pytest.mark.slow
@pytest.mark.parametrize("name", SPACINGS)
def test_print_estimator_comparison(name):
    """Relative errors of every estimator on the test shapes (mean of 2 offsets); run with -s."""
    sp = SPACINGS[name]
    u = max(sp)
    rng = np.random.default_rng(1)
    cases = [(f"sphere r={r}", lambda r=r: sphere(shape_for(2 * r + 12, sp), sp,
                                                   middle(shape_for(2 * r + 12, sp), sp, rng), r * u))
             for r in (8, 12, 20)]
    for axis in [(0, 0, 1), (0, 1, 1), (1, 1, 1.2), (0.3, 0.5, 0.8)]:
        cases.append((f"cylinder {axis}", lambda axis=axis: cylinder(shape_for(40, sp), sp, middle(
            shape_for(40, sp), sp, rng), axis, 8 * u)))
    for side in (20, 24):
        for angles in [(0, 0, 0), (30, 0, 0), (20, 30, 40)]:
            cases.append((f"cube {side} {angles}", lambda side=side, angles=angles: cube(
                shape_for(52, sp), sp, middle(shape_for(52, sp), sp, rng), side * u, rotation(angles))))
    for normal in [(1, 0, 0), (1, 1, 0), (1, 1, 1), (1, 2, 3), (3, 1, 0.5)]:
        cases.append((f"plane {normal}", lambda normal=normal: half_space(shape_for(32, sp), sp, normal, middle(
            shape_for(32, sp), sp, rng))))
    methods = [("crofton", {}), ("crofton13", {"method": "crofton13"}), ("faces", {"method": "faces"}),
               ("mc smoothed", {"method": "marching_cubes"}), ("mc binary", {"method": "marching_cubes",
                                                                            "smooth_um": 0})]
    print(f"\n{name} {sp}\n{'shape':28s}" + "".join(f"{m:>13s}" for m, _ in methods))
    for label, make in cases:
        errs = np.zeros(len(methods))
        for _ in range(2):
            m, a = make()
            errs += [rel(sf.surface_area(m, sp, **kw), a) / 2 for _, kw in methods]
        print(f"{label:28s}" + "".join(f"{e:+13.2%}" for e in errs))
        if label.startswith(("sphere", "cylinder")):
            assert abs(errs[0]) < SPHERE_TOL
        elif label.startswith(("plane", "cube")):
            assert abs(errs[0]) < FLAT_TOL


def random_packing(n, seed=42):
    """uint8 labels n^3 (default legend): am spheres r 10-22 (30 % with a planar crack 2 voxels
    wide), about 50 % am; cbd blobs r 2.5-6 in the pore, about 6 %; the rest pore."""
    rng = np.random.default_rng(seed)
    labels = np.zeros((n, n, n), np.uint8)

    def ball(c, r, value, only_pore=False, crack=None):
        sl = tuple(slice(max(0, int(c[j] - r)), min(n, int(c[j] + r) + 2)) for j in range(3))
        if any(s.stop <= s.start for s in sl):
            return
        z, y, x = (np.arange(s.start, s.stop).reshape([-1 if j == i else 1 for j in range(3)]) - c[i]
                   for i, s in enumerate(sl))
        inside = z * z + y * y + x * x <= r * r
        sub = labels[sl]
        if only_pore:
            inside &= sub == 0
        sub[inside] = value
        if crack is not None:
            sub[inside & (np.abs(z * crack[0] + y * crack[1] + x * crack[2]) <= 1.0)] = 3

    volume = 0.0
    while volume < 0.5 * n ** 3:
        r = rng.uniform(10, 22)
        crack = rng.standard_normal(3) if rng.random() < 0.3 else None
        ball(rng.uniform(-5, n + 5, 3), r, 2, crack=None if crack is None else crack / np.linalg.norm(crack))
        volume += 0.8 * 4 / 3 * math.pi * r ** 3
    volume = 0.0
    while volume < 0.08 * n ** 3:
        r = rng.uniform(2.5, 6)
        ball(rng.uniform(0, n, 3), r, 1, only_pore=True)
        volume += 0.7 * 4 / 3 * math.pi * r ** 3
    return labels


@pytest.mark.slow
def test_interfaces_of_a_random_packing_512():
    """4 phases at 512^3: all six interface areas in well under 20 s on 2 cores; each phase's
    interfaces add up to its surface (to 2 %: thin cracks are attributed per phase pair)."""
    import time
    labels = random_packing(512)
    t0 = time.perf_counter()
    areas = sf.interface_areas(labels, LEGEND_DEFAULT, CUBIC)
    dt = time.perf_counter() - t0
    print(f"\n512^3, 4 phases: interface areas in {dt:.1f} s:", {k: round(v) for k, v in areas.items()})
    assert len(areas) == 6 and dt < 20
    for i, name in LEGEND_DEFAULT.items():
        total = sum(v for k, v in areas.items() if name in k)
        assert total == pytest.approx(sf.surface_area(labels == i, CUBIC), rel=0.02)
