"""pvbatch script: the sample label volume as a slice and a 3D view, with phase names and colours.

    bin/electrovox-pvbatch --render state_files/sample_view.py LABELS.nc OUT.png

Writes OUT.png (a slice through the middle of the thickness beside a 3D volume rendering of the
solid phases; pores transparent) and OUT.pvsm, a ParaView state that reopens the same scene in
the GUI: ``bin/electrovox-paraview --state=OUT.pvsm``.
"""

import os
import sys

from paraview.simple import (
    AssignViewToLayout,
    CreateLayout,
    CreateRenderView,
    EVXPhaseLegend,
    GetScalarBar,
    OpenDataFile,
    Render,
    SaveScreenshot,
    SaveState,
    Show,
)

from electrovox.filters.pv_display import apply_phase_colours

data_path, png = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
src = OpenDataFile(data_path)
phases = EVXPhaseLegend(Input=src)
phases.UpdatePipeline()
(x0, x1, y0, y1, z0, z1) = phases.GetDataInformation().GetExtent()
bounds = phases.GetDataInformation().GetBounds()
centre = [(bounds[0] + bounds[1]) / 2, (bounds[2] + bounds[3]) / 2, (bounds[4] + bounds[5]) / 2]

layout = CreateLayout("ElectroVox sample")
views = []
for rep in ("Slice", "Volume"):
    view = CreateRenderView()
    AssignViewToLayout(view=view, layout=layout, hint=0)
    view.OrientationAxesVisibility = 1
    display = Show(phases, view)
    display.SetRepresentationType(rep)
    lut = apply_phase_colours(display, None, "labels", view=view, scalar_bar=(rep == "Slice"))
    if rep == "Slice":  # the phase legend to the right of the slice, names right of the swatches
        bar = GetScalarBar(lut, view)
        for name, value in (("WindowLocation", "Any Location"), ("WindowLocation", "AnyLocation"),
                            ("TextPosition", "Ticks left/bottom, annotations right/top")):
            try:
                setattr(bar, name, value)
            except Exception:  # names differ across ParaView versions (NotSupportedException)
                pass
        bar.Position, bar.ScalarBarLength, bar.Title = [0.64, 0.3], 0.4, ""
        bar.LabelFontSize, bar.TitleFontSize, bar.ScalarBarThickness = 9, 10, 12
    Render(view)  # the first render resets the camera: place it afterwards
    if rep == "Slice":
        display.SliceMode = "XY Plane"
        display.Slice = (z1 - z0) // 2  # mid-thickness
        # parallel projection, the slice on the left, its phase legend beside it on the right
        w, h = bounds[1] - bounds[0], bounds[3] - bounds[2]
        focal = [centre[0] + 0.3 * w, centre[1], centre[2]]
        view.CameraPosition = [focal[0], focal[1], focal[2] + 3 * (bounds[5] - bounds[4] + 1)]
        view.CameraFocalPoint, view.CameraViewUp = focal, [0, 1, 0]
        view.CameraParallelProjection = 1
        view.CameraParallelScale = 0.8 * max(w, h)  # half-height: leaves ~0.7 w free on the right
    else:
        d = max(bounds[1] - bounds[0], bounds[3] - bounds[2], bounds[5] - bounds[4])
        view.CameraPosition = [centre[0] + 1.6 * d, centre[1] - 1.3 * d, centre[2] + 1.0 * d]
        view.CameraFocalPoint, view.CameraViewUp = centre, [0, 0, 1]
        view.ResetCamera()
    Render(view)
    views.append(view)

SaveScreenshot(png, layout, ImageResolution=[1400, 600])
SaveState(os.path.splitext(png)[0] + ".pvsm")
print(f"sample_view: wrote {png} and {os.path.splitext(png)[0]}.pvsm (extent {x1 - x0 + 1} x "
      f"{y1 - y0 + 1} x {z1 - z0 + 1} voxels)")
