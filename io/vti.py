"""VTK XML image data files (``.vti``): read and write, with VTK errors turned into BadInput.

Written files: zlib-compressed (level 1) appended raw binary, 64-bit headers (volumes over 4 GiB), one
point-data array named ``volume.name`` and field-data JSON strings ``legend``, ``provenance``
and ``metadata`` (see :mod:`electrovox.io.vtk_image`).  Spacing and origin are in um.
"""

from __future__ import annotations

import contextlib
import math
import re
from pathlib import Path

import numpy as np
from vtkmodules.vtkCommonCore import vtkOutputWindow, vtkStringOutputWindow
from vtkmodules.vtkIOXML import vtkXMLImageDataReader, vtkXMLImageDataWriter

from electrovox.errors import BadInput
from electrovox.io._common import Loaded, one_line, require_fits
from electrovox.io.vtk_image import add_point_array, loaded_from_vtk, volume_to_vtk
from electrovox.progress import report
from electrovox.volume import SPACING_FIX

__all__ = ["read_vti", "write_vti", "vtk_errors", "header_size"]


class _Errors:
    """Collects VTK error text while :func:`vtk_errors` is active."""

    def __init__(self):
        self.events: list[str] = []
        self._window = vtkStringOutputWindow()

    def observe(self, vtk_object) -> None:
        # An ErrorEvent observer on the algorithm itself catches errors that VTK would only
        # print; GetErrorCode stays 0 for XML parse errors, so it cannot be relied on alone.
        vtk_object.AddObserver("ErrorEvent", lambda obj, event: self.events.append(obj.GetClassName()))

    @property
    def text(self) -> str:
        return self._window.GetOutput() or ""

    def failed(self, algorithm=None) -> bool:
        code = algorithm.GetErrorCode() if algorithm is not None else 0
        return bool(self.events) or "ERROR" in self.text or code != 0

    def first_message(self) -> str:
        """The first VTK error message, without VTK's file/line/address decoration."""
        for block in self.text.split("ERROR:"):
            lines = [ln.strip() for ln in block.strip().splitlines() if ln.strip()]
            if len(lines) >= 2:
                msg = re.sub(r"^\w+ \(0x[0-9a-fA-F]+\): ", "", lines[1])
                return one_line(msg)[:300]
        return "VTK reported an error"


@contextlib.contextmanager
def vtk_errors():
    """Capture VTK's error output (no printing) for the duration of the block.

    Swaps in a string output window and silences VTK's logger on stderr, restoring both after,
    so that a bad file gives one BadInput line instead of pages of VTK diagnostics.

    Yields
    ------
    _Errors
        ``observe(vtk_object)``, ``failed(algorithm)``, ``first_message()``, ``text``.
    """
    errors = _Errors()
    previous = vtkOutputWindow.GetInstance()
    vtkOutputWindow.SetInstance(errors._window)
    logger = None
    try:
        from vtkmodules.vtkCommonCore import vtkLogger

        logger = vtkLogger
        level = vtkLogger.GetCurrentVerbosityCutoff()
        vtkLogger.SetStderrVerbosity(vtkLogger.VERBOSITY_OFF)
    except (ImportError, AttributeError):
        logger = None
    try:
        yield errors
    finally:
        vtkOutputWindow.SetInstance(previous)
        if logger is not None:
            logger.SetStderrVerbosity(level)


#: bytes per value of the VTK XML ``DataArray`` types
_VTK_TYPE_BYTES = {"Int8": 1, "UInt8": 1, "Int16": 2, "UInt16": 2, "Int32": 4, "UInt32": 4, "Int64": 8,
                   "UInt64": 8, "Float32": 4, "Float64": 8}
_HEADER_SCAN_BYTES = 16 * 2**20


def _attribute(tag: str, name: str) -> str | None:
    m = re.search(rf'\b{name}\s*=\s*"([^"]*)"', tag)
    return m.group(1) if m else None


def header_size(path) -> dict | None:
    """Points and point-data arrays of a ``.vti`` from its XML header, without reading the data.

    Parameters
    ----------
    path : str or Path
        A VTK XML image data file.

    Returns
    -------
    dict or None
        ``{"shape": (nz, ny, nx), "arrays": [(name, dtype name, components), ...]}`` (dtype
        names as VTK writes them, e.g. ``"UInt8"``); None when the header cannot be parsed
        within its first 16 MiB (the reader then reports the file).
    """
    head = b""
    try:
        with open(path, "rb") as f:
            while len(head) < _HEADER_SCAN_BYTES:
                chunk = f.read(2**16)
                if not chunk:
                    break
                head += chunk
                if b"<AppendedData" in head or b"</PointData>" in head:
                    break
    except OSError:
        return None
    cut = head.find(b"<AppendedData")
    text = (head if cut < 0 else head[:cut]).decode("latin-1")
    m = re.search(r"<ImageData\b[^>]*>", text)
    ext = _attribute(m.group(0), "WholeExtent") if m else None
    try:
        e = [int(v) for v in ext.split()] if ext else []
    except ValueError:
        e = []
    if len(e) != 6:
        return None
    shape = tuple(max(0, e[2 * a + 1] - e[2 * a] + 1) for a in (2, 1, 0))
    pd = re.search(r"<PointData\b[^>]*>(.*?)</PointData>", text, re.S)
    if pd is None:
        return None
    arrays = []
    for tag in re.findall(r"<DataArray\b[^>]*>", pd.group(1)):
        comps = _attribute(tag, "NumberOfComponents")
        arrays.append((_attribute(tag, "Name") or "", _attribute(tag, "type") or "",
                       int(comps) if comps and comps.isdigit() else 1))
    return {"shape": shape, "arrays": arrays}


