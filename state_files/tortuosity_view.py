"""pvbatch script: tortuosity factor of a label volume in x, y and z, for the pores and for the
electronic network, with the potential fields shown.

    bin/electrovox-pvbatch --render state_files/tortuosity_view.py LABELS.nc OUT.png

Runs EVX Tortuosity twice on LABELS.nc (All Axes on): the ionic network (Phases pore,crack: the
electrolyte-filled space) and the electronic network (Conductivities am=1,cbd=1).  Writes OUT.csv
(one row per network and axis: porosity, D_eff, tau, MacMullin number, percolating and isolated
fractions, iterations), OUT.png (mid-x cuts of the potential along z of both networks, side by
side; grey: not solved, i.e. other phases and isolated regions) and OUT.pvsm for the GUI.
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
    EVXTortuosity,
    GetColorTransferFunction,
    GetScalarBar,
    Render,
    SaveScreenshot,
    SaveState,
    Show,
)

data_path, png = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
labels = EVXnetCDFReader(FileName=data_path)
networks = {
    "ions (pore + crack)": EVXTortuosity(Input=labels, Phases="pore,crack", Axis=2, AllAxes=1),
    "electrons (am + cbd)": EVXTortuosity(Input=labels, Conductivities="am=1,cbd=1", Axis=2, AllAxes=1),
}
rows = []
for name, proxy in networks.items():
    table = servermanager.Fetch(proxy, idx=1)
    cols = [table.GetColumnName(i) for i in range(table.GetNumberOfColumns())]
    for r in range(table.GetNumberOfRows()):
        rows.append({"network": name, **{c: table.GetValueByName(r, c).ToString() for c in cols}})

csv_path = os.path.splitext(png)[0] + ".csv"
tmp = csv_path + ".part"
with open(tmp, "w", newline="") as f:                  # atomic: never a half-written CSV
    w = csv.DictWriter(f, fieldnames=list(rows[0]))
    w.writeheader()
    w.writerows(rows)
os.replace(tmp, csv_path)

layout = CreateLayout("ElectroVox tortuosity")
for name, proxy in networks.items():
    view = CreateRenderView()
    AssignViewToLayout(view=view, layout=layout, hint=0)
    display = Show(proxy, view)
    display.SetRepresentationType("Slice")
    display.SliceMode = "YZ Plane"
    ColorBy(display, ("POINTS", "potential"))
    lut = GetColorTransferFunction("potential")
    lut.ApplyPreset("Viridis (matplotlib)", True)
    lut.RescaleTransferFunction(0.0, 1.0)
    lut.NanColor = [0.3, 0.3, 0.3]                     # not solved: the other phases, dead ends
    display.SetScalarBarVisibility(view, True)
    # a horizontal colour bar in the band below the slice (a vertical bar's title, written along
    # the bar, ran off the bottom of the picture); these properties are the same in 5.11 and 5.13
    bar = GetScalarBar(lut, view)
    bar.Title, bar.ComponentTitle = f"potential, {name}", ""
    bar.WindowLocation, bar.Orientation = "Any Location", "Horizontal"
    bar.Position, bar.ScalarBarLength = [0.25, 0.04], 0.55  # title and labels above the bar,
    # clear of the orientation axes (lower left) and of the picture's bottom edge
    bar.TitleFontSize, bar.LabelFontSize, bar.ScalarBarThickness = 14, 12, 12
    bar.RangeLabelFormat = "%-#.1f"
    Render(view)                                       # the first render resets the camera
    view.CameraPosition = [1.0e3, 0.0, 0.0]
    view.CameraViewUp = [0.0, 0.0, 1.0]
    view.CameraParallelProjection = 1
    view.ResetCamera()
    # the slice in the top 6-78 % of the view's height, the band below it for the colour bar
    b = proxy.GetDataInformation().GetBounds()
    half = 0.5 * max(b[5] - b[4], 1e-9) / 0.72
    focal = [(b[0] + b[1]) / 2, (b[2] + b[3]) / 2, b[5] - 0.88 * half]
    view.CameraFocalPoint = focal
    view.CameraPosition = [focal[0] + 2 * (b[1] - b[0]) + 1.0, focal[1], focal[2]]
    view.CameraParallelScale = half
    Render(view)

SaveScreenshot(png, layout, ImageResolution=[1400, 700])
SaveState(os.path.splitext(png)[0] + ".pvsm")
for row in rows:
    print(f"tortuosity_view: {row['network']:22s} {row['axis']}: tau {float(row['tau']):.3f}, "
          f"D_eff {float(row['D_eff']):.4f}, porosity {float(row['porosity']):.3f}")
print(f"tortuosity_view: wrote {csv_path}, {png}")
