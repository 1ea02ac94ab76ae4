"""Every bad input gives one BadInput line naming the file, the problem and the fix."""

from __future__ import annotations

import numpy as np
import pytest
from _helpers import (
    SHAPE,
    SPACING,
    bad_input,
    image_volume,
    label_array,
    label_volume,
    need_netcdf4,
    need_tifffile,
    sample,
)

import electrovox.io as eio
from electrovox.volume import Volume

read = eio.read_volume


# --- missing things ---------------------------------------------------------------------------

def test_missing_file(tmp_path):
    bad_input(read, tmp_path / "nope.tif", contains=["does not exist"])


def test_missing_folder(tmp_path):
    bad_input(read, tmp_path / "no_such_slices", contains=["does not exist"])


def test_folder_without_tiff_slices(tmp_path):
    (tmp_path / "readme.txt").write_text("x")
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    bad_input(read, tmp_path, contains=["no TIFF slices"])


def test_unsupported_suffix(tmp_path):
    path = tmp_path / "v.png"
    path.write_bytes(b"\x89PNG\r\n")
    bad_input(read, path, contains=["unsupported suffix '.png'", ".nc", ".vti", ".tif"])


def test_unsupported_output_suffix(tmp_path):
    bad_input(eio.write_volume, tmp_path / "v.h5", image_volume(), contains=["'.h5'", ".nc"])
    assert list(tmp_path.iterdir()) == []


# --- folders of slices ------------------------------------------------------------------------

def _slices(folder, names, shape=(9, 11), dtype="uint8"):
    tifffile = need_tifffile()
    folder.mkdir(exist_ok=True)
    for i, name in enumerate(names):
        tifffile.imwrite(folder / name, sample(dtype, shape=shape, seed=i), photometric="minisblack")
    return folder


def test_missing_slice(tmp_path):
    folder = _slices(tmp_path / "f", ["s001.tif", "s002.tif", "s004.tif"])
    bad_input(read, folder, spacing=SPACING, contains=["slice number 3 is missing", "s002.tif", "s004.tif"])


def test_duplicate_slice(tmp_path):
    folder = _slices(tmp_path / "f", ["s1.tif", "s01.tif", "s2.tif"])
    bad_input(read, folder, spacing=SPACING, contains=["slice number 1 twice", "s01.tif", "s1.tif"])


def test_corrupt_slice(tmp_path):
    folder = _slices(tmp_path / "f", ["s1.tif", "s2.tif", "s3.tif"])
    (folder / "s2.tif").write_bytes(b"II*\x00" + b"\xff" * 40)  # a TIFF header, then rubbish
    bad_input(read, folder, spacing=SPACING, names=folder / "s2.tif")


def test_slice_of_other_size(tmp_path):
    folder = _slices(tmp_path / "f", ["s1.tif", "s2.tif"])
    _slices(folder, ["s3.tif"], shape=(9, 12))
    bad_input(read, folder, spacing=SPACING, names=folder / "s3.tif", contains=["12x9", "11x9", "s1.tif"])


def test_slice_of_other_dtype(tmp_path):
    folder = _slices(tmp_path / "f", ["s1.tif", "s2.tif"])
    _slices(folder, ["s3.tif"], dtype="uint16")
    bad_input(read, folder, spacing=SPACING, names=folder / "s3.tif", contains=["uint16", "uint8"])


# --- TIFF files -------------------------------------------------------------------------------

def test_rgb_where_grey_is_expected(tmp_path):
    tifffile = need_tifffile()
    path = tmp_path / "colour.tif"
    rgb = np.stack([sample("uint8", seed=s) for s in range(3)], axis=-1)
    tifffile.imwrite(path, rgb, photometric="rgb")
    bad_input(read, path, spacing=SPACING,
              contains=["RGB", "convert to greyscale (ImageJ: Image > Type > 8-bit; Python: tifffile + "
                        "skimage.color.rgb2gray)"])


def test_multichannel_hyperstack(tmp_path):
    tifffile = need_tifffile()
    path = tmp_path / "twochannels.tif"
    a = np.stack([sample("uint16", seed=1), sample("uint16", seed=2)], axis=1)  # Z C Y X
    tifffile.imwrite(path, a, imagej=True, metadata={"axes": "ZCYX"})
    bad_input(read, path, spacing=SPACING, contains=["2 different channels"])


