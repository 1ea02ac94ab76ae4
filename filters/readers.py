"""VTK readers for ElectroVox volumes: TIFF stacks and ElectroVox netCDF files -> vtkImageData.

Both are ``VTKPythonAlgorithmBase`` sources built on :func:`electrovox.io.read_volume` and
:func:`electrovox.io.vtk_image.volume_to_vtk`, so they give exactly what the CLI and the Python API
read: point data named like the volume (``labels`` uint8 or ``image``), spacing and origin in
micrometres (origin = centre of the first voxel), field data ``legend`` / ``provenance`` /
``metadata`` (JSON strings).  They work in plain VTK and PyVista pipelines; the ParaView plugin
(``filters/pvplugin/ElectroVox.py``) only names them and their properties.

Example (plain VTK)::

    from electrovox.filters.readers import TiffStackReader
    r = TiffStackReader()
    r.SetFileName("stack.tif")
    r.SetVoxelSize(0.0152, 0.0152, 0.1)    # the file's X Y Z in um; 0 0 0 = take it from the file
    r.SetLegend("0=pore,1=am,2=cbd")       # "" = as stored / greyscale, "default" = labels
    r.Update()
    image = r.GetOutput()

Bad input (a missing file, no voxel size, a legend that does not fit) is reported through VTK's
error channel (ParaView's Output Messages window, stderr in pvbatch) with the one-line
:class:`~electrovox.errors.BadInput` message, and the request fails (returns 0) without a traceback.
"""

from __future__ import annotations

import os

import numpy as np
from vtkmodules.util import numpy_support
from vtkmodules.util.vtkAlgorithm import VTKPythonAlgorithmBase
from vtkmodules.vtkCommonDataModel import vtkDataObject, vtkImageData
from vtkmodules.vtkCommonExecutionModel import vtkAlgorithm, vtkStreamingDemandDrivenPipeline

from electrovox.errors import BadInput
from electrovox.filters.vtk_common import for_properties, progress_callback, report_error
from electrovox.phases import parse_legend

THICKNESS_AXES = ("z", "y", "x")


class VolumeReaderBase(VTKPythonAlgorithmBase):
    """Common part of the ElectroVox readers: file name, caching, information and data requests.

    The volume is read once per change of the file or of the reader's options (the whole volume:
    ``read_volume`` has no header-only mode) and served from a cache afterwards.
    """

    #: shown in error messages
    reader_name = "reader"

    def __init__(self):
        super().__init__(nInputPorts=0, nOutputPorts=1, outputType="vtkImageData")
        self._filename = ""
        self._cache_key = None
        self._cache = None
        self._error = None

    # --- properties -----------------------------------------------------------------------
    def SetFileName(self, name):
        name = "" if name is None else str(name)
        if name != self._filename:
            self._filename = name
            self.Modified()

    def GetFileName(self):
        return self._filename

    def read_options(self) -> dict:
        """Keyword arguments for electrovox.io.read_volume (subclasses add theirs)."""
        return {}

    # --- reading --------------------------------------------------------------------------
    def read_image(self) -> vtkImageData:
        """The file as vtkImageData (cached); raises BadInput for bad input."""
        if not self._filename:
            raise BadInput(self.reader_name, "no file name is set", "set FileName to the file to read")
        options = self.read_options()
        try:
            st = os.stat(self._filename)
            stamp = (st.st_mtime_ns, st.st_size)
        except OSError:
            stamp = None  # read_volume names the problem
        key = (os.path.abspath(self._filename), stamp, repr(sorted(options.items())))
        if key == self._cache_key:
            if self._cache is None:
                raise self._error  # the same file and options failed already: no second read
            return self._cache
        from electrovox.io import read_volume
        from electrovox.io.vtk_image import volume_to_vtk

        self._cache, self._cache_key, self._error = None, key, None
        try:
            volume = read_volume(self._filename, progress=progress_callback(self), **options)
            self._cache = volume_to_vtk(volume)
        except Exception as exc:
            self._error = exc
            raise
        return self._cache

    def _read_or_report(self):
        try:
            return self.read_image()
        except BadInput as exc:
            report_error(self.reader_name, for_properties(exc.one_line()))
        except MemoryError:
            report_error(self.reader_name, f"{self._filename}: not enough memory to read the volume")
        except Exception as exc:  # an internal error: one line, not a traceback per render
            report_error(self.reader_name, f"{self._filename}: internal error "
                         f"{type(exc).__name__}: {exc} (please report it)")
        return None

    def RequestInformation(self, request, inInfo, outInfo):
        # Bad input is reported by RequestData, once, when the data is asked for: ParaView asks
        # for information as soon as FileName is set, before the user could set VoxelSize etc.
        info = outInfo.GetInformationObject(0)
        try:
            image = self.read_image()
        except Exception:
            info.Set(vtkStreamingDemandDrivenPipeline.WHOLE_EXTENT(), 0, -1, 0, -1, 0, -1)
            return 1
        nx, ny, nz = image.GetDimensions()
        info.Set(vtkStreamingDemandDrivenPipeline.WHOLE_EXTENT(), 0, nx - 1, 0, ny - 1, 0, nz - 1)
        info.Set(vtkDataObject.SPACING(), *image.GetSpacing())
        info.Set(vtkDataObject.ORIGIN(), *image.GetOrigin())
        scalars = image.GetPointData().GetScalars()
        if scalars is not None:
            vtkDataObject.SetPointDataActiveScalarInfo(info, scalars.GetDataType(),
                                                        scalars.GetNumberOfComponents())
        # distributed runs (pvbatch/pvserver under MPI) ask each process for a piece of the extent
        info.Set(vtkAlgorithm.CAN_PRODUCE_SUB_EXTENT(), 1)
        return 1

    def RequestData(self, request, inInfo, outInfo):
        image = self._read_or_report()
        if image is None:
            return 0
        info = outInfo.GetInformationObject(0)
        output = vtkImageData.GetData(outInfo, 0)
        extent = tuple(image.GetExtent())
        if info.Has(vtkStreamingDemandDrivenPipeline.UPDATE_EXTENT()):
            extent = tuple(info.Get(vtkStreamingDemandDrivenPipeline.UPDATE_EXTENT()))
        if extent == tuple(image.GetExtent()):
            output.ShallowCopy(image)
        else:
            crop_image(image, extent, output)
        return 1


