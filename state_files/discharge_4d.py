"""pvbatch script: 4D inspection of a finished discharge run, animated over the solver's time.

    bin/electrovox-pvbatch --render state_files/discharge_4d.py RUN_DIR OUT_STEM [--movie]

Inputs (nothing is solved again: the run folder is only read)
    RUN_DIR   a discharge run folder (``electrovox discharge LABELS RUN_DIR``, EVX Discharge's
              Run Folder, or :func:`electrovox.solvers.echem.discharge.discharge` with ``run_dir``),
              read by one EVX Run Folder Reader (the ElectroVox plugin, which the launchers load):
              output 0 the frames of ``fields.pvd`` over time, output 1 ``history.csv``, output 2
              the history at the animation time with its annotation text; ``run.json`` gives
              the nominal capacity.  No Python-scripted filter (Programmable Filter, Python
              Annotation) is used: Debian 13's ParaView 5.13 GUI crashes creating one.

One layout (tab), animated over the frames' times (the PVD's time steps, solver time in s):
  * top left: a volume rendering of ``lithiation`` (x = c / c_max, the active material only) whose
    colour map spans the minimum to the maximum over ALL frames (found by stepping through the
    time steps) and is locked there (``AutomaticRescaleRangeMode = 'Never'``): one colour means
    one lithiation in every frame; the time annotation (below) in its upper left corner;
  * right: the middle y-plane slice (x-z: the thickness z upwards, z = 0 at the collector) coloured by
    the frames' ``phase`` array (the labels by ElectroVox's default ids, written by the discharge)
    with the categorical phase legend;
  * bottom left: the discharge curve, voltage (V) against capacity (mAh/g), with a marker at the
    animation time (the reader's output 2, :func:`electrovox.solvers.run.timeline.history_at`:
    capacity and voltage linear in time at the requested time; before the first history row the
    voltage is that of the first row and the capacity interpolates to 0 at t = 0).
  The annotation reads ``t = 720 s (0.20 h)   DoD = 10.0 %``.  The depth of discharge is
  DoD = Q(t) / Q_nom: Q(t) the capacity passed at time t (mAh/g of active material, the history's
  ``capacity_mAh_g`` interpolated in time, 0 at t = 0), Q_nom the nominal capacity the C-rate
  refers to (``positive.capacity_basis_mAh_g`` in run.json, 280 mAh/g for the default NMC811), so
  that under the constant current of a run DoD = C-rate x t (h): 50 % after one hour at C/2.

Outputs (each written under a temporary name, then renamed)
    OUT_STEM.png   the layout at the last frame (1600 x 800 pixels)
    OUT_STEM.pvsm  the state: reopens in the GUI (File > Load State) from the run folder's files
    OUT_STEM.avi   with --movie: the animation, one movie frame per 4D frame (FFMPEG writer);
                   OUT_STEM.ogv (Ogg Theora) when this ParaView cannot write .avi
    OUT_STEM.json  what was shown: frame times, the locked colour range, the annotation per frame,
                   the movie written (for scripts and tests)
The last line on stdout says what was written, the movie's format included.

The functions :func:`build` and :func:`set_time` serve the GUI too (load this file with
``importlib`` in the GUI's Python shell and call ``build(run_dir)``).
"""

import json
import os
import sys


def _set(proxy, name, value):
    """Set a property when this ParaView has it (names differ between 5.11 and 5.13)."""
    if name in proxy.ListProperties():
        setattr(proxy, name, value)
        return True
    return False


def read_run(run_dir):
    """The run folder's files and the numbers the views need (checked before anything is built)."""
    from electrovox.solvers.run.timeline import run_settings

    run_dir = os.path.abspath(run_dir)
    need = [os.path.join(run_dir, n) for n in ("params.json", "fields.pvd", "history.csv")]
    if not all(os.path.isfile(p) for p in need):
        raise SystemExit(f"discharge_4d: {run_dir} is not a discharge run folder (params.json, fields.pvd and "
                         "history.csv are needed): run `electrovox discharge LABELS RUN_DIR` first")
    nominal, c_rate = run_settings(run_dir)
    if nominal is None:
        print(f"discharge_4d: {run_dir}/run.json gives no positive.capacity_basis_mAh_g: the annotation "
              "shows the time without the depth of discharge", file=sys.stderr)
    return {"run_dir": run_dir, "nominal_mAh_g": nominal, "c_rate": c_rate}