def test_truncated_tiff(tmp_path):
    need_tifffile()
    path = tmp_path / "cut.tif"
    eio.write_volume(path, image_volume("uint16"))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])
    bad_input(read, path)


def test_truncated_plain_tiff(tmp_path):
    tifffile = need_tifffile()
    path = tmp_path / "cut.tif"
    tifffile.imwrite(path, sample("int32"), photometric="minisblack")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    bad_input(read, path, spacing=SPACING)


def test_not_a_tiff(tmp_path):
    need_tifffile()
    path = tmp_path / "fake.tif"
    path.write_text("this is a text file\n")
    bad_input(read, path, spacing=SPACING, contains=["not a TIFF"])


def test_pages_of_different_size(tmp_path):
    tifffile = need_tifffile()
    path = tmp_path / "mixed.tif"
    with tifffile.TiffWriter(path) as w:
        for shape in [(9, 11), (9, 11), (8, 11)]:
            w.write(np.zeros(shape, np.uint8), photometric="minisblack")
    bad_input(read, path, spacing=SPACING, contains=["page 3", "11x8"])


# --- raw --------------------------------------------------------------------------------------

def test_raw_size_mismatch(tmp_path):
    path = tmp_path / "v.raw"
    sample("uint16", shape=(6, 9, 11)).tofile(path)  # one slice short of SHAPE
    bad_input(read, path, shape=SHAPE, dtype="uint16", spacing=SPACING,
              contains=["is 1188 bytes", "needs 1386 bytes", "shape=(6, 9, 11)"])


def test_raw_without_shape(tmp_path):
    path = tmp_path / "v.raw"
    sample("uint8").tofile(path)
    bad_input(read, path, spacing=SPACING, contains=["shape=(nz, ny, nx)", "dtype="])


# --- labels -----------------------------------------------------------------------------------

def _raw(tmp_path, a, name="v.raw"):
    path = tmp_path / name
    a.tofile(path)
    return path, dict(shape=a.shape, dtype=a.dtype.name, spacing=SPACING)


def test_nan_in_labels(tmp_path):
    a = label_array().astype(np.float32)
    a[2, 3, 4] = np.nan
    path, kw = _raw(tmp_path, a)
    bad_input(read, path, labels=True, contains=["NaN"], **kw)


def test_negative_labels(tmp_path):
    a = label_array().astype(np.int16)
    a[0, 0, 1] = -1
    path, kw = _raw(tmp_path, a)
    bad_input(read, path, legend="0=pore,1=am,2=cbd", contains=["negative"], **kw)


def test_single_valued_labels(tmp_path):
    path, kw = _raw(tmp_path, np.ones(SHAPE, np.uint8))
    bad_input(read, path, legend="1=am", contains=["single value"], **kw)


def test_empty_volume(tmp_path):
    netCDF4 = need_netcdf4()
    path = tmp_path / "zero.nc"
    with netCDF4.Dataset(path, "w") as ds:
        for d, n in zip("zyx", (0, 9, 11), strict=True):
            ds.createDimension(d, n)
        ds.createVariable("labels", "u1", ("z", "y", "x"))
    bad_input(read, path, spacing=SPACING, labels=True, contains=["is empty (0 voxels)"])
    bad_input(read, path, spacing=SPACING, labels=False, contains=["is empty", "0 voxels"])


def test_missing_voxel_size(tmp_path):
    path, kw = _raw(tmp_path, sample("uint8"))
    kw.pop("spacing")
    bad_input(read, path, contains=["carries no voxel size", "spacing="], **kw)


def test_missing_voxel_size_tiff(tmp_path):
    tifffile = need_tifffile()
    path = tmp_path / "plain.tif"
    tifffile.imwrite(path, sample("uint8"), photometric="minisblack", metadata=None)
    bad_input(read, path, contains=["carries no voxel size", "spacing="])


def test_legend_with_unknown_phase(tmp_path):
    path, kw = _raw(tmp_path, label_array())
    bad_input(read, path, legend="0=pore,1=am,2=graphite", names="legend",
              contains=["unknown phase 'graphite'"], **kw)


