"""Atomic output: write under a temporary name in the destination folder, then rename.

A reader (ParaView, a script, another process) never sees a half-written file under the final
name: the data go to a hidden temporary path beside the output, and ``os.replace`` swaps it in
only after the writer finished.  An existing output is kept unless ``force`` is given.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

from electrovox.errors import BadInput

__all__ = ["atomic_output", "check_writable", "temporary_path"]


def check_writable(path, force: bool = False) -> Path:
    """Check that ``path`` may be written.

    Parameters
    ----------
    path : str or Path
        The output.
    force : bool
        An existing output may be replaced.

    Returns
    -------
    Path
        ``path`` as a Path.

    Raises
    ------
    BadInput
        ``path`` exists and ``force`` is false; it is not a regular file or folder (a device
        such as /dev/null, a pipe, a socket: renaming over it would replace the device node
        itself); or its folder does not exist.
    """
    path = Path(path)
    if path.exists() and not (path.is_file() or path.is_dir()):
        raise BadInput(path, "is not a regular file (a device, pipe or socket)",
                       "write to a file name in an existing folder")
    if (path.exists() or path.is_symlink()) and not force:
        raise BadInput(path, "exists", "give force=True to overwrite it, or choose another output name")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise BadInput(path, f"the output folder {parent} does not exist",
                       "create the folder first, or choose another output path")
    return path


def temporary_path(path) -> Path:
    """A free hidden name beside ``path`` that keeps its suffix: ``dir/.NAME.tmp-PID.nc``.

    The suffix is kept because writers (VTK, netCDF, tifffile) choose their format by it.

    Parameters
    ----------
    path : str or Path
        The final output.

    Returns
    -------
    Path
        A name in the same folder that does not exist yet.
    """
    path = Path(path)
    stem, suffix = (path.stem, path.suffix) if path.suffix else (path.name, "")
    base = f".{stem}.tmp-{os.getpid()}"
    candidate = path.with_name(base + suffix)
    n = 1
    # another writer in this process (a thread) may hold the plain name: count up
    while candidate.exists() or candidate.is_symlink():
        candidate = path.with_name(f"{base}-{n}{suffix}")
        n += 1
    return candidate


def _remove(p: Path) -> None:
    """Delete a file or a folder tree; missing is fine."""
    if p.is_dir() and not p.is_symlink():
        shutil.rmtree(p, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


@contextlib.contextmanager
def atomic_output(path, force: bool = False):
    """Context manager yielding a temporary path to write instead of ``path``.

    The body writes a file (or creates a folder) at the yielded path.  On normal exit it is
    renamed to ``path`` (replacing an existing one when ``force``); on any exception, including
    KeyboardInterrupt, the temporary file or folder is deleted and the exception propagates,
    so nothing half-written is ever left under the final name.

    Parameters
    ----------
    path : str or Path
        The final output.
    force : bool
        Replace an existing output.

    Yields
    ------
    Path
        The temporary path (see :func:`temporary_path`).

    Raises
    ------
    BadInput
        From :func:`check_writable`, before anything is written.

    Examples
    --------
    >>> with atomic_output("out.nc", force=True) as tmp:   # doctest: +SKIP
    ...     write_something(tmp)
    """
    final = check_writable(path, force)
    tmp = temporary_path(final)
    try:
        yield tmp
        if not (tmp.exists() or tmp.is_symlink()):
            raise RuntimeError(f"the writer produced nothing at {tmp} for {final}")
        if tmp.is_dir() and final.exists():
            # os.replace cannot put a folder over a non-empty folder: move the old one aside
            # first and delete it only after the new one is in place.
            trash = temporary_path(final.with_name(final.name + ".old"))
            os.replace(final, trash)
            try:
                os.replace(tmp, final)
            except BaseException:
                os.replace(trash, final)
                raise
            _remove(trash)
        else:
            os.replace(tmp, final)
    except BaseException:
        _remove(tmp)
        raise


def write_csv(path, header, rows) -> None:
    """Write a CSV table atomically (replacing an existing file): a header line, then one line per row.

    Parameters
    ----------
    path : str or Path
        The output file.
    header : sequence of str
        Column names.
    rows : iterable of sequences
        The rows' values, written with ``str`` (give ``repr(float(v))`` for full precision).
    """
    with atomic_output(path, force=True) as tmp:
        with open(tmp, "w") as f:
            f.write(",".join(header) + "\n")
            for row in rows:
                f.write(",".join(str(v) for v in row) + "\n")
