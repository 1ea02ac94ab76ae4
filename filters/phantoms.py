"""VTK algorithms for the phantoms: an electrode source, the cycling filter, the FIB-SEM imaging filter.

Thin wrappers of :mod:`electrovox.solvers.phantoms` (numpy cores): parameters in, vtkImageData
out, spacing/origin in micrometres, progress through ``UpdateProgress``.  Each result is computed
once per change of the parameters (or of the input) and served from a cache afterwards, so
ParaView's re-executions (e.g. on a render or an animation step) do not regenerate it.

- :class:`ElectrodePhantomSource` -> point arrays ``labels`` (uint8, default legend) and
  ``particles`` (int32 particle ids), field data ``legend`` and ``evx_metadata`` (the
  generator's report as JSON);
- :class:`CyclingFilter`: labels in -> cycled labels out (requested and achieved changes in the
  field data array ``cycling_report``);
- :class:`FibsemImageFilter`: labels in -> ``image`` + ``truth`` on the image grid.
"""

from __future__ import annotations

import json

import numpy as np
from vtkmodules.util.vtkAlgorithm import VTKPythonAlgorithmBase
from vtkmodules.vtkCommonDataModel import vtkDataObject, vtkImageData
from vtkmodules.vtkCommonExecutionModel import vtkStreamingDemandDrivenPipeline

from electrovox.errors import BadInput
from electrovox.filters.vtk_common import progress_callback, report_error, string_array
from electrovox.volume import Volume

_SDDP = vtkStreamingDemandDrivenPipeline


def _set_info(info, shape, spacing_zyx, origin_zyx=(0.0, 0.0, 0.0)):
    nz, ny, nx = shape
    info.Set(_SDDP.WHOLE_EXTENT(), 0, nx - 1, 0, ny - 1, 0, nz - 1)
    info.Set(vtkDataObject.SPACING(), *spacing_zyx[::-1])
    info.Set(vtkDataObject.ORIGIN(), *origin_zyx[::-1])


class _Cached(VTKPythonAlgorithmBase):
    """Runs ``compute()`` once per parameter/input change; bad input -> one error line, no traceback."""

    name = "phantom"

    def __init__(self, n_inputs):
        super().__init__(nInputPorts=n_inputs, nOutputPorts=1, outputType="vtkImageData")
        self._key = None
        self._result = None

    def _run(self, key, compute):
        if key != self._key or self._result is None:
            self._result, self._key = None, key
            self._result = compute()
        return self._result

    def _set(self, key, value):
        """Set parameter ``key`` of ``self.p``; a change marks the algorithm modified."""
        if self.p.get(key) != value:
            self.p[key] = value
            self.Modified()

    def SetSeed(self, n):
        self._set("seed", int(n))

    def _report(self, exc):
        if isinstance(exc, BadInput):
            report_error(self.name, exc.one_line())
        else:
            report_error(self.name, f"internal error {type(exc).__name__}: {exc} (please report it)")


