"""pvbatch script: the 3D discharge of a label volume, lithiation in 3D beside the voltage-capacity chart.

    bin/electrovox-pvbatch --render state_files/discharge_view.py LABELS.nc OUT.png [C_RATE] [RESAMPLE_UM] [CEI]

Runs EVX Discharge on LABELS.nc (z = 0 at the current collector) at C_RATE (default 0.5) to the
3.5 V cut-off, CEI none|uniform|gradient (default none), into the run folder OUT_run/.  Writes
OUT.csv (capacity, mean overpotential, cut-off reached, steps), OUT.png (the lithiation at the end
of discharge in 3D beside the discharge curve and the lithiation profile along z) and OUT.pvsm: the
state reopens in the GUI with the animation over the discharge's frames (the run folder is reused,
nothing is solved again).
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
    CreateView,
    EVXDischarge,
    EVXnetCDFReader,
    GetAnimationScene,
    GetColorTransferFunction,
    GetScalarBar,
    Render,
    SaveScreenshot,
    SaveState,
    Show,
    Threshold,
)

data_path, png = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
rate = float(sys.argv[3]) if len(sys.argv) > 3 else 0.5
resample = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0
cei = sys.argv[5] if len(sys.argv) > 5 else "none"
stem = os.path.splitext(png)[0]
labels = EVXnetCDFReader(FileName=data_path)
run = EVXDischarge(Input=labels, CRate=rate, ResampleTo=resample, CEI=cei, RunFolder=stem + "_run")
run.UpdatePipeline()
times = list(run.TimestepValues) if run.TimestepValues else [0.0]
scene = GetAnimationScene()
scene.UpdateAnimationUsingDataTimeSteps()
scene.AnimationTime = times[-1]
run.UpdatePipeline(times[-1])
img = servermanager.Fetch(run, idx=0)
summary = {k: img.GetFieldData().GetAbstractArray(k).GetValue(0)
           for k in ("capacity_mAh_g", "mean_overpotential_mV", "cutoff_reached", "steps")}
tmp = stem + ".csv.part"
with open(tmp, "w", newline="") as f:                  # atomic: never a half-written CSV
    w = csv.DictWriter(f, fieldnames=list(summary))
    w.writeheader()
    w.writerow(summary)
os.replace(tmp, stem + ".csv")

layout = CreateLayout("ElectroVox discharge")
view3d = CreateRenderView()
AssignViewToLayout(view=view3d, layout=layout, hint=0)
solid = Threshold(Input=run, Scalars=["POINTS", "lithiation"])
try:                                                   # ParaView 5.10+: lower/upper thresholds
    solid.LowerThreshold, solid.UpperThreshold = 0.0, 1.0
except AttributeError:                                 # pragma: no cover - older ParaView
    solid.ThresholdRange = [0.0, 1.0]
display = Show(solid, view3d)
ColorBy(display, ("POINTS", "lithiation"))
lut = GetColorTransferFunction("lithiation")
lut.ApplyPreset("Viridis (matplotlib)", True)
lut.RescaleTransferFunction(0.2, 1.0)
display.SetScalarBarVisibility(view3d, True)
bar = GetScalarBar(lut, view3d)
bar.Title, bar.ComponentTitle = "lithiation x = c/c_max", ""
bar.TitleFontSize, bar.LabelFontSize = 12, 12
view3d.OrientationAxesVisibility = 1
Render(view3d)
# look from -y, z (the electrode's thickness, collector at the bottom) pointing up
b = run.GetDataInformation().GetBounds()
mid = [(b[0] + b[1]) / 2, (b[2] + b[3]) / 2, (b[4] + b[5]) / 2]
size = max(b[1] - b[0], b[3] - b[2], b[5] - b[4])
view3d.CameraFocalPoint, view3d.CameraPosition = mid, [mid[0] + size, mid[1] - 3 * size, mid[2] + size]
view3d.CameraViewUp = [0.0, 0.0, 1.0]
view3d.ResetCamera()
Render(view3d)

for port, x, ys, title in ((1, "capacity_mAh_g", ["voltage_V"], "voltage (V) against capacity (mAh/g)"),
                           (2, "z_um", ["lithiation"], "mean lithiation against z (um) at the animation time")):
    chart = CreateView("XYChartView")
    AssignViewToLayout(view=chart, layout=layout, hint=2 if port == 1 else 6)
    line = Show(servermanager.OutputPort(run, port), chart)
    line.UseIndexForXAxis = 0
    line.XArrayName = x
    line.SeriesVisibility = ys
    chart.ChartTitle = title
    chart.ChartTitleFontSize = 12
    Render(chart)

SaveScreenshot(png, layout, ImageResolution=[1400, 700])
SaveState(stem + ".pvsm")
print(f"discharge_view: {float(summary['capacity_mAh_g']):.2f} mAh/g, mean overpotential "
      f"{float(summary['mean_overpotential_mV']):.1f} mV, cut-off reached {summary['cutoff_reached']}, "
      f"{len(times)} frames; wrote {stem}.csv, {png}, {stem}.pvsm")
