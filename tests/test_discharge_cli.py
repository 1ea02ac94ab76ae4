"""`electrovox discharge`: the CLI contract, its files, resume, the params file and bad input.

References: the contract's JSON keys and files; the core's result on the same input (the CLI is a
thin layer); the BPX file read back; Faraday's law for the capacity column (I t / mass).
"""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from conftest import run_cli

from electrovox.io import write_volume
from electrovox.volume import Volume


@pytest.fixture(scope="module")
def electrode(tmp_path_factory):
    """A small three-phase electrode (14 x 8 x 8 voxels of 0.5 um) as NetCDF."""
    from scipy import ndimage
    d = tmp_path_factory.mktemp("dis")
    rng = np.random.default_rng(7)
    f = ndimage.gaussian_filter(rng.random((14, 8, 8)), 1.5)
    lab = np.zeros(f.shape, np.uint8)
    lab[f > np.quantile(f, 0.5)] = 2
    lab[(f > np.quantile(f, 0.42)) & (lab == 0)] = 1
    path = d / "e.nc"
    write_volume(path, Volume.labels(lab, (0.5, 0.5, 0.5), {0: "pore", 1: "cbd", 2: "am"}))
    return d, path, lab


def test_discharge_contract(electrode):
    d, path, lab = electrode
    out = d / "run"
    r = json.loads(run_cli("discharge", path, out, "--c-rate", "1", "--output-rows", "20", "--frames", "2",
                           "--json", "--quiet", check=0).stdout)
    for key in ("capacity_mAh_g", "mean_overpotential_mV", "cutoff_reached", "steps", "wall_s"):
        assert key in r, key
    assert r["cutoff_reached"] is True and r["steps"] > 0 and r["c_rate"] == 1.0
    # each accepted step is counted once under the limit that set the next one
    assert sum(n for k, n in r["step_limits"].items() if k != "failed") == r["steps"]
    with open(out / "discharge.csv") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0])[:3] == ["time_s", "voltage_V", "capacity_mAh_g"]
    last = rows[-1]
    # the capacity column is I t / mass at 1C = 280 mAh/g: capacity = 280 x t / 3600
    assert float(last["capacity_mAh_g"]) == pytest.approx(280.0 * float(last["time_s"]) / 3600.0, rel=1e-12)
    assert float(last["capacity_mAh_g"]) == pytest.approx(r["capacity_mAh_g"], rel=1e-12)
    assert float(last["voltage_V"]) <= 3.5 + 0.01
    assert (out / "fields.pvd").is_file() and list((out / "fields").glob("*.vti"))
    assert (out / "profiles.csv").is_file()
    from electrovox.solvers.echem.bpx import read_bpx
    p = read_bpx(out / "params.json")
    assert p.cell.c_rate == 1.0
    # run again on the finished OUTDIR: the same result without solving
    again = json.loads(run_cli("discharge", path, out, "--c-rate", "1", "--output-rows", "20", "--frames", "2",
                               "--json", "--quiet", check=0).stdout)
    assert again["capacity_mAh_g"] == r["capacity_mAh_g"]
    # other parameters on the same OUTDIR: refused, nothing overwritten
    bad = run_cli("discharge", path, out, "--c-rate", "2", "--output-rows", "20", "--frames", "2", check=2)
    assert "other parameters" in bad.stderr


def test_discharge_params_file_drives_the_run(electrode, tmp_path):
    """A BPX file written by `params export` with a changed C-rate gives the same run as --c-rate."""
    d, path, _ = electrode
    from electrovox.solvers.echem.bpx import write_bpx
    from electrovox.solvers.echem.parameters import default_parameters
    f = tmp_path / "p.json"
    write_bpx(f, default_parameters().with_values({"cell.c_rate": 1.0}))
    a = json.loads(run_cli("discharge", path, tmp_path / "a", "--params", f, "--output-rows", "20", "--frames", "1",
                           "--json", "--quiet", check=0).stdout)
    b = json.loads(run_cli("discharge", path, tmp_path / "b", "--c-rate", "1", "--output-rows", "20", "--frames",
                           "1", "--json", "--quiet", check=0).stdout)
    assert a["capacity_mAh_g"] == b["capacity_mAh_g"]


@pytest.mark.parametrize("args,words", [
    (["--cei", "thick"], "--cei"),
    (["--clogging", "all"], "--clogging"),
    (["--c-rate", "-1"], "--c-rate"),
    (["--params", "missing.json"], "missing.json"),
])
def test_discharge_bad_input(electrode, tmp_path, args, words):
    d, path, _ = electrode
    r = run_cli("discharge", path, tmp_path / "x", *args, check=2)
    assert words in r.stderr


def test_discharge_refuses_labels_without_active_material(tmp_path):
    path = tmp_path / "p.nc"
    lab = np.zeros((4, 4, 4), np.uint8)
    lab[:2] = 1
    write_volume(path, Volume.labels(lab, (0.5, 0.5, 0.5), {0: "pore", 1: "cbd"}))
    r = run_cli("discharge", path, tmp_path / "x", check=2)
    assert "active material" in r.stderr and "legend" in r.stderr
