"""VTK algorithm for the tortuosity factor (thin wrapper of :mod:`electrovox.solvers.transport.diffusion`).

:class:`TortuosityFilter` — input: a label vtkImageData (array ``labels`` with field data
``legend``); output 0: the same grid with point arrays ``potential`` (float32, NaN where not
solved) and ``flux`` (3 components x, y, z) of the solve along ``Axis``; output 1: vtkTable, one row
per solved axis: ``axis``, ``porosity``, ``D_eff``, ``tau``, ``macmullin``, ``percolating_fraction``,
``isolated_fraction``, ``iterations`` (spreadsheet view).  Parameters come from
:mod:`electrovox.solvers.transport.params`.
"""

from __future__ import annotations

import numpy as np
from vtkmodules.util import numpy_support
from vtkmodules.vtkCommonCore import vtkDoubleArray
from vtkmodules.vtkCommonDataModel import vtkImageData, vtkTable

from electrovox.filters.vtk.base import EVXAlgorithm
from electrovox.filters.vtk.common import string_array
from electrovox.filters.vtk.phantoms import label_volume
from electrovox.phases import parse_conductivities
from electrovox.solvers.transport import params

COLUMNS = ("porosity", "D_eff", "tau", "macmullin", "percolating_fraction", "isolated_fraction", "iterations")


class TortuosityFilter(EVXAlgorithm):
    """Tortuosity factor of the chosen phases (or the electronic network) along one or all axes."""

    label = "EVX Tortuosity"
    params = params.TORTUOSITY
    outputs = ("vtkImageData", "vtkTable")

    def compute(self, inputs):  # noqa: D102
        from electrovox.solvers.transport.diffusion import tortuosity
        p = self.checked_params()
        image = inputs[0]
        vol = label_volume(image)
        kw = {"flux_tol": p["flux_tol"]}
        if p["conductivities"].strip():
            kw["conductivities"] = parse_conductivities(p["conductivities"])
        else:
            kw["phases"] = p["phases"]
            if p["cbd_factor"] is not None and p["cbd_factor"] >= 0:
                kw["cbd_factor"] = p["cbd_factor"]
        main = p["axis"]
        axes = ["x", "y", "z"] if p["all_axes"] else [main]
        rows, fields = {}, None
        for i, ax in enumerate(axes):
            def sub(f, m=None, i=i):
                self.progress((i + f) / len(axes), m)
            r = tortuosity(vol.array, vol.legend, vol.spacing, ax, fields=(ax == main), progress=sub, **kw)
            rows[ax] = r
            if ax == main:
                fields = (r.pop("potential"), r.pop("flux"))
        pot, flux = fields
        out = vtkImageData()
        out.ShallowCopy(image)
        for name, arr, comps in (("potential", pot.reshape(-1), 1), ("flux", flux.reshape(-1, 3), 3)):
            va = numpy_support.numpy_to_vtk(np.ascontiguousarray(arr, dtype=np.float32), deep=1)
            va.SetName(name)
            va.SetNumberOfComponents(comps)
            out.GetPointData().AddArray(va)
        table = vtkTable()
        table.AddColumn(string_array("axis", list(rows)))
        for col in COLUMNS:
            a = vtkDoubleArray()
            a.SetName(col)
            for r in rows.values():
                a.InsertNextValue(float(r[col]))
            table.AddColumn(a)
        return [out, table]
