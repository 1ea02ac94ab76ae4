"""EVX Flow Tortuosity in Debian's real pvbatch: velocity files written here with VTK's writers
(a .vti with point data 'U' as OpenFOAM names it, a .vtu of tetrahedra with cell data
'velocity'), opened in ParaView with OpenDataFile, the filter's table fetched back and checked
against the numpy core run here on the arrays written, and against the analytic values; the
same under MPI (two pvbatch processes, the image split into pieces): the same values."""

import json
import math

import numpy as np
import pytest
from test_flow_tortuosity import _rectilinear_zigzag, helix, image, zigzag
from test_paraview import BIN, SCRIPTS, _mpiexec, pv_runtime, run_checked  # noqa: F401  (autouse fixture)

from electrovox.solvers.transport.flow_tortuosity import flow_tortuosity

pytestmark = pytest.mark.paraview

EXACT = 1e-12
THETA = math.radians(60.0)


@pytest.fixture(scope="module")
def fetched(tmp_path_factory):
    pytest.importorskip("vtkmodules")
    from vtkmodules.vtkFiltersGeneral import vtkDataSetTriangleFilter
    from vtkmodules.vtkIOXML import vtkXMLImageDataWriter, vtkXMLUnstructuredGridWriter

    d = tmp_path_factory.mktemp("pv_flow_tortuosity")
    v, disc, r, _ = helix(n=24, layers=6)
    for data, name in ((image(v, "U"), "helix.vti"),  # point data: scalar 'p' first, then 'U'
                       (image(zigzag(THETA), "velocity", cells=True), "zigzag_cells.vti")):
        w = vtkXMLImageDataWriter()
        w.SetInputData(data)
        w.SetFileName(str(d / name))
        assert w.Write() == 1
    grid, _, _ = _rectilinear_zigzag(THETA)
    tets = vtkDataSetTriangleFilter()
    tets.SetInputData(grid)
    tets.Update()
    xw = vtkXMLUnstructuredGridWriter()
    xw.SetInputData(tets.GetOutput())
    xw.SetFileName(str(d / "zigzag.vtu"))
    assert xw.Write() == 1
    helix_vti, zigzag_vtu = str(d / "helix.vti"), str(d / "zigzag.vtu")
    cases = [
        {"id": "helix", "path": helix_vti, "props": {"ArrayName": "U"}},
        {"id": "helix_auto", "path": helix_vti, "props": {}},
        {"id": "helix_z", "path": helix_vti, "props": {"ArrayName": "U", "Axis": 2, "Association": 0}},
        {"id": "vtu", "path": zigzag_vtu, "props": {"ArrayName": "velocity", "Association": 1}},
        {"id": "bad_name", "path": helix_vti, "props": {"ArrayName": "nope"}},
        {"id": "bad_axis", "path": helix_vti, "props": {"ArrayName": "U", "Axis": 0}},
    ]
    (d / "spec.json").write_text(json.dumps(cases))
    proc = run_checked([BIN / "electrovox-pvbatch", SCRIPTS / "flow_tortuosity.py", d / "spec.json",
                        d / "out.json"], cwd=d, timeout=300)
    return {"result": json.loads((d / "out.json").read_text()), "stderr": proc.stderr, "helix": v, "dir": d,
            "cells": tets.GetOutput().GetNumberOfCells(),
            "helix_discrete": float(np.mean(np.sqrt(0.5**2 + 3.0**2 * r[disc] ** 2)) / 0.5)}


def _rows(case):
    t = case["table"]
    return dict(zip(t["Metric"], t["Value"], strict=True))


def test_proxy_properties(fetched):
    assert {"Input", "ArrayName", "Axis", "Association"} <= set(fetched["result"]["properties"])


