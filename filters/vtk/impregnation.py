"""VTK algorithm of the impregnation model (thin wrapper of :func:`electrovox.solvers.flow.impregnation.impregnate`).

:class:`ImpregnationFilter`: input a label vtkImageData (z = 0 at the current collector); the run
goes into a run folder (the ``Run Folder`` property, or a fresh temporary one), once per change of
the properties or of the input.  Outputs, all following ParaView's time (the frames' times, s):

- port 0: the frame at the requested time on the image grid, point arrays
  ``electrolyte_fraction`` (0 air, 1 electrolyte, NaN in the solid; a contour at 0.5 is the
  front) and ``pressure_Pa`` (against the reservoirs);
- port 1: the saturation curve (``time_s``, ``time_dimensionless``, ``saturation``, step and
  diagnostics) for a line chart;
- port 2: the air pockets left at the end (volume, height above the collector, trapped or not).
"""

from __future__ import annotations

import tempfile

from vtkmodules.vtkCommonDataModel import vtkTable

from electrovox.filters.vtk.base import EVXAlgorithm, input_grid
from electrovox.filters.vtk.common import string_array
from electrovox.filters.vtk.flow import _column, read_frame
from electrovox.filters.vtk.phantoms import label_volume
from electrovox.params import Param, ParamSet
from electrovox.solvers.flow.params import IMPREGNATION

_RUN_DIR = Param("run_dir", "str", "", "Run folder written as the run goes (saturation.csv, fields.pvd; resumed "
                 "when unfinished); empty: a temporary folder.", cli="", label="Run Folder", advanced=True)
SUMMARY = ("final_saturation", "time_to_97pct_s", "time_to_97pct_dimensionless", "washburn_estimate_s",
           "entrapped_air_fraction", "steps", "converged", "capillary_number", "ohnesorge_number", "dt_s",
           "capillary_time_s", "hydraulic_radius_voxels", "resolution_note")


class ImpregnationFilter(EVXAlgorithm):
    """Electrolyte filling the pores of a label volume over time (see the module docstring)."""

    label = "EVX Impregnation"
    params = IMPREGNATION + ParamSet("run", [_RUN_DIR])
    outputs = ("vtkImageData", "vtkTable", "vtkTable")

    _grid = None

    def information(self, in_infos, out_info):  # noqa: D102
        self._grid = input_grid(in_infos[0].GetInformationObject(0))

    def time_steps(self):  # noqa: D102
        # before the run: the frames' times for the step cap (Max Steps; none when automatic);
        # a finished run's own times replace them (it ends when the pores are full or steady)
        if self._result is not None:
            return list(self._result["times"])
        p = self.checked_params()
        if not p["max_steps"] or self._grid is None:
            return None
        from electrovox.solvers.flow.impregnation import frame_times
        return frame_times(self._grid[1], **{**p, "resample_um": p["resample_um"] or None})

    def compute(self, inputs):  # noqa: D102
        from electrovox.solvers.flow.impregnation import CLUSTER_COLUMNS, SATURATION_COLUMNS, impregnate, write_tables
        from electrovox.solvers.run.folder import RunFolder
        p = self.checked_params()
        vol = label_volume(inputs[0])
        run_dir = p.pop("run_dir") or tempfile.mkdtemp(prefix="evx-impregnation-")
        p["resample_um"] = p["resample_um"] or None
        p["max_steps"] = p["max_steps"] or None
        r = impregnate(vol.array, vol.legend, vol.spacing, run_dir=run_dir, progress=self.progress, **p)
        write_tables(run_dir, r)
        frames = RunFolder(run_dir, "params.json").frames()
        curve = vtkTable()
        for name in SATURATION_COLUMNS:
            curve.AddColumn(_column(name, r["history"][name]))
        pockets = vtkTable()
        for name in CLUSTER_COLUMNS:
            pockets.AddColumn(_column(name, [float(c[name]) for c in r["clusters"]]))
        return {"frames": frames, "times": [f.time_s for f in frames], "curve": curve, "pockets": pockets,
                "summary": {k: r[k] for k in SUMMARY}}

    def select_time(self, result, t):  # noqa: D102
        img, frame = read_frame(result["frames"], t)
        img.GetPointData().SetActiveScalars("electrolyte_fraction")
        for k, v in result["summary"].items():
            img.GetFieldData().AddArray(string_array(k, [str(v)]))
        return [img, result["curve"], result["pockets"]]
