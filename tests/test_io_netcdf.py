"""netCDF reader on CF-style files written directly with netCDF4 (not by ElectroVox)."""

from __future__ import annotations

import numpy as np
import pytest
from _helpers import SHAPE, SPACING, label_array, need_netcdf4, sample

import electrovox.io as eio


@pytest.fixture
def netCDF4():
    return need_netcdf4()


def _write_cf(path, netCDF4, array, dims, coords, units, name="porosity", **var_attrs):
    """A CF-style file: ``array`` on ``dims``, coordinate variables ``coords`` in ``units``."""
    with netCDF4.Dataset(path, "w") as ds:
        ds.Conventions = "CF-1.8"
        for d, n in zip(dims, array.shape, strict=True):
            ds.createDimension(d, n)
        for d, values in zip(dims, coords, strict=True):
            if values is None:
                continue
            c = ds.createVariable(d, "f8", (d,))
            c[:] = values
            if units is not None:
                c.units = units
        v = ds.createVariable(name, array.dtype, dims)
        v[:] = array
        for k, val in var_attrs.items():
            setattr(v, k, val)


def test_cf_depth_lat_lon_in_nm(tmp_path, netCDF4):
    a = sample("float32")
    nz, ny, nx = SHAPE
    coords = (250.0 + 100.0 * np.arange(nz), 15.2 * np.arange(ny), -30.4 + 15.2 * np.arange(nx))
    path = tmp_path / "cf.nc"
    _write_cf(path, netCDF4, a, ("depth", "lat", "lon"), coords, "nm")
    vol = eio.read_volume(path)
    np.testing.assert_array_equal(vol.array, a)
    assert vol.array.dtype == np.float32 and vol.name == "porosity"
    np.testing.assert_allclose(vol.spacing, SPACING, rtol=1e-9)
    np.testing.assert_allclose(vol.origin, (0.25, 0.0, -0.0304), rtol=1e-9, atol=1e-15)
    assert vol.metadata["spacing_from"] == "netCDF"


def test_cf_dims_in_x_y_z_order_are_transposed(tmp_path, netCDF4):
    a = sample("int16")  # [z, y, x]
    nz, ny, nx = SHAPE
    stored = np.ascontiguousarray(a.transpose(2, 1, 0))  # stored on (x, y, z)
    coords = (0.0152 * np.arange(nx), 0.0152 * np.arange(ny), 0.1 * np.arange(nz))
    path = tmp_path / "xyz.nc"
    _write_cf(path, netCDF4, stored, ("x", "y", "z"), coords, "um", name="image")
    vol = eio.read_volume(path)
    assert vol.shape == SHAPE
    np.testing.assert_array_equal(vol.array, a)
    np.testing.assert_allclose(vol.spacing, SPACING, rtol=1e-9)


def test_cf_descending_coordinate_is_flipped(tmp_path, netCDF4):
    a = sample("uint16")
    nz, ny, nx = SHAPE
    coords = (0.1 * np.arange(nz), 0.0152 * np.arange(ny)[::-1], 0.0152 * np.arange(nx))  # y falls
    path = tmp_path / "desc.nc"
    _write_cf(path, netCDF4, a, ("z", "row", "col"), coords, "micron")
    vol = eio.read_volume(path)
    np.testing.assert_array_equal(vol.array, a[:, ::-1, :])
    np.testing.assert_allclose(vol.spacing, SPACING, rtol=1e-9)
    assert vol.origin[1] == pytest.approx(0.0)
    assert vol.metadata["flipped_axes"] == ["y"]


def test_cf_flag_meanings_give_the_legend(tmp_path, netCDF4):
    a = label_array()
    nz, ny, nx = SHAPE
    coords = (0.1 * np.arange(nz), 0.0152 * np.arange(ny), 0.0152 * np.arange(nx))
    path = tmp_path / "flags.nc"
    _write_cf(path, netCDF4, a, ("k", "j", "i"), coords, "um", name="phase",
              flag_values=np.array([0, 1, 2], np.uint8), flag_meanings="pore am cbd")
    vol = eio.read_volume(path)
    assert vol.legend == {0: "pore", 1: "am", 2: "cbd"}
    np.testing.assert_array_equal(vol.array, a)


def test_cf_choice_of_variable(tmp_path, netCDF4):
    a, b = sample("uint8"), sample("float64", seed=3)
    path = tmp_path / "two.nc"
    with netCDF4.Dataset(path, "w") as ds:
        for d, n in zip("zyx", SHAPE, strict=True):
            ds.createDimension(d, n)
        ds.createVariable("first", "u1", ("z", "y", "x"))[:] = a
        ds.createVariable("second", "f8", ("z", "y", "x"))[:] = b
    np.testing.assert_array_equal(eio.read_volume(path, variable="second", spacing=0.05).array, b)
    vol = eio.read_volume(path, variable="first", spacing=(0.1, 0.0152, 0.0152))
    np.testing.assert_array_equal(vol.array, a)
    assert vol.spacing == SPACING


def test_cf_label_255_is_not_masked(tmp_path, netCDF4):
    # netCDF's default fill for ubyte is 255: it must come back as a value, not a masked voxel
    a = sample("uint8")
    a.flat[5] = 255
    path = tmp_path / "fill.nc"
    _write_cf(path, netCDF4, a, ("z", "y", "x"), (None, None, None), None, name="image")
    vol = eio.read_volume(path, spacing=SPACING)
    assert not np.ma.isMaskedArray(vol.array)
    np.testing.assert_array_equal(vol.array, a)


def test_cf_flags_that_are_not_phases_are_no_legend(tmp_path, netCDF4):
    a = label_array()
    path = tmp_path / "mask.nc"
    _write_cf(path, netCDF4, a, ("z", "y", "x"), (None, None, None), None, name="mask",
              flag_values=np.array([0, 1, 2], np.uint8), flag_meanings="land sea ice")
    vol = eio.read_volume(path, spacing=SPACING)
    assert vol.legend is None and vol.array.dtype == np.uint8
    np.testing.assert_array_equal(vol.array, a)
