"""VTK algorithms for the image filters and the segmentation (thin wrappers of :mod:`electrovox.filters.image`).

Input: a vtkImageData with a greyscale point array (``ArrayName``, default ``image``; the first
point array if that name is absent), spacing in um.  Each result is computed once per change of
the parameters or of the input and served from a cache afterwards (ParaView re-executes on
renders and animation steps).  Progress goes to ParaView's progress bar.

- :class:`SegmentFilter` — the whole chain (:func:`~electrovox.filters.image.pipeline.segment_image`):
  output ``labels`` (uint8, default legend, categorical) and ``pore_back_corrected`` (uint8
  mask) on the image grid, or ``labels`` alone on the cubic grid of ``ResampleUm``;
- :class:`ImageStepFilter` — one step on the image (destripe, drift, align, denoise, pore-back):
  output ``image`` (float32, corrected) on the same grid (+ ``pore_back_corrected`` for the
  pore-back step);
- :class:`ResampleFilter` — image (interpolated) or labels (majority) to cubic voxels;
- :class:`CracksFilter` — labels in, labels out with cracks enclosed by particles relabelled.
"""

from __future__ import annotations

import json

import numpy as np
from vtkmodules.vtkCommonDataModel import vtkDataObject, vtkImageData

from electrovox.errors import BadInput
from electrovox.filters.image.pipeline import STEPS
from electrovox.filters.phantoms import _SDDP, _Cached, _input_volume, _set_info
from electrovox.filters.vtk_common import progress_callback, string_array
from electrovox.volume import Volume


def _image_volume(inInfo, array: str) -> tuple[Volume, vtkImageData]:
    """The greyscale input as a Volume (array ``array``, else the first point array)."""
    from electrovox.io.vtk_image import vtk_to_volume
    image = vtkImageData.GetData(inInfo[0], 0)
    pd = image.GetPointData() if image is not None else None
    if pd is None or pd.GetNumberOfArrays() == 0:
        raise BadInput("input", "has no point array", "connect a greyscale image (a TIFF stack or an .nc image)")
    name = array if pd.GetArray(array) is not None else pd.GetArrayName(0)
    vol = vtk_to_volume(image, name)
    vol.legend = None
    return vol, image


def _grid(in_info):
    ext = in_info.Get(_SDDP.WHOLE_EXTENT())
    shape = (ext[5] - ext[4] + 1, ext[3] - ext[2] + 1, ext[1] - ext[0] + 1)
    spacing = tuple(in_info.Get(vtkDataObject.SPACING()))[::-1]
    origin = tuple(in_info.Get(vtkDataObject.ORIGIN()))[::-1]
    return shape, spacing, origin


class _ImageFilter(_Cached):
    """One greyscale input, the whole extent requested; output grid = input grid unless resampled."""

    name = "image filter"

    def __init__(self):
        super().__init__(1)
        self.p = {"array": "image", "resample_um": 0.0}

    def SetArrayName(self, name):
        self._set("array", str(name))

    def FillInputPortInformation(self, port, info):
        info.Set(self.INPUT_REQUIRED_DATA_TYPE(), "vtkImageData")
        return 1

    def RequestUpdateExtent(self, request, inInfo, outInfo):
        in_info = inInfo[0].GetInformationObject(0)
        in_info.Set(_SDDP.UPDATE_EXTENT(), in_info.Get(_SDDP.WHOLE_EXTENT()), 6)
        return 1

    def RequestInformation(self, request, inInfo, outInfo):
        shape, spacing, origin = _grid(inInfo[0].GetInformationObject(0))
        if self.p.get("resample_um", 0.0) > 0:
            from electrovox.filters.image.resample import output_grid
            shape, shift = output_grid(shape, spacing, self.p["resample_um"])
            origin = tuple(o + s for o, s in zip(origin, shift, strict=True))
            spacing = (self.p["resample_um"],) * 3
        _set_info(outInfo.GetInformationObject(0), shape, spacing, origin)
        return 1

    def _serve(self, inInfo, outInfo, key_input, compute):
        try:
            result = self._run((key_input.GetMTime(), repr(sorted(self.p.items()))), compute)
        except Exception as exc:
            self._report(exc)
            return 0
        vtkImageData.GetData(outInfo, 0).ShallowCopy(result)
        return 1


