"""pvbatch script: the study's figures as PNG and ParaView state files, from the files on disk.

    bin/electrovox-pvbatch --render state_files/study_figures.py OUTDIR [NAME ...]

Reads ``OUTDIR/figures.json`` (written by ``electrovox figures`` or
:func:`electrovox.solvers.study.figures.make_figures`) and, for every figure (or the NAMEs given),
builds its view from the figure's CSV (line or bar chart, one series per entry) or volume (a
``.vti``: a 3D view coloured with the figure's fixed range, e.g. the lithiation at the end of
discharge, or one colour per CBD aggregate), then writes ``OUTDIR/NAME.png`` and
``OUTDIR/NAME.pvsm``.  Each state file holds only readers of the files on disk, so it reopens the
figure in the GUI (File > Load State) or in pvbatch without solving anything again.  Files are
written under temporary names and renamed into place.
"""

import json
import os
import sys

from paraview.simple import (
    AssignViewToLayout,
    ColorBy,
    CreateLayout,
    CreateView,
    CSVReader,
    GetColorTransferFunction,
    GetScalarBar,
    Render,
    ResetSession,
    SaveScreenshot,
    SaveState,
    Show,
    Text,
    Threshold,
    XMLImageDataReader,
)

RESOLUTION = [1200, 800]


def _chart(fig, outdir):
    """A line or bar chart: one CSV reader per x column (a source has one representation per view)."""
    view = CreateView("XYBarChartView" if fig["kind"] == "bar" else "XYChartView")
    view.ViewSize = RESOLUTION
    by_x = {}
    for x, y, label in fig["series"]:
        by_x.setdefault(x, []).append((y, label))
    for x, ys in by_x.items():
        reader = CSVReader(FileName=[os.path.join(outdir, fig["csv"])], registrationName=f"{fig['name']}:{x}")
        rep = Show(reader, view)
        rep.UseIndexForXAxis = 0
        rep.XArrayName = x
        rep.SeriesVisibility = [y for y, _ in ys]
        labels = []
        for y, label in ys:
            labels += [y, label]
        rep.SeriesLabel = labels
        if fig["kind"] == "line":
            rep.SeriesMarkerStyle = [v for y, _ in ys for v in (y, "4")]    # circles at the data points
    view.ChartTitle = fig["title"]
    view.ChartTitleFontSize = 14
    view.BottomAxisTitle = fig["x_title"]
    view.LeftAxisTitle = fig["y_title"]
    view.ShowLegend = 1
    return view


def _volume(fig):
    """A 3D view of the figure's volume, coloured with its fixed range (values outside it hidden)."""
    view = CreateView("RenderView")
    view.ViewSize = RESOLUTION
    view.OrientationAxesVisibility = 1
    reader = XMLImageDataReader(FileName=[fig["volume"]], registrationName=fig["name"])
    lo, hi = fig["color_range"]
    shown = Threshold(Input=reader, Scalars=["POINTS", fig["array"]], registrationName=fig["name"] + ":shown")
    try:                                               # ParaView 5.10+: lower/upper thresholds
        shown.LowerThreshold, shown.UpperThreshold = lo, hi
    except AttributeError:                             # pragma: no cover - older ParaView
        shown.ThresholdRange = [lo, hi]
    rep = Show(shown, view)
    ColorBy(rep, ("POINTS", fig["array"]))
    lut = GetColorTransferFunction(fig["array"])
    lut.ApplyPreset("Rainbow Uniform" if fig["categorical"] else "Viridis (matplotlib)", True)
    lut.AutomaticRescaleRangeMode = "Never"           # one range, the figure's, whatever is shown
    lut.RescaleTransferFunction(lo, hi)
    rep.SetScalarBarVisibility(view, True)
    bar = GetScalarBar(lut, view)
    bar.Title, bar.ComponentTitle = fig["y_title"] or fig["array"], ""
    title = Text(Text=fig["title"], registrationName=fig["name"] + ":title")
    trep = Show(title, view)
    trep.WindowLocation = "Upper Center"
    trep.FontSize = 14
    Render(view)
    b = reader.GetDataInformation().GetBounds()
    mid = [(b[0] + b[1]) / 2, (b[2] + b[3]) / 2, (b[4] + b[5]) / 2]
    size = max(b[1] - b[0], b[3] - b[2], b[5] - b[4])
    # from -y, slightly above, the electrode's thickness (z, collector at the bottom) pointing up
    view.CameraFocalPoint, view.CameraPosition = mid, [mid[0] + size, mid[1] - 3 * size, mid[2] + size]
    view.CameraViewUp = [0.0, 0.0, 1.0]
    view.ResetCamera()
    return view


def render(outdir, names=None):
    """Write NAME.png and NAME.pvsm for every figure of ``outdir/figures.json`` (or ``names``)."""
    outdir = os.path.abspath(outdir)
    with open(os.path.join(outdir, "figures.json")) as f:
        figures = json.load(f)["figures"]
    if names:
        unknown = sorted(set(names) - {f["name"] for f in figures})
        if unknown:
            raise SystemExit(f"study_figures: {outdir}/figures.json has no figure {', '.join(unknown)}: "
                             "give names it lists, or run `electrovox figures` first")
        figures = [f for f in figures if f["name"] in names]
    done = []
    for fig in figures:
        ResetSession()
        view = _volume(fig) if fig["kind"] == "volume" else _chart(fig, outdir)
        # a layout (a tab in the GUI) holds the view: a state's view outside any layout has no widget
        # to draw into when the GUI reopens it
        AssignViewToLayout(view=view, layout=CreateLayout(fig["name"]), hint=0)
        Render(view)
        stem = os.path.join(outdir, fig["name"])
        SaveScreenshot(stem + ".part.png", view, ImageResolution=RESOLUTION)
        os.replace(stem + ".part.png", stem + ".png")
        SaveState(stem + ".part.pvsm")
        os.replace(stem + ".part.pvsm", stem + ".pvsm")
        done.append(fig["name"])
        print(f"study_figures: {fig['name']}: {stem}.png, {stem}.pvsm", flush=True)
    return done


if __name__ == "__main__":
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    render(sys.argv[1], sys.argv[2:])
