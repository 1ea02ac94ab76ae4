"""TIFF readers: multi-page stacks, folders of slices, ImageJ and OME voxel sizes, memmap."""

from __future__ import annotations

import numpy as np
import pytest
from _helpers import SHAPE, SPACING, is_mapped, label_array, need_tifffile, sample

import electrovox.io as eio
from electrovox.errors import BadInput
from electrovox.io import tiff
from electrovox.volume import Volume


@pytest.fixture
def tifffile():
    return need_tifffile()


def test_plain_multipage_tiff(tmp_path, tifffile):
    a = sample("uint16")
    path = tmp_path / "stack.tif"
    with tifffile.TiffWriter(path) as w:  # one page at a time, no shape metadata at all
        for plane in a:
            w.write(plane, photometric="minisblack", metadata=None)
    vol = eio.read_volume(path, spacing=SPACING)
    np.testing.assert_array_equal(vol.array, a)
    assert vol.array.dtype == np.uint16 and vol.spacing == SPACING
    assert vol.metadata["spacing_from"] == "given"


def test_compressed_tiff_read_page_by_page(tmp_path, tifffile):
    a = sample("float32")
    path = tmp_path / "z.tif"
    tifffile.imwrite(path, a, compression="zlib", photometric="minisblack")
    seen = []
    vol = eio.read_volume(path, spacing=SPACING, progress=lambda f, m=None: seen.append(f))
    np.testing.assert_array_equal(vol.array, a)
    assert len(seen) >= SHAPE[0] and seen[-1] == 1.0 and seen == sorted(seen)


def test_folder_of_slices_natural_order(tmp_path, tifffile):
    a = sample("uint8", shape=(12, 9, 11))
    folder = tmp_path / "slices"
    folder.mkdir()
    for k in range(12):  # s1.tif ... s12.tif, unpadded: plain sorting would put s10 after s1
        tifffile.imwrite(folder / f"s{k + 1}.tif", a[k], photometric="minisblack")
    (folder / "notes.txt").write_text("not a slice")
    seen = []
    vol = eio.read_volume(folder, spacing=SPACING, progress=lambda f, m=None: seen.append(f))
    np.testing.assert_array_equal(vol.array, a)
    assert vol.metadata["first_slice"] == "s1.tif" and vol.metadata["last_slice"] == "s12.tif"
    assert len(seen) == 12 and seen[-1] == 1.0


def test_folder_slice_voxel_size_from_imagej(tmp_path, tifffile):
    a = sample("uint16", shape=(3, 9, 11))
    folder = tmp_path / "ij"
    folder.mkdir()
    for k in range(3):
        tifffile.imwrite(folder / f"img_{k:03d}.tif", a[k], imagej=True, resolution=(1 / 15.2, 1 / 15.2),
                         metadata={"unit": "nm", "spacing": 100.0})
    vol = eio.read_volume(folder)
    np.testing.assert_array_equal(vol.array, a)
    np.testing.assert_allclose(vol.spacing, SPACING, rtol=1e-9)


def test_imagej_spacing_and_units(tmp_path, tifffile):
    a = sample("uint16")
    for unit, factor in (("nm", 1e-3), ("micron", 1.0), ("\\u00B5m", 1.0), ("mm", 1e3)):
        path = tmp_path / f"ij_{factor}.tif"
        if path.exists():
            path.unlink()
        dz, dxy = 0.1 / factor, 0.0152 / factor  # in `unit`
        tifffile.imwrite(path, a, imagej=True, resolution=(1 / dxy, 1 / dxy),
                         metadata={"axes": "ZYX", "spacing": dz, "unit": unit})
        vol = eio.read_volume(path)
        np.testing.assert_allclose(vol.spacing, SPACING, rtol=1e-6)
        assert vol.metadata["spacing_from"] == "ImageJ"
        np.testing.assert_array_equal(vol.array, a)


def test_imagej_without_unit_has_no_voxel_size(tmp_path, tifffile):
    path = tmp_path / "px.tif"
    tifffile.imwrite(path, sample("uint8"), imagej=True, metadata={"axes": "ZYX"})
    with pytest.raises(BadInput, match="voxel size"):
        eio.read_volume(path)


def test_ome_tiff_physical_size(tmp_path, tifffile):
    a = sample("uint16")
    path = tmp_path / "v.ome.tif"
    tifffile.imwrite(path, a, ome=True, photometric="minisblack",
                     metadata={"axes": "ZYX", "PhysicalSizeX": 15.2, "PhysicalSizeXUnit": "nm",
                               "PhysicalSizeY": 15.2, "PhysicalSizeYUnit": "nm",
                               "PhysicalSizeZ": 0.1, "PhysicalSizeZUnit": "µm"})
    vol = eio.read_volume(path)
    np.testing.assert_allclose(vol.spacing, SPACING, rtol=1e-12)
    assert vol.metadata["spacing_from"] == "OME"
    np.testing.assert_array_equal(vol.array, a)


