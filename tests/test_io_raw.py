"""Raw binary volumes: byte order, memory mapping, progress."""

from __future__ import annotations

import numpy as np
import pytest
from _helpers import SHAPE, SPACING, is_mapped, sample

import electrovox.io as eio


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "int16", "int32", "float32", "float64", "int64"])
@pytest.mark.parametrize("byteorder", ["<", ">"])
def test_raw_byte_orders(tmp_path, dtype, byteorder):
    a = sample(dtype)
    path = tmp_path / "v.raw"
    a.astype(np.dtype(dtype).newbyteorder(byteorder)).tofile(path)
    vol = eio.read_volume(path, shape=SHAPE, dtype=dtype, byteorder=byteorder, spacing=SPACING)
    np.testing.assert_array_equal(vol.array, a)
    assert vol.array.dtype == np.dtype(dtype) and vol.array.dtype.isnative
    assert vol.spacing == SPACING and vol.shape == SHAPE


def test_raw_native_order_is_memory_mapped_copy_on_write(tmp_path):
    a = sample("uint16")
    path = tmp_path / "v.bin"
    a.tofile(path)
    vol = eio.read_volume(path, shape=SHAPE, dtype="uint16", byteorder="little", spacing=SPACING)
    assert is_mapped(vol.array)
    vol.array[:] = 0  # copy-on-write: the file keeps its values
    np.testing.assert_array_equal(np.fromfile(path, dtype="<u2").reshape(SHAPE), a)


def test_raw_big_endian_progress_per_slice(tmp_path):
    a = sample("float32")
    path = tmp_path / "v.dat"
    a.astype(">f4").tofile(path)
    seen = []
    vol = eio.read_volume(path, shape=SHAPE, dtype="float32", byteorder="big", spacing=SPACING,
                          progress=lambda f, m=None: seen.append(f))
    np.testing.assert_array_equal(vol.array, a)
    assert len(seen) == SHAPE[0] and seen[-1] == 1.0


def test_raw_labels_with_legend(tmp_path):
    a = np.zeros(SHAPE, np.uint8)
    a[:, :, 5:] = 2
    a[3] = 1
    path = tmp_path / "l.raw"
    a.tofile(path)
    vol = eio.read_volume(path, shape=SHAPE, dtype="uint8", spacing=SPACING, legend="0=pore,1=am,2=cbd")
    assert vol.legend == {0: "pore", 1: "am", 2: "cbd"} and vol.name == "labels"
    assert vol.phase_fractions()["am"] == pytest.approx(1 / 7)
