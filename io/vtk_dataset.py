"""Any VTK dataset file with a velocity field (``.vti .vtu .vtr .vts .vtp`` XML, legacy ``.vtk``).

Used by ``electrovox flow-tortuosity`` and the EVX Flow Tortuosity filter: reading the file (VTK's
readers, imported lazily: only this file format needs the ``vtk`` package), finding the velocity
array and the cells' measures (volume weights of a mesh).  The tortuosity itself is the numpy
core :func:`electrovox.solvers.transport.flow_tortuosity.flow_tortuosity`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from electrovox.errors import BadInput


def read_vtk_dataset(path):
    """Read any VTK dataset file (XML or legacy) as a vtkDataSet; BadInput names the file and the fix."""
    p = Path(path)
    if not p.is_file():
        raise BadInput(path, "does not exist or is not a file", "give the path of a VTK file with a velocity field")
    try:
        if p.suffix.lower() == ".vtk":
            from vtkmodules.vtkIOLegacy import vtkDataSetReader as Reader
        else:
            from vtkmodules.vtkIOXML import vtkXMLGenericDataObjectReader as Reader
    except ImportError:
        raise BadInput(path, "reading VTK files needs the vtk package, which is not installed",
                       "pip install 'electrovox[vtk]' (or run it in ElectroVox's ParaView runtime)") from None
    reader = Reader()
    reader.SetFileName(str(p))
    reader.Update()
    data = reader.GetOutputDataObject(0)
    if data is None or not data.IsA("vtkDataSet") or data.GetNumberOfPoints() == 0:
        raise BadInput(path, "holds no VTK dataset (or an empty or multiblock one)",
                       "write the velocity as one .vti/.vtu/.vtr/.vts/.vtp or legacy .vtk dataset "
                       "(merge the blocks of an OpenFOAM case first)")
    return data


def velocity_arrays(data, name: str = "", association: int = -1):
    """(velocity (n, 3) float array, weights (n,) or None, array name, is_cell) of a vtkDataSet.

    Cell data of a mesh (anything but vtkImageData) is weighted by cell volume; points and image
    cells are not weighted.
    """
    from vtkmodules.util import numpy_support
    arr, is_cell = find_velocity(data, name, association)
    v = numpy_support.vtk_to_numpy(arr).reshape(-1, 3)
    weights = None
    if is_cell and not data.IsA("vtkImageData"):
        weights, _ = cell_measures(data)
    return v, weights, arr.GetName() or "", is_cell


def find_velocity(data, name: str = "", association: int = -1):
    """(vtkDataArray, is_cell): the velocity array of ``data`` (see the module's setters)."""
    sets = [(data.GetPointData(), False), (data.GetCellData(), True)]
    sets = [s for s in sets if association == -1 or int(s[1]) == association]
    where = {-1: "point or cell data", 0: "point data", 1: "cell data"}[association]
    if name:
        for attrs, is_cell in sets:
            arr = attrs.GetArray(name)
            if arr is not None:
                if arr.GetNumberOfComponents() != 3:
                    raise BadInput("array_name", f"array '{name}' has {arr.GetNumberOfComponents()} components, "
                                   "a velocity has 3", "choose the velocity array (3 components: x, y, z)")
                return arr, is_cell
        raise BadInput("array_name", f"the input has no array '{name}' in its {where} "
                       f"(3-component arrays: {', '.join(_vectors(data)) or 'none'})",
                       "set array_name to the velocity array (empty: the first 3-component array)")
    for attrs, is_cell in sets:
        for k in range(attrs.GetNumberOfArrays()):
            arr = attrs.GetArray(k)
            if arr is not None and arr.GetNumberOfComponents() == 3 and arr.GetName() != "vtkGhostType":
                return arr, is_cell
    arrays = ", ".join(_vectors(data, 0)) or "none"
    raise BadInput("input", f"has no 3-component array in its {where} (arrays: {arrays})",
                   "connect a velocity field (3 components per point or cell), or set association")


def _vectors(data, components: int = 3) -> list[str]:
    """'name (point|cell data)' of the arrays of ``data`` with ``components`` components (0: any)."""
    out = []
    for attrs, kind in ((data.GetPointData(), "point"), (data.GetCellData(), "cell")):
        for k in range(attrs.GetNumberOfArrays()):
            arr = attrs.GetArray(k)
            if arr is not None and (components == 0 or arr.GetNumberOfComponents() == components):
                out.append(f"{arr.GetName()} ({kind} data)")
    return out


def cell_measures(data) -> tuple[np.ndarray, str]:
    """The |measure| of every cell and which measure it is.

    (|measure| of every cell, "Volume" | "Area" | "Length") of the highest dimension present:
    cells of lower dimension get 0.  vtkCellSizeFilter, signs dropped (inverted cells).
    """
    from vtkmodules.util import numpy_support
    from vtkmodules.vtkFiltersVerdict import vtkCellSizeFilter

    f = vtkCellSizeFilter()
    f.SetInputData(data)
    f.ComputeSumOff()
    f.ComputeVertexCountOff()
    f.Update()
    cd = f.GetOutputDataObject(0).GetCellData()
    for key in ("Volume", "Area", "Length"):
        m = np.abs(numpy_support.vtk_to_numpy(cd.GetArray(key)).astype(np.float64))
        if (m > 0).any():
            return m, key
    raise BadInput("input", "has no cell with a volume, area or length", "connect a mesh of 3D cells")


