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
from electrovox.filters.vtk.base import EVXAlgorithm
from electrovox.filters.vtk.common import double_array, report_warning, string_array
from electrovox.io.vtk_dataset import cell_measures, find_velocity
from electrovox.solvers.transport import params

NAME = "EVX Flow Tortuosity"
ROWS = ("flow_tortuosity", "mean_velocity_x", "mean_velocity_y", "mean_velocity_z", "n_points", "axis",
        "axis_estimated", "flow_fraction_along_axis")
ASSOCIATIONS = {-1: "auto", 0: "points", 1: "cells"}
_SUM_KEYS = ("speed", "flux", "weight", "n_points", "n_flowing")


def owned(data, is_cell: bool, whole_extent=None) -> np.ndarray | None:
    """Bool mask of the points (cells) this process owns, or None for all.

    Bool mask of the points (cells) this process owns: ghosts (duplicate, hidden) left out; for
    a piece of a structured grid without ghost arrays, the boundary planes of points it shares
    with the next piece.  None: all of them.
    """
    from electrovox.filters.vtk.phase_legend import owned_points

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
    """The sums added over all MPI processes (no-op in serial runs).

    (sums added over all MPI processes, whether any other process failed, this process's rank);
    no-op in serial runs.
    """
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
    """VtkTable Metric | Value of a flow_tortuosity result (no rows for None)."""
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


class FlowTortuosityFilter(EVXAlgorithm):
    """Flow tortuosity of a velocity field (electrovox.solvers.transport.flow_tortuosity).

    Setters: SetArrayName(name), SetAxis("auto" | "x" | "y" | "z", or -1 | 0 | 1 | 2),
    SetAssociation("auto" | "points" | "cells", or -1 | 0 | 1).  After an update, ``last_result``
    holds the core's dict (plus ``array`` and ``association``) and ``last_error`` the one-line
    error of a failed update (else None).
    """

    label = NAME
    params = params.FLOW_TORTUOSITY
    inputs = ("vtkDataSet",)
    outputs = ("vtkTable",)

    def __init__(self):
        super().__init__()
        self.last_result, self.last_error = None, None

    @property
    def _array(self):
        return self.p["array_name"] or ""

    @property
    def _axis(self):
        a = self.p["axis"]
        return -1 if a == "auto" else ("xyz".index(a) if a in ("x", "y", "z") else a)

    @property
    def _association(self):
        return {"auto": -1, "points": 0, "cells": 1}.get(self.p["association"], self.p["association"])

    def GetArrayName(self):  # noqa: D102
        return self._array

    def GetAxis(self):  # noqa: D102
        return self._axis

    def GetAssociation(self):  # noqa: D102
        return self._association

    def RequestUpdateExtent(self, request, inInfo, outInfo):  # noqa: D102
        return 1  # pieces are fine: the sums are added over MPI processes

    def RequestData(self, request, inInfo, outInfo):  # noqa: D102
        data = vtkDataSet.GetData(inInfo[0], 0)
        info = inInfo[0].GetInformationObject(0)
        whole = None
        if info is not None and info.Has(vtkStreamingDemandDrivenPipeline.WHOLE_EXTENT()):
            whole = tuple(info.Get(vtkStreamingDemandDrivenPipeline.WHOLE_EXTENT()))
        self.last_result, self.last_error = None, None
        try:
            result, rank = self._run(data, whole)
        except Exception as exc:  # bad input: one line; anything else: one line, no traceback
            if isinstance(exc, BadInput):
                exc = self.params.translate(exc, "paraview")
            self.last_error = (exc.one_line() if isinstance(exc, BadInput)
                               else f"internal error {type(exc).__name__}: {exc} (please report it)")
            self.report(exc)
            return 0
        self.last_result = result
        table = result_table(result if rank == 0 else None)
        table.GetFieldData().AddArray(string_array("metrics", [json.dumps(result)]))
        vtkTable.GetData(outInfo, 0).ShallowCopy(table)
        return 1

    def _run(self, data, whole_extent):
        from electrovox.solvers.transport.flow_tortuosity import flow_sums, tortuosity_from_sums

        if self._axis not in (-1, 0, 1, 2):
            raise BadInput("axis", f"{self._axis} is not a direction", "set axis to auto, x, y or z")
        if self._association not in ASSOCIATIONS:
            raise BadInput("association", f"{self._association} is not an association",
                           "set association to auto, points or cells")
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
                           f"volume); the cell data '{name}' is weighted by cell volume: set Association to cells")
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
