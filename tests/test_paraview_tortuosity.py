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
