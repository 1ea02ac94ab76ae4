"""Lossless conversion between :class:`Volume` and vtkImageData (and PyVista's ImageData).

Mapping (architecture.md): array ``[z, y, x]`` (C order) is VTK's point order for dimensions
``(nx, ny, nz)``; spacing and origin go to VTK in ``(x, y, z)`` order, in micrometres; the
voxel values are a point-data array named ``volume.name`` with the volume's exact dtype; the
legend, provenance and metadata (array ``evx_metadata``) travel as field-data string arrays holding JSON.

Works with ParaView's VTK (9.2+) and the ``vtk`` wheel; only ``vtkmodules`` is imported.
PyVista is imported lazily (pip runtime only).
"""

from __future__ import annotations

import numpy as np
from vtkmodules.util import numpy_support
from vtkmodules.vtkCommonCore import vtkStringArray
from vtkmodules.vtkCommonDataModel import vtkImageData

from electrovox.errors import BadInput
from electrovox.io._common import Loaded, json_or_empty, legend_from_json, legend_to_json, native, to_json
from electrovox.volume import Volume

__all__ = ["volume_to_vtk", "vtk_to_volume", "volume_to_pyvista", "pyvista_to_volume", "add_point_array",
           "loaded_from_vtk", "FIELD_NAMES"]

#: field-data string arrays written beside the voxel values (JSON text each)
# "evx_metadata", not "metadata": VTK's legacy serialisation (ParaView's transport between MPI
# ranks and pvserver) takes a field array named "metadata" for its METADATA keyword and drops it.
FIELD_NAMES = ("legend", "provenance", "evx_metadata")


def _string_array(name: str, text: str) -> vtkStringArray:
    arr = vtkStringArray()
    arr.SetName(name)
    arr.InsertNextValue(text)
    return arr


def volume_to_vtk(volume: Volume) -> vtkImageData:
    """A new vtkImageData holding a deep copy of ``volume``.

    Parameters
    ----------
    volume : Volume
        The volume.

    Returns
    -------
    vtkImageData
        Dimensions ``(nx, ny, nz)``, spacing/origin ``volume.spacing_xyz`` / ``origin_xyz`` (um),
        one point-data array named ``volume.name`` (active scalars) with the array's dtype, and
        field-data string arrays ``legend`` (only for label volumes), ``provenance`` and
        ``evx_metadata``.
    """
    a = volume.array
    if a.dtype == np.bool_:
        a = a.astype(np.uint8)  # VTK has no numpy-compatible bit array
    # C-order [z, y, x] flattened is VTK's x-fastest point order; a copy fixes views/memmaps
    flat = np.ascontiguousarray(native(a)).reshape(-1)
    image = vtkImageData()
    nz, ny, nx = volume.shape
    image.SetDimensions(nx, ny, nz)
    image.SetSpacing(*volume.spacing_xyz)
    image.SetOrigin(*volume.origin_xyz)
    varr = numpy_support.numpy_to_vtk(flat, deep=1)
    varr.SetName(volume.name or "image")
    image.GetPointData().AddArray(varr)
    image.GetPointData().SetActiveScalars(varr.GetName())
    fd = image.GetFieldData()
    if volume.legend is not None:
        fd.AddArray(_string_array("legend", legend_to_json(volume.legend)))
    fd.AddArray(_string_array("provenance", to_json(volume.provenance)))
    fd.AddArray(_string_array("evx_metadata", to_json(volume.metadata)))
    return image


def add_point_array(image, name: str, values) -> None:
    """Add an array as a point-data array of ``image``.

    A Volume's legend goes to field data ``NAME_legend`` (JSON), so it is not confused with the
    main array's ``legend``.

    Parameters
    ----------
    image : vtkImageData
        The image (modified in place).
    name : str
        The array's name.
    values : ndarray or Volume, shape (nz, ny, nx)
        The values, matching the image's dimensions.

    Raises
    ------
    ValueError
        ``values`` of another shape.
    """
    legend = getattr(values, "legend", None)
    a = values.array if hasattr(values, "array") else np.asarray(values)
    nx, ny, nz = image.GetDimensions()
    if a.shape != (nz, ny, nx):
        raise ValueError(f"array '{name}' has shape {a.shape}, the image (nz, ny, nx) {(nz, ny, nx)}")
    if a.dtype == np.bool_:
        a = a.astype(np.uint8)
    varr = numpy_support.numpy_to_vtk(np.ascontiguousarray(native(a)).reshape(-1), deep=1)
    varr.SetName(name)
    image.GetPointData().AddArray(varr)
    if legend is not None:
        image.GetFieldData().AddArray(_string_array(f"{name}_legend", legend_to_json(legend)))


def _field_text(image, name: str):
    fd = image.GetFieldData()
    if fd is None:
        return None
    arr = fd.GetAbstractArray(name)
    if arr is None or arr.GetNumberOfValues() < 1:
        return None
    if isinstance(arr, vtkStringArray):
        return str(arr.GetValue(0))
    # a char array (some writers store text that way)
    if hasattr(arr, "GetNumberOfComponents"):
        try:
            return bytes(numpy_support.vtk_to_numpy(arr).astype(np.uint8)).decode("utf-8").rstrip("\0")
        except Exception:  # an unreadable extra field counts as absent
            return None
    return None