def lithiation_range(reader, times):
    """(min, max) of ``lithiation`` over all frames (NaN outside the active material is skipped)."""
    lo, hi = float("inf"), float("-inf")
    for t in times:
        reader.UpdatePipeline(t)
        info = reader.GetPointDataInformation().GetArray("lithiation")
        a, b = info.GetRange(0)
        if a <= b:                                     # an all-NaN frame has an empty range
            lo, hi = min(lo, a), max(hi, b)
    if lo > hi:
        raise SystemExit("discharge_4d: the frames hold no lithiation (no active material)")
    return lo, hi


def build(run_dir):
    """Build the 4D layout for a discharge run folder; returns a dict of the proxies and numbers."""
    from paraview import simple
    from paraview.simple import (
        AssignViewToLayout,
        ColorBy,
        CreateLayout,
        CreateRenderView,
        CreateView,
        GetAnimationScene,
        GetColorTransferFunction,
        GetOpacityTransferFunction,
        GetScalarBar,
        OutputPort,
        RenameSource,
        Show,
        Threshold,
    )

    from electrovox.filters.pv_display import apply_phase_colours
    from electrovox.phases import DEFAULT_LEGEND

    run = read_run(run_dir)
    if not hasattr(simple, "EVXRunFolderReader"):
        raise SystemExit("discharge_4d: the ElectroVox plugin is not loaded: run this script with "
                         "bin/electrovox-pvbatch (or Tools > Manage Plugins > filters/pvplugin/ElectroVox.py)")
    # one reader for the frames (port 0), the history (1) and the history at the animation time (2:
    # the marker and the annotation): no Python-scripted filter, which Debian 13's ParaView 5.13 GUI
    # cannot create without crashing
    reader = simple.EVXRunFolderReader(FileName=os.path.join(run["run_dir"], "params.json"))
    RenameSource("discharge run", reader)
    fields, history, marker = (OutputPort(reader, i) for i in range(3))
    steps = reader.TimestepValues                     # a float, not a list, for a single frame
    times = [float(t) for t in (steps if hasattr(steps, "__len__") else [steps])] or [0.0]
    scene = GetAnimationScene()
    scene.UpdateAnimationUsingDataTimeSteps()
    scene.PlayMode = "Snap To TimeSteps"
    lo, hi = lithiation_range(reader, times)
    ids = reader.GetDataInformation(0).GetPointDataInformation().GetArrayInformation("phase")
    if ids is None:
        raise SystemExit(f"discharge_4d: the frames of {run['run_dir']} hold no 'phase' array (run folders "
                         "written before ElectroVox's frames held it): run the discharge again into a new folder")

    layout = CreateLayout("ElectroVox discharge 4D")
    # (a) the lithiation, volume-rendered, one colour range for all frames
    view3d = CreateRenderView()
    AssignViewToLayout(view=view3d, layout=layout, hint=0)
    # the active material only: the Threshold keeps the cells whose corners all hold a lithiation
    # (NaN elsewhere, which volume rendering of the image would not leave out)
    solid = Threshold(Input=fields, Scalars=["POINTS", "lithiation"])
    RenameSource("active material", solid)
    if not (_set(solid, "LowerThreshold", 0.0) and _set(solid, "UpperThreshold", 1.0)):
        solid.ThresholdRange = [0.0, 1.0]              # ParaView < 5.10
    vol = Show(solid, view3d)
    ColorBy(vol, ("POINTS", "lithiation"))
    vol.SetRepresentationType("Volume")
    lut = GetColorTransferFunction("lithiation")
    lut.ApplyPreset("Viridis (matplotlib)", True)
    _set(lut, "AutomaticRescaleRangeMode", "Never")
    lut.RescaleTransferFunction(lo, hi)
    pwf = GetOpacityTransferFunction("lithiation")
    _set(pwf, "AutomaticRescaleRangeMode", "Never")
    pwf.Points = [lo, 0.5, 0.5, 0.0, hi, 1.0, 0.5, 0.0]
    vol.SetScalarBarVisibility(view3d, True)
    bar = GetScalarBar(lut, view3d)
    bar.Title = "lithiation x = c/c_max"
    _set(bar, "ComponentTitle", "")
    bar.TitleFontSize, bar.LabelFontSize = 12, 12
    view3d.OrientationAxesVisibility = 1
    # a white background: Viridis' dark low end stands out on it (not on the default blue-grey)
    _set(view3d, "UseColorPaletteForBackground", 0)
    _set(view3d, "BackgroundColorMode", "Single Color")
    view3d.Background = [1.0, 1.0, 1.0]
    for name in ("TitleColor", "LabelColor"):
        _set(bar, name, [0.1, 0.1, 0.1])
    _set(view3d, "OrientationAxesLabelColor", [0.1, 0.1, 0.1])
    # the time annotation: the marker table in a render view is drawn as text (its first cell,
    # the 'annotation' column)
    text = Show(marker, view3d)
    for where in ("Upper Left Corner", "UpperLeftCorner"):  # 5.10+ / older names of the same place
        try:
            _set(text, "WindowLocation", where)
            break
        except ValueError:
            pass
    text.FontSize = 14
    text.Color = [0.0, 0.0, 0.0]

    # (b) the phases in a y-plane slice: the frames' phase array
    view_ph = CreateRenderView()
    AssignViewToLayout(view=view_ph, layout=layout, hint=2)
    ph = Show(fields, view_ph)
    ph.SetRepresentationType("Slice")
    ph.SliceMode = "XZ Plane"
    ext = reader.GetDataInformation(0).GetExtent()
    ph.Slice = (ext[2] + ext[3]) // 2                  # the middle y plane
    top = int(ids.GetComponentRange(0)[1])           # the legend lists the ids up to the largest present
    legend = {i: name for i, name in DEFAULT_LEGEND.items() if i <= top}
    phase_lut = apply_phase_colours(ph, legend, "phase", view=view_ph)
    phase_bar = GetScalarBar(phase_lut, view_ph)
    phase_bar.TitleFontSize, phase_bar.LabelFontSize = 12, 12
    view_ph.OrientationAxesVisibility = 1

    # (c) the discharge curve with the marker at the animation time
    chart = CreateView("XYChartView")
    AssignViewToLayout(view=chart, layout=layout, hint=6)
    curve = Show(history, chart)
    curve.UseIndexForXAxis = 0
    curve.XArrayName = "capacity_mAh_g"
    curve.SeriesVisibility = ["voltage_V"]
    curve.SeriesLabel = ["voltage_V", "voltage (V)"]
    curve.SeriesColor = ["voltage_V", "0.1", "0.3", "0.7"]
    dot = Show(marker, chart, "XYChartRepresentation")   # the port is drawn as text by default
    dot.UseIndexForXAxis = 0
    dot.XArrayName = "capacity_mAh_g"
    dot.SeriesVisibility = ["voltage_V"]
    dot.SeriesLabel = ["voltage_V", "animation time"]
    dot.SeriesColor = ["voltage_V", "0.85", "0.1", "0.1"]
    dot.SeriesLineStyle = ["voltage_V", "0"]           # no line: a marker only
    dot.SeriesMarkerStyle = ["voltage_V", "4"]         # a circle
    _set(dot, "SeriesMarkerSize", ["voltage_V", "14"])
    chart.ChartTitle = "voltage (V) against capacity (mAh/g)"
    chart.ChartTitleFontSize = 12
    chart.LeftAxisTitle, chart.BottomAxisTitle = "voltage (V)", "capacity (mAh/g)"
    for name in ("LeftAxisTitleFontSize", "BottomAxisTitleFontSize", "LegendFontSize"):
        _set(chart, name, 12)

    _cameras(reader, view3d, view_ph)
    return {"run": run, "reader": reader, "history": history, "marker": marker, "fields": fields,
            "layout": layout, "views": [view3d, view_ph, chart], "lut": lut,
            "range": (lo, hi), "times": times, "scene": scene}


