"""ParaView time series: a ``NAME.pvd`` collection of ``NAME_data/NAME_000000.vti`` files.

ParaView opens the ``.pvd`` natively as a time series (one .vti per time step).  Writing is
atomic: the data folder is written under a temporary name and renamed, then the ``.pvd`` is
written (also atomically) last, so a ``.pvd`` never points at missing files.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path

from electrovox.errors import BadInput
from electrovox.io.atomic import atomic_output, check_writable
from electrovox.progress import report

__all__ = ["write_pvd", "read_pvd", "data_folder"]


def data_folder(path) -> Path:
    """The folder holding the .vti files of ``NAME.pvd``: ``NAME_data`` beside it.

    Parameters
    ----------
    path : str or Path
        The ``.pvd`` file.

    Returns
    -------
    Path
        ``NAME_data`` in the same folder.
    """
    path = Path(path)
    return path.with_name(f"{path.stem}_data")


def write_pvd(path, volumes, times, *, force: bool = False, progress=None) -> Path:
    """Write a time series of volumes as ``NAME.pvd`` and ``NAME_data/NAME_000000.vti, ...``.

    Parameters
    ----------
    path : str or Path
        The ``.pvd`` file.
    volumes : iterable of Volume
        Consumed one at a time.
    times : sequence of float
        One time per volume (``timestep`` attribute; any unit, e.g. seconds), finite and strictly
        increasing.
    force : bool
        Replace existing outputs.
    progress : callable, optional
        ``progress(fraction, message)``.

    Returns
    -------
    Path
        The ``.pvd`` path.

    Raises
    ------
    BadInput
        A suffix other than ``.pvd``, or existing outputs without ``force``.
    ValueError
        Times not finite and increasing, or not one per volume.
    """
    from electrovox.io.vti import write_vti

    path = Path(path)
    if path.suffix.lower() != ".pvd":
        raise BadInput(path, f"a time series needs the suffix .pvd, not '{path.suffix}'",
                       "name the output NAME.pvd")
    times = [float(t) for t in times]
    increasing = all(b > a for a, b in zip(times, times[1:], strict=False))
    if not all(math.isfinite(t) for t in times) or not increasing:
        raise ValueError(f"times must be finite and strictly increasing, got {times}")
    folder = data_folder(path)
    name = path.stem
    check_writable(path, force)
    check_writable(folder, force)
    entries = []
    with atomic_output(folder, force) as tmp_folder:
        tmp_folder.mkdir()
        count = 0
        for i, volume in enumerate(volumes):
            if i >= len(times):
                raise ValueError(f"more volumes than times ({len(times)})")
            fname = f"{name}_{i:06d}.vti"
            write_vti(tmp_folder / fname, volume)
            entries.append((times[i], f"{folder.name}/{fname}"))
            count += 1
            report(progress, count / len(times), f"step {count}/{len(times)}")
        if count != len(times):
            raise ValueError(f"{len(times)} times but {count} volumes")
    root = ET.Element("VTKFile", type="Collection", version="0.1", byte_order="LittleEndian")
    coll = ET.SubElement(root, "Collection")
    for t, rel in entries:
        # repr: the shortest text that reads back as the same float
        ET.SubElement(coll, "DataSet", timestep=repr(t), group="", part="0", file=rel)
    ET.indent(root)
    with atomic_output(path, force) as tmp:
        ET.ElementTree(root).write(tmp, encoding="utf-8", xml_declaration=True)
    return path


def read_pvd(path) -> list[tuple[float, Path]]:
    """The data sets of a ``.pvd`` collection, in time order.

    Parameters
    ----------
    path : str or Path
        The ``.pvd`` file.

    Returns
    -------
    list of (float, Path)
        (time, absolute file path) of each data set.

    Raises
    ------
    BadInput
        A missing or invalid ``.pvd`` file.
    """
    path = Path(path)
    if not path.is_file():
        raise BadInput(path, "does not exist", "check the path")
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise BadInput(path, f"is not a valid .pvd file ({exc})", "write the time series again") from None
    out = []
    for ds in root.iter("DataSet"):
        try:
            t = float(ds.get("timestep", "nan"))
        except ValueError:
            t = math.nan
        out.append((t, (path.parent / ds.get("file", "")).resolve()))
    return sorted(out, key=lambda item: item[0])
