"""ParaView GUI script (paraview --script=...): open a label volume, apply EVX Phase Legend, show
it with the phase colours, render, save a screenshot, then write a done-marker (JSON).

Inputs by environment (the GUI passes no script arguments):
  EVX_GUI_DATA  the label volume to open (.nc/.vti/.tif an ElectroVox reader or ParaView reads)
  EVX_GUI_OUT   folder for screenshot.png and done.json
The GUI stays open afterwards; the test captures the screen and quits it (File > Exit, Ctrl+Q).
"""

import json
import os
import traceback

out_dir = os.environ["EVX_GUI_OUT"]
marker = {"ok": False}
try:
    from paraview import servermanager
    from paraview.simple import (
        EVXPhaseLegend,
        GetActiveViewOrCreate,
        OpenDataFile,
        Render,
        SaveScreenshot,
        SetActiveSource,
        Show,
    )

    from electrovox.filters.pv_display import apply_phase_colours

    src = OpenDataFile(os.environ["EVX_GUI_DATA"])
    legend = EVXPhaseLegend(Input=src)
    SetActiveSource(legend)
    view = GetActiveViewOrCreate("RenderView")
    display = Show(legend, view)
    display.SetRepresentationType("Slice")
    lut = apply_phase_colours(display, None, "labels", view=view)
    view.InteractionMode = "2D"
    view.ResetCamera()
    Render(view)
    shot = os.path.join(out_dir, "screenshot.png")
    SaveScreenshot(shot, view, ImageResolution=[800, 600])
    fd = servermanager.Fetch(legend).GetFieldData()
    # EVX Quantify in the GUI: metrics in a spreadsheet view, the thickness profiles in a line chart
    from paraview.simple import AssignViewToLayout, CreateView, EVXQuantify, GetLayout, OutputPort
    quant = EVXQuantify(Input=src)
    sheet = CreateView("SpreadSheetView")
    AssignViewToLayout(view=sheet, layout=GetLayout(view), hint=0)
    Show(OutputPort(quant, 0), sheet)
    chart = CreateView("XYChartView")
    AssignViewToLayout(view=chart, layout=GetLayout(view), hint=0)
    line = Show(OutputPort(quant, 1), chart)
    line.UseIndexForXAxis = 0
    line.XArrayName = "z_um"
    Render(chart)
    table = servermanager.Fetch(quant, idx=0)
    names, values = table.GetColumnByName("Metric"), table.GetColumnByName("Value")
    metrics = {names.GetValue(i): values.GetValue(i) for i in range(table.GetNumberOfRows())}
    profile_rows = servermanager.Fetch(quant, idx=1).GetNumberOfRows()
    marker = {"ok": True, "reader": src.GetXMLName(), "screenshot": shot,
              "legend": fd.GetAbstractArray("legend").GetValue(0),
              "annotations": list(lut.Annotations), "indexed_colors": list(lut.IndexedColors),
              "categorical": int(lut.InterpretValuesAsCategories),
              "metrics": metrics, "profile_rows": profile_rows, "chart_x": str(line.XArrayName).strip("'\"")}
except Exception:
    marker = {"ok": False, "error": traceback.format_exc()}
finally:
    tmp = os.path.join(out_dir, "done.json.tmp")
    with open(tmp, "w") as f:
        json.dump(marker, f)
    os.replace(tmp, os.path.join(out_dir, "done.json"))
