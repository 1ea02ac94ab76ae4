"""VTK algorithms for the phantoms: an electrode source, the cycling filter, the FIB-SEM imaging filter.

Thin wrappers of :mod:`electrovox.solvers.phantoms` (numpy cores) on
:class:`~electrovox.filters.vtk.base.EVXAlgorithm`: parameters from
:mod:`electrovox.solvers.phantoms.params`, vtkImageData out, spacing and origin in micrometres.

- :class:`ElectrodePhantomSource` -> point arrays ``labels`` (uint8, default legend) and
  ``particles`` (int32 particle ids), field data ``legend`` and ``evx_metadata`` (the
  generator's report as JSON);
- :class:`CyclingFilter`: labels in -> cycled labels out (requested and achieved changes in the
  field data array ``cycling_report``);
- :class:`FibsemImageFilter`: labels in -> ``image`` + ``truth`` on the image grid.

Examples
--------
>>> src = ElectrodePhantomSource()
>>> src.SetSizeUm(8, 8, 8); src.SetVoxelUm(0.5, 0.5, 0.5); src.SetD50Um(4.0)
>>> _ = src.Update()
>>> src.GetOutputDataObject(0).GetDimensions()
(16, 16, 16)
"""

from __future__ import annotations

import json

import numpy as np
from vtkmodules.util import numpy_support

from electrovox.errors import BadInput
from electrovox.filters.vtk.base import EVXAlgorithm, input_grid, set_image_information
from electrovox.filters.vtk.common import string_array
from electrovox.solvers.phantoms import params
from electrovox.volume import Volume


def label_volume(image, array: str = "labels") -> Volume:
    """The label array of a vtkImageData as a :class:`Volume` with its legend (default legend if none)."""
    from electrovox.io.vtk_image import vtk_to_volume
    if image is None or image.GetPointData().GetArray(array) is None:
        raise BadInput("input", f"has no point array '{array}'",
                       "connect a label volume (an ElectroVox phantom or a file read with a legend)")
    vol = vtk_to_volume(image, array)
    return vol if vol.legend is not None else vol.as_labels(None, source="input")


def _axis_or_none(value):
    return None if value in (None, "auto") else value


class ElectrodePhantomSource(EVXAlgorithm):
    """A synthetic labelled NMC electrode (:func:`~electrovox.solvers.phantoms.electrode.generate_electrode`)."""

    label = "EVX Electrode Phantom"
    params = params.ELECTRODE
    inputs = ()

    def _geometry(self):
        spacing = tuple(self.p["voxel_um"][::-1])
        size = tuple(self.p["size_um"][::-1])
        shape = tuple(max(1, int(round(s / d))) for s, d in zip(size, spacing, strict=True))
        return shape, spacing, size

    def information(self, in_infos, out_info):  # noqa: D102
        shape, spacing, _ = self._geometry()
        set_image_information(out_info.GetInformationObject(0), shape, spacing)

    def compute(self, inputs):  # noqa: D102
        from electrovox.io.vtk_image import add_point_array, volume_to_vtk
        from electrovox.solvers.phantoms.electrode import generate_electrode
        p = self.checked_params()
        _, spacing, size = self._geometry()
        kw = {k: v for k, v in p.items() if k not in ("size_um", "voxel_um")}
        out = generate_electrode(size_um=size, spacing=spacing, progress=self.progress, **kw)
        vol = Volume.labels(out["labels"], spacing, metadata={"phantom": out["report"]})
        image = volume_to_vtk(vol)
        add_point_array(image, "particles", out["particles"])
        return image


class CyclingFilter(EVXAlgorithm):
    """Cycling damage on a label volume (:func:`~electrovox.solvers.phantoms.cycling.cycle_electrode`).

    Uses the input's ``particles`` array when present.
    """

    label = "EVX Cycling Transform"
    params = params.CYCLING

    def compute(self, inputs):  # noqa: D102
        from electrovox.io.vtk_image import add_point_array, volume_to_vtk
        from electrovox.solvers.phantoms.cycling import cycle_electrode
        image = inputs[0]
        vol = label_volume(image)
        parts = image.GetPointData().GetArray("particles")
        particles = numpy_support.vtk_to_numpy(parts).reshape(vol.shape) if parts is not None else None
        out = cycle_electrode(vol.array, vol.spacing, particles=particles, progress=self.progress,
                              **self.checked_params())
        new = Volume.labels(out["labels"], vol.spacing, vol.legend, origin=vol.origin,
                            metadata={**vol.metadata, "cycling": out["report"]})
        result = volume_to_vtk(new)
        if particles is not None:
            add_point_array(result, "particles", particles)
        result.GetFieldData().AddArray(string_array("cycling_report", [json.dumps(out["report"])]))
        return result


class FibsemImageFilter(EVXAlgorithm):
    """PFIB-SEM-like greyscale image of a label volume (:func:`~electrovox.solvers.phantoms.imaging.simulate_fibsem`).

    Output on the image grid: ``image`` and ``truth``.
    """

    label = "EVX FIBSEM Image Phantom"
    params = params.IMAGING

    def _image_spacing(self):
        return tuple(v / 1000.0 for v in self.p["voxel_nm"][::-1])

    def information(self, in_infos, out_info):  # noqa: D102
        n_in, sp_in, o_in = input_grid(in_infos[0].GetInformationObject(0))
        spacing = self._image_spacing()
        box = [n * s for n, s in zip(n_in, sp_in, strict=True)]
        shape = tuple(max(1, int(np.floor(b / s + 1e-9))) for b, s in zip(box, spacing, strict=True))
        origin = [o + s / 2 - d / 2 for o, s, d in zip(o_in, spacing, sp_in, strict=True)]
        set_image_information(out_info.GetInformationObject(0), shape, spacing, origin)

    def compute(self, inputs):  # noqa: D102
        from electrovox.io.vtk_image import add_point_array, volume_to_vtk
        from electrovox.solvers.phantoms.imaging import simulate_fibsem
        vol = label_volume(inputs[0])
        p = self.checked_params()
        spacing = self._image_spacing()
        kw = {} if p["pore_back"] else {"pore_back": 0.0}
        if not p["curtaining"]:
            kw["curtaining"] = 0.0
        if not p["drift"]:
            kw["drift"] = 0.0
        axis = _axis_or_none(p["slice_axis"])
        if axis is not None:
            kw["slice_axis"] = "zyx".index(axis)
        out = simulate_fibsem(vol.array, vol.spacing, image_spacing=spacing, snr=p["snr"], seed=p["seed"],
                              progress=self.progress, **kw)
        origin = tuple(o + d for o, d in zip(vol.origin, out["report"]["image_origin_offset_um"], strict=True))
        img = Volume(out["image"], spacing, origin=origin, name="image", metadata={"phantom_image": out["report"]})
        result = volume_to_vtk(img)
        add_point_array(result, "truth", Volume.labels(out["truth"], spacing, vol.legend))
        return result
