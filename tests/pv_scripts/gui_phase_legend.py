"""ParaView GUI script (paraview --script=...): open a label volume, apply EVX Phase Legend, show
it with the phase colours, render, save a screenshot, then write a done-marker (JSON).

Inputs by environment (the GUI passes no script arguments):
  EVX_GUI_DATA  the label volume to open (.nc/.vti/.tif an ElectroVox reader or ParaView reads)
  EVX_GUI_OUT   folder for screenshot.png and done.json
  EVX_GUI_IMAGE optional greyscale image (.nc with 'image'): EVX Segment runs on it in the GUI,
                shown in a render view; its progress events are counted
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
    # the label LUT is shared by name ("labels"): read it before the segmentation's display uses it
    lut_seen = {"annotations": list(lut.Annotations), "indexed_colors": list(lut.IndexedColors),
                "categorical": int(lut.InterpretValuesAsCategories)}
    seg_info = None
    if os.environ.get("EVX_GUI_IMAGE"):
        # EVX Segment in the GUI: the algorithm's progress events are what the progress bar shows
        from paraview.simple import EVXSegment
        from vtkmodules.util import numpy_support
        img_src = OpenDataFile(os.environ["EVX_GUI_IMAGE"])
        seg = EVXSegment(Input=img_src)
        events = []
        algo = seg.GetClientSideObject()
        algo.AddObserver("ProgressEvent", lambda obj, ev: events.append(obj.GetProgress()))
        seg_view = CreateView("RenderView")
        AssignViewToLayout(view=seg_view, layout=GetLayout(view), hint=0)
        seg_display = Show(seg, seg_view)
        seg_display.SetRepresentationType("Slice")
        apply_phase_colours(seg_display, None, "labels", view=seg_view)
        Render(seg_view)
        data = servermanager.Fetch(seg)
        seg_info = {"labels": numpy_support.vtk_to_numpy(data.GetPointData().GetArray("labels")).tolist(),
                    "dims": list(data.GetDimensions()), "progress": events}
    marker = {"ok": True, "reader": src.GetXMLName(), "screenshot": shot, "segment": seg_info,
              "legend": fd.GetAbstractArray("legend").GetValue(0),
              **lut_seen,
              "metrics": metrics, "profile_rows": profile_rows, "chart_x": str(line.XArrayName).strip("'\"")}
except Exception:
    marker = {"ok": False, "error": traceback.format_exc()}
finally:
    tmp = os.path.join(out_dir, "done.json.tmp")
    with open(tmp, "w") as f:
        json.dump(marker, f)
    os.replace(tmp, os.path.join(out_dir, "done.json"))
