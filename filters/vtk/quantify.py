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
from vtkmodules.vtkCommonCore import vtkDoubleArray, vtkStringArray
from vtkmodules.vtkCommonDataModel import vtkTable

from electrovox.errors import BadInput
from electrovox.filters.quantify import params
from electrovox.filters.vtk.base import EVXAlgorithm
from electrovox.filters.vtk.common import string_array
from electrovox.filters.vtk.phantoms import label_volume
from electrovox.volume import jsonable


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
    """VtkTable with columns Metric (string) and Value (double) for every scalar metric."""
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
    """VtkTable from {column name: 1D sequence of numbers} (all the same length)."""
    table = vtkTable()
    for name, col in columns.items():
        arr = numpy_support.numpy_to_vtk(np.ascontiguousarray(np.asarray(col, dtype=np.float64)), deep=1)
        arr.SetName(str(name))
        table.AddColumn(arr)
    return table


def table_from_columns(columns: dict) -> vtkTable:
    """VtkTable from a core Table (dict of equal-length columns; text columns as strings)."""
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


class QuantifyFilter(EVXAlgorithm):
    """Every metric of a label volume (:func:`~electrovox.filters.quantify.report.quantify_all`).

    Output 0: metrics table (spreadsheet view), output 1: profiles table (line chart).
    """

    label = "EVX Quantify"
    params = params.QUANTIFY
    outputs = ("vtkTable", "vtkTable")

    def compute(self, inputs):  # noqa: D102
        from electrovox.filters.quantify.report import quantify_all
        vol = label_volume(inputs[0])
        m = quantify_all(vol.array, vol.legend, vol.spacing, progress=self.progress, **self.checked_params())
        prof = columns_table(m["profiles"])
        prof.GetFieldData().AddArray(string_array("metrics", [json.dumps(jsonable(m))]))
        return [metrics_table(m), prof]


class ComponentsFilter(EVXAlgorithm):
    """Connected components of one phase (:mod:`electrovox.filters.quantify.connectivity`).

    Output: the input image plus point array ``component_id`` and field data ``components`` (JSON
    summary).
    """

    label = "EVX Connected Components"
    params = params.COMPONENTS

    def compute(self, inputs):  # noqa: D102
        from vtkmodules.vtkCommonDataModel import vtkImageData

        from electrovox.filters.quantify import connectivity as conn
        from electrovox.io.vtk_image import add_point_array
        p = self.checked_params()
        image = inputs[0]
        vol = label_volume(image)
        if p["phase"] not in vol.legend.values():
            raise BadInput("phase", f"'{p['phase']}' is not in the legend {vol.legend}",
                           "choose one of the legend's phases")
        self.progress(0.1)
        pid = next(i for i, n in vol.legend.items() if n == p["phase"])
        ids, _ = conn.components(vol.array == pid, connectivity=p["connectivity"])
        self.progress(0.5)
        table = conn.component_table(vol.array, vol.legend, p["phase"], vol.spacing, connectivity=p["connectivity"])
        out = vtkImageData()
        out.ShallowCopy(image)
        add_point_array(out, "component_id", ids.astype(np.int32, copy=False))
        summary = {k: v for k, v in table.items() if not isinstance(v, (list, dict, np.ndarray))}
        out.GetFieldData().AddArray(string_array("components", [json.dumps(jsonable(summary))]))
        self.progress(1.0)
        return out


class RepresentativeVolumeFilter(EVXAlgorithm):
    """Representative volume (:func:`~electrovox.filters.quantify.rev.representative_volume`) as a table."""

    label = "EVX Representative Volume"
    params = params.REV
    outputs = ("vtkTable",)

    def compute(self, inputs):  # noqa: D102
        from electrovox.filters.quantify.rev import representative_volume
        vol = label_volume(inputs[0])
        table = representative_volume(vol.array, vol.legend, vol.spacing, progress=self.progress,
                                      **self.checked_params())
        return table_from_columns(table)


class CompareFilter(EVXAlgorithm):
    """Metrics of several label volumes and their change against the first.

    Metrics of several label volumes and their relative change against the first input
    (:func:`~electrovox.filters.quantify.compare.compare` over ``quantify_all``).
    """

    label = "EVX Compare"
    params = params.QUANTIFY
    outputs = ("vtkTable",)
    repeatable_input = True

    def compute(self, inputs):  # noqa: D102
        from electrovox.filters.quantify.compare import compare
        from electrovox.filters.quantify.report import quantify_all
        images = inputs[0]
        n = len(images)
        if n < 2:
            raise BadInput("input", f"{n} volume connected", "connect two or more label volumes")
        results, names = [], []
        for i, image in enumerate(images):
            vol = label_volume(image)
            m = quantify_all(vol.array, vol.legend, vol.spacing, **self.checked_params())
            results.append({k: v for k, v in m.items()
                            if k not in ("profiles", "crack_profile", "timing_s", "connectivity")})
            names.append(f"input{i}")
            self.progress((i + 1) / n)
        return table_from_columns(compare(results, names))