def test_legend_id_not_present(tmp_path):
    path, kw = _raw(tmp_path, label_array())
    bad_input(read, path, legend={0: "pore", 1: "am", 2: "cbd", 5: "collector"}, contains=["[5]"], **kw)


def test_label_value_not_in_legend(tmp_path):
    path, kw = _raw(tmp_path, label_array(n=4))
    bad_input(read, path, legend="0=pore,1=am,2=cbd", contains=["[3]"], **kw)


# --- netCDF -----------------------------------------------------------------------------------

def test_netcdf_without_zyx_variable(tmp_path):
    netCDF4 = need_netcdf4()
    path = tmp_path / "other.nc"
    with netCDF4.Dataset(path, "w") as ds:
        for d, n in zip(("time", "station", "level"), SHAPE, strict=True):
            ds.createDimension(d, n)
        ds.createVariable("temperature", "f4", ("time", "station", "level"))[:] = sample("float32")
        ds.createVariable("flat", "f4", ("station", "level"))
    bad_input(read, path, spacing=SPACING, contains=["no 3D variable on z, y, x-like dimensions",
                                                      "temperature(time, station, level)"])


def test_netcdf_unknown_variable(tmp_path):
    need_netcdf4()
    path = tmp_path / "v.nc"
    eio.write_volume(path, label_volume())
    bad_input(read, path, variable="truth", contains=["no variable 'truth'", "labels"])


def test_not_a_netcdf(tmp_path):
    need_netcdf4()
    path = tmp_path / "v.nc"
    path.write_bytes(b"CDF\x01" + b"\xff" * 3 + b"not netCDF data")
    bad_input(read, path, contains=["netCDF"])


def test_netcdf_uneven_coordinates(tmp_path):
    netCDF4 = need_netcdf4()
    path = tmp_path / "uneven.nc"
    with netCDF4.Dataset(path, "w") as ds:
        for d, n in zip("zyx", SHAPE, strict=True):
            ds.createDimension(d, n)
            c = ds.createVariable(d, "f8", (d,))
            c.units = "um"
            c[:] = np.arange(n) ** 2.0 if d == "z" else np.arange(n) * 0.0152
        ds.createVariable("image", "u1", ("z", "y", "x"))[:] = sample("uint8")
    bad_input(read, path, contains=["not evenly spaced", "spacing="])
    assert read(path, spacing=SPACING).spacing == SPACING


# --- VTK XML ----------------------------------------------------------------------------------

def test_damaged_vti(tmp_path):
    path = tmp_path / "v.vti"
    eio.write_volume(path, image_volume("float64"))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    bad_input(read, path)


def test_not_a_vti(tmp_path, capfd):
    path = tmp_path / "v.vti"
    path.write_text("<VTKFile type='ImageData'><ImageData WholeExtent='0 1 0 1 0 1'")
    bad_input(read, path)
    assert "vtkXMLParser" not in capfd.readouterr().err  # VTK's own diagnostics are not printed


def test_vti_without_point_data(tmp_path):
    from vtkmodules.vtkCommonDataModel import vtkImageData

    from electrovox.io import vtk_image

    image = vtkImageData()
    image.SetDimensions(3, 4, 5)
    bad_input(vtk_image.vtk_to_volume, image, names="vtkImageData", contains=["no point-data array"])
    vol = Volume(sample("uint8"), SPACING)
    bad_input(vtk_image.vtk_to_volume, vtk_image.volume_to_vtk(vol), "labels", names="vtkImageData",
              contains=["no point-data array 'labels'", "image"])


@pytest.mark.parametrize("suffix", [".vti", ".nc"])
def test_stored_legend_with_unknown_phase(tmp_path, suffix):
    if suffix == ".nc":
        need_netcdf4()
    vol = Volume(label_array(), SPACING, legend={0: "pore", 1: "am", 2: "binder"}, name="labels")
    path = tmp_path / f"l{suffix}"
    eio.write_volume(path, vol)
    bad_input(read, path, contains=["unknown phase 'binder'"])


