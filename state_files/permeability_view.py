"""pvbatch script: absolute permeability and flow tortuosity of a label volume, with its flow shown.

    bin/electrovox-pvbatch --render state_files/permeability_view.py LABELS.nc OUT.png [AXIS] [RESAMPLE_UM]

Runs EVX Permeability on LABELS.nc along AXIS (default z, the electrode thickness; RESAMPLE_UM
optional, e.g. 0.1 as in the study).  Writes OUT.csv (k in m^2 and darcy, flow tortuosity,
porosity, steps, converged), OUT.png (streamlines through the pores coloured by speed, beside the
velocity on a mid slice) and OUT.pvsm for the GUI.
"""

import csv
import os
import sys

from paraview import servermanager
from paraview.simple import (
    AssignViewToLayout,
    ColorBy,
    CreateLayout,
    CreateRenderView,
    EVXnetCDFReader,
    EVXPermeability,
    GetColorTransferFunction,
    GetScalarBar,
    Render,
    SaveScreenshot,
    SaveState,
    Show,
    StreamTracer,
)

data_path, png = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
axis = sys.argv[3] if len(sys.argv) > 3 else "z"
resample = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0
labels = EVXnetCDFReader(FileName=data_path)
perm = EVXPermeability(Input=labels, Axis=axis, ResampleTo=resample)
table = servermanager.Fetch(perm, idx=1)
cols = [table.GetColumnName(i) for i in range(table.GetNumberOfColumns())]
rows = [{c: table.GetValueByName(r, c).ToString() for c in cols} for r in range(table.GetNumberOfRows())]
csv_path = os.path.splitext(png)[0] + ".csv"
tmp = csv_path + ".part"
with open(tmp, "w", newline="") as f:                  # atomic: never a half-written CSV
    w = csv.DictWriter(f, fieldnames=cols)
    w.writeheader()
    w.writerows(rows)
os.replace(tmp, csv_path)

layout = CreateLayout("ElectroVox permeability")
b = perm.GetDataInformation().GetBounds()
# streamlines seeded on a line across the inlet face, through the pores
lines = StreamTracer(Input=perm, SeedType="Point Cloud")
lines.Vectors = ["POINTS", "velocity"]
lines.MaximumStreamlineLength = 4 * max(b[1] - b[0], b[3] - b[2], b[5] - b[4])
i = "xyz".index(axis)
centre = [(b[0] + b[1]) / 2, (b[2] + b[3]) / 2, (b[4] + b[5]) / 2]
centre[i] = b[2 * i] + 0.02 * (b[2 * i + 1] - b[2 * i])
lines.SeedType.Center = centre
lines.SeedType.Radius = 0.45 * max(b[1] - b[0], b[3] - b[2], b[5] - b[4])
lines.SeedType.NumberOfPoints = 400
views = []
for what in ("streamlines", "slice"):
    view = CreateRenderView()
    AssignViewToLayout(view=view, layout=layout, hint=0)
    views.append(view)
    display = Show(lines if what == "streamlines" else perm, view)
    if what == "slice":
        display.SetRepresentationType("Slice")
        display.SliceMode = "YZ Plane" if axis == "y" else "XZ Plane"
    ColorBy(display, ("POINTS", "speed"))
    lut = GetColorTransferFunction("speed")
    lut.ApplyPreset("Inferno (matplotlib)", True)
    display.RescaleTransferFunctionToDataRange(True, False)
    display.SetScalarBarVisibility(view, True)
    bar = GetScalarBar(lut, view)
    bar.Title, bar.ComponentTitle = "speed (m/s)", ""
    bar.WindowLocation, bar.Orientation = "Any Location", "Horizontal"
    bar.Position, bar.ScalarBarLength = [0.25, 0.04], 0.55
    # three labels, 0, half and the largest speed (automatic ticks collided with the range labels)
    top = perm.PointData["speed"].GetRange()[1]
    bar.AddRangeLabels, bar.UseCustomLabels, bar.AutomaticLabelFormat = 0, 1, 0
    bar.CustomLabels, bar.LabelFormat = [0.0, top / 2, top], "%-#.2g"
    view.OrientationAxesVisibility = 1
    Render(view)
    # look across the flow (from -y, or from -x for flow along y), the flow axis pointing up
    size = max(b[1] - b[0], b[3] - b[2], b[5] - b[4])
    mid = [(b[0] + b[1]) / 2, (b[2] + b[3]) / 2, (b[4] + b[5]) / 2]
    side = 0 if axis == "y" else 1
    pos = list(mid)
    pos[side] -= 3 * size
    up = [0.0, 0.0, 0.0]
    up[i] = 1.0
    view.CameraFocalPoint, view.CameraPosition, view.CameraViewUp = mid, pos, up
    view.ResetCamera()
    view.GetActiveCamera().Dolly(0.8)  # room below the picture for the colour bar
    Render(view)

SaveScreenshot(png, layout, ImageResolution=[1400, 700])
SaveState(os.path.splitext(png)[0] + ".pvsm")
for row in rows:
    print(f"permeability_view: along {row['axis']}: k {float(row['permeability_m2']):.4e} m^2, flow tortuosity "
          f"{float(row['flow_tortuosity']):.4f}, porosity {float(row['porosity']):.4f}, converged {row['converged']}")
print(f"permeability_view: wrote {csv_path}, {png}")
