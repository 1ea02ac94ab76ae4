"""Refusing work that cannot fit in memory, before any allocation.

A core that is about to allocate arrays whose size follows from its inputs (a phantom's box and
voxel size, a file's header) calls :func:`require` first.  When the estimate exceeds the memory
the machine has available, :class:`~electrovox.errors.BadInput` is raised with both numbers and a
fix, so the CLI exits with status 2 and ParaView shows one line instead of an internal
``MemoryError`` after minutes of swapping.
"""

from __future__ import annotations

import functools
import os

#: fraction of the available memory a single job may plan to use (the rest is left to the OS,
#: ParaView's own copies of the output and the interpreter)
USABLE_FRACTION = 0.8


def available_bytes() -> int:
    """Memory available to a new allocation, in bytes.

    Linux's ``MemAvailable`` (page cache that can be dropped included) when readable, else the
    physical memory; the environment variable ``EVX_MEMORY_LIMIT_GB`` overrides both (used by
    tests and by users who share a machine).

    Returns
    -------
    int
        Bytes.

    Examples
    --------
    >>> available_bytes() > 0
    True
    """
    env = os.environ.get("EVX_MEMORY_LIMIT_GB")
    if env:
        return int(float(env) * 1e9)
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 1 << 62  # unknown: do not refuse


def _gb(n: float) -> str:
    return f"{n / 1e9:.3g} GB"


def require(nbytes: float, source: str, what: str, fix: str) -> None:
    """Raise :class:`BadInput` when ``nbytes`` will not fit in the available memory.

    Parameters
    ----------
    nbytes : float
        Peak bytes the job will hold (arrays and working copies), estimated from its inputs.
    source : str
        The file or keyword the size comes from (the first word of the message).
    what : str
        What would be allocated, e.g. ``"a 400 x 400 x 400 um box at 0.1 um voxels (64 G voxels)"``.
    fix : str
        How to make it fit, e.g. ``"use a larger voxel_um or a smaller size_um"``.

    Raises
    ------
    BadInput
        With the memory needed and the memory available.

    Examples
    --------
    >>> require(1e3, "size_um", "a tiny box", "none needed")
    >>> require(1e30, "size_um", "a huge box", "use a larger voxel_um")
    Traceback (most recent call last):
    ...
    electrovox.errors.BadInput: size_um: a huge box needs 1e+21 GB of memory, ...
    """
    from electrovox.errors import BadInput

    avail = available_bytes() * USABLE_FRACTION
    if nbytes > avail:
        raise BadInput(source, f"{what} needs {_gb(nbytes)} of memory, {_gb(avail)} is available "
                               f"({int(USABLE_FRACTION * 100)} % of this machine's free memory)", fix)


@functools.lru_cache(maxsize=1)
def _glibc():
    """The C library when it is glibc (``malloc_trim`` present), else None."""
    import ctypes
    import ctypes.util
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


def release_freed_memory() -> None:
    """Hand the C heap's free pages back to the operating system (glibc's ``malloc_trim``).

    glibc serves arrays below its (adaptive, up to 32 MB) mmap threshold from the heap and keeps
    the pages of those freed: a solver that allocates and frees vectors of 1-30 MB every step
    (the discharge at 0.33 um) held about as much free heap as live arrays.  Called between the
    steps of long solvers, so that the freed temporaries of one step do not add to the next
    step's peak.  (Mapping every allocation above 1 MB instead, glibc's ``M_MMAP_THRESHOLD``,
    returned the memory as well but cost a third more run time in page faults.)  A no-op
    without glibc.
    """
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
