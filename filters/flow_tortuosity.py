"""The Flow Tortuosity filter: tau = sum |V| / |sum V_i| of a velocity field, as a vtkTable.

Thin wrapper of :mod:`electrovox.solvers.transport.flow_tortuosity` (numpy core) for velocity
fields from any solver: OpenFOAM (``U``, point and cell data), Avizo, GeoDict, a .vtk / .vti /
.vtu file, or ElectroVox's own solvers.

- Input: any vtkDataSet (vtkImageData, vtkRectilinearGrid, vtkStructuredGrid,
  vtkUnstructuredGrid, vtkPolyData) with a 3-component velocity array, point or cell data.
- Output: vtkTable ``Metric`` (string) | ``Value`` (double), rows ``flow_tortuosity``,
  ``mean_velocity_x``, ``mean_velocity_y``, ``mean_velocity_z`` (the input's units),
  ``n_points`` (points or cells counted), ``axis`` (0 x, 1 y, 2 z), ``axis_estimated`` (1 when
  the axis is the mean-flow direction found), ``flow_fraction_along_axis`` (sum V_i / sum |V|,
  negative for net flow towards -axis); field data ``metrics``: the core's result as JSON, plus
  the array and association used.

Setters: ``SetArrayName(name)`` ("" = the first 3-component array, point data first, then cell
data), ``SetAxis(i)`` (-1 the mean-flow direction, 0 x, 1 y, 2 z), ``SetAssociation(a)`` (-1
point data if the array is there, else cell data; 0 point data; 1 cell data).

Weights: points counted are those with |V| > 0 (solid voxels have zero velocity).  Cell data of
a mesh (anything but vtkImageData) is weighted by cell volume (vtkCellSizeFilter; area or length
for a mesh without 3D cells; lower-dimensional cells, e.g. boundary faces, get no weight), so the
sums are volume integrals.  Image cells are all the same size: no weights.  Point data is not
weighted (each point counts once: the voxel convention of image data); on a non-uniform mesh
prefer cell data.

Distributed data (pvbatch/pvserver under MPI): each process sums its piece (ghost points and
cells left out, shared boundary points of image pieces counted once) and the sums are added over
all processes before the ratio; process 0 outputs the table rows, the others an empty table.
"""

from __future__ import annotations

import json

import numpy as np
from vtkmodules.util import numpy_support
from vtkmodules.util.vtkAlgorithm import VTKPythonAlgorithmBase
from vtkmodules.vtkCommonDataModel import (
    vtkDataSet,
    vtkDataSetAttributes,
    vtkImageData,
    vtkRectilinearGrid,
    vtkStructuredGrid,
    vtkTable,
)
from vtkmodules.vtkCommonExecutionModel import vtkStreamingDemandDrivenPipeline

from electrovox.errors import BadInput
from electrovox.filters.vtk_common import double_array, for_properties, report_error, report_warning, string_array

NAME = "Flow Tortuosity"
ROWS = ("flow_tortuosity", "mean_velocity_x", "mean_velocity_y", "mean_velocity_z", "n_points", "axis",
        "axis_estimated", "flow_fraction_along_axis")
ASSOCIATIONS = {-1: "auto", 0: "points", 1: "cells"}
_SUM_KEYS = ("speed", "flux", "weight", "n_points", "n_flowing")


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
                    raise BadInput("ArrayName", f"array '{name}' has {arr.GetNumberOfComponents()} components, "
                                   "a velocity has 3", "choose the velocity array (3 components: x, y, z)")
                return arr, is_cell
        raise BadInput("ArrayName", f"the input has no array '{name}' in its {where} "
                       f"(3-component arrays: {', '.join(_vectors(data)) or 'none'})",
                       "set ArrayName to the velocity array (empty: the first 3-component array)")
    for attrs, is_cell in sets:
        for k in range(attrs.GetNumberOfArrays()):
            arr = attrs.GetArray(k)
            if arr is not None and arr.GetNumberOfComponents() == 3 and arr.GetName() != "vtkGhostType":
                return arr, is_cell
    arrays = ", ".join(_vectors(data, 0)) or "none"
    raise BadInput("input", f"has no 3-component array in its {where} (arrays: {arrays})",
                   "connect a velocity field (3 components per point or cell), or set Association")


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
    """(|measure| of every cell, "Volume" | "Area" | "Length") of the highest dimension present:
    cells of lower dimension get 0.  vtkCellSizeFilter, signs dropped (inverted cells)."""
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


