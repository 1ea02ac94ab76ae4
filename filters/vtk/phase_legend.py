"""The Phase Legend filter: attach a label volume's phase legend to vtkImageData.

Input: vtkImageData with an integer label array (point or cell data, default name ``labels``).
Output: a shallow copy of the input (the voxels are not copied) whose field data says what each
label id is, in forms that JSON readers, scripts and ParaView's annotations can use:

===========================  =============================================================
field array                  content
===========================  =============================================================
``legend``                   JSON ``{"0": "pore", "1": "am", ...}`` (the ElectroVox convention)
``phase_ids``                int, the legend's ids in ascending order
``phase_names``              string, canonical names (``pore``, ``am``, ``cbd``, ...)
``phase_display_names``      string, display names (``Pore (electrolyte)``, ...)
``phase_annotations``        string, ``id, display name`` pairs: a colour map's ``Annotations``
``phase_colors``             double, 3 components: RGB (0..1) per phase, a map's ``IndexedColors``
``phase_fractions``          double, volume fraction of each phase in the label array
``phase_<name>``             string, one per phase: ``"Active material (id 2): 50.0 %"``
``phase_label_array``        string, the name of the label array described
===========================  =============================================================

The legend comes from the ``Legend`` property when set (``"0=pore,1=am,2=cbd"``, a JSON object,
or ``"default"``), else from the input's ``legend`` field data, else the default legend (a
notice says so).  Label values that the legend does not name give a warning.
"""

from __future__ import annotations

import json

import numpy as np
from vtkmodules.util import numpy_support
from vtkmodules.vtkCommonDataModel import vtkImageData
from vtkmodules.vtkCommonExecutionModel import vtkStreamingDemandDrivenPipeline

from electrovox.errors import BadInput
from electrovox.filters.vtk.base import EVXAlgorithm
from electrovox.filters.vtk.common import double_array, field_string, int_array, report_warning, string_array
from electrovox.params import Param, ParamSet
from electrovox.phases import DEFAULT_LEGEND, colour, display_name, legend_to_text, parse_legend

NAME = "EVX Phase Legend"
#: parameters of the Phase Legend filter (its core is :mod:`electrovox.phases`)
PARAMS = ParamSet("phase_legend", [
    Param("array_name", "str", "labels", "The label array (point data, integer phase ids).", label="Array Name",
          cli=""),
    Param("legend", "str", "", "Phase of each label id, e.g. 0=pore,1=am,2=cbd, or 'default'. Empty: the legend "
          "stored with the input, else the default legend.", cli=""),
])
_CHUNK = 1 << 22  # voxels per bincount step (progress granularity)


def resolve_legend(text: str, image=None) -> tuple[dict[int, str], str]:
    """(legend, where it came from) for the Legend property text and the input's field data."""
    text = (text or "").strip()
    if text.lower() == "default":
        return dict(DEFAULT_LEGEND), "the default legend (Legend = default)"
    if text:
        return _parse_any(text, "legend"), "the Legend property"
    stored = field_string(image, "legend") if image is not None else None
    if stored:
        return _parse_any(stored, "the input's field data 'legend'"), "the input's field data"
    return dict(DEFAULT_LEGEND), "the default legend (the input stores none)"


def _parse_any(text: str, source: str) -> dict[int, str]:
    """A legend from ``0=pore,1=am`` text or a JSON object ``{"0": "pore"}``, checked."""
    text = text.strip()
    if text.startswith("{"):
        try:
            raw = json.loads(text)
            text = legend_to_text({int(k): str(v) for k, v in raw.items()})
        except (ValueError, AttributeError) as exc:
            raise BadInput(source, f"legend is not a JSON object of id: name ({exc})",
                           'write it as {"0": "pore", "1": "am"} or 0=pore,1=am') from None
    return parse_legend(text, source=source)


