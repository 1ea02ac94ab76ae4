"""`electrovox phantom electrode|cycle|image`: the CLI contract, end to end through files.

References: the requested targets (fractions, relative changes, SNR) and the files' own content
re-measured independently of the generator's report.
"""

import json

import numpy as np
import pytest
from conftest import run_cli


@pytest.fixture(scope="module")
def electrode(tmp_path_factory):
    d = tmp_path_factory.mktemp("phantom")
    out = d / "e.nc"
    r = run_cli("phantom", "electrode", out, "--size-um", "32", "32", "40", "--voxel-um", "0.4",
                "--seed", "11", "--json", "--quiet", check=0)
    return out, json.loads(r.stdout)


def _read(path, variable=None):
    from electrovox.io import read_volume
    return read_volume(path, variable=variable) if variable else read_volume(path)


def test_electrode_contract(electrode):
    path, out = electrode
    vol = _read(path)
    # default legend, uint8 labels, voxel size and box as requested (X Y Z = 32 32 40 um at 0.4 um)
    assert vol.legend == {0: "pore", 1: "cbd", 2: "am", 3: "crack", 4: "separator", 5: "collector"}
    assert vol.shape == (100, 80, 80) and vol.spacing == pytest.approx((0.4, 0.4, 0.4))
    counts = np.bincount(vol.array.ravel(), minlength=6) / vol.array.size
    # targets 29 / 9 / 58 / 4 %: the issue asks for 1 percentage point at 128^3 and above; this
    # 80 x 80 x 100 box is smaller (fewer, coarser particles), so the same 1 pp bound is a stricter test
    for i, target in [(0, 0.29), (1, 0.09), (2, 0.58), (3, 0.04)]:
        assert counts[i] == pytest.approx(target, abs=0.01), (i, counts[i])
    # the JSON report states what the file holds
    assert out["phases"]["am"] == pytest.approx(counts[2], abs=1e-12)
    particles = _read(path, "particles").array
    assert particles.shape == vol.shape
    # every active-material or crack voxel belongs to a particle; pore and CBD to none
    assert (particles[(vol.array == 2) | (vol.array == 3)] > 0).all()
    assert (particles[(vol.array == 0) | (vol.array == 1)] == 0).all()


def test_electrode_deterministic(electrode, tmp_path):
    path, _ = electrode
    again = tmp_path / "again.nc"
    run_cli("phantom", "electrode", again, "--size-um", "32", "32", "40", "--voxel-um", "0.4",
            "--seed", "11", "--quiet", check=0)
    np.testing.assert_array_equal(_read(again).array, _read(path).array)


def test_cycle_records_and_achieves_changes(electrode, tmp_path):
    path, _ = electrode
    out = tmp_path / "c.nc"
    r = run_cli("phantom", "cycle", path, out, "--crack-growth", "0.24", "--contact-loss", "0.20",
                "--seed", "5", "--json", "--quiet", check=0)
    rep = json.loads(r.stdout)["report"]
    assert rep["requested"] == {"crack_growth": 0.24, "contact_loss": 0.20}
    before, after = _read(path).array, _read(out).array
    # re-measured from the files: crack volume +24 % (within 1 % absolute, the transform's target)
    growth = (after == 3).sum() / (before == 3).sum() - 1
    assert growth == pytest.approx(0.24, abs=0.01)
    assert rep["achieved"]["crack_volume_change"] == pytest.approx(growth, abs=1e-12)
    # am-cbd contact -20 % within 1 % absolute, re-measured with the quantification's estimator
    from electrovox.filters.quantify.surfaces import interface_areas
    from electrovox.phases import DEFAULT_LEGEND
    sp = (0.4, 0.4, 0.4)
    def am_cbd(lab):
        a = interface_areas(lab, DEFAULT_LEGEND, sp)
        return a.get(("am", "cbd"), a.get(("cbd", "am")))
    a0, a1 = am_cbd(before), am_cbd(after)
    assert a1 / a0 - 1 == pytest.approx(-0.20, abs=0.01)
    assert rep["achieved"]["contact_area_am_cbd_change"] == pytest.approx(a1 / a0 - 1, abs=1e-9)
    # cracks only grow inside former particles; the pore space beyond the particles is unchanged
    new_crack = (after == 3) & (before != 3)
    assert (before[new_crack] == 2).all()


def test_image_contract(electrode, tmp_path):
    path, _ = electrode
    out = tmp_path / "i.nc"
    run_cli("phantom", "image", path, out, "--voxel-nm", "200", "200", "400", "--snr", "8", "--seed", "2",
            "--no-pore-back", "--quiet", check=0)
    img, truth = _read(out, "image"), _read(out, "truth")
    # image grid: floor(box / voxel) = 32 um / 0.2 um, 40 um / 0.4 um
    assert img.shape == truth.shape == (100, 160, 160)
    assert img.spacing == pytest.approx((0.4, 0.2, 0.2))
    assert truth.legend[2] == "am"
    # truth = the labels on the image grid: same phase fractions as the labels (nearest sampling
    # of a 0.4 um grid at 0.2 um in x, y: every label voxel is sampled 2 x 2 x 1 times, exactly)
    lab = _read(path).array
    np.testing.assert_array_equal(truth.array, np.repeat(np.repeat(lab, 2, axis=1), 2, axis=2))
    # grey-level order of the phases (backscatter: NMC brightest, CBD mid, pores dark)
    means = [img.array[truth.array == i].mean() for i in (0, 1, 2)]
    assert means[2] > means[1] > means[0]
