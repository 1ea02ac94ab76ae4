"""Carbon-binder domain of the phantoms (electrovox.solvers.phantoms.cbd): placement, connectivity,
contact area and detachment.

The particle packings are built here (a small collective-rearrangement sphere packing, ~62 %
solid and d ~ 10 um particles like the generator's default), independent of the project's
packing module.
"""

from __future__ import annotations

import numpy as np
import pytest
from _dense_spheres import dense_spheres
from scipy import ndimage as ndi

from electrovox.errors import BadInput
from electrovox.solvers.phantoms.cbd import (
    aggregate_shares,
    contact_area_faces,
    detach_cbd,
    largest_aggregate_share,
    place_cbd,
)

SP = (0.5, 0.5, 0.5)
SHAPE = (96, 96, 96)


@pytest.fixture(scope="module")
def solid():
    return dense_spheres(SHAPE, SP, seed=0, r_mean_um=5.0)[0] > 0


@pytest.fixture(scope="module")
def cbds(solid):
    return {m: place_cbd(solid, SP, target_fraction=0.09, morphology=m, seed=0) for m in ("slurry", "dry")}


@pytest.mark.parametrize("morphology", ["slurry", "dry"])
def test_cbd_in_pore_with_exact_fraction(solid, cbds, morphology):
    cbd = cbds[morphology]
    assert cbd.dtype == bool and cbd.shape == solid.shape
    assert not (cbd & solid).any()
    # requirement: within 0.2 percentage points; the placement meets the count to the voxel
    assert abs(cbd.mean() - 0.09) <= 0.002
    assert int(cbd.sum()) == round(0.09 * solid.size)


@pytest.mark.parametrize("morphology", ["slurry", "dry"])
def test_cbd_sits_on_particles(solid, cbds, morphology):
    d = ndi.distance_transform_edt(~solid, sampling=SP)[cbds[morphology]]  # um to the nearest solid voxel
    near1, near2 = np.mean(d <= 1.0), np.mean(d <= 2.0)
    print(f"{morphology}: CBD within 1 um of a particle {near1:.3f}, within 2 um {near2:.3f}, max {d.max():.2f} um")
    # lumps of median radius 1.5 um centred in necks and on surfaces, fibrils between lumps: the
    # bulk of the CBD lies within one lump diameter of a particle, most of it within 1 um
    assert near2 >= 0.9 and near1 >= 0.5
    # and nearer than the pore space as a whole (whose mean distance is itself small, ~1.2 um,
    # in a packing this dense): measured ratio 0.68 (slurry), 0.73 (dry)
    pore_d = np.mean(ndi.distance_transform_edt(~solid, sampling=SP)[~solid])
    print(f"mean distance to a particle: CBD {np.mean(d):.3f} um, pore {pore_d:.3f} um")
    assert np.mean(d) < 0.8 * pore_d


def test_dry_cbd_better_connected_than_slurry(cbds):
    share = {m: largest_aggregate_share(c, 6) for m, c in cbds.items()}
    share26 = {m: largest_aggregate_share(c, 26) for m, c in cbds.items()}
    print(f"largest aggregate, 6-connected: slurry {share['slurry']:.3f}, dry {share['dry']:.3f}; "
          f"26-connected: slurry {share26['slurry']:.3f}, dry {share26['dry']:.3f} "
          "(study, Fig. 6: 0.236 slurry, 0.57 dry)")
    # measured here 0.12 vs 0.69 (over seeds and packings: 0.05-0.25 vs 0.35-0.9): a margin of
    # 0.25 is clear of the scatter of near-percolating aggregates
    assert share["dry"] >= share["slurry"] + 0.25
    assert share["slurry"] <= 0.4 and share["dry"] >= 0.4


@pytest.mark.parametrize("loss", [0.10, 0.20])
@pytest.mark.parametrize("morphology", ["slurry", "dry"])
def test_detach_cbd(solid, cbds, loss, morphology):
    cbd = cbds[morphology]
    new, rep = detach_cbd(solid, cbd, SP, relative_contact_loss=loss, seed=1)
    a0, a1 = contact_area_faces(solid, cbd, SP), contact_area_faces(solid, new, SP)
    achieved = 1 - a1 / a0
    print(f"{morphology}: contact loss requested {loss:.2f}, achieved {achieved:.5f}; CBD "
          f"{rep['cbd_voxels_before']} -> {rep['cbd_voxels_after']} voxels, {rep['patches']} patches")
    # requirement: within 0.01; the cut stops at the voxel whose faces bring it closest
    assert abs(achieved - loss) <= 0.01
    assert abs(achieved - loss) <= 0.001
    assert rep["contact_area_before_um2"] == pytest.approx(a0)
    assert rep["contact_area_after_um2"] == pytest.approx(a1)
    assert rep["relative_contact_loss_achieved"] == pytest.approx(achieved)
    # CBD volume kept (requirement: 1 % relative; here exactly)
    assert abs(int(new.sum()) - int(cbd.sum())) <= 0.01 * cbd.sum()
    assert int(new.sum()) == int(cbd.sum())
    assert not (new & solid).any()
    # the removed voxels were touching the particles, and now are pore: a gap
    removed = cbd & ~new
    assert removed.sum() == rep["removed_voxels"] > 0
    grown = ndi.binary_dilation(solid, ndi.generate_binary_structure(3, 1))
    assert (removed & grown).sum() == removed.sum()
    # the added voxels do not touch the particles (the contact does not come back)
    assert not ((new & ~cbd) & grown).any()


