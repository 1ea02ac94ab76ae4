"""EVX Discharge in pvbatch (state_files/discharge_view.py) against the numpy core.

References: the core's discharge() on the same file (the VTK layer and ParaView add nothing); the
run folder the state file reopens.
"""

from __future__ import annotations

import csv

import pytest
from test_paraview import BIN, ROOT, _require, pv_runtime, run_checked  # noqa: F401  (autouse fixture)

from electrovox.io import write_volume
from electrovox.phases import DEFAULT_LEGEND
from electrovox.solvers.phantoms.electrode import generate_electrode
from electrovox.volume import Volume

pytestmark = pytest.mark.paraview


def test_discharge_state_script_matches_the_core(tmp_path):
    """The state script's capacity and overpotential equal the core's (ParaView's string form of a
    double: 6+ significant digits), with a PNG, a state file and the run folder it reopens."""
    from electrovox.solvers.echem.discharge import discharge
    _require("xvfb-run")
    lab = generate_electrode((12, 8, 8), (0.5, 0.5, 0.5), seed=4, d50_um=4.0)["labels"]
    write_volume(tmp_path / "e.nc", Volume.labels(lab, (0.5, 0.5, 0.5), DEFAULT_LEGEND))
    run_checked([BIN / "electrovox-pvbatch", "--render", ROOT / "state_files" / "discharge_view.py",
                 tmp_path / "e.nc", tmp_path / "d.png", "1.0"], cwd=tmp_path, timeout=500)
    row = next(csv.DictReader(open(tmp_path / "d.csv")))
    ref = discharge(lab, DEFAULT_LEGEND, (0.5, 0.5, 0.5), c_rate=1.0)
    assert float(row["capacity_mAh_g"]) == pytest.approx(ref["capacity_mAh_g"], rel=1e-6)
    assert float(row["mean_overpotential_mV"]) == pytest.approx(ref["mean_overpotential_mV"], rel=1e-6)
    assert row["cutoff_reached"] == "True"
    assert (tmp_path / "d.png").stat().st_size > 10_000 and (tmp_path / "d.pvsm").is_file()
    assert (tmp_path / "d_run" / "fields.pvd").is_file()
