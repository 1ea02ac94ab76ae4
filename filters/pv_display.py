"""Show ElectroVox label volumes in ParaView with their phase colours and names.

For pvpython / pvbatch scripts and the GUI's Python shell (``paraview.simple`` is imported only
when a function runs, so importing this module needs no ParaView)::

    from paraview.simple import *
    from electrovox.filters.pv_display import apply_phase_colours
    src = OpenDataFile("labels.nc")
    display = Show(EVXPhaseLegend(Input=src))
    apply_phase_colours(display, {0: "pore", 1: "am", 2: "cbd"})   # or None: read it from the data
    Render()

The colour map is categorical (``InterpretValuesAsCategories``): one colour per phase
(:data:`electrovox.phases.PHASES`), annotated with the phase's display name, no interpolation
between ids (slices show voxels, volume rendering uses nearest sampling and a stepwise opacity).
"""

from __future__ import annotations

import json

from electrovox.phases import DEFAULT_LEGEND, colour, display_name, parse_legend

#: volume-rendering opacity of each phase by name (others: 1); pore space is see-through
DEFAULT_OPACITY = {"pore": 0.0}

_HALF = 0.49  # half-width of an id's plateau in the step functions (gaps stay 0.02 wide)


def legend_from_any(legend) -> dict[int, str]:
    """A legend {id: name} from a dict, ``"0=pore,1=am"`` text, JSON text, or None (default)."""
    if legend is None:
        return dict(DEFAULT_LEGEND)
    if isinstance(legend, dict):
        return {int(k): str(v) for k, v in legend.items()}
    text = str(legend).strip()
    if text.startswith("{"):
        return {int(k): str(v) for k, v in json.loads(text).items()}
    if text.lower() == "default":
        return dict(DEFAULT_LEGEND)
    return parse_legend(text)


def legend_from_pipeline(source) -> dict[int, str] | None:
    """The ``legend`` of a pipeline object's output, fetched cheaply.

    The ``legend`` field data of a pipeline object's output, fetched cheaply (one voxel is
    extracted and fetched, with the field data), or None when it has none.
    """
    from paraview import servermanager

    # an unregistered proxy: not shown in the Pipeline Browser, the active source unchanged
    one = servermanager.filters.ExtractSubset(Input=source, VOI=[0, 0, 0, 0, 0, 0])
    data = servermanager.Fetch(one)
    fd = data.GetFieldData() if data is not None else None
    arr = fd.GetAbstractArray("legend") if fd is not None else None
    if arr is None or arr.GetNumberOfTuples() == 0:
        return None
    return legend_from_any(arr.GetValue(0))


def apply_phase_colours(display, legend=None, array="labels", *, view=None, scalar_bar=True,
                        opacity=None):
    """Colour ``display`` (a representation from ``Show``) by phase.

    Parameters
    ----------
    display : ParaView representation proxy
    legend : dict {id: name}, ``"0=pore,1=am,2=cbd"``, JSON text, ``"default"`` or None
        None reads the ``legend`` field data of the displayed data (e.g. after EVXPhaseLegend,
        or any ElectroVox file), else uses the default legend.
    array : str
        The label array (point data).
    view : ParaView view, optional
        For the scalar bar; default the active view.
    scalar_bar : bool
        Show the categorical colour legend.
    opacity : dict {name: opacity}, optional
        Volume-rendering opacity per phase (default :data:`DEFAULT_OPACITY`: pore 0, others 1).

    Returns the colour transfer function (lookup table) proxy.
    """
    from paraview import simple

    if legend is None:
        try:
            legend = legend_from_pipeline(display.Input)
        except Exception:  # no field data to be had: fall back to the default legend
            legend = None
    leg = legend_from_any(legend)
    ids = sorted(leg)

    simple.ColorBy(display, ("POINTS", array))
    lut = simple.GetColorTransferFunction(array)
    lut.InterpretValuesAsCategories = 1
    if "AnnotationsInitialized" in lut.ListProperties():
        lut.AnnotationsInitialized = 1
    lut.Annotations = [x for i in ids for x in (str(i), display_name(leg[i]))]
    lut.IndexedColors = [c for i in ids for c in colour(leg[i])]
    if "IndexedOpacities" in lut.ListProperties():
        lut.IndexedOpacities = [1.0] * len(ids)

    # no interpolation between categories: map each voxel's id, never a blend of ids
    _set(display, "MapScalars", 1)
    _set(display, "InterpolateScalarsBeforeMapping", 1)
    _set(display, "InterpolationType", "Nearest")  # volume rendering sampling (slice: texels)

    # volume rendering ignores IndexedColors: give it the same colours (and an opacity) as step
    # functions, one plateau per id (its samples hit the ids exactly: nearest interpolation)
    ops = dict(DEFAULT_OPACITY if opacity is None else opacity)
    rgb_points, points = [], []
    for i in ids:
        r, g, b = colour(leg[i])
        a = float(ops.get(leg[i], 1.0))
        rgb_points += [i - _HALF, r, g, b, i + _HALF, r, g, b]
        points += [i - _HALF, a, 0.5, 0.0, i + _HALF, a, 0.5, 0.0]
    lut.RGBPoints = rgb_points
    pwf = simple.GetOpacityTransferFunction(array)
    pwf.Points = points
    _set(display, "ScalarOpacityFunction", pwf)
    _set(display, "OpacityTransferFunction", pwf)
    for tf in (lut, pwf):  # keep the steps where they are when the data range changes
        _set(tf, "AutomaticRescaleRangeMode", "Never")

    if scalar_bar:
        view = view or simple.GetActiveView()
        if view is not None:
            display.SetScalarBarVisibility(view, True)
            bar = simple.GetScalarBar(lut, view)
            bar.Title = "Phase"
            if "ComponentTitle" in bar.ListProperties():
                bar.ComponentTitle = ""
    return lut


def _set(proxy, name, value):
    """Set a property when this ParaView's representation has it (names vary across versions)."""
    if name in proxy.ListProperties():
        try:
            setattr(proxy, name, value)
        except (ValueError, AttributeError):
            pass
