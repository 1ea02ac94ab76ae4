"""ParaView GUI script (paraview --script=...): open a label volume, apply EVX Phase Legend, show
it with the phase colours, render, save a screenshot, then write a done-marker (JSON).

Inputs by environment (the GUI passes no script arguments):
  EVX_GUI_DATA  the label volume to open (.nc/.vti/.tif an ElectroVox reader or ParaView reads)
  EVX_GUI_OUT   folder for screenshot.png and done.json
  EVX_GUI_IMAGE optional greyscale image (.nc with 'image'): EVX Segment runs on it in the GUI,
                shown in a render view; its progress events are counted
  EVX_GUI_ELECTRODE optional electrode label volume (.nc, pore/cbd/am/crack): EVX Tortuosity
                (All Axes on) runs on it in the GUI for the pores (Phases pore,crack) and for the
                electronic network (Conductivities am=1,cbd=1): the tables in a spreadsheet view, the
                potentials in a render view (potential.png), progress events counted; then EVX Flow
                Tortuosity on the pores' flux (a velocity-like field), its table in a spreadsheet
                view.  The fetched labels, potential and flux are saved as .npy in EVX_GUI_OUT.
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
    transport = None
    if os.environ.get("EVX_GUI_ELECTRODE"):
        import numpy as np
        from paraview.simple import ColorBy, CreateLayout, EVXFlowTortuosity, EVXTortuosity, SetActiveView
        from vtkmodules.util import numpy_support

        def columns(t):
            cols = {}
            for i in range(t.GetNumberOfColumns()):
                c = t.GetColumn(i)
                cols[c.GetName()] = [c.GetValue(r) if c.IsA("vtkDataArray") else c.GetVariantValue(r).ToString()
                                     for r in range(t.GetNumberOfRows())]
            return cols

        def point_array(data, name):
            return numpy_support.vtk_to_numpy(data.GetPointData().GetArray(name))

        el_src = OpenDataFile(os.environ["EVX_GUI_ELECTRODE"])
        # a second layout (tab) for the transport views: the first stays readable on screen
        tr_layout = CreateLayout("EVX Transport")
        pot_view = CreateView("RenderView")
        AssignViewToLayout(view=pot_view, layout=tr_layout, hint=0)
        tau_sheet = CreateView("SpreadSheetView")
        AssignViewToLayout(view=tau_sheet, layout=tr_layout, hint=0)
        transport = {"reader": el_src.GetXMLName()}
        data = servermanager.Fetch(el_src)
        transport["dims"] = list(data.GetDimensions())
        np.save(os.path.join(out_dir, "electrode_labels.npy"), point_array(data, "labels"))
        shift = 0.0
        for name, props in (("pores", {"Phases": "pore,crack"}),
                            ("electrons", {"Conductivities": "am=1,cbd=1"})):
            tau = EVXTortuosity(Input=el_src, Axis=2, AllAxes=1, **props)
            events = []
            tau.GetClientSideObject().AddObserver(
                "ProgressEvent", lambda obj, ev, events=events: events.append(obj.GetProgress()))
            table_display = Show(OutputPort(tau, 1), tau_sheet)   # executes the filter (3 solves)
            Render(tau_sheet)
            pot_display = Show(OutputPort(tau, 0), pot_view)
            pot_display.SetRepresentationType("Surface")
            ColorBy(pot_display, ("POINTS", "potential"))
            pot_display.RescaleTransferFunctionToDataRange(True, False)
            # the two volumes side by side: a display's translation is 'Position' in ParaView 5.11
            # and 'Translation' in 5.13 (neither name exists in the other version)
            setattr(pot_display, "Translation" if "Translation" in pot_display.ListProperties()
                    else "Position", [shift, 0.0, 0.0])
            pot_display.SetScalarBarVisibility(pot_view, True)
            bounds = OutputPort(tau, 0).GetDataInformation().GetBounds()
            shift += 1.2 * (bounds[1] - bounds[0])
            fields = servermanager.Fetch(tau, idx=0)
            np.save(os.path.join(out_dir, f"{name}_potential.npy"), point_array(fields, "potential"))
            np.save(os.path.join(out_dir, f"{name}_flux.npy"), point_array(fields, "flux"))
            transport[name] = {"table": columns(servermanager.Fetch(tau, idx=1)), "progress": events,
                               "table_visible": int(table_display.Visibility),
                               "colored_by": str(pot_display.ColorArrayName[1])}
            if name == "pores":
                pores_tau = tau
        pot_view.ResetActiveCameraToPositiveY()                    # a side view: z (the drop) upwards
        pot_view.ResetCamera()
        Render(pot_view)
        transport["potential_png"] = os.path.join(out_dir, "potential.png")
        SaveScreenshot(transport["potential_png"], pot_view, ImageResolution=[600, 400])
        # EVX Flow Tortuosity on the pores' flux (flux density along the applied potential drop)
        flow = EVXFlowTortuosity(Input=OutputPort(pores_tau, 0), ArrayName="flux")
        flow_sheet = CreateView("SpreadSheetView")
        AssignViewToLayout(view=flow_sheet, layout=tr_layout, hint=0)
        Show(flow, flow_sheet)
        Render(flow_sheet)
        pxm = servermanager.ProxyManager()
        transport["layouts"] = [pxm.GetProxyName("layouts", GetLayout(v)) for v in (view, pot_view, flow_sheet)]
        # EVX Permeability in the GUI: the velocity field as glyphs, its table in a spreadsheet
        from paraview.simple import EVXPermeability, Glyph
        perm = EVXPermeability(Input=el_src, Axis="z")
        perm_events = []
        perm.GetClientSideObject().AddObserver(
            "ProgressEvent", lambda obj, ev: perm_events.append(obj.GetProgressText()))
        perm_sheet = CreateView("SpreadSheetView")
        AssignViewToLayout(view=perm_sheet, layout=tr_layout, hint=0)
        Show(OutputPort(perm, 1), perm_sheet)
        Render(perm_sheet)
        arrows = Glyph(Input=OutputPort(perm, 0), GlyphType="Arrow")
        arrows.OrientationArray = ["POINTS", "velocity"]
        arrows.ScaleArray = ["POINTS", "No scale array"]
        Show(arrows, pot_view)
        Render(pot_view)
        perm_table = columns(servermanager.Fetch(perm, idx=1))
        transport["permeability"] = {"table": perm_table, "progress_text": sorted(set(perm_events))[:3],
                                     "glyph_points": arrows.GetDataInformation().GetNumberOfPoints()}
        # EVX Discharge in the GUI (1 um voxels, 1C): the animation steps through its frames, the
        # voltage-capacity curve in a line chart
        import numpy as _np
        from paraview.simple import EVXDischarge, GetAnimationScene
        from vtkmodules.util.numpy_support import vtk_to_numpy
        dis = EVXDischarge(Input=el_src, ResampleTo=1.0, CRate=1.0)
        dis_events = []
        dis.GetClientSideObject().AddObserver(
            "ProgressEvent", lambda obj, ev: dis_events.append(obj.GetProgressText()))
        dis_chart = CreateView("XYChartView")
        AssignViewToLayout(view=dis_chart, layout=tr_layout, hint=0)
        curve = Show(OutputPort(dis, 1), dis_chart)
        curve.UseIndexForXAxis = 0
        curve.XArrayName = "capacity_mAh_g"
        Render(dis_chart)
        scene = GetAnimationScene()
        scene.UpdateAnimationUsingDataTimeSteps()
        dis_times = list(dis.TimestepValues)
        dis_means = []
        for t in dis_times:
            scene.AnimationTime = t
            # the frame the views show at this time: the algorithm's own output after an update at
            # t (builtin session; servermanager.Fetch would update without a time: the first frame)
            dis.UpdatePipeline(t)
            frame = dis.GetClientSideObject().GetOutputDataObject(0)
            lith = vtk_to_numpy(frame.GetPointData().GetArray("lithiation"))
            dis_means.append(float(_np.nanmean(lith)))
        transport["discharge"] = {
            "times": dis_times, "mean_lithiation": dis_means,
            "capacity": float(frame.GetFieldData().GetAbstractArray("capacity_mAh_g").GetValue(0)),
            "progress_text": sorted(set(dis_events))[:3],
            "curve_rows": servermanager.Fetch(dis, idx=1).GetNumberOfRows()}
        # EVX Impregnation in the GUI (1 um voxels, 3000 steps): the animation plays through the
        # filling's frames, the saturation against time in a line chart
        from paraview.simple import EVXImpregnation
        imp = EVXImpregnation(Input=el_src, ResampleTo=1.0, MaxSteps=3000)
        imp_events = []
        imp.GetClientSideObject().AddObserver(
            "ProgressEvent", lambda obj, ev: imp_events.append(obj.GetProgressText()))
        sat_chart = CreateView("XYChartView")
        AssignViewToLayout(view=sat_chart, layout=tr_layout, hint=0)
        sat = Show(OutputPort(imp, 1), sat_chart)
        sat.UseIndexForXAxis = 0
        sat.XArrayName = "time_s"
        Render(sat_chart)
        scene.UpdateAnimationUsingDataTimeSteps()
        imp_times = list(imp.TimestepValues)
        imp_means = []
        for t in imp_times:
            scene.AnimationTime = t
            imp.UpdatePipeline(t)
            frame = imp.GetClientSideObject().GetOutputDataObject(0)
            e = vtk_to_numpy(frame.GetPointData().GetArray("electrolyte_fraction"))
            imp_means.append(float(_np.nanmean(e)))
        transport["impregnation"] = {
            "times": imp_times, "mean_electrolyte": imp_means,
            "final_saturation": float(frame.GetFieldData().GetAbstractArray("final_saturation").GetValue(0)),
            "progress_text": sorted(set(imp_events))[:3],
            "curve_rows": servermanager.Fetch(imp, idx=1).GetNumberOfRows()}
        SetActiveView(view)                 # back to the first tab (the test checks its phase colours)
        flow_table = servermanager.Fetch(flow)
        transport["flow"] = {"table": columns(flow_table),
                             "metrics": flow_table.GetFieldData().GetAbstractArray("metrics").GetValue(0)}
    marker = {"ok": True, "reader": src.GetXMLName(), "screenshot": shot, "segment": seg_info,
              "transport": transport,
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
