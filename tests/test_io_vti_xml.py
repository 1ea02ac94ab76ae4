"""The pure-Python VTK XML image writer, read back by VTK's own vtkXMLImageDataReader."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from vtkmodules.util.numpy_support import vtk_to_numpy
from vtkmodules.vtkIOXML import vtkXMLImageDataReader

from electrovox.filters.vtk.common import field_string
from electrovox.io.vti_xml import BLOCK_BYTES, write_vti_xml

ROOT = Path(__file__).resolve().parent.parent
SHAPE = (5, 7, 11)  # nz != ny != nx: proves the axis order


def read(path):
    r = vtkXMLImageDataReader()
    r.SetFileName(str(path))
    r.Update()
    assert r.GetErrorCode() == 0
    return r.GetOutput()


def point_array(image, name):
    nx, ny, nz = image.GetDimensions()
    a = vtk_to_numpy(image.GetPointData().GetArray(name))
    return a.reshape((nz, ny, nx) + a.shape[1:])


@pytest.mark.parametrize("compress", [True, False])
def test_scalars_vectors_and_text_read_back_exactly(tmp_path, compress):
    rng = np.random.default_rng(1)
    arrays = {
        "u": rng.standard_normal(SHAPE).astype(np.float32),
        "velocity": rng.standard_normal(SHAPE + (3,)),                      # float64 vectors
        "labels": rng.integers(0, 6, SHAPE).astype(np.uint8),
        "count": rng.integers(-2**31, 2**31 - 1, SHAPE).astype(np.int32),
        "big": rng.integers(-2**62, 2**62, SHAPE).astype(np.int64),
        "u16": rng.integers(0, 2**16, SHAPE).astype(np.uint16),
        "mask": rng.random(SHAPE) > 0.5,                                    # bool -> UInt8
    }
    legend = json.dumps({"0": "pore", "1": "am"})
    path = tmp_path / "f.vti"
    assert write_vti_xml(path, arrays, (0.5, 0.25, 0.1), (1.0, -2.0, 3.5),
                         field={"legend": legend, "note": "µm & <text> \"quoted\""}, compress=compress) == path
    image = read(path)
    assert image.GetDimensions() == (11, 7, 5)
    assert image.GetExtent() == (0, 10, 0, 6, 0, 4)
    assert image.GetSpacing() == (0.1, 0.25, 0.5)
    assert image.GetOrigin() == (3.5, -2.0, 1.0)
    for name, a in arrays.items():
        b = point_array(image, name)
        expected = a.astype(np.uint8) if a.dtype == bool else a
        assert b.dtype == expected.dtype, name
        assert np.array_equal(b, expected), name
    assert image.GetPointData().GetArray("velocity").GetNumberOfComponents() == 3
    assert image.GetPointData().GetScalars().GetName() == "u"
    assert field_string(image, "legend") == legend
    assert field_string(image, "note") == "µm & <text> \"quoted\""
    assert ("compressor" in path.read_bytes()[:400].decode("latin-1")) == compress
    assert not [p for p in tmp_path.iterdir() if p.name != "f.vti"]  # no temporary left


@pytest.mark.parametrize("nbytes", [BLOCK_BYTES, 3 * BLOCK_BYTES, 3 * BLOCK_BYTES + 4, 4])
def test_zlib_blocks_full_and_partial(tmp_path, nbytes):
    n = nbytes // 4
    a = np.arange(n, dtype=np.float32).reshape(1, 1, n)
    write_vti_xml(tmp_path / "b.vti", {"a": a}, (1, 1, 1))
    assert np.array_equal(point_array(read(tmp_path / "b.vti"), "a"), a)


def test_non_contiguous_big_endian_and_vector_active(tmp_path):
    base = np.arange(4 * 6 * 8, dtype=">f8").reshape(8, 6, 4)
    a = base.transpose(2, 1, 0)                                    # [z, y, x] = (4, 6, 8), strided
    v = np.stack([a, 2 * a, 3 * a], axis=-1).astype(np.float32)
    write_vti_xml(tmp_path / "c.vti", {"v": v, "a": a}, (2.0, 1.0, 1.0), compress=False)
    image = read(tmp_path / "c.vti")
    assert np.array_equal(point_array(image, "a"), a)
    assert np.array_equal(point_array(image, "v"), v)
    assert image.GetPointData().GetVectors().GetName() == "v"


def test_replaces_existing_file(tmp_path):
    path = tmp_path / "r.vti"
    write_vti_xml(path, {"a": np.zeros((2, 3, 4))}, (1, 1, 1))
    write_vti_xml(path, {"a": np.ones((2, 3, 4))}, (1, 1, 1))
    assert np.array_equal(point_array(read(path), "a"), np.ones((2, 3, 4)))


@pytest.mark.parametrize("arrays, spacing", [
    ({}, (1, 1, 1)),
    ({"a": np.zeros((2, 3))}, (1, 1, 1)),
    ({"a": np.zeros((2, 3, 4)), "b": np.zeros((2, 3, 5))}, (1, 1, 1)),
    ({"a": np.zeros((2, 3, 4), np.complex64)}, (1, 1, 1)),
    ({"a": np.zeros((0, 3, 4))}, (1, 1, 1)),
    ({"a": np.zeros((2, 3, 4))}, (1, 0, 1)),
    ({"a": np.zeros((2, 3, 4))}, (1, 1)),
])
def test_rejects_bad_arrays_and_spacing(tmp_path, arrays, spacing):
    with pytest.raises(ValueError):
        write_vti_xml(tmp_path / "x.vti", arrays, spacing)
    assert not list(tmp_path.iterdir())


def test_no_vtk_import():
    code = "import sys, electrovox.io.vti_xml; print(any(m.startswith(('vtk', 'vtkmodules')) for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "False"
