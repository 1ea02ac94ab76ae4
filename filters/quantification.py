"""VTK algorithms for quantification: metrics and profiles as vtkTable, connected components as an image.

Thin wrappers of :mod:`electrovox.filters.quantify` (numpy cores):

- :class:`QuantifyFilter` — input: a label vtkImageData (array ``labels`` with field data
  ``legend``); output 0: vtkTable ``Metric | Value`` of every scalar metric (spreadsheet view),
  output 1: vtkTable of the phase-fraction profiles along the thickness (``position_um`` + one
  column per phase: ParaView's line chart);
- :class:`ComponentsFilter` — input: a label image; output: the same image plus point array
  ``component_id`` (int32, 0 outside the phase; colour it categorically) for one phase, and a
  field-data summary (count, largest share, percolating share);
- :class:`RepresentativeVolumeFilter` — input: a label image; output: vtkTable of the metrics on
  growing (or random) sub-volumes, mean/std/min/max per size (``edge_um`` is the chart's x axis);
- :class:`CompareFilter` — inputs: two or more label images (the first is the reference); output:
  vtkTable ``metric`` | one column per input | ``inputN.rel_change``.
"""

from __future__ import annotations

import json

import numpy as np
from vtkmodules.util import numpy_support
from vtkmodules.util.vtkAlgorithm import VTKPythonAlgorithmBase
from vtkmodules.vtkCommonCore import vtkDoubleArray, vtkStringArray
from vtkmodules.vtkCommonDataModel import vtkImageData, vtkTable

from electrovox.errors import BadInput
from electrovox.filters.vtk_common import progress_callback, report_error, string_array
from electrovox.volume import jsonable


def _labels_volume(inInfo):
    from electrovox.io.vtk_image import vtk_to_volume
    image = vtkImageData.GetData(inInfo[0], 0)
    if image is None or image.GetPointData().GetArray("labels") is None:
        raise BadInput("input", "has no point array 'labels'",
                       "connect a label volume (a file read with a legend, or an ElectroVox phantom)")
    vol = vtk_to_volume(image, "labels")
    return (vol if vol.legend is not None else vol.as_labels(None, source="input")), image


def _report(name: str, exc: Exception) -> None:
    """One error line in ParaView's output (bad input: file, problem, fix), no traceback."""
    report_error(name, exc.one_line() if isinstance(exc, BadInput)
                 else f"internal error {type(exc).__name__}: {exc} (please report it)")


def flatten(metrics: dict, prefix: str = "") -> dict[str, float]:
    """Nested metric dicts -> {"a.b": number} (lists and non-numbers left out)."""
    out = {}
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, name + "."))
        elif isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
            out[name] = float(value)
    return out


def metrics_table(metrics: dict) -> vtkTable:
    """vtkTable with columns Metric (string) and Value (double) for every scalar metric."""
    flat = flatten({k: v for k, v in metrics.items() if k not in ("profiles", "timing_s")})
    names, values = vtkStringArray(), vtkDoubleArray()
    names.SetName("Metric")
    values.SetName("Value")
    for k, v in flat.items():
        names.InsertNextValue(k)
        values.InsertNextValue(v)
    table = vtkTable()
    table.AddColumn(names)
    table.AddColumn(values)
    return table


def columns_table(columns: dict) -> vtkTable:
    """vtkTable from {column name: 1D sequence of numbers} (all the same length)."""
    table = vtkTable()
    for name, col in columns.items():
        arr = numpy_support.numpy_to_vtk(np.ascontiguousarray(np.asarray(col, dtype=np.float64)), deep=1)
        arr.SetName(str(name))
        table.AddColumn(arr)
    return table


class _LabelsInput(VTKPythonAlgorithmBase):
    """Base of the quantification filters: one vtkImageData input with a label array."""

    def FillInputPortInformation(self, port, info):
        info.Set(self.INPUT_REQUIRED_DATA_TYPE(), "vtkImageData")
        return 1


class QuantifyFilter(_LabelsInput):
    """Every metric of a label volume (electrovox.filters.quantify.report.quantify_all).

    Setters: SetConnectivity(6 | 18 | 26).  Output 0: metrics table, output 1: profiles table.
    """

    def __init__(self):
        super().__init__(nInputPorts=1, nOutputPorts=2, outputType="vtkTable")
        self._connectivity = 6
        self._key = None
        self._result = None

    def SetConnectivity(self, n):
        if int(n) != self._connectivity:
            self._connectivity = int(n)
            self.Modified()

    def RequestData(self, request, inInfo, outInfo):
        from electrovox.filters.quantify.report import quantify_all
        try:
            vol, image = _labels_volume(inInfo)
            key = (image.GetMTime(), self._connectivity)
            if key != self._key or self._result is None:
                self._result, self._key = None, key
                self._result = quantify_all(vol.array, vol.legend, vol.spacing, connectivity=self._connectivity,
                                            progress=progress_callback(self))
        except Exception as exc:
            _report("Quantify", exc)
            return 0
        m = self._result
        vtkTable.GetData(outInfo, 0).ShallowCopy(metrics_table(m))
        prof = vtkTable.GetData(outInfo, 1)
        prof.ShallowCopy(columns_table(m["profiles"]))
        prof.GetFieldData().AddArray(string_array("metrics", [json.dumps(jsonable(m))]))
        return 1


