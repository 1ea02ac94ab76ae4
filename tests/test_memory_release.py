"""Freed heap pages go back to the operating system (:func:`electrovox.memory.release_freed_memory`)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from electrovox.memory import _glibc, release_freed_memory


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


@pytest.mark.skipif(not sys.platform.startswith("linux") or _glibc() is None, reason="glibc's malloc only")
def test_freed_arrays_between_live_ones_are_returned():
    """100 arrays of 4 MB, each followed by a small live one, are allocated and freed.  glibc
    keeps part of their pages (the live blocks pin the heap; measured: 40 MB above the starting
    level); after :func:`release_freed_memory` the process is back within 20 MB of where it
    started (the reference: /proc/self/statm, the kernel's count of resident pages)."""
    big = np.ones(30 << 17)            # 30 MB, mapped; freeing it raises glibc's mmap threshold
    del big
    start = _rss_bytes()
    blocks, pins = [], []
    for _ in range(100):
        blocks.append(np.ones(1 << 19))  # 4 MB
        pins.append(np.ones(512))        # 4 kB, stays
    assert _rss_bytes() - start > 350e6
    del blocks
    release_freed_memory()
    assert _rss_bytes() - start < 20e6, (start / 1e6, _rss_bytes() / 1e6)
    assert len(pins) == 100
