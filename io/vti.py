"""VTK XML image data files (``.vti``): read and write, with VTK errors turned into BadInput.

Written files: zlib-compressed (level 1) appended raw binary, 64-bit headers (volumes over 4 GiB), one
point-data array named ``volume.name`` and field-data JSON strings ``legend``, ``provenance``
and ``metadata`` (see :mod:`electrovox.io.vtk_image`).  Spacing and origin are in um.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

from vtkmodules.vtkCommonCore import vtkOutputWindow, vtkStringOutputWindow
from vtkmodules.vtkIOXML import vtkXMLImageDataReader, vtkXMLImageDataWriter

from electrovox.errors import BadInput
from electrovox.io._common import Loaded, one_line
from electrovox.io.vtk_image import add_point_array, loaded_from_vtk, volume_to_vtk
from electrovox.progress import report

__all__ = ["read_vti", "write_vti", "vtk_errors"]


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


def read_vti(path, array_name: str | None = None, progress=None) -> Loaded:
    """Read a ``.vti`` file: point-data array ``array_name`` (default: the active scalars).

    Returns :class:`Loaded` with the array [z, y, x], spacing/origin (z, y, x) um as stored, and
    the stored legend/provenance/metadata.  Raises BadInput for missing, non-VTK or damaged
    files.
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
        reader.SetFileName(str(path))
        reader.Update()
        image = reader.GetOutput()
        if errors.failed(reader) or image is None or image.GetNumberOfPoints() == 0:
            raise BadInput(path, f"cannot be read: {errors.first_message()}",
                           "the file is damaged or truncated; write or copy it again")
    loaded = loaded_from_vtk(image, array_name, source=path)
    if not all(s > 0 for s in loaded.spacing):
        raise BadInput(path, f"its spacing {loaded.spacing[::-1]} (x, y, z) is not positive",
                       "give the voxel size with --voxel-um X Y Z")
    report(progress, 1.0, "read")
    return loaded


def write_vti(path, volume, progress=None, extra=None) -> None:
    """Write ``volume`` to ``path`` (.vti) as it is (call it on a temporary name; see atomic).

    ``extra``: dict name -> ndarray or Volume [z, y, x] of the volume's shape, written as further
    point-data arrays (a Volume's legend as field data ``NAME_legend``).
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
