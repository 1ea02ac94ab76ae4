"""Atomic writes and ParaView time series (.pvd)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest
from _helpers import SPACING, assert_same_volume, image_volume, label_volume, sample

import electrovox.io as eio
from electrovox.errors import BadInput
from electrovox.io import atomic_output, vti
from electrovox.volume import Volume


def test_existing_output_is_kept_without_force(tmp_path):
    path = tmp_path / "out.vti"
    path.write_bytes(b"precious")
    with pytest.raises(BadInput) as info:
        eio.write_volume(path, image_volume())
    assert str(path) in str(info.value) and "force=True" in str(info.value)
    assert path.read_bytes() == b"precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.vti"]


def test_force_replaces_existing_output(tmp_path):
    path = tmp_path / "out.vti"
    path.write_bytes(b"old")
    vol = image_volume("float32")
    eio.write_volume(path, vol, force=True)
    assert_same_volume(eio.read_volume(path), vol)


@pytest.mark.parametrize("force", [False, True])
def test_failing_writer_leaves_nothing(tmp_path, monkeypatch, force):
    def half_writer(path, volume, progress=None, extra=None):
        with open(path, "wb") as fh:
            fh.write(b"half a file")
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(vti, "write_vti", half_writer)
    path = tmp_path / "out.vti"
    if force:
        path.write_bytes(b"previous result")
    with pytest.raises(OSError, match="simulated"):
        eio.write_volume(path, image_volume(), force=force)
    if force:
        assert path.read_bytes() == b"previous result"  # the old output is untouched
        assert sorted(p.name for p in tmp_path.iterdir()) == ["out.vti"]
    else:
        assert list(tmp_path.iterdir()) == []  # no final file, no temporary file


def test_failing_tiff_writer_midway(tmp_path, monkeypatch):
    pytest.importorskip("tifffile")
    vol = image_volume("uint16")
    calls = []

    def progress(fraction, message=None):
        calls.append(fraction)
        if len(calls) == 3:
            raise KeyboardInterrupt  # the user stops the command while pages are written

    path = tmp_path / "stack.tif"
    with pytest.raises(KeyboardInterrupt):
        eio.write_volume(path, vol, progress=progress)
    assert list(tmp_path.iterdir()) == []


def test_atomic_output_temp_name_keeps_suffix(tmp_path):
    path = tmp_path / "result.nc"
    with atomic_output(path) as tmp:
        assert tmp.parent == tmp_path and tmp.suffix == ".nc" and tmp.name.startswith(".result.tmp-")
        assert not path.exists()
        tmp.write_text("done")
    assert path.read_text() == "done" and not tmp.exists()


def test_atomic_output_missing_folder(tmp_path):
    with pytest.raises(BadInput, match="does not exist"):
        with atomic_output(tmp_path / "nope" / "x.nc"):
            pass


def test_atomic_output_folder(tmp_path):
    target = tmp_path / "run_data"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with atomic_output(target, force=True) as tmp:
        tmp.mkdir()
        (tmp / "new.txt").write_text("new")
    assert sorted(p.name for p in target.iterdir()) == ["new.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run_data"]


def test_write_pvd_time_series(tmp_path):
    vols = [Volume(sample("float32", seed=s), SPACING, name="concentration") for s in range(3)]
    times = [0.0, 0.5, 1.25]
    path = tmp_path / "run.pvd"
    assert eio.write_pvd(path, vols, times) == path
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.pvd", "run_data"]
    assert sorted(p.name for p in (tmp_path / "run_data").iterdir()) == [
        "run_000000.vti", "run_000001.vti", "run_000002.vti"]
    root = ET.parse(path).getroot()
    assert root.get("type") == "Collection"
    sets = root.findall("./Collection/DataSet")
    assert [float(d.get("timestep")) for d in sets] == times
    assert [d.get("file") for d in sets] == [f"run_data/run_{i:06d}.vti" for i in range(3)]
    for (t, f), vol, t0 in zip(eio.read_pvd(path), vols, times, strict=True):
        assert t == t0
        assert_same_volume(eio.read_volume(f), vol)


def test_write_pvd_existing_and_failure(tmp_path):
    path = tmp_path / "run.pvd"
    eio.write_pvd(path, [label_volume()], [0.0])
    with pytest.raises(BadInput, match="force=True"):
        eio.write_pvd(path, [label_volume()], [1.0])

    def failing():
        yield label_volume()
        raise RuntimeError("solver diverged (simulated)")

    other = tmp_path / "other.pvd"
    with pytest.raises(RuntimeError, match="simulated"):
        eio.write_pvd(other, failing(), [0.0, 1.0])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.pvd", "run_data"]
    # force replaces the whole series
    eio.write_pvd(path, [image_volume(), image_volume()], [0.0, 2.0], force=True)
    assert [t for t, _ in eio.read_pvd(path)] == [0.0, 2.0]
    assert len(list((tmp_path / "run_data").iterdir())) == 2
    np.testing.assert_array_equal(eio.read_volume(eio.read_pvd(path)[1][1]).array, image_volume().array)


def test_output_that_is_a_pipe_is_not_replaced(tmp_path):
    import os
    import stat

    fifo = tmp_path / "pipe.vti"
    os.mkfifo(fifo)  # like /dev/null: renaming over it would replace the special file itself
    with pytest.raises(BadInput, match="not a regular file"):
        eio.write_volume(fifo, image_volume(), force=True)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe.vti"]