def count_labels(values: np.ndarray, progress=None) -> np.ndarray:
    """Voxel count of each label value 0..255 (int64, length 256).

    Voxel count of each label value 0..255 (int64, length 256); raises BadInput when the
    array is not labels (non-integer, negative or > 255 values).
    """
    flat = np.asarray(values).reshape(-1)
    kind = flat.dtype.kind
    if kind not in "iuf" and flat.dtype != np.bool_:
        raise BadInput("label array", f"has dtype {flat.dtype}", "choose an integer label array")
    counts = np.zeros(256, dtype=np.int64)
    n = flat.size
    for start in range(0, max(n, 1), _CHUNK):
        part = flat[start:start + _CHUNK]
        if part.size == 0:
            break
        if kind == "f" and (not np.isfinite(part).all() or (part != np.round(part)).any()):
            raise BadInput("label array", "holds non-integer values (a greyscale image?)",
                           "segment the image first, or choose the label array")
        lo, hi = part.min(), part.max()
        if lo < 0 or hi > 255:
            raise BadInput("label array", f"holds values outside 0..255 ({lo}..{hi})",
                           "labels are uint8 phase ids; choose the label array")
        counts += np.bincount(part.astype(np.int64), minlength=256)[:256]
        if progress is not None:
            progress(min(1.0, (start + part.size) / n))
    return counts


def legend_field_arrays(legend: dict[int, str], fractions: dict[int, float], array_name: str):
    """The field arrays described in the module docstring, in order."""
    ids = sorted(legend)
    names = [legend[i] for i in ids]
    shown = [display_name(n) for n in names]
    arrays = [
        string_array("legend", [json.dumps({str(i): legend[i] for i in ids})]),
        int_array("phase_ids", ids),
        string_array("phase_names", names),
        string_array("phase_display_names", shown),
        string_array("phase_annotations", [x for i, s in zip(ids, shown, strict=True) for x in (str(i), s)]),
        double_array("phase_colors", [colour(n) for n in names], components=3),
        double_array("phase_fractions", [fractions.get(i, 0.0) for i in ids]),
        string_array("phase_label_array", [array_name]),
    ]
    for i, name, label in zip(ids, names, shown, strict=True):
        text = f"{label} (id {i}): {100 * fractions.get(i, 0.0):.1f} %"
        arrays.append(string_array(f"phase_{name}", [text]))
    return arrays


