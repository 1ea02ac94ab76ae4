"""EVX Permeability in pvbatch (the main job's state script) against the numpy core, and a run
folder served as a time series by EVX Run Folder Reader without solving again.

References: the core's permeability() on the same file (the VTK layer adds nothing); the run
folder's own frame files and history (the reader serves them, it does not recompute).
"""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from test_paraview import BIN, ROOT, SCRIPTS, _require, pv_runtime, run_checked  # noqa: F401  (autouse fixture)

from electrovox.io import write_volume
from electrovox.phases import DEFAULT_LEGEND
from electrovox.solvers.phantoms.electrode import generate_electrode
from electrovox.volume import Volume

pytestmark = pytest.mark.paraview


def test_permeability_state_script_matches_the_core(tmp_path):
    """state_files/permeability_view.py (run by bin/main on the sample) writes k and the flow
    tortuosity equal to the core's (6 significant digits: vtkVariant.ToString), a PNG with the
    streamlines and a state file."""
    from electrovox.solvers.flow.permeability import permeability
    _require("xvfb-run")
    lab = generate_electrode((20, 16, 16), (0.5, 0.5, 0.5), seed=4, d50_um=4.0)["labels"]
    write_volume(tmp_path / "e.nc", Volume.labels(lab, (0.5, 0.5, 0.5), DEFAULT_LEGEND))
    run_checked([BIN / "electrovox-pvbatch", "--render", ROOT / "state_files" / "permeability_view.py",
                 tmp_path / "e.nc", tmp_path / "k.png", "z"], cwd=tmp_path, timeout=500)
    rows = list(csv.DictReader(open(tmp_path / "k.csv")))
    ref = permeability(lab, DEFAULT_LEGEND, (0.5, 0.5, 0.5), "z")
    assert len(rows) == 1 and rows[0]["axis"] == "z"
    assert float(rows[0]["permeability_m2"]) == pytest.approx(ref["permeability_m2"], rel=1e-5)
    assert float(rows[0]["flow_tortuosity"]) == pytest.approx(ref["flow_tortuosity"], rel=1e-5)
    assert (tmp_path / "k.png").stat().st_size > 10_000 and (tmp_path / "k.pvsm").is_file()


def test_run_folder_is_served_as_a_time_series(tmp_path):
    """A run folder written by the CLI (frames every 1000 steps): the reader's time steps are the
    frames' times, each time serves its own frame file, and the history table has every row."""
    from vtkmodules.util.numpy_support import vtk_to_numpy
    from vtkmodules.vtkIOXML import vtkXMLImageDataReader

    from electrovox.solvers.run.folder import RunFolder
    lab = generate_electrode((16, 12, 12), (0.5, 0.5, 0.5), seed=2, d50_um=4.0)["labels"]
    write_volume(tmp_path / "e.nc", Volume.labels(lab, (0.5, 0.5, 0.5), DEFAULT_LEGEND))
    run_checked([ROOT / ".venv" / "bin" / "electrovox", "permeability", tmp_path / "e.nc", "--axis", "z",
                 "--run-dir", tmp_path / "run", "--tol", "1e-7", "--quiet"], cwd=tmp_path, timeout=300)
    folder = RunFolder(tmp_path / "run")
    frames = folder.frames()
    assert len(frames) >= 2
    run_checked([BIN / "electrovox-pvbatch", SCRIPTS / "run_folder.py", tmp_path / "run", tmp_path / "r.json"],
                cwd=tmp_path, timeout=300)
    out = json.loads((tmp_path / "r.json").read_text())
    assert out["proxy"] == "EVXRunFolderReader"
    assert out["times"] == pytest.approx([f.time_s for f in frames], rel=1e-12)
    for served, frame in zip(out["frames"], frames, strict=True):
        rd = vtkXMLImageDataReader()
        rd.SetFileName(str(frame.path))
        rd.Update()
        v = vtk_to_numpy(rd.GetOutput().GetPointData().GetArray("velocity"))
        assert int(served["step"]) == frame.step
        assert served["sum_abs_velocity"] == pytest.approx(float(np.abs(v).sum()), rel=1e-12)
    assert out["history_rows"] == len(folder.load_history()["step"])
