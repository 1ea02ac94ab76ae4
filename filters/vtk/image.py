"""VTK algorithms for the image filters and the segmentation (thin wrappers of :mod:`electrovox.filters.image`).

Input: a vtkImageData with a greyscale point array (``ArrayName``, default ``image``; the first
point array if that name is absent), spacing in um.  Parameters come from
:mod:`electrovox.filters.image.params`; the base class caches each result by parameters and input.

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

from electrovox.errors import BadInput
from electrovox.filters.image import params
from electrovox.filters.vtk.base import EVXAlgorithm, input_grid, set_image_information
from electrovox.filters.vtk.common import report_warning, string_array
from electrovox.filters.vtk.phantoms import label_volume
from electrovox.volume import Volume


def image_volume(image, array: str) -> Volume:
    """The greyscale input as a Volume (array ``array``, else the first point array)."""
    from electrovox.io.vtk_image import vtk_to_volume
    pd = image.GetPointData() if image is not None else None
    if pd is None or pd.GetNumberOfArrays() == 0:
        raise BadInput("input", "has no point array", "connect a greyscale image (a TIFF stack or an .nc image)")
    name = array if pd.GetArray(array) is not None else pd.GetArrayName(0)
    vol = vtk_to_volume(image, name)
    vol.legend = None
    return vol


def _axis(value):
    """A choice of AXES_AUTO -> the cores' int axis index in (z, y, x), None for auto."""
    return None if value in (None, "auto") else "zyx".index(value)


class _ImageFilter(EVXAlgorithm):
    """One greyscale input, the whole extent; output grid = input grid unless resampled."""

    def information(self, in_infos, out_info):  # noqa: D102
        shape, spacing, origin = input_grid(in_infos[0].GetInformationObject(0))
        v = self.p.get("resample_um") or 0.0
        if v > 0:
            from electrovox.filters.image.resample import output_grid
            shape, shift = output_grid(shape, spacing, v)
            origin = tuple(o + s for o, s in zip(origin, shift, strict=True))
            spacing = (v,) * 3
        set_image_information(out_info.GetInformationObject(0), shape, spacing, origin)


class SegmentFilter(_ImageFilter):
    """Greyscale image -> labels (pore, cbd, am, crack) by the default chain."""

    label = "EVX Segment"
    params = params.SEGMENT

    def compute(self, inputs):  # noqa: D102
        from electrovox.filters.image.pipeline import segment_image
        from electrovox.io.vtk_image import add_point_array, volume_to_vtk
        p = self.checked_params()
        vol = image_volume(inputs[0], p.pop("array_name"))
        p["phases"] = ",".join(p["phases"])
        p["slice_axis"], p["beam_axis"] = _axis(p["slice_axis"]), _axis(p["beam_axis"])
        p["resample_um"] = p["resample_um"] or None
        p["crack_max_width_um"] = p["crack_max_width_um"] or None
        res = segment_image(vol.array, vol.spacing, progress=self.progress, **p)
        for notice in res.get("notices", []):
            report_warning(self.label, notice)
        origin = tuple(o + s for o, s in zip(vol.origin, res["origin_shift_um"], strict=True))
        out = Volume.labels(res["labels"], res["spacing"], origin=origin, metadata={"segmentation": res["report"]})
        result = volume_to_vtk(out)
        if res["pore_back_mask"] is not None and res["pore_back_mask"].shape == out.shape:
            add_point_array(result, "pore_back_corrected", res["pore_back_mask"].astype(np.uint8))
        result.GetFieldData().AddArray(string_array("segmentation_report", [json.dumps(res["report"])]))
        return result


class ImageStepFilter(_ImageFilter):
    """One image step (destripe, drift, align, denoise, pore-back) on the same grid."""

    label = "EVX Image Step"
    params = params.IMAGE_STEP

    def compute(self, inputs):  # noqa: D102
        from electrovox.filters.image.pipeline import run_step
        from electrovox.io.vtk_image import add_point_array, volume_to_vtk
        p = self.checked_params()
        vol = image_volume(inputs[0], p["array_name"])
        img, mask = run_step(vol.array, vol.spacing, p["step"], method=p["method"],
                             slice_axis=_axis(p["slice_axis"]), progress=self.progress)
        result = volume_to_vtk(Volume(img, vol.spacing, origin=vol.origin, name="image"))
        if mask is not None:
            add_point_array(result, "pore_back_corrected", mask.astype(np.uint8))
        return result


class ResampleFilter(_ImageFilter):
    """Resample an image or a label volume to cubic voxels.

    Resample to cubic voxels: a label array (``labels``, or any array with a legend) by majority,
    a greyscale array by interpolation.
    """

    label = "EVX Resample"
    params = params.RESAMPLE

    def compute(self, inputs):  # noqa: D102
        from electrovox.filters.image.resample import resample_image, resample_labels
        from electrovox.io.vtk_image import volume_to_vtk, vtk_to_volume
        p = self.checked_params()
        image = inputs[0]
        pd = image.GetPointData()
        name = p["array_name"] if pd.GetArray(p["array_name"]) is not None else pd.GetArrayName(0)
        if name is None:
            raise BadInput("input", "has no point array", "connect an image or a label volume")
        vol = vtk_to_volume(image, name)
        is_labels = vol.legend is not None or name == "labels"
        if is_labels:
            arr, sp, shift = resample_labels(vol.array, vol.spacing, p["resample_um"], method=p["label_method"],
                                             progress=self.progress)
        else:
            arr, sp, shift = resample_image(vol.array, vol.spacing, p["resample_um"], order=p["order"],
                                            progress=self.progress)
        origin = tuple(o + s for o, s in zip(vol.origin, shift, strict=True))
        if is_labels:
            return volume_to_vtk(Volume.labels(arr, sp, vol.legend, origin=origin))
        return volume_to_vtk(Volume(arr, sp, origin=origin, name=name))


class CracksFilter(_ImageFilter):
    """Labels in, labels out: dark voxels enclosed by particles become ``crack``."""

    label = "EVX Find Cracks"
    params = params.CRACKS

    def compute(self, inputs):  # noqa: D102
        from electrovox.filters.image.cracks import find_cracks
        from electrovox.io.vtk_image import volume_to_vtk
        p = self.checked_params()
        vol = label_volume(inputs[0])
        inv = {name: i for i, name in vol.legend.items()}
        if "am" not in inv:
            raise BadInput("input", "has no active material ('am') in its legend", "segment it first")
        legend = dict(vol.legend)
        crack = inv.get("crack")
        if crack is None:
            crack = 3 if 3 not in legend else max(legend) + 1
            legend[crack] = "crack"
        out = find_cracks(vol.array, vol.spacing, max_width_um=p["crack_max_width_um"] or None,
                          enclosed_fraction=p["enclosed_fraction"], am=inv["am"], crack=crack,
                          pore=inv.get("pore"), progress=self.progress)
        return volume_to_vtk(Volume.labels(out, vol.spacing, legend, origin=vol.origin))