class PhaseLegend(EVXAlgorithm):
    """vtkImageData -> the same image with its phase legend in field data (module docstring).

    Properties: ``SetArrayName(name)`` (default ``labels``), ``SetLegend(text)`` (default ``""``:
    the input's legend, else the default legend).
    """

    label = NAME
    params = PARAMS

    def __init__(self):
        super().__init__()
        self.last_legend_source = None

    @property
    def _array(self):
        return self.p["array_name"] or ""

    @property
    def _legend(self):
        return (self.p["legend"] or "").strip()

    def GetArrayName(self):  # noqa: D102
        return self._array

    def GetLegend(self):  # noqa: D102
        return self._legend

    def RequestUpdateExtent(self, request, inInfo, outInfo):  # noqa: D102
        return 1  # pieces are fine: counts are summed over MPI processes

    def RequestData(self, request, inInfo, outInfo):  # noqa: D102
        image = vtkImageData.GetData(inInfo[0], 0)
        output = vtkImageData.GetData(outInfo, 0)
        info = inInfo[0].GetInformationObject(0)
        whole = None
        if info is not None and info.Has(vtkStreamingDemandDrivenPipeline.WHOLE_EXTENT()):
            whole = tuple(info.Get(vtkStreamingDemandDrivenPipeline.WHOLE_EXTENT()))
        try:
            self._run(image, output, whole)
        except Exception as exc:  # bad input or internal error: one line, no traceback
            self.report(exc)
            return 0
        return 1

    def _run(self, image, output, whole_extent=None):
        if image is None:
            raise BadInput("the input", "is not vtkImageData", "apply the filter to an image volume")
        # Under MPI (pvbatch/pvserver) every process runs this on its piece and the counts are
        # summed over all of them; a process with an empty piece passes it through.  Errors are
        # raised only after the collective sum, so no process is left waiting in it.
        empty = image.GetNumberOfPoints() == 0 and image.GetNumberOfCells() == 0
        counts, legend, source, error = np.zeros(256, dtype=np.int64), None, None, None
        self.UpdateProgress(0.0)
        try:
            if not empty:
                arr, is_points = self._label_array(image)
                legend, source = resolve_legend(self._legend, image)
                values = numpy_support.vtk_to_numpy(arr)
                if is_points and whole_extent is not None:
                    values = owned_points(values, image.GetExtent(), whole_extent)
                counts = count_labels(values, progress=lambda f: self.UpdateProgress(0.95 * f))
        except BadInput as exc:
            error = exc
        counts, failed_elsewhere = global_counts(counts, error is not None)
        if error is not None:
            raise error
        if failed_elsewhere:
            raise BadInput("the input", "another process failed on its piece (see its message)",
                           "fix the problem reported there")
        output.ShallowCopy(image)
        if empty:
            return
        self.last_legend_source = source
        if source.startswith("the default legend (the input"):
            report_warning(NAME, "the input stores no legend: using the default legend "
                           f"{legend_to_text(legend)}; set the Legend property if that is wrong")
        unnamed = sorted(set(int(v) for v in np.flatnonzero(counts)) - set(legend))
        if unnamed:
            report_warning(NAME, f"label values {unnamed} of '{self._array}' are not in the legend "
                           f"{legend_to_text(legend)}; they get no phase name or colour")
        total = int(counts.sum())
        fractions = {i: (float(counts[i]) / total if total else 0.0) for i in legend}
        fd = output.GetFieldData()
        for farr in legend_field_arrays(legend, fractions, self._array):
            name = farr.GetName()
            if fd.GetAbstractArray(name) is not None:
                fd.RemoveArray(name)
            fd.AddArray(farr)
        self.UpdateProgress(1.0)

    def _label_array(self, image):
        arr = image.GetPointData().GetArray(self._array) if self._array else None
        is_points = arr is not None
        if arr is None and self._array:
            arr = image.GetCellData().GetArray(self._array)
        if arr is None:
            pd = image.GetPointData()
            names = [pd.GetArrayName(i) for i in range(pd.GetNumberOfArrays())]
            raise BadInput("array_name", f"the input has no array '{self._array}' (point arrays: "
                           f"{names or 'none'})", "set array_name to the label array")
        if arr.GetNumberOfComponents() != 1:
            raise BadInput("array_name", f"array '{self._array}' has {arr.GetNumberOfComponents()} components",
                           "choose a one-component label array")
        return arr, is_points


def owned_points(values: np.ndarray, extent, whole_extent) -> np.ndarray:
    """The point values of a piece (``extent``) that no neighbouring piece also holds.

    Pieces of a distributed image share their boundary planes of points; each plane is counted
    by the piece below it, except the last plane of the whole extent.
    """
    x0, x1, y0, y1, z0, z1 = extent
    if (x0, x1, y0, y1, z0, z1) == tuple(whole_extent) or x1 < x0 or y1 < y0 or z1 < z0:
        return values
    nx, ny, nz = x1 - x0 + 1, y1 - y0 + 1, z1 - z0 + 1
    grid = values.reshape(nz, ny, nx)
    axes = ((nz, z1, whole_extent[5]), (ny, y1, whole_extent[3]), (nx, x1, whole_extent[1]))
    kz, ky, kx = (n - 1 if hi < whole_hi else n for n, hi, whole_hi in axes)
    return grid[:kz, :ky, :kx]


def global_counts(counts: np.ndarray, failed: bool) -> tuple[np.ndarray, bool]:
    """(counts summed over all MPI processes, whether any process failed); no-op in serial runs."""
    try:
        from vtkmodules.vtkParallelCore import vtkCommunicator, vtkMultiProcessController
    except ImportError:
        return counts, False
    controller = vtkMultiProcessController.GetGlobalController()
    if controller is None or controller.GetNumberOfProcesses() < 2:
        return counts, False
    send = numpy_support.numpy_to_vtk(np.append(counts, int(failed)).astype(np.int64), deep=1)
    recv = send.NewInstance()
    recv.SetNumberOfTuples(send.GetNumberOfTuples())
    controller.AllReduce(send, recv, vtkCommunicator.SUM_OP)
    total = numpy_support.vtk_to_numpy(recv).astype(np.int64)
    return total[:-1], bool(total[-1] - int(failed) > 0)
