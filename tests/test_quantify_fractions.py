"""Volume fractions, profiles and the crack fraction (electrovox.filters.quantify.fractions).

References are independent of the code under test: voxel counts written into constructed
volumes (or counted with plain ``==`` on the array), positions from the slice index and the
spacing, and the documented fractions of the real NREL volume.  Exact cases use a tolerance of
1e-12 (the results are ratios of integers computed in float64).
"""

from __future__ import annotations

import numpy as np
import pytest

from electrovox.errors import BadInput
from electrovox.filters.quantify.fractions import (
    crack_fraction,
    crack_profile,
    electrode_range,
    profiles,
    table_to_lists,
    volume_fractions,
)

LEG = {0: "pore", 1: "cbd", 2: "am", 3: "crack"}
EXACT = 1e-12


def _counted(a, legend, sel=None):
    """Reference fractions by direct counting."""
    v = a if sel is None else a[sel]
    return {n: np.count_nonzero(v == i) / v.size for i, n in legend.items()}


def test_fractions_exact_counts():
    a = np.zeros((6, 7, 8), np.uint8)          # 336 voxels
    a.flat[:100] = 2                            # am
    a.flat[100:130] = 1                         # cbd
    a.flat[130:137] = 3                         # crack
    f = volume_fractions(a, LEG)
    assert list(f) == ["pore", "cbd", "am", "crack"]
    for name, n in (("am", 100), ("cbd", 30), ("crack", 7), ("pore", 199)):
        assert f[name] == pytest.approx(n / 336, abs=EXACT)
    assert sum(f.values()) == pytest.approx(1.0, abs=EXACT)


def test_fractions_roi_box_and_mask_match_direct_counts():
    rng = np.random.default_rng(3)
    a = rng.integers(0, 4, (20, 15, 12)).astype(np.uint8)
    box = (2, 11, 3, None, 0, 7)
    f = volume_fractions(a, LEG, roi=box)
    ref = _counted(a[2:11, 3:, 0:7], LEG)
    for k in ref:
        assert f[k] == pytest.approx(ref[k], abs=EXACT)
    mask = rng.random(a.shape) < 0.3
    f = volume_fractions(a, LEG, roi=mask)
    ref = _counted(a, LEG, mask)
    for k in ref:
        assert f[k] == pytest.approx(ref[k], abs=EXACT)


def test_fractions_value_outside_legend_counts_in_denominator_only():
    a = np.array([0, 2, 2, 7], np.uint8).reshape(1, 1, 4)
    f = volume_fractions(a, {0: "pore", 2: "am"})
    assert f == {"pore": 0.25, "am": 0.5}


def test_fractions_bad_roi():
    a = np.zeros((4, 4, 4), np.uint8)
    with pytest.raises(BadInput):
        volume_fractions(a, LEG, roi=(2, 2, 0, 4, 0, 4))       # empty box
    with pytest.raises(BadInput):
        volume_fractions(a, LEG, roi=np.zeros((4, 4, 4), bool))
    with pytest.raises(BadInput):
        volume_fractions(a, LEG, roi=(0, 1, 2))


def test_profile_layered_volume_exact():
    nz, ny, nx = 9, 5, 4
    a = np.zeros((nz, ny, nx), np.uint8)
    for k in range(nz):                         # slice k: k am voxels, (k % 3) cbd voxels after them
        a[k].flat[:k] = 2
        a[k].flat[k:k + k % 3] = 1
    spacing = (0.25, 0.1, 0.1)
    t = profiles(a, LEG, spacing)
    assert list(t)[:3] == ["z_um", "slice", "voxels"]
    assert {len(v) for v in t.values()} == {nz}
    k = np.arange(nz)
    np.testing.assert_allclose(t["z_um"], (k + 0.5) * 0.25, atol=EXACT)
    np.testing.assert_array_equal(t["slice"], k)
    np.testing.assert_allclose(t["am"], k / 20, atol=EXACT)
    np.testing.assert_allclose(t["cbd"], (k % 3) / 20, atol=EXACT)
    np.testing.assert_allclose(t["pore"], 1 - (k + k % 3) / 20, atol=EXACT)
    np.testing.assert_allclose(t["crack"], 0.0, atol=EXACT)
    assert table_to_lists(t)["slice"] == list(range(nz))


def test_profile_linear_gradient_along_x_with_anisotropic_spacing():
    nz, ny, nx = 6, 10, 11
    a = np.zeros((nz, ny, nx), np.uint8)
    for i in range(nx):                         # am fraction i / 10 in column plane x = i
        a[:, :, i].flat[:6 * i] = 2
    t = profiles(a, LEG, (0.1, 0.0152, 0.02), axis="x")
    np.testing.assert_allclose(t["x_um"], (np.arange(nx) + 0.5) * 0.02, atol=EXACT)
    np.testing.assert_allclose(t["am"], np.arange(nx) / 10, atol=EXACT)
    ty = profiles(a, LEG, (0.1, 0.0152, 0.02), axis="y")
    np.testing.assert_allclose(ty["y_um"], (np.arange(ny) + 0.5) * 0.0152, atol=EXACT)
    ref = [np.count_nonzero(a[:, j, :] == 2) / (nz * nx) for j in range(ny)]
    np.testing.assert_allclose(ty["am"], ref, atol=EXACT)


