"""pvbatch script: a greyscale phantom (or any image) slice beside its truth labels.

    bin/electrovox-pvbatch --render state_files/image_view.py IMAGE.nc OUT.png

IMAGE.nc holds ``image`` and ``truth`` (as written by ``electrovox phantom image``).  Writes OUT.png:
the mid slice along z of the greyscale image (left) and of the truth labels with phase colours
(right), and OUT.pvsm for the GUI.
"""

import os
import sys

from paraview.simple import (
    AssignViewToLayout,
    CreateLayout,
    CreateRenderView,
    EVXnetCDFReader,
    EVXPhaseLegend,
    GetColorTransferFunction,
    Render,
    SaveScreenshot,
    SaveState,
    Show,
)

from electrovox.filters.pv_display import apply_phase_colours

data_path, png = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
image = EVXnetCDFReader(FileName=data_path, Variable="image")
truth = EVXPhaseLegend(Input=EVXnetCDFReader(FileName=data_path, Variable="truth"), ArrayName="truth")
image.UpdatePipeline()
x0, x1, y0, y1, z0, z1 = image.GetDataInformation().GetExtent()
lo, hi = image.GetDataInformation().GetPointDataInformation().GetArrayInformation("image").GetComponentRange(0)

layout = CreateLayout("ElectroVox image phantom")
for source, array in ((image, "image"), (truth, "truth")):
    view = CreateRenderView()
    AssignViewToLayout(view=view, layout=layout, hint=0)
    display = Show(source, view)
    display.SetRepresentationType("Slice")
    display.SliceMode = "XY Plane"
    display.Slice = (z1 - z0) // 2
    if array == "image":
        from paraview.simple import ColorBy
        ColorBy(display, ("POINTS", "image"))
        lut = GetColorTransferFunction("image")
        lut.ApplyPreset("Grayscale", True)
        lut.RescaleTransferFunction(lo, hi)
    else:
        apply_phase_colours(display, None, "truth", view=view, scalar_bar=False)
    Render(view)  # the first render resets the camera: set it afterwards
    view.CameraParallelProjection = 1
    view.OrientationAxesVisibility = 1
    view.ResetCamera()
    Render(view)

SaveScreenshot(png, layout, ImageResolution=[1400, 700])
SaveState(os.path.splitext(png)[0] + ".pvsm")
print(f"image_view: wrote {png} ({x1 - x0 + 1} x {y1 - y0 + 1} x {z1 - z0 + 1} voxels)")
