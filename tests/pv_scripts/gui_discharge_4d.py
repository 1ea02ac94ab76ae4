"""ParaView GUI script (paraview --script=...): the 4D discharge layout of state_files/discharge_4d.py
built in the GUI on a finished run folder, played to two animation times, a screenshot of the
volume rendering and of the whole layout at each, then a done-marker (JSON).

Inputs by environment (the GUI passes no script arguments):
  EVX_GUI_RUN   the discharge run folder (fields.pvd, history.csv, run.json)
  EVX_GUI_OUT   folder for the screenshots and done.json
  EVX_GUI_TIMES the two animation times, comma-separated (s)
  EVX_GUI_STATE optional: a state file of state_files/discharge_4d.py, then loaded (ResetSession +
                LoadState) and its layout saved as a screenshot at the last time
The GUI stays open at the second time; the test captures the screen and quits it (Ctrl+Q).
"""

import importlib.util
import json
import os
import traceback

out_dir = os.environ["EVX_GUI_OUT"]
marker = {"ok": False}
try:
    from paraview.simple import Render, SaveScreenshot, SetActiveView

    # the GUI runs this file without __file__: the launcher exports the checkout as EVX_ROOT
    script = os.path.join(os.environ["EVX_ROOT"], "state_files", "discharge_4d.py")
    spec = importlib.util.spec_from_file_location("discharge_4d", script)
    d4d = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(d4d)

    state = d4d.build(os.environ["EVX_GUI_RUN"])
    view3d = state["views"][0]
    SetActiveView(view3d)
    lut, scene = state["lut"], state["scene"]
    shots = []
    for k, t in enumerate(float(x) for x in os.environ["EVX_GUI_TIMES"].split(",")):
        text = d4d.set_time(state, t)       # scene.AnimationTime = t, every view rendered
        vol_png = os.path.join(out_dir, f"volume_{k}.png")
        layout_png = os.path.join(out_dir, f"layout_{k}.png")
        # fonts at their size in points (by default the GUI scales them with the image/widget ratio)
        SaveScreenshot(vol_png, view3d, ImageResolution=[600, 500], FontScaling="Do not scale fonts")
        SaveScreenshot(layout_png, state["layout"], ImageResolution=[1200, 600], FontScaling="Do not scale fonts")
        row = d4d.marker_at(state, t)       # the reader's history at the time (its output 2)
        shots.append({
            "time": t, "animation_time": float(scene.AnimationTime), "view_time": float(view3d.ViewTime),
            "annotation": text, "volume_png": vol_png, "layout_png": layout_png,
            "lut_range": [float(lut.RGBPoints[0]), float(lut.RGBPoints[-4])],
            "rescale_mode": str(lut.AutomaticRescaleRangeMode).strip("'\""),
            "marker": row,
        })
    for view in state["views"]:            # the widgets on screen again (the screenshots rendered offscreen)
        Render(view)
    marker = {"ok": True, "shots": shots, "times": state["times"], "range": list(state["range"])}
    if os.environ.get("EVX_GUI_STATE"):
        # the state file pvbatch saved, loaded in a fresh GUI session: File > Load State
        from paraview.simple import FindSource, GetAnimationScene, GetLayoutByName, LoadState, ResetSession
        ResetSession()
        LoadState(os.environ["EVX_GUI_STATE"])
        reader = FindSource("discharge run")
        layout = GetLayoutByName("ElectroVox discharge 4D")
        times = [float(t) for t in reader.TimestepValues]
        GetAnimationScene().AnimationTime = times[-1]
        loaded_png = os.path.join(out_dir, "loaded_state.png")
        SaveScreenshot(loaded_png, layout, ImageResolution=[1200, 600], FontScaling="Do not scale fonts")
        marker["loaded_state"] = {"file": reader.FileName, "times": times, "png": loaded_png,
                                  "marker": d4d.marker_at({"reader": reader}, times[-1])}
except Exception:
    marker = {"ok": False, "error": traceback.format_exc()}
finally:
    tmp = os.path.join(out_dir, "done.json.tmp")
    with open(tmp, "w") as f:
        json.dump(marker, f)
    os.replace(tmp, os.path.join(out_dir, "done.json"))