def _cameras(reader, view3d, view_ph):
    """Both render views look from -y with z (the thickness) upwards."""
    b = reader.GetDataInformation().GetBounds()
    mid = [(b[0] + b[1]) / 2, (b[2] + b[3]) / 2, (b[4] + b[5]) / 2]
    size = max(b[1] - b[0], b[3] - b[2], b[5] - b[4])
    view3d.CameraFocalPoint = mid
    view3d.CameraPosition = [mid[0] + 1.2 * size, mid[1] - 3 * size, mid[2] + 1.2 * size]
    view3d.CameraViewUp = [0.0, 0.0, 1.0]
    view3d.ResetCamera()
    view_ph.CameraFocalPoint = mid
    view_ph.CameraPosition = [mid[0], mid[1] - 3 * size, mid[2]]
    view_ph.CameraViewUp = [0.0, 0.0, 1.0]
    view_ph.CameraParallelProjection = 1
    # the whole x-z slice in the left part of the view, the phase legend at the right
    width, height = b[1] - b[0], b[5] - b[4]
    view_ph.CameraParallelScale = 0.55 * max(height, 1.8 * width)
    shift = 0.3 * view_ph.CameraParallelScale
    view_ph.CameraFocalPoint = [mid[0] + shift, mid[1], mid[2]]
    view_ph.CameraPosition = [mid[0] + shift, mid[1] - 3 * size, mid[2]]


