"""VTK readers for ElectroVox volumes: TIFF stacks and ElectroVox netCDF files -> vtkImageData.

Both are ``VTKPythonAlgorithmBase`` sources built on :func:`electrovox.io.read_volume` and
:func:`electrovox.io.vtk_image.volume_to_vtk`, so they give exactly what the CLI and the Python API
read: point data named like the volume (``labels`` uint8 or ``image``), spacing and origin in
micrometres (origin = centre of the first voxel), field data ``legend`` / ``provenance`` /
``metadata`` (JSON strings).  They work in plain VTK and PyVista pipelines; the ParaView plugin
(``filters/pvplugin/ElectroVox.py``) only names them and their properties.

Example (plain VTK)::

    from electrovox.filters.vtk.readers import TiffStackReader
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
from vtkmodules.vtkCommonDataModel import vtkDataObject, vtkImageData
from vtkmodules.vtkCommonExecutionModel import vtkAlgorithm, vtkStreamingDemandDrivenPipeline

from electrovox.errors import BadInput
from electrovox.filters.vtk.base import EVXAlgorithm
from electrovox.io import params
from electrovox.params import Param, ParamSet
from electrovox.phases import parse_legend

THICKNESS_AXES = ("z", "y", "x")


_FILE = Param("file_name", "str", "", "The file to read.", cli="", pv="")


class VolumeReaderBase(EVXAlgorithm):
    """Common part of the ElectroVox readers: file name, caching, information and data requests.

    The volume is read once per change of the file or of the reader's options (the whole volume:
    ``read_volume`` has no header-only mode) and served from a cache afterwards.
    """

    label = "EVX reader"
    params = ParamSet("reader", [_FILE])
    inputs = ()

    def __init__(self):
        super().__init__()
        self._cache_key = None
        self._cache = None
        self._error = None

    @property
    def _filename(self):
        return self.p["file_name"] or ""

    def SetFileName(self, name):  # noqa: D102
        self.set_param("file_name", "" if name is None else str(name))

    def GetFileName(self):  # noqa: D102
        return self._filename

    def read_options(self) -> dict:
        """Keyword arguments for electrovox.io.read_volume (subclasses add theirs)."""
        return {}

    # --- reading --------------------------------------------------------------------------
    def read_image(self) -> vtkImageData:
        """The file as vtkImageData (cached); raises BadInput for bad input."""
        if not self._filename:
            raise BadInput(self.label, "no file name is set", "set FileName to the file to read")
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
            volume = read_volume(self._filename, progress=self.progress, **options)
            self._cache = volume_to_vtk(volume)
        except Exception as exc:
            self._error = exc
            raise
        return self._cache

    def _read_or_report(self):
        try:
            return self.read_image()
        except MemoryError:
            self.report(BadInput(self._filename, "not enough memory to read the volume",
                                 "crop or downsample the stack, or use a machine with more memory"))
        except Exception as exc:  # bad input or an internal error: one line, not a traceback per render
            self.report(exc)
        return None

    def RequestInformation(self, request, inInfo, outInfo):  # noqa: D102
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

    def RequestData(self, request, inInfo, outInfo):  # noqa: D102
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
    """Copy the sub-extent ``extent`` of ``image`` into ``output``.

    ``output`` = the sub-extent ``extent`` (x0, x1, y0, y1, z0, z1) of ``image`` (whose extent
    starts at 0): point arrays copied, field data shared, geometry unchanged (VTK extents).
    """
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

    Properties (:data:`electrovox.io.params.READ`): ``SetVoxelSize(x, y, z)``: the voxel size along
    the FILE's x, y, z in um (all 0 = the voxel size stored in the file, e.g. ImageJ/OME metadata;
    required when the file stores none); ``SetLegend(text)``: ``""`` = the legend stored in the
    file, else greyscale; ``"default"`` = labels, with the stored legend else ElectroVox's default
    legend (a notice says so); ``"0=pore,1=am,2=cbd"`` = labels with this legend (checked against
    the values); ``SetThicknessAxis("z"|"y"|"x")``: the file's axis along the electrode thickness;
    the volume is rotated so that it becomes z (electrovox.io.read_volume's cyclic permutation).
    """

    label = "EVX TIFF Stack Reader"
    params = ParamSet("tiff_reader", [_FILE]) + params.READ.only("voxel_um", "legend", "thickness_axis")

    def GetVoxelSize(self):  # noqa: D102
        return self.p["voxel_um"] or (0.0, 0.0, 0.0)

    def GetLegend(self):  # noqa: D102
        return self.p["legend"] or ""

    def GetThicknessAxis(self):  # noqa: D102
        return self.p["thickness_axis"]

    def read_options(self) -> dict:
        """Keyword arguments of :func:`electrovox.io.read_volume` from the properties."""
        axis = str(self.p["thickness_axis"]).strip().lower()
        if axis not in THICKNESS_AXES:
            raise BadInput("thickness_axis", f"'{axis}' is not an axis", "choose z, y or x")
        options = {"thickness_axis": axis}
        x, y, z = self.p["voxel_um"] or (0.0, 0.0, 0.0)
        if any(v != 0 for v in (x, y, z)):
            if not all(v > 0 for v in (x, y, z)):
                raise BadInput("voxel_um", f"needs three positive values X Y Z in um, got {x} {y} {z}",
                               "give all three (e.g. 0.0152 0.0152 0.1), or 0 0 0 to use the file's")
            options["spacing"] = (z, y, x)  # electrovox order: (z, y, x)
        legend = (self.p["legend"] or "").strip()
        if legend.lower() == "default":
            options["labels"] = True
        elif legend:
            options["legend"] = parse_legend(legend, source="legend")
            options["labels"] = True
        return options


class NetCDFReader(VolumeReaderBase):
    """An ElectroVox netCDF4 file (``.nc``: CF-style, dimensions z, y, x in um) as vtkImageData.

    ``SetVariable(name)`` picks the data variable (``""`` = the file's default: ``labels`` when
    present, else ``image``).
    """

    label = "EVX netCDF Reader"
    params = ParamSet("netcdf_reader", [_FILE]) + params.READ.only("variable")

    def GetVariable(self):  # noqa: D102
        return self.p["variable"] or ""

    def read_options(self) -> dict:
        """Keyword arguments of :func:`electrovox.io.read_volume` from the properties."""
        v = (self.p["variable"] or "").strip()
        return {"variable": v} if v else {}
