"""`electrovox segment` (CLI contract of the image-filter issue) on a phantom image: output
formats, resampling, switches, bad input (exit 2, one line naming file, problem and fix)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import run_cli

from electrovox.io import read_volume, write_volume
from electrovox.solvers.phantoms.electrode import generate_electrode
from electrovox.solvers.phantoms.imaging import simulate_fibsem
from electrovox.volume import Volume


@pytest.fixture(scope="module")
def phantom_image(tmp_path_factory):
    d = tmp_path_factory.mktemp("seg_cli")
    lab = generate_electrode((40, 60, 60), (0.2, 0.2, 0.2), seed=2, d50_um=5.0)["labels"]
    r = simulate_fibsem(lab, (0.2, 0.2, 0.2), image_spacing=(0.2, 0.1, 0.1), snr=8, seed=3)
    path = d / "img.nc"
    write_volume(path, Volume(r["image"], (0.2, 0.1, 0.1), name="image"),
                 extra={"truth": Volume.labels(r["truth"], (0.2, 0.1, 0.1))})
    return d, path, r["truth"]


def test_segment_nc_json_and_truth(phantom_image):
    d, path, truth = phantom_image
    out = d / "seg.nc"
    r = run_cli("segment", path, out, "--json", "--quiet", check=0)
    rep = json.loads(r.stdout)
    assert rep["output"] == str(out) and rep["legend"]["3"] == "crack"
    vol = read_volume(out)
    assert vol.legend[2] == "am" and vol.shape == truth.shape and vol.spacing == pytest.approx((0.2, 0.1, 0.1))
    lab = vol.array
    # a small volume (12 x 6 x 6 um): particles to IoU 0.93 (the 0.96 accuracy bound is tested on
    # bigger phantoms in test_image_segment.py)
    inter, union = np.count_nonzero((lab == 2) & (truth == 2)), np.count_nonzero((lab == 2) | (truth == 2))
    assert inter / union > 0.93
    assert rep["report"]["fractions"]["am"] == pytest.approx(np.mean(lab == 2))
    # an existing output is not overwritten without --force
    r = run_cli("segment", path, out, "--quiet", check=2)
    assert "--force" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_segment_resampled_tif_and_switches(phantom_image):
    d, path, truth = phantom_image
    out = d / "seg_r.tif"
    run_cli("segment", path, out, "--resample-um", "0.2", "--no-pore-back-correction", "--no-destripe",
            "--phases", "pore,cbd,am", "--quiet", "--voxel-um", "0.1", "0.1", "0.2", check=0)
    import tifffile
    lab = tifffile.imread(out)
    # floor(extent / 0.2 um) voxels per axis: (40 x 0.2, 120 x 0.1, 120 x 0.1) um -> 40, 60, 60
    assert lab.shape == (40, 60, 60)
    assert set(np.unique(lab)) <= {0, 1, 2}


@pytest.mark.parametrize("args, needle", [
    (["--phases", "pore,magic"], "--phases"),
    (["--resample-um", "-1"], "--resample-um"),
])
def test_segment_bad_input(phantom_image, args, needle):
    d, path, _ = phantom_image
    r = run_cli("segment", path, d / "bad.nc", *args, "--quiet", check=2)
    assert needle in r.stderr and "Fix:" in r.stderr and not (d / "bad.nc").exists()


def test_segment_missing_file(tmp_path):
    r = run_cli("segment", tmp_path / "nope.tif", tmp_path / "o.nc", check=2)
    assert "nope.tif" in r.stderr
