"""The phantom proxies in Debian's real pvbatch: EVX Electrode Phantom, EVX Cycling Transform and
EVX FIBSEM Image Phantom, data fetched back and checked against the requested targets.
"""

import json

import numpy as np
import pytest
from test_paraview import BIN, SCRIPTS, pv_runtime, run_checked, values  # noqa: F401  (autouse fixture)

pytestmark = pytest.mark.paraview


@pytest.fixture(scope="module")
def fetched(tmp_path_factory):
    d = tmp_path_factory.mktemp("pv_phantoms")
    run_checked([BIN / "electrovox-pvbatch", SCRIPTS / "phantoms.py", d / "out.json"], cwd=d, timeout=300)
    return json.loads((d / "out.json").read_text())


def _labels(dump, name="labels"):
    nx, ny, nz = dump["dims"]
    return values(dump, name).reshape(nz, ny, nx)


def test_electrode_source(fetched):
    e = fetched["electrode"]
    assert e["dims"] == [32, 32, 40] and e["spacing"] == pytest.approx([0.5, 0.5, 0.5])
    lab = _labels(e)
    f = np.bincount(lab.ravel(), minlength=4)[:4] / lab.size
    # the study's fractions (29 / 9 / 58 / 4 %) within 1 percentage point (the generator's target)
    np.testing.assert_allclose(f, [0.29, 0.09, 0.58, 0.04], atol=0.01)
    assert json.loads(e["field"]["legend"]["values"][0])["2"] == "am"
    parts = _labels(e, "particles")
    assert (parts[(lab == 2) | (lab == 3)] > 0).all() and (parts[lab <= 1] == 0).all()


def test_cycling_filter(fetched):
    before, after = _labels(fetched["electrode"]), _labels(fetched["cycled"])
    growth = (after == 3).sum() / (before == 3).sum() - 1
    assert growth == pytest.approx(0.24, abs=0.01)  # the transform's target accuracy
    report = json.loads(fetched["cycled"]["field"]["cycling_report"]["values"][0])
    assert report["achieved"]["crack_volume_change"] == pytest.approx(growth, abs=1e-12)
    assert report["achieved"]["contact_area_am_cbd_change"] == pytest.approx(-0.20, abs=0.01)


def test_image_filter(fetched):
    img = fetched["image"]
    # the image grid covers the 16 x 16 x 20 um box with 0.25 x 0.25 x 0.5 um voxels
    assert img["dims"] == [64, 64, 40] and img["spacing"] == pytest.approx([0.25, 0.25, 0.5])
    truth = _labels(img, "truth")
    lab = _labels(fetched["electrode"])
    # nearest sampling of 0.5 um labels at 0.25 um in x and y: each label voxel twice per axis
    np.testing.assert_array_equal(truth, np.repeat(np.repeat(lab, 2, axis=1), 2, axis=2))
    grey = _labels(img, "image")
    means = [grey[truth == i].mean() for i in (0, 1, 2)]
    assert means[2] > means[1] > means[0]  # backscatter order: NMC > CBD > pores