def crop_image(image: vtkImageData, extent, output: vtkImageData) -> None:
    """``output`` = the sub-extent ``extent`` (x0, x1, y0, y1, z0, z1) of ``image`` (whose extent
    starts at 0): point arrays copied, field data shared, geometry unchanged (VTK extents)."""
    x0, x1, y0, y1, z0, z1 = (int(e) for e in extent)
    output.Initialize()
    output.SetSpacing(image.GetSpacing())
    output.SetOrigin(image.GetOrigin())
    output.GetFieldData().ShallowCopy(image.GetFieldData())
    if x1 < x0 or y1 < y0 or z1 < z0:  # an empty piece
        output.SetExtent(0, -1, 0, -1, 0, -1)
        return
    output.SetExtent(x0, x1, y0, y1, z0, z1)
    nx, ny, nz = image.GetDimensions()
    pd_in, pd_out = image.GetPointData(), output.GetPointData()
    for i in range(pd_in.GetNumberOfArrays()):
        arr = pd_in.GetArray(i)
        if arr is None:  # not a numeric array
            continue
        values = numpy_support.vtk_to_numpy(arr).reshape(nz, ny, nx, arr.GetNumberOfComponents())
        part = np.ascontiguousarray(values[z0:z1 + 1, y0:y1 + 1, x0:x1 + 1]).reshape(
            -1, arr.GetNumberOfComponents())
        if arr.GetNumberOfComponents() == 1:
            part = part.reshape(-1)
        out = numpy_support.numpy_to_vtk(part, deep=1, array_type=arr.GetDataType())
        out.SetName(arr.GetName())
        pd_out.AddArray(out)
    scalars = pd_in.GetScalars()
    if scalars is not None:
        pd_out.SetActiveScalars(scalars.GetName())


class TiffStackReader(VolumeReaderBase):
    """A (multi-page) TIFF stack as vtkImageData.

    Properties: ``SetVoxelSize(x, y, z)``: the voxel size along the FILE's x, y, z in um (all 0 =
    the voxel size stored in the file, e.g. ImageJ/OME metadata; required when the file stores
    none); ``SetLegend(text)``: ``""`` = the legend stored in the file, else greyscale;
    ``"default"`` = labels, with the stored legend else ElectroVox's default legend (a notice says
    so); ``"0=pore,1=am,2=cbd"`` = labels with this legend (checked against the values);
    ``SetThicknessAxis("z"|"y"|"x")``: the file's axis along the electrode thickness; the volume
    is rotated so that it becomes z (electrovox.io.read_volume's cyclic permutation).
    """

    reader_name = "TIFF stack reader"

    def __init__(self):
        super().__init__()
        self._voxel_xyz = (0.0, 0.0, 0.0)
        self._legend = ""
        self._axis = "z"

    def SetVoxelSize(self, x, y, z):
        xyz = (float(x), float(y), float(z))
        if xyz != self._voxel_xyz:
            self._voxel_xyz = xyz
            self.Modified()

    def GetVoxelSize(self):
        return self._voxel_xyz

    def SetLegend(self, text):
        text = "" if text is None else str(text).strip()
        if text != self._legend:
            self._legend = text
            self.Modified()

    def GetLegend(self):
        return self._legend

    def SetThicknessAxis(self, axis):
        if isinstance(axis, int) and not isinstance(axis, bool):
            axis = THICKNESS_AXES[axis] if 0 <= axis < 3 else str(axis)
        axis = str(axis).strip().lower()
        if axis != self._axis:
            self._axis = axis
            self.Modified()

    def GetThicknessAxis(self):
        return self._axis

    def read_options(self) -> dict:
        options = {"thickness_axis": self._axis}
        if self._axis not in THICKNESS_AXES:
            raise BadInput("ThicknessAxis", f"'{self._axis}' is not an axis", "choose z, y or x")
        x, y, z = self._voxel_xyz
        if any(v != 0 for v in (x, y, z)):
            if not all(v > 0 for v in (x, y, z)):
                raise BadInput("VoxelSize", f"needs three positive values X Y Z in um, got {x} {y} {z}",
                               "give all three (e.g. 0.0152 0.0152 0.1), or 0 0 0 to use the file's")
            options["spacing"] = (z, y, x)  # electrovox order: (z, y, x)
        if self._legend.lower() == "default":
            options["labels"] = True
        elif self._legend:
            options["legend"] = parse_legend(self._legend, source="Legend")
            options["labels"] = True
        return options


class NetCDFReader(VolumeReaderBase):
    """An ElectroVox netCDF4 file (``.nc``: CF-style, dimensions z, y, x in um) as vtkImageData.

    ``SetVariable(name)`` picks the data variable (``""`` = the file's default: ``labels`` when
    present, else ``image``).
    """

    reader_name = "netCDF reader"

    def __init__(self):
        super().__init__()
        self._variable = ""

    def SetVariable(self, name):
        name = "" if name is None else str(name).strip()
        if name != self._variable:
            self._variable = name
            self.Modified()

    def GetVariable(self):
        return self._variable

    def read_options(self) -> dict:
        return {"variable": self._variable} if self._variable else {}
