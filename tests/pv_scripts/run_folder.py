"""pvbatch: an ElectroVox run folder opened as a time series (EVX Run Folder Reader).

usage: run_folder.py RUN_DIR RESULT.json
Writes the reader's TimestepValues, and for each time the run_step of the frame served and the
sum of its speed; and the history table's rows.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _pvtest import write_json  # noqa: E402
from paraview import servermanager  # noqa: E402
from paraview.simple import *  # noqa: E402,F403
from vtkmodules.util.numpy_support import vtk_to_numpy  # noqa: E402

run_dir, result_path = sys.argv[1], sys.argv[2]
reader = OpenDataFile(os.path.join(run_dir, "params.json"))  # noqa: F405
out = {"proxy": reader.GetXMLName(), "times": list(reader.TimestepValues), "frames": []}
for t in reader.TimestepValues:
    reader.UpdatePipeline(t)
    data = servermanager.Fetch(reader, idx=0)
    v = vtk_to_numpy(data.GetPointData().GetArray("velocity"))
    out["frames"].append({"t": t, "step": data.GetFieldData().GetAbstractArray("run_step").GetValue(0),
                          "sum_abs_velocity": float(abs(v).sum())})
hist = servermanager.Fetch(reader, idx=1)
out["history_rows"] = hist.GetNumberOfRows()
write_json(result_path, out)
