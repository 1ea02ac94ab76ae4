"""`electrovox tortuosity` and `electrovox flow-tortuosity` (CLI contracts of the transport issue)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import run_cli

from electrovox.io import write_volume
from electrovox.volume import Volume


@pytest.fixture(scope="module")
def layered(tmp_path_factory):
    """Labels (default legend) with exact answers: pore slab straight along z (y 6..7), a CBD slab
    (y 4..5), active material elsewhere; 12 x 8 x 8 voxels of 0.5 um."""
    d = tmp_path_factory.mktemp("tau_cli")
    lab = np.full((12, 8, 8), 2, np.uint8)
    lab[:, 4:6] = 1
    lab[:, 6:] = 0
    path = d / "layers.nc"
    write_volume(path, Volume.labels(lab, (0.5, 0.5, 0.5)))
    return d, path


def test_tortuosity_contract(layered):
    d, path = layered
    r = run_cli("tortuosity", path, "--phases", "pore", "--axis", "z", "--json", "--quiet", check=0)
    out = json.loads(r.stdout)
    for key in ("porosity", "D_eff", "tau", "macmullin", "iterations", "wall_s"):
        assert key in out
    # a straight pore slab: porosity 0.25, D_eff = 0.25, tau = 1, MacMullin 4 (solver tolerance)
    assert out["porosity"] == pytest.approx(0.25) and out["D_eff"] == pytest.approx(0.25, rel=1e-6)
    assert out["tau"] == pytest.approx(1.0, rel=1e-6) and out["macmullin"] == pytest.approx(4.0, rel=1e-6)
    # with CBD at 0.1: parallel slabs, D_eff = 0.25 + 0.025, porosity 0.5
    out = json.loads(run_cli("tortuosity", path, "--phases", "pore", "--axis", "x", "--cbd-factor", "0.1",
                             "--json", "--quiet", check=0).stdout)
    assert out["D_eff"] == pytest.approx(0.275, rel=1e-6) and out["porosity"] == pytest.approx(0.5)
    # across the slabs (y) nothing percolates: tau is null in JSON (infinite), D_eff 0
    out = json.loads(run_cli("tortuosity", path, "--phases", "pore", "--axis", "y", "--json", "--quiet",
                             check=0).stdout)
    assert out["D_eff"] == 0 and out["tau"] is None


def test_tortuosity_electronic_network_and_fields(layered):
    d, path = layered
    fields = d / "fields.vti"
    out = json.loads(run_cli("tortuosity", path, "--conductivities", "am=10,cbd=1", "--axis", "z", "--fields",
                             fields, "--json", "--quiet", check=0).stdout)
    # am (half the volume, 10) in parallel with cbd (a quarter, 1): sigma_eff 5.25, D_eff vs 10
    assert out["sigma_eff"] == pytest.approx(5.25, rel=1e-6) and out["D_eff"] == pytest.approx(0.525, rel=1e-6)
    from electrovox.io import read_volume
    pot = read_volume(fields, variable="potential").array
    # linear potential along z in the conducting voxels (voxel centres at (k + 0.5) / 12)
    assert np.allclose(pot[:, 0, 0], 1 - (np.arange(12) + 0.5) / 12, atol=1e-5)
    assert np.isnan(pot[:, 6, 0]).all()                       # the pore is not part of this network


def test_tortuosity_bad_input(layered):
    d, path = layered
    r = run_cli("tortuosity", path, "--phases", "electrolyte", "--axis", "z", check=2)
    assert "electrolyte" in r.stderr and "Fix:" in r.stderr
    # no --phases: the declared default (pore), the same as ParaView's, not an error
    default = json.loads(run_cli("tortuosity", path, "--axis", "z", "--json", check=0).stdout)
    pore = json.loads(run_cli("tortuosity", path, "--axis", "z", "--phases", "pore", "--json", check=0).stdout)
    assert default["phases"] == ["pore"] and default["tau"] == pore["tau"]
    r = run_cli("tortuosity", path, "--axis", "z", "--cbd-factor", "x", check=2)
    assert "--cbd-factor" in r.stderr


def test_flow_tortuosity_cli(tmp_path):
    """A zig-zag velocity field at 30 degrees in a .vti (point data 'U') and a legacy .vtk (cell
    data): tau = 1 / cos 30 exactly."""
    from vtkmodules.util import numpy_support
    from vtkmodules.vtkCommonDataModel import vtkImageData
    from vtkmodules.vtkIOLegacy import vtkDataSetWriter
    from vtkmodules.vtkIOXML import vtkXMLImageDataWriter
    nz, ny, nx = 10, 6, 4
    th = np.radians(30)
    v = np.zeros((nz, ny, nx, 3))
    v[..., 2] = np.cos(th)
    v[..., 0] = np.where(np.arange(nz)[:, None, None] % 2 == 0, np.sin(th), -np.sin(th))
    for assoc, suffix, writer in (("point", ".vti", vtkXMLImageDataWriter), ("cell", ".vtk", vtkDataSetWriter)):
        img = vtkImageData()
        img.SetDimensions((nx, ny, nz) if assoc == "point" else (nx + 1, ny + 1, nz + 1))
        arr = numpy_support.numpy_to_vtk(v.reshape(-1, 3).copy(), deep=1)
        arr.SetName("U")
        (img.GetPointData() if assoc == "point" else img.GetCellData()).AddArray(arr)
        w = writer()
        w.SetFileName(str(tmp_path / f"v{suffix}"))
        w.SetInputData(img)
        if suffix == ".vtk":
            w.SetFileTypeToBinary()                    # ASCII legacy files round doubles to ~12 digits
        w.Write()
        out = json.loads(run_cli("flow-tortuosity", tmp_path / f"v{suffix}", "--axis", "z", "--array", "U",
                                 "--json", check=0).stdout)
        assert out["flow_tortuosity"] == pytest.approx(1 / np.cos(th), rel=1e-12)
    r = run_cli("flow-tortuosity", tmp_path / "v.vti", "--array", "nope", check=2)
    assert "nope" in r.stderr
    r = run_cli("flow-tortuosity", tmp_path / "missing.vtu", check=2)
    assert "missing.vtu" in r.stderr
