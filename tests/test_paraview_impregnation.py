"""EVX Impregnation in pvbatch (state_files/impregnation_view.py) against the numpy core.

References: the core's impregnate() on the same file with the same step cap (the VTK layer and
ParaView add nothing); the run folder the state file reopens.
"""

from __future__ import annotations

import csv
import json
import time

import pytest
from test_paraview import BIN, ROOT, _require, pv_runtime, run_checked  # noqa: F401  (autouse fixture)

from electrovox.io import write_volume
from electrovox.phases import DEFAULT_LEGEND
from electrovox.solvers.phantoms.electrode import generate_electrode
from electrovox.volume import Volume

pytestmark = pytest.mark.paraview


_CORE_SCRIPT = """import json, sys
from electrovox.io import read_volume
from electrovox.solvers.flow.impregnation import impregnate
vol = read_volume(sys.argv[1])
r = impregnate(vol.array, vol.legend, vol.spacing, max_steps=3000)
json.dump({k: r[k] for k in ("final_saturation", "entrapped_air_fraction", "steps")}, open(sys.argv[2], "w"))
"""


def test_impregnation_state_script_matches_the_core(tmp_path):
    """The state script's final saturation and air fraction equal the core's run in the same
    runtime (ParaView's string form of a double: 6+ significant digits); that core run equals the
    pip runtime's to 1e-9; with a PNG, a state file and the run folder."""
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
    # the core in pvbatch's own runtime (Debian's Python and numpy, the ParaView venv): the same
    # numbers to ParaView's string form of a double
    (tmp_path / "core.py").write_text(_CORE_SCRIPT)
    run_checked([BIN / "electrovox-pvpython", tmp_path / "core.py", tmp_path / "e.nc", tmp_path / "core.json"],
                cwd=tmp_path, timeout=300)
    same = json.loads((tmp_path / "core.json").read_text())
    assert float(row["final_saturation"]) == pytest.approx(same["final_saturation"], rel=1e-6)
    assert float(row["entrapped_air_fraction"]) == pytest.approx(same["entrapped_air_fraction"], rel=1e-6)
    assert int(row["steps"]) == same["steps"] == 3000
    # the core in this (pip) runtime, another numpy and scipy: the kernels are strict IEEE, so the
    # two runtimes agree to the last bits (5e-16 relative measured, 2026-12-07; a sum in numpy).
    # Compiled with fast-math they differed by 2e-6 .. 3e-5, with where the arrays lay in memory.
    # 1e-9 is far below any difference in substance: 200 steps fewer give S 0.5687 against 0.5758
    ref = impregnate(lab, DEFAULT_LEGEND, (1.0, 1.0, 1.0), max_steps=3000)
    assert same["final_saturation"] == pytest.approx(ref["final_saturation"], rel=1e-9)
    assert same["entrapped_air_fraction"] == pytest.approx(ref["entrapped_air_fraction"], rel=1e-9)
    assert ref["steps"] == 3000
    assert (tmp_path / "i.png").stat().st_size > 10_000 and (tmp_path / "i.pvsm").is_file()
    assert (tmp_path / "i_run" / "fields.pvd").is_file() and (tmp_path / "i_run" / "saturation.csv").is_file()
