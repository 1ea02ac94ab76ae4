"""VTK algorithms for lattice Boltzmann flow and for run folders of every time-stepping solver.

- :class:`PermeabilityFilter` (thin wrapper of :func:`electrovox.solvers.flow.permeability.permeability`):
  input a label vtkImageData; output 0 the solved grid (cubic voxels, um) with point arrays
  ``velocity`` (m/s, 3 components, for a 1e5 Pa/m pressure gradient), ``pressure`` (Pa) and
  ``speed``; output 1 a vtkTable with one row per solved axis (``axis``, ``permeability_m2``,
  ``permeability_darcy``, ``flow_tortuosity``, ``porosity``, ``steps``, ``converged``, ``mflups``);
  output 2 the convergence history of the field axis (``step``, ``permeability_m2``) for a line
  chart.  The solve runs once per change of the parameters or of the input (the base's cache);
  with ``RunDir`` set it writes a run folder as it goes and resumes an unfinished one.
- :class:`RunFolderReader`: a finished (or running) run folder served as a time series without
  solving again: output 0 the frame of ``fields.pvd`` at the requested time (``TIME_STEPS`` from
  the folder), output 1 the history table (``history.csv``), output 2 the history at the
  requested time (:func:`electrovox.solvers.run.timeline.history_at`: two equal rows, a marker
  for a chart; with a discharge's ``dod_percent``) whose first column ``annotation`` holds the
  time's label (:func:`~electrovox.solvers.run.timeline.time_label`), so that the table shown in a
  render view is a time annotation in physical units.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from vtkmodules.util import numpy_support
from vtkmodules.vtkCommonDataModel import vtkDataObject, vtkImageData, vtkTable
from vtkmodules.vtkCommonExecutionModel import vtkStreamingDemandDrivenPipeline as SDDP

from electrovox.errors import BadInput
from electrovox.filters.vtk.base import EVXAlgorithm
from electrovox.filters.vtk.common import string_array
from electrovox.filters.vtk.phantoms import label_volume
from electrovox.params import Param, ParamSet
from electrovox.solvers.flow import params

COLUMNS = ("permeability_m2", "permeability_darcy", "flow_tortuosity", "porosity", "percolating_fraction",
           "steps", "converged", "mflups")
_RUN_DIR = Param("run_dir", "str", "", "Run folder written as the solve goes (history, checkpoints, fields.pvd; "
                 "resumed when unfinished); empty: none.", cli="", label="Run Folder", advanced=True)


def _column(name, values, kind=float):
    if kind is str:
        return string_array(name, values)
    arr = numpy_support.numpy_to_vtk(np.asarray(values, dtype=np.float64), deep=1)
    arr.SetName(name)
    return arr


def _image(arrays: dict, spacing_um, origin_um) -> vtkImageData:
    out = vtkImageData()
    first = next(iter(arrays.values()))
    nz, ny, nx = first.shape[:3]
    out.SetDimensions(nx, ny, nz)
    out.SetSpacing(*tuple(spacing_um)[::-1])
    out.SetOrigin(*tuple(origin_um)[::-1])
    for name, a in arrays.items():
        comps = a.shape[3] if a.ndim == 4 else 1
        va = numpy_support.numpy_to_vtk(np.ascontiguousarray(a).reshape(-1, comps) if comps > 1
                                        else np.ascontiguousarray(a).reshape(-1), deep=1)
        va.SetName(name)
        out.GetPointData().AddArray(va)
    if "velocity" in arrays:
        out.GetPointData().SetActiveVectors("velocity")
    return out


class PermeabilityFilter(EVXAlgorithm):
    """Absolute permeability, velocity field and flow tortuosity (see the module docstring)."""

    label = "EVX Permeability"
    params = params.PERMEABILITY + ParamSet("run", [_RUN_DIR])
    outputs = ("vtkImageData", "vtkTable", "vtkTable")

    def compute(self, inputs):  # noqa: D102
        from electrovox.solvers.flow.permeability import permeability
        p = self.checked_params()
        vol = label_volume(inputs[0])
        main = p.pop("axis")
        axes = ["x", "y", "z"] if p.pop("all_axes") else [main]
        run_dir = p.pop("run_dir") or None
        p["fluid"] = tuple(p["fluid"])
        p["cbd_permeability_m2"] = p["cbd_permeability_m2"] or None
        p["resample_um"] = p["resample_um"] or None
        rows, fields = {}, None
        for i, ax in enumerate(axes):
            def sub(f, m=None, i=i):
                self.progress((i + f) / len(axes), m)
            folder = str(Path(run_dir) / f"axis_{ax}") if run_dir else None
            r = permeability(vol.array, vol.legend, vol.spacing, ax, run_dir=folder, progress=sub, **p)
            rows[ax] = r
            if ax == main:
                fields = r
        vel = fields["velocity"]
        img = _image({"velocity": vel, "speed": fields["speed"], "pressure": fields["pressure"]},
                     (fields["voxel_um"],) * 3, vol.origin)
        table = vtkTable()
        table.AddColumn(_column("axis", list(rows), str))
        for col in COLUMNS:
            vals = [np.nan if r[col] is None else float(r[col]) for r in rows.values()]
            table.AddColumn(_column(col, vals))
        hist = vtkTable()
        hist.AddColumn(_column("step", fields["history"]["step"]))
        hist.AddColumn(_column("permeability_m2", fields["history"]["permeability_m2"]))
        return [img, table, hist]


_FILE = Param("file_name", "str", "", "The run folder's params.json (or the folder).", cli="", pv="")


class RunFolderReader(EVXAlgorithm):
    """A run folder (:mod:`electrovox.solvers.run`) as a time series: frames over time and the history."""

    label = "EVX Run Folder Reader"
    params = ParamSet("run_folder", [_FILE])
    inputs = ()
    outputs = ("vtkImageData", "vtkTable", "vtkTable")

    def SetFileName(self, name):  # noqa: D102
        self.set_param("file_name", "" if name is None else str(name))

    def _folder(self):
        from electrovox.solvers.run.folder import RunFolder
        path = Path(self.p["file_name"] or "")
        if path.name == "params.json" or path.suffix == ".pvd":
            path = path.parent
        if not (path / "params.json").is_file():
            raise BadInput(path, "is not an ElectroVox run folder (no params.json)",
                           "open the params.json of a folder written with --run-dir / RunDir")
        return RunFolder(path)

    def information(self, in_infos, out_info):  # noqa: D102
        # the frames' grid, read from the first frame's header: without a whole extent, filters
        # downstream (Threshold, Slice) ask for an empty piece of the image
        try:
            frames = self._folder().frames()
        except BadInput:
            return
        if frames:
            from vtkmodules.vtkIOXML import vtkXMLImageDataReader
            reader = vtkXMLImageDataReader()
            reader.SetFileName(str(frames[0].path))
            reader.UpdateInformation()
            info, src = out_info.GetInformationObject(0), reader.GetOutputInformation(0)
            for key in (SDDP.WHOLE_EXTENT(), vtkDataObject.SPACING(), vtkDataObject.ORIGIN()):
                info.CopyEntry(src, key)

    def time_steps(self):  # noqa: D102
        try:
            frames = self._folder().frames()
        except BadInput:
            return None
        return [f.time_s for f in frames] or None

    def compute(self, inputs):  # noqa: D102
        folder = self._folder()
        frames = folder.frames()
        if not frames:
            raise BadInput(folder.path, "holds no frame yet", "wait for the run to write one, or run it again")
        hist = folder.load_history()
        table = vtkTable()
        for name, col in hist.items():
            table.AddColumn(_column(name, col))
        from electrovox.solvers.run.timeline import run_settings
        return {"frames": frames, "history": table, "columns": hist, "basis": run_settings(folder.path)[0]}

    def select_time(self, result, t):  # noqa: D102
        from electrovox.solvers.run.timeline import history_at, time_label
        img, frame = read_frame(result["frames"], t)
        img.GetFieldData().AddArray(string_array("run_step", [str(frame.step)]))
        # no requested time (a plain Update): the time of the frame read_frame picked (the first)
        at = frame.time_s if t is None else float(t)
        row = history_at(result["columns"], at, result["basis"])
        marker = vtkTable()
        marker.AddColumn(string_array("annotation", [time_label(row)] * 2))
        for name, value in row.items():   # the row twice: a chart draws a line of two equal points, a dot
            marker.AddColumn(_column(name, [value, value]))
        return [img, result["history"], marker]


def read_frame(frames, t):
    """The run-folder frame nearest time ``t`` (the first for None) as vtkImageData, and its Frame."""
    from vtkmodules.vtkIOXML import vtkXMLImageDataReader
    times = np.array([f.time_s for f in frames])
    i = 0 if t is None else int(np.argmin(np.abs(times - t)))
    reader = vtkXMLImageDataReader()
    reader.SetFileName(str(frames[i].path))
    reader.Update()
    img = vtkImageData()
    img.ShallowCopy(reader.GetOutput())
    return img, frames[i]
