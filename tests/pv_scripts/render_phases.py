"""pvbatch --render: show a label volume with apply_phase_colours as a slice and as a volume
rendering, save both screenshots and what the colour map holds.

usage: render_phases.py LABELS_FILE OUTDIR
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _pvtest import write_json  # noqa: E402
from paraview.simple import (  # noqa: E402
    CreateRenderView,
    EVXPhaseLegend,
    GetActiveSource,
    OpenDataFile,
    Render,
    SaveScreenshot,
    SetActiveSource,
    Show,
)

from electrovox.filters.pv_display import apply_phase_colours  # noqa: E402

data_path, out_dir = sys.argv[1], sys.argv[2]
src = OpenDataFile(data_path)
legend = EVXPhaseLegend(Input=src)
SetActiveSource(legend)
result = {}
for rep in ("Slice", "Volume"):
    view = CreateRenderView()
    display = Show(legend, view)
    display.SetRepresentationType(rep)
    # legend None: read from the data; no colour legend on the volume picture (it has a pore swatch)
    lut = apply_phase_colours(display, None, "labels", view=view, scalar_bar=(rep == "Slice"))
    if rep == "Volume":
        view.CameraPosition, view.CameraViewUp = [10.0, -8.0, 6.0], [0.0, 0.0, 1.0]
    view.ResetCamera()
    Render(view)
    shot = os.path.join(out_dir, f"{rep.lower()}.png")
    SaveScreenshot(shot, view, ImageResolution=[600, 400])
    result[rep] = {"screenshot": shot, "annotations": list(lut.Annotations),
                   "indexed_colors": list(lut.IndexedColors),
                   "categorical": int(lut.InterpretValuesAsCategories),
                   "interpolation": str(display.InterpolationType).strip("\x27\""),
                   "map_scalars": int(display.MapScalars)}
result["active_source"] = GetActiveSource().GetXMLName()
write_json(os.path.join(out_dir, "render.json"), result)
