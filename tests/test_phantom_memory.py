"""generate_electrode refuses, before allocating anything, a volume that cannot fit in memory."""

from __future__ import annotations

import re
import time
import tracemalloc

import pytest

from electrovox.errors import BadInput
from electrovox.solvers.phantoms.electrode import PEAK_BYTES_PER_VOXEL, generate_electrode, peak_bytes


def _refused(limit_gb, monkeypatch, **kwargs) -> BadInput:
    monkeypatch.setenv("EVX_MEMORY_LIMIT_GB", str(limit_gb))
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        with pytest.raises(BadInput) as info:
            generate_electrode(**kwargs)
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    # quick, and nothing of the volume's size was allocated (today's failure modes: an internal
    # MemoryError after allocating, or a run that swaps until it is killed)
    assert time.perf_counter() - t0 < 2.0
    assert peak < 10e6, peak
    return info.value


@pytest.mark.parametrize("size_um, voxel_um, count", [
    ((100000, 100000, 100000), 0.01, "1e+21 voxels"),     # 10^21 voxels: far beyond int64 bytes
    ((400, 400, 400), 0.1, "64 G voxels"),                 # 64 G voxels
])
def test_huge_box_refused_before_allocation(monkeypatch, size_um, voxel_um, count):
    err = _refused(8, monkeypatch, size_um=size_um, spacing=(voxel_um,) * 3)
    msg = str(err)
    assert err.source == "size_um" and count in msg
    m = re.search(r"needs ([0-9.e+-]+) GB of memory, ([0-9.e+-]+) GB is available", msg)
    assert m and float(m.group(1)) > 1e3 and float(m.group(2)) == pytest.approx(6.4), msg
    assert "Fix: give a larger spacing (voxel size) or a smaller size_um" in msg
    assert "--" not in msg                                  # core keywords, not CLI flags


def test_shape_given_directly_names_shape(monkeypatch):
    err = _refused(0.5, monkeypatch, shape=(2000, 2000, 2000), spacing=(0.5, 0.5, 0.5))
    assert err.source == "shape" and "8 G voxels" in str(err)


def test_estimate_counts_voxels_without_overflow():
    # Python ints all the way: 1e7^3 voxels times the per-voxel bytes is exact, not wrapped
    n = 10**7
    assert peak_bytes((n, n, n), (0.01,) * 3) >= PEAK_BYTES_PER_VOXEL * n ** 3


def test_a_volume_that_fits_is_generated(monkeypatch):
    # 48^3 at 0.5 um with d50 6 um: about 0.3 GB estimated (mostly the fixed part), 1 GB allowed
    monkeypatch.setenv("EVX_MEMORY_LIMIT_GB", "1")
    out = generate_electrode((48, 48, 48), (0.5, 0.5, 0.5), d50_um=6.0, cracks=0.0)
    assert out["labels"].shape == (48, 48, 48)
