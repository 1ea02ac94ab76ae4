"""EVX Tortuosity in Debian's real pvbatch on an electrode phantom: tau in x, y and z for the
pores and for the electronic network (am + cbd), checked against the numpy core on the same
labels, and the fields' conservation."""

import json

import numpy as np
import pytest
from test_paraview import BIN, SCRIPTS, pv_runtime, run_checked, values  # noqa: F401  (autouse fixture)

pytestmark = pytest.mark.paraview


@pytest.fixture(scope="module")
def fetched(tmp_path_factory):
    d = tmp_path_factory.mktemp("pv_tau")
    run_checked([BIN / "electrovox-pvbatch", SCRIPTS / "tortuosity.py", d / "out.json"], cwd=d, timeout=400)
    return json.loads((d / "out.json").read_text())


def test_tau_table_matches_core(fetched):
    from electrovox.phases import DEFAULT_LEGEND
    from electrovox.solvers.transport.diffusion import tortuosity
    lab_dump = fetched["labels"]
    nx, ny, nz = lab_dump["dims"]
    labels = values(lab_dump, "labels").reshape(nz, ny, nx).astype(np.uint8)
    for name, kw in (("ions", {"phases": ("pore",)}), ("electrons", {"conductivities": {"am": 1.0, "cbd": 1.0}})):
        table = fetched[name]["table"]
        assert table["axis"] == ["x", "y", "z"]
        for i, ax in enumerate("xyz"):
            ref = tortuosity(labels, DEFAULT_LEGEND, 0.5, ax, **kw)
            # the same solver in two runtimes: tau to the flux tolerance (1e-6 relative), x2 margin
            assert table["tau"][i] == pytest.approx(ref["tau"], rel=2e-6)
            assert table["porosity"][i] == pytest.approx(ref["porosity"], abs=1e-12)
            assert table["tau"][i] > 1.0
    # pores (29 %) are more tortuous than the dense solid network (about 67 %)
    assert min(fetched["ions"]["table"]["tau"]) > max(fetched["electrons"]["table"]["tau"])


def test_fields(fetched):
    f = fetched["ions"]["fields"]
    nx, ny, nz = f["dims"]
    pot = values(f, "potential").reshape(nz, ny, nx)
    flux = values(f, "flux").reshape(nz, ny, nx, 3)
    solved = np.isfinite(pot)
    assert solved.any() and np.nanmin(pot) >= 0 and np.nanmax(pot) <= 1
    # conservation: the z-flux summed over every z slice is the same (finite volumes, the cell
    # average of face fluxes: each slice's total is the mean of two face totals, which are equal)
    per_slice = flux[..., 2].sum(axis=(1, 2))
    assert np.allclose(per_slice, per_slice.mean(), rtol=1e-4)


def test_main_job_state_script(tmp_path):
    """state_files/tortuosity_view.py (what bin/main runs on the sample electrode, under Xvfb):
    the CSV it writes holds tau in x, y, z for both networks, equal to the numpy core's on the
    same file, and the potential view is saved as PNG and state."""
    import csv

    from test_paraview import ROOT, _require

    from electrovox.io import write_volume
    from electrovox.phases import DEFAULT_LEGEND
    from electrovox.solvers.phantoms.electrode import generate_electrode
    from electrovox.solvers.transport.diffusion import tortuosity
    from electrovox.volume import Volume
    _require("xvfb-run")
    lab = generate_electrode((24, 20, 20), (0.5, 0.5, 0.5), seed=4, d50_um=4.0)["labels"]
    write_volume(tmp_path / "e.nc", Volume.labels(lab, (0.5, 0.5, 0.5), DEFAULT_LEGEND))
    run_checked([BIN / "electrovox-pvbatch", "--render", ROOT / "state_files" / "tortuosity_view.py",
                 tmp_path / "e.nc", tmp_path / "tau.png"], cwd=tmp_path, timeout=400)
    rows = list(csv.DictReader(open(tmp_path / "tau.csv")))
    assert [(r["network"][:4], r["axis"]) for r in rows] == [("ions", a) for a in "xyz"] + [("elec", a) for a in "xyz"]
    for r in rows:
        kw = {"phases": ("pore", "crack")} if r["network"].startswith("ions") else \
            {"conductivities": {"am": 1.0, "cbd": 1.0}}
        ref = tortuosity(lab, DEFAULT_LEGEND, 0.5, r["axis"], **kw)
        # the table's values are printed with 6 significant digits (vtkVariant.ToString)
        assert float(r["tau"]) == pytest.approx(ref["tau"], rel=1e-5)
    assert (tmp_path / "tau.png").stat().st_size > 10_000 and (tmp_path / "tau.pvsm").is_file()
    # no colour-bar text cut at the picture's bottom edge: the last 2 % of rows (14 of 700) are
    # background only.  Each row is compared with its own median colour (no assumption about the
    # palette or a gradient background); a pixel counts as "not background" when a channel is
    # > 12 levels off (anti-aliasing of nearby text stays under that).  Allowed: 0.5 % of a row
    # (7 of 1400 px): the layout's 2-px separator between the two views.  A vertical bar title
    # running off the bottom (the old layout) covered 1-3.6 % of these rows; the horizontal bars
    # end about 28 px above the edge.
    from PIL import Image
    with Image.open(tmp_path / "tau.png") as im:
        img = np.asarray(im.convert("RGB")).astype(np.int16)
    bottom = img[-max(1, round(0.02 * img.shape[0])):]
    off = (np.abs(bottom - np.median(bottom, axis=1, keepdims=True)) > 12).any(axis=2).mean(axis=1)
    assert off.max() <= 0.005, f"text or data in the bottom rows: {off.round(4).tolist()}"