# --- volumes too large for memory: refused from the header, before the data are read ------------
#
# EVX_MEMORY_LIMIT_GB simulates a small machine (electrovox.memory.available_bytes); the files hold
# 2 MiB of voxels against 0.8 MB usable (80 % of a 1 MB limit).  Each read must fail quickly and
# without reading the data: tracemalloc's peak (numpy's allocations) stays under a quarter of them.

BIG = (16, 256, 256)                       # uint16: 2 MiB of voxels
BIG_BYTES = 2 * 16 * 256 * 256


def _big_image():
    return np.random.default_rng(0).integers(0, 60000, BIG, dtype=np.uint16)


def _refused_fast(func, *args, **kwargs) -> str:
    import re
    import time
    import tracemalloc

    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        err = bad_input(func, *args, **kwargs)
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    msg = str(err)
    assert time.perf_counter() - t0 < 2.0, msg
    assert peak < BIG_BYTES / 4, f"{peak} bytes allocated before refusing: {msg}"
    m = re.search(r"needs ([0-9.e+-]+) GB of memory, ([0-9.e+-]+) GB is available", msg)
    assert m, msg
    assert float(m.group(1)) >= BIG_BYTES / 1e9 * 0.99 and float(m.group(2)) == pytest.approx(0.0008), msg
    assert "16 x 256 x 256 uint16" in msg and "Fix:" in msg and "crop or downsample" in msg
    return msg


@pytest.fixture
def small_machine(monkeypatch):
    monkeypatch.setenv("EVX_MEMORY_LIMIT_GB", "0.001")


def test_too_big_tiff_refused_before_reading(tmp_path, small_machine):
    tifffile = need_tifffile()
    path = tmp_path / "big.tif"
    tifffile.imwrite(path, _big_image(), photometric="minisblack", compression="zlib")   # not memory-mappable
    _refused_fast(read, path, spacing=SPACING)


def test_too_big_slice_folder_refused_after_the_first_slice(tmp_path, small_machine):
    tifffile = need_tifffile()
    folder = tmp_path / "slices"
    folder.mkdir()
    for k, plane in enumerate(_big_image()):
        tifffile.imwrite(folder / f"s{k:03d}.tif", plane, photometric="minisblack")
    _refused_fast(read, folder, spacing=SPACING)


def test_too_big_raw_refused_when_it_must_be_byte_swapped(tmp_path, small_machine):
    import sys
    path = tmp_path / "big.raw"
    other = ">" if sys.byteorder == "little" else "<"
    _big_image().astype(np.dtype("uint16").newbyteorder(other)).tofile(path)
    msg = _refused_fast(read, path, spacing=SPACING, shape=BIG, dtype="uint16", byteorder=other)
    assert "endian" in msg
    # in this machine's byte order the file is memory-mapped, not read: nothing to refuse
    _big_image().tofile(path)
    vol = read(path, spacing=SPACING, shape=BIG, dtype="uint16", byteorder="=")
    assert isinstance(vol.array, np.memmap) and vol.shape == BIG


def test_too_big_netcdf_refused_before_reading(tmp_path, small_machine, monkeypatch):
    need_netcdf4()
    path = tmp_path / "big.nc"
    monkeypatch.delenv("EVX_MEMORY_LIMIT_GB")
    eio.write_volume(path, Volume(_big_image(), SPACING))
    monkeypatch.setenv("EVX_MEMORY_LIMIT_GB", "0.001")
    _refused_fast(read, path)


def test_too_big_vti_refused_before_reading(tmp_path, small_machine, monkeypatch):
    path = tmp_path / "big.vti"
    monkeypatch.delenv("EVX_MEMORY_LIMIT_GB")
    eio.write_volume(path, Volume(_big_image(), SPACING))
    monkeypatch.setenv("EVX_MEMORY_LIMIT_GB", "0.001")
    msg = _refused_fast(read, path)
    assert "point array" in msg


def test_volumes_that_fit_are_read(tmp_path, monkeypatch):
    """The same files on a machine with room for them read as before."""
    tifffile = need_tifffile()
    monkeypatch.setenv("EVX_MEMORY_LIMIT_GB", "0.1")
    path = tmp_path / "big.tif"
    tifffile.imwrite(path, _big_image(), photometric="minisblack", compression="zlib")
    assert np.array_equal(read(path, spacing=SPACING).array, _big_image())
