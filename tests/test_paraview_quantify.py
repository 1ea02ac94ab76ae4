"""EVX Quantify and EVX Connected Components in Debian's real pvbatch, data fetched back and
checked against numpy/scipy computed here from the fetched labels."""

import json

import numpy as np
import pytest
from scipy import ndimage
from test_paraview import BIN, SCRIPTS, pv_runtime, run_checked, values  # noqa: F401  (autouse fixture)

pytestmark = pytest.mark.paraview


@pytest.fixture(scope="module")
def fetched(tmp_path_factory):
    d = tmp_path_factory.mktemp("pv_quantify")
    run_checked([BIN / "electrovox-pvbatch", SCRIPTS / "quantify.py", d / "out.json"], cwd=d, timeout=300)
    return json.loads((d / "out.json").read_text())


def _labels(dump, name="labels"):
    nx, ny, nz = dump["dims"]
    return values(dump, name).reshape(nz, ny, nx)


def test_metrics_table(fetched):
    lab = _labels(fetched["labels"])
    m = dict(zip(fetched["metrics"]["Metric"], fetched["metrics"]["Value"], strict=True))
    # exact voxel counts of the fetched labels
    assert m["fractions.am"] == pytest.approx((lab == 2).mean(), abs=1e-12)
    assert m["crack_fraction_of_particles"] == pytest.approx((lab == 3).sum() / np.isin(lab, (2, 3)).sum(), abs=1e-12)
    assert 0 < m["contact_area_am_cbd_per_am_area"] < 1


def test_profiles_table(fetched):
    lab = _labels(fetched["labels"])
    prof = fetched["profiles"]
    assert len(prof["z_um"]) == lab.shape[0]
    np.testing.assert_allclose(prof["z_um"], (np.arange(lab.shape[0]) + 0.5) * 0.5)  # um from the collector
    np.testing.assert_allclose(prof["am"], (lab == 2).mean(axis=(1, 2)), atol=1e-12)


def test_connected_components(fetched):
    lab = _labels(fetched["labels"])
    ids = _labels(fetched["components"], "component_id")
    ref, n = ndimage.label(lab == 1)  # 6-connectivity (scipy's default structure)
    assert ids.max() == n
    assert ((ids > 0) == (lab == 1)).all()
    # the same partition as scipy's (ids may be numbered differently)
    pairs = set(zip(ids[lab == 1].tolist(), ref[lab == 1].tolist(), strict=True))
    assert len(pairs) == n
    summary = json.loads(fetched["components"]["field"]["components"]["values"][0])
    sizes = np.bincount(ref.ravel())[1:]
    assert summary["largest_share"] == pytest.approx(sizes.max() / sizes.sum(), abs=1e-12)


def test_representative_volume_table(fetched):
    lab = _labels(fetched["labels"])
    rev = fetched["rev"]
    # growing centred sub-volumes; the last is the whole volume: its mean is the volume's fraction
    assert rev["fractions.am.mean"][-1] == pytest.approx((lab == 2).mean(), abs=1e-12)
    assert rev["edge_um"] == sorted(rev["edge_um"])


def test_compare_table(fetched):
    before, after = _labels(fetched["labels"]), _labels(fetched["cycled"])
    t = fetched["compare"]
    rows = dict(zip(t["metric"], t["input1.rel_change"], strict=True))
    cf = [(a == 3).sum() / np.isin(a, (2, 3)).sum() for a in (before, after)]
    assert rows["crack_fraction_of_particles"] == pytest.approx(cf[1] / cf[0] - 1, abs=1e-9)
    assert rows["crack_fraction_of_particles"] == pytest.approx(0.24, abs=0.01)  # the applied growth
    assert rows["contact_area_am_cbd_per_am_area"] == pytest.approx(-0.20, abs=0.02)  # the applied loss
