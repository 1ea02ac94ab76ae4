"""VTK algorithm of the 3D discharge model (thin wrapper of :func:`electrovox.solvers.echem.discharge.discharge`).

:class:`DischargeFilter`: input a label vtkImageData (z = 0 at the current collector); the run goes
into a run folder (the ``Run Folder`` property, or a fresh temporary one), once per change of the
properties or of the input.  Outputs, all following ParaView's time (the frames' times, s):

- port 0: the frame at the requested time on the image grid, point arrays ``lithiation``
  (c_s / c_max in the active material, NaN elsewhere), ``electrolyte_concentration`` (mol/m^3),
  ``solid_potential`` and ``electrolyte_potential`` (V against the Li foil) and
  ``reaction_current_density`` (A/m^2, negative = lithiation), ``phase`` (uint8, the voxel's
  phase by :data:`electrovox.phases.DEFAULT_LEGEND` ids whatever the input's legend);
- port 1: the discharge curve (``time_s``, ``voltage_V``, ``capacity_mAh_g``, mean lithiation,
  OCV, overpotential, conservation residuals per interval, iterations) for a line chart;
- port 2: the profiles along z at the requested time (``z_um``, ``lithiation``,
  ``electrolyte_mol_m3``: layer means), the study's Fig. 4C and 5 as the animation plays.
"""

from __future__ import annotations

import tempfile

import numpy as np
from vtkmodules.vtkCommonDataModel import vtkTable

from electrovox.filters.vtk.base import EVXAlgorithm
from electrovox.filters.vtk.common import string_array
from electrovox.filters.vtk.flow import _column, read_frame
from electrovox.filters.vtk.phantoms import label_volume
from electrovox.params import Param, ParamSet
from electrovox.solvers.echem.params import DISCHARGE

_RUN_DIR = Param("run_dir", "str", "", "Run folder written as the run goes (discharge.csv, fields.pvd, BPX "
                 "params.json; resumed when unfinished); empty: a temporary folder.", cli="", label="Run Folder",
                 advanced=True)
_PARAMS_FILE = Param("params_file", "str", "", "The physical parameters as a BPX file (`electrovox params "
                     "export`); empty: the defaults. C-rate, cut-off and CEI properties override it.", cli="",
                     label="Parameters File", advanced=True)


class DischargeFilter(EVXAlgorithm):
    """C-rate lithiation of a label volume to the cut-off, as a time series (see the module docstring)."""

    label = "EVX Discharge"
    params = DISCHARGE + ParamSet("run", [_RUN_DIR, _PARAMS_FILE])
    outputs = ("vtkImageData", "vtkTable", "vtkTable")

    def time_steps(self):  # noqa: D102
        # the frames' times are fixed up front (the core's schedule); a finished run's own times
        # replace them (the run ends at the cut-off, before the nominal end)
        if self._result is not None:
            return list(self._result["times"])
        from electrovox.solvers.echem.discharge import output_schedule
        p = self.checked_params()
        return output_schedule(p["c_rate"] or 0.5, p["output_rows"], p["frames"])[2]

    def compute(self, inputs):  # noqa: D102
        from electrovox.solvers.echem.discharge import discharge, write_tables
        from electrovox.solvers.run.folder import RunFolder
        p = self.checked_params()
        vol = label_volume(inputs[0])
        run_dir = p.pop("run_dir") or tempfile.mkdtemp(prefix="evx-discharge-")
        params_file = p.pop("params_file")
        params = None
        if params_file:
            from electrovox.solvers.echem.bpx import read_bpx
            params = read_bpx(params_file)
        for key in ("resample_um", "area_factor"):
            p[key] = p[key] or None
        r = discharge(vol.array, vol.legend, vol.spacing, params=params, run_dir=run_dir, progress=self.progress,
                      **p)
        write_tables(run_dir, r)
        frames = RunFolder(run_dir, "run.json").frames()
        curve = vtkTable()
        for name, col in r["history"].items():
            curve.AddColumn(_column(name, col))
        times = [f.time_s for f in frames]
        return {"frames": frames, "times": times, "curve": curve, "profiles": r["profiles"],
                "summary": {k: r[k] for k in ("capacity_mAh_g", "mean_overpotential_mV", "cutoff_reached", "steps")}}

    def select_time(self, result, t):  # noqa: D102
        img, frame = read_frame(result["frames"], t)
        img.GetPointData().SetActiveScalars("lithiation")
        for k, v in result["summary"].items():
            img.GetFieldData().AddArray(string_array(k, [str(v)]))
        pr = result["profiles"]
        ptimes = np.asarray(pr["time_s"])
        prof = vtkTable()
        if ptimes.size:
            # the profile row nearest the frame's time (rows are written at every output time)
            k = int(np.argmin(np.abs(ptimes - frame.time_s)))
            prof.AddColumn(_column("z_um", pr["z_um"]))
            prof.AddColumn(_column("lithiation", pr["lithiation"][k]))
            prof.AddColumn(_column("electrolyte_mol_m3", pr["electrolyte_mol_m3"][k]))
        return [img, result["curve"], prof]