def loaded_from_vtk(image, array_name: str | None = None, source="vtkImageData") -> Loaded:
    """The contents of a vtkImageData as :class:`~electrovox.io._common.Loaded`.

    Parameters
    ----------
    image : vtkImageData
        The image.
    array_name : str, optional
        A point-data array; else the active scalars; else the first array.
    source : str or Path
        Named in errors (the file it came from).

    Returns
    -------
    Loaded
        The array [z, y, x] (a copy), spacing and origin (z, y, x) in um, legend, metadata and
        provenance from the field data.

    Raises
    ------
    BadInput
        No usable single-component array, a size mismatch, or a legend that is not JSON.
    """
    pd = image.GetPointData()
    names = [pd.GetArrayName(i) for i in range(pd.GetNumberOfArrays())]
    if array_name is not None:
        if array_name not in names:
            raise BadInput(source, f"has no point-data array '{array_name}' (arrays: {names or 'none'})",
                           "choose one of the arrays listed")
        varr = pd.GetArray(array_name)
    else:
        varr = pd.GetScalars()
        if varr is None and names:
            varr = pd.GetArray(0)
        if varr is None:
            raise BadInput(source, "has no point-data array (no voxel values)",
                           "write the image with its voxel values as point data")
    name = varr.GetName() or "image"
    ncomp = varr.GetNumberOfComponents()
    if ncomp != 1:
        raise BadInput(source, f"array '{name}' has {ncomp} components; a volume needs one value per voxel",
                       "extract one component first (ParaView: Calculator or Extract Component)")
    ext = image.GetExtent()
    nx, ny, nz = ext[1] - ext[0] + 1, ext[3] - ext[2] + 1, ext[5] - ext[4] + 1
    values = numpy_support.vtk_to_numpy(varr)
    if values.size != nx * ny * nz:
        raise BadInput(source, f"array '{name}' has {values.size} values for {nx}x{ny}x{nz} points",
                       "check the file: it is inconsistent")
    # copy: the numpy view points into VTK memory that the caller may free
    array = np.array(values.reshape(nz, ny, nx), copy=True)
    sx, sy, sz = image.GetSpacing()
    ox, oy, oz = image.GetOrigin()
    # the first voxel sits at origin + extent_min * spacing (extents need not start at 0)
    origin = (oz + ext[4] * sz, oy + ext[2] * sy, ox + ext[0] * sx)
    # the plain `legend` belongs to the main (active) array; others carry NAME_legend
    scalars = pd.GetScalars()
    main = scalars is None or scalars.GetName() == name
    try:
        legend = legend_from_json(_field_text(image, f"{name}_legend"))
        if legend is None and main:
            legend = legend_from_json(_field_text(image, "legend"))
    except ValueError as exc:
        raise BadInput(source, f"its stored legend is not valid JSON ({exc})",
                       "give the legend with legend='id=name,...'") from None
    return Loaded(array=array, spacing=(sz, sy, sx), origin=origin, legend=legend, name=name,
                  metadata=json_or_empty(_field_text(image, "evx_metadata")
                                         or _field_text(image, "metadata"), dict),
                  provenance=json_or_empty(_field_text(image, "provenance"), list),
                  spacing_source="vtk")


def _volume_from_loaded(ld: Loaded, source) -> Volume:
    try:
        return Volume(ld.array, ld.spacing, ld.origin, legend=ld.legend, name=ld.name,
                      metadata=ld.metadata, provenance=ld.provenance)
    except ValueError as exc:
        raise BadInput(source, str(exc), "check the image's spacing and dimensions") from None


def vtk_to_volume(image, array_name: str | None = None) -> Volume:
    """Inverse of :func:`volume_to_vtk`: a Volume (copy of the values) from a vtkImageData.

    Parameters
    ----------
    image : vtkImageData
        The image.
    array_name : str, optional
        A point-data array (default: the active scalars, else the first array).

    Returns
    -------
    Volume
        The legend parsed back with integer ids; provenance and metadata from their JSON.

    Raises
    ------
    BadInput
        See :func:`loaded_from_vtk`.
    """
    return _volume_from_loaded(loaded_from_vtk(image, array_name), "vtkImageData")


def volume_to_pyvista(volume: Volume):
    """A ``pyvista.ImageData`` (deep copy) of ``volume``; needs pyvista (pip runtime).

    Parameters
    ----------
    volume : Volume
        The volume.

    Returns
    -------
    pyvista.ImageData
        See :func:`volume_to_vtk`.
    """
    import pyvista

    return pyvista.wrap(volume_to_vtk(volume))


def pyvista_to_volume(grid, array_name: str | None = None) -> Volume:
    """A Volume from a ``pyvista.ImageData`` (or any vtkImageData).

    Parameters
    ----------
    grid : pyvista.ImageData or vtkImageData
        The image.
    array_name : str, optional
        A point-data array (see :func:`vtk_to_volume`).

    Returns
    -------
    Volume
        See :func:`vtk_to_volume`.
    """
    return vtk_to_volume(grid, array_name)
