"""EVX Impregnation in pvbatch (state_files/impregnation_view.py) against the numpy core.

References: the core's impregnate() on the same file with the same step cap (the VTK layer and
ParaView add nothing); the run folder the state file reopens.
"""

from __future__ import annotations

import csv
import time

import pytest
from test_paraview import BIN, ROOT, _require, pv_runtime, run_checked  # noqa: F401  (autouse fixture)

from electrovox.io import write_volume
from electrovox.phases import DEFAULT_LEGEND
from electrovox.solvers.phantoms.electrode import generate_electrode
from electrovox.volume import Volume

pytestmark = pytest.mark.paraview


def test_impregnation_state_script_matches_the_core(tmp_path):
    """The state script's final saturation and air fraction equal the core's (ParaView's string
    form of a double: 6+ significant digits), with a PNG, a state file and the run folder."""
    from electrovox.solvers.flow.impregnation import impregnate
    _require("xvfb-run")
    lab = generate_electrode((16, 12, 12), (1.0, 1.0, 1.0), seed=4, d50_um=5.0)["labels"]
    write_volume(tmp_path / "e.nc", Volume.labels(lab, (1.0, 1.0, 1.0), DEFAULT_LEGEND))
    cmd = [BIN / "electrovox-pvbatch", "--render", ROOT / "state_files" / "impregnation_view.py",
           tmp_path / "e.nc", tmp_path / "i.png", "3000"]
    try:
        run_checked(cmd, cwd=tmp_path, timeout=500)
    except AssertionError as e:
        # the X server was lost at the render window on every one of the launcher's tries, twice
        # (2026-12-07, local CI and one local run; the computation before it had finished, and 20
        # runs since passed): one more run after a pause, on that failure only
        if "bad X server connection" not in str(e):
            raise
        time.sleep(10)
        run_checked(cmd, cwd=tmp_path, timeout=500)
    row = next(csv.DictReader(open(tmp_path / "i.csv")))
    ref = impregnate(lab, DEFAULT_LEGEND, (1.0, 1.0, 1.0), max_steps=3000)
    assert float(row["final_saturation"]) == pytest.approx(ref["final_saturation"], rel=1e-6)
    assert float(row["entrapped_air_fraction"]) == pytest.approx(ref["entrapped_air_fraction"], rel=1e-6)
    assert int(row["steps"]) == ref["steps"] == 3000
    assert (tmp_path / "i.png").stat().st_size > 10_000 and (tmp_path / "i.pvsm").is_file()
    assert (tmp_path / "i_run" / "fields.pvd").is_file() and (tmp_path / "i_run" / "saturation.csv").is_file()
