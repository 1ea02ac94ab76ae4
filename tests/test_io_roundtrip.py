"""Lossless round trips: values, dtype, axis order, spacing, origin, name, legend, history."""

from __future__ import annotations

import numpy as np
import pytest
from _helpers import (
    DTYPES,
    LEGEND,
    ORIGIN,
    SHAPE,
    SPACING,
    assert_same_volume,
    image_volume,
    label_array,
    label_volume,
    need_netcdf4,
    need_tifffile,
    sample,
)

import electrovox.io as eio
from electrovox.io import vtk_image
from electrovox.volume import Volume

FILE_FORMATS = (".vti", ".nc", ".tif")


def _need(suffix):
    if suffix == ".nc":
        need_netcdf4()
    if suffix == ".tif":
        need_tifffile()


@pytest.mark.parametrize("dtype", DTYPES)
def test_vtk_image_round_trip(dtype):
    vol = image_volume(dtype)
    image = vtk_image.volume_to_vtk(vol)
    assert image.GetDimensions() == SHAPE[::-1]  # VTK: (nx, ny, nz)
    assert image.GetSpacing() == SPACING[::-1]
    assert image.GetOrigin() == ORIGIN[::-1]
    back = vtk_image.vtk_to_volume(image)
    assert_same_volume(back, vol)
    # VTK point order is x fastest: point (x=3, y=2, z=1) is array[1, 2, 3]
    arr = image.GetPointData().GetArray("image")
    nx, ny = SHAPE[2], SHAPE[1]
    assert arr.GetTuple1(3 + nx * (2 + ny * 1)) == pytest.approx(float(vol.array[1, 2, 3]))


def test_vtk_image_is_a_deep_copy():
    vol = image_volume("int32")
    image = vtk_image.volume_to_vtk(vol)
    want = vol.array.copy()
    vol.array[:] = 0
    np.testing.assert_array_equal(vtk_image.vtk_to_volume(image).array, want)


def test_vtk_image_labels_history_and_metadata():
    vol = label_volume(metadata={"phantom": "spheres", "seed": 3})
    vol.with_step("test", radius_um=0.5)
    back = vtk_image.vtk_to_volume(vtk_image.volume_to_vtk(vol))
    assert_same_volume(back, vol)
    assert back.legend == LEGEND and all(isinstance(k, int) for k in back.legend)
    assert back.provenance == vol.provenance
    assert back.metadata == {"phantom": "spheres", "seed": 3}