class ComponentsFilter(_LabelsInput):
    """Connected components of one phase (electrovox.filters.quantify.connectivity).

    Setters: SetPhase(name), SetConnectivity(6 | 18 | 26).  Output: the input image plus point
    array ``component_id`` and field data ``components`` (JSON summary).
    """

    def __init__(self):
        super().__init__(nInputPorts=1, nOutputPorts=1, outputType="vtkImageData")
        self._phase, self._connectivity = "cbd", 6

    def SetPhase(self, name):
        if str(name) != self._phase:
            self._phase = str(name)
            self.Modified()

    def SetConnectivity(self, n):
        if int(n) != self._connectivity:
            self._connectivity = int(n)
            self.Modified()

    def RequestData(self, request, inInfo, outInfo):
        from electrovox.filters.quantify import connectivity as conn
        from electrovox.io.vtk_image import add_point_array
        try:
            vol, image = _labels_volume(inInfo)
            if self._phase not in vol.legend.values():
                raise BadInput("Phase", f"'{self._phase}' is not in the legend {vol.legend}",
                               "choose one of the legend's phases")
            self.UpdateProgress(0.1)
            pid = next(i for i, n in vol.legend.items() if n == self._phase)
            ids, _ = conn.components(vol.array == pid, connectivity=self._connectivity)
            self.UpdateProgress(0.5)
            table = conn.component_table(vol.array, vol.legend, self._phase, vol.spacing,
                                         connectivity=self._connectivity)
        except Exception as exc:
            _report("Connected Components", exc)
            return 0
        out = vtkImageData.GetData(outInfo, 0)
        out.ShallowCopy(image)
        add_point_array(out, "component_id", ids.astype(np.int32, copy=False))
        summary = {k: v for k, v in table.items() if not isinstance(v, (list, dict, np.ndarray))}
        out.GetFieldData().AddArray(string_array("components", [json.dumps(jsonable(summary))]))
        self.UpdateProgress(1.0)
        return 1

    def RequestInformation(self, request, inInfo, outInfo):
        return 1




def _table_from_columns(columns: dict) -> vtkTable:
    """vtkTable from a core Table (dict of equal-length columns; text columns as strings)."""
    table = vtkTable()
    for name, col in columns.items():
        a = np.asarray(col)
        if a.dtype.kind in "USO":
            arr = vtkStringArray()
            for v in a.tolist():
                arr.InsertNextValue(str(v))
        else:
            arr = numpy_support.numpy_to_vtk(np.ascontiguousarray(a.astype(np.float64)), deep=1)
        arr.SetName(str(name))
        table.AddColumn(arr)
    return table


class RepresentativeVolumeFilter(_LabelsInput):
    """Representative volume (electrovox.filters.quantify.rev.representative_volume) as a table.

    Setters: SetMode("growing" | "random"), SetSamples(n), SetSeed(n).
    """

    def __init__(self):
        super().__init__(nInputPorts=1, nOutputPorts=1, outputType="vtkTable")
        self.p = {"mode": "growing", "samples": 8, "seed": 0}

    def _set(self, key, value):
        if self.p.get(key) != value:
            self.p[key] = value
            self.Modified()

    def SetMode(self, m):
        self._set("mode", {0: "growing", 1: "random"}.get(m, str(m)))

    def SetSamples(self, n):
        self._set("samples", int(n))

    def SetSeed(self, n):
        self._set("seed", int(n))

    def RequestData(self, request, inInfo, outInfo):
        from electrovox.filters.quantify.rev import representative_volume
        try:
            vol, _ = _labels_volume(inInfo)
            table = representative_volume(vol.array, vol.legend, vol.spacing, mode=self.p["mode"],
                                          n_random=self.p["samples"], seed=self.p["seed"],
                                          progress=progress_callback(self))
        except Exception as exc:
            _report("Representative Volume", exc)
            return 0
        vtkTable.GetData(outInfo, 0).ShallowCopy(_table_from_columns(table))
        return 1


class CompareFilter(VTKPythonAlgorithmBase):
    """Metrics of several label volumes and their relative change against the first input
    (electrovox.filters.quantify.compare.compare over quantify_all)."""

    def __init__(self):
        super().__init__(nInputPorts=1, nOutputPorts=1, outputType="vtkTable")

    def FillInputPortInformation(self, port, info):
        info.Set(self.INPUT_REQUIRED_DATA_TYPE(), "vtkImageData")
        info.Set(self.INPUT_IS_REPEATABLE(), 1)
        return 1

    def RequestData(self, request, inInfo, outInfo):
        from electrovox.filters.quantify.compare import compare
        from electrovox.filters.quantify.report import quantify_all
        from electrovox.io.vtk_image import vtk_to_volume
        try:
            n = inInfo[0].GetNumberOfInformationObjects()
            if n < 2:
                raise BadInput("input", f"{n} volume connected", "connect two or more label volumes")
            results, names = [], []
            for i in range(n):
                image = vtkImageData.GetData(inInfo[0], i)
                vol = vtk_to_volume(image, "labels")
                vol = vol if vol.legend is not None else vol.as_labels(None, source=f"input {i}")
                m = quantify_all(vol.array, vol.legend, vol.spacing)
                results.append({k: v for k, v in m.items()
                                if k not in ("profiles", "crack_profile", "timing_s", "connectivity")})
                names.append(f"input{i}")
                self.UpdateProgress((i + 1) / n)
            table = compare(results, names)
        except Exception as exc:
            _report("Compare", exc)
            return 0
        vtkTable.GetData(outInfo, 0).ShallowCopy(_table_from_columns(table))
        return 1