class ElectrodePhantomSource(_Cached):
    """A synthetic labelled NMC electrode (see electrovox.solvers.phantoms.electrode).

    Setters: SetSizeUm(x, y, z), SetVoxelUm(x, y, z), SetSeed(n), SetActive(f), SetCbd(f),
    SetCracks(f), SetCbdMorphology("slurry"|"dry"), SetD50Um(d), SetMaxOverlap(f).
    """

    name = "Electrode phantom"

    def __init__(self):
        super().__init__(0)
        self.p = {"size_um": (40.0, 40.0, 40.0), "voxel_um": (0.5, 0.5, 0.5), "seed": 0, "active": 0.58,
                  "cbd": 0.09, "cracks": 0.04, "cbd_morphology": "slurry", "d50_um": 10.0, "max_overlap": 0.2}

    def SetSizeUm(self, x, y, z):
        self._set("size_um", (float(x), float(y), float(z)))

    def SetVoxelUm(self, x, y, z):
        self._set("voxel_um", (float(x), float(y), float(z)))

    def SetActive(self, f):
        self._set("active", float(f))

    def SetCbd(self, f):
        self._set("cbd", float(f))

    def SetCracks(self, f):
        self._set("cracks", float(f))

    def SetCbdMorphology(self, m):
        self._set("cbd_morphology", {0: "slurry", 1: "dry"}.get(m, str(m)))

    def SetD50Um(self, d):
        self._set("d50_um", float(d))

    def SetMaxOverlap(self, f):
        self._set("max_overlap", float(f))

    def _geometry(self):
        spacing = tuple(self.p["voxel_um"][::-1])
        size = tuple(self.p["size_um"][::-1])
        shape = tuple(max(1, int(round(s / d))) for s, d in zip(size, spacing, strict=True))
        return shape, spacing, size

    def RequestInformation(self, request, inInfo, outInfo):
        shape, spacing, _ = self._geometry()
        _set_info(outInfo.GetInformationObject(0), shape, spacing)
        return 1

    def RequestData(self, request, inInfo, outInfo):
        from electrovox.io.vtk_image import add_point_array, volume_to_vtk
        from electrovox.solvers.phantoms.electrode import generate_electrode

        shape, spacing, size = self._geometry()
        p = dict(self.p)

        def compute():
            out = generate_electrode(size_um=size, spacing=spacing, seed=p["seed"], active=p["active"],
                                     cbd=p["cbd"], cracks=p["cracks"], cbd_morphology=p["cbd_morphology"],
                                     d50_um=p["d50_um"], max_overlap=p["max_overlap"],
                                     progress=progress_callback(self))
            vol = Volume.labels(out["labels"], spacing, metadata={"phantom": out["report"]})
            image = volume_to_vtk(vol)
            add_point_array(image, "particles", out["particles"])
            return image

        try:
            image = self._run(repr(sorted(p.items())), compute)
        except Exception as exc:
            self._report(exc)
            return 0
        vtkImageData.GetData(outInfo, 0).ShallowCopy(image)
        return 1


def _input_volume(inInfo, array="labels") -> tuple[Volume, vtkImageData]:
    from electrovox.io.vtk_image import vtk_to_volume
    image = vtkImageData.GetData(inInfo[0], 0)
    if image is None or image.GetPointData().GetArray(array) is None:
        raise BadInput("input", f"has no point array '{array}'",
                       "connect a label volume (an ElectroVox phantom or a file read with a legend)")
    vol = vtk_to_volume(image, array)
    if vol.legend is None:
        vol = vol.as_labels(None, source="input")
    return vol, image


class CyclingFilter(_Cached):
    """Cycling damage on a label volume (electrovox.solvers.phantoms.cycling.cycle_electrode).

    Setters: SetCrackGrowth(r), SetContactLoss(r), SetSeed(n).  Uses the input's ``particles``
    array when present.
    """

    name = "Cycling transform"

    def __init__(self):
        super().__init__(1)
        self.p = {"crack_growth": 0.24, "contact_loss": 0.20, "seed": 0}

    def SetCrackGrowth(self, r):
        self._set("crack_growth", float(r))

    def SetContactLoss(self, r):
        self._set("contact_loss", float(r))

    def FillInputPortInformation(self, port, info):
        info.Set(self.INPUT_REQUIRED_DATA_TYPE(), "vtkImageData")
        return 1

    def RequestData(self, request, inInfo, outInfo):
        from electrovox.io.vtk_image import add_point_array, volume_to_vtk
        from electrovox.solvers.phantoms.cycling import cycle_electrode

        try:
            vol, image = _input_volume(inInfo)
            parts = image.GetPointData().GetArray("particles")
            particles = None
            if parts is not None:
                from vtkmodules.util import numpy_support
                particles = numpy_support.vtk_to_numpy(parts).reshape(vol.shape)
            p = dict(self.p)

            def compute():
                out = cycle_electrode(vol.array, vol.spacing, crack_growth=p["crack_growth"],
                                      contact_loss=p["contact_loss"], seed=p["seed"], particles=particles,
                                      progress=progress_callback(self))
                new = Volume.labels(out["labels"], vol.spacing, vol.legend, origin=vol.origin,
                                    metadata={**vol.metadata, "cycling": out["report"]})
                result = volume_to_vtk(new)
                if particles is not None:
                    add_point_array(result, "particles", particles)
                result.GetFieldData().AddArray(string_array("cycling_report", [json.dumps(out["report"])]))
                return result

            result = self._run((image.GetMTime(), repr(sorted(p.items()))), compute)
        except Exception as exc:
            self._report(exc)
            return 0
        vtkImageData.GetData(outInfo, 0).ShallowCopy(result)
        return 1


