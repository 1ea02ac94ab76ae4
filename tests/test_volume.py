"""The Volume model, legends and phase fractions (no I/O)."""

import json

import numpy as np
import pytest

from electrovox import BadInput, Volume
from electrovox.phases import DEFAULT_LEGEND, PHASES, check_labels, parse_legend, phase_fractions
from electrovox.volume import voxel_um_to_spacing


def test_default_legend_matches_architecture():
    # architecture.md: 0 pore, 1 cbd, 2 am, 3 crack, 4 separator, 5 collector
    assert DEFAULT_LEGEND == {0: "pore", 1: "cbd", 2: "am", 3: "crack", 4: "separator", 5: "collector"}
    assert set(PHASES) == set(DEFAULT_LEGEND.values())


def test_parse_legend_and_errors():
    assert parse_legend("0=pore, 1=am,2=cbd") == {0: "pore", 1: "am", 2: "cbd"}
    for bad, word in [("0=pore,1=graphite", "unknown phase 'graphite'"), ("0=pore,0=am", "id 0 twice"),
                      ("x=pore", "not an integer"), ("0:pore", "not id=name"), ("300=am", "outside 0..255"),
                      ("0=am,1=am", "'am' twice")]:
        with pytest.raises(BadInput) as e:
            parse_legend(bad)
        assert word in str(e.value) and "Fix:" in str(e.value)


def test_phase_fractions_exact_counts():
    lab = np.zeros((4, 5, 6), np.uint8)
    lab[0] = 2            # 30 voxels am
    lab[1, :2] = 1        # 12 voxels cbd
    f = phase_fractions(lab, {0: "pore", 1: "cbd", 2: "am"})
    assert f == pytest.approx({"pore": 78 / 120, "cbd": 12 / 120, "am": 30 / 120}, abs=1e-15)
    assert sum(f.values()) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("arr, word", [
    (np.array([[[0.0, np.nan]]]), "NaN"),
    (np.array([[[0, -1, 2]]]), "negative"),
    (np.zeros((3, 3, 3), np.uint8), "single value"),
    (np.array([[[0, 7]]], np.uint8), "not in the legend"),
])
def test_check_labels_rejects(arr, word):
    with pytest.raises(BadInput) as e:
        check_labels(arr, DEFAULT_LEGEND, "vol.tif", legend_given=False)
    assert word in str(e.value) and str(e.value).startswith("vol.tif:")


def test_check_labels_given_legend_id_absent():
    arr = np.array([[[0, 1, 1]]], np.uint8)
    with pytest.raises(BadInput, match="ids \\[2\\] that do not occur"):
        check_labels(arr, {0: "pore", 1: "am", 2: "cbd"}, "f.tif", legend_given=True)
    check_labels(arr, {0: "pore", 1: "am"}, "f.tif", legend_given=True)  # fits: no error


def test_volume_geometry_anisotropic():
    # PFIB voxels 15.2 x 15.2 x 100 nm: spacing is kept in (z, y, x) order like the array axes
    v = Volume(np.zeros((3, 4, 5), np.float32), spacing=(0.1, 0.0152, 0.0152), origin=(1.0, 2.0, 3.0))
    assert v.spacing_xyz == (0.0152, 0.0152, 0.1)
    assert v.extent_um() == pytest.approx((0.3, 4 * 0.0152, 5 * 0.0152))
    np.testing.assert_allclose(v.coords(0), [1.0, 1.1, 1.2])
    s = v.summary()
    assert s["shape"] == {"x": 5, "y": 4, "z": 3}
    assert s["spacing_um"] == {"x": 0.0152, "y": 0.0152, "z": 0.1}


def test_volume_2d_slice_becomes_one_voxel_thick():
    v = Volume(np.arange(6).reshape(2, 3))
    assert v.shape == (1, 2, 3)


def test_volume_rejects_bad_spacing():
    with pytest.raises(ValueError):
        Volume(np.zeros((2, 2, 2)), spacing=(0, 1, 1))


def test_voxel_um_cli_order():
    assert voxel_um_to_spacing(["0.398"]) == (0.398, 0.398, 0.398)
    assert voxel_um_to_spacing([0.0152, 0.0152, 0.1]) == (0.1, 0.0152, 0.0152)  # X Y Z -> z, y, x
    with pytest.raises(BadInput):
        voxel_um_to_spacing([1, 2])
    with pytest.raises(BadInput):
        voxel_um_to_spacing([-1])


def test_provenance_step():
    v = Volume.labels(np.array([[[0, 1]]]), (1, 1, 1)).with_step("test", n=np.int64(3), spacing=(1, 2))
    assert v.provenance[-1]["command"] == "test"
    assert v.provenance[-1]["parameters"] == {"n": 3, "spacing": [1, 2]}


def test_summary_counts_nan_and_inf_and_ranges_finite_values():
    a = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    a[0, 0, :2] = np.nan
    a[1, 2, 3] = np.inf
    a[1, 0, 0] = -np.inf
    s = Volume(a, (1, 1, 1)).summary()
    assert s["nan_count"] == 2 and s["inf_count"] == 2
    assert s["range"] == [2.0, 22.0]                     # finite values only
    s = Volume(np.full((2, 2, 2), np.nan), (1, 1, 1)).summary()
    assert s["range"] is None and s["nan_count"] == 8 and s["inf_count"] == 0
    s = Volume(np.arange(8, dtype=np.uint16).reshape(2, 2, 2), (1, 1, 1)).summary()
    assert s["range"] == [0.0, 7.0] and s["nan_count"] == 0 and s["inf_count"] == 0
    json.dumps(s, allow_nan=False)                       # strict JSON: no NaN anywhere


def test_value_stats_slab_by_slab_matches_whole_array():
    from electrovox.volume import value_stats
    rng = np.random.default_rng(3)
    a = rng.normal(size=(9, 5, 7))
    a[rng.random(a.shape) < 0.1] = np.nan
    a[4] = np.nan                                        # a slab of NaN only
    fin = a[np.isfinite(a)]
    out = value_stats(a, slab_voxels=35)                 # one z slice per slab
    assert out == {"range": [float(fin.min()), float(fin.max())], "nan_count": int(np.isnan(a).sum()),
                   "inf_count": 0}


def test_voxel_um_errors_name_the_keyword():
    with pytest.raises(BadInput) as e:
        voxel_um_to_spacing([0.1, 0.2])
    assert e.value.source == "voxel_um" and "--" not in str(e.value)