def marker_at(state, t):
    """The reader's history row at time ``t`` as a dict (its output 2, builtin session)."""
    reader = state["reader"]
    reader.UpdatePipeline(t)
    out = reader.GetClientSideObject().GetOutputDataObject(2)
    return {out.GetColumnName(i): out.GetColumn(i).GetValue(0) for i in range(out.GetNumberOfColumns())}


def annotation_at(state, t):
    """The time annotation's text at time ``t``."""
    return marker_at(state, t).get("annotation", "")


def set_time(state, t):
    """Go to animation time ``t`` and render every view; returns the annotation's text there."""
    from paraview.simple import Render

    state["scene"].AnimationTime = t
    for view in state["views"]:
        Render(view)
    return annotation_at(state, t)


def _atomic(path, write):
    """Write ``path`` through ``write(tmp)`` under a temporary name with the same extension."""
    stem, ext = os.path.splitext(path)
    tmp = f"{stem}.part{os.getpid()}{ext}"
    try:
        if write(tmp) is False or not os.path.isfile(tmp):  # SaveAnimation says False on failure
            return False
        os.replace(tmp, path)
        return True
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def save_movie(stem, layout, n_frames, resolution):
    """The animation as .avi (FFMPEG), else .ogv (Ogg Theora); returns the path written or None."""
    from paraview.simple import SaveAnimation

    for ext in (".avi", ".ogv"):
        path = stem + ext
        try:
            ok = _atomic(path, lambda tmp: SaveAnimation(tmp, layout, ImageResolution=resolution,
                                                        FrameRate=2, FrameWindow=[0, n_frames - 1]))
        except Exception as exc:  # this build has no writer for the format: try the next one
            print(f"discharge_4d: {ext} not written ({exc})", file=sys.stderr)
            ok = False
        if ok and os.path.getsize(path) > 0:
            return path
    return None


def main(argv):
    """Command line: RUN_DIR OUT_STEM [--movie]."""
    from paraview.simple import SaveScreenshot, SaveState

    args = [a for a in argv if a != "--movie"]
    if len(args) != 2:
        raise SystemExit(__doc__.split("\n\n")[1])
    run_dir, stem = args[0], os.path.abspath(args[1])
    if stem.endswith(".png"):
        stem = stem[:-4]
    state = build(run_dir)
    resolution = [1600, 800]
    annotations = [annotation_at(state, t) for t in state["times"]]
    set_time(state, state["times"][-1])
    png = stem + ".png"
    _atomic(png, lambda tmp: SaveScreenshot(tmp, state["layout"], ImageResolution=resolution))
    _atomic(stem + ".pvsm", SaveState)
    movie = save_movie(stem, state["layout"], len(state["times"]), resolution) if "--movie" in argv else None
    lut = state["lut"]
    summary = {"run_dir": state["run"]["run_dir"], "times_s": state["times"],
               "lithiation_range": list(state["range"]),
               "lut_range": [lut.RGBPoints[0], lut.RGBPoints[-4]],
               "lut_rescale_mode": str(lut.AutomaticRescaleRangeMode).strip("'\""),
               "nominal_capacity_mAh_g": state["run"]["nominal_mAh_g"], "c_rate": state["run"]["c_rate"],
               "annotations": annotations,
               "png": png, "pvsm": stem + ".pvsm", "movie": movie}

    def write_json(tmp):
        with open(tmp, "w") as f:
            json.dump(summary, f, indent=1)
    _atomic(stem + ".json", write_json)
    kind = {None: "no movie", ".avi": "AVI (FFMPEG)", ".ogv": "Ogg Theora"}[movie and os.path.splitext(movie)[1]]
    print(f"discharge_4d: {len(state['times'])} frames, lithiation {state['range'][0]:.4f} .. "
          f"{state['range'][1]:.4f}; wrote {png}, {stem}.pvsm, {stem}.json"
          + (f", {movie} ({kind})" if movie else ""))


if __name__ == "__main__":
    main(sys.argv[1:])