def test_imagej_hyperstack_singleton_axes(tmp_path, tifffile):
    a = sample("uint16")
    path = tmp_path / "hyper.tif"
    # T=1, Z=7, C=1: a hyperstack that is really one 3D stack
    tifffile.imwrite(path, a[np.newaxis, :, np.newaxis], imagej=True, resolution=(1 / 0.0152, 1 / 0.0152),
                     metadata={"axes": "TZCYX", "spacing": 0.1, "unit": "um"})
    vol = eio.read_volume(path)
    np.testing.assert_array_equal(vol.array, a)
    np.testing.assert_allclose(vol.spacing, SPACING, rtol=1e-9)


def test_imagej_time_series_as_stack(tmp_path, tifffile):
    a = sample("float32")
    path = tmp_path / "frames.tif"
    tifffile.imwrite(path, a, imagej=True, metadata={"axes": "TYX"})
    np.testing.assert_array_equal(eio.read_volume(path, spacing=SPACING).array, a)


def test_rgb_with_equal_channels_is_grey(tmp_path, tifffile, capsys):
    a = label_array()
    path = tmp_path / "rgb.tif"
    tifffile.imwrite(path, np.repeat(a[..., np.newaxis], 3, axis=-1), photometric="rgb")
    vol = eio.read_volume(path, spacing=SPACING, legend="0=pore,1=am,2=cbd")
    np.testing.assert_array_equal(vol.array, a)
    err = capsys.readouterr().err
    assert "equal channels" in err and str(path) in err and len(err.strip().splitlines()) == 1


def test_rgb_slices_with_equal_channels(tmp_path, tifffile, capsys):
    a = label_array(shape=(3, 9, 11))
    folder = tmp_path / "rgb"
    folder.mkdir()
    for k in range(3):
        rgb = np.repeat(a[k][..., np.newaxis], 3, axis=-1)
        tifffile.imwrite(folder / f"c{k}.tif", rgb, photometric="rgb")
    np.testing.assert_array_equal(eio.read_volume(folder, spacing=SPACING).array, a)
    assert len(capsys.readouterr().err.strip().splitlines()) == 1  # one notice for the folder


def test_big_endian_tiff(tmp_path, tifffile):
    a = sample("int32")
    path = tmp_path / "be.tif"
    tifffile.imwrite(path, a, byteorder=">", photometric="minisblack")
    vol = eio.read_volume(path, spacing=SPACING)
    np.testing.assert_array_equal(vol.array, a)
    assert vol.array.dtype == np.dtype("int32") and vol.array.dtype.isnative


def test_large_contiguous_tiff_is_memory_mapped(tmp_path, tifffile, monkeypatch):
    monkeypatch.setattr(tiff, "MEMMAP_MIN_BYTES", 0)  # "large" for this test
    vol0 = Volume(sample("uint16"), SPACING)
    path = tmp_path / "big.tif"
    eio.write_volume(path, vol0)
    vol = eio.read_volume(path)
    assert is_mapped(vol.array)
    np.testing.assert_array_equal(vol.array, vol0.array)
    vol.array[0, 0, 0] = 7  # copy-on-write: the file is not changed
    np.testing.assert_array_equal(eio.read_volume(path).array, vol0.array)


def test_small_tiff_is_read_into_memory(tmp_path, tifffile):
    path = tmp_path / "small.tif"
    eio.write_volume(path, Volume(sample("uint16"), SPACING))
    assert not is_mapped(eio.read_volume(path).array)


def test_imagej_recalibration_wins_over_stale_record(tmp_path, tifffile):
    vol = Volume(sample("uint16"), SPACING)
    path = tmp_path / "ours.tif"
    eio.write_volume(path, vol)
    with tifffile.TiffFile(path) as tif:
        record = tif.imagej_metadata["electrovox"]  # exact spacing (0.1, 0.0152, 0.0152)
    other = tmp_path / "recalibrated.tif"
    tifffile.imwrite(other, vol.array, imagej=True, resolution=(1 / 0.02, 1 / 0.02),
                     metadata={"axes": "ZYX", "spacing": 0.2, "unit": "um", "electrovox": record})
    np.testing.assert_allclose(eio.read_volume(other).spacing, (0.2, 0.02, 0.02), rtol=1e-9)
    assert eio.read_volume(path).spacing == SPACING


def test_folder_threads_report_the_bad_slice_by_order(tmp_path):
    """Slices are decoded by several threads: the error still names the first bad slice in slice
    order (a damaged one), not a neighbour read at the same time, and good stacks keep their order."""
    import tifffile

    from electrovox import BadInput
    from electrovox.io import read_volume

    ref = np.arange(40 * 6 * 7, dtype=np.uint16).reshape(40, 6, 7)
    for i, plane in enumerate(ref):
        tifffile.imwrite(tmp_path / f"s{i + 1}.tif", plane)
    np.testing.assert_array_equal(read_volume(tmp_path, spacing=1.0).array, ref)  # order kept
    bad = tmp_path / "s23.tif"
    bad.write_bytes(bad.read_bytes()[:60])  # truncated: header only
    (tmp_path / "s31.tif").write_bytes(b"not a tiff at all")  # a later bad one must not be named
    with pytest.raises(BadInput) as e:
        read_volume(tmp_path, spacing=1.0)
    assert str(e.value).startswith(str(bad))