def owned(data, is_cell: bool, whole_extent=None) -> np.ndarray | None:
    """Bool mask of the points (cells) this process owns: ghosts (duplicate, hidden) left out; for
    a piece of a structured grid without ghost arrays, the boundary planes of points it shares
    with the next piece.  None: all of them."""
    from electrovox.filters.phase_legend import owned_points

    ghost = data.GetCellGhostArray() if is_cell else data.GetPointGhostArray()
    if ghost is not None:
        bits = (vtkDataSetAttributes.DUPLICATECELL | vtkDataSetAttributes.HIDDENCELL if is_cell
                else vtkDataSetAttributes.DUPLICATEPOINT | vtkDataSetAttributes.HIDDENPOINT)
        keep = (numpy_support.vtk_to_numpy(ghost).astype(np.int64) & bits) == 0
        return None if keep.all() else keep
    structured = isinstance(data, (vtkImageData, vtkRectilinearGrid, vtkStructuredGrid))
    if is_cell or not structured or whole_extent is None or tuple(data.GetExtent()) == tuple(whole_extent):
        return None
    n = data.GetNumberOfPoints()
    keep = np.zeros(n, dtype=bool)
    keep[owned_points(np.arange(n), data.GetExtent(), whole_extent).ravel()] = True
    return keep


def global_sums(sums: dict, failed: bool) -> tuple[dict, bool, int]:
    """(sums added over all MPI processes, whether any other process failed, this process's rank);
    no-op in serial runs."""
    try:
        from vtkmodules.vtkParallelCore import vtkCommunicator, vtkMultiProcessController
    except ImportError:
        return sums, False, 0
    controller = vtkMultiProcessController.GetGlobalController()
    if controller is None or controller.GetNumberOfProcesses() < 2:
        return sums, False, 0
    vec = [sums["speed"], *sums["flux"], sums["weight"], sums["n_points"], sums["n_flowing"], float(failed)]
    send = numpy_support.numpy_to_vtk(np.asarray(vec, dtype=np.float64), deep=1)
    recv = send.NewInstance()
    recv.SetNumberOfTuples(send.GetNumberOfTuples())
    controller.AllReduce(send, recv, vtkCommunicator.SUM_OP)
    t = numpy_support.vtk_to_numpy(recv).astype(np.float64)
    total = {"speed": float(t[0]), "flux": [float(x) for x in t[1:4]], "weight": float(t[4]),
             "n_points": int(round(t[5])), "n_flowing": int(round(t[6]))}
    return total, bool(t[7] - float(failed) > 0.5), int(controller.GetLocalProcessId())


def result_table(result: dict | None) -> vtkTable:
    """vtkTable Metric | Value of a flow_tortuosity result (no rows for None)."""
    if result is None:
        names, values = [], []
    else:
        m = result["mean_velocity"]
        values = [result["flow_tortuosity"], m[0], m[1], m[2], result["n_points"], "xyz".index(result["axis"]),
                  float(result["axis_estimated"]), result["flow_fraction_along_axis"]]
        names = list(ROWS)
    table = vtkTable()
    table.AddColumn(string_array("Metric", names))
    table.AddColumn(double_array("Value", values))
    return table