def test_profile_positions_from_the_collector_layer_and_origin():
    leg = {0: "pore", 2: "am", 4: "separator", 5: "collector"}
    a = np.zeros((10, 3, 3), np.uint8)
    a[:3] = 5                                   # collector, 3 planes
    a[8:] = 4                                   # separator, 2 planes
    a[3:8, 0, 0] = 2
    assert electrode_range(a, leg) == (3, 8)
    dz = 0.4
    t = profiles(a, leg, (dz, 1.0, 1.0))
    # the collector surface is the top face of slice 2: slice 3's centre is dz/2 above it
    np.testing.assert_allclose(t["z_um"], (np.arange(10) - 3 + 0.5) * dz, atol=EXACT)
    t = profiles(a, leg, (dz, 1.0, 1.0), origin=0.0)
    np.testing.assert_allclose(t["z_um"], (np.arange(10) + 0.5) * dz, atol=EXACT)
    # a box ROI keeps the positions of the full volume
    t = profiles(a, leg, (dz, 1.0, 1.0), roi=(3, 8, 0, 3, 0, 3))
    np.testing.assert_allclose(t["z_um"], (np.arange(5) + 0.5) * dz, atol=EXACT)
    np.testing.assert_allclose(t["am"], 1 / 9, atol=EXACT)


def test_profile_bins_and_mask_roi():
    a = np.zeros((7, 2, 2), np.uint8)
    a[:, 0, 0] = 2
    a[1] = 2
    t = profiles(a, LEG, 0.5, bin_um=1.0)      # bins of 2 slices: (0,1) (2,3) (4,5) (6)
    np.testing.assert_allclose(t["z_um"], [0.5, 1.5, 2.5, 3.25], atol=EXACT)
    np.testing.assert_array_equal(t["slice"], [0, 2, 4, 6])
    np.testing.assert_array_equal(t["voxels"], [8, 8, 8, 4])
    np.testing.assert_allclose(t["am"], [5 / 8, 0.25, 0.25, 0.25], atol=EXACT)
    mask = np.zeros(a.shape, bool)
    mask[:3, 0, :] = True                       # slices 3.. have no ROI voxel
    t = profiles(a, LEG, 0.5, roi=mask)
    np.testing.assert_allclose(t["am"][:3], [0.5, 1.0, 0.5], atol=EXACT)
    assert np.isnan(t["am"][3:]).all()


def test_crack_fraction_of_a_constructed_particle():
    n = 41
    c = (n - 1) / 2
    z, y, x = np.ogrid[:n, :n, :n]
    ball = (z - c) ** 2 + (y - c) ** 2 + (x - c) ** 2 <= 15.5 ** 2
    plane = np.abs(x - c) <= 1                  # a 3-voxel-wide crack through the centre
    a = np.zeros((n, n, n), np.uint8)
    a[ball] = 2
    a[ball & plane] = 3
    a[~ball & (y < 3)] = 1                      # CBD and pore outside do not count
    ref = np.count_nonzero(ball & plane) / np.count_nonzero(ball)
    assert crack_fraction(a, LEG) == pytest.approx(ref, abs=EXACT)
    cp = crack_profile(a, LEG, 0.5)
    part = np.count_nonzero(ball, axis=(1, 2))
    crk = np.count_nonzero(ball & plane, axis=(1, 2))
    np.testing.assert_array_equal(cp["particle_voxels"], part)
    with np.errstate(invalid="ignore"):
        np.testing.assert_allclose(cp["crack_fraction"], crk / part, atol=EXACT)
    assert np.isnan(cp["crack_fraction"][0])   # slice 0 holds no particle voxel
    # along x the crack fills the three central columns whole
    cx = crack_profile(a, LEG, 0.5, axis="x")
    np.testing.assert_allclose(cx["crack_fraction"][int(c) - 1:int(c) + 2], 1.0, atol=EXACT)
    # without a crack phase in the legend: nothing segmented as crack
    assert crack_fraction(a, {0: "pore", 1: "cbd", 2: "am"}) == 0.0
    assert np.isnan(crack_fraction(np.zeros((2, 2, 2), np.uint8), LEG))


def test_real_nrel_volume_fractions(real_data):
    from electrovox.io import read_volume
    v = read_volume(real_data["nrel"], spacing=0.398, legend="0=pore,1=am,2=cbd")
    f = volume_fractions(v.array, v.legend)
    # documented nominal fractions of the NREL volume; 0.1 percentage point
    assert f["pore"] == pytest.approx(0.400, abs=1e-3)
    assert f["am"] == pytest.approx(0.500, abs=1e-3)
    assert f["cbd"] == pytest.approx(0.100, abs=1e-3)
    t = profiles(v.array, v.legend, v.spacing)
    assert len(t["z_um"]) == v.shape[0]
    # the mean of the slice fractions (equal slices) is the volume fraction
    assert np.mean(t["am"]) == pytest.approx(f["am"], abs=EXACT)