@pytest.mark.parametrize("suffix", FILE_FORMATS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_file_round_trip(tmp_path, suffix, dtype):
    _need(suffix)
    vol = image_volume(dtype)
    path = tmp_path / f"vol{suffix}"
    assert eio.write_volume(path, vol) == path
    back = eio.read_volume(path)
    assert_same_volume(back, vol)
    assert back.metadata["source"] == str(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no temp files left


@pytest.mark.parametrize("suffix", FILE_FORMATS)
def test_file_round_trip_labels(tmp_path, suffix):
    _need(suffix)
    vol = label_volume().with_step("segment", method="otsu")
    path = tmp_path / f"labels{suffix}"
    eio.write_volume(path, vol)
    back = eio.read_volume(path)  # the stored legend makes it a label volume
    assert_same_volume(back, vol)
    assert back.is_labels and back.name == "labels"
    assert back.provenance == vol.provenance


@pytest.mark.parametrize("suffix", FILE_FORMATS)
def test_file_round_trip_int64_and_single_slice(tmp_path, suffix):
    _need(suffix)
    vol = Volume(sample("int64", shape=(1, 9, 11)), SPACING, ORIGIN, name="distance")
    path = tmp_path / f"one{suffix}"
    eio.write_volume(path, vol)
    assert_same_volume(eio.read_volume(path), vol)


def test_pyvista_round_trip():
    pytest.importorskip("pyvista")
    for dtype in DTYPES:
        vol = image_volume(dtype)
        grid = vtk_image.volume_to_pyvista(vol)
        assert tuple(grid.dimensions) == SHAPE[::-1]
        assert tuple(grid.spacing) == SPACING[::-1]
        assert tuple(grid.origin) == ORIGIN[::-1]
        # PyVista's own view of the point data is the flattened [z, y, x] array
        np.testing.assert_array_equal(grid.point_data["image"], vol.array.ravel())
        assert_same_volume(vtk_image.pyvista_to_volume(grid), vol)
    lab = label_volume()
    assert vtk_image.pyvista_to_volume(vtk_image.volume_to_pyvista(lab)).legend == LEGEND


def test_netcdf_extra_variables(tmp_path):
    need_netcdf4()
    lab = label_volume()
    truth = Volume.labels(label_array(seed=5), SPACING, legend=LEGEND, origin=ORIGIN, name="truth")
    image = sample("float32")
    path = tmp_path / "phantom.nc"
    eio.write_volume(path, lab, extra={"truth": truth, "image": image})
    assert_same_volume(eio.read_volume(path), lab)
    t = eio.read_volume(path, variable="truth")
    np.testing.assert_array_equal(t.array, truth.array)
    assert t.legend == LEGEND and t.name == "truth"
    im = eio.read_volume(path, variable="image")
    np.testing.assert_array_equal(im.array, image)
    assert im.legend is None and im.array.dtype == np.float32
    # labels=False prefers the greyscale variable
    np.testing.assert_array_equal(eio.read_volume(path, labels=False).array, image)


def test_netcdf_schema(tmp_path):
    netCDF4 = need_netcdf4()
    vol = label_volume()
    path = tmp_path / "schema.nc"
    eio.write_volume(path, vol)
    with netCDF4.Dataset(path) as ds:
        assert ds.Conventions == "CF-1.8"
        assert ds.thickness_axis == "z"
        assert ds.electrovox_version
        assert tuple(ds.variables["labels"].dimensions) == ("z", "y", "x")
        for i, ax in enumerate("zyx"):
            c = ds.variables[ax]
            assert c.units == "um" and c.dtype == np.float64
            np.testing.assert_allclose(c[:], ORIGIN[i] + SPACING[i] * np.arange(SHAPE[i]), rtol=0, atol=1e-12)
        lab = ds.variables["labels"]
        assert lab.dtype == np.uint8
        assert list(lab.flag_values) == [0, 1, 2]
        assert lab.flag_meanings == "pore am cbd"
        assert lab.filters()["zlib"] is True
        assert lab.chunking() != "contiguous"


def test_vti_extra_arrays(tmp_path):
    lab = label_volume()
    truth = Volume.labels(label_array(seed=7), SPACING, legend={0: "pore", 1: "cbd", 2: "am"},
                          origin=ORIGIN, name="truth")
    path = tmp_path / "p.vti"
    eio.write_volume(path, lab, extra={"truth": truth})
    assert_same_volume(eio.read_volume(path), lab)
    t = eio.read_volume(path, variable="truth")
    np.testing.assert_array_equal(t.array, truth.array)
    assert t.legend == {0: "pore", 1: "cbd", 2: "am"}


def test_tiff_is_imagej_readable(tmp_path):
    tifffile = need_tifffile()
    vol = image_volume("uint16")
    path = tmp_path / "ij.tif"
    eio.write_volume(path, vol)
    with tifffile.TiffFile(path) as tif:
        assert tif.is_imagej
        ij = tif.imagej_metadata
        assert ij["unit"] == "um" and ij["spacing"] == pytest.approx(SPACING[0])
        assert ij["slices"] == SHAPE[0]
        xres = tif.pages[0].tags["XResolution"].value
        assert xres[1] / xres[0] == pytest.approx(SPACING[2], rel=1e-9)
        np.testing.assert_array_equal(tif.asarray(), vol.array)


@pytest.mark.parametrize("suffix", FILE_FORMATS)
@pytest.mark.parametrize("dtype", ["int8", "uint32", "uint64"])
def test_file_round_trip_other_dtypes(tmp_path, suffix, dtype):
    _need(suffix)
    vol = image_volume(dtype)
    path = tmp_path / f"vol{suffix}"
    eio.write_volume(path, vol)
    assert_same_volume(eio.read_volume(path), vol)