class SegmentFilter(_ImageFilter):
    """Greyscale image -> labels (pore, cbd, am, crack) by the default chain.

    Setters: SetArrayName(s), SetPhases("pore,cbd,am,crack" | ...), SetPoreBackCorrection(on),
    SetDestripe(on), SetDrift(on), SetAlign(on), SetDenoise(name), SetSliceAxis(-1 auto | 0 z |
    1 y | 2 x, in array order), SetResampleUm(v; 0 = the image grid).
    """

    name = "EVX Segment"

    def __init__(self):
        super().__init__()
        self.p.update({"phases": "pore,cbd,am,crack", "pore_back": True, "destripe": True, "drift": True,
                       "align": False, "denoise": "default", "slice_axis": -1})

    def SetPhases(self, s):
        self._set("phases", str(s))

    def SetPoreBackCorrection(self, on):
        self._set("pore_back", bool(on))

    def SetDestripe(self, on):
        self._set("destripe", bool(on))

    def SetDrift(self, on):
        self._set("drift", bool(on))

    def SetAlign(self, on):
        self._set("align", bool(on))

    def SetDenoise(self, name):
        self._set("denoise", str(name))

    def SetSliceAxis(self, axis):
        self._set("slice_axis", int(axis))

    def SetResampleUm(self, v):
        self._set("resample_um", max(0.0, float(v)))

    def RequestData(self, request, inInfo, outInfo):
        from electrovox.filters.image.pipeline import segment_image
        from electrovox.io.vtk_image import add_point_array, volume_to_vtk
        p = dict(self.p)
        try:
            vol, image = _image_volume(inInfo, p["array"])
        except Exception as exc:
            self._report(exc)
            return 0

        def compute():
            res = segment_image(vol.array, vol.spacing, phases=p["phases"], pore_back=p["pore_back"],
                                destripe=p["destripe"], drift=p["drift"], align=p["align"], denoise=p["denoise"],
                                slice_axis=None if p["slice_axis"] < 0 else p["slice_axis"],
                                resample_um=p["resample_um"] or None, progress=progress_callback(self))
            origin = tuple(o + s for o, s in zip(vol.origin, res["origin_shift_um"], strict=True))
            out = Volume.labels(res["labels"], res["spacing"], origin=origin,
                                metadata={"segmentation": res["report"]})
            result = volume_to_vtk(out)
            if res["pore_back_mask"] is not None and res["pore_back_mask"].shape == out.shape:
                add_point_array(result, "pore_back_corrected", res["pore_back_mask"].astype(np.uint8))
            result.GetFieldData().AddArray(string_array("segmentation_report", [json.dumps(res["report"])]))
            return result

        return self._serve(inInfo, outInfo, image, compute)


class ImageStepFilter(_ImageFilter):
    """One image step: SetStep("destripe" | "drift" | "align" | "denoise" | "pore-back"),
    SetMethod(denoiser name, for "denoise"), SetSliceAxis(-1 auto | 0 | 1 | 2)."""

    name = "EVX Image Step"

    def __init__(self, step="denoise"):
        super().__init__()
        self.p.update({"step": step, "method": "default", "slice_axis": -1})

    def SetStep(self, s):
        self._set("step", {i: n for i, n in enumerate(STEPS)}.get(s, str(s)))

    def SetMethod(self, m):
        self._set("method", str(m))

    def SetSliceAxis(self, axis):
        self._set("slice_axis", int(axis))

    def RequestData(self, request, inInfo, outInfo):
        from electrovox.filters.image.pipeline import run_step
        from electrovox.io.vtk_image import add_point_array, volume_to_vtk
        p = dict(self.p)
        try:
            vol, image = _image_volume(inInfo, p["array"])
        except Exception as exc:
            self._report(exc)
            return 0

        def compute():
            img, mask = run_step(vol.array, vol.spacing, p["step"], method=p["method"],
                                 slice_axis=None if p["slice_axis"] < 0 else p["slice_axis"],
                                 progress=progress_callback(self))
            result = volume_to_vtk(Volume(img, vol.spacing, origin=vol.origin, name="image"))
            if mask is not None:
                add_point_array(result, "pore_back_corrected", mask.astype(np.uint8))
            return result

        return self._serve(inInfo, outInfo, image, compute)