def _check_memory(path, array_name) -> None:
    """BadInput when VTK's copy of all point arrays plus ours of one array cannot fit."""
    head = header_size(path)
    if head is None or not head["arrays"]:
        return
    n = math.prod(head["shape"])
    sizes = {name: _VTK_TYPE_BYTES.get(t, 8) * c for name, t, c in head["arrays"]}
    # VTK reads every point array; loaded_from_vtk copies the chosen one (the active scalars,
    # usually the first: take the largest single-component one when none is named)
    chosen = sizes.get(array_name) if array_name in sizes else max(sizes.values())
    main = head["arrays"][0]
    dtype = {"Float32": "float32", "Float64": "float64"}.get(main[1], main[1].lower() or "float64")
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        dtype = np.dtype("float64")
    require_fits(n * (sum(sizes.values()) + chosen), path, head["shape"], dtype,
                 f"{len(sizes)} point array(s) read by VTK, one copied")


def read_vti(path, array_name: str | None = None, progress=None) -> Loaded:
    """Read a ``.vti`` file.

    Parameters
    ----------
    path : str or Path
        A VTK XML image data file.
    array_name : str, optional
        The point-data array to read (default: the active scalars, else the first array).
    progress : callable, optional
        ``progress(fraction, message)``.

    Returns
    -------
    Loaded
        The array ``[z, y, x]``, spacing and origin (z, y, x) in um as stored, and the stored
        legend, provenance and metadata.

    Raises
    ------
    BadInput
        For missing, non-VTK or damaged files; and before the data are read when the point arrays
        the header declares cannot fit in the memory available.
    """
    path = Path(path)
    if not path.is_file():
        raise BadInput(path, "does not exist", "check the path")
    with vtk_errors() as errors:
        reader = vtkXMLImageDataReader()
        errors.observe(reader)
        if progress is not None:
            reader.AddObserver("ProgressEvent",
                               lambda obj, ev: report(progress, obj.GetProgress(), "reading"))
        if not reader.CanReadFile(str(path)):
            raise BadInput(path, "is not a VTK XML image data file (.vti)",
                           "give a .vti written by VTK/ParaView (File > Save Data > .vti)")
        _check_memory(path, array_name)
        reader.SetFileName(str(path))
        reader.Update()
        image = reader.GetOutput()
        if errors.failed(reader) or image is None or image.GetNumberOfPoints() == 0:
            raise BadInput(path, f"cannot be read: {errors.first_message()}",
                           "the file is damaged or truncated; write or copy it again")
    loaded = loaded_from_vtk(image, array_name, source=path)
    if not all(s > 0 for s in loaded.spacing):
        raise BadInput(path, f"its spacing {loaded.spacing[::-1]} (x, y, z) is not positive",
                       SPACING_FIX)
    report(progress, 1.0, "read")
    return loaded


def write_vti(path, volume, progress=None, extra=None) -> None:
    """Write a volume to a ``.vti`` as it is.

    Call it on a temporary name; see :mod:`electrovox.io.atomic`.

    Parameters
    ----------
    path : str or Path
        The file to create.
    volume : Volume
        The main point-data array (active scalars) with its legend, provenance and metadata.
    progress : callable, optional
        ``progress(fraction, message)``.
    extra : dict, optional
        Name -> ndarray or Volume [z, y, x] of the volume's shape, written as further point-data
        arrays (a Volume's legend as field data ``NAME_legend``).

    Raises
    ------
    BadInput
        VTK could not write the file (disk space, permissions).
    """
    image = volume_to_vtk(volume)
    for name, arr in (extra or {}).items():
        add_point_array(image, name, arr)
    with vtk_errors() as errors:
        writer = vtkXMLImageDataWriter()
        errors.observe(writer)
        if progress is not None:
            writer.AddObserver("ProgressEvent",
                               lambda obj, ev: report(progress, obj.GetProgress(), "writing"))
        writer.SetFileName(str(path))
        writer.SetInputData(image)
        writer.SetCompressorTypeToZLib()
        if hasattr(writer, "SetCompressionLevel"):
            # level 1: about 5x faster than VTK's default 5 for ~15 % larger files; time series
            # and large volumes are written often, read rarely
            writer.SetCompressionLevel(1)
        writer.SetDataModeToAppended()
        writer.EncodeAppendedDataOff()  # raw binary, not base64: smaller and faster
        writer.SetHeaderTypeToUInt64()  # block sizes over 4 GiB
        ok = writer.Write()
        if ok != 1 or errors.failed(writer):
            raise BadInput(path, f"could not be written: {errors.first_message()}",
                           "check free disk space and write permission in the folder")
    report(progress, 1.0, "written")