def test_image_point_data(fetched):
    res, v = fetched["result"], fetched["helix"]
    want = flow_tortuosity(v)
    for case_id in ("helix", "helix_auto"):
        case = res[case_id]
        assert case["reader"] == "XMLImageDataReader" and case["class"] == "vtkTable"
        rows = _rows(case)
        assert rows["flow_tortuosity"] == pytest.approx(want["flow_tortuosity"], rel=EXACT)
        assert rows["flow_tortuosity"] == pytest.approx(fetched["helix_discrete"], rel=EXACT)
        assert rows["n_points"] == want["n_points"]
        assert rows["axis"] == 2 and rows["axis_estimated"] == 1
        np.testing.assert_allclose([rows[f"mean_velocity_{c}"] for c in "xyz"], want["mean_velocity"], atol=EXACT)
        assert rows["flow_fraction_along_axis"] == pytest.approx(1 / want["flow_tortuosity"], rel=EXACT)
        meta = json.loads(case["metrics"])
        assert meta["array"] == "U" and meta["association"] == "points" and meta["direction"] == "+z"
    rows = _rows(res["helix_z"])
    assert rows["flow_tortuosity"] == pytest.approx(want["flow_tortuosity"], rel=EXACT)
    assert rows["axis"] == 2 and rows["axis_estimated"] == 0


def test_unstructured_cell_data_volume_weighted(fetched):
    case = fetched["result"]["vtu"]
    assert case["reader"] == "XMLUnstructuredGridReader"
    rows = _rows(case)
    assert rows["flow_tortuosity"] == pytest.approx(1.25 / (1 + 0.25 * math.cos(THETA)), rel=EXACT)
    assert rows["n_points"] == fetched["cells"] and rows["axis"] == 0
    assert json.loads(case["metrics"])["association"] == "cells"


def test_errors_one_line_no_traceback(fetched):
    res, err = fetched["result"], fetched["stderr"]
    for case_id in ("bad_name", "bad_axis"):
        assert res[case_id]["table"].get("Metric", []) == []
    lines = [line for line in err.splitlines() if line.startswith("ERROR: EVX Flow Tortuosity")]
    assert any("ArrayName" in line and "'nope'" in line and "Fix:" in line for line in lines), err
    assert any("no net flow along axis x" in line for line in lines), err
    assert "Traceback" not in err, err


@pytest.mark.slow  # two pvbatch processes under mpiexec: ~8 s
def test_mpi_pieces_give_the_serial_values(fetched):
    """Two MPI processes: the .vti readers give each a piece (point pieces share a plane, counted
    once), the .vtu goes whole to one process (the other's piece is empty); the sums are added
    over the processes: the same table as the core on the whole field."""
    d, v = fetched["dir"], fetched["helix"]
    cases = [{"id": "helix", "path": str(d / "helix.vti"), "props": {"ArrayName": "U"}},
             {"id": "cells", "path": str(d / "zigzag_cells.vti"), "props": {}},
             {"id": "vtu", "path": str(d / "zigzag.vtu"), "props": {"ArrayName": "velocity"}}]
    (d / "mpi_spec.json").write_text(json.dumps(cases))
    r = _mpiexec(d, 2, [SCRIPTS / "flow_tortuosity.py", d / "mpi_spec.json", d / "mpi.json"], timeout=300)
    assert r.returncode == 0, r.stderr[-6000:]
    out = json.loads((d / "mpi.json").read_text())
    assert out["processes"] == 2
    assert sum(out["helix"]["piece_points"]) > v.shape[0] * v.shape[1] * v.shape[2]  # split: a shared plane
    assert min(out["helix"]["piece_points"]) > 0
    want = flow_tortuosity(v)
    rows = _rows(out["helix"])
    assert rows["flow_tortuosity"] == pytest.approx(want["flow_tortuosity"], rel=EXACT)
    assert rows["n_points"] == want["n_points"]
    np.testing.assert_allclose([rows[f"mean_velocity_{c}"] for c in "xyz"], want["mean_velocity"], atol=EXACT)
    rows = _rows(out["cells"])
    assert rows["flow_tortuosity"] == pytest.approx(1 / math.cos(THETA), rel=EXACT)
    assert rows["n_points"] == flow_tortuosity(zigzag(THETA))["n_points"]
    rows = _rows(out["vtu"])
    assert rows["flow_tortuosity"] == pytest.approx(1.25 / (1 + 0.25 * math.cos(THETA)), rel=EXACT)
    assert rows["n_points"] == fetched["cells"]
    assert "Traceback" not in r.stderr, r.stderr[-6000:]
