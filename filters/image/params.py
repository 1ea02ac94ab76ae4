"""Parameters of the image filters and the segmentation, declared once (CLI, ParaView, docs).

See :mod:`electrovox.params`.  Keywords are those of
:func:`~electrovox.filters.image.pipeline.segment_image`, :func:`~electrovox.filters.image.pipeline.run_step`,
:func:`~electrovox.filters.image.resample.resample_image` and
:func:`~electrovox.filters.image.cracks.find_cracks`.
"""

from electrovox.params import Param, ParamSet

DENOISERS = ("default", "gaussian", "median", "bilateral", "nlm", "none")
STEPS = ("destripe", "drift", "align", "denoise", "pore-back")
AXES_AUTO = ("auto", "z", "y", "x")
#: ParaView enumeration values of AXES_AUTO kept from earlier plugin versions (-1 auto, array order)
_AXIS_PV = (-1, 0, 1, 2)

_ARRAY = Param("array_name", "str", "image", "Greyscale point array to process (the first array if absent).",
               cli="", label="Array Name")
_DENOISE = Param("denoise", "choice", "default", "Denoiser: default is a bilateral filter with its range "
                 "sigma from the noise estimated on the image.", choices=DENOISERS, pv="Denoiser")
_SLICE = Param("slice_axis", "choice", "auto", "FIB milling (slice) axis; auto: the axis of the largest voxel.",
               choices=AXES_AUTO, pv_values=_AXIS_PV, advanced=True)
_CRACK_WIDTH = Param("crack_max_width_um", "float", None, "Widest crack mouth bridged (default, 0 in ParaView: "
                     "half the particle diameter estimated from the labels).", unit="um", label="Crack max width",
                     range=(0.0, None), pv="MaxWidthUm", pv_default=0.0, advanced=True)

SEGMENT = ParamSet("segment", [
    _ARRAY,
    Param("phases", "phases", ("pore", "cbd", "am", "crack"), "Phases to find: pore,cbd,am,crack (default), "
          "pore,cbd,am, pore,am,crack or pore,am (lab X-ray CT, where carbon and binder are not resolved).",
          choices=("pore", "cbd", "am", "crack")),
    Param("fibsem", "bool", None, "The image is a FIB-SEM stack (its corrections apply); default (auto): "
          "when the slice voxel is at least 1.5 x the in-plane pixel.", label="FIB-SEM Data", pv="FIBSEM"),
    Param("pore_back", "bool", None, "Correct pore-back (shine-through of the walls behind the milled face); "
          "default (auto): on FIB-SEM data.", cli="pore-back-correction", pv="PoreBackCorrection",
          label="Pore Back Correction"),
    Param("destripe", "bool", None, "Remove curtaining stripes; default (auto): on FIB-SEM data.",
          label="Curtaining removal", pv="Destripe"),
    Param("drift", "bool", None, "Normalise slice-to-slice brightness drift; default (auto): on FIB-SEM data.",
          label="Drift correction", pv="DriftCorrection"),
    Param("align", "bool", False, "Align slices by phase correlation first.", label="Align slices",
          pv="AlignSlices"),
    _DENOISE,
    _SLICE,
    Param("check_phases", "bool", True, "Check from the histogram that the image resolves the requested phases "
          "(CBD is not resolved in lab X-ray CT) and fall back to what it supports, with a notice.",
          cli="phase-check", label="Phase Check", advanced=True),
    Param("phases_strict", "bool", False, "Refuse (instead of falling back) when the image does not resolve the "
          "requested phases.", label="Phases Strict", advanced=True),
    Param("pore_back_reverse", "bool", False, "Milling toward smaller slice indices (the pore-back shines the "
          "other way).", cli="", label="Milling reversed", advanced=True),
    Param("beam_axis", "choice", "auto", "Curtain (beam) direction; auto: estimated.", choices=AXES_AUTO,
          pv_values=_AXIS_PV, advanced=True),
    _CRACK_WIDTH,
    Param("resample_um", "float", None, "Cubic voxel size of the output labels (majority); default (0 in "
          "ParaView): the image grid.", unit="um", label="Output voxel size", range=(0.0, None),
          pv_default=0.0, metavar="V"),
])

IMAGE_STEP = ParamSet("image_step", [
    _ARRAY,
    Param("step", "choice", "denoise", "The correction to run (on the CLI: the first argument of `filter`).",
          choices=STEPS, cli=""),
    Param("method", "choice", "default", "Denoiser (for the denoise step).", choices=DENOISERS, cli="denoise",
          pv="Denoiser", label="Denoise"),
    _SLICE,
])

RESAMPLE = ParamSet("resample", [
    Param("array_name", "str", "image", "Point array to resample: a label array (with a legend, or 'labels') "
          "by majority, a greyscale one by interpolation.", cli="", label="Array Name"),
    Param("resample_um", "float", None, "Cubic voxel size of the output (required).", unit="um",
          label="Voxel size", range=(1e-4, None), pv="VoxelUm", pv_default=0.1, metavar="V"),
    Param("label_method", "choice", "majority", "Labels: majority of the covered voxels, nearest, or linear "
          "(refined axes: the largest linearly interpolated indicator, which rounds off the voxel staircase).",
          choices=("majority", "nearest", "linear"), advanced=True),
    Param("order", "choice", 1, "Image interpolation order (0 nearest, 1 linear, 3 cubic).", choices=(0, 1, 3),
          advanced=True),
])

CRACKS = ParamSet("cracks", [
    _CRACK_WIDTH,
    Param("enclosed_fraction", "float", 0.7, "Share of a dark region's wall that must be particle for it to "
          "count as a crack.", range=(0.0, 1.0)),
])
