"""read_volume options: thickness axis, voxel-size override, legends, labels on/off."""

from __future__ import annotations

import numpy as np
import pytest
from _helpers import LEGEND, SHAPE, SPACING, label_array, label_volume, sample

import electrovox.io as eio
from electrovox.errors import BadInput
from electrovox.phases import DEFAULT_LEGEND
from electrovox.volume import Volume

FILE_SPACING = (0.1, 0.0152, 0.03)  # file's (z, y, x): all different so a wrong permutation shows
FILE_ORIGIN = (1.0, 2.0, 3.0)


def _raw(tmp_path, a):
    path = tmp_path / "v.raw"
    a.tofile(path)
    return dict(shape=a.shape, dtype=a.dtype.name)


def test_thickness_along_file_x_becomes_z(tmp_path):
    a = sample("int32")  # file [z, y, x] = (7, 9, 11)
    vol = Volume(a, FILE_SPACING, FILE_ORIGIN)
    path = tmp_path / "t.vti"
    eio.write_volume(path, vol)
    r = eio.read_volume(path, thickness_axis="x")
    # new (z, y, x) = file (x, z, y): a rotation, not a mirror
    assert r.shape == (11, 7, 9)
    assert r.spacing == (0.03, 0.1, 0.0152)
    assert r.origin == (3.0, 1.0, 2.0)
    for (fz, fy, fx) in [(0, 0, 0), (1, 2, 3), (6, 8, 10), (5, 0, 9)]:
        assert r.array[fx, fz, fy] == a[fz, fy, fx]
    assert r.metadata["original_axes"] == "xzy" and r.metadata["thickness_axis"] == "x"


def test_thickness_along_file_y_becomes_z(tmp_path):
    a = sample("float32")
    kw = _raw(tmp_path, a)
    r = eio.read_volume(tmp_path / "v.raw", spacing=FILE_SPACING, thickness_axis="Y", **kw)
    assert r.shape == (9, 11, 7)
    assert r.spacing == (0.0152, 0.03, 0.1)
    for (fz, fy, fx) in [(0, 0, 0), (1, 2, 3), (6, 8, 10)]:
        assert r.array[fy, fx, fz] == a[fz, fy, fx]
    assert r.metadata["original_axes"] == "yxz"
    # handedness kept: a right-handed frame maps to a right-handed frame (even permutation)
    assert np.linalg.det(np.eye(3)[[1, 2, 0]]) == pytest.approx(1.0)


def test_thickness_z_keeps_everything(tmp_path):
    vol = label_volume()
    path = tmp_path / "z.vti"
    eio.write_volume(path, vol)
    r = eio.read_volume(path, thickness_axis="z")
    np.testing.assert_array_equal(r.array, vol.array)
    assert r.metadata["original_axes"] == "zyx"


def test_spacing_override_and_cubic_value(tmp_path):
    vol = Volume(sample("uint8"), SPACING)
    path = tmp_path / "s.nc"
    eio.write_volume(path, vol)
    assert eio.read_volume(path, spacing=(0.2, 0.3, 0.4)).spacing == (0.2, 0.3, 0.4)
    assert eio.read_volume(path, spacing=0.5).spacing == (0.5, 0.5, 0.5)
    assert eio.read_volume(path).spacing == SPACING


def test_labels_true_uses_default_legend_with_notice(tmp_path, capsys):
    a = label_array(n=3)
    kw = _raw(tmp_path, a)
    r = eio.read_volume(tmp_path / "v.raw", spacing=SPACING, labels=True, **kw)
    assert r.legend == DEFAULT_LEGEND and r.name == "labels"
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no legend given: using the default legend 0=pore,1=cbd" in err[0]
    assert "with a legend (id=name,...)" in err[0]


def test_given_legend_overrides_stored_one(tmp_path):
    vol = label_volume()  # stored 0=pore,1=am,2=cbd
    path = tmp_path / "l.nc"
    eio.write_volume(path, vol)
    r = eio.read_volume(path, legend={0: "pore", 1: "cbd", 2: "am"})
    assert r.legend == {0: "pore", 1: "cbd", 2: "am"}
    assert eio.read_volume(path).legend == LEGEND


def test_labels_false_gives_greyscale(tmp_path):
    vol = label_volume()
    path = tmp_path / "l.vti"
    eio.write_volume(path, vol)
    r = eio.read_volume(path, labels=False)
    assert r.legend is None and r.name == "image"
    np.testing.assert_array_equal(r.array, vol.array)


def test_integer_labels_become_uint8(tmp_path):
    a = label_array().astype(np.int32)
    kw = _raw(tmp_path, a)
    r = eio.read_volume(tmp_path / "v.raw", spacing=SPACING, legend="0=pore,1=am,2=cbd", **kw)
    assert r.array.dtype == np.uint8
    np.testing.assert_array_equal(r.array, a)


def test_grey_without_labels_keeps_dtype(tmp_path):
    a = sample("float64")
    kw = _raw(tmp_path, a)
    r = eio.read_volume(tmp_path / "v.raw", spacing=SPACING, **kw)
    assert r.legend is None and r.array.dtype == np.float64 and r.shape == SHAPE


def test_bad_thickness_axis_and_spacing(tmp_path):
    a = sample("uint8")
    kw = _raw(tmp_path, a)
    with pytest.raises(BadInput, match="Fix:"):
        eio.read_volume(tmp_path / "v.raw", spacing=SPACING, thickness_axis="w", **kw)
    with pytest.raises(BadInput, match="Fix:"):
        eio.read_volume(tmp_path / "v.raw", spacing=(0.1, -1, 0.1), **kw)
