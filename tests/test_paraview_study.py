"""`electrovox figures --quick`: every figure as CSV, PNG and state file; the states reopen
in pvbatch and in the GUI from the files on disk, without solving anything again.

References: the figure's own CSV (row counts, columns) and volume (array range, read with
numpy); the study's figure list (issue #25); pixel statistics of the PNGs (a figure is not a
blank background).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import run_cli
from test_paraview import BIN, SCRIPTS, GuiSession, _require, pv_runtime, run_checked  # noqa: F401

from electrovox.io import write_volume
from electrovox.phases import DEFAULT_LEGEND
from electrovox.solvers.phantoms.electrode import generate_electrode
from electrovox.volume import Volume

pytestmark = pytest.mark.paraview

#: the study's figures (issue #25, item 3)
NAMES = ["fig1c", "fig1d", "figs6", "fig2c", "fig2d", "tables1", "figs7", "fig4b", "fig4c", "fig4d", "fig4e",
         "fig5", "figs9", "fig6e", "fig6f"]


def _png_stats(path):
    """Distinct colours and the share of pixels unlike the most common one (the background)."""
    import matplotlib.image as mpimg
    img = (mpimg.imread(str(path))[..., :3] * 255).astype(np.uint8).reshape(-1, 3)
    colours, counts = np.unique(img, axis=0, return_counts=True)
    return len(colours), 1.0 - counts.max() / counts.sum()


@pytest.fixture(scope="module")
def figures(tmp_path_factory):
    """`electrovox figures --quick` on a synthetic sample (40 x 24 x 24 um at 0.5 um)."""
    _require("xvfb-run")
    d = tmp_path_factory.mktemp("figures")
    lab = generate_electrode((80, 48, 48), (0.5, 0.5, 0.5), seed=6, d50_um=8.0)["labels"]
    write_volume(d / "sample.nc", Volume.labels(lab, (0.5, 0.5, 0.5), DEFAULT_LEGEND))
    r = run_cli("figures", d / "out", "--quick", "--sample", d / "sample.nc", "--json", "--quiet", check=0)
    return d, json.loads(r.stdout)


def test_figures_cli_contract(figures):
    """"figures" lists the study's figures, each with an existing PNG, CSV and state file; every
    PNG shows something (many colours, most pixels unlike the background: > 5 %)."""
    _, out = figures
    assert [f["name"] for f in out["figures"]] == NAMES
    for f in out["figures"]:
        for key in ("png", "csv", "state"):
            assert f[key] and Path(f[key]).is_file(), (f["name"], key)
        colours, share = _png_stats(f["png"])
        assert colours > 20 and share > 0.05, (f["name"], colours, share)


def test_states_reopen_in_pvbatch_without_solving(figures, tmp_path):
    """Each state reopens in pvbatch holding only readers of files on disk (CSV and XML image
    readers: no ElectroVox solver proxy), its tables with the CSV's rows, its volumes with the
    figure's array over the same range as numpy reads from the file (1e-6: float32 storage)."""
    from electrovox.io.vti import read_vti
    d, out = figures
    report = tmp_path / "reopen.json"
    run_checked([BIN / "electrovox-pvbatch", "--render", SCRIPTS / "reopen_study_states.py", d / "out", report],
                cwd=tmp_path, timeout=300)
    res = json.loads(report.read_text())
    assert res["ok"], res.get("error")
    info = json.loads((d / "out" / "figures.json").read_text())
    for fig in info["figures"]:
        got = res["figures"][fig["name"]]
        classes = {s["class"] for s in got["sources"].values()}
        assert not any(c.startswith("EVX") for c in classes), (fig["name"], classes)
        csv_rows = len((d / "out" / fig["csv"]).read_text().strip().splitlines()) - 1
        if fig["kind"] == "volume":
            a = np.asarray(read_vti(fig["volume"], fig["array"]).array, dtype=float)
            reader = next(s for s in got["sources"].values() if s["class"] == "XMLImageDataReader")
            lo, hi = reader["ranges"][fig["array"]]
            assert lo == pytest.approx(np.nanmin(a), rel=1e-6) and hi == pytest.approx(np.nanmax(a), rel=1e-6)
        else:
            tables = [s for s in got["sources"].values() if s["class"] == "CSVReader"]
            assert tables and all(t["rows"] == csv_rows for t in tables), fig["name"]
        colours, share = _png_stats(got["png"])
        assert colours > 20 and share > 0.05, (fig["name"], colours, share)


def test_states_reopen_in_the_gui(figures, tmp_path):
    """The same states loaded one after the other in the ParaView GUI under Xvfb: every one loads
    and its layout renders: > 2 % of the screenshot unlike its most common colour (a view left
    without a widget captures black, 0.5 %; a three-point chart at 600 x 400 covers ~5 %)."""
    _require("paraview", "Xvfb")
    d, _ = figures
    report = tmp_path / "gui.json"
    with GuiSession(tmp_path, SCRIPTS / "reopen_study_states.py", 240, EVX_STATES_DIR=d / "out",
                    EVX_STATES_OUT=report) as gui:
        assert gui.wait_for(report, 230), \
            f"the GUI did not reopen the states (exit {gui.gui.poll()}):\n{gui.log_tail(3000)}"
    res = json.loads(report.read_text())
    assert res["ok"], res.get("error")
    assert sorted(res["figures"]) == sorted(NAMES)
    for name, got in res["figures"].items():
        colours, share = _png_stats(got["png"])
        assert colours > 20 and share > 0.02, (name, colours, share)
        assert got["in_layout"], name


def test_scenarios_cli_draws_its_charts(tmp_path):
    """`electrovox scenarios` with ParaView: Fig. 4B, 4C, 5 and the 3D lithiation 4D/4E of its own runs as
    PNG (not blank), CSV and state; 4B's CSV holds each run's discharge curve (exact), 4E's volume is
    the thick-CEI run's last frame."""
    _require("xvfb-run")
    lab = generate_electrode((16, 8, 8), (1.0, 1.0, 1.0), seed=5, d50_um=5.0)["labels"]
    write_volume(tmp_path / "e.nc", Volume.labels(lab, (1.0, 1.0, 1.0), DEFAULT_LEGEND))
    r = json.loads(run_cli("scenarios", tmp_path / "e.nc", tmp_path / "out", "--c-rate", "1", "--scenarios",
                           "pristine,thick_cei", "--output-rows", "10", "--frames", "1", "--json", "--quiet",
                           check=0).stdout)
    assert [f["name"] for f in r["figures"]] == ["fig4b", "fig4c", "fig5", "fig4d", "fig4e"]
    for f in r["figures"]:
        assert Path(f["state"]).is_file() and Path(f["csv"]).is_file()
        colours, share = _png_stats(f["png"])
        assert colours > 20 and share > 0.05, (f["name"], colours, share)
    import csv
    rows = list(csv.DictReader(open(tmp_path / "out" / "fig4b.csv")))
    hist = list(csv.DictReader(open(tmp_path / "out" / "thick_cei" / "discharge.csv")))
    got = [float(x["voltage_V_thick_cei"]) for x in rows if x["voltage_V_thick_cei"] not in ("nan", "")]
    assert got == pytest.approx([float(h["voltage_V"]) for h in hist], rel=1e-12)
    info = json.loads((tmp_path / "out" / "figures.json").read_text())
    vol = next(f["volume"] for f in info["figures"] if f["name"] == "fig4e")
    assert Path(vol).parent.parent == (tmp_path / "out" / "thick_cei").resolve()
