"""VTK algorithm for the tortuosity factor (thin wrapper of :mod:`electrovox.solvers.transport.diffusion`).

:class:`TortuosityFilter` — input: a label vtkImageData (array ``labels`` with field data
``legend``); output 0: the same grid with point arrays ``potential`` (float32, NaN where not
solved) and ``flux`` (3 components x, y, z) of the solve along ``Axis``; output 1: vtkTable, one row
per solved axis: ``axis``, ``porosity``, ``D_eff``, ``tau``, ``macmullin``, ``percolating_fraction``,
``isolated_fraction``, ``iterations`` (spreadsheet view).  The solve runs once per change of the
parameters or the input, then is served from a cache.
"""

from __future__ import annotations

import numpy as np
from vtkmodules.util.vtkAlgorithm import VTKPythonAlgorithmBase
from vtkmodules.vtkCommonDataModel import vtkDataObject, vtkImageData, vtkTable

from electrovox.errors import BadInput
from electrovox.filters.phantoms import _SDDP, _input_volume
from electrovox.filters.vtk_common import progress_callback, report_error, string_array

COLUMNS = ("porosity", "D_eff", "tau", "macmullin", "percolating_fraction", "isolated_fraction", "iterations")


def parse_conductivities(text: str) -> dict[str, float]:
    """``"am=10,cbd=1"`` -> {"am": 10.0, "cbd": 1.0} (BadInput on bad text)."""
    out = {}
    for item in filter(None, (t.strip() for t in str(text).split(","))):
        name, _, value = item.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise BadInput("--conductivities", f"{item!r} is not phase=value",
                           "write e.g. am=10,cbd=1 (relative conductivities)") from None
    return out


class TortuosityFilter(VTKPythonAlgorithmBase):
    """Setters: SetPhases("pore,crack"), SetCBDFactor(f; < 0: CBD not conducting),
    SetConductivities("am=10,cbd=1"; overrides Phases/CBDFactor when not empty), SetAxis(0 x | 1 y |
    2 z), SetAllAxes(on: the table holds x, y and z)."""

    name = "EVX Tortuosity"

    def __init__(self):
        super().__init__(nInputPorts=1, nOutputPorts=2, outputType="vtkImageData")
        self.p = {"phases": "pore", "cbd_factor": -1.0, "conductivities": "", "axis": 2, "all_axes": True}
        self._key, self._result = None, None

    def _set(self, key, value):
        if self.p.get(key) != value:
            self.p[key] = value
            self.Modified()

    def SetPhases(self, s):
        self._set("phases", "" if s is None else str(s))      # ParaView passes an empty string as None

    def SetCBDFactor(self, f):
        self._set("cbd_factor", float(f))

    def SetConductivities(self, s):
        self._set("conductivities", "" if s is None else str(s))

    def SetAxis(self, a):
        self._set("axis", int(a))

    def SetAllAxes(self, on):
        self._set("all_axes", bool(on))

    def FillInputPortInformation(self, port, info):
        info.Set(self.INPUT_REQUIRED_DATA_TYPE(), "vtkImageData")
        return 1

    def FillOutputPortInformation(self, port, info):
        info.Set(vtkDataObject.DATA_TYPE_NAME(), "vtkImageData" if port == 0 else "vtkTable")
        return 1

    def RequestUpdateExtent(self, request, inInfo, outInfo):
        in_info = inInfo[0].GetInformationObject(0)        # the whole volume is solved
        in_info.Set(_SDDP.UPDATE_EXTENT(), in_info.Get(_SDDP.WHOLE_EXTENT()), 6)
        return 1

    def _compute(self, vol):
        from electrovox.solvers.transport.diffusion import tortuosity
        p = dict(self.p)
        kw = {}
        if p["conductivities"].strip():
            kw["conductivities"] = parse_conductivities(p["conductivities"])
        else:
            kw["phases"] = tuple(t.strip() for t in p["phases"].split(",") if t.strip())
            if p["cbd_factor"] >= 0:
                kw["cbd_factor"] = p["cbd_factor"]
        main = "xyz"[p["axis"]]
        axes = ["x", "y", "z"] if p["all_axes"] else [main]
        prog = progress_callback(self)
        rows, fields = {}, None
        for i, ax in enumerate(axes):
            sub = (lambda f, m=None, i=i: prog((i + f) / len(axes), m)) if prog else None
            r = tortuosity(vol.array, vol.legend, vol.spacing, ax, fields=(ax == main), progress=sub, **kw)
            rows[ax] = r
            if ax == main:
                fields = (r.pop("potential"), r.pop("flux"))
        return rows, fields

    def RequestData(self, request, inInfo, outInfo):
        from vtkmodules.util import numpy_support
        from vtkmodules.vtkCommonCore import vtkDoubleArray
        try:
            vol, image = _input_volume(inInfo)
            key = (image.GetMTime(), repr(sorted(self.p.items())))
            if key != self._key or self._result is None:
                self._result, self._key = None, key
                self._result = self._compute(vol)
            rows, (pot, flux) = self._result
        except Exception as exc:
            report_error(self.name, exc.one_line() if isinstance(exc, BadInput)
                         else f"internal error {type(exc).__name__}: {exc} (please report it)")
            return 0
        out = vtkImageData.GetData(outInfo.GetInformationObject(0))
        out.ShallowCopy(image)
        for name, arr, comps in (("potential", pot.reshape(-1), 1), ("flux", flux.reshape(-1, 3), 3)):
            va = numpy_support.numpy_to_vtk(np.ascontiguousarray(arr, dtype=np.float32), deep=1)
            va.SetName(name)
            va.SetNumberOfComponents(comps)
            out.GetPointData().AddArray(va)
        table = vtkTable.GetData(outInfo.GetInformationObject(1))
        table.AddColumn(string_array("axis", list(rows)))
        for col in COLUMNS:
            a = vtkDoubleArray()
            a.SetName(col)
            for r in rows.values():
                a.InsertNextValue(float(r[col]))
            table.AddColumn(a)
        return 1