def test_detach_keeps_other_phases():
    # a slab of am, cbd on it, a "crack" region that must not receive CBD
    am = np.zeros((20, 12, 12), bool)
    am[:5] = True
    cbd = np.zeros_like(am)
    cbd[5:8] = True
    free = np.ones_like(am)
    free[8:10, :6] = False  # e.g. a separator fibre right above part of the CBD
    new, rep = detach_cbd(am, cbd, (0.2, 0.1, 0.1), relative_contact_loss=0.25, seed=0, free=free)
    assert rep["relative_contact_loss_achieved"] == pytest.approx(0.25, abs=0.01)
    assert not (new & ~cbd & ~free).any() and not (new & am).any()
    assert new.sum() == cbd.sum()


def test_contact_area_faces_analytic():
    sp = (0.1, 0.0152, 0.0152)
    a = np.zeros((10, 6, 7), bool)
    a[:4] = True
    b = ~a
    # one plane of 6 x 7 faces normal to z, each dy * dx
    assert contact_area_faces(a, b, sp) == pytest.approx(42 * 0.0152 * 0.0152)
    # a 2 x 3 x 4 block inside b: faces normal to z 2 * (3*4) of dy*dx, to y 2 * (2*4) of dz*dx,
    # to x 2 * (2*3) of dz*dy
    a = np.zeros((8, 8, 8), bool)
    a[2:4, 2:5, 2:6] = True
    b = ~a
    expect = 24 * sp[1] * sp[2] + 16 * sp[0] * sp[2] + 12 * sp[0] * sp[1]
    assert contact_area_faces(a, b, sp) == pytest.approx(expect)
    assert contact_area_faces(b, a, sp) == pytest.approx(expect)  # symmetric
    # faces to voxels outside the grid do not count
    assert contact_area_faces(np.ones((3, 3, 3), bool), np.zeros((3, 3, 3), bool), sp) == 0.0


def test_aggregate_shares():
    m = np.zeros((10, 10, 10), bool)
    m[0:3, 0:3, 0:3] = True   # 27 voxels
    m[5:7, 5:7, 5:7] = True   # 8 voxels
    m[3, 3, 3] = True         # touches the first block at a corner only
    np.testing.assert_allclose(aggregate_shares(m, 6), [27 / 36, 8 / 36, 1 / 36])
    np.testing.assert_allclose(aggregate_shares(m, 26), [28 / 36, 8 / 36])
    assert largest_aggregate_share(np.zeros((3, 3, 3), bool)) == 0.0


def test_deterministic(solid, cbds):
    again = place_cbd(solid, SP, target_fraction=0.09, morphology="dry", seed=0)
    assert np.array_equal(again, cbds["dry"])
    other = place_cbd(solid, SP, target_fraction=0.09, morphology="dry", seed=1)
    assert not np.array_equal(other, cbds["dry"])
    n1, _ = detach_cbd(solid, cbds["dry"], SP, relative_contact_loss=0.1, seed=4)
    n2, _ = detach_cbd(solid, cbds["dry"], SP, relative_contact_loss=0.1, seed=4)
    assert np.array_equal(n1, n2)


def test_anisotropic_voxels():
    sp = (0.5, 0.25, 0.25)
    s = dense_spheres((48, 96, 96), sp, seed=2, r_mean_um=5.0)[0] > 0
    for m in ("slurry", "dry"):
        cbd = place_cbd(s, sp, target_fraction=0.09, morphology=m, seed=0)
        assert int(cbd.sum()) == round(0.09 * s.size) and not (cbd & s).any()
        d = ndi.distance_transform_edt(~s, sampling=sp)[cbd]
        assert np.mean(d <= 2.0) >= 0.9
        new, rep = detach_cbd(s, cbd, sp, relative_contact_loss=0.2, seed=0)
        assert abs(rep["relative_contact_loss_achieved"] - 0.2) <= 0.01
        assert new.sum() == cbd.sum()


def test_periodic_lateral_faces(solid):
    cbd = place_cbd(solid, SP, target_fraction=0.09, morphology="dry", seed=0, periodic=True)
    assert int(cbd.sum()) == round(0.09 * solid.size) and not (cbd & solid).any()
    # lumps and fibrils continue across the x and y faces: CBD faces CBD across them
    across = (cbd[:, :, 0] & cbd[:, :, -1]).sum() + (cbd[:, 0, :] & cbd[:, -1, :]).sum()
    assert across > 0


def test_bad_input(solid):
    with pytest.raises(BadInput):
        place_cbd(solid, SP, target_fraction=0.09, morphology="wet")
    with pytest.raises(BadInput):
        place_cbd(solid, SP, target_fraction=0.5)  # more than the pore space
    with pytest.raises(BadInput):
        place_cbd(solid, (0.5, -1, 0.5), target_fraction=0.09)
    with pytest.raises(BadInput):
        detach_cbd(solid, solid[:-1], SP, relative_contact_loss=0.1)
    with pytest.raises(BadInput):
        detach_cbd(solid, ~solid, SP, relative_contact_loss=1.5)
    assert not place_cbd(solid, SP, target_fraction=0.0).any()


@pytest.mark.slow
def test_connectivity_bigger_volume():
    """192^3 (96 um): the morphology, not the small volume, makes the difference."""
    s = dense_spheres((192, 192, 192), SP, seed=3, r_mean_um=5.0)[0] > 0
    share = {m: largest_aggregate_share(place_cbd(s, SP, target_fraction=0.09, morphology=m, seed=0))
             for m in ("slurry", "dry")}
    print(f"192^3: largest aggregate slurry {share['slurry']:.3f}, dry {share['dry']:.3f}")
    assert share["dry"] >= share["slurry"] + 0.25
