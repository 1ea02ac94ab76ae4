"""`electrovox permeability`: the CLI contract, bad input, and a killed run that resumes to the same
result bit for bit (the run framework's promise on the real solver).

References: the contract's JSON keys; Darcy's law units (1 darcy = 9.869233e-13 m^2); the
uninterrupted run of the same input (resume).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import kill_after_first_checkpoint, run_cli

from electrovox.io import write_volume
from electrovox.volume import Volume


@pytest.fixture(scope="module")
def medium(tmp_path_factory):
    """A periodic-blob pore space (porosity ~0.4) with CBD, 24 x 20 x 16 voxels of 0.1 um."""
    from scipy import ndimage
    d = tmp_path_factory.mktemp("perm")
    rng = np.random.default_rng(4)
    f = ndimage.gaussian_filter(rng.random((24, 20, 16)), 1.5)
    lab = np.full(f.shape, 2, np.uint8)
    lab[f > np.quantile(f, 0.6)] = 0
    lab[(f > np.quantile(f, 0.52)) & (lab == 2)] = 1
    path = d / "m.nc"
    write_volume(path, Volume.labels(lab, (0.1, 0.1, 0.1), {0: "pore", 1: "cbd", 2: "am"}))
    return d, path


def test_permeability_contract(medium):
    d, path = medium
    out = d / "fields.vti"
    r = json.loads(run_cli("permeability", path, "--axis", "z", "--json", "--quiet", "--out", out,
                           check=0).stdout)
    for key in ("permeability_m2", "permeability_darcy", "flow_tortuosity", "porosity", "steps", "converged",
                "mflups", "wall_s"):
        assert key in r, key
    assert r["converged"] is True and r["permeability_m2"] > 0
    assert r["permeability_darcy"] == pytest.approx(r["permeability_m2"] / 9.869233e-13, rel=1e-12)
    assert 1.0 < r["flow_tortuosity"] < 3.0
    assert out.is_file()
    # the default fluid is pore + crack; the CBD as a grey medium can only add flow paths
    g = json.loads(run_cli("permeability", path, "--axis", "z", "--json", "--quiet", "--cbd-permeability-m2",
                           "1e-15", check=0).stdout)
    assert g["permeability_m2"] > r["permeability_m2"]
    # an existing --out is kept without --force
    bad = run_cli("permeability", path, "--axis", "z", "--out", out, check=2)
    assert "--force" in bad.stderr and "exists" in bad.stderr


def test_permeability_bad_input(medium):
    d, path = medium
    r = run_cli("permeability", path, "--axis", "z", "--fluid", "electrolyte", check=2)
    assert "--fluid" in r.stderr and "Fix:" in r.stderr
    r = run_cli("permeability", path, check=2)  # --axis is required
    assert "--axis" in r.stderr


def test_killed_run_resumes_to_the_same_result(tmp_path):
    """A run killed (SIGKILL) after its first checkpoint, then started again on the same --run-dir,
    ends with the same k and the same velocity field, bit for bit, as a run never interrupted
    (both stop at the step cap: the tolerance is out of reach on purpose)."""
    from scipy import ndimage
    # a medium large enough (and a tolerance tight enough) that the run lasts some seconds
    rng = np.random.default_rng(6)
    f = ndimage.gaussian_filter(rng.random((48, 40, 32)), 2.0)
    lab = np.where(f > np.quantile(f, 0.6), 0, 2).astype(np.uint8)
    path = tmp_path / "big.nc"
    write_volume(path, Volume.labels(lab, (0.1, 0.1, 0.1), {0: "pore", 2: "am"}))
    args = ["permeability", str(path), "--axis", "x", "--json", "--quiet", "--precision", "float64",
            "--tol", "1e-12", "--max-steps", "8000"]
    ref = json.loads(run_cli(*args, "--run-dir", tmp_path / "ref", "--out", tmp_path / "ref.vti", check=0).stdout)
    run_dir = tmp_path / "killed"
    assert kill_after_first_checkpoint([*args, "--run-dir", run_dir], run_dir, timeout=120), \
        "the run finished before it could be killed: make it longer"
    first_s = float(np.load(run_dir / "checkpoint.npz")["state/compute_s"])
    res = json.loads(run_cli(*args, "--run-dir", run_dir, "--out", tmp_path / "resumed.vti", check=0).stdout)
    assert res["permeability_m2"] == ref["permeability_m2"] and res["steps"] == ref["steps"]
    # the throughput is the whole run's: as many node updates as the uninterrupted run, over the
    # compute seconds of both sittings (the resumed sitting's alone overstated it)
    a, b = np.load(run_dir / "checkpoint.npz"), np.load(tmp_path / "ref" / "checkpoint.npz")
    assert int(a["state/updates"]) == int(b["state/updates"]) > 0
    assert float(a["state/compute_s"]) > first_s > 0
    assert res["mflups"] == pytest.approx(int(a["state/updates"]) / float(a["state/compute_s"]) / 1e6, rel=1e-12)
    from vtkmodules.util.numpy_support import vtk_to_numpy
    from vtkmodules.vtkIOXML import vtkXMLImageDataReader
    fields = []
    for name in ("ref.vti", "resumed.vti"):
        rd = vtkXMLImageDataReader()
        rd.SetFileName(str(tmp_path / name))
        rd.Update()
        fields.append(vtk_to_numpy(rd.GetOutput().GetPointData().GetArray("velocity")))
    assert np.array_equal(fields[0], fields[1])
