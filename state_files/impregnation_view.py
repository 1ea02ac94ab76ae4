"""pvbatch script: electrolyte impregnation of a label volume, the filling front in 3D beside the saturation chart.

    bin/electrovox-pvbatch --render state_files/impregnation_view.py LABELS.nc OUT.png [MAX_STEPS] [RESAMPLE_UM]

Runs EVX Impregnation on LABELS.nc (z = 0 at the current collector, the electrolyte entering at
the top) for at most MAX_STEPS lattice steps (default 20000), into the run folder OUT_run/.
Writes OUT.csv (final saturation, time to 97 %, Darcy estimate, air left, steps), OUT.png (the
electrolyte in the pores at the last frame in 3D beside the saturation against time in seconds)
and OUT.pvsm: the state reopens in the GUI with the animation over the filling's frames (the run
folder is reused, nothing is solved again).
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
    EVXImpregnation,
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
max_steps = int(sys.argv[3]) if len(sys.argv) > 3 else 20000
resample = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0
stem = os.path.splitext(png)[0]
labels = EVXnetCDFReader(FileName=data_path)
run = EVXImpregnation(Input=labels, MaxSteps=max_steps, ResampleTo=resample, RunFolder=stem + "_run")
run.UpdatePipelineInformation()
run.UpdatePipeline()
run.UpdatePipelineInformation()  # a run that filled early ends before the step cap: its own frames
times = list(run.TimestepValues) if run.TimestepValues else [0.0]
scene = GetAnimationScene()
scene.UpdateAnimationUsingDataTimeSteps()
scene.AnimationTime = times[-1]
run.UpdatePipeline(times[-1])
img = servermanager.Fetch(run, idx=0)
keys = ("final_saturation", "time_to_97pct_s", "washburn_estimate_s", "entrapped_air_fraction", "steps", "converged")
summary = {k: img.GetFieldData().GetAbstractArray(k).GetValue(0) for k in keys}
tmp = stem + ".csv.part"
with open(tmp, "w", newline="") as f:                  # atomic: never a half-written CSV
    w = csv.DictWriter(f, fieldnames=list(summary))
    w.writeheader()
    w.writerow(summary)
os.replace(tmp, stem + ".csv")

layout = CreateLayout("ElectroVox impregnation")
view3d = CreateRenderView()
AssignViewToLayout(view=view3d, layout=layout, hint=0)
pores = Threshold(Input=run, Scalars=["POINTS", "electrolyte_fraction"])
try:                                                   # ParaView 5.10+: lower/upper thresholds
    pores.LowerThreshold, pores.UpperThreshold = 0.0, 1.0
except AttributeError:                                 # pragma: no cover - older ParaView
    pores.ThresholdRange = [0.0, 1.0]
display = Show(pores, view3d)
ColorBy(display, ("POINTS", "electrolyte_fraction"))
lut = GetColorTransferFunction("electrolyte_fraction")
lut.ApplyPreset("Cool to Warm", True)
lut.RescaleTransferFunction(0.0, 1.0)                  # one colour range for every frame
display.SetScalarBarVisibility(view3d, True)
bar = GetScalarBar(lut, view3d)
bar.Title, bar.ComponentTitle = "electrolyte (1) / air (0)", ""
bar.TitleFontSize, bar.LabelFontSize = 12, 12
view3d.OrientationAxesVisibility = 1
Render(view3d)
b = run.GetDataInformation().GetBounds()
mid = [(b[0] + b[1]) / 2, (b[2] + b[3]) / 2, (b[4] + b[5]) / 2]
size = max(b[1] - b[0], b[3] - b[2], b[5] - b[4])
view3d.CameraFocalPoint, view3d.CameraPosition = mid, [mid[0] + size, mid[1] - 3 * size, mid[2] + size]
view3d.CameraViewUp = [0.0, 0.0, 1.0]
view3d.ResetCamera()
Render(view3d)

chart = CreateView("XYChartView")
AssignViewToLayout(view=chart, layout=layout, hint=2)
line = Show(servermanager.OutputPort(run, 1), chart)
line.UseIndexForXAxis = 0
line.XArrayName = "time_s"
line.SeriesVisibility = ["saturation"]
chart.ChartTitle = "saturation against time (s)"
chart.ChartTitleFontSize = 12
Render(chart)

SaveScreenshot(png, layout, ImageResolution=[1400, 700])
SaveState(stem + ".pvsm")
print(f"impregnation_view: saturation {float(summary['final_saturation']):.4f} after {summary['steps']} steps, "
      f"97 % at {summary['time_to_97pct_s']} s (Darcy estimate {summary['washburn_estimate_s']} s), "
      f"{len(times)} frames; wrote {stem}.csv, {png}, {stem}.pvsm")