class FibsemImageFilter(_Cached):
    """PFIB-SEM-like greyscale image of a label volume (electrovox.solvers.phantoms.imaging).

    Setters: SetVoxelNm(x, y, z) (image voxel size), SetSnr(s), SetSeed(n), SetPoreBack(on),
    SetCurtaining(on), SetDrift(on).  Output on the image grid: ``image`` and ``truth``.
    """

    name = "FIB-SEM image phantom"

    def __init__(self):
        super().__init__(1)
        self.p = {"voxel_nm": (50.0, 50.0, 100.0), "snr": 8.0, "seed": 0, "pore_back": True,
                  "curtaining": True, "drift": True}

    def SetVoxelNm(self, x, y, z):
        self._set("voxel_nm", (float(x), float(y), float(z)))

    def SetSnr(self, s):
        self._set("snr", float(s))

    def SetPoreBack(self, on):
        self._set("pore_back", bool(on))

    def SetCurtaining(self, on):
        self._set("curtaining", bool(on))

    def SetDrift(self, on):
        self._set("drift", bool(on))

    def FillInputPortInformation(self, port, info):
        info.Set(self.INPUT_REQUIRED_DATA_TYPE(), "vtkImageData")
        return 1

    def _image_grid(self, in_info):
        """(shape, spacing) of the image grid covering the input's box."""
        ext = in_info.Get(_SDDP.WHOLE_EXTENT())
        sp_in = in_info.Get(vtkDataObject.SPACING())
        n_in = (ext[5] - ext[4] + 1, ext[3] - ext[2] + 1, ext[1] - ext[0] + 1)
        spacing = tuple(v / 1000.0 for v in self.p["voxel_nm"][::-1])
        box = [n * s for n, s in zip(n_in, sp_in[::-1], strict=True)]
        shape = tuple(max(1, int(np.floor(b / s + 1e-9))) for b, s in zip(box, spacing, strict=True))
        return shape, spacing

    def RequestInformation(self, request, inInfo, outInfo):
        in_info = inInfo[0].GetInformationObject(0)
        shape, spacing = self._image_grid(in_info)
        sp_in = tuple(in_info.Get(vtkDataObject.SPACING()))[::-1]
        origin = [o + s / 2 - d / 2 for o, s, d in
                  zip(tuple(in_info.Get(vtkDataObject.ORIGIN()))[::-1], spacing, sp_in, strict=True)]
        _set_info(outInfo.GetInformationObject(0), shape, spacing, origin)
        return 1

    def RequestUpdateExtent(self, request, inInfo, outInfo):
        in_info = inInfo[0].GetInformationObject(0)  # the whole label volume is needed
        in_info.Set(_SDDP.UPDATE_EXTENT(), in_info.Get(_SDDP.WHOLE_EXTENT()), 6)
        return 1

    def RequestData(self, request, inInfo, outInfo):
        from electrovox.io.vtk_image import add_point_array, volume_to_vtk
        from electrovox.solvers.phantoms.imaging import simulate_fibsem

        try:
            vol, image = _input_volume(inInfo)
            p = dict(self.p)
            spacing = tuple(v / 1000.0 for v in p["voxel_nm"][::-1])

            def compute():
                kw = {} if p["pore_back"] else {"pore_back": 0.0}
                if not p["curtaining"]:
                    kw["curtaining"] = 0.0
                if not p["drift"]:
                    kw["drift"] = 0.0
                out = simulate_fibsem(vol.array, vol.spacing, image_spacing=spacing, snr=p["snr"],
                                      seed=p["seed"], progress=progress_callback(self), **kw)
                origin = tuple(o + d for o, d in zip(vol.origin, out["report"]["image_origin_offset_um"],
                                                     strict=True))
                img = Volume(out["image"], spacing, origin=origin, name="image",
                             metadata={"phantom_image": out["report"]})
                result = volume_to_vtk(img)
                add_point_array(result, "truth", Volume.labels(out["truth"], spacing, vol.legend))
                return result

            result = self._run((image.GetMTime(), repr(sorted(p.items()))), compute)
        except Exception as exc:
            self._report(exc)
            return 0
        vtkImageData.GetData(outInfo, 0).ShallowCopy(result)
        return 1