class ResampleFilter(_ImageFilter):
    """Resample to cubic voxels: SetResampleUm(v), SetArrayName(s).  A label array (``labels``,
    or any array with a legend) is resampled by majority, a greyscale array by interpolation."""

    name = "EVX Resample"

    def __init__(self):
        super().__init__()
        self.p["resample_um"] = 0.1

    def SetResampleUm(self, v):
        self._set("resample_um", float(v))

    def RequestData(self, request, inInfo, outInfo):
        from electrovox.filters.image.resample import resample_image, resample_labels
        from electrovox.io.vtk_image import volume_to_vtk, vtk_to_volume
        p = dict(self.p)
        image = vtkImageData.GetData(inInfo[0], 0)

        def compute():
            if not p["resample_um"] > 0:
                raise BadInput(self.name, f"voxel size {p['resample_um']} is not positive", "give a size in um")
            pd = image.GetPointData()
            name = p["array"] if pd.GetArray(p["array"]) is not None else pd.GetArrayName(0)
            if name is None:
                raise BadInput("input", "has no point array", "connect an image or a label volume")
            vol = vtk_to_volume(image, name)
            prog = progress_callback(self)
            if vol.legend is not None or name == "labels":
                arr, sp, shift = resample_labels(vol.array, vol.spacing, p["resample_um"], progress=prog)
            else:
                arr, sp, shift = resample_image(vol.array, vol.spacing, p["resample_um"], progress=prog)
            origin = tuple(o + s for o, s in zip(vol.origin, shift, strict=True))
            if vol.legend is not None or name == "labels":
                return volume_to_vtk(Volume.labels(arr, sp, vol.legend, origin=origin))
            return volume_to_vtk(Volume(arr, sp, origin=origin, name=name))

        if image is None:
            return 0
        return self._serve(inInfo, outInfo, image, compute)


class CracksFilter(_ImageFilter):
    """Labels in, labels out: dark voxels enclosed by particles become ``crack``.
    SetMaxWidthUm(w; 0 = default: half the estimated particle diameter), SetEnclosedFraction(f)."""

    name = "EVX Find Cracks"

    def __init__(self):
        super().__init__()
        self.p.update({"array": "labels", "max_width_um": 0.0, "enclosed_fraction": 0.7})

    def SetMaxWidthUm(self, w):
        self._set("max_width_um", float(w))

    def SetEnclosedFraction(self, f):
        self._set("enclosed_fraction", float(f))

    def RequestData(self, request, inInfo, outInfo):
        from electrovox.filters.image.cracks import find_cracks
        from electrovox.io.vtk_image import volume_to_vtk
        from electrovox.phases import DEFAULT_LEGEND
        p = dict(self.p)
        try:
            vol, image = _input_volume(inInfo, p["array"])
        except Exception as exc:
            self._report(exc)
            return 0

        def compute():
            inv = {name: i for i, name in vol.legend.items()}
            if "am" not in inv:
                raise BadInput("input", "has no active material ('am') in its legend", "segment it first")
            legend = dict(vol.legend)
            crack = inv.get("crack")
            if crack is None:
                crack = 3 if 3 not in legend else max(legend) + 1
                legend[crack] = "crack"
            out = find_cracks(vol.array, vol.spacing, max_width_um=p["max_width_um"] or None,
                              enclosed_fraction=p["enclosed_fraction"], am=inv["am"], crack=crack,
                              pore=inv.get("pore"), progress=progress_callback(self))
            return volume_to_vtk(Volume.labels(out, vol.spacing, legend or DEFAULT_LEGEND, origin=vol.origin))

        return self._serve(inInfo, outInfo, image, compute)