class FlowTortuosityFilter(VTKPythonAlgorithmBase):
    """Flow tortuosity of a velocity field (electrovox.solvers.transport.flow_tortuosity).

    Setters: SetArrayName(name), SetAxis(-1 | 0 | 1 | 2), SetAssociation(-1 | 0 | 1).  After an
    update, ``last_result`` holds the core's dict (plus ``array`` and ``association``) and
    ``last_error`` the one-line error of a failed update (else None).
    """

    def __init__(self):
        super().__init__(nInputPorts=1, nOutputPorts=1, outputType="vtkTable")
        self._array, self._axis, self._association = "", -1, -1
        self.last_result, self.last_error = None, None

    def FillInputPortInformation(self, port, info):
        info.Set(self.INPUT_REQUIRED_DATA_TYPE(), "vtkDataSet")
        return 1

    def SetArrayName(self, name):
        name = "" if name is None else str(name)
        if name != self._array:
            self._array = name
            self.Modified()

    def GetArrayName(self):
        return self._array

    def SetAxis(self, axis):
        axis = "xyz".index(axis.lower()) if isinstance(axis, str) and axis.lower() in ("x", "y", "z") else int(axis)
        if axis != self._axis:
            self._axis = axis
            self.Modified()

    def GetAxis(self):
        return self._axis

    def SetAssociation(self, association):
        association = int(association)
        if association != self._association:
            self._association = association
            self.Modified()

    def GetAssociation(self):
        return self._association

    def RequestData(self, request, inInfo, outInfo):
        data = vtkDataSet.GetData(inInfo[0], 0)
        info = inInfo[0].GetInformationObject(0)
        whole = None
        if info is not None and info.Has(vtkStreamingDemandDrivenPipeline.WHOLE_EXTENT()):
            whole = tuple(info.Get(vtkStreamingDemandDrivenPipeline.WHOLE_EXTENT()))
        self.last_result, self.last_error = None, None
        try:
            result, rank = self._run(data, whole)
        except Exception as exc:  # bad input: one line; anything else: one line, no traceback
            self.last_error = (for_properties(exc.one_line()) if isinstance(exc, BadInput)
                               else f"internal error {type(exc).__name__}: {exc} (please report it)")
            report_error(NAME, self.last_error)
            return 0
        self.last_result = result
        table = result_table(result if rank == 0 else None)
        table.GetFieldData().AddArray(string_array("metrics", [json.dumps(result)]))
        vtkTable.GetData(outInfo, 0).ShallowCopy(table)
        return 1

    def _run(self, data, whole_extent):
        from electrovox.solvers.transport.flow_tortuosity import flow_sums, tortuosity_from_sums

        if self._axis not in (-1, 0, 1, 2):
            raise BadInput("Axis", f"{self._axis} is not a direction", "set Axis to -1 (auto), 0 (x), 1 (y) or 2 (z)")
        if self._association not in ASSOCIATIONS:
            raise BadInput("Association", f"{self._association} is not an association",
                           "set Association to -1 (auto), 0 (point data) or 1 (cell data)")
        if data is None:
            raise BadInput("input", "is not a vtkDataSet", "connect an image, grid or mesh with a velocity array")
        self.UpdateProgress(0.0)
        # Under MPI every process sums its piece; errors are raised only after the collective sum,
        # so that no process is left waiting in it.  An empty piece adds nothing.
        sums, error, array, is_cell = dict(speed=0.0, flux=[0.0] * 3, weight=0.0, n_points=0, n_flowing=0), None, "", 0
        try:
            if data.GetNumberOfPoints() > 0 or data.GetNumberOfCells() > 0:
                sums, array, is_cell = self._local_sums(data, whole_extent, flow_sums)
        except BadInput as exc:
            error = exc
        sums, failed_elsewhere, rank = global_sums(sums, error is not None)
        if error is not None:
            raise error
        if failed_elsewhere:
            raise BadInput("input", "another process failed on its piece (see its message)",
                           "fix the problem reported there")
        axis = None if self._axis == -1 else self._axis
        result = tortuosity_from_sums(sums, axis=axis, source=f"velocity '{array}'" if array else "input")
        result.update(array=array, association="cells" if is_cell else "points")
        self.UpdateProgress(1.0)
        return result, rank

    def _local_sums(self, data, whole_extent, flow_sums):
        arr, is_cell = find_velocity(data, self._array, self._association)
        name = arr.GetName() or ""
        if not is_cell and not isinstance(data, vtkImageData) and data.GetCellData().GetArray(name) is not None:
            report_warning(NAME, f"using the point data '{name}' (each point counts once, not weighted by "
                           f"volume); the cell data '{name}' is weighted by cell volume: set Association to 1")
        v = numpy_support.vtk_to_numpy(arr).reshape(-1, 3)
        self.UpdateProgress(0.2)
        keep = owned(data, is_cell, whole_extent)
        weights = None
        if is_cell and not isinstance(data, vtkImageData):
            weights, _ = cell_measures(data)
            keep = weights > 0 if keep is None else keep & (weights > 0)
        self.UpdateProgress(0.5)
        mask = None
        if keep is not None:  # counted: owned, with a measure, and flowing (NaN counts: reported)
            mask = keep & np.any(v != 0, axis=1)
        try:
            sums = flow_sums(v, mask=mask, weights=weights)
        except BadInput as exc:  # name the array rather than the core's argument
            raise BadInput(f"velocity '{name}'", exc.problem, exc.fix) from None
        return sums, name, is_cell
